import Foundation

/// A FHIRPath Decimal: an exact decimal value and the number of digits after the point it carries
/// (`1.50` has scale 2), so that output, equivalence and `precision()` follow what was written.
public struct FHIRPathDecimal: Sendable, Hashable {
    /// The exact value.
    public var value: Decimal
    /// Digits after the decimal point.
    public var scale: Int
    /// A zero that came from a negative value (`-0.0`), which `Decimal` cannot hold.
    var isNegativeZero = false

    /// A decimal written with `scale` digits after the point.
    public init(_ value: Decimal, scale: Int) {
        self.value = value
        self.scale = max(0, scale)
    }

    /// An integer as a decimal with no digits after the point.
    public init(_ integer: Int) {
        self.init(Decimal(integer), scale: 0)
    }

    /// Parses decimal text as FHIR and FHIRPath write it: optional sign, digits, optional fraction.
    public init?(text: String) {
        var bytes = Substring(text).utf8[...]
        if bytes.first == UInt8(ascii: "-") || bytes.first == UInt8(ascii: "+") { bytes = bytes.dropFirst() }
        guard let first = bytes.first, first >= 0x30 && first <= 0x39 else { return nil }
        var scale = 0
        var seenPoint = false
        var digits = 0
        for byte in bytes {
            if byte == UInt8(ascii: ".") {
                guard !seenPoint else { return nil }
                seenPoint = true
            } else if byte >= 0x30 && byte <= 0x39 {
                digits += 1
                if seenPoint { scale += 1 }
            } else if byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") {
                // JSON numbers may carry an exponent; FHIR decimals keep it as written.
                guard let value = Decimal(string: text, locale: Locale(identifier: "en_US_POSIX")) else { return nil }
                self.init(value, scale: max(0, -value.exponent))
                return
            } else {
                return nil
            }
        }
        guard digits <= 38, !(seenPoint && scale == 0) else { return nil }
        // Up to 18 digits fit an integer: the value is that integer's digits at the scale, made
        // without `Decimal(string:)` and its locale (some 5,000 instructions a value).
        if digits <= 18 {
            var significand: UInt64 = 0
            for byte in bytes where byte != UInt8(ascii: ".") { significand = significand * 10 + UInt64(byte - 0x30) }
            var value = Decimal(significand)
            if significand != 0 {
                value = Decimal(
                    sign: text.utf8.first == UInt8(ascii: "-") ? .minus : .plus, exponent: -scale, significand: value)
            }
            self.init(value, scale: scale)
            return
        }
        guard let value = Decimal(string: text, locale: Locale(identifier: "en_US_POSIX")) else { return nil }
        self.init(value, scale: scale)
    }

    /// The value rounded half away from zero to `scale` digits after the point.
    static func rounded(_ value: Decimal, scale: Int, mode: NSDecimalNumber.RoundingMode = .plain) -> Decimal {
        var input = value
        var output = Decimal()
        NSDecimalRound(&output, &input, scale, mode)
        return output
    }

    /// The value written with exactly `scale` digits after the point (`1.50`, `0.33333333`).
    public var text: String {
        let rounded = Self.rounded(value, scale: scale)
        var text = NSDecimalNumber(decimal: rounded).description(withLocale: Locale(identifier: "en_US_POSIX"))
        if text == "NaN" { return text }
        let fraction = text.firstIndex(of: ".").map { text.distance(from: $0, to: text.endIndex) - 1 } ?? 0
        if fraction < scale {
            if fraction == 0 { text += "." }
            text += String(repeating: "0", count: scale - fraction)
        }
        if rounded.isZero, isNegativeZero || value < 0, !text.hasPrefix("-") { text = "-" + text }
        return text
    }

    /// Whether the two are equal once rounded to the lesser scale of the two.
    func isEquivalent(to other: FHIRPathDecimal) -> Bool {
        let scale = min(self.scale, other.scale)
        return Self.rounded(value, scale: scale) == Self.rounded(other.value, scale: scale)
    }

    /// The sum; `nil` beyond what `Decimal` holds.
    func adding(_ other: FHIRPathDecimal) -> FHIRPathDecimal? {
        Self.calculate(value, .add, other.value).map { FHIRPathDecimal($0, scale: max(scale, other.scale)) }
    }

    /// The difference; `nil` beyond what `Decimal` holds.
    func subtracting(_ other: FHIRPathDecimal) -> FHIRPathDecimal? {
        Self.calculate(value, .subtract, other.value).map { FHIRPathDecimal($0, scale: max(scale, other.scale)) }
    }

    /// The product; `nil` beyond what `Decimal` holds (`1e-100 * 1e-100`).
    func multiplying(by other: FHIRPathDecimal) -> FHIRPathDecimal? {
        Self.calculate(value, .multiply, other.value).map { FHIRPathDecimal($0, scale: min(scale + other.scale, 16)) }
    }

    /// The quotient, with up to 8 digits after the point; `nil` for division by zero or beyond what
    /// `Decimal` holds.
    func dividing(by other: FHIRPathDecimal) -> FHIRPathDecimal? {
        guard !other.value.isZero, let quotient = Self.calculate(value, .divide, other.value) else { return nil }
        return FHIRPathDecimal(Self.rounded(quotient, scale: 8), scale: Self.naturalScale(of: quotient, limit: 8))
    }

    /// An operation of `calculate`.
    package enum Operation {
        case add, subtract, multiply, divide
    }

    /// `left operation right`, or `nil` where Foundation would stop the process: its `Decimal`
    /// arithmetic (the reporting `NSDecimal…` functions too) traps when a result's exponent leaves
    /// -128…127 — it keeps every digit of a product rather than rounding it to fit (`1e-32 * 1e-32 *
    /// 1e-32 * 1e-32 * 1e-32`; the unit `u6`, (1.66e-24 g)⁶, a fuzzer found). So: a product's two
    /// exponents may not add below -128, a quotient (38 digits) may not be below 1e-90, and no result
    /// or operand of a sum beyond 1e120. Rounding to 38 digits is no error.
    package static func calculate(_ left: Decimal, _ operation: Operation, _ right: Decimal) -> Decimal? {
        let (a, b) = (magnitude(left), magnitude(right))
        switch operation {
        case .add, .subtract:
            guard a <= 120, b <= 120 else { return nil }
        case .multiply:
            guard left.isZero || right.isZero || (a + b <= 120 && left.exponent + right.exponent >= -128) else {
                return nil
            }
        case .divide:
            guard !right.isZero, left.isZero || (-90...120).contains(a - b) else { return nil }
        }
        var result = Decimal()
        var left = left
        var right = right
        let error =
            switch operation {
            case .add: NSDecimalAdd(&result, &left, &right, .plain)
            case .subtract: NSDecimalSubtract(&result, &left, &right, .plain)
            case .multiply: NSDecimalMultiply(&result, &left, &right, .plain)
            case .divide: NSDecimalDivide(&result, &left, &right, .plain)
            }
        return error == .noError || error == .lossOfPrecision ? result : nil
    }

    /// The decimal logarithm of the value's size (minus infinity for zero).
    private static func magnitude(_ value: Decimal) -> Double {
        log10(abs(NSDecimalNumber(decimal: value).doubleValue))
    }

    /// The number of digits after the point needed to write `value` exactly, up to `limit`.
    static func naturalScale(of value: Decimal, limit: Int) -> Int {
        let rounded = Self.rounded(value, scale: limit)
        return min(limit, max(0, -rounded.exponent))
    }

    var doubleValue: Double { NSDecimalNumber(decimal: value).doubleValue }

    /// A decimal from a computed `Double` (square roots, logarithms), kept to 8 digits after the point.
    init?(double: Double) {
        guard double.isFinite else { return nil }
        let value = Self.rounded(Decimal(double), scale: 8)
        self.init(value, scale: Self.naturalScale(of: value, limit: 8))
    }
}
