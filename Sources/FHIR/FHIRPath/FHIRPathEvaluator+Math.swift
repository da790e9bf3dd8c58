import Foundation

extension FHIRPathEvaluator {
    /// Math on numbers (and `abs` on quantities), boundaries, `precision()` and `comparable()`.
    func callMathFunction(
        _ function: FHIRPathFunction, on value: FHIRPathValue, arguments: [FHIRPathNode],
        focus: [FHIRPathValue], scope: Scope, at offset: Int
    ) throws(FHIRError) -> [FHIRPathValue] {
        func argument(_ index: Int) throws(FHIRError) -> [FHIRPathValue] {
            try evaluate(arguments[index], focus, scope)
        }
        func numberArgument(_ index: Int) throws(FHIRError) -> FHIRPathDecimal? {
            let values = try argument(index)
            guard let first = values.first else { return nil }
            switch first.system {
            case .integer, .decimal: return Self.decimal(first.system)
            default: throw failure("\(function.rawValue)() needs a number argument", at: offset)
            }
        }
        switch function {
        case .lowBoundary, .highBoundary:
            let precision = arguments.isEmpty ? nil : try integerArgument(try argument(0), function, at: offset)
            return Self.boundary(of: value, precision: precision, isHigh: function == .highBoundary).map { [$0] } ?? []
        case .precision:
            switch value {
            case .decimal(let number): return [.integer(number.scale)]
            case .integer: return [.integer(0)]
            case .temporal(let temporal): return [.integer(Self.digits(of: temporal.precision, kind: temporal.kind))]
            default: throw failure("precision() applies to decimals, dates and times", at: offset)
            }
        case .comparable:
            guard case .quantity(let quantity) = value, let other = try argument(0).first,
                let otherQuantity = Self.toQuantity(other)
            else { throw failure("comparable() compares two quantities", at: offset) }
            return Self.collection(quantity.isComparable(to: otherQuantity))
        case .abs:
            switch value {
            case .integer(let number):
                // |Int.min| does not fit: the result is empty, as for any overflow.
                return number == .min ? [] : [.integer(Swift.abs(number))]
            case .decimal(let number): return [.decimal(FHIRPathDecimal(Swift.abs(number.value), scale: number.scale))]
            case .quantity(var quantity):
                quantity.value.value = Swift.abs(quantity.value.value)
                return [.quantity(quantity)]
            default: break
            }
        default:
            break
        }
        let number: FHIRPathDecimal
        switch value {
        case .integer, .decimal: number = Self.decimal(value)
        default: throw failure("\(function.rawValue)() applies to a number, not \(Self.describe(value))", at: offset)
        }
        func whole(_ mode: NSDecimalNumber.RoundingMode) -> [FHIRPathValue] {
            [.integer(NSDecimalNumber(decimal: FHIRPathDecimal.rounded(number.value, scale: 0, mode: mode)).intValue)]
        }
        func real(_ result: Double) -> [FHIRPathValue] {
            FHIRPathDecimal(double: result).map { [.decimal($0)] } ?? []
        }
        switch function {
        case .ceiling: return whole(.up)
        case .floor: return whole(.down)
        case .truncate: return whole(number.value < 0 ? .up : .down)
        case .round:
            let digits = arguments.isEmpty ? 0 : try integerArgument(try argument(0), function, at: offset) ?? 0
            guard digits >= 0, digits <= 28 else {
                throw failure("round() needs a precision from 0 to 28", at: offset)
            }
            return [.decimal(FHIRPathDecimal(FHIRPathDecimal.rounded(number.value, scale: digits), scale: digits))]
        case .exp: return real(Foundation.exp(number.doubleValue))
        case .ln: return number.value > 0 ? real(Foundation.log(number.doubleValue)) : []
        case .sqrt: return number.value >= 0 ? real(Foundation.sqrt(number.doubleValue)) : []
        case .log:
            guard let base = try numberArgument(0), base.value > 0, base.value != 1, number.value > 0 else { return [] }
            return real(Foundation.log(number.doubleValue) / Foundation.log(base.doubleValue))
        case .power:
            guard let exponent = try numberArgument(0) else { return [] }
            if case .integer(let base) = value, let power = try argument(0).first,
                case .integer(let times) = power.system,
                times >= 0
            {
                // 0, 1 and -1 never overflow, so they are answered without a loop that could run 2^63 times.
                if base == 0 { return [.integer(times == 0 ? 1 : 0)] }
                if base == 1 { return [.integer(1)] }
                if base == -1 { return [.integer(times % 2 == 0 ? 1 : -1)] }
                var result = 1
                for _ in 0..<times {
                    let (product, overflow) = result.multipliedReportingOverflow(by: base)
                    if overflow { return [] }
                    result = product
                }
                return [.integer(result)]
            }
            return real(Foundation.pow(number.doubleValue, exponent.doubleValue))
        default:
            throw failure("\(function.rawValue)() is not available here", at: offset)
        }
    }

