/// Where an expression evaluated on a resource starts reading it, found from the expression's syntax:
/// a search parameter's `Observation.code | Observation.component.code` reads nothing but the
/// resource's `code` and `component`, so on a resource that has neither it yields nothing and need
/// not be evaluated.
enum ExpressionStart: Equatable {
    /// The result is the resource itself or part of it chosen by a condition (`Patient.where(…)`).
    case resource
    /// The result is empty unless the resource has one of these top-level elements (an element
    /// name as the definitions write it: `value` stands for `valueQuantity`, `_value`, …).
    case members(Set<String>)

    /// The start of `node` evaluated on a resource of `type`; `nil` when the syntax does not show it
    /// (constants, operators other than `|`, functions that make something from nothing).
    init?(_ node: FHIRPathNode, resourceType type: String) {
        switch node.kind {
        case .member:
            guard let target = node.target else {
                guard let first = node.name.utf8.first else { return nil }
                // A capitalised name at the start of a path selects the focus by type (FHIRPathEvaluator.children).
                if first >= UInt8(ascii: "A"), first <= UInt8(ascii: "Z") {
                    guard node.name == type || node.name == "Resource" || node.name == "DomainResource" else {
                        return nil
                    }
                    self = .resource
                } else {
                    self = .members([node.name])
                }
                return
            }
            switch ExpressionStart(target, resourceType: type) {
            case .resource?: self = .members([node.name])
            case let start?: self = start
            case nil: return nil
            }
        case .function:
            guard let target = node.target, let start = ExpressionStart(target, resourceType: type) else { return nil }
            switch (start, node.function) {
            case (.members, _) where Self.emptyStaysEmpty.contains(node.function):
                self = start
            case (.resource, .extension):
                self = .members(["extension"])
            case (.resource, _) where Self.selectsFromFocus.contains(node.function):
                self = .resource
            default:
                return nil
            }
        case .typeTest where node.isCast, .indexer:
            guard let target = node.target, let start = ExpressionStart(target, resourceType: type) else { return nil }
            self = start
        case .binary where node.op == .union:
            guard let left = node.target, let right = node.other,
                case .members(let leftNames)? = ExpressionStart(left, resourceType: type),
                case .members(let rightNames)? = ExpressionStart(right, resourceType: type)
            else { return nil }
            self = .members(leftNames.union(rightNames))
        default:
            return nil
        }
    }

    /// Functions whose result is empty when their input is (whatever their arguments).
    private static let emptyStaysEmpty: Set<FHIRPathFunction> = [
        .where, .select, .repeat, .ofType, .single, .first, .last, .tail, .skip, .take, .distinct, .as,
        .extension, .resolve, .children, .descendants, .trace, .getValue,
    ]

    /// Functions whose result is some of their input items.
    private static let selectsFromFocus: Set<FHIRPathFunction> = [
        .where, .ofType, .single, .first, .last, .distinct, .as, .trace,
    ]
}

/// Which of a list of expressions can find anything in a resource, from the resource's top-level
/// member names and each expression's `ExpressionStart`.
struct ExpressionSelector: Sendable {
    /// Per element name, the expressions that start from it.
    private let byName: [String: [Int]]
    /// Expressions whose start is not known: always evaluated.
    private let unknown: [Int]
    let count: Int
    /// The resource type's node, and per position in its `elements` the expressions that start from
    /// that element: a member found through the node's slots (`valueQuantity` is `value`'s) needs no
    /// name cut and hashed. `nil` when some start names no element of the type.
    private let node: ObjectNode?
    private let byElement: [[Int]]

    /// `names[i]`: the elements expression `i` starts from, `nil` when not known. `node`: the node of
    /// the resource type the expressions are evaluated on, when there is one.
    init(_ names: [[String]?], node: ObjectNode? = nil) {
        var byName: [String: [Int]] = [:]
        var unknown: [Int] = []
        for (index, names) in names.enumerated() {
            guard let names else {
                unknown.append(index)
                continue
            }
            for name in names { byName[name, default: []].append(index) }
        }
        self.byName = byName
        self.unknown = unknown
        count = names.count
        let elementNames = Set(node?.elements.map(\.name) ?? [])
        if let node, byName.keys.allSatisfy(elementNames.contains) {
            self.node = node
            byElement = node.elements.map { byName[$0.name] ?? [] }
        } else {
            self.node = nil
            byElement = []
        }
    }

    /// Whether each expression may find something in `object`: an element `name` is written as
    /// `name`, `_name` (a primitive's id and extensions) or, for a choice, `nameType` — so a member
    /// counts under its whole name and under every prefix that ends before a capital letter.
    func selected(in object: JSONObject) -> [Bool] {
        var selected = [Bool](repeating: false, count: count)
        for index in unknown { selected[index] = true }
        // The node unwrapped once: binding it per member retained and released it each time.
        guard let node else {
            for position in object.indices { markEveryName(object.key(at: position), in: &selected) }
            return selected
        }
        for position in object.indices {
            let key = object.key(at: position)
            let slot =
                key.utf8.first == UInt8(ascii: "_") ? node.slot(named: String(key.dropFirst())) : node.slot(named: key)
            if let slot {
                for index in byElement[slot.index] { selected[index] = true }
            } else if key != "resourceType" {  // every resource has it, and no element stands for it
                markEveryName(key, in: &selected)
            }
        }
        return selected
    }

    /// A member the type does not have (the validator reports it): every name it could stand for.
    private func markEveryName(_ key: String, in selected: inout [Bool]) {
        var name = Substring(key)
        if name.utf8.first == UInt8(ascii: "_") { name = name.dropFirst() }
        mark(name, in: &selected)
        for at in name.utf8.indices.dropFirst() {
            let byte = name.utf8[at]
            if byte >= UInt8(ascii: "A"), byte <= UInt8(ascii: "Z") { mark(name[..<at], in: &selected) }
        }
    }

    private func mark(_ name: Substring, in selected: inout [Bool]) {
        guard let indices = byName[String(name)] else { return }
        for index in indices { selected[index] = true }
    }
}
