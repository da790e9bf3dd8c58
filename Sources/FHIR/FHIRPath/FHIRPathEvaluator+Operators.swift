import Foundation

extension FHIRPathEvaluator {
    func binary(
        _ op: FHIRPathOperator, _ leftNode: FHIRPathNode, _ rightNode: FHIRPathNode,
        focus: [FHIRPathValue], scope: Scope, at offset: Int
    ) throws(FHIRError) -> [FHIRPathValue] {
        switch op {
        case .and:
            let left = try boolean(try evaluate(leftNode, focus, scope), op, at: offset)
            if left == false { return Self.collection(false) }
            let right = try boolean(try evaluate(rightNode, focus, scope), op, at: offset)
            if right == false { return Self.collection(false) }
            return left == true && right == true ? Self.collection(true) : []
        case .or:
            let left = try boolean(try evaluate(leftNode, focus, scope), op, at: offset)
            if left == true { return Self.collection(true) }
            let right = try boolean(try evaluate(rightNode, focus, scope), op, at: offset)
            if right == true { return Self.collection(true) }
            return left == false && right == false ? Self.collection(false) : []
        case .implies:
            let left = try boolean(try evaluate(leftNode, focus, scope), op, at: offset)
            if left == false { return Self.collection(true) }
            let right = try boolean(try evaluate(rightNode, focus, scope), op, at: offset)
            if right == true { return Self.collection(true) }
            return left == true && right == false ? Self.collection(false) : []
        case .xor:
            let left = try boolean(try evaluate(leftNode, focus, scope), op, at: offset)
            let right = try boolean(try evaluate(rightNode, focus, scope), op, at: offset)
            guard let left, let right else { return [] }
            return Self.collection(left != right)
        default:
            break
        }
        let left = try evaluate(leftNode, focus, scope)
        let right = try evaluate(rightNode, focus, scope)
        switch op {
        case .union:
            if right.isEmpty, left.count <= 1 { return left }
            if left.isEmpty, right.count <= 1 { return right }
            return Self.distinct(left + right)
        case .equal, .notEqual:
            guard !left.isEmpty, !right.isEmpty else { return [] }
            guard let equal = Self.equal(left, right) else { return [] }
            return Self.collection(equal == (op == .equal))
        case .equivalent, .notEquivalent:
            return Self.collection(Self.equivalent(left, right) == (op == .equivalent))
        case .lessThan, .lessOrEqual, .greaterThan, .greaterOrEqual:
            guard let (leftItem, rightItem) = try singletons(left, right, op, at: offset) else { return [] }
            guard let order = try compare(leftItem, rightItem, op, at: offset) else { return [] }
            switch op {
            case .lessThan: return Self.collection(order < 0)
            case .lessOrEqual: return Self.collection(order <= 0)
            case .greaterThan: return Self.collection(order > 0)
            default: return Self.collection(order >= 0)
            }
        case .in, .contains:
            let (item, collection) = op == .in ? (left, right) : (right, left)
            guard !item.isEmpty else { return [] }
            guard item.count == 1 else {
                throw failure("'\(op.rawValue)' needs a single item to look for, not \(item.count)", at: offset)
            }
            return Self.collection(collection.contains { Self.equal($0, item[0]) == true })
        case .concatenate:
            guard left.count <= 1, right.count <= 1 else {
                throw failure(
                    "'&' needs single strings, not collections of \(max(left.count, right.count))", at: offset)
            }
            let leftText = left.first.map { $0.system }
            let rightText = right.first.map { $0.system }
            var text = ""
            for part in [leftText, rightText] {
                guard let part else { continue }
                guard case .string(let string) = part else {
                    throw failure("'&' joins strings, not \(Self.describe(part))", at: offset)
                }
                text += string
            }
            return [.string(text)]
        default:
            guard let (leftItem, rightItem) = try singletons(left, right, op, at: offset) else { return [] }
            return try arithmetic(op, leftItem.system, rightItem.system, at: offset)
        }
    }

