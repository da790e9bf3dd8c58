import HL7v2
import Testing

@testable import Mapping

/// A field's repetitions are found by a byte walk; the standard library's `split` is the reference.
struct V2PieceTests {
    @Test func repetitionsAreWhatSplittingOnTheSeparatorGives() {
        var samples = ["", "~", "~~", "a", "a~b", "~a~", "a~~b", "ä~ö~", "12345^Doe^Jane~67890", "\\R\\~x", "🙂~🙂🙂"]
        var generator = SystemRandomNumberGenerator()
        let pieces = ["~", "^", "&", "a", "Ä", "🙂", "12", "\\", " "]
        for _ in 0..<2000 {
            samples.append(
                (0..<Int.random(in: 0..<10, using: &generator)).map { _ in pieces.randomElement()! }.joined())
        }
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
        var samples = ["", "^", "^^", "a", "a^b", "^a^", "a^^b", "ä&ö^x", "123^Doe&Jr^Jane", "\\S\\^x", "🙂^🙂&🙂"]
        var generator = SystemRandomNumberGenerator()
        let pieces = ["^", "&", "a", "Ä", "🙂", "12", "\\", " ", "~"]
        for _ in 0..<2000 {
            samples.append(
                (0..<Int.random(in: 0..<10, using: &generator)).map { _ in pieces.randomElement()! }.joined())
        }
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
        var generator = SystemRandomNumberGenerator()
        let pieces = ["PID", "Patient", "[", "]", "1", "2", "/", "ORDER", "OBX", "Observation"]
        func random() -> String {
            (0..<Int.random(in: 0..<5, using: &generator)).map { _ in pieces.randomElement()! }.joined()
        }
        for _ in 0..<3000 {
            let (a, b) = (random(), random())
            let matches =
                a == b || (!b.contains("[") && a.hasPrefix(b + "[")) || (!a.contains("[") && b.hasPrefix(a + "["))
            #expect(V2ConversionRun.matches(a, b) == matches, "'\(a)' '\(b)'")
            #expect(V2ConversionRun.encloses(a, b) == (a == b || b.hasPrefix(a + "/")), "'\(a)' '\(b)'")
        }
    }
}
