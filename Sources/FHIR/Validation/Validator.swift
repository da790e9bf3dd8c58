import Foundation

/// Validates FHIR R4 resources against the definitions generated from the core package.
///
/// Checks, each with its own issue code and FHIRPath location: the resource type; the JSON shape of
/// every element (object, array, primitive); unknown elements; cardinality; primitive formats;
/// choice types; required bindings on `code`, `Coding` and `CodeableConcept`; references (literal
/// form, target types, contained `#id`, Bundle-internal `fullUrl` resolution); extensions; contained
/// resources; and Bundles, entry by entry, with the rules of each Bundle type.
public struct Validator: Sendable {
    /// How the invariants (FHIRPath constraints) of the definitions are checked.
    public enum InvariantMode: Sendable {
        /// Every invariant, the hottest (`ele-1`, `ext-1`, `dom-*`, `bdl-*`) by native code with the same verdicts.
        case native
        /// Every invariant by the FHIRPath engine, the native checks of those rules set aside.
        case interpreted
        /// No invariants beyond the structural rules the validator checks anyway.
        case off
    }

    /// The definitions validated against.
    public let definitions: FHIRDefinitions
    /// How invariants are checked.
    public var invariantMode: InvariantMode

    /// Creates a validator over `definitions`.
    public init(definitions: FHIRDefinitions, invariants: InvariantMode = .native) {
        self.definitions = definitions
        self.invariantMode = invariants
    }

    /// Creates a validator over the R4 definitions shipped with Ferry.
    public init(invariants: InvariantMode = .native) throws(FHIRError) {
        self.definitions = try FHIRDefinitions.r4()
        self.invariantMode = invariants
    }

    /// Validates a parsed resource.
    public func validate(_ resource: JSON) -> OperationOutcome {
        var run = ValidationRun(definitions: definitions, invariantMode: invariantMode, scratch: .take())
        run.validateResource(resource, root: nil, isContained: false)
        let outcome = OperationOutcome(issues: run.issues)
        run.takeScratch().give()
        return outcome
    }

    /// Parses and validates JSON bytes; a syntax error becomes a fatal issue with its line and column.
    public func validate(jsonBytes: some Sequence<UInt8>) -> OperationOutcome {
        do {
            return validate(try JSON(parsing: jsonBytes))
        } catch {
            return OperationOutcome(issues: [Self.syntaxIssue(error)])
        }
    }

    /// The fatal issue that reports input that could not be parsed.
    public static func syntaxIssue(_ error: FHIRError) -> OperationOutcome.Issue {
        OperationOutcome.Issue(
            severity: .fatal,
            code: "structure",
            diagnostics: error.message,
            expression: error.path ?? "",
            line: error.line,
            column: error.column
        )
    }
}

/// The state of one validation: issues found so far, where the walk is, and what the resources and
/// Bundles being walked hold for the checks of their references.
struct ValidationRun {
    let definitions: FHIRDefinitions
    let invariantMode: Validator.InvariantMode
    var issues: [OperationOutcome.Issue] = []
    var path: ValidationPath
    /// The resources being walked, outermost first.
    var resourceScopes: [ResourceScope] = []
    /// The Bundles being walked, outermost first.
    var bundleScopes: [BundleScope] = []
    /// Per-element value counts of the objects being walked, innermost last.
    var counts: CountStack
    /// The environment of the run's invariants, made at the first one (`invariantEnvironment()`).
    var environment: FHIRPathEnvironment?

    struct ResourceScope {
        var type: String
        /// The resource itself, as `%rootResource` sees it.
        var resource: JSON
        /// The resource as a FHIRPath collection, `%resource` in its invariants: wrapped at the first
        /// invariant a glance does not settle (`resourceFocus()`), which most resources never reach.
        var focus: [FHIRPathValue]?
        var isContained: Bool
        /// Ids of the contained resources, with the location of each.
        var containedIDs: [(id: String, path: [ValidationPath.Segment], refersToContainer: Bool)] = []
        /// `#id` references made anywhere in the resource or its contained resources.
        var localReferences: Set<String> = []
        /// Whether a contained resource refers to its container (`#`).
        var refersToContainer = false
    }

