import ModulaTensor

/// Labelled grayscale images with a training and a test split, such as Fashion-MNIST or MNIST.
///
/// Pixels are kept as bytes (a quarter of the memory of floats) and handed out as `Float` tensors
/// scaled to [0, 1] and flattened to `rows × columns` features:
///
/// ```swift
/// let data = try ImageClassificationDataset.fashionMNIST()
/// var rng = RandomGenerator(seed: 0)
/// let (x, y) = data.batch(size: 128, using: &rng)   // x: [128, 784], y: 128 labels in 0..<10
/// for (images, labels) in data.chunks(of: .test, size: 1000) { … }
/// ```
public struct ImageClassificationDataset: Sendable {
    /// One of the two parts of the dataset.
    public enum Split: String, Sendable, CaseIterable {
        /// The images to train on.
        case train
        /// The held-out images to measure accuracy on.
        case test
    }

    /// A short name for messages, such as `"Fashion-MNIST"`.
    public let name: String
    /// The height of each image in pixels.
    public let rows: Int
    /// The width of each image in pixels.
    public let columns: Int
    /// The names of the classes, indexed by label.
    public let classNames: [String]
    private let pixels: [Split: [UInt8]]
    private let labelsBySplit: [Split: [Int]]

    /// The number of input features per image, `rows × columns`.
    public var featureCount: Int { rows * columns }
    /// The number of classes; labels lie in `0..<classCount`.
    public var classCount: Int { classNames.count }

    /// A dataset from raw pixel bytes (row-major `[n, rows, columns]`) and labels for each split.
    ///
    /// Labels must lie in `0..<classNames.count` and there must be one per image.
    ///
    /// - Precondition: one label per image, each in `0..<classNames.count`. Stops with a message otherwise.
    public init(
        name: String, rows: Int, columns: Int, classNames: [String],
        trainPixels: [UInt8], trainLabels: [Int], testPixels: [UInt8], testLabels: [Int]
    ) {
        for (split, px, labels) in [(Split.train, trainPixels, trainLabels), (.test, testPixels, testLabels)] {
            require(
                px.count == labels.count * rows * columns,
                "ImageClassificationDataset(\(name)): \(split) has \(labels.count) labels but \(px.count) pixels, expected \(labels.count)×\(rows)×\(columns)")
            if let bad = labels.first(where: { !(0..<classNames.count).contains($0) }) {
                requirementFailure("ImageClassificationDataset(\(name)): \(split) label \(bad) is outside 0..<\(classNames.count)")
            }
        }
        self.name = name
        self.rows = rows
        self.columns = columns
        self.classNames = classNames
        pixels = [.train: trainPixels, .test: testPixels]
        labelsBySplit = [.train: trainLabels, .test: testLabels]
    }

    /// The number of images in a split.
    public func count(_ split: Split) -> Int { labelsBySplit[split]!.count }

    /// The labels of a split (or of the images in `range`), in file order.
    public func labels(_ split: Split, range: Range<Int>? = nil) -> [Int] {
        let all = labelsBySplit[split]!
        return Array(all[range ?? 0..<all.count])
    }

    /// The images of a split (or those in `range`) as a `[n, rows × columns]` tensor scaled to [0, 1].
    ///
    /// - Precondition: `range` lies inside the split. Stops with a message otherwise.
    public func images(_ split: Split, range: Range<Int>? = nil) -> Tensor<Float> {
        let r = range ?? 0..<count(split)
        require(r.lowerBound >= 0 && r.upperBound <= count(split),
                     "\(name).images(\(split), range: \(r)): the \(split) split has \(count(split)) images")
        return gather(split, Array(r))
    }

    /// The images and labels at the given indices of a split, in that order.
    ///
    /// - Precondition: every index lies inside the split. Stops with a message otherwise.
    public func examples(_ split: Split, at indices: [Int]) -> (images: Tensor<Float>, labels: [Int]) {
        let all = labelsBySplit[split]!
        for i in indices {
            require(all.indices.contains(i), "\(name).examples(\(split), at:): index \(i) is outside 0..<\(all.count)")
        }
        return (gather(split, indices), indices.map { all[$0] })
    }

