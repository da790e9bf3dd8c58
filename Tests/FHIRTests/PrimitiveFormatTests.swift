import Foundation
import Testing

@testable import FHIR

/// The hand-written primitive checks against the regular expressions of the specification itself.
@Suite struct PrimitiveFormatTests {
    static let types = [
        "date", "dateTime", "instant", "time", "integer", "unsignedInt", "positiveInt", "decimal", "id", "code",
        "oid", "uuid", "uri", "base64Binary", "boolean", "string",
    ]

    static let seeds: [String: [String]] = [
        "date": ["2020", "2020-02", "2020-02-29", "1999-12-31", "0001-01-01"],
        "dateTime": [
            "2020", "2020-01", "2020-01-01", "2020-01-01T10:00:00Z", "2020-01-01T23:59:60.123+14:00",
            "2020-01-01T00:00:00-05:30",
        ],
        "instant": ["2020-01-01T10:00:00Z", "2015-02-07T13:28:17.239+02:00", "1999-12-31T23:59:59.9-13:59"],
        "time": ["10:00:00", "23:59:60", "00:00:00.5"],
        "integer": ["0", "-1", "2147483647", "-2147483648", "42"],
        "unsignedInt": ["0", "1", "2147483647"],
        "positiveInt": ["1", "9", "2147483647"],
        "decimal": ["0", "-0.5", "1.50", "1e10", "3.0E-3", "100"],
        "id": ["a", "A-1.b", String(repeating: "x", count: 64)],
        "code": ["male", "a b", "x-y.z"],
        "oid": ["urn:oid:1.2.3", "urn:oid:2.16.840.1.113883"],
        "uuid": ["urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a"],
        "uri": ["http://x.org/a", "urn:x", "a"],
        "base64Binary": ["AAAA", "aGVsbG8=", "ab+/"],
        "boolean": ["true", "false"],
        "string": ["a", "a b\tc\nd", "x"],
    ]

    static let alphabet = Array("0123456789-:.TZ+ ab=/fx\t")

    /// Where Ferry is deliberately stricter than the regex, and why.
    static func stricterOnPurpose(_ type: String, _ text: String) -> Bool {
        if text.isEmpty { return true }  // FHIR forbids empty primitive values in every format.
        if text.contains("\t") && type != "string" && type != "base64Binary" { return false }
        switch type {
        case "date", "dateTime", "instant":
            // Days that do not exist in the month (2021-02-29, 2020-04-31) match the regex.
            let parts = text.prefix(10).split(separator: "-")
            guard parts.count == 3, let year = Int(parts[0]), let month = Int(parts[1]),
                let day = Int(parts[2].prefix(2))
            else { return false }
            return (1...12).contains(month) && day > PrimitiveFormat.daysIn(month: month, year: year)
        case "integer", "unsignedInt", "positiveInt":
            guard let value = Int64(text) else { return text.count > 11 }
            return value > Int64(Int32.max) || value < Int64(Int32.min)
        case "base64Binary":
            return false
        default:
            return false
        }
    }

