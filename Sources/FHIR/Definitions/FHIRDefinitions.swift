import Foundation

/// Every FHIR R4 resource and data type, the value sets of required bindings and every search
/// parameter, loaded from the compact document that `generate-definitions` compiled from the
/// official `hl7.fhir.r4.core` 4.0.1 package (shipped inside Ferry, so nothing outside is needed).
public final class FHIRDefinitions: Sendable {
    /// Resource and data type definitions by name (`Patient`, `HumanName`, `date`).
    public let types: [String: TypeDefinition]
    /// Expanded value sets by canonical URL.
    public let valueSets: [String: ValueSetExpansion]
    /// Constraints (invariants), shared by the elements that carry them.
    public let constraints: [Constraint]
    /// Every search parameter of the core specification.
    public let searchParameters: [SearchParameterDefinition]
    /// Where the definitions came from, e.g. `hl7.fhir.r4.core#4.0.1`.
    public let source: String
    /// Each constraint's expression compiled, in the order of `constraints`.
    let compiledConstraints: [Result<FHIRPathExpression, FHIRError>]
    /// For each constraint, the shape in which it plainly holds without evaluating it (by key and
    /// exact expression: a changed expression gets no shortcut).
    let shortcuts: [InvariantShortcut]
    /// Every object node: a type, or a backbone element path; slots refer to each other by index here.
    let nodeList: [ObjectNode]
    /// Index into `nodeList` by node key (a type name or a backbone element path).
    let nodeIndex: [String: Int]
    /// The search parameters of each resource type, worked out once (a store asks for every write).
    let searchParametersByType: [String: [SearchParameterDefinition]]
    /// The names of the resource types (a lookup that copies no definition).
    let resourceTypeNames: Set<String>
    /// The same names, to find one by its bytes (a reference's `Type/`) without making a string.
    private let resourceTypeTable: NameTable
    /// What validating a resource of each type in `resourceTypeTable` needs, `nil` for an abstract one:
    /// found by a probe of the table rather than by hashing the name into `types` and `nodeIndex`.
    private let concreteResources: [ConcreteResource?]
    /// The node of `Element`: what a primitive's `_name` object holds (looked up once, not per value).
    let elementNode: ObjectNode?

    /// The node of a type or backbone element path.
    func node(_ key: String) -> ObjectNode? {
        nodeIndex[key].map { nodeList[$0] }
    }

    /// The definitions shipped with Ferry, loaded once per process.
    public static func r4() throws(FHIRError) -> FHIRDefinitions {
        try shippedR4.get()
    }

    private static let shippedR4: Result<FHIRDefinitions, FHIRError> = Result { () throws(FHIRError) in
        try FHIRDefinitions(compactDocument: try shippedDocument())
    }

    /// The bytes of the compact definitions document shipped inside Ferry.
    public static func shippedDocument() throws(FHIRError) -> Data {
        guard let url = Bundle.module.url(forResource: "fhir-r4-definitions", withExtension: "json"),
            let data = try? Data(contentsOf: url)
        else { throw FHIRError(.definitions, "the shipped FHIR definitions file is missing from Ferry's resources") }
        return data
    }

