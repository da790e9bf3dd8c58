import Foundation

extension FHIRPathEvaluator {
    func call(
        _ function: FHIRPathFunction, target: FHIRPathNode?, on input: [FHIRPathValue], arguments: [FHIRPathNode],
        focus: [FHIRPathValue], scope: Scope, at offset: Int
    ) throws(FHIRError) -> [FHIRPathValue] {
        /// An argument evaluated where the call stands (not per input item).
        func argument(_ index: Int) throws(FHIRError) -> [FHIRPathValue] {
            try evaluate(arguments[index], focus, scope)
        }
        /// The one-item focus of each iteration, reused: its buffer is written in place once the
        /// previous iteration's results are gone, so iterating allocates once, not once per item.
        var single: [FHIRPathValue] = []
        func itemFocus(_ item: FHIRPathValue) -> [FHIRPathValue] {
            if single.isEmpty { single.append(item) } else { single[0] = item }
            return single
        }
        /// A criterion evaluated for one item, as a Boolean.
        func holds(_ node: FHIRPathNode, for item: FHIRPathValue, at index: Int) throws(FHIRError) -> Bool? {
            try boolean(
                try evaluate(node, itemFocus(item), Scope(this: item, index: index, total: scope.total)), at: offset)
        }

        if environment.isStrict, Self.orderedFunctions.contains(function),
            let source = target?.function, target?.kind == .function, source == .children || source == .descendants
        {
            throw failure(
                "\(function.rawValue)() depends on order, which \(source.rawValue)() does not define", at: offset)
        }
        switch function {
        // MARK: Existence
        case .empty:
            return Self.collection(input.isEmpty)
        case .exists:
            guard let criterion = arguments.first else { return Self.collection(!input.isEmpty) }
            for (index, item) in input.enumerated() where try holds(criterion, for: item, at: index) == true {
                return Self.collection(true)
            }
            return Self.collection(false)
        case .all:
            for (index, item) in input.enumerated() where try holds(arguments[0], for: item, at: index) != true {
                return Self.collection(false)
            }
            return Self.collection(true)
        case .allTrue, .anyTrue, .allFalse, .anyFalse:
            let wanted = function == .allTrue || function == .anyTrue
            let isAll = function == .allTrue || function == .allFalse
            var result = isAll
            for item in input {
                guard case .boolean(let value) = item.system else {
                    throw failure("\(function.rawValue)() works on Booleans, not \(Self.describe(item))", at: offset)
                }
                if isAll, value != wanted { result = false }
                if !isAll, value == wanted { result = true }
            }
            return Self.collection(result)
        case .subsetOf, .supersetOf:
            let other = try argument(0)
            let (subset, superset) = function == .subsetOf ? (input, other) : (other, input)
            return Self.collection(subset.allSatisfy { item in superset.contains { Self.equal($0, item) == true } })
        case .count:
            return [.integer(input.count)]
        case .distinct:
            return Self.distinct(input)
        case .isDistinct:
            return Self.collection(Self.distinct(input).count == input.count)

        // MARK: Filtering and projection
        case .where:
            var output: [FHIRPathValue] = []
            for (index, item) in input.enumerated() where try holds(arguments[0], for: item, at: index) == true {
                output.append(item)
            }
            return output
        case .select:
            var output: [FHIRPathValue] = []
            for (index, item) in input.enumerated() {
                output += try evaluate(
                    arguments[0], itemFocus(item), Scope(this: item, index: index, total: scope.total))
            }
            return output
        case .repeat:
            var output: [FHIRPathValue] = []
            var pending = input
            while !pending.isEmpty {
                var next: [FHIRPathValue] = []
                for (index, item) in pending.enumerated() {
                    for child in try evaluate(arguments[0], [item], Scope(this: item, index: index, total: scope.total))
                    where !output.contains(where: { Self.equal($0, child) == true }) {
                        output.append(child)
                        next.append(child)
                    }
                }
                pending = next
            }
            return output
        case .ofType:
            let type = Self.typeSpecifier(arguments[0])
            try checkKnown(type, at: offset)
            return input.filter { isType($0, type, exactPrimitive: true) }

        // MARK: Subsetting
        case .single:
            guard input.count <= 1 else {
                throw failure("single() found \(input.count) items where one was expected", at: offset)
            }
            return input
        case .first:
            return input.first.map { [$0] } ?? []
        case .last:
            return input.last.map { [$0] } ?? []
        case .tail:
            return Array(input.dropFirst())
        case .skip, .take:
            guard let count = try integerArgument(try argument(0), function, at: offset) else { return [] }
            if function == .skip { return count <= 0 ? input : Array(input.dropFirst(count)) }
            return count <= 0 ? [] : Array(input.prefix(count))
        case .intersect:
            let other = try argument(0)
            return Self.distinct(input.filter { item in other.contains { Self.equal($0, item) == true } })
        case .exclude:
            let other = try argument(0)
            return input.filter { item in !other.contains { Self.equal($0, item) == true } }

        // MARK: Combining
        case .union:
            return Self.distinct(input + (try argument(0)))
        case .combine:
            return input + (try argument(0))

        // MARK: Conditional
        case .iif:
            guard input.count <= 1 else {
                throw failure("iif() applies to at most one item, not \(input.count)", at: offset)
            }
            let itemScope = input.first.map { Scope(this: $0, index: scope.index, total: scope.total) } ?? scope
            let itemFocus = input.isEmpty ? focus : input
            let condition = try evaluate(arguments[0], itemFocus, itemScope)
            if condition.count == 1, case .boolean = condition[0].system {
            } else if !condition.isEmpty {
                throw failure("the criterion of iif() must be a single Boolean", at: offset)
            }
            if try boolean(condition, at: offset) == true { return try evaluate(arguments[1], itemFocus, itemScope) }
            return arguments.count > 2 ? try evaluate(arguments[2], itemFocus, itemScope) : []

        // MARK: Tree navigation
        case .children:
            var output: [FHIRPathValue] = []
            for item in input { appendAllChildren(of: item, to: &output) }
            return output
        case .descendants:
            var output: [FHIRPathValue] = []
            var pending = input
            while !pending.isEmpty {
                var next: [FHIRPathValue] = []
                for item in pending { appendAllChildren(of: item, to: &next) }
                output += next
                pending = next
            }
            return output

        // MARK: Utility
        case .trace:
            let name = try argument(0).first?.stringValue ?? ""
            let shown: [FHIRPathValue]
            if arguments.count > 1 {
                var projected: [FHIRPathValue] = []
                for (index, item) in input.enumerated() {
                    projected += try evaluate(arguments[1], [item], Scope(this: item, index: index, total: scope.total))
                }
                shown = projected
            } else {
                shown = input
            }
            environment.trace?(name, shown)
            return input
        case .now:
            return [.temporal(Self.temporal(environment.now, kind: .dateTime))]
        case .today:
            return [.temporal(Self.temporal(environment.now, kind: .date))]
        case .timeOfDay:
            return [.temporal(Self.temporal(environment.now, kind: .time))]
        case .not:
            guard let value = try boolean(input, at: offset) else { return [] }
            return Self.collection(!value)
        case .aggregate:
            var total = arguments.count > 1 ? try argument(1) : []
            for (index, item) in input.enumerated() {
                total = try evaluate(arguments[0], [item], Scope(this: item, index: index, total: total))
            }
            return total
        case .sort:
            return try sort(input, keys: arguments, scope: scope, at: offset)

        // MARK: Types
        case .is, .as:
            guard !input.isEmpty else { return [] }
            if function == .as, environment.castsCollections, input.count > 1 {
                let type = Self.typeSpecifier(arguments[0])
                try checkKnown(type, at: offset)
                return input.filter { isType($0, type, exactPrimitive: true) }
            }
            guard input.count == 1 else {
                throw failure("\(function.rawValue)() applies to a single item, not \(input.count)", at: offset)
            }
            let type = Self.typeSpecifier(arguments[0])
            try checkKnown(type, at: offset)
            if function == .as { return isType(input[0], type, exactPrimitive: true) ? input : [] }
            return Self.collection(isType(input[0], type))
        case .type:
            return input.map { item in
                let info = item.typeInfo
                return .element(
                    FHIRPathElement(
                        value: ["namespace": .string(info.namespace), "name": .string(info.name)],
                        typeName: "SimpleTypeInfo", node: -1, primitive: nil))
            }

        default:
            return try callValueFunction(
                function, on: input, arguments: arguments, focus: focus, scope: scope, at: offset)
        }
    }

