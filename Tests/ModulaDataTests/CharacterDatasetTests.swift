import Testing
import ModulaTensor
@testable import ModulaData

@Suite("CharacterDataset")
struct CharacterDatasetTests {
    let text = "to be, or not to be: that is the question.\nWhether 'tis nobler in the mind to suffer\n"

    @Test func vocabularyIsTheSortedSetOfCharacters() throws {
        let data = try CharacterDataset(text: text)
        #expect(data.vocabulary == Set(text.unicodeScalars).sorted { $0.value < $1.value })
        #expect(data.vocabulary.first == "\n" && data.vocabulary[1] == " ")
        #expect(data.vocabularySize == Set(text.unicodeScalars).count)
        #expect(data.tokens.count == text.unicodeScalars.count)
    }

    @Test func encodeAndDecodeRoundTrip() throws {
        let data = try CharacterDataset(text: text + "é→")
        #expect(data.decode(data.tokens) == text + "é→")
        #expect(try data.decode(data.encode("not the mind→")) == "not the mind→")
        let error = dataError { () throws(DataError) in try data.encode("toxic") }
        #expect(error == .unknownCharacter("x", position: 2))
    }

    @Test func splitsNinetyTen() throws {
        let data = try CharacterDataset(text: String(repeating: "abcdefghij", count: 10))
        #expect(data.trainCount == 90)
        #expect(data.tokens(.train).count == 90 && data.tokens(.validation).count == 10)
        #expect(data.decode(data.tokens(.validation)) == "abcdefghij")
    }

    @Test func targetsAreInputsShiftedByOne() throws {
        let data = try CharacterDataset(text: String(repeating: text, count: 4))
        var rng = RandomGenerator(seed: 7)
        for split in CharacterDataset.Split.allCases {
            let context = split == .train ? 16 : 8
            let (x, y) = data.batch(size: 5, context: context, split: split, using: &rng)
            #expect(x.count == 5 * context && y.count == 5 * context)
            let part = Array(data.tokens(split))
            for b in 0..<5 {
                let row = Array(x[(b * context)..<((b + 1) * context)]), next = Array(y[(b * context)..<((b + 1) * context)])
                #expect(Array(row.dropFirst()) == Array(next.dropLast()))
                // The window (and its last target) is a contiguous piece of the split.
                let windows = (0..<(part.count - context)).filter { Array(part[$0..<($0 + context + 1)]) == row + [next.last!] }
                #expect(!windows.isEmpty)
            }
        }
    }

    @Test func missingAndEmptyFilesAreClearErrors() throws {
        let missing = dataError { () throws(DataError) in try CharacterDataset(contentsOfFile: "/no/such/text.txt") }
        guard case .cannotRead(let path, _)? = missing else {
            Issue.record("expected cannotRead, got \(String(describing: missing))")
            return
        }
        #expect(path == "/no/such/text.txt")
        let dir = TemporaryDirectory()
        let empty = dir.write([], to: "empty.txt")
        #expect(dataError { () throws(DataError) in try CharacterDataset(contentsOfFile: empty) } == .emptyText(source: empty))
    }

    @Test func readsGzippedText() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("text.txt.gz")
        try Gzip.writeFile(Array(text.utf8), toPath: path)
        let data = try CharacterDataset(contentsOfFile: path)
        #expect(data.decode(data.tokens) == text)
        #expect(data.source == path)
    }

    @Test(.enabled(if: exists(CharacterDataset.fortunesDirectory)))
    func defaultTextComesFromTheFortunesPackages() throws {
        let (text, source) = try CharacterDataset.defaultText()
        #expect(source.contains(CharacterDataset.fortunesDirectory))
        #expect(text.unicodeScalars.count > 50_000)
        let lines = text.utf8.split(separator: UInt8(ascii: "\n"))
        #expect(!lines.contains { $0.elementsEqual("%".utf8) })
        #expect(!text.utf8.contains(8))  // backspace overstrikes are resolved
        let data = try CharacterDataset.load(path: nil)
        #expect(data.vocabularySize > 60)
    }
}