    init(definitions: FHIRDefinitions, invariantMode: Validator.InvariantMode = .native, scratch: Scratch) {
        self.definitions = definitions
        self.invariantMode = invariantMode
        path = ValidationPath(storage: scratch.segments)
        counts = CountStack(storage: scratch.counts)
        resourceScopes = scratch.resourceScopes
    }

    /// The run's stacks, emptied, their storage kept, moved out at the run's end: the next run takes
    /// them from a pool instead of allocating its own.
    mutating func takeScratch() -> Scratch {
        Scratch(
            segments: path.storage, counts: counts.storage, resourceScopes: Self.take(&resourceScopes))
    }

    /// `array`, emptied and moved out, leaving an empty array in its place.
    private static func take<Element>(_ array: inout [Element]) -> [Element] {
        var taken: [Element] = []
        swap(&taken, &array)
        taken.removeAll(keepingCapacity: true)
        return taken
    }

    /// The storage of a run's stacks, between runs.
    struct Scratch: Sendable {
        var segments: ScratchBuffer<ValidationPath.Stored>
        var counts: ScratchBuffer<Int>
        var resourceScopes: [ResourceScope]

        /// Room for a resource's usual depth, so the walk does not grow the stacks step by step.
        init() {
            segments = ScratchBuffer(capacity: 32)
            counts = ScratchBuffer(capacity: 256)
            resourceScopes = []
            resourceScopes.reserveCapacity(4)
        }

        init(
            segments: ScratchBuffer<ValidationPath.Stored>, counts: ScratchBuffer<Int>, resourceScopes: [ResourceScope]
        ) {
            self.segments = segments
            self.counts = counts
            self.resourceScopes = resourceScopes
        }

        private static let pool = ScratchPool { Scratch() }
        /// Scratches grown past this many elements by a deep or wide resource are freed, not kept.
        private static let largest = 4096

        /// A kept scratch, or a new one.
        static func take() -> Scratch {
            pool.take()
        }

        /// Keeps the scratch for another run.
        consuming func give() {
            guard counts.capacity <= Self.largest, segments.capacity <= Self.largest else { return }
            Self.pool.give(self)
        }
    }

    mutating func report(
        _ severity: OperationOutcome.Severity,
        _ code: String,
        _ diagnostics: String,
        key: String? = nil,
        at location: [ValidationPath.Segment]? = nil,
        isNative: Bool = true
    ) {
        // In interpreted mode the FHIRPath engine reports the rules that native code would.
        if invariantMode == .interpreted, isNative, let key, Self.nativeConstraintKeys.contains(key) { return }
        let expression = location.map { ValidationPath(segments: $0).rendered } ?? path.rendered
        issues.append(
            .init(severity: severity, code: code, diagnostics: diagnostics, expression: expression, constraintKey: key))
    }

    // MARK: Resources

