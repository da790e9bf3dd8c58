/// Splits a FHIRPath expression into tokens, byte by byte, each with its position.
struct FHIRPathToken: Sendable, Equatable {
    enum Kind: Sendable, Equatable {
        /// A name: a plain identifier (`given`, `and`, `where`) or a delimited one (`` `div` ``).
        case identifier(String, isDelimited: Bool)
        case string(String)
        /// A number as written (`1`, `1.50`); `isLong` for the `L` suffix.
        case number(String, isLong: Bool)
        /// A date, date-time or time literal, without the `@`.
        case temporal(FHIRPathTemporal)
        /// `%name`, `%'name'` or ``%`name` ``.
        case constant(String)
        /// `$this`, `$index`, `$total`.
        case special(String)
        case symbol(String)
        case end
    }

    var kind: Kind
    /// The 0-based byte offset of the token's first byte.
    var offset: Int
}

struct FHIRPathLexer {
    private let bytes: [UInt8]
    private let text: String
    private var position = 0

    init(_ text: String) {
        self.text = text
        self.bytes = Array(text.utf8)
    }

    /// Every token of the expression, ending with `.end`.
    mutating func tokens() throws(FHIRError) -> [FHIRPathToken] {
        var tokens: [FHIRPathToken] = []
        while true {
            try skipSpaceAndComments()
            let start = position
            guard position < bytes.count else {
                tokens.append(FHIRPathToken(kind: .end, offset: start))
                return tokens
            }
            tokens.append(FHIRPathToken(kind: try token(), offset: start))
        }
    }

    private func error(_ message: String, at offset: Int) -> FHIRError {
        FHIRPathSyntax.error(message, in: text, at: offset)
    }

    private mutating func skipSpaceAndComments() throws(FHIRError) {
        while position < bytes.count {
            let byte = bytes[position]
            if byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D {
                position += 1
            } else if byte == UInt8(ascii: "/"), peek(1) == UInt8(ascii: "/") {
                while position < bytes.count, bytes[position] != 0x0A { position += 1 }
            } else if byte == UInt8(ascii: "/"), peek(1) == UInt8(ascii: "*") {
                let start = position
                position += 2
                while position < bytes.count, !(bytes[position] == UInt8(ascii: "*") && peek(1) == UInt8(ascii: "/")) {
                    position += 1
                }
                guard position < bytes.count else { throw error("the comment is not closed with */", at: start) }
                position += 2
            } else {
                return
            }
        }
    }

    private func peek(_ distance: Int) -> UInt8? {
        position + distance < bytes.count ? bytes[position + distance] : nil
    }

    private static func isDigit(_ byte: UInt8?) -> Bool {
        guard let byte else { return false }
        return byte >= 0x30 && byte <= 0x39
    }