    /// Loads a compact definitions document (as written by `generate-definitions`).
    public init(compactDocument bytes: some Sequence<UInt8>) throws(FHIRError) {
        let document = try JSON(parsing: bytes)
        guard document["format"]?.intValue == 1, let typeList = document["types"]?.arrayValue else {
            throw FHIRError(.definitions, "not a Ferry definitions document of format 1")
        }
        source = document["source"]?.stringValue ?? "unknown"

        let constraints = (document["constraints"]?.arrayValue ?? []).map { entry in
            let fields = entry.arrayValue ?? []
            return Constraint(
                key: fields.first?.stringValue ?? "",
                severity: fields.count > 1 && fields[1].stringValue == "warning" ? .warning : .error,
                expression: fields.count > 2 ? fields[2].stringValue ?? "" : "",
                human: fields.count > 3 ? fields[3].stringValue ?? "" : ""
            )
        }

        self.constraints = constraints

        var types: [String: TypeDefinition] = [:]
        for entry in typeList {
            guard let name = entry["name"]?.stringValue, let kindText = entry["kind"]?.stringValue else { continue }
            let kind: TypeDefinition.Kind =
                switch kindText {
                case "primitive-type": .primitiveType
                case "resource": .resource
                default: .complexType
                }
            let elements = (entry["elements"]?.arrayValue ?? []).map {
                Self.element(from: $0, constraints: constraints)
            }
            types[name] = TypeDefinition(
                name: name,
                kind: kind,
                isAbstract: entry["abstract"]?.boolValue ?? false,
                base: entry["base"]?.stringValue,
                elements: elements
            )
        }
        self.types = types
        compiledConstraints = constraints.map { constraint in
            Result { () throws(FHIRError) in try FHIRPathExpression(constraint.expression, types: types) }
        }
        let choiceNames = Set(types.values.flatMap { $0.elements.filter(\.isChoice).map(\.name) })
        shortcuts = compiledConstraints.map { InvariantShortcut(try? $0.get(), choiceNames: choiceNames) }

        var valueSets: [String: ValueSetExpansion] = [:]
        for (url, entry) in document["valueSets"]?.objectValue ?? JSONObject() {
            if let codes = entry["codes"]?.arrayValue {
                valueSets[url] = ValueSetExpansion(url: url, codings: Set(codes.compactMap(\.stringValue)))
            } else {
                valueSets[url] = ValueSetExpansion(
                    url: url, unexpandableReason: entry["unexpandable"]?.stringValue ?? "")
            }
        }
        self.valueSets = valueSets

        searchParameters = (document["searchParameters"]?.arrayValue ?? []).map { entry in
            SearchParameterDefinition(
                url: entry["url"]?.stringValue ?? "",
                code: entry["code"]?.stringValue ?? "",
                base: (entry["base"]?.arrayValue ?? []).compactMap(\.stringValue),
                type: entry["type"]?.stringValue ?? "",
                expression: entry["expression"]?.stringValue,
                targets: (entry["target"]?.arrayValue ?? []).compactMap(\.stringValue)
            )
        }

        let (nodes, index) = Self.buildNodes(types, valueSets: valueSets)
        (nodeList, nodeIndex) = (nodes, index)
        elementNode = index["Element"].map { nodes[$0] }
        var byType: [String: [SearchParameterDefinition]] = [:]
        for (name, type) in types where type.kind == .resource {
            byType[name] = searchParameters.filter { parameter in
                parameter.base.contains(name) || parameter.base.contains("Resource")
                    || (parameter.base.contains("DomainResource") && name != "Bundle" && name != "Binary"
                        && name != "Parameters")
            }
        }
        searchParametersByType = byType
        resourceTypeNames = Set(types.filter { $0.value.kind == .resource }.keys)
        resourceTypeTable = NameTable(resourceTypeNames.sorted())
        concreteResources = resourceTypeTable.names.map { name in
            guard let type = types[name], !type.isAbstract, let node = index[name].map({ nodes[$0] }) else {
                return nil
            }
            return ConcreteResource(node: node, rootElement: type.elements.first)
        }
    }

    /// What validating a resource of one concrete type needs.
    final class ConcreteResource: Sendable {
        /// The node of the resource's members.
        let node: ObjectNode
        /// The root element (`Patient`), whose constraints hold on the whole resource.
        let rootElement: ElementDefinition?

        init(node: ObjectNode, rootElement: ElementDefinition?) {
            self.node = node
            self.rootElement = rootElement
        }
    }

    /// The concrete (not abstract) resource type named `name`, or `nil` when it names none.
    func concreteResource(named name: String) -> ConcreteResource? {
        resourceTypeTable.position(of: name).flatMap { concreteResources[$0] }
    }

