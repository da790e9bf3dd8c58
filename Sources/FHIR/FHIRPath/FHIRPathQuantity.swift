import Foundation
import Synchronization

/// A FHIRPath Quantity: a decimal value with a UCUM unit (`4.5 'mg'`) or a calendar duration (`3 days`).
public struct FHIRPathQuantity: Sendable, Hashable {
    /// The calendar duration keywords of FHIRPath.
    public enum CalendarUnit: String, Sendable, Hashable {
        case year, month, week, day, hour, minute, second, millisecond

        /// The keyword in singular or plural form.
        init?(keyword: String) {
            let singular = keyword.hasSuffix("s") ? String(keyword.dropLast()) : keyword
            self.init(rawValue: singular)
        }

        /// The UCUM unit of the same definite duration; `nil` for year and month, which vary.
        var definiteUCUM: String? {
            switch self {
            case .year, .month: nil
            case .week: "wk"
            case .day: "d"
            case .hour: "h"
            case .minute: "min"
            case .second: "s"
            case .millisecond: "ms"
            }
        }

        /// The calendar unit a UCUM time unit may stand for in date arithmetic (`'d'`, `'wk'`, `'s'`).
        init?(ucum: String) {
            switch ucum {
            case "wk": self = .week
            case "d": self = .day
            case "h": self = .hour
            case "min": self = .minute
            case "s": self = .second
            case "ms": self = .millisecond
            default: return nil
            }
        }
    }

    /// The amount.
    public var value: FHIRPathDecimal
    /// The UCUM unit, or a calendar keyword in singular form when `calendarUnit` is set.
    public var unit: String
    /// The calendar duration, when the quantity was written with a keyword (`3 days`).
    public var calendarUnit: CalendarUnit?

    /// A quantity in a UCUM unit (`mg`, `mmol/L`, `1`).
    public init(value: FHIRPathDecimal, unit: String) {
        self.value = value
        self.unit = unit
        self.calendarUnit = nil
    }

    /// A calendar duration (`3 days`).
    public init(value: FHIRPathDecimal, calendarUnit: CalendarUnit) {
        self.value = value
        self.unit = calendarUnit.rawValue
        self.calendarUnit = calendarUnit
    }

    /// The quantity as a FHIRPath literal: `4.5 'mg'`, `3 days`.
    public var literal: String {
        if let calendarUnit {
            return value.text + " " + calendarUnit.rawValue + (value.value == 1 ? "" : "s")
        }
        return value.text + " '" + unit + "'"
    }

    /// The value in the unit's base units and the unit's dimension; `nil` when the unit is not understood.
    private var normalized: (value: Decimal, dimension: UCUMUnit)? {
        if let calendarUnit {
            switch calendarUnit {
            case .year:
                return FHIRPathDecimal.calculate(value.value, .multiply, 12).map { ($0, UCUMUnit.calendarMonths) }
            case .month: return (value.value, UCUMUnit.calendarMonths)
            default:
                guard let ucum = calendarUnit.definiteUCUM, let parsed = UCUMUnit.parse(ucum) else { return nil }
                return FHIRPathDecimal.calculate(value.value, .multiply, parsed.factor).map { ($0, parsed) }
            }
        }
        guard let parsed = UCUMUnit.parse(unit) else { return nil }
        return FHIRPathDecimal.calculate(value.value, .multiply, parsed.factor).map { ($0, parsed) }
    }

    /// Whether the two quantities measure the same dimension, so that one converts to the other.
    func isComparable(to other: FHIRPathQuantity) -> Bool {
        guard let left = normalized, let right = other.normalized else { return unit == other.unit }
        return left.dimension.isSameDimension(as: right.dimension)
    }

    /// Compares after converting to common units; `nil` when the units measure different things.
    func compare(to other: FHIRPathQuantity) -> Int? {
        if unit == other.unit, calendarUnit == other.calendarUnit {
            return value.value == other.value.value ? 0 : (value.value < other.value.value ? -1 : 1)
        }
        guard let left = normalized, let right = other.normalized, left.dimension.isSameDimension(as: right.dimension)
        else { return nil }
        return left.value == right.value ? 0 : (left.value < right.value ? -1 : 1)
    }

    /// Equivalence: equal after rounding both to the lesser precision of the two.
    func isEquivalent(to other: FHIRPathQuantity) -> Bool? {
        guard let left = normalized, let right = other.normalized, left.dimension.isSameDimension(as: right.dimension)
        else { return unit == other.unit ? value.isEquivalent(to: other.value) : nil }
        let scale = min(value.scale, other.value.scale)
        return FHIRPathDecimal.rounded(left.value, scale: scale) == FHIRPathDecimal.rounded(right.value, scale: scale)
    }