    /// Validates a resource; `root` is `nil` for the outermost one, otherwise the caller pushed its location.
    mutating func validateResource(_ value: JSON, root: String?, isContained: Bool) {
        guard case .object(let object) = value else {
            if root == nil { path.push(.raw("Resource")) }
            report(.error, "structure", "a resource must be a JSON object, found \(value.kindName)")
            if root == nil { path.pop() }
            return
        }
        guard let resourceType = object["resourceType"]?.stringValue else {
            if root == nil { path.push(.raw("Resource")) }
            report(.error, "required", "the resource has no resourceType")
            if root == nil { path.pop() }
            return
        }
        guard let resource = definitions.concreteResource(named: resourceType) else {
            if root == nil { path.push(.raw(resourceType)) }
            report(.error, "invalid", "'\(resourceType)' is not a FHIR R4 resource type")
            if root == nil { path.pop() }
            return
        }
        let node = resource.node
        if root == nil { path.push(.root(Unmanaged.passUnretained(node))) }
        defer { if root == nil { path.pop() } }

        resourceScopes.append(
            ResourceScope(type: resourceType, resource: value, focus: nil, isContained: isContained))
        let isBundle = resourceType == "Bundle"
        if isBundle { bundleScopes.append(BundleScope(bundle: object)) }

        if isContained { checkContainedResource(object) }
        let presence = validateObject(object, node: node, isResourceRoot: true)
        if let rootElement = resource.rootElement, !invariantIndices(of: rootElement).isEmpty {
            // A copy for the autoclosure: capturing `self` there would overlap the mutating call.
            let definitions = definitions
            checkInvariants(
                invariantIndices(of: rootElement), on: FHIRPathEvaluator.resourceElement(value, definitions),
                object: object, node: node, presence: presence)
        }

        if isBundle {
            bundleScopes.removeLast()
            checkBundle(object)
        }
        let scope = resourceScopes.removeLast()
        if isContained {
            // dom-2 already forbids it, but a contained resource holding its own is checked like any other.
            if !scope.containedIDs.isEmpty { checkContainedReferences(scope) }
            // A contained resource's local references belong to the resource that contains it.
            let last = resourceScopes.count - 1
            resourceScopes[last].localReferences.formUnion(scope.localReferences)
            if scope.refersToContainer, !resourceScopes[last].containedIDs.isEmpty {
                resourceScopes[last].containedIDs[resourceScopes[last].containedIDs.count - 1].refersToContainer = true
            }
        } else {
            checkContainedReferences(scope)
        }
    }

    // MARK: Objects

    @discardableResult
    mutating func validateObject(
        _ object: JSONObject, node: ObjectNode, isResourceRoot: Bool = false, isPrimitiveExtras: Bool = false
    ) -> MemberPresence {
        var presence = MemberPresence(elements: 0, isComplete: node.elements.count <= MemberPresence.capacity)
        if object.isEmpty {
            report(.error, "structure", "an object must have at least one member (ele-1)", key: "ele-1")
            return presence
        }
        if !isResourceRoot, !isPrimitiveExtras, object.count == 1, object.key(at: 0) == "id" {
            report(.error, "invariant", "an element must have a value or children other than its id", key: "ele-1")
        }
        if !bundleScopes.isEmpty && node.key == "Bundle.entry" {
            bundleScopes[bundleScopes.count - 1].currentFullURL = object["fullUrl"]?.stringValue
        }
        let base = counts.push(node.elements.count)
        defer { counts.pop(to: base) }
        let hasUnderscore = object.hasUnderscoredKey
        // A resource's `resourceType` is no element: found once by position (comparing every member's
        // name with it went through the general string comparison for each).
        let resourceTypeIndex = isResourceRoot ? object.index(forKey: "resourceType") : nil

        // The members through their buffer: a value handed on from there is borrowed, where
        // `object.value(at:)` would copy it (a retain and a release a member).
        object.members.withUnsafeBufferPointer { members in
            for index in members.indices {
                let key = members[index].key
                if index == resourceTypeIndex { continue }
                if hasUnderscore && key.firstByte == UInt8(ascii: "_") {
                    let baseName = String(key.dropFirst())
                    guard let slot = node.slot(named: baseName), case .primitive = slot.kind else {
                        presence.isComplete = false
                        path.push(.raw(key))
                        report(
                            .error, "structure",
                            "unknown element '\(key)': '_' is only for the id and extensions of a primitive element")
                        path.pop()
                        continue
                    }
                    presence.insert(slot.index)
                    if object[baseName] == nil {
                        let count = validatePrimitiveMember(value: nil, extensions: members[index].value, slot: slot)
                        counts.add(count, at: base + slot.index)
                    }
                    continue
                }
                guard let slot = node.slot(named: key) else {
                    presence.isComplete = false
                    path.push(.raw(key))
                    report(.error, "structure", "unknown element '\(key)' in \(node.key)")
                    path.pop()
                    continue
                }
                presence.insert(slot.index)
                if slot.isChoice && counts[base + slot.index] > 0 {
                    // The other member of the element, perhaps only its `_name` (id and extensions).
                    let previous =
                        object.members.first {
                            $0.key != key && node.slot(named: String($0.key.trimmingPrefix("_")))?.index == slot.index
                        }?.key ?? "?"
                    path.push(.member(Unmanaged.passUnretained(slot)))
                    report(
                        .error, "structure",
                        "\(slot.element.path) takes one type only, but both '\(previous)' and '\(key)' are present")
                    path.pop()
                    continue
                }
                switch slot.kind {
                case .primitive:
                    let extensions = hasUnderscore ? object["_" + key] : nil
                    let count = validatePrimitiveMember(value: members[index].value, extensions: extensions, slot: slot)
                    counts.add(count, at: base + slot.index)
                case .resource, .complex, .unknown:
                    let count = validateComplexMember(members[index].value, slot: slot)
                    counts.add(count, at: base + slot.index)
                }
            }
        }

        for index in node.cardinalityChecked {
            let element = node.elements[index]
            let count = counts[base + index]
            if count < element.min {
                path.push(.raw(element.name))
                report(.error, "required", "\(element.path) is required (minimum \(element.min)), found \(count)")
                path.pop()
            } else if let max = element.max, count > max {
                path.push(.raw(element.name))
                report(.error, "structure", "\(element.path) allows at most \(max), found \(count)")
                path.pop()
            }
        }
        return presence
    }