    @Test(arguments: types)
    func matchesTheSpecificationsRegex(_ type: String) throws {
        let definitions = try JSON(
            parsing: Data(
                contentsOf: TestSupport.packageRoot.appendingPathComponent(
                    "Sources/FHIR/Definitions/Resources/fhir-r4-definitions.json")))
        let pattern = try #require(definitions["primitives"]?[type]?["regex"]?.stringValue)
        // The spec's regexes are XML Schema style: \s and \S mean ASCII whitespace.
        let asciiPattern = pattern.replacingOccurrences(of: "\\S", with: "[^ \\t\\n\\r\\f\\x0B]").replacingOccurrences(
            of: "\\s", with: "[ \\t\\n\\r\\f\\x0B]")
        let regex = try NSRegularExpression(pattern: "^(?:\(asciiPattern))$")
        var generator = SystemRandomNumberGenerator()
        var samples = Self.seeds[type] ?? []
        for seed in Self.seeds[type] ?? [] {
            for _ in 0..<400 {
                var characters = Array(seed)
                for _ in 0..<Int.random(in: 1...2, using: &generator) {
                    switch Int.random(in: 0..<3, using: &generator) {
                    case 0 where !characters.isEmpty:
                        characters[Int.random(in: 0..<characters.count, using: &generator)] = Self.alphabet
                            .randomElement(using: &generator)!
                    case 1:
                        characters.insert(
                            Self.alphabet.randomElement(using: &generator)!,
                            at: Int.random(in: 0...characters.count, using: &generator))
                    default:
                        if !characters.isEmpty {
                            characters.remove(at: Int.random(in: 0..<characters.count, using: &generator))
                        }
                    }
                }
                samples.append(String(characters))
            }
        }
        for sample in samples {
            let regexAccepts = regex.firstMatch(in: sample, range: NSRange(sample.startIndex..., in: sample)) != nil
            let ferryAccepts = PrimitiveFormat.problem(type: type, text: sample) == nil
            if ferryAccepts {
                #expect(regexAccepts, "\(type): Ferry accepts '\(sample)' but the specification's regex does not")
            } else if regexAccepts {
                #expect(
                    Self.stricterOnPurpose(type, sample)
                        || (type == "string"
                            && sample.unicodeScalars.contains {
                                $0.value < 0x20 && $0 != "\t" && $0 != "\n" && $0 != "\r"
                            }),
                    "\(type): the regex accepts '\(sample)' but Ferry rejects it")
            }
        }
        for seed in Self.seeds[type] ?? [] {
            #expect(PrimitiveFormat.problem(type: type, text: seed) == nil, "\(type): '\(seed)' must be valid")
        }
        #expect(samples.count > 100)
    }

    @Test func rejectsDaysThatDoNotExist() {
        #expect(PrimitiveFormat.problem(type: "date", text: "2021-02-29") != nil)
        #expect(PrimitiveFormat.problem(type: "date", text: "2024-02-29") == nil)
        #expect(PrimitiveFormat.problem(type: "date", text: "1900-02-29") != nil)
        #expect(PrimitiveFormat.problem(type: "date", text: "2000-02-29") == nil)
        #expect(PrimitiveFormat.problem(type: "dateTime", text: "2020-04-31T00:00:00Z") != nil)
    }

    /// The seeds, and `each` variants of every seed with one character of `alphabet` inserted, one
    /// removed or one replaced at a random place.
    static func mutations(of seeds: [String], alphabet: [Character], each: Int) -> [String] {
        var generator = SystemRandomNumberGenerator()
        var samples = seeds
        for seed in seeds {
            for _ in 0..<each {
                var characters = Array(seed)
                let position = Int.random(in: 0...characters.count, using: &generator)
                switch Int.random(in: 0..<3, using: &generator) {
                case 0: characters.insert(alphabet.randomElement(using: &generator)!, at: position)
                case 1 where position < characters.count: characters.remove(at: position)
                default:
                    if position < characters.count {
                        characters[position] = alphabet.randomElement(using: &generator)!
                    }
                }
                samples.append(String(characters))
            }
        }
        return samples
    }

    /// The validator's one-pass test for `Type/id` references accepts exactly what
    /// `[A-Z][A-Za-z]*/[A-Za-z0-9\-.]{1,64}` does, on mutated references of every shape.
    @Test func plainTypeSlashIdReferencesAreRecognisedExactly() throws {
        let regex = try NSRegularExpression(pattern: "^[A-Z][A-Za-z]*/[A-Za-z0-9\\-.]{1,64}$")
        let seeds = [
            "Patient/123", "Observation/a-b.c", "patient/1", "Patient/", "/1", "Patient//1", "Patient/1/_history/2",
            "#p1", "urn:uuid:0b6e7b8a-7b9c-4c1c-9b1a-0d4d1f3c2a11", "http://x.org/fhir/Patient/1",
            "Patient?identifier=1",
            "Patient/1 ", "Pat ient/1", "Patient/" + String(repeating: "a", count: 64),
            "Patient/" + String(repeating: "a", count: 65), "Patiënt/1", "Patient/ü", "P/1", "Patient/1_2",
        ]
        for sample in Self.mutations(of: seeds, alphabet: Array("AZaz09/-._ #?:é\t"), each: 40) {
            let regexAccepts = regex.firstMatch(in: sample, range: NSRange(sample.startIndex..., in: sample)) != nil
            let slash = ValidationRun.plainRelativeSlash(sample)
            #expect((slash != nil) == regexAccepts, "'\(sample)'")
            if let slash { #expect(String(sample.utf8[..<slash]) == String(sample.split(separator: "/")[0])) }
        }
    }

    /// The validator's test for absolute URLs (`://` before any `?` or `#`) answers as a plain walk
    /// over the bytes does, on mutated references of every shape.
    @Test func absoluteURLsAreRecognisedExactly() {
        func byWalking(_ text: String) -> Bool {
            let bytes = Array(text.utf8)
            for index in bytes.indices {
                if bytes[index] == UInt8(ascii: "?") || bytes[index] == UInt8(ascii: "#") { return false }
                if index >= 2, bytes[index - 2] == UInt8(ascii: ":"), bytes[index - 1] == UInt8(ascii: "/"),
                    bytes[index] == UInt8(ascii: "/")
                {
                    return true
                }
            }
            return false
        }
        let seeds = [
            "http://x.org/fhir/Patient/1", "https://a/b?c=d", "urn:uuid:0b6e7b8a-7b9c-4c1c-9b1a-0d4d1f3c2a11",
            "Patient/1", "a?b://c", "a:b?c://d", "a#://", "://", ":/", "x:/", "x://", "a:b:c://d", "", ":", "::",
            "urn:oid:1.2.3", "file:///tmp/x", "Patient/1#://",
        ]
        for sample in Self.mutations(of: seeds, alphabet: Array("ax:/?#.é"), each: 60) {
            #expect(ValidationRun.isAbsoluteURL(sample) == byWalking(sample), "'\(sample)'")
        }
    }

    /// A UCUM symbol's exponent (`m2`, `s-1`) is found by a byte scan exactly where the pattern
    /// `[+-]?[0-9]+$` finds it.
    @Test func ucumExponentsAreFoundWhereThePatternFindsThem() throws {
        let regex = try NSRegularExpression(pattern: "[+-]?[0-9]+$")
        let symbols = [
            "m2", "s-1", "m", "10", "m+3", "-1", "cm2", "kg", "m2x", "mm[Hg]", "/m2", "s+", "m-", "+2", "abc123", "1",
            "", "m--2", "m+-2", "[in_i]2", "g.m2",
        ]
        for symbol in symbols {
            let match = regex.firstMatch(in: symbol, range: NSRange(symbol.startIndex..., in: symbol))
            let expected = match.flatMap { Range($0.range, in: symbol)?.lowerBound }
            #expect(UCUMUnit.trailingExponent(symbol) == expected, "'\(symbol)'")
        }
    }
}