    /// The number of digits a temporal precision spans, as `precision()` and the boundaries count them.
    static func digits(of precision: FHIRPathTemporal.Precision, kind: FHIRPathTemporal.Kind) -> Int {
        if kind == .time {
            switch precision {
            case .hour: return 2
            case .minute: return 4
            case .second: return 6
            default: return 9
            }
        }
        switch precision {
        case .year: return 4
        case .month: return 6
        case .day: return 8
        case .hour: return 10
        case .minute: return 12
        case .second: return 14
        case .millisecond: return 17
        }
    }

    /// The least or greatest value that a value of limited precision may stand for, at `precision` digits.
    static func boundary(of value: FHIRPathValue, precision: Int?, isHigh: Bool) -> FHIRPathValue? {
        switch value {
        case .integer, .decimal:
            return decimalBoundary(decimal(value), precision: precision ?? 8, isHigh: isHigh).map { .decimal($0) }
        case .quantity(var quantity):
            guard let bound = decimalBoundary(quantity.value, precision: precision ?? 8, isHigh: isHigh) else {
                return nil
            }
            quantity.value = bound
            return .quantity(quantity)
        case .temporal(let temporal):
            return temporalBoundary(temporal, precision: precision, isHigh: isHigh).map { .temporal($0) }
        default:
            return nil
        }
    }

    private static func decimalBoundary(_ number: FHIRPathDecimal, precision: Int, isHigh: Bool) -> FHIRPathDecimal? {
        guard precision >= 0, precision <= 28 else { return nil }
        let half = Decimal(sign: .plus, exponent: -(number.scale + 1), significand: 5)
        if precision < number.scale,
            FHIRPathDecimal.rounded(number.value, scale: precision, mode: number.value < 0 ? .up : .down).isZero
        {
            // Below the requested precision the value is indistinguishable from zero.
            var zero = FHIRPathDecimal(0, scale: precision)
            zero.isNegativeZero = number.value < 0
            return zero
        }
        guard let bound = FHIRPathDecimal.calculate(number.value, isHigh ? .add : .subtract, half) else { return nil }
        let rounded = FHIRPathDecimal.rounded(bound, scale: precision, mode: isHigh ? .up : .down)
        return FHIRPathDecimal(rounded, scale: precision)
    }

    private static func temporalBoundary(
        _ temporal: FHIRPathTemporal, precision digits: Int?, isHigh: Bool
    )
        -> FHIRPathTemporal?
    {
        let precisions: [FHIRPathTemporal.Precision] =
            switch temporal.kind {
            case .date: [.year, .month, .day]
            case .dateTime: [.year, .month, .day, .hour, .minute, .second, .millisecond]
            case .time: [.hour, .minute, .second, .millisecond]
            }
        let target: FHIRPathTemporal.Precision
        if let digits {
            guard let match = precisions.first(where: { Self.digits(of: $0, kind: temporal.kind) == digits }) else {
                return nil
            }
            target = match
        } else {
            target = precisions.last ?? .millisecond
        }
        var result = temporal
        // An hour alone is not a FHIR time; it stands for hh:00.
        if result.precision == .hour, target > .hour { result.precision = .minute }
        if target > result.precision {
            if result.precision < .month { result.month = isHigh ? 12 : 1 }
            if result.precision < .day {
                result.day = isHigh ? FHIRPathTemporal.daysIn(month: result.month, year: result.year) : 1
            }
            if result.precision < .hour { result.hour = isHigh ? 23 : 0 }
            if result.precision < .minute { result.minute = isHigh ? 59 : 0 }
            if result.precision < .second { result.second = isHigh ? 59 : 0 }
            if result.precision < .millisecond { result.millisecond = isHigh ? 999 : 0 }
        }
        if temporal.kind == .dateTime, target >= .hour, result.timeZoneOffset == nil {
            result.timeZoneOffset = isHigh ? -12 * 60 : 14 * 60
        }
        result.precision = target
        if temporal.kind == .dateTime, target <= .day {
            result.kind = .date
            result.timeZoneOffset = nil
        }
        return result
    }
}
