/// A byte-level JSON parser (RFC 8259) that builds Ferry's ordered `JSON` tree.
///
/// It is strict where FHIR needs it: invalid UTF-8, duplicate keys, trailing commas, leading zeros,
/// `NaN`/`Infinity`, unterminated strings, unescaped control characters, lone surrogates, numbers
/// beyond the range of a double and nesting deeper than `maxDepth` are errors. Each error names the
/// line, the column and the JSON path (`$.entry[3].resource.name[0]`). The success path does no
/// location bookkeeping: the line and column are computed from the offset only when an error is thrown.
public struct JSONParser: Sendable {
    /// The deepest nesting of arrays and objects accepted.
    public var maxDepth: Int

    /// Creates a parser.
    public init(maxDepth: Int = 128) {
        self.maxDepth = maxDepth
    }

    /// Parses one JSON document; only whitespace may follow it.
    public func parse(_ bytes: some Sequence<UInt8>) throws(FHIRError) -> JSON {
        let array = Array(bytes)
        return try array.withUnsafeBufferPointer { buffer in Result { () throws(FHIRError) in try parse(buffer) } }
            .get()
    }

    /// Parses one JSON document from a buffer; only whitespace may follow it.
    public func parse(_ buffer: UnsafeBufferPointer<UInt8>) throws(FHIRError) -> JSON {
        let scratch = ParserScratch.take()
        defer { ParserScratch.give(scratch) }
        var reader = Reader(buffer: buffer, maxDepth: maxDepth, scratch: scratch)
        do throws(JSONFailure) {
            reader.skipBOM()
            reader.skipWhitespace()
            let value = try reader.parseValue(depth: 0)
            reader.skipWhitespace()
            if reader.offset < buffer.count {
                throw JSONFailure(
                    offset: reader.offset,
                    message: "unexpected \(describe(buffer, reader.offset)) after the end of the document")
            }
            return value
        } catch {
            throw error.located(in: buffer)
        }
    }

    /// Parses a JSON document from a string.
    public func parse(_ string: String) throws(FHIRError) -> JSON {
        try string.withUTF8Bytes { buffer in Result { () throws(FHIRError) in try parse(buffer) } }.get()
    }
}

/// An error found while parsing, before its line, column and path are known.
struct JSONFailure: Error {
    var offset: Int
    var message: String
    /// Path components from the innermost container outwards; reversed when the error is reported.
    var reversedPath: [PathComponent] = []

    enum PathComponent {
        case key(String)
        case index(Int)
    }

    func located(in buffer: UnsafeBufferPointer<UInt8>) -> FHIRError {
        var line = 1
        var lineStart = 0
        var index = 0
        let end = min(offset, buffer.count)
        while index < end {
            if buffer[index] == UInt8(ascii: "\n") {
                line += 1
                lineStart = index + 1
            }
            index += 1
        }
        var path = "$"
        for component in reversedPath.reversed() {
            switch component {
            case .key(let key):
                if key.utf8.allSatisfy({ isIdentifierByte($0) }) && !key.isEmpty {
                    path += ".\(key)"
                } else {
                    path += "[\"\(key)\"]"
                }
            case .index(let index): path += "[\(index)]"
            }
        }
        return FHIRError(.jsonSyntax, message, line: line, column: offset - lineStart + 1, path: path)
    }
}

private func isIdentifierByte(_ byte: UInt8) -> Bool {
    (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
        || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "_")
}

private func describe(_ buffer: UnsafeBufferPointer<UInt8>, _ offset: Int) -> String {
    guard offset < buffer.count else { return "end of input" }
    let byte = buffer[offset]
    if byte >= 0x21 && byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
    return "byte 0x\(String(byte, radix: 16, uppercase: true))"
}

private struct Reader {
    let buffer: UnsafeBufferPointer<UInt8>
    let maxDepth: Int
    var offset = 0
    /// Members and elements of the containers being parsed, innermost last: each container is copied
    /// out at its exact size when it closes, so no array grows by doubling.
    let memberStack: MoveStack<JSONMember>
    let valueStack: MoveStack<JSON>
    let strings: StringCache

