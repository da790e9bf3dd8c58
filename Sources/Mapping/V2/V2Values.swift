import FHIR
import Foundation
import HL7v2
import Synchronization

/// A piece of a message a map reads: a field repetition (split by components), a component (split
/// by subcomponents) or a subcomponent, still escaped.
struct V2Piece {
    let raw: Substring
    /// 0 field repetition, 1 component, 2 subcomponent.
    let level: Int

    /// Component or subcomponent `number` (1-based) of this piece, or `nil` when empty.
    func part(_ number: Int, _ separators: HL7Separators) -> V2Piece? {
        let separator: UInt8? =
            switch level {
            case 0: separators.component
            case 1: separators.subcomponent
            default: nil
            }
        guard let separator else { return number == 1 ? self : nil }
        // Separators are bytes: found over the contiguous bytes (stepping `Substring.UTF8View`
        // indices cost several times as much a byte), then cut once.
        let bounds = raw.withUTF8Bytes { bytes -> (Int, Int)? in
            var index = 1
            var start = 0
            for position in 0..<bytes.count where bytes[position] == separator {
                if index == number { return (start, position) }
                index += 1
                start = position + 1
            }
            return index == number ? (start, bytes.count) : nil
        }
        guard let (start, end) = bounds else { return nil }
        return Self.nonEmpty(Self.slice(raw, start, end), level + 1)
    }

    /// Every component (or subcomponent) of this piece, found in one pass: `parts[n - 1]` is
    /// `part(n)` (`V2Piece.part(_:in:)` reads it), for a map that reads several.
    func parts(_ separators: HL7Separators) -> [V2Piece?] {
        let separator: UInt8? =
            switch level {
            case 0: separators.component
            case 1: separators.subcomponent
            default: nil
            }
        guard let separator else { return [self] }
        var parts: [V2Piece?] = []
        // One allocation: the separators counted first (growing the list as found cost one per doubling).
        parts.reserveCapacity(1 + raw.withUTF8Bytes { bytes in bytes.reduce(0) { $1 == separator ? $0 + 1 : $0 } })
        Self.slices(of: raw, between: separator) { parts.append(Self.nonEmpty($0, level + 1)) }
        return parts
    }

    /// Each slice of `text` between `separator` bytes, empty ones included, stepped over as bytes (the
    /// standard library's generic `split` cost 4 % of a conversion).
    static func slices(of text: Substring, between separator: UInt8, _ body: (Substring) -> Void) {
        text.withUTF8Bytes { bytes in
            var start = 0
            for position in 0..<bytes.count where bytes[position] == separator {
                body(slice(text, start, position))
                start = position + 1
            }
            body(slice(text, start, bytes.count))
        }
    }

    /// The bytes of `text` from offset `start` to `end` (offsets of a native string's UTF-8 are
    /// indices in constant time).
    static func slice(_ text: Substring, _ start: Int, _ end: Int) -> Substring {
        let utf8 = text.utf8
        let lower = utf8.index(utf8.startIndex, offsetBy: start)
        return text[lower..<utf8.index(lower, offsetBy: end - start)]
    }

    /// Component `number` (1-based) from `parts(_:)`.
    static func part(_ number: Int, in parts: [V2Piece?]) -> V2Piece? {
        number >= 1 && number <= parts.count ? parts[number - 1] : nil
    }

    /// The decoded text, or `nil` for empty and for the explicit null `""`.
    func text(_ separators: HL7Separators) -> String? {
        // Most values: no escapes, nothing to trim (looked at over the contiguous bytes).
        let plain = raw.withUTF8Bytes { bytes -> Bool? in
            guard let first = bytes.first, let last = bytes.last else { return nil }
            if bytes.count == 2, first == UInt8(ascii: "\""), last == UInt8(ascii: "\"") { return nil }
            return first > 0x20 && first < 0x80 && last > 0x20 && last < 0x80
                && (separators.escape.map { !bytes.contains($0) } ?? true)
        }
        guard let plain else { return nil }
        if plain { return String(raw) }
        let text = Self.trimmed(HL7Escaping.decode(String(raw), separators: separators))
        return text.isEmpty ? nil : text
    }

