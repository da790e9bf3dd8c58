/// Checks the text of FHIR primitive values against the rules of the R4 specification.
///
/// Each check matches the regular expression that the specification gives for the type (the tests
/// compare them with the regexes in the definitions on thousands of inputs) and adds the rules the
/// regexes leave out: real calendar dates, the 32-bit range of integers, no control characters in
/// strings, the 1 MB limit.
package enum PrimitiveFormat {
    /// The problem with `text` as a value of the primitive type named `type`, or `nil` when it is valid.
    package static func problem(type: String, text: String) -> String? {
        guard let primitive = PrimitiveType(code: type) else { return nil }
        return problem(primitive, text: text)
    }

    /// The problem with `text` as a value of `type`, or `nil` when it is valid.
    static func problem(_ type: PrimitiveType, text: String) -> String? {
        text.withUTF8Bytes { problem(type, bytes: $0) }
    }

    static func problem(_ type: PrimitiveType, bytes: UnsafeBufferPointer<UInt8>) -> String? {
        switch type {
        case .string, .markdown: return stringProblem(bytes)
        case .code: return codeProblem(bytes)
        case .id: return idProblem(bytes)
        case .uri, .url, .canonical:
            if bytes.isEmpty { return "must not be empty" }
            // Every whitespace byte is below 0x21.
            guard hasByte(below: 0x21, in: bytes) else { return nil }
            return bytes.contains(where: isWhitespace) ? "must not contain whitespace" : nil
        case .oid: return oidProblem(bytes)
        case .uuid: return uuidProblem(bytes)
        case .boolean:
            return bytes.elementsEqual("true".utf8) || bytes.elementsEqual("false".utf8) ? nil : "must be true or false"
        case .integer: return integerProblem(bytes, minimum: Int64(Int32.min))
        case .unsignedInt: return integerProblem(bytes, minimum: 0, allowSign: false)
        case .positiveInt: return integerProblem(bytes, minimum: 1, allowSign: false)
        case .decimal: return decimalProblem(bytes)
        case .date: return dateTimeProblem(bytes, allowTime: false, requireTime: false)
        case .dateTime: return dateTimeProblem(bytes, allowTime: true, requireTime: false)
        case .instant: return dateTimeProblem(bytes, allowTime: true, requireTime: true)
        case .time:
            var scanner = ByteScanner(bytes: bytes)
            guard scanner.time(), scanner.atEnd else { return "must be a time hh:mm:ss[.fff]" }
            return nil
        case .base64Binary: return base64Problem(bytes)
        case .xhtml: return xhtmlProblem(bytes)
        }
    }

    @inline(__always)
    static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D || byte == 0x0B || byte == 0x0C
    }

    /// Whether a byte of `bytes` is below `limit` (at most 0x80), eight bytes at a time: the common
    /// case of a check (no control character, no whitespace) costs a few instructions a word.
    @inline(__always)
    static func hasByte(below limit: UInt8, in bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        var offset = 0
        if let base = bytes.baseAddress {
            while bytes.count - offset >= 8 {
                let word = UInt64(littleEndian: UnsafeRawPointer(base + offset).loadUnaligned(as: UInt64.self))
                if (word &- ones &* UInt64(limit)) & ~word & (ones &* 0x80) != 0 { return true }
                offset += 8
            }
        }
        while offset < bytes.count {
            if bytes[offset] < limit { return true }
            offset += 1
        }
        return false
    }

    private static func stringProblem(_ bytes: UnsafeBufferPointer<UInt8>) -> String? {
        if bytes.isEmpty { return "must not be empty (leave the element out instead)" }
        if bytes.count > 1_048_576 { return "is longer than 1 MB" }
        guard hasByte(below: 0x20, in: bytes) else { return nil }
        for byte in bytes where byte < 0x20 && byte != 0x09 && byte != 0x0A && byte != 0x0D {
            return "contains the control character 0x\(String(byte, radix: 16, uppercase: true))"
        }
        return nil
    }

    private static func codeProblem(_ bytes: UnsafeBufferPointer<UInt8>) -> String? {
        if bytes.isEmpty { return "must not be empty" }
        // No whitespace and no control character (all below 0x21): nothing more to look at but the size.
        if !hasByte(below: 0x21, in: bytes) { return bytes.count > 1_048_576 ? "is longer than 1 MB" : nil }
        if isWhitespace(bytes[0]) || isWhitespace(bytes[bytes.count - 1]) {
            return "must not start or end with whitespace"
        }
        var previousWasSpace = false
        for byte in bytes {
            if isWhitespace(byte) {
                if previousWasSpace { return "must not contain consecutive whitespace" }
                previousWasSpace = true
            } else {
                previousWasSpace = false
            }
        }
        return stringProblem(bytes)
    }

    private static func idProblem(_ bytes: UnsafeBufferPointer<UInt8>) -> String? {
        if bytes.isEmpty || bytes.count > 64 { return "must be 1 to 64 characters" }
        return ASCIIBytes.idBytes.containsAll(bytes) ? nil : "may contain only letters, digits, '-' and '.'"
    }

    private static func oidProblem(_ bytes: UnsafeBufferPointer<UInt8>) -> String? {
        var scanner = ByteScanner(bytes: bytes)
        let message = "must be urn:oid: followed by a dotted number starting 0, 1 or 2"
        guard scanner.literal("urn:oid:"), let first = scanner.peek(), first >= UInt8(ascii: "0"),
            first <= UInt8(ascii: "2")
        else { return message }
        scanner.offset += 1
        var arcs = 0
        while scanner.literal(".") {
            guard scanner.unsignedNumberWithoutLeadingZero() else { return message }
            arcs += 1
        }
        return arcs > 0 && scanner.atEnd ? nil : message
    }

    private static func uuidProblem(_ bytes: UnsafeBufferPointer<UInt8>) -> String? {
        let message = "must be urn:uuid: followed by a lowercase UUID"
        var scanner = ByteScanner(bytes: bytes)
        guard scanner.literal("urn:uuid:") else { return message }
        for (index, group) in [8, 4, 4, 4, 12].enumerated() {
            if index > 0 && !scanner.literal("-") { return message }
            for _ in 0..<group {
                guard let byte = scanner.peek(),
                    (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
                        || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "f"))
                else { return message }
                scanner.offset += 1
            }
        }
        return scanner.atEnd ? nil : message
    }

    private static func integerProblem(
        _ bytes: UnsafeBufferPointer<UInt8>,
        minimum: Int64,
        allowSign: Bool = true
    ) -> String? {
        var scanner = ByteScanner(bytes: bytes)
        let negative = allowSign && scanner.literal("-")
        let start = scanner.offset
        guard scanner.unsignedNumberWithoutLeadingZero(), scanner.atEnd else {
            return minimum == 1 ? "must be a positive whole number" : "must be a whole number"
        }
        if scanner.offset - start > 10 { return "is beyond the 32-bit range" }
        var value: Int64 = 0
        for byte in bytes[start...] { value = value * 10 + Int64(byte - UInt8(ascii: "0")) }
        if negative { value = -value }
        if value < minimum { return minimum == 1 ? "must be at least 1" : "must not be below \(minimum)" }
        if value > Int64(Int32.max) { return "is beyond the 32-bit range" }
        return nil
    }

    private static func decimalProblem(_ bytes: UnsafeBufferPointer<UInt8>) -> String? {
        var scanner = ByteScanner(bytes: bytes)
        let message = "must be a decimal number"
        _ = scanner.literal("-")
        guard scanner.unsignedNumberWithoutLeadingZero() else { return message }
        if scanner.literal(".") { guard scanner.digits(atLeast: 1) else { return message } }
        if scanner.literal("e") || scanner.literal("E") {
            _ = scanner.literal("+") || scanner.literal("-")
            guard scanner.digits(atLeast: 1) else { return message }
        }
        return scanner.atEnd ? nil : message
    }

    private static func dateTimeProblem(
        _ bytes: UnsafeBufferPointer<UInt8>,
        allowTime: Bool,
        requireTime: Bool
    ) -> String? {
        let expected =
            requireTime
            ? "must be an instant YYYY-MM-DDThh:mm:ss[.fff]Z or ±hh:mm"
            : allowTime
                ? "must be a dateTime YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm:ss[.fff] with a zone"
                : "must be a date YYYY, YYYY-MM or YYYY-MM-DD"
        var scanner = ByteScanner(bytes: bytes)
        guard let year = scanner.fixedNumber(digits: 4), year > 0 else { return expected }
        if scanner.atEnd { return requireTime ? expected : nil }
        guard scanner.literal("-"), let month = scanner.fixedNumber(digits: 2), (1...12).contains(month) else {
            return expected
        }
        if scanner.atEnd { return requireTime ? expected : nil }
        guard scanner.literal("-"), let day = scanner.fixedNumber(digits: 2), day >= 1 else { return expected }
        if day > daysIn(month: month, year: year) { return "\(expected): day \(day) does not exist in that month" }
        if scanner.atEnd { return requireTime ? expected : nil }
        guard allowTime, scanner.literal("T"), scanner.time() else { return expected }
        if scanner.literal("Z") { return scanner.atEnd ? nil : expected }
        guard scanner.literal("+") || scanner.literal("-"), let hours = scanner.fixedNumber(digits: 2),
            scanner.literal(":"), let minutes = scanner.fixedNumber(digits: 2), scanner.atEnd
        else { return expected }
        if hours == 14 && minutes == 0 { return nil }
        return hours <= 13 && minutes <= 59 ? nil : expected
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    private static func base64Problem(_ bytes: UnsafeBufferPointer<UInt8>) -> String? {
        var count = 0
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "+"), UInt8(ascii: "/"), UInt8(ascii: "="):
                count += 1
            case _ where isWhitespace(byte):
                // The specification allows whitespace only between groups of four characters.
                if count % 4 != 0 { return "must be base64 in groups of four characters" }
            default: return "must be base64 (A-Z, a-z, 0-9, +, /, =)"
            }
        }
        return count > 0 && count % 4 == 0 ? nil : "must be base64 in groups of four characters"
    }

    private static func xhtmlProblem(_ bytes: UnsafeBufferPointer<UInt8>) -> String? {
        var scanner = ByteScanner(bytes: bytes)
        while let byte = scanner.peek(), isWhitespace(byte) { scanner.offset += 1 }
        guard scanner.literal("<div") else { return "narrative must be an xhtml <div> element" }
        return nil
    }
}

