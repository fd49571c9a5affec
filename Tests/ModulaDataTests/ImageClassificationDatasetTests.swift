import Testing
import ModulaTensor
@testable import ModulaData

@Suite("ImageClassificationDataset")
struct ImageClassificationDatasetTests {
    /// Writes a tiny MNIST-layout directory whose every pixel of image i equals 10·label(i) + (i % 7),
    /// so a batch can be checked for images and labels that belong together.
    static func writeTinyDataset(in dir: TemporaryDirectory, train: Int = 50, test: Int = 20, compressTrain: Bool = true) throws {
        for (stem, n, gz) in [("train", train, compressTrain), ("t10k", test, false)] {
            let labels = (0..<n).map { UInt8(($0 * 3) % 10) }
            let pixels = (0..<n).flatMap { i in [UInt8](repeating: 10 * labels[i] + UInt8(i % 7), count: 4 * 5) }
            try IDXArray(shape: [n, 4, 5], elements: pixels).write(toPath: dir.file("\(stem)-images-idx3-ubyte" + (gz ? ".gz" : "")))
            try IDXArray(shape: [n], elements: labels).write(toPath: dir.file("\(stem)-labels-idx1-ubyte" + (gz ? ".gz" : "")))
        }
    }

    @Test func loadsGzippedAndPlainFiles() throws {
        let dir = TemporaryDirectory()
        try Self.writeTinyDataset(in: dir)
        let data = try ImageClassificationDataset.mnistFormat(directory: dir.path)
        #expect(data.count(.train) == 50 && data.count(.test) == 20)
        #expect(data.rows == 4 && data.columns == 5 && data.featureCount == 20)
        #expect(data.classCount == 10)
        #expect(data.labels(.test) == (0..<20).map { ($0 * 3) % 10 })
        let test = data.images(.test)
        #expect(test.shape == [20, 20])
        #expect(test[3, 0] == Float(10 * 9 + 3) / 255)
    }

    @Test func batchesPairImagesWithTheirLabels() throws {
        let dir = TemporaryDirectory()
        try Self.writeTinyDataset(in: dir)
        let data = try ImageClassificationDataset.mnistFormat(directory: dir.path)
        var rng = RandomGenerator(seed: 1)
        let (x, y) = data.batch(size: 64, using: &rng)
        #expect(x.shape == [64, 20])
        #expect(y.count == 64)
        for b in 0..<64 {
            let byte = Int((x[b, 7] * 255).rounded())
            #expect(byte / 10 == y[b])
            #expect(x[b, 0] == x[b, 19])
        }
        // Uniform over the whole training split: 64 draws from 50 images hit many distinct ones.
        #expect(Set(y).count > 5)
        var again = RandomGenerator(seed: 1)
        #expect(data.batch(size: 64, using: &again).labels == y)
    }

    @Test func chunksCoverTheTestSplitInOrder() throws {
        let dir = TemporaryDirectory()
        try Self.writeTinyDataset(in: dir)
        let data = try ImageClassificationDataset.mnistFormat(directory: dir.path)
        let chunks = data.chunks(of: .test, size: 8)
        #expect(chunks.map(\.images.shape) == [[8, 20], [8, 20], [4, 20]])
        #expect(chunks.flatMap(\.labels) == data.labels(.test))
    }

    @Test func limitAndPrefixKeepTheFirstImages() throws {
        let dir = TemporaryDirectory()
        try Self.writeTinyDataset(in: dir)
        let limited = try ImageClassificationDataset.mnistFormat(directory: dir.path, limit: 10)
        #expect(limited.count(.train) == 10 && limited.count(.test) == 10)
        let full = try ImageClassificationDataset.mnistFormat(directory: dir.path)
        let prefix = full.prefix(train: 10, test: 10)
        #expect(prefix.labels(.train) == limited.labels(.train))
        #expect(prefix.images(.test) == limited.images(.test))
    }

    @Test func missingFilesNameEveryPathAndTheDebianPackage() throws {
        let dir = TemporaryDirectory()
        let error = dataError { () throws(DataError) in try ImageClassificationDataset.fashionMNIST(directory: dir.path) }
        guard case let .missingDataset(_, lookedFor, remedy)? = error else {
            Issue.record("expected missingDataset, got \(String(describing: error))")
            return
        }
        #expect(lookedFor.count == 4)
        #expect(lookedFor[0].contains("train-images-idx3-ubyte.gz") && lookedFor[0].contains(dir.path))
        #expect(remedy.contains("install them with: apt-get install dataset-fashion-mnist"))
        let message = error!.description
        for stem in ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"] {
            #expect(message.contains(stem))
        }
        let gone = dataError { () throws(DataError) in try ImageClassificationDataset.fashionMNIST(directory: "/no/such/dir") }
        #expect(gone?.description.contains("does not exist") == true)
    }

    @Test func mismatchedLabelCountIsAnError() throws {
        let dir = TemporaryDirectory()
        try Self.writeTinyDataset(in: dir)
        try IDXArray(shape: [3], elements: [1, 2, 3]).write(toPath: dir.file("t10k-labels-idx1-ubyte"))
        guard case let .invalidFormat(path, expected, _)? = dataError({ () throws(DataError) in
            try ImageClassificationDataset.mnistFormat(directory: dir.path)
        }) else {
            Issue.record("expected invalidFormat")
            return
        }
        #expect(path.hasSuffix("t10k-labels-idx1-ubyte"))
        #expect(expected.contains("20 labels"))
    }

    @Test(.enabled(if: exists(ImageClassificationDataset.fashionMNISTDirectory)))
    func fashionMNISTLoads() throws {
        let data = try ImageClassificationDataset.fashionMNIST()
        #expect(data.count(.train) == 60_000)
        #expect(data.count(.test) == 10_000)
        #expect(data.rows == 28 && data.columns == 28 && data.featureCount == 784)
        #expect(data.classNames.count == 10)
        for split in ImageClassificationDataset.Split.allCases {
            let labels = data.labels(split)
            #expect(labels.allSatisfy { (0..<10).contains($0) })
            var perClass = [Int](repeating: 0, count: 10)
            for label in labels { perClass[label] += 1 }
            #expect(perClass == [Int](repeating: data.count(split) / 10, count: 10))  // balanced classes
        }
        #expect(data.labels(.test).prefix(5) == [9, 2, 1, 1, 6])  // ankle boot, pullover, trouser, trouser, shirt
        var rng = RandomGenerator(seed: 0)
        let (x, y) = data.batch(size: 128, using: &rng)
        #expect(x.shape == [128, 784] && y.count == 128)
        let values = x.scalars
        #expect(values.min()! >= 0 && values.max()! <= 1 && values.max()! > 0.5)
    }
}