    /// The resource type whose name is `bytes` (UTF-8), or `nil` when they name none.
    func resourceTypeName(bytes: UnsafeBufferPointer<UInt8>) -> String? {
        resourceTypeTable.position(ofBytes: bytes).map { resourceTypeTable.names[$0] }
    }

    /// Whether `name` is a resource type.
    public func isResourceType(_ name: String) -> Bool { resourceTypeNames.contains(name) }

    /// The definition of a resource type, or `nil` when the name is not a resource.
    public func resourceType(named name: String) -> TypeDefinition? {
        guard let type = types[name], type.kind == .resource else { return nil }
        return type
    }

    /// The search parameters that apply to a resource type (its own and those of `Resource` and `DomainResource`).
    public func searchParameters(for resourceType: String) -> [SearchParameterDefinition] {
        searchParametersByType[resourceType] ?? []
    }

    private static func element(from entry: JSON, constraints: [Constraint]) -> ElementDefinition {
        let types = (entry["t"]?.arrayValue ?? []).map { type in
            ElementType(
                code: type["c"]?.stringValue ?? "",
                targetProfiles: (type["tp"]?.arrayValue ?? []).compactMap(\.stringValue),
                profiles: (type["pr"]?.arrayValue ?? []).compactMap(\.stringValue)
            )
        }
        let binding = entry["b"]?.arrayValue.flatMap { fields -> ElementDefinition.Binding? in
            guard fields.count == 2, let strength = fields[0].stringValue, let url = fields[1].stringValue else {
                return nil
            }
            return ElementDefinition.Binding(strength: strength, valueSet: url)
        }
        let maxText = entry["x"]?.stringValue ?? "*"
        return ElementDefinition(
            path: entry["p"]?.stringValue ?? "",
            min: entry["n"]?.intValue ?? 0,
            max: maxText == "*" ? nil : Int(maxText),
            types: types,
            binding: binding,
            constraintIndices: (entry["k"]?.arrayValue ?? []).compactMap(\.intValue),
            constraints: constraints,
            contentReference: entry["r"]?.stringValue,
            isSummary: entry["s"]?.boolValue ?? false,
            isModifier: entry["m"]?.boolValue ?? false
        )
    }

    private static func buildNodes(
        _ types: [String: TypeDefinition],
        valueSets: [String: ValueSetExpansion]
    ) -> ([ObjectNode], [String: Int]) {
        // First every node's key and children, so that slots can refer to nodes by index.
        var plans: [(key: String, children: [ElementDefinition], childrenByParent: [String: [ElementDefinition]])] = []
        for type in types.values.sorted(by: { $0.name < $1.name }) {
            guard let root = type.elements.first else { continue }
            var childrenByParent: [String: [ElementDefinition]] = [:]
            for element in type.elements.dropFirst() {
                guard let dot = element.path.lastIndex(of: ".") else { continue }
                childrenByParent[String(element.path[..<dot]), default: []].append(element)
            }
            for (parent, children) in childrenByParent.sorted(by: { $0.key < $1.key }) {
                plans.append((parent == root.path ? type.name : parent, children, childrenByParent))
            }
        }
        var index: [String: Int] = [:]
        for (position, plan) in plans.enumerated() { index[plan.key] = position }

        let nodes = plans.map { plan in
            var slots: [ObjectNode.Slot] = []
            for (position, child) in plan.children.enumerated() {
                func slot(_ name: String, _ elementType: ElementType) -> ObjectNode.Slot {
                    let kind: ObjectNode.Slot.Kind
                    if let primitive = PrimitiveType(code: elementType.code) {
                        kind = .primitive(primitive)
                    } else if elementType.code == "Resource" {
                        kind = .resource
                    } else if plan.childrenByParent[child.path] != nil, let node = index[child.path] {
                        kind = .complex(node)
                    } else if let reference = child.contentReference, let node = index[String(reference.dropFirst())] {
                        kind = .complex(node)
                    } else if let node = index[elementType.code] {
                        kind = .complex(node)
                    } else {
                        kind = .unknown
                    }
                    let required =
                        child.binding.flatMap { $0.strength == "required" ? valueSets[$0.valueSet] : nil }
                    var typeRoot: ElementDefinition?
                    if case .complex = kind, let type = types[elementType.code], type.kind == .complexType,
                        elementType.code != "BackboneElement", elementType.code != "Element"
                    {
                        typeRoot = type.elements.first
                    }
                    return ObjectNode.Slot(
                        name: name, element: child, index: position, type: elementType, kind: kind,
                        requiredValueSet: required, typeRoot: typeRoot)
                }
                if child.isChoice {
                    for elementType in child.types {
                        let name = child.name + elementType.code.prefix(1).uppercased() + elementType.code.dropFirst()
                        slots.append(slot(name, elementType))
                    }
                } else {
                    slots.append(
                        slot(child.name, child.types.first ?? ElementType(code: "", targetProfiles: [], profiles: [])))
                }
            }
            var ancestry: [String] = []
            var current = types[plan.key]
            while let type = current {
                ancestry.append(type.name)
                current = type.base.flatMap { types[$0] }
            }
            return ObjectNode(key: plan.key, slots: slots, elements: plan.children, ancestry: ancestry)
        }
        return (nodes, index)
    }
}

