import Modula
import ModulaData

let data = try ImageClassificationDataset.fashionMNIST()
print("\(data.name): \(data.count(.train)) training and \(data.count(.test)) test images")

let mlp = Sequential.mlp(input: data.featureCount, width: 256, output: data.classCount, depth: 3)
print(mlp)

var rng = RandomGenerator(seed: 0)
var weights: [Tensor<Float>] = mlp.initialize(using: &rng)
var optimizer = try Optimizer<Float>.modular(module: mlp, learningRate: .constant(0.1))
