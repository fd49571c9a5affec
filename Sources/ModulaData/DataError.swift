/// Why a data file could not be read, decoded or written.
///
/// Every case names the file involved and says what was expected, so that the message printed by a
/// training script is enough to fix the problem:
///
/// ```swift
/// do {
///     let data = try ImageClassificationDataset.fashionMNIST()
/// } catch {
///     print(error)   // e.g. "Fashion-MNIST not found: looked for … install them with: apt-get install dataset-fashion-mnist"
/// }
/// ```
public enum DataError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file could not be opened or read; `reason` is the operating system's message.
    case cannotRead(path: String, reason: String)
    /// The file could not be created or written; `reason` is the operating system's message.
    case cannotWrite(path: String, reason: String)
    /// The gzip or zlib stream in the file is damaged; `reason` says where and how.
    case corruptCompressedData(path: String, reason: String)
    /// The compressed stream ends before its end marker (the file was cut short).
    case truncatedCompressedData(path: String)
    /// The compressed data inflates past `limit` bytes (a decompression bomb, or a file larger than allowed).
    case decompressedTooLarge(path: String, limit: Int)
    /// The file is not in the expected format; `expected` and `found` describe the mismatch.
    case invalidFormat(path: String, expected: String, found: String)
    /// A dataset's files were not found. `lookedFor` lists every path that was tried and
    /// `remedy` says how to obtain them (for Debian-packaged data, the `apt-get install` line).
    case missingDataset(name: String, lookedFor: [String], remedy: String)
    /// The text is empty (or has nothing left after the split), so no character dataset can be built.
    case emptyText(source: String)
    /// A string to encode holds a character that is not in the dataset's vocabulary.
    case unknownCharacter(Unicode.Scalar, position: Int)

    /// A one-paragraph explanation naming the file and what was expected.
    public var description: String {
        switch self {
        case let .cannotRead(path, reason):
            return "cannot read '\(path)': \(reason)"
        case let .cannotWrite(path, reason):
            return "cannot write '\(path)': \(reason)"
        case let .corruptCompressedData(path, reason):
            return "'\(path)' is not valid gzip/zlib data: \(reason)"
        case let .truncatedCompressedData(path):
            return "'\(path)' is truncated: the compressed stream ends before its end marker (re-download or reinstall the file)"
        case let .decompressedTooLarge(path, limit):
            return "'\(path)' decompresses to more than \(limit) bytes, the most allowed; refused before inflating further (a damaged or hostile file?)"
        case let .invalidFormat(path, expected, found):
            return "'\(path)' is not in the expected format: expected \(expected), found \(found)"
        case let .missingDataset(name, lookedFor, remedy):
            let list = lookedFor.map { "  \($0)" }.joined(separator: "\n")
            return "\(name) not found; looked for:\n\(list)\n\(remedy)"
        case let .emptyText(source):
            return "the text from \(source) is empty or too short to split into training and validation characters"
        case let .unknownCharacter(scalar, position):
            let code = String(scalar.value, radix: 16, uppercase: true)
            return "character '\(scalar.escaped(asASCII: false))' (U+\(code)) at position \(position) is not in the vocabulary"
        }
    }
}