    /// The product or quotient of two quantities, with the unit combined (`cm.m`, `g/m`).
    func combined(with other: FHIRPathQuantity, dividing: Bool) -> FHIRPathQuantity? {
        guard calendarUnit == nil, other.calendarUnit == nil else { return nil }
        let value: FHIRPathDecimal
        if dividing {
            guard let quotient = self.value.dividing(by: other.value) else { return nil }
            value = quotient
        } else {
            guard let product = self.value.multiplying(by: other.value) else { return nil }
            value = product
        }
        let unit: String
        switch (self.unit, other.unit, dividing) {
        case ("1", "1", _): unit = "1"
        case (let left, "1", _): unit = left
        case ("1", let right, false): unit = right
        case ("1", let right, true): unit = "/" + Self.wrap(right)
        case (let left, let right, _) where left == right && dividing: unit = "1"
        case (let left, let right, false): unit = Self.wrap(left) + "." + Self.wrap(right)
        case (let left, let right, true): unit = Self.wrap(left) + "/" + Self.wrap(right)
        }
        return FHIRPathQuantity(value: value, unit: unit)
    }

    private static func wrap(_ unit: String) -> String {
        unit.contains("/") || unit.contains(".") ? "(" + unit + ")" : unit
    }
}

/// A UCUM unit reduced to a factor over base units and a dimension vector, for the common units of
/// clinical data: mass, length, time, volume, amount of substance, concentrations, pressure,
/// temperature differences, enzyme and international units.
struct UCUMUnit: Sendable {
    /// Exponents of metre, gram, second, mole, kelvin, ampere, candela, then two special dimensions:
    /// calendar months (FHIRPath's `year`/`month`) and arbitrary units (`[iU]`), which never convert.
    var dimension: [Int8]
    var factor: Decimal
    /// Set for units that only compare with themselves (`Cel`, `[degF]`).
    var special: String?

    static let calendarMonths = UCUMUnit(dimension: [0, 0, 0, 0, 0, 0, 0, 1, 0], factor: 1, special: nil)

    func isSameDimension(as other: UCUMUnit) -> Bool {
        dimension == other.dimension && special == other.special
    }

    private static func base(_ position: Int) -> [Int8] {
        var vector = [Int8](repeating: 0, count: 9)
        vector[position] = 1
        return vector
    }

    /// A decimal written in this file (a constant, so it always parses).
    private static func literal(_ text: String) -> Decimal {
        Decimal(string: text, locale: Locale(identifier: "en_US_POSIX")) ?? 0
    }

