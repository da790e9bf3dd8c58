import Mapping

/// A field the matcher compares, and how: its comparison levels, from full agreement down to
/// disagreement, with a level for a value missing on either side (which weighs nothing).
public struct LinkField: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Hashable, Codable, CaseIterable {
        /// A person's name: exact (with term-frequency adjustment), Jaro–Winkler ≥ 0.92, ≥ 0.80, swapped
        /// with the other name field (given for family and family for given), one of the two crossed
        /// over, other.
        case name
        /// A birth date in any common layout: exact, day and month transposed, one edit, other.
        case date
        /// An identifier (SSN, MRN): exact, one edit, other.
        case identifier
        /// Free text such as a street: exact, Jaro–Winkler ≥ 0.90, ≥ 0.70, other.
        case text
        /// A code (sex, state, postcode): exact, other.
        case exact
        /// A phone number, digits only: exact, same last seven digits, one edit, other.
        case phone
    }

    public var column: String
    public var kind: Kind
    /// Whether an exact agreement weighs more for a rare value than for a common one.
    public var termFrequency: Bool

    public init(column: String, kind: Kind, termFrequency: Bool? = nil) {
        self.column = column
        self.kind = kind
        self.termFrequency = termFrequency ?? (kind == .name)
    }

    /// `column:kind`, as on the command line (`surname:name`, `dob:date`); a column alone is `text`.
    public init(parsing text: String) throws {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard (1...2).contains(parts.count), !parts[0].isEmpty else {
            throw LinkError("'\(text)' is not a field (COLUMN or COLUMN:KIND)")
        }
        let kindName = parts.count == 2 ? parts[1] : "text"
        guard let kind = Kind(rawValue: kindName) else {
            throw LinkError(
                "'\(kindName)' in '\(text)' is not a kind of field (\(Kind.allCases.map(\.rawValue).joined(separator: ", ")))"
            )
        }
        self.init(column: parts[0], kind: kind)
    }

    /// The names of the levels, index 0 being "missing".
    public var levels: [String] {
        switch kind {
        case .name:
            ["missing", "exact", "jaro-winkler ≥ 0.92", "jaro-winkler ≥ 0.80", "swapped", "crossed", "different"]
        case .date: ["missing", "exact", "day and month transposed", "one edit", "different"]
        case .identifier: ["missing", "exact", "one edit", "different"]
        case .text: ["missing", "exact", "jaro-winkler ≥ 0.90", "jaro-winkler ≥ 0.70", "different"]
        case .exact: ["missing", "exact", "different"]
        case .phone: ["missing", "exact", "same last seven digits", "one edit", "different"]
        }
    }

    /// The value as compared: lower case, spaces collapsed; dates as `yyyymmdd`; identifiers and
    /// phones as their letters and digits. Done on bytes (ASCII fast, other text through Swift's own
    /// lower-casing): a million records are normalized in about a second.
    func normalize(_ text: String) -> [UInt8] {
        var bytes = Array(text.utf8)
        if bytes.contains(where: { $0 >= 0x80 }) { bytes = Array(text.lowercased().utf8) }
        switch kind {
        case .date:
            let trimmed = Self.trimmed(bytes)
            if let date = Self.numericDate(trimmed) { return date }
            let text = String(decoding: trimmed, as: UTF8.self)
            if let value = Self.dateFormats.lazy.compactMap({ $0.parse(text) }).first {
                return Self.digits(value.year, 4) + Self.digits(value.month, 2) + Self.digits(value.day, 2)
            }
            return trimmed.filter { $0 >= 0x30 && $0 <= 0x39 }
        case .identifier, .phone:
            return bytes.compactMap { byte in
                switch byte {
                case 0x30...0x39, 0x61...0x7A: byte
                case 0x41...0x5A: byte + 0x20
                default: nil
                }
            }
        case .name, .text, .exact:
            var result: [UInt8] = []
            result.reserveCapacity(bytes.count)
            var space = false
            for byte in bytes {
                if byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D {
                    space = !result.isEmpty
                    continue
                }
                if space { result.append(0x20) }
                space = false
                result.append(byte >= 0x41 && byte <= 0x5A ? byte + 0x20 : byte)
            }
            return result
        }
    }

    static func trimmed(_ bytes: [UInt8]) -> ArraySlice<UInt8> {
        let isSpace = { (byte: UInt8) in byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D }
        guard let first = bytes.firstIndex(where: { !isSpace($0) }), let last = bytes.lastIndex(where: { !isSpace($0) })
        else { return [] }
        return bytes[first...last]
    }

    /// `yyyy-MM-dd`, `yyyyMMdd`, `MM/dd/yyyy` and `M/d/yyyy` read directly; `nil` for anything else.
    static func numericDate(_ text: ArraySlice<UInt8>) -> [UInt8]? {
        let bytes = Array(text)
        func number(_ range: Range<Int>) -> Int? {
            guard range.upperBound <= bytes.count, !range.isEmpty else { return nil }
            var value = 0
            for byte in bytes[range] {
                guard byte >= 0x30 && byte <= 0x39 else { return nil }
                value = value * 10 + Int(byte - 0x30)
            }
            return value
        }
        var year: Int?
        var month: Int?
        var day: Int?
        if bytes.count == 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-") {
            (year, month, day) = (number(0..<4), number(5..<7), number(8..<10))
        } else if bytes.count == 8 {
            (year, month, day) = (number(0..<4), number(4..<6), number(6..<8))
        } else if let slash = bytes.firstIndex(of: UInt8(ascii: "/")),
            let second = bytes[(slash + 1)...].firstIndex(of: UInt8(ascii: "/")), bytes.count - second == 5
        {
            (month, day, year) = (number(0..<slash), number((slash + 1)..<second), number((second + 1)..<bytes.count))
        }
        guard let year, let month, let day, (1...12).contains(month), (1...31).contains(day) else { return nil }
        return digits(year, 4) + digits(month, 2) + digits(day, 2)
    }

    static func digits(_ value: Int, _ width: Int) -> [UInt8] {
        var result = [UInt8](repeating: 0x30, count: width)
        var rest = value
        for position in stride(from: width - 1, through: 0, by: -1) {
            result[position] = UInt8(0x30 + rest % 10)
            rest /= 10
        }
        return result
    }

    static let dateFormats = [
        "yyyy-MM-dd", "MM/dd/yyyy", "M/d/yyyy", "yyyyMMdd", "dd-MMM-yyyy", "yyyy-MM-dd HH:mm:ss", "dd.MM.yyyy",
    ].map(LocalTimeFormat.init)

    /// The name of the level two raw values reach.
    public func compare(_ a: String, _ b: String) -> String {
        let left = normalize(a)
        let right = normalize(b)
        let level = left.withUnsafeBufferPointer { a in right.withUnsafeBufferPointer { b in self.level(a, b) } }
        return levels[level]
    }

    /// The level of names found each in the other name field of the other record (`Matcher` sets it).
    static let swappedLevel = 4
    /// The level of a first name field whose value, or whose partner's, stands in the other record's
    /// other name field, the rest differing (`Matcher` sets it).
    static let crossedLevel = 5

    /// The level two normalized values reach.
    func level(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Int {
        if a.isEmpty || b.isEmpty { return 0 }
        if a.elementsEqual(b) { return 1 }
        switch kind {
        case .name:
            let similarity = StringSimilarity.jaroWinkler(a, b)
            return similarity >= 0.92 ? 2 : similarity >= 0.80 ? 3 : 6
        case .text:
            let similarity = StringSimilarity.jaroWinkler(a, b)
            return similarity >= 0.90 ? 2 : similarity >= 0.70 ? 3 : 4
        case .date:
            if a.count == 8 && b.count == 8 && a[0..<4].elementsEqual(b[0..<4]) && a[4..<6].elementsEqual(b[6..<8])
                && a[6..<8].elementsEqual(b[4..<6])
            {
                return 2
            }
            return StringSimilarity.withinOneEdit(a, b) ? 3 : 4
        case .identifier:
            return StringSimilarity.withinOneEdit(a, b) ? 2 : 3
        case .exact:
            return 2
        case .phone:
            if a.count >= 7 && b.count >= 7 && a.suffix(7).elementsEqual(b.suffix(7)) { return 2 }
            return StringSimilarity.withinOneEdit(a, b) ? 3 : 4
        }
    }
}

public struct LinkError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
