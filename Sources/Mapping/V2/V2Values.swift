import FHIR
import Foundation
import HL7v2

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
        var index = 1
        var start = raw.startIndex
        var position = raw.startIndex
        while position < raw.endIndex {
            if raw.utf8[position] == separator {
                if index == number { return Self.nonEmpty(raw[start..<position], level + 1) }
                index += 1
                start = raw.index(after: position)
            }
            position = raw.index(after: position)
        }
        return index == number ? Self.nonEmpty(raw[start...], level + 1) : nil
    }

    /// The decoded text, or `nil` for empty and for the explicit null `""`.
    func text(_ separators: HL7Separators) -> String? {
        guard !raw.isEmpty, raw != "\"\"" else { return nil }
        let text = HL7Escaping.decode(String(raw), separators: separators).trimmingCharacters(in: .whitespaces)
        return text.isEmpty ? nil : text
    }

    static func nonEmpty(_ raw: Substring, _ level: Int) -> V2Piece? {
        raw.isEmpty ? nil : V2Piece(raw: raw, level: level)
    }

    /// The repetitions of a field, empty ones left out.
    static func repetitions(_ field: String?, _ separators: HL7Separators) -> [V2Piece] {
        guard let field, !field.isEmpty else { return [] }
        return field.split(separator: Character(Unicode.Scalar(separators.repetition)), omittingEmptySubsequences: true)
            .map { V2Piece(raw: $0, level: 0) }
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
    static func date(_ text: String) -> String? {
        let digits = Array(text.prefix { $0.isNumber })
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
        if !offsetText.isEmpty {
            let sign: Int = offsetText.hasPrefix("-") ? -1 : 1
            let zoneDigits = Array(offsetText.dropFirst())
            guard zoneDigits.count == 4, let hours = Int(String(zoneDigits[0..<2])),
                let minutes = Int(String(zoneDigits[2..<4])),
                let fixed = TimeZone(secondsFromGMT: sign * (hours * 3600 + minutes * 60))
            else { return nil }
            zone = fixed
            original = nil
        }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let dateParts = date.split(separator: "-").compactMap { Int($0) }
        guard dateParts.count == 3,
            let moment = calendar.date(
                from: DateComponents(
                    year: dateParts[0], month: dateParts[1], day: dateParts[2], hour: hour, minute: minute,
                    second: second))
        else { return nil }
        var utc = Calendar(identifier: .gregorian)
        utc.timeZone = TimeZone(identifier: "UTC")!
        let c = utc.dateComponents([.year, .month, .day, .hour, .minute, .second], from: moment)
        func two(_ value: Int?) -> String { String(format: "%02d", value ?? 0) }
        let fractionText = fraction.isEmpty ? "" : "." + fraction
        let result =
            "\(String(format: "%04d", c.year ?? 0))-\(two(c.month))-\(two(c.day))T\(two(c.hour)):\(two(c.minute)):\(two(c.second))\(fractionText)Z"
        return (.string(result), original)
    }
}