/// One resource or data type.
public struct TypeDefinition: Sendable {
    /// Whether this is a primitive type, a complex data type or a resource.
    public enum Kind: Sendable {
        case primitiveType, complexType, resource
    }

    /// The type's name (`Patient`, `HumanName`, `dateTime`).
    public let name: String
    /// Whether this is a primitive type, a complex data type or a resource.
    public let kind: Kind
    /// Whether the type is abstract (`Resource`, `DomainResource`, `Element`, `BackboneElement`).
    public let isAbstract: Bool
    /// The name of the type this one specializes.
    public let base: String?
    /// The snapshot's elements, in definition order.
    public let elements: [ElementDefinition]
}

/// How a primitive type's value is written in JSON.
enum PrimitiveJSONKind: Sendable {
    case boolean, number, string
}

/// One element of a type's snapshot.
public final class ElementDefinition: Sendable {
    /// A binding of a coded element to a value set.
    public struct Binding: Sendable {
        /// `required`, `extensible`, `preferred` or `example`.
        public let strength: String
        /// The value set's canonical URL, without a version.
        public let valueSet: String
    }

    /// The element's path, e.g. `Patient.contact.name` or `Observation.value[x]`.
    public let path: String
    /// Minimum cardinality.
    public let min: Int
    /// Maximum cardinality; `nil` means unbounded (`*`).
    public let max: Int?
    /// The allowed types; more than one for a choice element.
    public let types: [ElementType]
    /// The value set binding, if any.
    public let binding: Binding?
    /// Indices into `FHIRDefinitions.constraints`.
    public let constraintIndices: [Int]
    /// The constraints the validator evaluates as FHIRPath: all but those it checks natively.
    let interpretedConstraintIndices: [Int]
    /// `#Path` of the element whose definition this one reuses (e.g. `#Questionnaire.item`).
    public let contentReference: String?
    /// Whether the element is part of the summary view.
    public let isSummary: Bool
    /// Whether the element changes the meaning of the resource.
    public let isModifier: Bool

    /// The last path segment, without `[x]`.
    public let name: String
    /// Whether this is a choice element (`value[x]`).
    public let isChoice: Bool
    /// Whether the element is written as a JSON array.
    public let isArray: Bool

