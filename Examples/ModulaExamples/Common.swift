import Foundation
import Modula
import ModulaData
#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// The machine-readable summary every example ends with: `result <example> key=value …`.
public struct ExampleResult: Sendable, CustomStringConvertible {
    public let example: String
    public private(set) var entries: [(key: String, value: String)] = []

    public init(_ example: String) { self.example = example }

    /// Adds a number, printed with enough digits to compare against reference values.
    public mutating func add(_ key: String, _ value: Double, digits: Int = 4) {
        entries.append((key, formatted(value, digits: digits)))
    }
    /// Adds a word.
    public mutating func add(_ key: String, _ value: String) { entries.append((key, value)) }

    /// The value of `key` as a number.
    public subscript(_ key: String) -> Double? {
        entries.first { $0.key == key }.flatMap { Double($0.value) }
    }

    /// The `result …` line.
    public var description: String {
        (["result", example] + entries.map { "\($0.key)=\($0.value)" }).joined(separator: " ")
    }
}

func formatted(_ v: Double, digits: Int) -> String {
    if v.isNaN { return "nan" }
    if v.isInfinite { return v > 0 ? "inf" : "-inf" }
    if digits == 0 { return String(Int(v.rounded())) }
    if v != 0 && (Swift.abs(v) < 1e-3 || Swift.abs(v) >= 1e6) {
        var s = String(v)
        if s.count > 12, let e = s.firstIndex(of: "e") {
            let mantissa = Double(s[..<e]) ?? 0
            s = formatted(mantissa, digits: digits) + String(s[e...])
        }
        return s
    }
    let scale = pow(10.0, Double(digits))
    return String((v * scale).rounded() / scale)
}

/// Where an example writes its figures, and how it reports progress.
public struct ExampleEnvironment: Sendable {
    /// The folder for SVG figures (`nil`: write none).
    public var figures: String?
    /// Whether to show a progress display.
    public var showProgress: Bool
    /// Lines of text for the reader (summaries), printed as they come.
    public var log: @Sendable (String) -> Void
    /// The folder for the per-step metrics (JSON Lines and TensorBoard events; `nil`: write none).
    public var metricsDirectory: String? = nil
    /// Where progress displays write, one line per report (`nil`: standard output, redrawn in place on a terminal).
    public var progressOutput: (@Sendable (String) -> Void)? = nil

    public init(figures: String? = nil, showProgress: Bool = true, log: @escaping @Sendable (String) -> Void = { print($0) }) {
        self.figures = figures
        self.showProgress = showProgress
        self.log = log
    }

    /// A silent environment for tests.
    public static let quiet = ExampleEnvironment(figures: nil, showProgress: false, log: { _ in })

    func progress(total: Int, label: String, itemsPerStep: Int) -> ProgressDisplay? {
        showProgress ? ProgressDisplay(total: total, label: label, itemsPerStep: itemsPerStep,
                                       redrawInPlace: progressOutput == nil ? nil : false, output: progressOutput) : nil
    }

    func write(_ plot: any SVGPlot, _ name: String) throws {
        guard let dir = figures else { return }
        try createFolder(dir, purpose: "figures")
        let path = dir.hasSuffix("/") ? dir + name : dir + "/" + name
        try plot.write(toPath: path)
        log("wrote \(path)")
    }
}

/// Creates `path` and its missing parents, or throws an error naming the folder and the system's reason
/// (Foundation's `createDirectory` reports an NSCocoaErrorDomain dump instead).
func createFolder(_ path: String, purpose: String) throws(DataError) {
    var current = path.hasPrefix("/") ? "/" : ""
    for part in path.split(separator: "/") {
        current += (current.isEmpty || current.hasSuffix("/") ? "" : "/") + part
        var info = stat()
        if stat(current, &info) == 0 {
            guard (info.st_mode & S_IFMT) == S_IFDIR else {
                throw .cannotWrite(path: path, reason: "\(current) is a file, not a folder, so the \(purpose) folder cannot be created")
            }
            continue
        }
        if mkdir(current, 0o755) != 0 && errno != EEXIST {
            throw .cannotWrite(path: path, reason: "cannot create the \(purpose) folder \(current): \(String(cString: strerror(errno)))")
        }
    }
}

/// Seconds on a monotonic clock.
func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

/// Ids as a float tensor (the input format of ``Embed``).
func idTensor(_ ids: [Int], shape: [Int]) -> Tensor<Float> {
    Tensor(shape: shape, scalars: ids.map { Float($0) })
}

/// Fraction of rows of `logits` whose largest entry is at the label.
func accuracy(_ logits: Tensor<Float>, _ labels: [Int]) -> Double {
    let predicted = logits.argmax(alongAxis: -1)
    return Double(zip(predicted, labels).filter { $0 == $1 }.count) / Double(Swift.max(labels.count, 1))
}

/// Test accuracy of an image classifier over a whole split, in chunks.
func evaluate(_ model: any Module, _ weights: [Tensor<Float>], _ data: ImageClassificationDataset,
              split: ImageClassificationDataset.Split = .test) throws -> Double {
    var correct = 0.0, total = 0
    for chunk in data.chunks(of: split, size: 1000) {
        let logits = try model(chunk.images, weights)
        correct += accuracy(logits, chunk.labels) * Double(chunk.labels.count)
        total += chunk.labels.count
    }
    return correct / Double(Swift.max(total, 1))
}

/// Loads Fashion-MNIST from its Debian package, or MNIST-format IDX files from `directory`.
///
/// - Throws: the reader's ``DataError``, or ``ExampleError/noImages(source:split:)`` when a split is empty.
public func loadImages(directory: String?, limit: Int? = nil) throws -> ImageClassificationDataset {
    let data = try directory.map { try ImageClassificationDataset.mnistFormat(directory: $0, limit: limit) }
        ?? ImageClassificationDataset.fashionMNIST(limit: limit)
    for split in [ImageClassificationDataset.Split.train, .test] where data.count(split) == 0 {
        throw ExampleError.noImages(source: directory ?? "Fashion-MNIST", split: "\(split)")
    }
    return data
}
