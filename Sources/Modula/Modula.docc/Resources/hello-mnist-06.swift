import Modula
import ModulaData

let data = try ImageClassificationDataset.fashionMNIST()
print("\(data.name): \(data.count(.train)) training and \(data.count(.test)) test images")

let mlp = Sequential.mlp(input: data.featureCount, width: 256, output: data.classCount, depth: 3)
print(mlp)

var rng = RandomGenerator(seed: 0)
var weights: [Tensor<Float>] = mlp.initialize(using: &rng)
var optimizer = try Optimizer<Float>.modular(module: mlp, learningRate: .constant(0.1))

for step in 0..<1000 {
    let (images, labels) = data.batch(size: 128, using: &rng)
    let targets = oneHot(labels, classes: data.classCount, as: Float.self)
    let (loss, gradients) = try valueWithGradient(at: weights) { w in
        meanSquaredError(try mlp(images, w), targets)
    }
    try optimizer.update(&weights, gradients: gradients)
    if step % 100 == 0 { print("step \(step): loss \(loss.scalar)") }
}

var correct = 0
for (images, labels) in data.chunks(of: .test, size: 1000) {
    let predicted = try mlp(images, weights).argmax(alongAxis: -1)
    correct += zip(predicted, labels).filter { $0 == $1 }.count
}
print("test accuracy: \(100 * Double(correct) / Double(data.count(.test))) %")