    /// Atoms: symbol → (whether metric prefixes apply, factor, dimension as a product of other atoms).
    private static let atoms: [String: (metric: Bool, unit: UCUMUnit)] = {
        var table: [String: (Bool, UCUMUnit)] = [:]
        func define(_ symbol: String, metric: Bool, _ factor: Decimal, _ definition: String?, base: Int? = nil) {
            if let base {
                table[symbol] = (metric, UCUMUnit(dimension: Self.base(base), factor: factor, special: nil))
            } else if let definition, let parsed = parse(definition, atoms: table) {
                table[symbol] = (
                    metric, UCUMUnit(dimension: parsed.dimension, factor: parsed.factor * factor, special: nil)
                )
            } else {
                table[symbol] = (
                    metric, UCUMUnit(dimension: Array(repeating: 0, count: 9), factor: factor, special: nil)
                )
            }
        }
        define("m", metric: true, 1, nil, base: 0)
        define("g", metric: true, 1, nil, base: 1)
        define("s", metric: true, 1, nil, base: 2)
        define("mol", metric: true, 1, nil, base: 3)
        define("K", metric: true, 1, nil, base: 4)
        define("A", metric: true, 1, nil, base: 5)
        define("cd", metric: true, 1, nil, base: 6)
        define("1", metric: false, 1, nil)
        define("%", metric: false, literal("0.01"), nil)
        define("[ppm]", metric: false, literal("0.000001"), nil)
        define("[ppb]", metric: false, literal("0.000000001"), nil)
        define("min", metric: false, 60, "s")
        define("h", metric: false, 3600, "s")
        define("d", metric: false, 86400, "s")
        define("wk", metric: false, 604800, "s")
        define("a", metric: false, 31_557_600, "s")
        define("mo", metric: false, 2_629_800, "s")
        define("L", metric: true, literal("0.001"), "m3")
        define("l", metric: true, literal("0.001"), "m3")
        define("[in_i]", metric: false, literal("0.0254"), "m")
        define("[ft_i]", metric: false, literal("0.3048"), "m")
        define("[yd_i]", metric: false, literal("0.9144"), "m")
        define("[mi_i]", metric: false, literal("1609.344"), "m")
        define("[lb_av]", metric: false, literal("453.59237"), "g")
        define("[oz_av]", metric: false, literal("28.349523125"), "g")
        define("[gr]", metric: false, literal("0.06479891"), "g")
        define("[foz_us]", metric: false, literal("0.0295735295625"), "L")
        define("[pt_us]", metric: false, literal("0.473176473"), "L")
        define("[tsp_us]", metric: false, literal("0.00492892159375"), "L")
        define("[tbs_us]", metric: false, literal("0.01478676478125"), "L")
        define("t", metric: true, 1_000_000, "g")
        define("u", metric: false, literal("1.6605402e-24"), "g")
        define("eq", metric: true, 1, "mol")
        define("osm", metric: true, 1, "mol")
        define("kat", metric: true, 1, "mol/s")
        define("U", metric: true, literal("0.000001"), "mol/min")
        define("Hz", metric: true, 1, "/s")
        define("N", metric: true, 1000, "g.m/s2")
        define("Pa", metric: true, 1, "N/m2")
        define("bar", metric: true, 100_000, "Pa")
        define("atm", metric: false, 101_325, "Pa")
        define("m[Hg]", metric: true, literal("133322.387415"), "Pa")
        define("m[H2O]", metric: true, literal("9806.65"), "Pa")
        define("J", metric: true, 1, "N.m")
        define("W", metric: true, 1, "J/s")
        define("cal", metric: true, literal("4.184"), "J")
        define("[Cal]", metric: false, 4184, "J")
        define("C", metric: true, 1, "A.s")
        define("V", metric: true, 1, "J/C")
        define("Ohm", metric: true, 1, "V/A")
        define("S", metric: true, 1, "A/V")
        define("Bq", metric: true, 1, "/s")
        define("Ci", metric: true, literal("37000000000"), "Bq")
        define("Gy", metric: true, 1, "J/kg")
        define("Sv", metric: true, 1, "J/kg")
        define("rad", metric: false, 1, nil)
        define("deg", metric: false, 1, nil)
        define(
            "[pi]", metric: false,
            literal("3.1415926535897932384626433832795028841971693993751058209749445923"), nil)
        for arbitrary in ["[iU]", "[IU]", "[arb'U]", "[USP'U]", "[CFU]", "[HPF]", "[LPF]"] {
            var vector = [Int8](repeating: 0, count: 9)
            vector[8] = 1
            table[arbitrary] = (
                arbitrary == "[iU]" || arbitrary == "[IU]", UCUMUnit(dimension: vector, factor: 1, special: arbitrary)
            )
        }
        table["Cel"] = (false, UCUMUnit(dimension: Self.base(4), factor: 1, special: "Cel"))
        table["[degF]"] = (false, UCUMUnit(dimension: Self.base(4), factor: 1, special: "[degF]"))
        return table
    }()

    private static let prefixes: [(String, Decimal)] = [
        ("da", 10), ("Y", Decimal(sign: .plus, exponent: 24, significand: 1)),
        ("Z", Decimal(sign: .plus, exponent: 21, significand: 1)),
        ("E", Decimal(sign: .plus, exponent: 18, significand: 1)),
        ("P", Decimal(sign: .plus, exponent: 15, significand: 1)),
        ("T", Decimal(sign: .plus, exponent: 12, significand: 1)),
        ("G", 1_000_000_000), ("M", 1_000_000), ("k", 1000), ("h", 100),
        ("d", Decimal(sign: .plus, exponent: -1, significand: 1)),
        ("c", Decimal(sign: .plus, exponent: -2, significand: 1)),
        ("m", Decimal(sign: .plus, exponent: -3, significand: 1)),
        ("u", Decimal(sign: .plus, exponent: -6, significand: 1)),
        ("n", Decimal(sign: .plus, exponent: -9, significand: 1)),
        ("p", Decimal(sign: .plus, exponent: -12, significand: 1)),
        ("f", Decimal(sign: .plus, exponent: -15, significand: 1)),
        ("a", Decimal(sign: .plus, exponent: -18, significand: 1)),
        ("z", Decimal(sign: .plus, exponent: -21, significand: 1)),
        ("y", Decimal(sign: .plus, exponent: -24, significand: 1)),
    ]