    /// Validates a complex or resource member; returns how many values it holds.
    mutating func validateComplexMember(_ value: JSON, slot: ObjectNode.Slot) -> Int {
        path.push(.member(Unmanaged.passUnretained(slot)))
        defer { path.pop() }
        if slot.isArray {
            guard case .array(let items) = value else {
                report(
                    .error, "structure",
                    "\(slot.element.path) repeats, so it must be a JSON array, found \(value.kindName)")
                validateComplexValue(value, slot: slot)
                return 1
            }
            if items.isEmpty {
                report(.error, "structure", "arrays must not be empty: leave \(slot.element.path) out instead")
            }
            for (index, item) in items.enumerated() {
                path.push(.index(index))
                validateComplexValue(item, slot: slot)
                path.pop()
            }
            return items.count
        }
        if case .array = value {
            report(.error, "structure", "\(slot.element.path) does not repeat, so it must not be a JSON array")
            return 1
        }
        validateComplexValue(value, slot: slot)
        return 1
    }

    mutating func validateComplexValue(_ value: JSON, slot: ObjectNode.Slot) {
        switch slot.kind {
        case .resource:
            if case .null = value {
                report(.error, "structure", "null is not a resource")
                return
            }
            let isContained = slot.name == "contained"
            if isContained { noteContainedResource(value) }
            validateResource(value, root: "", isContained: isContained)
        case .complex(let nodeIndex):
            guard case .object(let object) = value else {
                report(
                    .error, "structure",
                    "\(slot.element.path) is a \(slot.type.code), so it must be a JSON object, found \(value.kindName)")
                return
            }
            let node = definitions.nodeList[nodeIndex]
            let presence = validateObject(object, node: node)
            let invariants = valueInvariantIndices(of: slot)
            if !invariants.isEmpty {
                checkInvariants(
                    invariants, on: Self.fhirPathValue(value, slot: slot, node: nodeIndex), object: object, node: node,
                    presence: presence)
            }
            switch slot.check {
            case .none: break
            case .reference: checkReference(object, type: slot.type)
            case .extensionRules: checkExtension(object)
            case .requiredCoding, .requiredCodeableConcept: checkRequiredBinding(object, slot: slot)
            case .simpleQuantity:
                if object["comparator"] != nil {
                    report(.error, "invariant", "a SimpleQuantity must not have a comparator", key: "sqty-1")
                }
            }
        case .unknown:
            report(.error, "structure", "no definition for the type \(slot.type.code)")
        case .primitive:
            break
        }
    }