    /// Functions whose result depends on the order of their input.
    static let orderedFunctions: Set<FHIRPathFunction> = [.first, .last, .tail, .skip, .take, .single]

    /// The type name a type argument was parsed into.
    static func typeSpecifier(_ node: FHIRPathNode) -> FHIRPathTypeSpecifier {
        node.type ?? FHIRPathTypeSpecifier(namespace: nil, name: "")
    }

    /// A string argument: empty when the argument is empty, an error when it is anything but one string.
    func stringArgument(
        _ node: FHIRPathNode, focus: [FHIRPathValue], scope: Scope, of function: FHIRPathFunction, at offset: Int
    ) throws(FHIRError) -> String? {
        let values = try evaluate(node, focus, scope)
        guard let first = values.first else { return nil }
        guard values.count == 1, case .string(let text) = first.system else {
            throw failure("\(function.rawValue)() needs a string argument", at: offset)
        }
        return text
    }

    func integerArgument(
        _ values: [FHIRPathValue], _ function: FHIRPathFunction, at offset: Int
    ) throws(FHIRError) -> Int? {
        guard let first = values.first else { return nil }
        guard values.count == 1, case .integer(let value) = first.system else {
            throw failure("\(function.rawValue)() needs an integer argument", at: offset)
        }
        return value
    }

