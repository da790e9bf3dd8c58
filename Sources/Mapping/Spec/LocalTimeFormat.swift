import FHIR
import Foundation

/// A date or date-time layout as legacy systems write them, in the familiar pattern letters:
/// `yyyy` `yy` year, `MM` `M` month, `MMM` month name (`Mar`), `dd` `d` day, `HH` `H` hour (0–23),
/// `hh` `h` hour (1–12) with `a` (AM/PM), `mm` minute, `ss` second, `SSS` fraction; anything else
/// stands for itself. Parsing is exact: the whole text must match.
public struct LocalTimeFormat: Sendable, Hashable {
    enum Token: Sendable, Hashable {
        case year(digits: Int)
        case month(name: Bool, digits: Int)
        case day(digits: Int)
        case hour24(digits: Int)
        case hour12(digits: Int)
        case minute
        case second
        case fraction
        case meridiem
        case literal(Unicode.Scalar)
    }

    /// A local date and time read from text; `hour == nil` for a date alone.
    public struct Value: Sendable, Hashable {
        public var year: Int
        public var month: Int
        public var day: Int
        public var hour: Int?
        public var minute = 0
        public var second = 0
        public var milliseconds: Int?
    }

    public let pattern: String
    let tokens: [Token]

    public init(_ pattern: String) {
        self.pattern = pattern
        var tokens: [Token] = []
        let characters = Array(pattern)
        var index = 0
        while index < characters.count {
            let letter = characters[index]
            var run = 1
            while index + run < characters.count, characters[index + run] == letter { run += 1 }
            switch letter {
            case "y": tokens.append(.year(digits: run >= 4 ? 4 : 2))
            case "M": tokens.append(.month(name: run >= 3, digits: min(run, 2)))
            case "d": tokens.append(.day(digits: min(run, 2)))
            case "H": tokens.append(.hour24(digits: min(run, 2)))
            case "h": tokens.append(.hour12(digits: min(run, 2)))
            case "m": tokens.append(.minute)
            case "s": tokens.append(.second)
            case "S": tokens.append(.fraction)
            case "a": tokens.append(.meridiem)
            default:
                for _ in 0..<run { tokens += letter.unicodeScalars.map { .literal($0) } }
            }
            index += run
        }
        self.tokens = tokens
    }

    static let monthNames = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]

    /// The value, or `nil` when the text does not have this layout or names no real date. Read over
    /// the text's UTF-8 bytes (an array of its scalars made for every format tried cost a third of a
    /// date's mapping): every letter a layout reads is ASCII, and a literal is matched by its bytes.
    public func parse(_ text: String) -> Value? {
        return text.withUTF8Bytes { parse(bytes: $0) }
    }

    private func parse(bytes: UnsafeBufferPointer<UInt8>) -> Value? {
        var position = 0
        var value = Value(year: 0, month: 0, day: 0, hour: nil)
        var pm: Bool?
        var twelve: Int?

        func digits(_ least: Int, _ most: Int) -> Int? {
            var count = 0
            var number = 0
            while count < most, position < bytes.count, bytes[position] &- UInt8(ascii: "0") < 10 {
                number = number * 10 + Int(bytes[position] &- UInt8(ascii: "0"))
                position += 1
                count += 1
            }
            return count >= least ? number : nil
        }
        /// The next `count` bytes, ASCII letters folded to lower case (`nil` past the end).
        func lowered(_ count: Int) -> [UInt8]? {
            guard position + count <= bytes.count else { return nil }
            return bytes[position..<position + count].map { $0 &- UInt8(ascii: "A") < 26 ? $0 | 0x20 : $0 }
        }

        for token in tokens {
            switch token {
            case .year(let width):
                guard let year = digits(width, width) else { return nil }
                // Two-digit years: up to 30 years ahead of 2000 is this century, the rest the last.
                value.year = width == 2 ? (year <= 30 ? 2000 + year : 1900 + year) : year
            case .month(let name, let width):
                if name {
                    guard let word = lowered(3),
                        let index = Self.monthNames.firstIndex(where: { $0.utf8.elementsEqual(word) })
                    else { return nil }
                    value.month = index + 1
                    position += 3
                } else {
                    guard let month = digits(width, 2) else { return nil }
                    value.month = month
                }
            case .day(let width):
                guard let day = digits(width, 2) else { return nil }
                value.day = day
            case .hour24(let width):
                guard let hour = digits(width, 2) else { return nil }
                value.hour = hour
            case .hour12(let width):
                guard let hour = digits(width, 2), (1...12).contains(hour) else { return nil }
                twelve = hour
            case .minute:
                guard let minute = digits(2, 2) else { return nil }
                value.minute = minute
            case .second:
                guard let second = digits(2, 2) else { return nil }
                value.second = second
            case .fraction:
                let start = position
                guard let fraction = digits(1, 9) else { return nil }
                let count = position - start
                value.milliseconds =
                    count >= 3 ? fraction / Int(pow(10, Double(count - 3))) : fraction * Int(pow(10, Double(3 - count)))
            case .meridiem:
                guard let word = lowered(2), word == Array("am".utf8) || word == Array("pm".utf8) else { return nil }
                pm = word[0] == UInt8(ascii: "p")
                position += 2
            case .literal(let character):
                for byte in UTF8.encode(character)! {
                    guard position < bytes.count, bytes[position] == byte else { return nil }
                    position += 1
                }
            }
        }
        guard position == bytes.count else { return nil }
        if let twelve {
            guard let pm else { return nil }
            value.hour = twelve % 12 + (pm ? 12 : 0)
        }
        guard (1...12).contains(value.month), value.day >= 1,
            value.day <= Self.daysIn(month: value.month, year: value.year),
            value.hour.map({ (0..<24).contains($0) }) ?? true, value.minute < 60, value.second < 60
        else { return nil }
        return value
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }
}

extension LocalTimeFormat.Value {
    /// `YYYY-MM-DD`.
    public var dateText: String {
        func pad(_ n: Int, _ width: Int) -> String {
            let text = String(n)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))"
    }

    /// The moment in UTC, as a FHIR instant (`2024-03-07T14:05:00Z`), of this local time in `zone`.
    public func utcText(zone: TimeZone) -> String {
        let local =
            FHIRPathTemporal.days(year: year, month: month, day: day) * 86_400 + (hour ?? 0) * 3600 + minute * 60
            + second
        let moment = V2Primitives.utc(local: local, zone: zone)
        let text = FHIRPathTemporal(utcMilliseconds: moment * 1000, precision: .second).text.dropLast()
        let fraction = milliseconds.map { "." + String(format: "%03d", $0) } ?? ""
        return text + fraction + "Z"
    }

    /// The local time as written in ISO form with its zone, for the record (`2024-03-07T09:05:00 America/New_York`).
    public func localText(zone: TimeZone) -> String {
        func pad(_ n: Int) -> String { n < 10 ? "0\(n)" : String(n) }
        return "\(dateText)T\(pad(hour ?? 0)):\(pad(minute)):\(pad(second)) \(zone.identifier)"
    }
}