    private static func isIdentifierStart(_ byte: UInt8) -> Bool {
        (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || byte == UInt8(ascii: "_")
    }

    private static func isIdentifierPart(_ byte: UInt8) -> Bool {
        isIdentifierStart(byte) || isDigit(byte)
    }

    private mutating func token() throws(FHIRError) -> FHIRPathToken.Kind {
        let start = position
        let byte = bytes[position]
        if Self.isIdentifierStart(byte) {
            while position < bytes.count, Self.isIdentifierPart(bytes[position]) { position += 1 }
            return .identifier(substring(start, position), isDelimited: false)
        }
        if Self.isDigit(byte) { return number() }
        switch byte {
        case UInt8(ascii: "'"):
            return .string(try quoted(terminator: UInt8(ascii: "'")))
        case UInt8(ascii: "`"):
            return .identifier(try quoted(terminator: UInt8(ascii: "`")), isDelimited: true)
        case UInt8(ascii: "@"):
            position += 1
            return .temporal(try temporal(start: start))
        case UInt8(ascii: "%"):
            position += 1
            guard position < bytes.count else { throw error("a name must follow %", at: start) }
            if bytes[position] == UInt8(ascii: "'") { return .constant(try quoted(terminator: UInt8(ascii: "'"))) }
            if bytes[position] == UInt8(ascii: "`") { return .constant(try quoted(terminator: UInt8(ascii: "`"))) }
            let nameStart = position
            while position < bytes.count, Self.isIdentifierPart(bytes[position]) || bytes[position] == UInt8(ascii: "-")
            {
                position += 1
            }
            guard position > nameStart else { throw error("a name must follow %", at: start) }
            return .constant(substring(nameStart, position))
        case UInt8(ascii: "$"):
            position += 1
            let nameStart = position
            while position < bytes.count, Self.isIdentifierPart(bytes[position]) { position += 1 }
            let name = substring(nameStart, position)
            guard ["this", "index", "total"].contains(name) else {
                throw error("unknown special variable $\(name); FHIRPath has $this, $index and $total", at: start)
            }
            return .special(name)
        default:
            break
        }
        let two = peek(1).map { String(decoding: [byte, $0], as: UTF8.self) } ?? ""
        if ["<=", ">=", "!=", "!~"].contains(two) {
            position += 2
            return .symbol(two)
        }
        let single = String(decoding: [byte], as: UTF8.self)
        if "+-*/&|=~<>()[]{},.".contains(single) {
            position += 1
            return .symbol(single)
        }
        throw error("unexpected character '\(Self.character(at: start, in: bytes))'", at: start)
    }

    private static func character(at offset: Int, in bytes: [UInt8]) -> String {
        var end = offset + 1
        while end < bytes.count, bytes[end] & 0xC0 == 0x80 { end += 1 }
        return String(decoding: bytes[offset..<end], as: UTF8.self)
    }

    private func substring(_ start: Int, _ end: Int) -> String {
        String(decoding: bytes[start..<end], as: UTF8.self)
    }

    private mutating func number() -> FHIRPathToken.Kind {
        let start = position
        while Self.isDigit(peek(0)) { position += 1 }
        if peek(0) == UInt8(ascii: "."), Self.isDigit(peek(1)) {
            position += 1
            while Self.isDigit(peek(0)) { position += 1 }
        }
        let text = substring(start, position)
        if peek(0) == UInt8(ascii: "L"), !(peek(1).map(Self.isIdentifierPart) ?? false) {
            position += 1
            return .number(text, isLong: true)
        }
        return .number(text, isLong: false)
    }

    /// A `'…'` string or `` `…` `` name with FHIRPath's escapes (`\'`, `` \` ``, `\\`, `\/`, `\f`, `\n`, `\r`, `\t`, `\uXXXX`).
    private mutating func quoted(terminator: UInt8) throws(FHIRError) -> String {
        let start = position
        position += 1
        var output: [UInt8] = []
        while true {
            guard position < bytes.count else { throw error("the string is not closed", at: start) }
            let byte = bytes[position]
            if byte == terminator {
                position += 1
                return String(decoding: output, as: UTF8.self)
            }
            guard byte == UInt8(ascii: "\\") else {
                output.append(byte)
                position += 1
                continue
            }
            guard let escaped = peek(1) else { throw error("the string ends inside an escape", at: position) }
            position += 2
            switch escaped {
            case UInt8(ascii: "'"), UInt8(ascii: "\""), UInt8(ascii: "`"), UInt8(ascii: "\\"), UInt8(ascii: "/"):
                output.append(escaped)
            case UInt8(ascii: "f"): output.append(0x0C)
            case UInt8(ascii: "n"): output.append(0x0A)
            case UInt8(ascii: "r"): output.append(0x0D)
            case UInt8(ascii: "t"): output.append(0x09)
            case UInt8(ascii: "u"):
                guard position + 4 <= bytes.count,
                    let scalarValue = UInt32(substring(position, position + 4), radix: 16)
                else { throw error("\\u must be followed by four hexadecimal digits", at: position - 2) }
                position += 4
                var scalar = Unicode.Scalar(scalarValue)
                // A surrogate pair written as two escapes.
                if scalar == nil, (0xD800..<0xDC00).contains(scalarValue), peek(0) == UInt8(ascii: "\\"),
                    peek(1) == UInt8(ascii: "u"), position + 6 <= bytes.count,
                    let low = UInt32(substring(position + 2, position + 6), radix: 16), (0xDC00..<0xE000).contains(low)
                {
                    scalar = Unicode.Scalar(0x10000 + ((scalarValue - 0xD800) << 10) + (low - 0xDC00))
                    position += 6
                }
                guard let scalar else {
                    throw error("\\u\(substring(position - 4, position)) is not a character", at: position - 6)
                }
                output.append(contentsOf: Array(String(Character(scalar)).utf8))
            default:
                throw error("unknown escape \\\(Self.character(at: position - 1, in: bytes))", at: position - 2)
            }
        }
    }

    /// A date, date-time or time literal after `@`; the grammar of the FHIRPath specification.
    private mutating func temporal(start: Int) throws(FHIRError) -> FHIRPathTemporal {
        let bodyStart = position
        func digits(_ count: Int) -> Bool {
            for distance in 0..<count where !Self.isDigit(peek(distance)) { return false }
            position += count
            return true
        }
        func timePart() throws(FHIRError) {
            guard digits(2) else { throw error("a time needs a two-digit hour", at: start) }
            if peek(0) == UInt8(ascii: ":"), Self.isDigit(peek(1)) {
                position += 1
                guard digits(2) else { throw error("a time needs two-digit minutes", at: start) }
                if peek(0) == UInt8(ascii: ":"), Self.isDigit(peek(1)) {
                    position += 1
                    guard digits(2) else { throw error("a time needs two-digit seconds", at: start) }
                    if peek(0) == UInt8(ascii: "."), Self.isDigit(peek(1)) {
                        position += 1
                        while Self.isDigit(peek(0)) { position += 1 }
                    }
                }
            }
        }
        func timeZone() throws(FHIRError) {
            if peek(0) == UInt8(ascii: "Z") {
                position += 1
            } else if peek(0) == UInt8(ascii: "+") || peek(0) == UInt8(ascii: "-"), Self.isDigit(peek(1)) {
                position += 1
                guard digits(2), peek(0) == UInt8(ascii: ":") else {
                    throw error("a time zone is written +hh:mm or -hh:mm", at: start)
                }
                position += 1
                guard digits(2) else { throw error("a time zone is written +hh:mm or -hh:mm", at: start) }
            }
        }
        if peek(0) == UInt8(ascii: "T") {
            position += 1
            try timePart()
            if peek(0) == UInt8(ascii: "Z") || peek(0) == UInt8(ascii: "+") || peek(0) == UInt8(ascii: "-"),
                peek(0) == UInt8(ascii: "Z") || Self.isDigit(peek(1))
            {
                throw error("a time literal cannot have a time zone", at: start)
            }
        } else {
            guard digits(4) else { throw error("a date needs a four-digit year after @", at: start) }
            if peek(0) == UInt8(ascii: "-"), Self.isDigit(peek(1)) {
                position += 1
                guard digits(2) else { throw error("a date needs a two-digit month", at: start) }
                if peek(0) == UInt8(ascii: "-"), Self.isDigit(peek(1)) {
                    position += 1
                    guard digits(2) else { throw error("a date needs a two-digit day", at: start) }
                }
            }
            if peek(0) == UInt8(ascii: "T") {
                position += 1
                if Self.isDigit(peek(0)) { try timePart() }
                try timeZone()
            }
        }
        let body = substring(bodyStart, position)
        guard let value = FHIRPathTemporal(literal: body) else {
            throw error("@\(body) is not a valid date, date-time or time", at: start)
        }
        return value
    }
}
