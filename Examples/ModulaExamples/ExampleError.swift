import Foundation

/// Why an example refuses to run: an option outside what it accepts, or data too small for it.
public enum ExampleError: Error, Equatable, CustomStringConvertible {
    /// `option` was given `value`; `expected` says what is allowed.
    case invalidOption(String, value: String, expected: String)
    /// The text has `characters` characters; a context of `context` needs at least `needed`.
    case textTooShort(source: String, characters: Int, needed: Int, context: Int)
    /// A split of an image data set is empty.
    case noImages(source: String, split: String)

    public var description: String {
        switch self {
        case .invalidOption(let option, let value, let expected):
            return "\(option) must be \(expected), got \(value)"
        case .textTooShort(let source, let n, let needed, let context):
            return "the text \(source) has \(n) characters; with context \(context) it needs at least \(needed), "
                + "so that its training (90 %) and validation (10 %) parts each hold more than \(context)"
        case .noImages(let source, let split):
            return "\(source): the \(split) split holds no images"
        }
    }
}

// Checks shared by the examples' `validate()` methods.

func requirePositive(_ value: Int, _ option: String) throws(ExampleError) {
    guard value > 0 else { throw .invalidOption(option, value: "\(value)", expected: "a positive integer") }
}

func requireNonNegative(_ value: Int, _ option: String) throws(ExampleError) {
    guard value >= 0 else { throw .invalidOption(option, value: "\(value)", expected: "an integer ≥ 0") }
}

func requireLearningRate(_ value: Double, _ option: String = "--learning-rate") throws(ExampleError) {
    guard value.isFinite && value > 0 else {
        throw .invalidOption(option, value: "\(value)", expected: "a finite number > 0")
    }
}

func requireLimit(_ limit: Int?) throws(ExampleError) {
    if let limit { try requirePositive(limit, "limit") }
}

/// Throws unless `threads` lies in 1…(the number of cores of this machine).
public func validateThreads(_ threads: Int) throws(ExampleError) {
    let cores = ProcessInfo.processInfo.activeProcessorCount
    guard (1...Swift.max(1, cores)).contains(threads) else {
        throw .invalidOption("--threads", value: "\(threads)", expected: "in 1…\(cores) (the cores of this machine)")
    }
}