    // MARK: Primitives

    /// Validates a primitive member and its `_name` sibling; returns how many values it holds.
    mutating func validatePrimitiveMember(value: JSON?, extensions: JSON?, slot: ObjectNode.Slot) -> Int {
        path.push(.member(Unmanaged.passUnretained(slot)))
        defer { path.pop() }
        let name = slot.name
        if slot.isArray {
            let values: [JSON]?
            switch value {
            case .array(let items)?: values = items
            case nil: values = nil
            case let other?:
                report(
                    .error, "structure",
                    "\(slot.element.path) repeats, so it must be a JSON array, found \(other.kindName)")
                return 1
            }
            let extensionItems: [JSON]?
            switch extensions {
            case .array(let items)?: extensionItems = items
            case nil: extensionItems = nil
            case let other?:
                report(.error, "structure", "_\(name) must be an array matching \(name), found \(other.kindName)")
                return values?.count ?? 1
            }
            if let values, let extensionItems, values.count != extensionItems.count {
                report(
                    .error, "structure",
                    "\(name) and _\(name) must have the same number of items (\(values.count) and \(extensionItems.count))"
                )
            }
            let count = max(values?.count ?? 0, extensionItems?.count ?? 0)
            if count == 0 {
                report(.error, "structure", "arrays must not be empty: leave \(slot.element.path) out instead")
            }
            var present = 0
            for index in 0..<count {
                path.push(.index(index))
                let item = values.flatMap { index < $0.count ? $0[index] : nil }
                let extensionItem = extensionItems.flatMap { index < $0.count ? $0[index] : nil }
                if validatePrimitiveValue(item, extensions: extensionItem, slot: slot) { present += 1 }
                path.pop()
            }
            return present
        }
        if case .array = value {
            report(.error, "structure", "\(slot.element.path) does not repeat, so it must not be a JSON array")
            return 1
        }
        if case .array = extensions {
            report(.error, "structure", "_\(name) must be an object, since \(name) does not repeat")
            return 1
        }
        return validatePrimitiveValue(value, extensions: extensions, slot: slot) ? 1 : 0
    }

    /// Validates one primitive value with its extensions object; returns whether anything is there.
    mutating func validatePrimitiveValue(_ value: JSON?, extensions: JSON?, slot: ObjectNode.Slot) -> Bool {
        if case .primitive(let type) = slot.kind, !invariantIndices(of: slot.element).isEmpty {
            checkInvariants(
                invariantIndices(of: slot.element),
                on: Self.fhirPathPrimitive(value, extensions: extensions, slot: slot, type: type))
        }
        var hasExtensions = false
        if let extensions, extensions != .null {
            if case .object(let object) = extensions, let node = definitions.elementNode {
                validateObject(object, node: node, isPrimitiveExtras: true)
                hasExtensions = true
                if value == nil || value == .null, object.count == 1, object.key(at: 0) == "id" {
                    report(
                        .error, "invariant", "a primitive must have a value or extensions, not only an id", key: "ele-1"
                    )
                }
            } else {
                report(
                    .error, "structure",
                    "the id and extensions of a primitive must be a JSON object, found \(extensions.kindName)")
            }
        }
        guard let value else {
            if !hasExtensions {
                report(
                    .error, "structure", "null is allowed only where the matching '_' item has an id or extensions",
                    key: "ele-1")
            }
            return hasExtensions
        }
        guard case .primitive(let type) = slot.kind else { return true }
        switch (type.jsonKind, value) {
        case (.boolean, .bool):
            return true
        case (.number, .number(let text)):
            if let problem = PrimitiveFormat.problem(type, text: text) { reportFormat(text, problem, slot: slot) }
            return true
        case (.string, .string(let text)):
            if let problem = PrimitiveFormat.problem(type, text: text) {
                reportFormat(text, problem, slot: slot)
                return true
            }
            if let valueSet = slot.requiredValueSet, type == .code { checkCode(text, valueSet: valueSet) }
            if type == .canonical || type == .uri || type == .url, text.firstByte == UInt8(ascii: "#") {
                noteLocalReference(text)
            }
            return true
        case (_, .null):
            if !hasExtensions {
                report(
                    .error, "structure", "null is allowed only where the matching '_' item has an id or extensions",
                    key: "ele-1")
            }
            return hasExtensions
        default:
            let expected =
                type.jsonKind == .boolean
                ? "a JSON boolean" : type.jsonKind == .number ? "a JSON number" : "a JSON string"
            report(
                .error, "structure",
                "\(slot.element.path) is a \(slot.type.code), so it must be \(expected), found \(value.kindName)")
            return true
        }
    }

