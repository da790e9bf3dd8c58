import Foundation

/// A FHIRPath Date, DateTime or Time with the precision it was written with (`@2015`, `@2015-02-04T14:34`).
public struct FHIRPathTemporal: Sendable, Hashable {
    /// Which of the three temporal types this is.
    public enum Kind: Sendable, Hashable {
        case date, dateTime, time
    }

    /// The smallest unit given. Seconds and milliseconds count as one precision when comparing.
    public enum Precision: Int, Sendable, Hashable, Comparable {
        case year, month, day, hour, minute, second, millisecond

        public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    /// Date, DateTime or Time.
    public var kind: Kind
    /// The smallest unit the value gives; the fields below it hold their least value.
    public var precision: Precision
    /// The year, 1 to 9999 (0 for a time).
    public var year = 0
    /// The month, 1 to 12.
    public var month = 1
    /// The day of the month.
    public var day = 1
    /// The hour, 0 to 23.
    public var hour = 0
    /// The minute, 0 to 59.
    public var minute = 0
    /// The second, 0 to 59.
    public var second = 0
    /// The millisecond, 0 to 999 (finer fractions are cut off).
    public var millisecond = 0
    /// The offset from UTC in minutes, when the value has a time zone.
    public var timeZoneOffset: Int?

    init(kind: Kind, precision: Precision) {
        self.kind = kind
        self.precision = precision
    }

    /// Parses a FHIRPath literal body, without the `@`: `2015-02-04T14:34:28.123+10:00`, `2015T`, `T14:34`.
    init?(literal text: String) {
        guard let value = Self.parsing(text, { bytes in Self(literal: &bytes) }) else { return nil }
        self = value
    }

    private init?(literal bytes: inout Bytes) {
        if bytes.first == UInt8(ascii: "T") {
            bytes.removeFirst()
            self.init(kind: .time, precision: .hour)
            guard parseTime(&bytes), bytes.isEmpty else { return nil }
            return
        }
        self.init(kind: .date, precision: .year)
        guard parseDate(&bytes) else { return nil }
        if bytes.first == UInt8(ascii: "T") {
            bytes.removeFirst()
            kind = .dateTime
            if !bytes.isEmpty, bytes.first != UInt8(ascii: "Z"), bytes.first != UInt8(ascii: "+"),
                bytes.first != UInt8(ascii: "-")
            {
                guard precision == .day, parseTime(&bytes) else { return nil }
            }
            guard parseZone(&bytes) else { return nil }
        }
        guard bytes.isEmpty else { return nil }
    }

    /// Parses the text of a FHIR `date`, `dateTime` or `instant` (`2015-02`, `2015-02-04T14:34:28Z`).
    init?(fhirDateTime text: String, kind: Kind) {
        guard let value = Self.parsing(text, { bytes in Self(fhirDateTime: &bytes, kind: kind) }) else { return nil }
        self = value
    }

    private init?(fhirDateTime bytes: inout Bytes, kind: Kind) {
        self.init(kind: kind, precision: .year)
        guard parseDate(&bytes) else { return nil }
        if bytes.first == UInt8(ascii: "T") {
            bytes.removeFirst()
            self.kind = .dateTime
            guard precision == .day, parseTime(&bytes), parseZone(&bytes) else { return nil }
        }
        guard bytes.isEmpty else { return nil }
    }

    /// Parses the text of a FHIR `time` (`14:34:28`).
    init?(fhirTime text: String) {
        guard
            let value = Self.parsing(
                text,
                { bytes in
                    var time = Self(kind: .time, precision: .hour)
                    guard time.parseTime(&bytes), bytes.isEmpty else { return nil }
                    return time
                })
        else { return nil }
        self = value
    }

    /// The unread rest of a text's UTF-8, read a byte at a time (the text's own buffer: stepping a
    /// `Substring`'s UTF-8 view cost some 4,000 instructions a dateTime).
    private struct Bytes {
        let base: UnsafeBufferPointer<UInt8>
        var position = 0

        var isEmpty: Bool { position == base.count }
        var count: Int { base.count - position }
        var first: UInt8? { position < base.count ? base[position] : nil }
        mutating func removeFirst() { position += 1 }
    }