    /// Parses a UCUM unit expression (`mg/dL`, `mmol/L`, `10*3/uL`, `kg.m/s2`, `{cells}/uL`).
    static func parse(_ text: String) -> UCUMUnit? {
        // A store indexes the same few units over and over: each is parsed once.
        if let known = parsed.withLock({ $0[text] }) { return known }
        let unit = parse(text, atoms: atoms)
        parsed.withLock { cache in
            if cache.count >= 4096 { cache.removeAll(keepingCapacity: true) }
            cache[text] = .some(unit)
        }
        return unit
    }

    /// Units parsed so far (a failed parse as `nil`), bounded.
    private static let parsed = Mutex<[String: UCUMUnit?]>([:])

    /// Where a symbol's exponent starts (`m2`, `s-1`): trailing digits and an optional sign before them.
    static func trailingExponent(_ symbol: String) -> String.Index? {
        let utf8 = symbol.utf8
        var start = utf8.endIndex
        while start > utf8.startIndex {
            let before = utf8.index(before: start)
            guard utf8[before] >= UInt8(ascii: "0"), utf8[before] <= UInt8(ascii: "9") else { break }
            start = before
        }
        guard start != utf8.endIndex else { return nil }
        if start > utf8.startIndex {
            let before = utf8.index(before: start)
            if utf8[before] == UInt8(ascii: "+") || utf8[before] == UInt8(ascii: "-") { start = before }
        }
        return start
    }

    private static func parse(_ text: String, atoms: [String: (metric: Bool, unit: UCUMUnit)]) -> UCUMUnit? {
        var scanner = Scanner(bytes: Array(text.utf8), atoms: atoms)
        guard !text.isEmpty, let unit = scanner.term(), scanner.position == scanner.bytes.count else { return nil }
        return unit
    }

    private struct Scanner {
        let bytes: [UInt8]
        let atoms: [String: (metric: Bool, unit: UCUMUnit)]
        var position = 0

        init(bytes: [UInt8], atoms: [String: (metric: Bool, unit: UCUMUnit)]) {
            self.bytes = bytes
            self.atoms = atoms
        }

        mutating func term() -> UCUMUnit? {
            var result = UCUMUnit(dimension: Array(repeating: 0, count: 9), factor: 1, special: nil)
            var dividing = false
            if position < bytes.count, bytes[position] == UInt8(ascii: "/") {
                dividing = true
                position += 1
            }
            while true {
                guard let component = component() else { return nil }
                if component.special != nil {
                    guard result.dimension.allSatisfy({ $0 == 0 }), !dividing else { return nil }
                    result.special = component.special
                }
                for index in 0..<9 {
                    result.dimension[index] += dividing ? -component.dimension[index] : component.dimension[index]
                }
                guard
                    let factor = FHIRPathDecimal.calculate(
                        result.factor, dividing ? .divide : .multiply, component.factor)
                else { return nil }
                result.factor = factor
                guard position < bytes.count,
                    bytes[position] == UInt8(ascii: ".") || bytes[position] == UInt8(ascii: "/")
                else { return result }
                dividing = bytes[position] == UInt8(ascii: "/")
                position += 1
            }
        }

