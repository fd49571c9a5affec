import ModulaTensor

/// A text as a sequence of character tokens, split into training and validation parts, for
/// character-level language models (Modula's hello-GPT).
///
/// A character is a Unicode scalar (what Python's `str` iterates over), and the vocabulary is the sorted
/// set of characters in the text, so token ids agree with `sorted(set(text))` in Python.
///
/// ```swift
/// let data = try CharacterDataset(contentsOfFile: "tinyshakespeare.txt")   // 1,115,394 characters
/// data.vocabularySize                                                      // 65
/// var rng = RandomGenerator(seed: 0)
/// let (x, y) = data.batch(size: 12, context: 64, using: &rng)             // 12×64 ids each; y is x shifted by one
/// print(data.decode(Array(x[0..<64])))
/// ```
public struct CharacterDataset: Sendable {
    /// One of the two parts of the text.
    public enum Split: String, Sendable, CaseIterable {
        /// The first `trainFraction` of the text.
        case train
        /// The rest of the text, held out to measure the loss.
        case validation
    }

    /// Every distinct character of the text in increasing code-point order; a token is an index into it.
    public let vocabulary: [Unicode.Scalar]
    /// The whole text as token ids.
    public let tokens: [Int]
    /// How many leading tokens form the training split; the rest are the validation split.
    public let trainCount: Int
    /// Where the text came from, for logs (a path, or `"text"`).
    public let source: String
    private let asciiIndex: [Int]  // token id of each scalar below 128, or −1
    private let otherIndex: [Unicode.Scalar: Int]

    /// The number of distinct characters.
    public var vocabularySize: Int { vocabulary.count }

    /// Tokenizes `text` and splits it: the first `⌊trainFraction · n⌋` characters train, the rest validate.
    ///
    /// - Parameters:
    ///   - text: the whole text.
    ///   - trainFraction: the share of characters in the training split, in (0, 1].
    ///   - source: where the text came from, used in messages.
    /// - Throws: ``DataError/emptyText(source:)`` when the text or its training part is empty.
    ///
    /// - Precondition: `trainFraction` lies in (0, 1]. Stops with a message otherwise.
    public init(text: String, trainFraction: Double = 0.9, source: String = "text") throws(DataError) {
        require(trainFraction > 0 && trainFraction <= 1, "CharacterDataset: trainFraction must be in (0, 1], got \(trainFraction)")
        let scalars = Array(text.unicodeScalars)
        let vocabulary = Set(scalars).sorted { $0.value < $1.value }
        var ascii = [Int](repeating: -1, count: 128)
        var other: [Unicode.Scalar: Int] = [:]
        for (id, c) in vocabulary.enumerated() {
            if c.value < 128 { ascii[Int(c.value)] = id } else { other[c] = id }
        }
        let trainCount = Int(Double(scalars.count) * trainFraction)
        guard trainCount > 0 else { throw .emptyText(source: source) }
        self.vocabulary = vocabulary
        self.asciiIndex = ascii
        self.otherIndex = other
        self.trainCount = trainCount
        self.source = source
        tokens = scalars.map { $0.value < 128 ? ascii[Int($0.value)] : other[$0]! }
    }

    /// Reads a UTF-8 text file (gzipped or plain) and tokenizes it as ``init(text:trainFraction:source:)`` does.
    ///
    /// - Throws: ``DataError/cannotRead(path:reason:)`` when the file is missing or unreadable,
    ///   ``DataError/emptyText(source:)`` when it is empty.
    public init(contentsOfFile path: String, trainFraction: Double = 0.9) throws(DataError) {
        let bytes = try Gzip.readFile(atPath: path)
        try self.init(text: String(decoding: bytes, as: UTF8.self), trainFraction: trainFraction, source: path)
    }

    /// The token ids of a split.
    public func tokens(_ split: Split) -> ArraySlice<Int> {
        split == .train ? tokens[..<trainCount] : tokens[trainCount...]
    }

    /// The token ids of `text`.
    ///
    /// - Throws: ``DataError/unknownCharacter(_:position:)`` for a character that is not in the vocabulary.
    public func encode(_ text: String) throws(DataError) -> [Int] {
        var ids: [Int] = []
        for (position, c) in text.unicodeScalars.enumerated() {
            let id = c.value < 128 ? asciiIndex[Int(c.value)] : (otherIndex[c] ?? -1)
            guard id >= 0 else { throw .unknownCharacter(c, position: position) }
            ids.append(id)
        }
        return ids
    }

    /// The text spelled by token ids (each must be in `0..<vocabularySize`).
    ///
    /// - Precondition: every id lies in `0..<vocabularySize`. Stops with a message otherwise.
    public func decode<S: Sequence<Int>>(_ ids: S) -> String {
        var s = String.UnicodeScalarView()
        for id in ids {
            require(vocabulary.indices.contains(id), "CharacterDataset.decode: token \(id) is outside 0..<\(vocabularySize)")
            s.append(vocabulary[id])
        }
        return String(s)
    }