    private static func parsing(_ text: String, _ parse: (inout Bytes) -> Self?) -> Self? {
        return text.withUTF8Bytes { buffer in
            var bytes = Bytes(base: buffer)
            return parse(&bytes)
        }
    }

    private static func take(_ count: Int, from bytes: inout Bytes) -> Int? {
        guard bytes.count >= count else { return nil }
        var value = 0
        for offset in 0..<count {
            let byte = bytes.base[bytes.position + offset]
            guard byte >= 0x30 && byte <= 0x39 else { return nil }
            value = value * 10 + Int(byte - 0x30)
        }
        bytes.position += count
        return value
    }

    private mutating func parseDate(_ bytes: inout Bytes) -> Bool {
        guard let year = Self.take(4, from: &bytes) else { return false }
        self.year = year
        precision = .year
        guard bytes.first == UInt8(ascii: "-") else { return true }
        bytes.removeFirst()
        guard let month = Self.take(2, from: &bytes), (1...12).contains(month) else { return false }
        self.month = month
        precision = .month
        guard bytes.first == UInt8(ascii: "-") else { return true }
        bytes.removeFirst()
        guard let day = Self.take(2, from: &bytes), day >= 1, day <= Self.daysIn(month: month, year: year) else {
            return false
        }
        self.day = day
        precision = .day
        return true
    }

    private mutating func parseTime(_ bytes: inout Bytes) -> Bool {
        guard let hour = Self.take(2, from: &bytes), hour < 24 else { return false }
        self.hour = hour
        precision = .hour
        guard bytes.first == UInt8(ascii: ":") else { return true }
        bytes.removeFirst()
        guard let minute = Self.take(2, from: &bytes), minute < 60 else { return false }
        self.minute = minute
        precision = .minute
        guard bytes.first == UInt8(ascii: ":") else { return true }
        bytes.removeFirst()
        guard let second = Self.take(2, from: &bytes), second < 60 else { return false }
        self.second = second
        precision = .second
        guard bytes.first == UInt8(ascii: ".") else { return true }
        bytes.removeFirst()
        var digits = 0
        var fraction = 0
        while let byte = bytes.first, byte >= 0x30 && byte <= 0x39 {
            if digits < 3 { fraction = fraction * 10 + Int(byte - 0x30) }
            digits += 1
            bytes.removeFirst()
        }
        guard digits > 0 else { return false }
        for _ in digits..<max(digits, 3) { fraction *= 10 }
        millisecond = fraction
        precision = .millisecond
        return true
    }