    /// The text without leading and trailing spaces and tabs (Unicode space separators included).
    static func trimmed(_ text: String) -> String {
        func isSpace(_ scalar: Unicode.Scalar) -> Bool {
            scalar == "\t" || scalar.properties.generalCategory == .spaceSeparator
        }
        let scalars = text.unicodeScalars
        guard let start = scalars.firstIndex(where: { !isSpace($0) }),
            let end = scalars.lastIndex(where: { !isSpace($0) })
        else { return "" }
        return String(scalars[start...end])
    }

    static func nonEmpty(_ raw: Substring, _ level: Int) -> V2Piece? {
        raw.isEmpty ? nil : V2Piece(raw: raw, level: level)
    }

    /// The repetitions of a field, empty ones left out.
    static func repetitions(_ field: String?, _ separators: HL7Separators) -> [V2Piece] {
        guard let field, !field.isEmpty else { return [] }
        var pieces: [V2Piece] = []
        slices(of: Substring(field), between: separators.repetition) {
            if let piece = nonEmpty($0, 0) { pieces.append(piece) }
        }
        return pieces
    }
}

/// What a map row's assignment column writes.
enum V2Assignment: Sendable {
    /// A constant (`instance`, an extension url).
    case literal(String)
    /// A constant before the source's value (`"urn:oid:"+HD.2`).
    case prefixed(String)
    /// An expression over several components (`OBX-5.1+" "+OBX-5.2…`): the value as it stands.
    case sourceValue
    /// A note to the implementer (`/map HL7 code system to appropriate url/`): the value is mapped as usual.
    case instruction

    init(_ text: String) {
        if text.hasPrefix("/") {
            self = .instruction
        } else if text.filter({ $0 == "+" }).count > 1 || (text.contains("+") && !text.hasPrefix("\"")) {
            self = .sourceValue
        } else if let plus = text.range(of: "\"+") {
            self = .prefixed(text[..<plus.lowerBound].trimmingCharacters(in: CharacterSet(charactersIn: "\"")))
        } else {
            self = .literal(text)
        }
    }

    /// The text written for a piece; `nil` for an instruction, which leaves the value to the maps.
    func text(_ piece: V2Piece, _ separators: HL7Separators) -> String? {
        switch self {
        case .literal(let text): text
        case .prefixed(let prefix): piece.part(1, separators)?.text(separators).map { prefix + $0 }
        case .sourceValue: piece.part(1, separators)?.text(separators)
        case .instruction: nil
        }
    }

    var isInstruction: Bool {
        if case .instruction = self { true } else { false }
    }
}

/// Turns v2 text into FHIR primitive values.
struct V2Primitives {
    /// The zone of timestamps that carry no offset.
    let senderZone: TimeZone

    /// The extension that keeps a timestamp as the sender wrote it when Ferry had to supply its zone.
    static let originalTimestampURL = "https://ferry.health/fhir/StructureDefinition/hl7v2-original-timestamp"

