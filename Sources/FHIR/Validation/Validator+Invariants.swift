import Foundation

/// The invariants of the definitions, evaluated with Ferry's FHIRPath engine on every value of
/// every element that carries them.
extension ValidationRun {
    /// Constraints the validator checks natively, with the same verdicts as their FHIRPath (a test
    /// evaluates both ways over every official example and broken resource): `ele-1` and `ext-1` apply
    /// to every element and extension, and the `dom-*` and `bdl-*` rules need the whole resource or Bundle.
    static let nativeConstraintKeys: Set<String> = [
        "ele-1", "ext-1", "dom-2", "dom-3", "dom-4", "bdl-1", "bdl-2", "bdl-3", "bdl-4", "bdl-5", "bdl-7", "bdl-8",
        "bdl-9", "bdl-10", "bdl-11", "bdl-12",
    ]

    /// Evaluates invariants (indices into the definitions' constraints) on one value of an element and
    /// reports each that does not hold. `object` and `node`: the value when it is an object, for the
    /// shortcuts' glance, with `presence`, what validating its members found; the FHIRPath value is made
    /// only for an invariant a glance does not settle.
    mutating func checkInvariants(
        _ indices: [Int], on value: @autoclosure () -> FHIRPathValue, object: JSONObject? = nil,
        node: ObjectNode? = nil, presence: MemberPresence = .unknown
    ) {
        let object = invariantMode == .native ? object : nil
        // Made at the first invariant a shortcut does not settle (most values of a Reference or a
        // Quantity need none): the focus collection, and the environment, once a run.
        var focus: [FHIRPathValue] = []
        for index in indices {
            if let object {
                switch definitions.shortcuts[index].verdict(
                    on: object, node: node, presence: presence, definitions: definitions)
                {
                case .holds: continue
                case .fails:
                    let constraint = definitions.constraints[index]
                    report(
                        constraint.severity == .warning ? .warning : .error, "invariant", constraint.human,
                        key: constraint.key, isNative: false)
                    continue
                case .unknown: break
                }
            }
            let constraint = definitions.constraints[index]
            if focus.isEmpty { focus = [value()] }
            let environment = invariantEnvironment()
            let resource = resourceFocus()
            do {
                let expression = try definitions.compiledConstraints[index].get()
                let result = try expression.evaluate(
                    focus: focus, resource: resource, definitions: definitions, environment: environment)
                // An invariant holds unless it evaluates to false (or to several items): empty means the
                // rule has nothing to say, and one non-Boolean item counts as true (singleton evaluation).
                if result.isEmpty { continue }
                if result.count == 1, result[0].system != .boolean(false) { continue }
                report(
                    constraint.severity == .warning ? .warning : .error, "invariant", constraint.human,
                    key: constraint.key, isNative: false)
            } catch {
                report(
                    .warning, "invariant",
                    "\(constraint.key) could not be evaluated: \(error.message) (column \(error.column ?? 0))",
                    key: constraint.key, isNative: false)
            }
        }
    }

    /// `%resource` of the resource being walked, wrapped once a resource.
    mutating func resourceFocus() -> [FHIRPathValue]? {
        guard let last = resourceScopes.indices.last else { return nil }
        if let focus = resourceScopes[last].focus { return focus }
        let focus = [FHIRPathEvaluator.resourceElement(resourceScopes[last].resource, definitions)]
        resourceScopes[last].focus = focus
        return focus
    }

    /// The environment of the run's invariants: `%rootResource` the outermost resource, `now()` one
    /// reading of the clock a run (reading it for every element cost 1 % of validation).
    mutating func invariantEnvironment() -> FHIRPathEnvironment {
        if let environment { return environment }
        let made = FHIRPathEnvironment(
            rootResource: resourceScopes.first?.resource, now: Date(), castsCollections: true)
        environment = made
        return made
    }

    /// The constraints of an element this run evaluates as FHIRPath (usually none: look before building a value).
    @inline(__always)
    func invariantIndices(of element: ElementDefinition) -> [Int] {
        switch invariantMode {
        case .native: element.interpretedConstraintIndices
        case .interpreted: element.constraintIndices
        case .off: []
        }
    }

    /// The constraints a complex value of `slot` is checked against as FHIRPath: the element's and its type's.
    @inline(__always)
    func valueInvariantIndices(of slot: ObjectNode.Slot) -> [Int] {
        switch invariantMode {
        case .native: slot.valueConstraintIndices.interpreted
        case .interpreted: slot.valueConstraintIndices.all
        case .off: []
        }
    }

    /// A complex value as FHIRPath sees it, typed by its slot.
    static func fhirPathValue(_ value: JSON, slot: ObjectNode.Slot, node: Int) -> FHIRPathValue {
        .element(FHIRPathElement(value: value, typeName: slot.typeCode, node: node, primitive: nil))
    }

    /// A primitive value with its `_name` object, as FHIRPath sees it.
    static func fhirPathPrimitive(
        _ value: JSON?, extensions: JSON?, slot: ObjectNode.Slot, type: PrimitiveType
    )
        -> FHIRPathValue
    {
        .element(
            FHIRPathElement(
                value: value ?? .null, extras: extensions?.objectValue, typeName: slot.typeCode, node: -1,
                primitive: type))
    }
}