    /// A random batch of windows for next-character prediction.
    ///
    /// Each of the `size` rows starts at a position drawn uniformly from the split (so that the window and its
    /// shifted copy fit); `targets[b, t]` is the character after `inputs[b, t]`, i.e. `inputs` shifted left by one.
    /// This is the sampler of Modula's hello-GPT.
    /// - Returns: `inputs` and `targets`, each `size × context` token ids in row-major order.
    ///
    /// - Precondition: `size` and `context` are positive and the split is longer than `context`. Stops with a message otherwise.
    public func batch(size: Int, context: Int, split: Split = .train, using rng: inout RandomGenerator) -> (inputs: [Int], targets: [Int]) {
        require(size > 0 && context > 0, "CharacterDataset.batch: size and context must be positive, got \(size) and \(context)")
        let part = tokens(split)
        require(part.count > context,
                     "CharacterDataset.batch: the \(split) split has \(part.count) characters, needs more than context \(context)")
        var inputs: [Int] = []
        var targets: [Int] = []
        inputs.reserveCapacity(size * context)
        targets.reserveCapacity(size * context)
        for _ in 0..<size {
            let start = part.startIndex + rng.nextInt(below: part.count - context)
            inputs += part[start..<(start + context)]
            targets += part[(start + 1)..<(start + context + 1)]
        }
        return (inputs, targets)
    }
}

extension CharacterDataset {
    /// Where Debian's `fortunes` and `fortunes-min` packages install their fortune-cookie files.
    public static let fortunesDirectory = "/usr/share/games/fortunes"

    /// English text from a Debian package, for when no text file is given.
    ///
    /// Reads the fortune-cookie databases of the `fortunes` package (about 2.5 MB of quotations, jokes and
    /// poems; `fortunes-min` alone gives about 100 kB) in ``fortunesDirectory``: every file that has a `.dat`
    /// index beside it, in name order. The `%` lines that separate cookies become blank lines, backspace
    /// overstriking is resolved, and other control characters are dropped.
    ///
    /// - Returns: the text and a description of where it came from.
    /// - Throws: ``DataError/missingDataset(name:lookedFor:remedy:)`` with the `apt-get install` line when no
    ///   fortune files are installed.
    public static func defaultText() throws(DataError) -> (text: String, source: String) {
        let entries = FileIO.directoryEntries(fortunesDirectory)
        let cookieFiles = entries.filter { name in
            entries.contains(name + ".dat") && FileIO.isFile(FileIO.join(fortunesDirectory, name))
        }
        guard !cookieFiles.isEmpty else {
            throw .missingDataset(
                name: "English text for the character-level example",
                lookedFor: [FileIO.join(fortunesDirectory, "*") + " (fortune-cookie files with a .dat index)"],
                remedy: "install them with: apt-get install fortunes (or the smaller fortunes-min), or pass the path of a text file such as tiny-Shakespeare")
        }
        var text: [UInt8] = []
        for name in cookieFiles {
            let bytes = try FileIO.readBytes(atPath: FileIO.join(fortunesDirectory, name))
            appendCleaned(bytes, to: &text)
        }
        let source = "\(fortunesDirectory) (\(cookieFiles.count) fortune files from Debian's fortunes packages)"
        return (String(decoding: text, as: UTF8.self), source)
    }

    /// Appends a fortune file as plain text: `%` lines become blank lines, `x⌫x` overstrikes collapse to `x`,
    /// and control characters other than newline and tab go. Works on UTF-8 bytes (fast even in debug builds).
    private static func appendCleaned(_ bytes: [UInt8], to text: inout [UInt8]) {
        var lineStart = text.count
        for b in bytes {
            switch b {
            case 0x0A:
                if text.count == lineStart + 1 && text[lineStart] == UInt8(ascii: "%") { text.removeLast() }
                text.append(b)
                lineStart = text.count
            case 0x08:  // backspace: remove the last character (a UTF-8 lead byte and its continuation bytes)
                while text.count > lineStart, let last = text.popLast(), last & 0xC0 == 0x80 {}
            case 0x09, 0x20..<0x7F, 0x80...:
                text.append(b)
            default:
                break
            }
        }
        if text.count > lineStart { text.append(0x0A) }
    }
}

extension CharacterDataset {
    /// The text at `path`, or the Debian-packaged ``defaultText()`` when `path` is nil.
    ///
    /// This is what a command-line example calls with its optional `--data` argument.
    public static func load(path: String?, trainFraction: Double = 0.9) throws(DataError) -> CharacterDataset {
        if let path { return try CharacterDataset(contentsOfFile: path, trainFraction: trainFraction) }
        let (text, source) = try defaultText()
        return try CharacterDataset(text: text, trainFraction: trainFraction, source: source)
    }
}