    /// The FHIR value for a primitive type, plus the original text when a zone was supplied; `nil`
    /// when the text cannot be that type.
    func value(_ text: String, as type: String) -> (JSON, original: String?)? {
        // Most values are strings and codes, kept as they are: told apart by the type's first byte
        // before the comparisons below (a dozen string comparisons a value).
        switch type.utf8.first {
        case UInt8(ascii: "d"), UInt8(ascii: "i"), UInt8(ascii: "t"), UInt8(ascii: "b"), UInt8(ascii: "p"),
            UInt8(ascii: "u"):
            break
        default:
            return (.string(text), nil)
        }
        switch type {
        case "date":
            return Self.date(text).map { (.string($0), nil) }
        case "dateTime", "instant":
            return dateTime(text, instant: type == "instant")
        case "time":
            let digits = text.prefix { $0.isNumber }
            guard digits.count >= 4 else { return nil }
            let d = Array(digits)
            let seconds = d.count >= 6 ? String(d[4..<6]) : "00"
            return (.string("\(String(d[0..<2])):\(String(d[2..<4])):\(seconds)"), nil)
        case "boolean":
            switch text.uppercased() {
            case "Y", "YES", "TRUE", "T", "1": return (.bool(true), nil)
            case "N", "NO", "FALSE", "F", "0": return (.bool(false), nil)
            default: return nil
            }
        case "integer", "positiveInt", "unsignedInt":
            guard let number = Int(text) else { return nil }
            if type == "positiveInt", number < 1 { return nil }
            if type == "unsignedInt", number < 0 { return nil }
            return (.number(String(number)), nil)
        case "decimal":
            guard Double(text) != nil, text.allSatisfy({ $0.isNumber || $0 == "." || $0 == "-" || $0 == "+" }) else {
                return nil
            }
            var normalized = text.hasPrefix("+") ? String(text.dropFirst()) : text
            if normalized.hasPrefix(".") { normalized = "0" + normalized }
            if normalized.hasPrefix("-.") { normalized = "-0" + normalized.dropFirst() }
            if normalized.hasSuffix(".") { normalized += "0" }
            return (.number(normalized), nil)
        default:
            return (.string(text), nil)
        }
    }

