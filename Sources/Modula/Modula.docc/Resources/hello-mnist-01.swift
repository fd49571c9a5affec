import Modula
import ModulaData

let data = try ImageClassificationDataset.fashionMNIST()
print("\(data.name): \(data.count(.train)) training and \(data.count(.test)) test images")