    /// A collection as a three-valued Boolean: empty is unknown, one Boolean is itself, any other single item is true.
    func boolean(_ items: [FHIRPathValue], _ op: FHIRPathOperator? = nil, at offset: Int) throws(FHIRError) -> Bool? {
        guard !items.isEmpty else { return nil }
        guard items.count == 1 else {
            let what = op.map { "'\($0.rawValue)'" } ?? "a condition"
            throw failure("\(what) needs a single Boolean, not a collection of \(items.count)", at: offset)
        }
        if case .boolean(let value) = items[0].system { return value }
        return true
    }

    private func singletons(
        _ left: [FHIRPathValue], _ right: [FHIRPathValue], _ op: FHIRPathOperator, at offset: Int
    )
        throws(FHIRError) -> (FHIRPathValue, FHIRPathValue)?
    {
        guard !left.isEmpty, !right.isEmpty else { return nil }
        guard left.count == 1, right.count == 1 else {
            throw failure(
                "'\(op.rawValue)' needs single values, not collections of \(left.count) and \(right.count)", at: offset)
        }
        return (left[0], right[0])
    }

    // MARK: - Equality

    /// Whether two collections are equal: same size, items equal in order; `nil` when some pair cannot be decided.
    static func equal(_ left: [FHIRPathValue], _ right: [FHIRPathValue]) -> Bool? {
        guard left.count == right.count else { return false }
        var isUnknown = false
        for (leftItem, rightItem) in zip(left, right) {
            switch equal(leftItem, rightItem) {
            case false: return false
            case nil: isUnknown = true
            default: break
            }
        }
        return isUnknown ? nil : true
    }

    static func equal(_ left: FHIRPathValue, _ right: FHIRPathValue) -> Bool? {
        switch (left.system, right.system) {
        case (.boolean(let a), .boolean(let b)): return a == b
        case (.integer(let a), .integer(let b)): return a == b
        case (.integer(let a), .decimal(let b)): return Decimal(a) == b.value
        case (.decimal(let a), .integer(let b)): return a.value == Decimal(b)
        case (.decimal(let a), .decimal(let b)): return a.value == b.value
        case (.string(let a), .string(let b)): return a == b
        case (.temporal(let a), .temporal(let b)):
            guard (a.kind == .time) == (b.kind == .time) else { return false }
            return a.compare(to: b).map { $0 == 0 }
        case (.quantity(let a), .quantity(let b)): return a.compare(to: b).map { $0 == 0 }
        case (.quantity(let a), .element(let b)) where right.isFHIRQuantity:
            return b.quantityValue.flatMap { a.compare(to: $0) }.map { $0 == 0 }
        case (.element(let a), .quantity(let b)) where left.isFHIRQuantity:
            return a.quantityValue.flatMap { $0.compare(to: b) }.map { $0 == 0 }
        case (.element(let a), .element(let b)): return a.value == b.value && a.extras == b.extras
        default: return false
        }
    }

    /// Equivalence: order-free, strings compared ignoring case and spacing, numbers at the lesser precision.
    static func equivalent(_ left: [FHIRPathValue], _ right: [FHIRPathValue]) -> Bool {
        guard left.count == right.count else { return false }
        var unmatched = right
        for item in left {
            guard let position = unmatched.firstIndex(where: { equivalent(item, $0) }) else { return false }
            unmatched.remove(at: position)
        }
        return true
    }

    static func equivalent(_ left: FHIRPathValue, _ right: FHIRPathValue) -> Bool {
        switch (left.system, right.system) {
        case (.string(let a), .string(let b)): return normalized(a) == normalized(b)
        case (.integer(let a), .decimal(let b)): return FHIRPathDecimal(a).isEquivalent(to: b)
        case (.decimal(let a), .integer(let b)): return a.isEquivalent(to: FHIRPathDecimal(b))
        case (.decimal(let a), .decimal(let b)): return a.isEquivalent(to: b)
        case (.temporal(let a), .temporal(let b)): return a.compare(to: b) == 0
        case (.quantity(let a), .quantity(let b)): return a.isEquivalent(to: b) ?? false
        case (.element(let a), .element(let b)):
            guard case .object(let first) = a.value, case .object(let second) = b.value else {
                return a.value == b.value
            }
            // Complex values: every member equivalent, ignoring `id` and `extension`.
            let keys = Set(first.keys).union(second.keys).subtracting(["id", "extension"])
            for key in keys {
                guard let x = first[key], let y = second[key] else { return false }
                let xs = x.arrayValue ?? [x]
                let ys = y.arrayValue ?? [y]
                guard xs.count == ys.count else { return false }
                for (xi, yi) in zip(xs, ys) where !equivalent(.element(elementOf(xi)), .element(elementOf(yi))) {
                    return false
                }
            }
            return true
        default: return equal(left, right) ?? false
        }
    }