    /// `YYYY[MM[DD]]…` → `YYYY[-MM[-DD]]`.
    /// The UTC moment (seconds since 1970) of a local time (seconds since 1970 on the local clock), as
    /// Foundation's calendar decides it: a time that occurs twice when the clocks go back is the
    /// first; a time skipped when they go forward is moved forward by the gap.
    static func utc(local: Int, zone: TimeZone) -> Int {
        func offset(_ seconds: Int) -> Int {
            zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(seconds)))
        }
        // Most days are days without a clock change around them: their offset, once found, is kept.
        let day = local.floorDiv(86_400)
        let key = StableOffsets.Key(zone: zone.identifier, day: day)
        if let stable = StableOffsets.shared.offset(key) { return local - stable }
        let edges = (-1...2).map { offset(($0 + day) * 86_400) }
        if edges.allSatisfy({ $0 == edges[0] }) {
            // Clocks never change twice within a day, so the offset holds from the day before to the
            // day after: every step below would find it.
            StableOffsets.shared.keep(key, edges[0])
            return local - edges[0]
        }
        // The offsets a day before and after: clocks never change twice within a day.
        let before = offset(local - 86_400)
        let after = offset(local + 86_400)
        if before == after, offset(local - before) == before { return local - before }
        let valid = Set([before, after, offset(local)]).filter { offset(local - $0) == $0 }
        if let earliest = valid.max() { return local - earliest }
        return local - min(before, after)
    }

    static func date(_ text: String) -> String? {
        if text.utf8.allSatisfy({ $0 < 0x80 }) {
            return date(digits: text.utf8.prefix { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") })
        }
        return dateByCharacters(text)
    }

    /// The number ASCII digits write (the caller checked they are digits).
    static func decimal(_ digits: some Collection<UInt8>) -> Int {
        digits.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
    }

    /// `YYYY[MM[DD]]` from ASCII digits, as `dateByCharacters` reads them.
    static func date(digits: some Collection<UInt8>) -> String? {
        let digits = Array(digits)
        func text(_ range: Range<Int>) -> String { String(decoding: digits[range], as: UTF8.self) }
        func number(_ range: Range<Int>) -> Int { decimal(digits[range]) }
        // FHIR's years start at 0001.
        guard digits.count < 4 || number(0..<4) > 0 else { return nil }
        switch digits.count {
        case 4: return text(0..<4)
        case 6...: break
        default: return nil
        }
        guard (1...12).contains(number(4..<6)) else { return nil }
        guard digits.count >= 8 else { return "\(text(0..<4))-\(text(4..<6))" }
        guard (1...31).contains(number(6..<8)) else { return nil }
        return "\(text(0..<4))-\(text(4..<6))-\(text(6..<8))"
    }

    /// `date(_:)` for text with non-ASCII characters (Character by Character, as Swift reads numbers).
    static func dateByCharacters(_ text: String) -> String? {
        let digits = Array(text.prefix { $0.isNumber })
        guard digits.count < 4 || Int(String(digits[0..<4])).map({ $0 > 0 }) == true else { return nil }
        switch digits.count {
        case 4: return String(digits)
        case 6...: break
        default: return nil
        }
        let year = String(digits[0..<4])
        let month = String(digits[4..<6])
        guard let m = Int(month), (1...12).contains(m) else { return nil }
        guard digits.count >= 8 else { return "\(year)-\(month)" }
        let day = String(digits[6..<8])
        guard let d = Int(day), (1...31).contains(d) else { return nil }
        return "\(year)-\(month)-\(day)"
    }

    /// A DTM (`YYYY[MM[DD[HH[MM[SS[.S…]]]]]][+/-ZZZZ]`) as a FHIR dateTime in UTC. A value with a time
    /// but no offset is read in the sender's zone and keeps its original text.
    func dateTime(_ text: String, instant: Bool) -> (JSON, original: String?)? {
        let bytes = Array(text.utf8)
        guard bytes.allSatisfy({ $0 < 0x80 }) else { return dateTimeByCharacters(text, instant: instant) }
        // Digits and dots, split once at a dot as `split(separator: ".", maxSplits: 1)` does (empty
        // pieces left out), then the offset.
        func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
        var digitsEnd = 0
        while digitsEnd < bytes.count, isDigit(bytes[digitsEnd]) || bytes[digitsEnd] == UInt8(ascii: ".") {
            digitsEnd += 1
        }
        var parts: [Range<Int>] = []
        var start = 0
        var end = 0
        while end != digitsEnd {
            if bytes[end] == UInt8(ascii: ".") {
                let appended = start != end
                if appended { parts.append(start..<end) }
                end += 1
                start = end
                if appended { break }
                continue
            }
            end += 1
        }
        if start != digitsEnd { parts.append(start..<digitsEnd) }
        let digits = Array(parts.first.map { bytes[$0] } ?? [])
        let fraction = parts.count > 1 ? String(decoding: bytes[parts[1]].prefix(3), as: UTF8.self) : ""
        if digits.count <= 8 {
            guard !instant, let date = Self.date(digits: digits) else { return nil }
            return (.string(date), nil)
        }
        func number(_ range: Range<Int>) -> Int { range.upperBound <= digits.count ? Self.decimal(digits[range]) : 0 }
        // The date as `date(digits:)` accepts it (a year from 0001, month, day), without writing it out.
        guard digits.count >= 10, number(0..<4) > 0, (1...12).contains(number(4..<6)), (1...31).contains(number(6..<8))
        else { return nil }
        let (hour, minute, second) = (number(8..<10), number(10..<12), number(12..<14))
        guard hour < 24, minute < 60, second < 61 else { return nil }
        var zone = senderZone
        var original: String? = text
        if digitsEnd < bytes.count {
            // An offset starts with its sign; anything else after the digits is no DTM.
            guard bytes[digitsEnd] == UInt8(ascii: "+") || bytes[digitsEnd] == UInt8(ascii: "-") else { return nil }
            let sign = bytes[digitsEnd] == UInt8(ascii: "-") ? -1 : 1
            let zoneDigits = bytes[(digitsEnd + 1)...]
            func field(_ range: Range<Int>) -> Int? {
                Int(String(decoding: zoneDigits.dropFirst(range.lowerBound).prefix(range.count), as: UTF8.self))
            }
            guard zoneDigits.count == 4, let hours = field(0..<2), let minutes = field(2..<4),
                let fixed = TimeZone(secondsFromGMT: sign * (hours * 3600 + minutes * 60))
            else { return nil }
            zone = fixed
            original = nil
        }
        return Self.utcText(
            year: number(0..<4), month: number(4..<6), day: number(6..<8), hour: hour, minute: minute,
            second: second, fraction: fraction, zone: zone, original: original)
    }

    /// `…T13:30:00Z` in UTC for a local time in `zone`, with the fraction as sent (to milliseconds).
    /// The first and last second of FHIR's years, 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z.
    static let firstMoment = FHIRPathTemporal.days(year: 1, month: 1, day: 1) * 86_400
    static let lastMoment = FHIRPathTemporal.days(year: 9999, month: 12, day: 31) * 86_400 + 86_399

    static func utcText(
        year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int, fraction: String, zone: TimeZone,
        original: String?
    ) -> (JSON, original: String?)? {
        let local =
            FHIRPathTemporal.days(year: year, month: month, day: day) * 86_400 + hour * 3600 + minute * 60 + second
        let moment = utc(local: local, zone: zone)
        // In UTC the moment may leave FHIR's years 0001–9999 (0001-01-01 00:30 an hour east of UTC).
        guard moment >= Self.firstMoment, moment <= Self.lastMoment else { return nil }
        // `…:SSZ` as it is, or with the fraction before the `Z` (cut as bytes: `dropLast()` on the
        // text stepped through Characters).
        let text = FHIRPathTemporal(utcMilliseconds: moment * 1000, precision: .second).text
        guard !fraction.isEmpty else { return (.string(text), original) }
        return (.string(String(decoding: text.utf8.dropLast(), as: UTF8.self) + "." + fraction + "Z"), original)
    }

    /// `dateTime(_:instant:)` for text with non-ASCII characters (Character by Character).
    func dateTimeByCharacters(_ text: String, instant: Bool) -> (JSON, original: String?)? {
        let digitsEnd = text.firstIndex { !$0.isNumber && $0 != "." } ?? text.endIndex
        let main = text[..<digitsEnd]
        let offsetText = text[digitsEnd...]
        let parts = main.split(separator: ".", maxSplits: 1)
        let digits = Array(parts.first ?? "")
        let fraction = parts.count > 1 ? String(parts[1].prefix(3)) : ""
        if digits.count <= 8 {
            guard !instant, let date = Self.date(String(digits)) else { return nil }
            return (.string(date), nil)
        }
        guard digits.count >= 10, let date = Self.date(String(digits[0..<8])) else { return nil }
        func number(_ range: Range<Int>) -> Int? { range.upperBound <= digits.count ? Int(String(digits[range])) : 0 }
        guard let hour = number(8..<10), let minute = number(10..<12), let second = number(12..<14),
            hour < 24, minute < 60, second < 61
        else { return nil }
        var zone = senderZone
        var original: String? = text
        if let first = offsetText.first {
            guard first == "+" || first == "-" else { return nil }
            let sign: Int = first == "-" ? -1 : 1
            let zoneDigits = Array(offsetText.dropFirst())
            guard zoneDigits.count == 4, let hours = Int(String(zoneDigits[0..<2])),
                let minutes = Int(String(zoneDigits[2..<4])),
                let fixed = TimeZone(secondsFromGMT: sign * (hours * 3600 + minutes * 60))
            else { return nil }
            zone = fixed
            original = nil
        }
        let dateParts = date.split(separator: "-").compactMap { Int($0) }
        guard dateParts.count == 3 else { return nil }
        return Self.utcText(
            year: dateParts[0], month: dateParts[1], day: dateParts[2], hour: hour, minute: minute, second: second,
            fraction: fraction, zone: zone, original: original)
    }
}

/// The UTC offset of days with no clock change from the day before to the day after, by zone and
/// day: asking Foundation's calendar costs several microseconds, and a feed or a table holds
/// thousands of times in a few zones.
final class StableOffsets: Sendable {
    struct Key: Hashable, Sendable {
        let zone: String
        let day: Int
    }

    static let shared = StableOffsets()
    private let offsets = Mutex<[Key: Int]>([:])

    func offset(_ key: Key) -> Int? { offsets.withLock { $0[key] } }

    func keep(_ key: Key, _ offset: Int) {
        offsets.withLock { offsets in
            // Bounded: a run rarely spans more days than this; past it, start again.
            if offsets.count >= 100_000 { offsets.removeAll(keepingCapacity: true) }
            offsets[key] = offset
        }
    }
}

extension Int {
    /// Division rounding toward negative infinity (days before 1970 included).
    fileprivate func floorDiv(_ divisor: Int) -> Int {
        let quotient = self / divisor
        return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? quotient - 1 : quotient
    }
}