    init(buffer: UnsafeBufferPointer<UInt8>, maxDepth: Int, scratch: ParserScratch) {
        self.buffer = buffer
        self.maxDepth = maxDepth
        memberStack = scratch.members
        valueStack = scratch.values
        strings = scratch.strings
    }

    mutating func skipBOM() {
        if buffer.count >= 3 && buffer[0] == 0xEF && buffer[1] == 0xBB && buffer[2] == 0xBF { offset = 3 }
    }

    @inline(__always)
    mutating func skipWhitespace() {
        while offset < buffer.count {
            switch buffer[offset] {
            case 0x20, 0x0A, 0x0D, 0x09: offset += 1
            default: return
            }
        }
    }

    func fail(_ message: String, at offset: Int? = nil) -> JSONFailure {
        JSONFailure(offset: offset ?? self.offset, message: message)
    }

    mutating func parseValue(depth: Int) throws(JSONFailure) -> JSON {
        guard offset < buffer.count else { throw fail("unexpected end of input, a value was expected") }
        switch buffer[offset] {
        case UInt8(ascii: "{"): return try parseObject(depth: depth + 1)
        case UInt8(ascii: "["): return try parseArray(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"):
            try expectLiteral("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try expectLiteral("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try expectLiteral("null")
            return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return .number(try parseNumber())
        case UInt8(ascii: "N"), UInt8(ascii: "I"):
            throw fail("NaN and Infinity are not JSON numbers")
        default:
            throw fail("unexpected \(describe(buffer, offset)), a value was expected")
        }
    }

    mutating func expectLiteral(_ literal: StaticString) throws(JSONFailure) {
        let count = literal.utf8CodeUnitCount
        let start = offset
        guard buffer.count - offset >= count else { throw fail("invalid literal, expected '\(literal)'", at: start) }
        let bytes = literal.utf8Start
        for index in 0..<count where buffer[offset + index] != bytes[index] {
            throw fail("invalid literal, expected '\(literal)'", at: start)
        }
        offset += count
    }

    mutating func parseObject(depth: Int) throws(JSONFailure) -> JSON {
        if depth > maxDepth { throw fail("nesting deeper than \(maxDepth) levels") }
        offset += 1  // {
        skipWhitespace()
        if offset < buffer.count && buffer[offset] == UInt8(ascii: "}") {
            offset += 1
            return .object(JSONObject())
        }
        let base = memberStack.count
        var keyBloom: UInt64 = 0
        var hasUnderscoredKey = false
        var seen: Set<String>? = nil
        while true {
            skipWhitespace()
            guard offset < buffer.count else { throw fail("unterminated object, expected a key or '}'") }
            guard buffer[offset] == UInt8(ascii: "\"") else {
                if buffer[offset] == UInt8(ascii: "}") { throw fail("trailing comma before '}'") }
                throw fail("unexpected \(describe(buffer, offset)), an object key in double quotes was expected")
            }
            let keyOffset = offset
            let key = try parseString()
            // The key's first byte as written; an escape (`\u005f`) is read from the key itself.
            let lead = buffer[keyOffset + 1]
            if lead == UInt8(ascii: "_") || (lead == UInt8(ascii: "\\") && key.firstByte == UInt8(ascii: "_")) {
                hasUnderscoredKey = true
            }
            // A bit per (length, first byte, last byte): keys whose bits differ cannot be equal, so the
            // scan for a duplicate runs only on a collision. (The bytes through contiguous storage, which
            // a parsed string always has: `String.UTF8View.last` steps back a generic index.)
            let bit =
                key.utf8.withContiguousStorageIfAvailable(Self.filterBit)
                ?? Array(key.utf8).withUnsafeBufferPointer(Self.filterBit)
            let mayRepeat = keyBloom & bit != 0
            keyBloom |= bit
            if memberStack.count - base < 64 {
                if mayRepeat && memberStack.contains(from: base, where: { $0.key == key }) {
                    throw fail("duplicate key \"\(key)\"", at: keyOffset)
                }
            } else {
                if seen == nil { seen = Set(memberStack.copyArray(from: base).map(\.key)) }
                if seen!.insert(key).inserted == false {  // Safe: set on the line above.
                    throw fail("duplicate key \"\(key)\"", at: keyOffset)
                }
            }
            skipWhitespace()
            guard offset < buffer.count, buffer[offset] == UInt8(ascii: ":") else {
                throw fail("expected ':' after the key \"\(key)\"")
            }
            offset += 1
            skipWhitespace()
            let value: JSON
            do {
                value = try parseValue(depth: depth)
            } catch {
                var failure = error
                failure.reversedPath.append(.key(key))
                throw failure
            }
            memberStack.push(JSONMember(key: consume key, value: consume value))
            skipWhitespace()
            guard offset < buffer.count else { throw fail("unterminated object, expected ',' or '}'") }
            switch buffer[offset] {
            case UInt8(ascii: ","):
                offset += 1
            case UInt8(ascii: "}"):
                offset += 1
                return .object(
                    JSONObject(uncheckedMembers: memberStack.popArray(from: base), hasUnderscoredKey: hasUnderscoredKey)
                )
            default:
                throw fail("unexpected \(describe(buffer, offset)), expected ',' or '}'")
            }
        }
    }

    /// A key's bit in an object's duplicate-key filter.
    static func filterBit(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        1 << ((bytes.count &* 31 &+ Int(bytes.first ?? 0) &* 7 &+ Int(bytes.last ?? 0)) & 63)
    }

    mutating func parseArray(depth: Int) throws(JSONFailure) -> JSON {
        if depth > maxDepth { throw fail("nesting deeper than \(maxDepth) levels") }
        offset += 1  // [
        skipWhitespace()
        if offset < buffer.count && buffer[offset] == UInt8(ascii: "]") {
            offset += 1
            return .array([])
        }
        let base = valueStack.count
        var index = 0
        while true {
            skipWhitespace()
            if offset < buffer.count && buffer[offset] == UInt8(ascii: "]") {
                throw fail("trailing comma before ']'")
            }
            do {
                valueStack.push(try parseValue(depth: depth))
                index += 1
            } catch {
                var failure = error
                failure.reversedPath.append(.index(index))
                throw failure
            }
            skipWhitespace()
            guard offset < buffer.count else { throw fail("unterminated array, expected ',' or ']'") }
            switch buffer[offset] {
            case UInt8(ascii: ","):
                offset += 1
            case UInt8(ascii: "]"):
                offset += 1
                return .array(valueStack.popArray(from: base))
            default:
                throw fail("unexpected \(describe(buffer, offset)), expected ',' or ']'")
            }
        }
    }

    /// Parses a string starting at the opening quote; validates UTF-8 and escapes. A string without
    /// escapes comes from `strings` when it was met before.
    mutating func parseString() throws(JSONFailure) -> String {
        let start = offset
        let contentStart = offset + 1
        // Fast path: no escapes. Eight bytes at a time up to the first byte that needs a look, with the
        // position in a local (the reader's `offset` is written back once, not at every word).
        // Safe: the buffer holds the opening quote, so it has a base address.
        let base = buffer.baseAddress!
        let count = buffer.count
        var cursor = contentStart
        while cursor < count {
            if count &- cursor >= 8 {
                // Safe: eight bytes from `cursor` lie inside the buffer (checked above).
                let word = UnsafeRawPointer(base + cursor).loadUnaligned(as: UInt64.self)
                let mask = JSONWord.specialBytes(UInt64(littleEndian: word))
                if mask == 0 {
                    cursor &+= 8
                    continue
                }
                cursor &+= mask.trailingZeroBitCount &>> 3
            }
            let byte = base[cursor]
            if byte == UInt8(ascii: "\"") {
                offset = cursor &+ 1
                return strings.string(buffer, from: contentStart, to: cursor)
            }
            if byte == UInt8(ascii: "\\") || byte < 0x20 { break }
            if byte < 0x80 {
                cursor &+= 1
            } else {
                offset = cursor
                cursor &+= try validUTF8ScalarLength()
            }
        }
        offset = cursor
        guard offset < buffer.count else { throw fail("unterminated string", at: start) }
        // Slow path: escapes or non-ASCII bytes.
        var bytes: [UInt8] = []
        bytes.reserveCapacity(offset - contentStart + 16)
        bytes.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[contentStart..<offset]))
        while offset < buffer.count {
            let byte = buffer[offset]
            switch byte {
            case UInt8(ascii: "\""):
                offset += 1
                return String(decoding: bytes, as: UTF8.self)
            case UInt8(ascii: "\\"):
                try parseEscape(into: &bytes)
            case 0..<0x20:
                throw fail(
                    "control character 0x\(String(byte, radix: 16, uppercase: true)) must be escaped in a string")
            case 0x80...:
                let length = try validUTF8ScalarLength()
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[offset..<offset + length]))
                offset += length
            default:
                bytes.append(byte)
                offset += 1
            }
        }
        throw fail("unterminated string", at: start)
    }

    mutating func parseEscape(into bytes: inout [UInt8]) throws(JSONFailure) {
        let escapeStart = offset
        offset += 1
        guard offset < buffer.count else { throw fail("unterminated escape sequence", at: escapeStart) }
        let byte = buffer[offset]
        offset += 1
        switch byte {
        case UInt8(ascii: "\""): bytes.append(UInt8(ascii: "\""))
        case UInt8(ascii: "\\"): bytes.append(UInt8(ascii: "\\"))
        case UInt8(ascii: "/"): bytes.append(UInt8(ascii: "/"))
        case UInt8(ascii: "b"): bytes.append(0x08)
        case UInt8(ascii: "f"): bytes.append(0x0C)
        case UInt8(ascii: "n"): bytes.append(0x0A)
        case UInt8(ascii: "r"): bytes.append(0x0D)
        case UInt8(ascii: "t"): bytes.append(0x09)
        case UInt8(ascii: "u"):
            var scalar = try parseHex4(escapeStart)
            if scalar >= 0xD800 && scalar < 0xDC00 {
                guard buffer.count - offset >= 6, buffer[offset] == UInt8(ascii: "\\"),
                    buffer[offset + 1] == UInt8(ascii: "u")
                else {
                    throw fail("lone high surrogate \\u\(String(scalar, radix: 16, uppercase: true))", at: escapeStart)
                }
                offset += 2
                let low = try parseHex4(escapeStart)
                guard low >= 0xDC00 && low < 0xE000 else {
                    throw fail("high surrogate not followed by a low surrogate", at: escapeStart)
                }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            } else if scalar >= 0xDC00 && scalar < 0xE000 {
                throw fail("lone low surrogate \\u\(String(scalar, radix: 16, uppercase: true))", at: escapeStart)
            }
            // Safe: surrogates were excluded above, so every remaining value is a scalar.
            bytes.append(contentsOf: String(Character(Unicode.Scalar(scalar)!)).utf8)
        default:
            throw fail("invalid escape sequence '\\\(Character(Unicode.Scalar(byte)))'", at: escapeStart)
        }
    }

    mutating func parseHex4(_ escapeStart: Int) throws(JSONFailure) -> UInt32 {
        guard buffer.count - offset >= 4 else { throw fail("truncated \\u escape", at: escapeStart) }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = buffer[offset]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw fail("invalid hex digit in \\u escape", at: escapeStart)
            }
            value = value << 4 | UInt32(digit)
            offset += 1
        }
        return value
    }

    /// The length of the valid multi-byte UTF-8 scalar at `offset`; invalid, overlong and surrogate
    /// sequences are errors.
    func validUTF8ScalarLength() throws(JSONFailure) -> Int {
        let lead = buffer[offset]
        let length: Int
        var minimum: UInt32
        var scalar: UInt32
        switch lead {
        case 0xC2...0xDF:
            length = 2
            minimum = 0x80
            scalar = UInt32(lead & 0x1F)
        case 0xE0...0xEF:
            length = 3
            minimum = 0x800
            scalar = UInt32(lead & 0x0F)
        case 0xF0...0xF4:
            length = 4
            minimum = 0x10000
            scalar = UInt32(lead & 0x07)
        default:
            throw fail("invalid UTF-8 byte 0x\(String(lead, radix: 16, uppercase: true))")
        }
        guard buffer.count - offset >= length else { throw fail("truncated UTF-8 sequence") }
        for index in 1..<length {
            let continuation = buffer[offset + index]
            guard continuation & 0xC0 == 0x80 else { throw fail("invalid UTF-8 sequence") }
            scalar = scalar << 6 | UInt32(continuation & 0x3F)
        }
        if scalar < minimum { throw fail("overlong UTF-8 sequence") }
        if scalar > 0x10FFFF || (scalar >= 0xD800 && scalar < 0xE000) { throw fail("invalid UTF-8 scalar") }
        return length
    }

    mutating func parseNumber() throws(JSONFailure) -> String {
        let start = offset
        if buffer[offset] == UInt8(ascii: "-") {
            offset += 1
            guard offset < buffer.count, isDigit(buffer[offset]) else {
                if offset < buffer.count && buffer[offset] == UInt8(ascii: "I") {
                    throw fail("NaN and Infinity are not JSON numbers", at: start)
                }
                throw fail("a digit must follow '-'", at: start)
            }
        }
        if buffer[offset] == UInt8(ascii: "0") {
            offset += 1
            if offset < buffer.count && isDigit(buffer[offset]) {
                throw fail("leading zeros are not allowed in numbers", at: start)
            }
        } else {
            while offset < buffer.count && isDigit(buffer[offset]) { offset += 1 }
        }
        var hasExponent = false
        if offset < buffer.count && buffer[offset] == UInt8(ascii: ".") {
            offset += 1
            guard offset < buffer.count, isDigit(buffer[offset]) else {
                throw fail("a digit must follow the decimal point", at: start)
            }
            while offset < buffer.count && isDigit(buffer[offset]) { offset += 1 }
        }
        if offset < buffer.count && (buffer[offset] == UInt8(ascii: "e") || buffer[offset] == UInt8(ascii: "E")) {
            hasExponent = true
            offset += 1
            if offset < buffer.count && (buffer[offset] == UInt8(ascii: "+") || buffer[offset] == UInt8(ascii: "-")) {
                offset += 1
            }
            guard offset < buffer.count, isDigit(buffer[offset]) else {
                throw fail("a digit must follow the exponent", at: start)
            }
            while offset < buffer.count && isDigit(buffer[offset]) { offset += 1 }
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: buffer[start..<offset]), as: UTF8.self)
        if hasExponent || offset - start > 300 {
            guard let value = Double(text), value.isFinite else {
                throw fail("number \(text.prefix(40)) is beyond the range of a double", at: start)
            }
        }
        return text
    }

    @inline(__always)
    func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
}

extension JSON {
    /// Parses a JSON document with the default limits.
    public init(parsing bytes: some Sequence<UInt8>) throws(FHIRError) {
        self = try JSONParser().parse(bytes)
    }

    /// Parses a JSON document from a string with the default limits.
    public init(parsing string: String) throws(FHIRError) {
        self = try JSONParser().parse(string)
    }
}

/// Eight bytes of a JSON string looked at at once, by the parser and the writer.
enum JSONWord {
    /// The high bit of each byte of `word` (first byte lowest) that is a quote, a backslash, a control
    /// character or part of a multi-byte scalar. Exact up to the lowest bit set: the borrow of a byte
    /// that hits may mark bytes above it, never below, so the lowest bit is always the first byte to look at.
    @inline(__always)
    static func specialBytes(_ word: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        let quote = word ^ (ones &* 0x22)
        let backslash = word ^ (ones &* 0x5C)
        let quotes = (quote &- ones) & ~quote
        let backslashes = (backslash &- ones) & ~backslash
        let controls = (word &- ones &* 0x20) & ~word
        return (quotes | backslashes | controls | word) & highs
    }
}