    private static func elementOf(_ json: JSON) -> FHIRPathElement {
        FHIRPathElement(value: json, typeName: "Element", node: -1, primitive: json.objectValue == nil ? .string : nil)
    }

    private static func normalized(_ text: String) -> String {
        text.lowercased().split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }

    /// The items in order with repeats (by equality) removed.
    static func distinct(_ items: [FHIRPathValue]) -> [FHIRPathValue] {
        var output: [FHIRPathValue] = []
        output.reserveCapacity(items.count)
        for item in items where !output.contains(where: { equal($0, item) == true }) {
            output.append(item)
        }
        return output
    }

    // MARK: - Ordering

    /// Orders two items; `nil` when the precisions or units leave the order undecided.
    func compare(
        _ left: FHIRPathValue, _ right: FHIRPathValue, _ op: FHIRPathOperator, at offset: Int
    )
        throws(FHIRError) -> Int?
    {
        switch (left.system, right.system) {
        case (.integer(let a), .integer(let b)): return a == b ? 0 : (a < b ? -1 : 1)
        case (.integer(let a), .decimal(let b)): return Self.order(Decimal(a), b.value)
        case (.decimal(let a), .integer(let b)): return Self.order(a.value, Decimal(b))
        case (.decimal(let a), .decimal(let b)): return Self.order(a.value, b.value)
        case (.string(let a), .string(let b)): return a == b ? 0 : (a < b ? -1 : 1)
        case (.temporal(let a), .temporal(let b)):
            guard (a.kind == .time) == (b.kind == .time) else {
                throw failure("'\(op.rawValue)' cannot compare a time with a date", at: offset)
            }
            return a.compare(to: b)
        case (.quantity(let a), .quantity(let b)): return a.compare(to: b)
        case (.quantity(let a), .element(let b)) where right.isFHIRQuantity:
            return b.quantityValue.flatMap { a.compare(to: $0) }
        case (.element(let a), .quantity(let b)) where left.isFHIRQuantity:
            return a.quantityValue.flatMap { $0.compare(to: b) }
        case (.element(let a), .element(let b)) where left.isFHIRQuantity && right.isFHIRQuantity:
            guard let x = a.quantityValue, let y = b.quantityValue else { return nil }
            return x.compare(to: y)
        default:
            throw failure(
                "'\(op.rawValue)' cannot compare \(Self.describe(left)) with \(Self.describe(right))", at: offset)
        }
    }

    static func order(_ a: Decimal, _ b: Decimal) -> Int {
        a == b ? 0 : (a < b ? -1 : 1)
    }

    // MARK: - Arithmetic