    /// A random training batch: `size` images drawn uniformly, with replacement, from the whole training split.
    ///
    /// This is the sampler of Modula's hello-MNIST; every call is independent, so there are no epochs.
    /// - Returns: images `[size, rows × columns]` scaled to [0, 1] and their `size` labels.
    ///
    /// - Precondition: `size` is positive and the training split is not empty. Stops with a message otherwise.
    public func batch(size: Int, using rng: inout RandomGenerator) -> (images: Tensor<Float>, labels: [Int]) {
        require(size > 0, "\(name).batch(size:): size must be positive, got \(size)")
        let n = count(.train)
        require(n > 0, "\(name).batch(size:): the training split is empty")
        let indices = (0..<size).map { _ in rng.nextInt(below: n) }
        return examples(.train, at: indices)
    }

    /// A split in consecutive chunks of at most `size` images (the last may be shorter), for evaluation.
    ///
    /// - Precondition: `size` is positive. Stops with a message otherwise.
    public func chunks(of split: Split, size: Int) -> [(images: Tensor<Float>, labels: [Int])] {
        require(size > 0, "\(name).chunks(of:size:): size must be positive, got \(size)")
        return stride(from: 0, to: count(split), by: size).map { start in
            let r = start..<min(start + size, count(split))
            return (images(split, range: r), labels(split, range: r))
        }
    }

    /// The first `train` training images and the first `test` test images (all of a split when its count is nil).
    ///
    /// Use it to keep unit tests and smoke runs small.
    public func prefix(train: Int? = nil, test: Int? = nil) -> ImageClassificationDataset {
        let nTrain = min(train ?? count(.train), count(.train))
        let nTest = min(test ?? count(.test), count(.test))
        let f = featureCount
        return ImageClassificationDataset(
            name: name, rows: rows, columns: columns, classNames: classNames,
            trainPixels: Array(pixels[.train]![..<(nTrain * f)]), trainLabels: labels(.train, range: 0..<nTrain),
            testPixels: Array(pixels[.test]![..<(nTest * f)]), testLabels: labels(.test, range: 0..<nTest))
    }

    /// `Float(b) / 255` for every byte `b` (a table keeps the exact quotient at the speed of a load).
    private static let byteToUnit: [Float] = (0..<256).map { Float($0) / 255 }

    /// Bytes to floats in [0, 1], one image row per index.
    private func gather(_ split: Split, _ indices: [Int]) -> Tensor<Float> {
        let f = featureCount
        var out = Tensor<Float>(uninitializedShape: [indices.count, f])
        pixels[split]!.withUnsafeBufferPointer { src in
            ImageClassificationDataset.byteToUnit.withUnsafeBufferPointer { table in
                out.withUnsafeMutableBufferPointer { dst in
                    for (row, i) in indices.enumerated() {
                        let s = src.baseAddress! + i * f
                        let d = dst.baseAddress! + row * f
                        for k in 0..<f { d[k] = table[Int(s[k])] }
                    }
                }
            }
        }
        return out
    }
}

extension ImageClassificationDataset {
    /// Where Debian's `dataset-fashion-mnist` package installs its files.
    public static let fashionMNISTDirectory = "/usr/share/datasets/fashion-mnist"

    /// The ten Fashion-MNIST classes, indexed by label.
    public static let fashionMNISTClassNames = [
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ]

    /// The ten MNIST classes (the digits), indexed by label.
    public static let digitClassNames = (0..<10).map(String.init)

    /// The four file stems of the MNIST-family layout: train/test images and labels.
    static let idxStems = (
        trainImages: "train-images-idx3-ubyte", trainLabels: "train-labels-idx1-ubyte",
        testImages: "t10k-images-idx3-ubyte", testLabels: "t10k-labels-idx1-ubyte")

