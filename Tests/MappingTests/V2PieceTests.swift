import HL7v2
import Testing

@testable import Mapping

/// A field's repetitions are found by a byte walk; the standard library's `split` is the reference.
struct V2PieceTests {
    /// `fixed`, then `count` strings of up to `length - 1` random pieces.
    static func samples(_ fixed: [String], from pieces: [String], count: Int = 2000, length: Int = 10) -> [String] {
        var generator = SystemRandomNumberGenerator()
        return fixed
            + (0..<count).map { _ in
                (0..<Int.random(in: 0..<length, using: &generator)).map { _ in pieces.randomElement()! }.joined()
            }
    }

    @Test func repetitionsAreWhatSplittingOnTheSeparatorGives() {
        let samples = Self.samples(
            ["", "~", "~~", "a", "a~b", "~a~", "a~~b", "ä~ö~", "12345^Doe^Jane~67890", "\\R\\~x", "🙂~🙂🙂"],
            from: ["~", "^", "&", "a", "Ä", "🙂", "12", "\\", " "])
        let separators = HL7Separators.standard
        for sample in samples {
            let expected = sample.utf8.split(separator: separators.repetition).map { String(Substring($0)) }
            let found = V2Piece.repetitions(sample, separators)
            #expect(found.map { String($0.raw) } == expected, "'\(sample)'")
            #expect(found.allSatisfy { $0.level == 0 })
        }
        #expect(V2Piece.repetitions(nil, separators).isEmpty)
    }

    /// A piece's parts found in one pass are its parts found one by one.
    @Test func partsInOnePassAreThePartsOneByOne() {
        let samples = Self.samples(
            ["", "^", "^^", "a", "a^b", "^a^", "a^^b", "ä&ö^x", "123^Doe&Jr^Jane", "\\S\\^x", "🙂^🙂&🙂"],
            from: ["^", "&", "a", "Ä", "🙂", "12", "\\", " ", "~"])
        let separators = HL7Separators.standard
        for sample in samples {
            for level in 0...2 {
                let piece = V2Piece(raw: Substring(sample), level: level)
                let parts = piece.parts(separators)
                for number in 0...(parts.count + 2) {
                    let expected = piece.part(number, separators)
                    let found = V2Piece.part(number, in: parts)
                    #expect(
                        found?.raw == expected?.raw && found?.level == expected?.level, "'\(sample)' \(level) \(number)"
                    )
                }
            }
        }
    }

    /// Labels and scopes are matched byte for byte; `hasPrefix` of the string with the separator is
    /// the reference.
    @Test func labelsAndScopesMatchAsByPrefix() {
        let pieces = ["PID", "Patient", "[", "]", "1", "2", "/", "ORDER", "OBX", "Observation"]
        let firsts = Self.samples([], from: pieces, count: 3000, length: 5)
        let seconds = Self.samples([], from: pieces, count: 3000, length: 5)
        for (a, b) in zip(firsts, seconds) {
            let matches =
                a == b || (!b.contains("[") && a.hasPrefix(b + "[")) || (!a.contains("[") && b.hasPrefix(a + "["))
            #expect(V2ConversionRun.matches(a, b) == matches, "'\(a)' '\(b)'")
            #expect(V2ConversionRun.encloses(a, b) == (a == b || b.hasPrefix(a + "/")), "'\(a)' '\(b)'")
        }
    }
}
