import Crypto
import FHIR
import Foundation

/// A range of ids in byte order: after `lower` (exclusive) up to `upper` (inclusive); `nil` is open.
/// FHIR ids are ASCII letters, digits, `-` and `.`, so byte order is every database's `C` collation.
public struct IDRange: Sendable, Hashable, CustomStringConvertible {
    public var lower: String?
    public var upper: String?

    public init(after lower: String? = nil, through upper: String? = nil) {
        self.lower = lower
        self.upper = upper
    }

    /// Every id.
    public static let all = IDRange()

    public func contains(_ id: String) -> Bool {
        if let lower, !(id > lower) { return false }
        if let upper, id > upper { return false }
        return true
    }

    public var description: String { "(\(lower ?? "start"), \(upper ?? "end")]" }
}

/// How many records a range holds and the sum of their fingerprints: equal summaries, equal
/// records (to the fingerprint's 64 bits). Sums combine, so a range's summary is its halves' sum,
/// and a database computes one in a single pass without ordering.
public struct RangeSummary: Sendable, Hashable, Codable {
    public var count: Int
    public var sum: UInt64

    public init(count: Int = 0, sum: UInt64 = 0) {
        self.count = count
        self.sum = sum
    }

    public mutating func add(_ fingerprint: UInt64) {
        count += 1
        sum &+= fingerprint
    }

    public static func + (a: RangeSummary, b: RangeSummary) -> RangeSummary {
        RangeSummary(count: a.count + b.count, sum: a.sum &+ b.sum)
    }

    public static func - (a: RangeSummary, b: RangeSummary) -> RangeSummary {
        RangeSummary(count: a.count - b.count, sum: a.sum &- b.sum)
    }
}

/// A current resource's id and content hash (SHA-256 of its canonical content without version meta).
public struct IDHash: Sendable, Hashable {
    public var id: String
    public var hash: String

    public init(id: String, hash: String) {
        self.id = id
        self.hash = hash
    }
}

/// What a range summary adds up: per record, the first 8 bytes (big-endian) of MD5 over
/// `id|hash`. MD5 because PostgreSQL computes it natively; it guards against chance, not malice
/// (the content hash itself is SHA-256, and differing records are always compared by it).
public enum Fingerprint {
    /// The fingerprint of a record; with `idOnly`, of its id alone (for resources whose content is
    /// expected to differ, such as a Provenance's time of recording).
    public static func of(id: String, hash: String, idOnly: Bool = false) -> UInt64 {
        var md5 = Insecure.MD5()
        id.withUTF8Bytes { md5.update(bufferPointer: UnsafeRawBufferPointer($0)) }
        withUnsafeBytes(of: UInt8(ascii: "|")) { md5.update(bufferPointer: $0) }
        if !idOnly { hash.withUTF8Bytes { md5.update(bufferPointer: UnsafeRawBufferPointer($0)) } }
        return md5.finalize().withUnsafeBytes { bytes in
            var value: UInt64 = 0
            for byte in bytes.prefix(8) { value = value << 8 | UInt64(byte) }
            return value
        }
    }

    /// A sum that PostgreSQL wrote as a decimal (of signed 64-bit values), modulo 2⁶⁴.
    static func wrapping(decimal text: String) -> UInt64 {
        var value: UInt64 = 0
        for byte in text.utf8 where byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
            value = value &* 10 &+ UInt64(byte - UInt8(ascii: "0"))
        }
        return text.hasPrefix("-") ? 0 &- value : value
    }

    /// `wrapping(decimal:)` for tests.
    public static func wrappingForTesting(decimal text: String) -> UInt64 { wrapping(decimal: text) }

    /// The PostgreSQL expression of a row's fingerprint as a signed 64-bit integer.
    static func postgresExpression(idOnly: Bool) -> String {
        let text = idOnly ? "id || '|'" : "id || '|' || hash"
        return "('x' || substr(md5(\(text)), 1, 16))::bit(64)::bigint"
    }
}

/// The SQL condition of a range on `id`, its arguments, for both databases (`collate` is PostgreSQL's
/// `COLLATE "C"`, empty for SQLite whose text comparison is bytewise).
extension IDRange {
    func condition(collate: String) -> (text: String, arguments: [String]) {
        var parts: [String] = []
        var arguments: [String] = []
        if let lower {
            parts.append("id\(collate) > ?")
            arguments.append(lower)
        }
        if let upper {
            parts.append("id\(collate) <= ?")
            arguments.append(upper)
        }
        return (parts.map { " AND " + $0 }.joined(), arguments)
    }
}