    /// Fashion-MNIST: 60,000 training and 10,000 test images of 28×28 pixels in ten classes.
    ///
    /// Reads the four IDX files in `directory`, gzipped (`train-images-idx3-ubyte.gz`, as Debian's
    /// `dataset-fashion-mnist` installs them) or plain (`train-images-idx3-ubyte`). Any directory in the
    /// MNIST layout works, so the original MNIST digits load the same way (see ``mnistFormat(directory:name:classNames:limit:)``).
    ///
    /// - Parameters:
    ///   - directory: where the files are; by default where Debian's package installs them.
    ///   - limit: keep only the first `limit` images of each split (for tests and smoke runs).
    /// - Throws: ``DataError/missingDataset(name:lookedFor:remedy:)`` listing the files looked for and the
    ///   `apt-get install dataset-fashion-mnist` line when they are absent; other ``DataError``s when a
    ///   file is damaged.
    public static func fashionMNIST(directory: String = fashionMNISTDirectory, limit: Int? = nil) throws(DataError) -> ImageClassificationDataset {
        try mnistFormat(directory: directory, name: "Fashion-MNIST", classNames: fashionMNISTClassNames, limit: limit)
    }

    /// A dataset in the MNIST layout: the four IDX files `train-images-idx3-ubyte`, `train-labels-idx1-ubyte`,
    /// `t10k-images-idx3-ubyte`, `t10k-labels-idx1-ubyte`, each gzipped (`.gz`) or plain.
    ///
    /// - Parameters:
    ///   - directory: where the four files are.
    ///   - name: the dataset's name in messages.
    ///   - classNames: the class names indexed by label; labels outside their range are an error.
    ///   - limit: keep only the first `limit` images of each split.
    ///
    /// - Precondition: `limit` is not negative. Stops with a message otherwise.
    public static func mnistFormat(
        directory: String, name: String = "MNIST-format dataset", classNames: [String] = digitClassNames, limit: Int? = nil
    ) throws(DataError) -> ImageClassificationDataset {
        require((limit ?? 0) >= 0, "\(name): limit must not be negative, got \(limit!)")
        let stems = [idxStems.trainImages, idxStems.trainLabels, idxStems.testImages, idxStems.testLabels]
        var paths: [String] = []
        var lookedFor: [String] = []
        for stem in stems {
            let candidates = [FileIO.join(directory, stem + ".gz"), FileIO.join(directory, stem)]
            lookedFor.append(candidates.joined(separator: " or "))
            if let found = candidates.first(where: FileIO.isFile) { paths.append(found) }
        }
        guard paths.count == stems.count else {
            var remedy = "install them with: apt-get install dataset-fashion-mnist"
            if directory != fashionMNISTDirectory {
                remedy += " (which puts them in \(fashionMNISTDirectory)), or put these four IDX files in \(directory)"
            }
            if FileIO.isFile(directory) {
                remedy = "\(directory) is a file, not a directory; " + remedy
            } else if !FileIO.isDirectory(directory) {
                remedy = "the directory \(directory) does not exist; " + remedy
            }
            throw .missingDataset(name: name, lookedFor: lookedFor, remedy: remedy)
        }

        func load(images imagePath: String, labels labelPath: String) throws(DataError) -> (pixels: [UInt8], labels: [Int], rows: Int, columns: Int) {
            let images = try IDXArray.readImages(atPath: imagePath)
            let labels = try IDXArray.readLabels(atPath: labelPath)
            guard images.shape[0] == labels.shape[0] else {
                throw .invalidFormat(path: labelPath, expected: "\(images.shape[0]) labels, one per image in \(imagePath)",
                                     found: "\(labels.shape[0]) labels")
            }
            if let bad = labels.elements.firstIndex(where: { Int($0) >= classNames.count }) {
                throw .invalidFormat(path: labelPath, expected: "labels in 0..<\(classNames.count)",
                                     found: "label \(labels.elements[bad]) at index \(bad)")
            }
            let n = min(limit ?? images.shape[0], images.shape[0])
            let perImage = images.shape[1] * images.shape[2]
            return (Array(images.elements[..<(n * perImage)]), labels.elements[..<n].map(Int.init), images.shape[1], images.shape[2])
        }
        let train = try load(images: paths[0], labels: paths[1])
        let test = try load(images: paths[2], labels: paths[3])
        guard train.rows == test.rows && train.columns == test.columns else {
            throw .invalidFormat(path: paths[2], expected: "\(train.rows)×\(train.columns) images like \(paths[0])",
                                 found: "\(test.rows)×\(test.columns) images")
        }
        return ImageClassificationDataset(
            name: name, rows: train.rows, columns: train.columns, classNames: classNames,
            trainPixels: train.pixels, trainLabels: train.labels, testPixels: test.pixels, testLabels: test.labels)
    }
}
