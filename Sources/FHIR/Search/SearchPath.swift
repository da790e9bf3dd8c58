/// A search parameter's expression when it is a path the extractor can walk itself: members from the
/// resource, type filters (`Observation.value as Quantity`, `.as(dateTime)`, `.ofType(Age)`), reference
/// filters (`.where(resolve() is Patient)`), unions and `distinct()` — the shape of nearly every R4
/// parameter. Each step calls the evaluator's own operation for it (children, type test, `resolve`,
/// duplicate removal) in the evaluator's order, so the result is the expression's; what the walk
/// saves is the syntax tree's dispatch, a scope and a collection per node (about half of an
/// evaluation, measured on the synthetic clinic's resources). A class: a plan's loop reads it without
/// copying its branches.
final class SearchPath: Sendable {
    enum Step: Sendable {
        /// The members of that name of every item (a choice's every `valueX` under `value`).
        case member(String)
        /// The items of that type (`as`: fails on several items unless casts filter collections).
        case cast(FHIRPathTypeSpecifier)
        /// The items of that type (`ofType`).
        case ofType(FHIRPathTypeSpecifier)
        /// The references whose target is of that type (`where(resolve() is Type)`).
        case resolvesTo(FHIRPathTypeSpecifier)
    }

    /// The union's branches, each a list of steps from the resource.
    let branches: [[Step]]
    /// Whether repeats are removed (a union, or `distinct()`).
    let removesRepeats: Bool

    /// The path of an expression evaluated on resources of `resourceType`, or `nil` when the
    /// expression has another shape (functions, operators, constants, indexes, unknown types).
    init?(_ root: FHIRPathNode, resourceType: String, definitions: FHIRDefinitions) {
        var node = root
        var removesRepeats = false
        if node.kind == .function, node.function == .distinct, node.arguments.isEmpty, let target = node.target {
            node = target
            removesRepeats = true
        }
        var branches: [[Step]] = []
        func addBranches(_ node: FHIRPathNode) -> Bool {
            if node.kind == .binary, node.op == .union, let left = node.target, let right = node.other {
                removesRepeats = true
                return addBranches(left) && addBranches(right)
            }
            guard let steps = Self.steps(node, resourceType: resourceType, definitions: definitions) else {
                return false
            }
            branches.append(steps)
            return true
        }
        guard addBranches(node) else { return nil }
        self.branches = branches
        self.removesRepeats = removesRepeats
    }

    private static func steps(
        _ node: FHIRPathNode, resourceType: String, definitions: FHIRDefinitions
    ) -> [Step]? {
        func known(_ type: FHIRPathTypeSpecifier?) -> FHIRPathTypeSpecifier? {
            guard let type, FHIRPathEvaluator.isKnown(type, types: definitions.types) else { return nil }
            return type
        }
        switch node.kind {
        case .member:
            guard let target = node.target else {
                guard let first = node.name.utf8.first else { return nil }
                guard first >= UInt8(ascii: "A"), first <= UInt8(ascii: "Z") else { return [.member(node.name)] }
                // A type name at the start selects the resource when it is of that type.
                let isOfType =
                    node.name == resourceType || node.name == "Resource"
                    || (node.name == "DomainResource" && definitions.types[resourceType]?.base == "DomainResource")
                return isOfType ? [] : nil
            }
            return steps(target, resourceType: resourceType, definitions: definitions).map { $0 + [.member(node.name)] }
        case .typeTest where node.isCast:
            guard let target = node.target, let type = known(node.type),
                let steps = steps(target, resourceType: resourceType, definitions: definitions)
            else { return nil }
            return steps + [.cast(type)]
        case .function:
            guard let target = node.target, node.arguments.count == 1,
                let steps = steps(target, resourceType: resourceType, definitions: definitions)
            else { return nil }
            let argument = node.arguments[0]
            switch node.function {
            case .as, .ofType:
                guard argument.kind == .type, let type = known(argument.type) else { return nil }
                return steps + [node.function == .as ? .cast(type) : .ofType(type)]
            case .where:
                guard argument.kind == .typeTest, !argument.isCast, let type = known(argument.type),
                    let resolve = argument.target, resolve.kind == .function, resolve.function == .resolve,
                    resolve.target == nil, resolve.arguments.isEmpty
                else { return nil }
                return steps + [.resolvesTo(type)]
            default:
                return nil
            }
        default:
            return nil
        }
    }

    /// The expression's result on `focus` (the resource), or `nil` when the walk cannot answer as the
    /// evaluator would — where evaluating would fail or the evaluator works otherwise (strict mode, a
    /// collection over its limit) — and the expression must be evaluated instead.
    func evaluate(_ evaluator: FHIRPathEvaluator, focus: [FHIRPathValue]) -> [FHIRPathValue]? {
        let environment = evaluator.environment
        guard !environment.isStrict else { return nil }
        var result: [FHIRPathValue] = []
        for branch in branches {
            var items = focus
            for step in branch {
                switch step {
                case .member(let name):
                    guard let children = try? evaluator.children(of: items, named: name, isRoot: false, at: 0) else {
                        return nil
                    }
                    items = children
                case .cast(let type):
                    if items.count > 1, !environment.castsCollections { return nil }
                    items = items.filter { evaluator.isType($0, type, exactPrimitive: true) }
                case .ofType(let type):
                    items = items.filter { evaluator.isType($0, type, exactPrimitive: true) }
                case .resolvesTo(let type):
                    items = items.filter { evaluator.resolves($0, to: type) }
                }
                if items.isEmpty { break }
                if items.count > environment.maxItems { return nil }
            }
            if result.isEmpty { result = items } else { result += items }
        }
        return removesRepeats && result.count > 1 ? FHIRPathEvaluator.distinct(result) : result
    }
}
