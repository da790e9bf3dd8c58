import Foundation
import Testing

@testable import Mapping

/// Legacy date layouts read exactly: every value written in a layout reads back as itself, and a text
/// with any one byte changed reads as nothing or as the value it now spells.
@Suite struct LocalTimeFormatTests {
    /// Fixed-width layouts (every field at its full width), with ASCII and non-ASCII literals.
    static let layouts = [
        "yyyy-MM-dd", "MM/dd/yyyy hh:mm a", "dd-MMM-yyyy", "yyyyMMddHHmmss", "yyyy-MM-ddTHH:mm:ss.SSS",
        "dd·MM·yyyy HH:mm", "yyyy年MM月dd日", "yyMMdd",
    ]

    static let monthNames = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// `value` written in `layout`, the way a legacy system writes it.
    static func write(_ value: LocalTimeFormat.Value, _ layout: LocalTimeFormat) -> String {
        func pad(_ number: Int, _ width: Int) -> String {
            let text = String(number)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        var text = ""
        for token in layout.tokens {
            switch token {
            case .year(let digits): text += digits == 4 ? pad(value.year, 4) : pad(value.year % 100, 2)
            case .month(let name, let digits):
                text += name ? monthNames[value.month - 1] : pad(value.month, digits)
            case .day(let digits): text += pad(value.day, digits)
            case .hour24(let digits): text += pad(value.hour ?? 0, digits)
            case .hour12(let digits): text += pad((value.hour ?? 0) % 12 == 0 ? 12 : (value.hour ?? 0) % 12, digits)
            case .minute: text += pad(value.minute, 2)
            case .second: text += pad(value.second, 2)
            case .fraction: text += pad(value.milliseconds ?? 0, 3)
            case .meridiem: text += (value.hour ?? 0) < 12 ? "AM" : "PM"
            case .literal(let scalar): text.unicodeScalars.append(scalar)
            }
        }
        return text
    }

    /// A random real value for `layout` (only the fields it writes are set).
    static func value(for layout: LocalTimeFormat, _ random: inout SystemRandomNumberGenerator) -> LocalTimeFormat.Value
    {
        let twoDigits = layout.tokens.contains(.year(digits: 2))
        let year = twoDigits ? Int.random(in: 1931...2030, using: &random) : Int.random(in: 1800...2099, using: &random)
        let month = Int.random(in: 1...12, using: &random)
        var value = LocalTimeFormat.Value(
            year: year, month: month,
            day: Int.random(in: 1...LocalTimeFormat.daysIn(month: month, year: year), using: &random), hour: nil)
        let tokens = layout.tokens
        if tokens.contains(where: { if case .hour24 = $0 { true } else if case .hour12 = $0 { true } else { false } }) {
            value.hour = Int.random(in: 0...23, using: &random)
        }
        if tokens.contains(.minute) { value.minute = Int.random(in: 0...59, using: &random) }
        if tokens.contains(.second) { value.second = Int.random(in: 0...59, using: &random) }
        if tokens.contains(.fraction) { value.milliseconds = Int.random(in: 0...999, using: &random) }
        return value
    }

    @Test func everyWrittenValueReadsBackAndEveryChangedTextReadsAsWhatItSpells() {
        var random = SystemRandomNumberGenerator()
        let replacements: [[UInt8]] = [[0x30], [0x39], [0x41], [0x61], [0x2D], [0x20], [0xC2, 0xB7], [0xFF], []]
        var changedAndRead = 0
        for pattern in Self.layouts {
            let layout = LocalTimeFormat(pattern)
            for _ in 0..<200 {
                let value = Self.value(for: layout, &random)
                let text = Self.write(value, layout)
                #expect(layout.parse(text) == value, "\(pattern): \(text)")
                // One byte replaced (by a digit, a letter, a separator, a multi-byte character, an
                // invalid byte) or dropped; not in a layout with a fraction, which may be 1 to 9 digits.
                if layout.tokens.contains(.fraction) { continue }
                var bytes = Array(text.utf8)
                let at = Int.random(in: 0..<bytes.count, using: &random)
                bytes.replaceSubrange(at...at, with: replacements.randomElement(using: &random)!)
                let changed = String(decoding: bytes, as: UTF8.self)
                guard let read = layout.parse(changed) else { continue }
                changedAndRead += 1
                #expect(
                    Self.write(read, layout).lowercased() == changed.lowercased(),
                    "\(pattern): \(changed) read as \(read)")
            }
        }
        #expect(changedAndRead > 50)
    }

    /// Month names and AM/PM in any case; a text cut short, or longer than its layout, reads as nothing.
    @Test func namesInAnyCaseAndNothingShortOrLong() {
        let named = LocalTimeFormat("dd-MMM-yyyy hh:mm a")
        for text in ["07-mar-1984 01:05 pm", "07-MAR-1984 01:05 PM", "07-Mar-1984 01:05 pM"] {
            #expect(named.parse(text)?.hour == 13, "\(text)")
            #expect(named.parse(text)?.month == 3, "\(text)")
        }
        for text in ["07-mar-1984 01:05 p", "07-mar-1984 01:05 pmx", "07-ma", "", "07-mär-1984 01:05 pm"] {
            #expect(named.parse(text) == nil, "\(text)")
        }
        #expect(LocalTimeFormat("d.M.yy").parse("7.3.84")?.dateText == "1984-03-07")
        #expect(LocalTimeFormat("d.M.yy").parse("07.03.84")?.dateText == "1984-03-07")
        #expect(LocalTimeFormat("yyyy-MM-dd HH:mm:ss.SSS").parse("2024-11-03 01:30:00.1234567")?.milliseconds == 123)
    }
}
