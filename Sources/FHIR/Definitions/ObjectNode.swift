/// The JSON members an object may hold — one slot per member name, choice types spelled out
/// (`valueQuantity`) — with everything validation needs resolved once, when the definitions load.
final class ObjectNode: Sendable {
    /// One member name an object may hold.
    final class Slot: Sendable {
        /// How the member's value is written.
        enum Kind: Sendable {
            /// A primitive value (with an optional `_name` sibling for its id and extensions).
            case primitive(PrimitiveType)
            /// A whole resource (`contained`, `Bundle.entry.resource`).
            case resource
            /// An object described by the node at this index of `FHIRDefinitions.nodeList`.
            case complex(Int)
            /// A type the definitions do not describe (never in the core package).
            case unknown
        }

        /// What needs checking beyond the element's own node.
        enum Check: Sendable {
            case none, reference, extensionRules, requiredCoding, requiredCodeableConcept, simpleQuantity
        }

        /// The JSON member name, e.g. `valueQuantity`.
        let name: String
        /// The element the member belongs to.
        let element: ElementDefinition
        /// The element's position in the node's `elements`.
        let index: Int
        /// The member's type (for a choice member, the type its name selects).
        let type: ElementType
        /// `type.code`, kept apart so that reading it copies one string, not the whole `ElementType`.
        let typeCode: String
        /// How the member's value is written.
        let kind: Kind
        /// The expanded value set of a required binding, when the element has one.
        let requiredValueSet: ValueSetExpansion?
        /// What needs checking beyond the node.
        let check: Check
        let isArray: Bool
        let isChoice: Bool
        /// The UTF-8 length of `name`.
        let nameLength: Int
        /// Whether the member holds a primitive (and may have a `_name` sibling).
        let isPrimitive: Bool
        /// The element's own constraints, then those of its data type's root element not already
        /// among them (`per-1` of `Period` holds wherever the type is used) — what a complex value is
        /// checked against — for the interpreted (all) and native (the rest) modes.
        let valueConstraintIndices: (all: [Int], interpreted: [Int])

        init(
            name: String,
            element: ElementDefinition,
            index: Int,
            type: ElementType,
            kind: Kind,
            requiredValueSet: ValueSetExpansion?,
            typeRoot: ElementDefinition? = nil
        ) {
            // `typeRoot`: the root element of the member's data type; `nil` for primitives, backbone
            // elements and resources.
            func merged(_ own: [Int], _ typeRoot: [Int]?) -> [Int] {
                own + (typeRoot ?? []).filter { !own.contains($0) }
            }
            valueConstraintIndices = (
                merged(element.constraintIndices, typeRoot?.constraintIndices),
                merged(element.interpretedConstraintIndices, typeRoot?.interpretedConstraintIndices)
            )
            self.name = name
            self.element = element
            self.index = index
            self.type = type
            self.typeCode = type.code
            self.kind = kind
            self.requiredValueSet = requiredValueSet
            self.isArray = element.isArray
            self.isChoice = element.isChoice
            self.nameLength = name.utf8.count
            if case .primitive = kind { isPrimitive = true } else { isPrimitive = false }
            switch type.code {
            case "Reference": check = .reference
            case "Extension": check = .extensionRules
            case "Coding" where requiredValueSet != nil: check = .requiredCoding
            case "CodeableConcept" where requiredValueSet != nil: check = .requiredCodeableConcept
            case "Quantity" where type.profiles.contains("SimpleQuantity"): check = .simpleQuantity
            default: check = .none
            }
        }
    }

    /// The type name or backbone element path this node describes.
    let key: String
    /// The member names the object may hold.
    let slots: [Slot]
    /// Child elements in definition order (XML writes in this order).
    let elements: [ElementDefinition]
    /// Whether this is the node of `Extension` (whose `url` is an XML attribute).
    let isExtension: Bool
    /// The names of choice elements without their type suffix (`value` for `value[x]`).
    let choiceNames: [String]
    /// For the node of a type, the type and its bases (`Age`, `Quantity`, `Element`), for type tests
    /// without lookups; empty for backbone elements.
    let ancestry: [String]
    /// The positions in `elements` whose cardinality a value count can break: a minimum, a bounded
    /// repetition, a choice (two types, or `_name` beside another type, can count twice). A member
    /// that does not repeat counts at most once otherwise, so `0..1` and `0..*` need no look.
    let cardinalityChecked: [Int]
    /// The slots' names, for a lookup that touches no slot object (`Observation` has 45 slots, its
    /// `value[x]` spelt eleven ways).
    private let names: NameTable
    /// The elements' names (`value` for `value[x]`), for the invariants' glances.
    private let elementNames: NameTable

    init(key: String, slots: [Slot], elements: [ElementDefinition], ancestry: [String] = []) {
        self.ancestry = ancestry
        self.key = key
        self.slots = slots
        self.elements = elements
        self.isExtension = key == "Extension"
        self.choiceNames = elements.filter(\.isChoice).map(\.name)
        self.cardinalityChecked = elements.indices.filter { index in
            let element = elements[index]
            return element.min > 0 || element.isChoice || element.max == 0 || (element.isArray && element.max != nil)
        }
        self.names = NameTable(slots.map(\.name))
        self.elementNames = NameTable(elements.map(\.name))
    }

    /// The slot for a JSON member name.
    @inline(__always)
    func slot(named name: String) -> Slot? {
        names.position(of: name).map { slots[$0] }
    }

    /// The position in `elements` of the element named `name` (a choice without its type: `value`).
    @inline(__always)
    func elementIndex(named name: String) -> Int? {
        elementNames.position(of: name)
    }
}

/// The FHIR primitive types, as the validator dispatches on them.
enum PrimitiveType: Sendable {
    case boolean, integer, unsignedInt, positiveInt, decimal
    case string, markdown, code, id, uri, url, canonical, oid, uuid
    case date, dateTime, instant, time, base64Binary, xhtml

    /// The primitive type named `code`, including FHIRPath's system types; `nil` for other types.
    init?(code: String) {
        switch code {
        case "boolean", "System.Boolean": self = .boolean
        case "integer", "System.Integer": self = .integer
        case "unsignedInt": self = .unsignedInt
        case "positiveInt": self = .positiveInt
        case "decimal", "System.Decimal": self = .decimal
        case "string", "System.String": self = .string
        case "markdown": self = .markdown
        case "code": self = .code
        case "id": self = .id
        case "uri": self = .uri
        case "url": self = .url
        case "canonical": self = .canonical
        case "oid": self = .oid
        case "uuid": self = .uuid
        case "date", "System.Date": self = .date
        case "dateTime", "System.DateTime": self = .dateTime
        case "instant": self = .instant
        case "time", "System.Time": self = .time
        case "base64Binary": self = .base64Binary
        case "xhtml": self = .xhtml
        default: return nil
        }
    }

    /// How a value of the type is written in JSON.
    var jsonKind: PrimitiveJSONKind {
        switch self {
        case .boolean: .boolean
        case .integer, .unsignedInt, .positiveInt, .decimal: .number
        default: .string
        }
    }
}