    /// Every child element of an item, in document order.
    func appendAllChildren(of item: FHIRPathValue, to output: inout [FHIRPathValue]) {
        guard case .element(let element) = item else { return }
        guard case .object(let object) = element.value else {
            if let extras = element.extras {
                for (key, value) in extras where key == "id" || key == "extension" {
                    append(value, extras: nil, slot: nil, typeName: key == "id" ? "string" : "Extension", to: &output)
                }
            }
            return
        }
        let node = element.node >= 0 ? definitions.nodeList[element.node] : nil
        for member in object.members {
            let key = member.key
            if key == "resourceType" || key.utf8.first == UInt8(ascii: "_") {
                // `_name` members are reached through their primitive; one without a value still counts.
                if key.utf8.first == UInt8(ascii: "_"), object.index(forKey: String(key.dropFirst())) == nil {
                    let slot = node?.slot(named: String(key.dropFirst()))
                    append(.null, extras: member.value, slot: slot, typeName: nil, to: &output)
                }
                continue
            }
            let slot = node?.slot(named: key)
            let extras = (slot?.isPrimitive ?? true) ? Self.extrasMember(of: object, for: key) : nil
            append(member.value, extras: extras, slot: slot, typeName: nil, to: &output)
        }
    }

    static func temporal(_ date: Date, kind: FHIRPathTemporal.Kind) -> FHIRPathTemporal {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone.current
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second, .nanosecond], from: date)
        var value = FHIRPathTemporal(kind: kind, precision: kind == .date ? .day : .millisecond)
        value.year = parts.year ?? 1970
        value.month = parts.month ?? 1
        value.day = parts.day ?? 1
        if kind != .date {
            value.hour = parts.hour ?? 0
            value.minute = parts.minute ?? 0
            value.second = parts.second ?? 0
            value.millisecond = (parts.nanosecond ?? 0) / 1_000_000
        }
        if kind == .dateTime { value.timeZoneOffset = TimeZone.current.secondsFromGMT(for: date) / 60 }
        return value
    }

    /// `sort(key, …)`: a key written with unary minus sorts descending.
    private func sort(
        _ input: [FHIRPathValue], keys: [FHIRPathNode], scope: Scope, at offset: Int
    ) throws(FHIRError)
        -> [FHIRPathValue]
    {
        let specs: [(node: FHIRPathNode, descending: Bool)] = keys.map { key in
            if key.kind == .negate, let inner = key.target { return (inner, true) }
            return (key, false)
        }
        var keyed: [(item: FHIRPathValue, keys: [FHIRPathValue?])] = []
        for (index, item) in input.enumerated() {
            var values: [FHIRPathValue?] = []
            for spec in specs {
                values.append(
                    try evaluate(spec.node, [item], Scope(this: item, index: index, total: scope.total)).first)
            }
            keyed.append((item, values))
        }
        let sorted = keyed.sorted { left, right in
            if specs.isEmpty {
                return (try? compare(left.item, right.item, .lessThan, at: offset)).flatMap { $0 } ?? 0 < 0
            }
            for (position, spec) in specs.enumerated() {
                switch (left.keys[position], right.keys[position]) {
                case (nil, nil): continue
                case (nil, _): return spec.descending
                case (_, nil): return !spec.descending
                case (let a?, let b?):
                    guard let order = (try? compare(a, b, .lessThan, at: offset)).flatMap({ $0 }), order != 0 else {
                        continue
                    }
                    return spec.descending ? order > 0 : order < 0
                }
            }
            return false
        }
        return sorted.map { $0.item }
    }
}