    private mutating func reportFormat(_ text: String, _ problem: String, slot: ObjectNode.Slot) {
        let shown = text.count > 60 ? String(text.prefix(60)) + "…" : text
        report(.error, "value", "'\(shown)' is not a valid \(slot.type.code): it \(problem)")
    }

    mutating func checkCode(_ code: String, valueSet: ValueSetExpansion) {
        if valueSet.isExpanded {
            if !valueSet.contains(code: code) {
                report(.error, "code-invalid", "the code '\(code)' is not in the required value set \(valueSet.url)")
            }
        } else if valueSet.url == "http://hl7.org/fhir/ValueSet/mimetypes" {
            // R4 lets CapabilityStatement.format use the shorthands xml, json and ttl.
            if code == "xml" || code == "json" || code == "ttl" { return }
            if !Self.isMIMEType(code) {
                report(
                    .error, "code-invalid",
                    "'\(code)' is not a MIME type (type/subtype) as the value set \(valueSet.url) requires")
            }
        }
    }

    /// `type/subtype`, parameters after `;` aside: one `/` with something on each side (on bytes).
    static func isMIMEType(_ code: String) -> Bool {
        return code.withUTF8Bytes { bytes in
            let end = bytes.firstIndex(of: UInt8(ascii: ";")) ?? bytes.endIndex
            guard let slash = bytes[..<end].firstIndex(of: UInt8(ascii: "/")) else { return false }
            return slash > bytes.startIndex && slash + 1 < end && !bytes[(slash + 1)..<end].contains(UInt8(ascii: "/"))
        }
    }

    mutating func checkRequiredBinding(_ object: JSONObject, slot: ObjectNode.Slot) {
        guard let valueSet = slot.requiredValueSet, valueSet.isExpanded else { return }
        let codings: [JSON] = slot.check == .requiredCoding ? [.object(object)] : object["coding"]?.arrayValue ?? []
        let matches = codings.contains { coding in
            guard let system = coding["system"]?.stringValue, let code = coding["code"]?.stringValue else {
                return false
            }
            return valueSet.codings.contains("\(system)|\(code)")
        }
        if !matches {
            let shown = codings.compactMap { coding -> String? in
                guard let code = coding["code"]?.stringValue else { return nil }
                return "\(coding["system"]?.stringValue ?? "(no system)")|\(code)"
            }
            let what = shown.isEmpty ? "no code is given" : "\(shown.joined(separator: ", ")) is not"
            report(.error, "code-invalid", "\(what) in the required value set \(valueSet.url)")
        }
    }

    mutating func checkExtension(_ object: JSONObject) {
        let hasValue = object.members.withUnsafeBufferPointer { members in
            members.contains { $0.key.startsWithBytes("value") }
        }
        let hasNested = object["extension"] != nil
        if hasValue == hasNested {
            report(
                .error, "invariant",
                hasValue
                    ? "an extension must have either a value or nested extensions, not both"
                    : "an extension must have a value or nested extensions",
                key: "ext-1")
        }
        if let url = object["url"]?.stringValue, url.hasPrefix("#") || url.isEmpty {
            report(.error, "value", "an extension's url must be an absolute URI")
        }
    }
}