    private mutating func parseZone(_ bytes: inout Bytes) -> Bool {
        guard let first = bytes.first else { return true }
        if first == UInt8(ascii: "Z") {
            bytes.removeFirst()
            timeZoneOffset = 0
            return true
        }
        guard first == UInt8(ascii: "+") || first == UInt8(ascii: "-") else { return false }
        bytes.removeFirst()
        guard let hours = Self.take(2, from: &bytes), bytes.first == UInt8(ascii: ":") else { return false }
        bytes.removeFirst()
        guard let minutes = Self.take(2, from: &bytes), hours <= 14, minutes < 60 else { return false }
        timeZoneOffset = (hours * 60 + minutes) * (first == UInt8(ascii: "-") ? -1 : 1)
        return true
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// The UTC dateTime of a moment given in milliseconds since 1970, to `precision`
    /// (`.text` writes it as `2024-03-15T09:30:00Z` or `…:00.123Z`).
    package init(utcMilliseconds milliseconds: Int, precision: Precision) {
        self.init(kind: .dateTime, precision: precision)
        let days = milliseconds >= 0 ? milliseconds / 86_400_000 : (milliseconds - 86_399_999) / 86_400_000
        (year, month, day) = Self.civil(days: days)
        let rest = milliseconds - days * 86_400_000
        hour = rest / 3_600_000
        minute = rest / 60_000 % 60
        second = rest / 1000 % 60
        millisecond = precision >= .millisecond ? rest % 1000 : 0
        timeZoneOffset = 0
    }

    // MARK: - Text

    /// The value as FHIR writes it (`2015-02-04T14:34:28.123+10:00`, `14:34`), without FHIRPath's `@`.
    public var text: String {
        // Digits written into one buffer: joining strings for each part cost some 5,000 instructions a
        // value, and every timestamp an HL7 v2 message converts is written out.
        var bytes: [UInt8] = []
        bytes.reserveCapacity(32)
        func digits(_ value: Int, _ count: Int) {
            var divisor = 1
            for _ in 1..<count { divisor *= 10 }
            var rest = value
            while divisor > 0 {
                bytes.append(UInt8(ascii: "0") + UInt8(rest / divisor % 10))
                rest %= divisor
                divisor /= 10
            }
        }
        func part(_ separator: Unicode.Scalar, _ value: Int) {
            bytes.append(UInt8(ascii: separator))
            digits(value, 2)
        }
        if kind != .time {
            if (0...9999).contains(year) {
                digits(year, 4)
            } else {
                // Beyond four digits (FHIRPath arithmetic can make one): as it is, padded to four characters.
                let written = String(year)
                bytes.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: max(0, 4 - written.utf8.count)))
                bytes.append(contentsOf: written.utf8)
            }
            if precision >= .month { part("-", month) }
            if precision >= .day { part("-", day) }
            if kind == .dateTime, precision >= .hour { bytes.append(UInt8(ascii: "T")) }
        }
        if kind == .time || precision >= .hour {
            digits(hour, 2)
            if precision >= .minute { part(":", minute) }
            if precision >= .second { part(":", second) }
            if precision >= .millisecond {
                bytes.append(UInt8(ascii: "."))
                digits(millisecond, 3)
            }
        }
        if kind == .dateTime, let offset = timeZoneOffset, precision >= .hour {
            if offset == 0 {
                bytes.append(UInt8(ascii: "Z"))
            } else {
                let magnitude = abs(offset)
                bytes.append(offset < 0 ? UInt8(ascii: "-") : UInt8(ascii: "+"))
                digits(magnitude / 60, 2)
                part(":", magnitude % 60)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The value as a FHIRPath literal: `@2015-02-04`, `@2015T`, `@T14:34`.
    public var literal: String {
        switch kind {
        case .date: "@" + text
        case .time: "@T" + text
        case .dateTime: "@" + text + (precision < .hour ? "T" : "")
        }
    }

    // MARK: - Comparison

    /// Days since 1970-01-01 of a proleptic Gregorian date.
    package static func days(year: Int, month: Int, day: Int) -> Int {
        let shiftedYear = month <= 2 ? year - 1 : year
        let era = (shiftedYear >= 0 ? shiftedYear : shiftedYear - 399) / 400
        let yearOfEra = shiftedYear - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146097 + dayOfEra - 719468
    }

    /// The civil date of a count of days since 1970-01-01.
    package static func civil(days: Int) -> (year: Int, month: Int, day: Int) {
        let shifted = days + 719468
        let era = (shifted >= 0 ? shifted : shifted - 146096) / 146097
        let dayOfEra = shifted - era * 146097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthPart = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthPart + 2) / 5 + 1
        let month = monthPart < 10 ? monthPart + 3 : monthPart - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// The same instant moved to another offset (only meaningful at hour precision or finer).
    func shifted(toOffset target: Int) -> FHIRPathTemporal {
        guard let offset = timeZoneOffset, offset != target, kind == .dateTime, precision >= .hour else { return self }
        var result = self
        result.addMilliseconds((target - offset) * 60_000)
        result.timeZoneOffset = target
        return result
    }

    /// Compares two values; `nil` when the precisions differ and the common part is equal, or when the kinds differ.
    func compare(to other: FHIRPathTemporal) -> Int? {
        let isTime = kind == .time
        guard isTime == (other.kind == .time) else { return nil }
        var left = self
        var right = other
        if left.timeZoneOffset != nil, right.timeZoneOffset != nil {
            left = left.shifted(toOffset: 0)
            right = right.shifted(toOffset: 0)
        } else if left.timeZoneOffset != nil || right.timeZoneOffset != nil, left.precision >= .hour,
            right.precision >= .hour, left.kind == .dateTime, right.kind == .dateTime
        {
            // One local time and one with an offset: the order cannot be known.
            return nil
        }
        let leftComponents = left.components
        let rightComponents = right.components
        let start = isTime ? Precision.hour.rawValue : 0
        // Seconds and milliseconds compare as one decimal number of seconds.
        let leftPrecision = min(left.precision, .second).rawValue
        let rightPrecision = min(right.precision, .second).rawValue
        for index in start...min(leftPrecision, rightPrecision) {
            var leftValue = leftComponents[index]
            var rightValue = rightComponents[index]
            if index == Precision.second.rawValue {
                leftValue = leftValue * 1000 + left.millisecond
                rightValue = rightValue * 1000 + right.millisecond
            }
            if leftValue != rightValue { return leftValue < rightValue ? -1 : 1 }
        }
        return leftPrecision == rightPrecision ? 0 : nil
    }

    private var components: [Int] { [year, month, day, hour, minute, second, millisecond] }

    // MARK: - Arithmetic

    /// Adds a whole number of milliseconds to a date-time or time, carrying into the date.
    mutating func addMilliseconds(_ amount: Int) {
        let dayMilliseconds = 86_400_000
        var total = ((hour * 60 + minute) * 60 + second) * 1000 + millisecond + amount
        var dayShift = total / dayMilliseconds
        total %= dayMilliseconds
        if total < 0 {
            total += dayMilliseconds
            dayShift -= 1
        }
        millisecond = total % 1000
        second = total / 1000 % 60
        minute = total / 60_000 % 60
        hour = total / 3_600_000
        if kind != .time, dayShift != 0 { addDays(dayShift) }
    }

    mutating func addDays(_ amount: Int) {
        (year, month, day) = Self.civil(days: Self.days(year: year, month: month, day: day) + amount)
    }

    mutating func addMonths(_ amount: Int) {
        let total = year * 12 + (month - 1) + amount
        year = total >= 0 ? total / 12 : (total - 11) / 12
        month = total - year * 12 + 1
        day = min(day, Self.daysIn(month: month, year: year))
    }

    /// Adds a calendar duration (`year`, `month`, `week`, `day`, `hour`, `minute`, `second`,
    /// `millisecond`); the amount is truncated to the value's precision as the specification says.
    func adding(_ amount: Decimal, unit: FHIRPathQuantity.CalendarUnit) -> FHIRPathTemporal? {
        var result = self
        // Beyond ten thousand years in any unit the result leaves the calendar: no result, never an overflow.
        let limits: Decimal =
            switch unit {
            case .year: 10_000
            case .month: 120_000
            case .week: 530_000
            case .day: 3_660_000
            case .hour: 87_840_000
            case .minute: 5_270_400_000
            case .second: 316_224_000_000
            case .millisecond: 316_224_000_000_000
            }
        guard amount.isFinite, amount <= limits, amount >= -limits else { return nil }
        let whole = NSDecimalNumber(decimal: FHIRPathDecimal.rounded(amount, scale: 0, mode: amount < 0 ? .up : .down))
            .intValue
        switch unit {
        case .year:
            guard kind != .time else { return nil }
            result.year += whole
            result.day = min(result.day, Self.daysIn(month: result.month, year: result.year))
        case .month:
            guard kind != .time else { return nil }
            if precision == .year { result.year += whole / 12 } else { result.addMonths(whole) }
        case .week, .day:
            guard kind != .time else { return nil }
            let days = whole * (unit == .week ? 7 : 1)
            if precision >= .day {
                result.addDays(days)
            } else if precision == .month {
                result.addMonths(days / 30)
            } else {
                result.year += days / 365
            }
        case .hour, .minute, .second, .millisecond:
            let factor: Decimal =
                switch unit {
                case .hour: 3_600_000
                case .minute: 60_000
                case .second: 1000
                default: 1
                }
            let milliseconds = whole * NSDecimalNumber(decimal: factor).intValue
            if kind == .date {
                guard precision >= .day else { return result }
                result.addDays(milliseconds / 86_400_000)
            } else {
                result.addMilliseconds(milliseconds)
            }
        }
        guard result.year >= 1, result.year <= 9999 else { return nil }
        return result
    }
}