    init(
        path: String, min: Int, max: Int?, types: [ElementType], binding: Binding?, constraintIndices: [Int],
        constraints: [Constraint], contentReference: String?, isSummary: Bool, isModifier: Bool
    ) {
        self.path = path
        self.min = min
        self.max = max
        self.types = types
        self.binding = binding
        self.constraintIndices = constraintIndices
        self.interpretedConstraintIndices = constraintIndices.filter { index in
            index < constraints.count && !ValidationRun.nativeConstraintKeys.contains(constraints[index].key)
        }
        self.contentReference = contentReference
        self.isSummary = isSummary
        self.isModifier = isModifier
        self.isChoice = path.hasSuffix("[x]")
        let last = path.split(separator: ".").last.map(String.init) ?? path
        self.name = isChoice ? String(last.dropLast(3)) : last
        self.isArray = max != 1 && max != 0
    }
}

/// One allowed type of an element.
public struct ElementType: Sendable {
    /// The type name (`string`, `Reference`, `HumanName`, `BackboneElement`).
    public let code: String
    /// For `Reference` and `canonical`: the resource types it may point to (`Patient`, `Resource`).
    public let targetProfiles: [String]
    /// Profiles the value must conform to (e.g. `SimpleQuantity`).
    public let profiles: [String]
}

/// An invariant of an element, expressed in FHIRPath.
public struct Constraint: Sendable {
    /// How a violation is reported.
    public enum Severity: Sendable {
        case error, warning
    }

    /// The constraint's key, e.g. `ele-1`, `obs-6`.
    public let key: String
    /// How a violation is reported.
    public let severity: Severity
    /// The FHIRPath expression that must be true.
    public let expression: String
    /// The rule in words.
    public let human: String
}

/// The codes of a value set, expanded when the package held everything needed.
public final class ValueSetExpansion: Sendable {
    /// The value set's canonical URL.
    public let url: String
    /// `system|code` for every code in the value set; empty when unexpandable.
    public let codings: Set<String>
    /// The codes without their system.
    public let codes: Set<String>
    /// Why the set could not be expanded from the core package (external code systems such as UCUM).
    public let unexpandableReason: String?
    /// The codes of a small set (most required bindings: `gender`, `status`, `use`) side by side with
    /// their lengths, for a scan that beats hashing the code.
    private let fewCodes: [String]?
    private let fewLengths: [Int]

    init(url: String, codings: Set<String>) {
        self.url = url
        self.codings = codings
        let codes = Set(
            codings.map { coding in
                String(coding[coding.index(after: coding.lastIndex(of: "|") ?? coding.startIndex)...])
            })
        self.codes = codes
        self.unexpandableReason = nil
        self.fewCodes = codes.count <= Self.few ? codes.sorted() : nil
        self.fewLengths = fewCodes?.map(\.utf8.count) ?? []
    }

    init(url: String, unexpandableReason: String) {
        self.url = url
        self.codings = []
        self.codes = []
        self.unexpandableReason = unexpandableReason
        self.fewCodes = nil
        self.fewLengths = []
    }

    /// Up to this many codes are scanned rather than hashed.
    private static let few = 16

    /// Whether `code` is one of the value set's codes (whatever its system).
    public func contains(code: String) -> Bool {
        guard let fewCodes else { return codes.contains(code) }
        let length = code.utf8.count
        for index in fewCodes.indices where fewLengths[index] == length && fewCodes[index] == code { return true }
        return false
    }

    /// Whether the value set's codes are known.
    public var isExpanded: Bool { unexpandableReason == nil }
}

/// A search parameter of the core specification.
public struct SearchParameterDefinition: Sendable {
    /// Canonical URL.
    public let url: String
    /// The name used in a search URL, e.g. `birthdate`.
    public let code: String
    /// The resource types it applies to.
    public let base: [String]
    /// `token`, `string`, `date`, `reference`, `quantity`, `number`, `uri`, `composite` or `special`.
    public let type: String
    /// The FHIRPath expression that selects the values to index.
    public let expression: String?
    /// For reference parameters: the resource types referenced.
    public let targets: [String]
}