/// The mimetypes value set is not expanded; a code must be `type/subtype` (parameters aside).
@Suite struct MIMETypeTests {
    @Test(arguments: [
        ("text/plain", true), ("application/fhir+json", true), ("text/plain; charset=utf-8", true),
        ("text/plain;charset=a/b", true), ("image/svg+xml", true), ("TX", false), ("", false), ("/plain", false),
        ("text/", false), ("text/plain/extra", false), ("a/b/c; x=y", false), ("/", false), ("; text/plain", false),
        ("ä/ö", true),
    ])
    func aMIMETypeIsTypeSlashSubtype(_ code: String, _ valid: Bool) {
        #expect(ValidationRun.isMIMEType(code) == valid, "\(code)")
    }
}

/// bdl-8: a Bundle entry's fullUrl names no version. Searched by bytes, it finds `/_history/` exactly
/// where Foundation's string search does.
@Suite struct HistorySegmentTests {
    @Test func theByteSearchAgreesWithFoundation() {
        var samples = [
            "http://x/Patient/1/_history/2", "/_history/", "_history/", "/_history", "Patient/1", "",
            "http://x/_history/_history/", "//_history//", "/_histor/_history/1", "ä/_history/ö", "/_/_history/",
            "urn:uuid:9d3c2ce4-1f36-4bd2-8b1d-1c9e5f0c2a10",
        ]
        var generator = SystemRandomNumberGenerator()
        let pieces = ["/", "_", "h", "i", "s", "t", "o", "r", "y", "_history", "/_history/", "x", "é"]
        for _ in 0..<2000 {
            samples.append(
                (0..<Int.random(in: 0..<12, using: &generator)).map { _ in pieces.randomElement()! }.joined())
        }
        for sample in samples {
            #expect(
                ValidationRun.containsHistorySegment(sample) == sample.contains("/_history/"), "'\(sample)'")
        }
    }
}

