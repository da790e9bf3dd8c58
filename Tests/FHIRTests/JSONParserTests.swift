import FHIR
import Foundation
import Testing

@Suite struct JSONParserTests {
    /// The bytes a string lends (`withUTF8Bytes`, which the validator reads every value through) are its
    /// UTF-8: small and large, ASCII and not, a slice's copy, and the empty string.
    @Test func aStringLendsItsUTF8() {
        let long = String(repeating: "Glucose [Mass/volume] in Serum ", count: 4)
        let texts = ["", "mg/dL", "Ærø, Åse — 東京", long, String(long.dropFirst(3).prefix(40)), "urn:uuid:" + long]
        for text in texts {
            #expect(text.withUTF8Bytes { Array($0) } == Array(text.utf8), "\(text)")
        }
    }

    @Test func parsesEveryKindOfValueAndKeepsKeyOrder() throws {
        let value = try JSON(parsing: #"{"z":1,"a":[true,false,null],"m":{"k":"v"},"d":1.50,"e":-2E+3}"#)
        #expect(value.objectValue?.keys == ["z", "a", "m", "d", "e"])
        #expect(value["a"] == [true, false, nil])
        #expect(value["m"]?["k"] == "v")
        #expect(value["d"] == .number("1.50"))
        #expect(value["e"] == .number("-2E+3"))
    }

    @Test func decodesEscapesAndUnicode() throws {
        let value = try JSON(parsing: #"["a\"b\\c\/d\b\f\n\r\t", "\u00e9\u4e2d\ud83d\ude00", "é中😀"]"#)
        #expect(value.arrayValue?[0] == .string("a\"b\\c/d\u{8}\u{c}\n\r\t"))
        #expect(value.arrayValue?[1] == .string("é中😀"))
        #expect(value.arrayValue?[2] == .string("é中😀"))
    }

    struct BrokenJSON: Sendable, CustomTestStringConvertible {
        var text: [UInt8]
        var message: String
        var line: Int
        var column: Int
        var path: String
        var testDescription: String { message }

        init(_ text: String, _ message: String, line: Int = 1, column: Int, path: String = "$") {
            self.text = Array(text.utf8)
            self.message = message
            self.line = line
            self.column = column
            self.path = path
        }

        init(bytes: [UInt8], _ message: String, column: Int, path: String) {
            self.text = bytes
            self.message = message
            self.line = 1
            self.column = column
            self.path = path
        }
    }

    static let broken: [BrokenJSON] = [
        BrokenJSON(#"{"a":1,"a":2}"#, "duplicate key", column: 8),
        BrokenJSON(#"{"ab":1,"a\u0062":2}"#, "duplicate key", column: 9),
        BrokenJSON(#"{"a\u0062":1,"ab":2}"#, "duplicate key", column: 14),
        BrokenJSON(#"{"é":1,"\u00e9":2}"#, "duplicate key", column: 9),
        BrokenJSON("{\"name\":[{\"given\":[\"a\",]}]}", "trailing comma", column: 24, path: "$.name[0].given"),
        BrokenJSON(#"{"a":1,}"#, "trailing comma", column: 8),
        BrokenJSON(#"{"n":012}"#, "leading zeros", column: 6, path: "$.n"),
        BrokenJSON(#"{"n":NaN}"#, "NaN", column: 6, path: "$.n"),
        BrokenJSON(#"{"n":-Infinity}"#, "NaN and Infinity", column: 6, path: "$.n"),
        BrokenJSON("{\"s\":\"abc", "unterminated string", column: 6, path: "$.s"),
        BrokenJSON(#"{"n":1e999}"#, "beyond the range", column: 6, path: "$.n"),
        BrokenJSON("{\n  \"a\": {\n    \"b\": tru\n  }\n}", "invalid literal", line: 3, column: 10, path: "$.a.b"),
        BrokenJSON(#"{"s":"a\qb"}"#, "invalid escape", column: 8, path: "$.s"),
        BrokenJSON(#"{"s":"\ud800"}"#, "lone high surrogate", column: 7, path: "$.s"),
        BrokenJSON(#"{"s":"\udc00x"}"#, "lone low surrogate", column: 7, path: "$.s"),
        BrokenJSON("{\"s\":\"a\u{1}b\"}", "control character", column: 8, path: "$.s"),
        BrokenJSON(
            bytes: Array(#"{"s":""#.utf8) + [0xC3, 0x28] + Array(#""}"#.utf8), "invalid UTF-8", column: 7, path: "$.s"),
        BrokenJSON(
            bytes: Array(#"{"s":""#.utf8) + [0xC0, 0xAF] + Array(#""}"#.utf8), "invalid UTF-8", column: 7, path: "$.s"),
        BrokenJSON(
            bytes: Array(#"{"s":""#.utf8) + [0xE0, 0x80, 0xAF] + Array(#""}"#.utf8), "overlong", column: 7, path: "$.s"),
        BrokenJSON(#"{"a":1} {"b":2}"#, "after the end of the document", column: 9),
        BrokenJSON(#"{a:1}"#, "double quotes", column: 2),
        BrokenJSON(#"[1 2]"#, "expected ',' or ']'", column: 4),
        BrokenJSON("", "unexpected end of input", column: 1),
        BrokenJSON(#"{"n":-}"#, "a digit must follow '-'", column: 6, path: "$.n"),
        BrokenJSON(#"{"n":1.}"#, "decimal point", column: 6, path: "$.n"),
        BrokenJSON(#"{"n":1e}"#, "exponent", column: 6, path: "$.n"),
    ]

    @Test(arguments: broken)
    func rejectsMalformedInputWithItsLocation(_ example: BrokenJSON) {
        #expect {
            try JSON(parsing: example.text)
        } throws: { error in
            guard let error = error as? FHIRError else { return false }
            #expect(error.code == .jsonSyntax)
            #expect(error.message.contains(example.message), "\(error.message)")
            #expect(error.line == example.line)
            #expect(error.column == example.column)
            #expect(error.path == example.path)
            return true
        }
    }

    @Test func limitsNestingDepth() throws {
        let deep = String(repeating: "[", count: 200) + String(repeating: "]", count: 200)
        #expect(throws: FHIRError.self) { try JSON(parsing: deep) }
        let allowed = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        #expect(try JSON(parsing: allowed) != .null)
        #expect(throws: FHIRError.self) {
            try JSONParser(maxDepth: 10).parse(String(repeating: "[", count: 11) + String(repeating: "]", count: 11))
        }
    }

    /// Strings are scanned eight bytes at a time: a quote, an escape, a control character or a
    /// multi-byte scalar at each position of a word, after each length of plain text, reads as it does
    /// byte by byte (Foundation's reading for the valid ones; the right column for the broken ones).
    @Test func readsEachByteOfAStringWhereverItFallsInAWord() throws {
        for length in 0..<20 {
            let plain = String((0..<length).map { Character(Unicode.Scalar(UInt8(ascii: "a") + UInt8($0 % 26))) })
            for (tail, expected) in [
                ("", plain), (#"\"x"#, plain + "\"x"), (#"\u00e9z"#, plain + "éz"), ("é中😀", plain + "é中😀"),
                ("é" + plain, plain + "é" + plain), (#"\n"#, plain + "\n"),
            ] {
                let text = #"{"k":""# + plain + tail + #""}"#
                let value = try JSON(parsing: text)
                #expect(value["k"] == .string(expected), "\(text)")
                let foundation = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: String]
                #expect(foundation?["k"] == expected)
            }
            let control = Array(#"{"s":""#.utf8) + Array(plain.utf8) + [0x01] + Array(#""}"#.utf8)
            #expect {
                try JSON(parsing: control)
            } throws: { error in
                (error as? FHIRError)?.column == 7 + length
                    && (error as? FHIRError)?.message.contains("control") == true
            }
            let invalid = Array(#"{"s":""#.utf8) + Array(plain.utf8) + [0xC3, 0x28] + Array(#""}"#.utf8)
            #expect {
                try JSON(parsing: invalid)
            } throws: { error in
                (error as? FHIRError)?.column == 7 + length && (error as? FHIRError)?.message.contains("UTF-8") == true
            }
        }
    }

    /// Keys met before come from the parser's cache of keys: thousands of keys of every length, many
    /// sharing a slot of the cache, read back in two orders, each object parsed on its own, as are keys
    /// at the very end of the input, with escapes and beyond ASCII.
    @Test func keysMetAgainReadAsWritten() throws {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123456789_é")
        var keys = Set<String>()
        while keys.count < 3000 {
            keys.insert(String((0..<Int.random(in: 0...20, using: &generator)).map { _ in alphabet.randomElement()! }))
        }
        let ordered = Array(keys)
        for order in [ordered, ordered.shuffled()] {
            for start in stride(from: 0, to: order.count, by: 5) {
                let chunk = order[start..<min(start + 5, order.count)]
                let text = "{" + chunk.enumerated().map { "\"\($1)\":\($0)" }.joined(separator: ",") + "}"
                let object = try #require(try JSON(parsing: text).objectValue)
                #expect(object.keys == Array(chunk), "\(text)")
            }
        }
        #expect(try JSON(parsing: #"{"ab":1}"#).objectValue?.keys == ["ab"])
        #expect(try JSON(parsing: #"{"a\u0062":1}"#).objectValue?.keys == ["ab"])
        #expect(
            try JSON(parsing: #"{"valueQuantity":{"valueQuantit":1,"valueQuantityy":2}}"#)["valueQuantity"]?
                .objectValue?.keys == ["valueQuantit", "valueQuantityy"])
        #expect(throws: FHIRError.self) { try JSON(parsing: #"{"code":1,"code":2}"#) }
    }

    /// Values met before come from the same cache, short and long: thousands of strings of every length
    /// up to past the longest kept, many alike but for one byte (the first, the middle one, the ninth
    /// from the end, the last) or one character shorter, read back in two orders, as arrays and as a
    /// value at the very end of the input.
    @Test func valuesMetAgainReadAsWritten() throws {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz:/.-0123456789é")
        var values = Set<String>()
        while values.count < 2000 {
            let text = String((0..<Int.random(in: 0...130, using: &generator)).map { _ in alphabet.randomElement()! })
            values.insert(text)
            guard !text.isEmpty else { continue }
            var bytes = Array(text.utf8)
            for position in [0, bytes.count / 2, max(0, bytes.count - 9), bytes.count - 1] where bytes[position] < 0x80
            {
                bytes[position] = bytes[position] == UInt8(ascii: "x") ? UInt8(ascii: "y") : UInt8(ascii: "x")
                values.insert(String(decoding: bytes, as: UTF8.self))
            }
            values.insert(String(text.dropLast()))
        }
        let ordered = Array(values)
        for order in [ordered, ordered.shuffled(), ordered] {
            for start in stride(from: 0, to: order.count, by: 7) {
                let chunk = Array(order[start..<min(start + 7, order.count)])
                let text = "[" + chunk.map { "\"\($0)\"" }.joined(separator: ",") + "]"
                #expect(try JSON(parsing: text).arrayValue?.compactMap(\.stringValue) == chunk, "\(text)")
                #expect(try JSON(parsing: "\"\(chunk[0])\"").stringValue == chunk[0])
            }
        }
        // Alike in their first word, many sharing a slot, all in one document twice.
        let alike = (0..<3000).map { "urn:oid:\($0 + 10_000)" }
        let list = "[" + (alike + alike).map { "\"\($0)\"" }.joined(separator: ",") + "]"
        #expect(try JSON(parsing: list).arrayValue?.compactMap(\.stringValue) == alike + alike)
    }

    /// Whether an object has a `_name` member is kept with its members, however the object was made
    /// or changed: by the parser (the `_` written as an escape too), from members, and after setting and
    /// removing members.
    @Test func underscoredKeysAreKnownWithTheMembers() throws {
        func scan(_ object: JSONObject) -> Bool { object.keys.contains { $0.hasPrefix("_") } }
        for text in [
            #"{"a":1}"#, #"{"_a":{"id":"x"},"a":1}"#, #"{"a":1,"\u005fa":{"id":"x"}}"#, #"{"\u0061":1}"#, #"{"":1}"#,
            #"{"a":{"b":1,"_b":{"id":"y"}},"c":[{"_d":{"id":"z"}}]}"#,
        ] {
            let parsed = try JSON(parsing: text)
            var objects: [JSONObject] = []
            func collect(_ value: JSON) {
                switch value {
                case .object(let object):
                    objects.append(object)
                    object.members.forEach { collect($0.value) }
                case .array(let items): items.forEach(collect)
                default: break
                }
            }
            collect(parsed)
            for object in objects { #expect(object.hasUnderscoredKey == scan(object), "\(text)") }
        }
        var object = JSONObject([("a", 1), ("_b", ["id": "x"])])
        #expect(object.hasUnderscoredKey)
        object["a"] = nil
        #expect(object.hasUnderscoredKey)
        object["_b"] = nil
        #expect(!object.hasUnderscoredKey)
        object["_c"] = ["id": "y"]
        #expect(object.hasUnderscoredKey)
        object["_c"] = ["id": "z"]
        object["d"] = 1
        object["_c"] = nil
        #expect(!object.hasUnderscoredKey && object.keys == ["d"])
        #expect(!JSONObject(uncheckedMembers: [JSONMember(key: "a", value: 1)]).hasUnderscoredKey)
        #expect(JSONObject(uncheckedMembers: [JSONMember(key: "_a", value: ["id": "x"])]).hasUnderscoredKey)
    }

    @Test func detectsDuplicateKeysInLargeObjects() {
        let members = (0..<40).map { "\"k\($0)\":\($0)" } + ["\"k7\":0"]
        #expect(throws: FHIRError.self) { try JSON(parsing: "{" + members.joined(separator: ",") + "}") }
    }
}

@Suite struct JSONWriterTests {
    @Test func compactOutputOfCanonicalInputIsByteIdentical() throws {
        let canonical = #"{"a":[1,2.50,-0.0,1E+5],"b":{"c":"é\"\\\n\u0001","d":null},"e":true}"#
        let value = try JSON(parsing: canonical)
        #expect(JSONWriter().string(value) == canonical)
        #expect(String(decoding: value.canonicalBytes, as: UTF8.self) == canonical)
    }

    @Test func everyOfficialExampleRoundTripsThroughItsCanonicalForm() throws {
        for file in TestSupport.exampleFiles() {
            let value = try JSON(parsing: Data(contentsOf: file))
            let canonical = value.canonicalBytes
            let reparsed = try JSON(parsing: canonical)
            #expect(reparsed.canonicalBytes == canonical, "\(file.lastPathComponent)")
            #expect(
                JSONWriter().bytes(try JSON(parsing: JSONWriter(layout: .pretty).bytes(value)))
                    == JSONWriter().bytes(value))
        }
    }

    @Test func canonicalFormIgnoresKeyOrderAndLayout() throws {
        let first = try JSON(parsing: #"{"resourceType":"Patient","id":"p1","name":[{"given":["A"],"family":"B"}]}"#)
        let second = try JSON(
            parsing:
                "{\n \"name\": [ {\"family\":\"B\", \"given\": [\"A\"]} ],\n \"id\":\"p1\", \"resourceType\":\"Patient\"\n}"
        )
        #expect(first.canonicalBytes == second.canonicalBytes)
        #expect(first.canonicalSHA256 == second.canonicalSHA256)
        #expect(first.canonicalSHA256.count == 64)
        let third = try JSON(parsing: #"{"resourceType":"Patient","id":"p1","name":[{"given":["A"],"family":"C"}]}"#)
        #expect(third.canonicalSHA256 != first.canonicalSHA256)
    }

    @Test func canonicalSHA256IsTheDigestOfTheCanonicalBytes() throws {
        // SHA-256 of the 2 bytes "{}", a fixed published value.
        #expect(
            JSON.object(JSONObject()).canonicalSHA256
                == "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a")
    }

    /// Strings are written eight bytes at a time: each character that needs an escape, and multi-byte
    /// scalars, at each position of a word after each length of plain text, are written as Foundation
    /// reads them back, escaped exactly where the spelt-out rule says (quote, backslash, below 0x20).
    @Test func writesEachByteOfAStringWhereverItFallsInAWord() throws {
        func escaped(_ text: String) -> String {
            var out = ""
            for scalar in text.unicodeScalars {
                switch scalar {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                case "\n": out += "\\n"
                case "\r": out += "\\r"
                case "\t": out += "\\t"
                case "\u{08}": out += "\\b"
                case "\u{0C}": out += "\\f"
                case "\u{00}"..."\u{1F}":
                    out += "\\u00" + (scalar.value < 16 ? "0" : "") + String(scalar.value, radix: 16)
                default: out.unicodeScalars.append(scalar)
                }
            }
            return out
        }
        for length in 0..<20 {
            let plain = String((0..<length).map { Character(Unicode.Scalar(UInt8(ascii: "a") + UInt8($0 % 26))) })
            for special in ["", "\"", "\\", "\n", "\u{01}", "\u{1F}", "\u{7F}", "é", "中", "😀", "é\"", "\u{0C}x"] {
                for text in [plain + special, special + plain, plain + special + plain] {
                    let written = JSONWriter().string(.string(text))
                    #expect(written == "\"" + escaped(text) + "\"", "\(text.debugDescription)")
                    let read = try JSONSerialization.jsonObject(with: Data(written.utf8), options: .fragmentsAllowed)
                    #expect(read as? String == text, "\(text.debugDescription)")
                }
            }
        }
    }

    /// Keys sort by their UTF-8 bytes, whatever their length or storage (small, large, bridged).
    @Test func keysSortByTheirBytes() throws {
        let keys = [
            "", "a", "A", "_a", "ab", "abc", "b", "é", "e\u{301}", "z", "resourceType", "resourceTyp", "meta",
            String(repeating: "k", count: 40), String(repeating: "k", count: 41), "中", "😀", "\u{7F}",
        ]
        for left in keys {
            for right in keys {
                #expect(
                    JSONWriter.keyPrecedes(left, right)
                        == Array(left.utf8).lexicographicallyPrecedes(Array(right.utf8)),
                    "\(left) \(right)")
            }
            let bridged = NSString(string: left) as String
            #expect(JSONWriter.keyPrecedes(bridged, left) == false)
        }
    }

    @Test func keepsDecimalTextExactly() throws {
        let value = try JSON(parsing: #"{"v":1.50,"w":100000000000000000000000001,"x":3.0e-10}"#)
        #expect(JSONWriter().string(value) == #"{"v":1.50,"w":100000000000000000000000001,"x":3.0e-10}"#)
    }
}