        mutating func component() -> UCUMUnit? {
            guard position < bytes.count else { return nil }
            if bytes[position] == UInt8(ascii: "(") {
                position += 1
                guard let inner = term(), position < bytes.count, bytes[position] == UInt8(ascii: ")") else {
                    return nil
                }
                position += 1
                return inner
            }
            if bytes[position] == UInt8(ascii: "{") {
                // An annotation alone is the unity.
                guard let close = bytes[position...].firstIndex(of: UInt8(ascii: "}")) else { return nil }
                position = close + 1
                return UCUMUnit(dimension: Array(repeating: 0, count: 9), factor: 1, special: nil)
            }
            // The symbol: up to the next operator, keeping brackets whole.
            let start = position
            var depth = 0
            while position < bytes.count {
                let byte = bytes[position]
                if byte == UInt8(ascii: "[") { depth += 1 }
                if byte == UInt8(ascii: "]") { depth -= 1 }
                if depth == 0,
                    byte == UInt8(ascii: ".") || byte == UInt8(ascii: "/") || byte == UInt8(ascii: "(")
                        || byte == UInt8(ascii: ")") || byte == UInt8(ascii: "{")
                {
                    break
                }
                position += 1
            }
            var symbol = String(decoding: bytes[start..<position], as: UTF8.self)
            // A trailing annotation (`mg{total}`) does not change the unit.
            if position < bytes.count, bytes[position] == UInt8(ascii: "{"),
                let close = bytes[position...].firstIndex(of: UInt8(ascii: "}"))
            {
                position = close + 1
            }
            if symbol.hasPrefix("10*") || symbol.hasPrefix("10^") {
                guard let exponent = Int(symbol.dropFirst(3)), exponent.magnitude < 30 else { return nil }
                return UCUMUnit(
                    dimension: Array(repeating: 0, count: 9),
                    factor: Decimal(sign: .plus, exponent: exponent, significand: 1), special: nil)
            }
            if let number = Int(symbol) {
                return UCUMUnit(dimension: Array(repeating: 0, count: 9), factor: Decimal(number), special: nil)
            }
            // An exponent at the end (`m2`, `s-1`), unless the symbol is an atom as written.
            var exponent = 1
            if atoms[symbol] == nil, let start = UCUMUnit.trailingExponent(symbol), start != symbol.utf8.startIndex,
                let value = Int(symbol[start...]), value.magnitude <= 12
            {
                exponent = value
                symbol = String(symbol[..<start])
            }
            guard var unit = Self.atom(symbol, atoms: atoms) else { return nil }
            if exponent != 1 {
                guard unit.special == nil, exponent != 0 else { return nil }
                let base = unit
                for _ in 1..<abs(exponent) {
                    // `u6`: (1.66e-24 g)⁶ is beyond Decimal's range; such a unit is no unit here.
                    guard let factor = FHIRPathDecimal.calculate(unit.factor, .multiply, base.factor) else {
                        return nil
                    }
                    unit.factor = factor
                }
                for index in 0..<9 { unit.dimension[index] = base.dimension[index] * Int8(clamping: abs(exponent)) }
                if exponent < 0 {
                    guard let inverse = FHIRPathDecimal.calculate(1, .divide, unit.factor) else { return nil }
                    unit.factor = inverse
                    unit.dimension = unit.dimension.map { -$0 }
                }
            }
            return unit
        }

        static func atom(_ symbol: String, atoms: [String: (metric: Bool, unit: UCUMUnit)]) -> UCUMUnit? {
            if let atom = atoms[symbol] { return atom.unit }
            for (prefix, factor) in UCUMUnit.prefixes where symbol.hasPrefix(prefix) {
                if let atom = atoms[String(symbol.dropFirst(prefix.count))], atom.metric {
                    var unit = atom.unit
                    guard let product = FHIRPathDecimal.calculate(unit.factor, .multiply, factor) else { return nil }
                    unit.factor = product
                    return unit
                }
            }
            return nil
        }
    }
}

extension FHIRPathQuantity {
    /// The same amount in another unit of the same dimension (`1 'g'` in `'mg'` is `1000 'mg'`).
    func converted(toUnitOf other: FHIRPathQuantity) -> FHIRPathQuantity? {
        if unit == other.unit, calendarUnit == other.calendarUnit { return self }
        let source = calendarUnit.flatMap(\.definiteUCUM) ?? unit
        let target = other.calendarUnit.flatMap(\.definiteUCUM) ?? other.unit
        guard let from = UCUMUnit.parse(source), let to = UCUMUnit.parse(target), from.isSameDimension(as: to),
            from.special == nil
        else { return nil }
        var result = other
        guard let scaled = FHIRPathDecimal.calculate(value.value, .multiply, from.factor),
            let converted = FHIRPathDecimal.calculate(scaled, .divide, to.factor)
        else { return nil }
        result.value = FHIRPathDecimal(converted, scale: FHIRPathDecimal.naturalScale(of: converted, limit: 8))
        return result
    }
}

extension UCUMUnit {
    /// The unit's dimension written in base units (`g.m-3`, `mol/L` becomes `mol.m-3`), `1` when dimensionless.
    var baseUnitText: String {
        let symbols = ["m", "g", "s", "mol", "K", "A", "cd", "mo", "[arb]"]
        let parts = zip(symbols, dimension).compactMap { symbol, exponent -> String? in
            exponent == 0 ? nil : (exponent == 1 ? symbol : "\(symbol)\(exponent)")
        }
        return parts.isEmpty ? "1" : parts.joined(separator: ".")
    }
}