/// A Bundle request url's path segments, by bytes, are what splitting its part before `?` on `/` gives.
@Suite struct RequestURLSegmentTests {
    @Test func theByteWalkAgreesWithSplitting() {
        var samples = [
            "Patient/1", "Patient", "", "?", "/", "Patient?name=x/y", "//Patient//1//", "Patient/ä?x", "?a/b",
        ]
        var generator = SystemRandomNumberGenerator()
        let pieces = ["/", "?", "Patient", "1", "ö", "=", "&", "_history"]
        for _ in 0..<2000 {
            samples.append(
                (0..<Int.random(in: 0..<10, using: &generator)).map { _ in pieces.randomElement()! }.joined())
        }
        for sample in samples {
            let expected = sample.utf8.prefix { $0 != UInt8(ascii: "?") }.split(separator: UInt8(ascii: "/"))
                .map { String(Substring($0)) }
            #expect(ValidationRun.pathSegments(sample).map(String.init) == expected, "'\(sample)'")
        }
    }

    /// The in-place `Type/id` comparison of a PUT's url is the string comparison it stands for.
    @Test func anUpdatesPathIsComparedByteForByte() {
        let urls = [
            "Patient/1", "Patient/12", "Patient1", "Patient//1", "Patien/1", "Patient/1/", "Patient/ä", "Patient/a",
        ]
        for url in urls {
            for (type, id) in [
                ("Patient", "1"), ("Patient", "12"), ("Patient", "ä"), ("Patien", "1"), ("Patient", "a"),
            ] {
                #expect(ValidationRun.isPath(url, of: type, id) == (url == "\(type)/\(id)"), "'\(url)' \(type) \(id)")
            }
        }
    }
}

/// Strings, codes and uris are first looked at eight bytes at a time for anything below 0x21: a
/// control character or whitespace at each position of a word, after each length of text, is found
/// as the rules read byte by byte (written out below) find it, and bytes above 0x7F are never
/// mistaken for one.
@Suite struct WordAtATimeScanTests {
    /// The word the problem names, by the rules read one byte at a time; `nil` for none.
    static func expected(_ type: String, _ text: String) -> String? {
        let bytes = Array(text.utf8)
        let whitespace: Set<UInt8> = [0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20]
        let control = bytes.contains { $0 < 0x20 && $0 != 0x09 && $0 != 0x0A && $0 != 0x0D }
        switch type {
        case "uri": return bytes.contains(where: whitespace.contains) ? "whitespace" : nil
        case "code":
            if whitespace.contains(bytes.first!) || whitespace.contains(bytes.last!) { return "start or end" }
            for index in bytes.indices.dropFirst() where whitespace.contains(bytes[index]) {
                if whitespace.contains(bytes[index - 1]) { return "consecutive" }
            }
            return control ? "control" : nil
        default: return control ? "control" : nil
        }
    }

    @Test func aLowByteIsFoundAtEveryPosition() {
        for length in 0..<20 {
            let before = String(repeating: "a", count: length)
            var texts = [before + "é中😀", before + "\u{7F}" + before, before + "\u{80}\u{FF}"]
            for low in ["\u{1}", "\u{1F}", " ", "\t", "\u{B}", "\n", "  "] {
                texts += [before + low + "b", "b" + before + low + before + "é", before + low]
            }
            for text in texts {
                for type in ["string", "code", "uri"] {
                    let problem = PrimitiveFormat.problem(type: type, text: text)
                    if let word = Self.expected(type, text) {
                        #expect(problem?.contains(word) == true, "\(type) '\(text)': \(problem ?? "none")")
                    } else {
                        #expect(problem == nil, "\(type) '\(text)': \(problem ?? "none")")
                    }
                }
            }
        }
    }
}