/// A cursor over bytes for the small grammars of primitive types.
struct ByteScanner {
    let bytes: UnsafeBufferPointer<UInt8>
    var offset = 0

    var atEnd: Bool { offset == bytes.count }

    func peek() -> UInt8? { offset < bytes.count ? bytes[offset] : nil }

    mutating func literal(_ text: StaticString) -> Bool {
        let count = text.utf8CodeUnitCount
        guard bytes.count - offset >= count else { return false }
        for index in 0..<count where bytes[offset + index] != text.utf8Start[index] { return false }
        offset += count
        return true
    }

    mutating func digits(atLeast minimum: Int) -> Bool {
        let start = offset
        while let byte = peek(), byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") { offset += 1 }
        return offset - start >= minimum
    }

    /// `0` or a digit 1–9 followed by digits.
    mutating func unsignedNumberWithoutLeadingZero() -> Bool {
        guard let first = peek(), first >= UInt8(ascii: "0"), first <= UInt8(ascii: "9") else { return false }
        if first == UInt8(ascii: "0") {
            offset += 1
            if let next = peek(), next >= UInt8(ascii: "0"), next <= UInt8(ascii: "9") { return false }
            return true
        }
        return digits(atLeast: 1)
    }

    mutating func fixedNumber(digits count: Int) -> Int? {
        guard bytes.count - offset >= count else { return nil }
        var value = 0
        for index in 0..<count {
            let byte = bytes[offset + index]
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        offset += count
        return value
    }

    /// `hh:mm:ss[.fff]` with hours 00–23, minutes 00–59 and seconds 00–60.
    mutating func time() -> Bool {
        guard let hours = fixedNumber(digits: 2), hours <= 23, literal(":"),
            let minutes = fixedNumber(digits: 2), minutes <= 59, literal(":"),
            let seconds = fixedNumber(digits: 2), seconds <= 60
        else { return false }
        if literal(".") { return digits(atLeast: 1) }
        return true
    }
}