    private func arithmetic(
        _ op: FHIRPathOperator, _ left: FHIRPathValue, _ right: FHIRPathValue, at offset: Int
    )
        throws(FHIRError) -> [FHIRPathValue]
    {
        // Made only when thrown: written out for every operation, the message cost more than the arithmetic.
        var mismatch: FHIRError {
            failure("'\(op.rawValue)' does not apply to \(Self.describe(left)) and \(Self.describe(right))", at: offset)
        }
        switch (left, right) {
        case (.integer(let a), .integer(let b)):
            switch op {
            case .add: return Self.checked(a.addingReportingOverflow(b))
            case .subtract: return Self.checked(a.subtractingReportingOverflow(b))
            case .multiply: return Self.checked(a.multipliedReportingOverflow(by: b))
            case .divide: return FHIRPathDecimal(a).dividing(by: FHIRPathDecimal(b)).map { [.decimal($0)] } ?? []
            case .div: return b == 0 ? [] : Self.checked(a.dividedReportingOverflow(by: b))
            case .mod: return b == 0 ? [] : Self.checked(a.remainderReportingOverflow(dividingBy: b))
            default: throw mismatch
            }
        case (.integer, .decimal), (.decimal, .integer), (.decimal, .decimal):
            let a = Self.decimal(left)
            let b = Self.decimal(right)
            switch op {
            case .add: return a.adding(b).map { [.decimal($0)] } ?? []
            case .subtract: return a.subtracting(b).map { [.decimal($0)] } ?? []
            case .multiply: return a.multiplying(by: b).map { [.decimal($0)] } ?? []
            case .divide: return a.dividing(by: b).map { [.decimal($0)] } ?? []
            case .div:
                guard let quotient = a.dividing(by: b) else { return [] }
                return [
                    .integer(
                        NSDecimalNumber(
                            decimal: FHIRPathDecimal.rounded(
                                quotient.value, scale: 0, mode: quotient.value < 0 ? .up : .down)
                        ).intValue)
                ]
            case .mod:
                guard let quotient = a.dividing(by: b) else { return [] }
                let whole = FHIRPathDecimal.rounded(quotient.value, scale: 0, mode: quotient.value < 0 ? .up : .down)
                guard let product = FHIRPathDecimal.calculate(whole, .multiply, b.value),
                    let rest = FHIRPathDecimal.calculate(a.value, .subtract, product)
                else { return [] }
                return [.decimal(FHIRPathDecimal(rest, scale: max(a.scale, b.scale)))]
            default: throw mismatch
            }
        case (.string(let a), .string(let b)) where op == .add:
            return [.string(a + b)]
        case (.temporal(let date), .quantity(let quantity)) where op == .add || op == .subtract:
            let unit: FHIRPathQuantity.CalendarUnit
            if let calendar = quantity.calendarUnit {
                unit = calendar
            } else if let calendar = FHIRPathQuantity.CalendarUnit(ucum: quantity.unit)
                ?? FHIRPathQuantity.CalendarUnit(keyword: quantity.unit)
            {
                unit = calendar
            } else {
                throw failure(
                    "a date or time can only move by a calendar duration (year, month, week, day, hour, minute, second, millisecond), not '\(quantity.unit)'",
                    at: offset)
            }
            let amount = op == .add ? quantity.value.value : -quantity.value.value
            return date.adding(amount, unit: unit).map { [.temporal($0)] } ?? []
        case (.quantity(let a), .quantity(let b)):
            switch op {
            case .add, .subtract:
                guard let converted = b.converted(toUnitOf: a) else {
                    throw failure(
                        "'\(op.rawValue)' needs quantities in comparable units, not '\(a.unit)' and '\(b.unit)'",
                        at: offset)
                }
                var result = a
                guard
                    let value = op == .add
                        ? a.value.adding(converted.value) : a.value.subtracting(converted.value)
                else { return [] }
                result.value = value
                return [.quantity(result)]
            case .multiply, .divide:
                return a.combined(with: b, dividing: op == .divide).map { [.quantity($0)] } ?? []
            default: throw mismatch
            }
        case (.quantity(var a), .integer), (.quantity(var a), .decimal):
            let factor = Self.decimal(right)
            switch op {
            case .multiply:
                guard let product = a.value.multiplying(by: factor) else { return [] }
                a.value = product
            case .divide:
                guard let quotient = a.value.dividing(by: factor) else { return [] }
                a.value = quotient
            default: throw mismatch
            }
            return [.quantity(a)]
        case (.integer, .quantity(var b)), (.decimal, .quantity(var b)):
            guard op == .multiply else { throw mismatch }
            guard let product = Self.decimal(left).multiplying(by: b.value) else { return [] }
            b.value = product
            return [.quantity(b)]
        default:
            throw mismatch
        }
    }

    private static func checked(_ result: (partialValue: Int, overflow: Bool)) -> [FHIRPathValue] {
        result.overflow ? [] : [.integer(result.partialValue)]
    }

    static func decimal(_ value: FHIRPathValue) -> FHIRPathDecimal {
        switch value {
        case .integer(let integer): FHIRPathDecimal(integer)
        case .decimal(let decimal): decimal
        default: FHIRPathDecimal(0)
        }
    }
}
