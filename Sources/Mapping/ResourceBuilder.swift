import FHIR

/// A resource under construction: JSON members set by target paths, with array elements told apart
/// by their index and suffix so that rows naming the same `identifier[2]` for the same repetition
/// fill one element.
final class ResourceNode {
    enum Member {
        case primitive(JSON)
        case object(ResourceNode)
        case array([Slot])
    }

    /// An element of an array member, told apart from the others by the index its target path
    /// names (`identifier[2]`) and by the suffix of what wrote it (a repetition of the source).
    final class Slot {
        let index: Int
        let suffix: SlotSuffix
        var primitive: JSON?
        var node: ResourceNode?
        /// A repeating primitive's own id and extensions (its item of `_name`, beside its value).
        var extras: ResourceNode?

        init(index: Int, suffix: SlotSuffix) {
            self.index = index
            self.suffix = suffix
        }
    }

    let type: FHIRObjectType
    /// The members in the order they were first set; a node has a handful, so a list searched in
    /// order costs less than a dictionary (no hashing, one allocation).
    private(set) var entries: [(name: String, member: Member)] = []

    init(type: FHIRObjectType) { self.type = type }

    var isEmpty: Bool { entries.isEmpty }

    func set(_ name: String, _ member: Member) { Self.set(name, member, in: &entries) }

    /// `set` on the list itself: one access to the stored property for the whole change (each
    /// access to a class's property is checked for exclusivity; a lookup and a write were ten checks).
    private static func set(_ name: String, _ member: Member, in entries: inout [(name: String, member: Member)]) {
        for index in entries.indices where entries[index].name == name {
            entries[index].member = member
            return
        }
        // Room for a few members at once: growing one by one cost three allocations a node.
        if entries.capacity == 0 { entries.reserveCapacity(4) }
        entries.append((name, member))
    }

    /// The element of array member `name` with this index and suffix, added when there is none.
    func slot(_ name: String, index: Int, suffix: SlotSuffix) -> Slot {
        Self.slot(name, index: index, suffix: suffix, in: &entries)
    }

    private static func slot(
        _ name: String, index: Int, suffix: SlotSuffix, in entries: inout [(name: String, member: Member)]
    ) -> Slot {
        guard let position = entries.firstIndex(where: { $0.name == name }) else {
            let slot = Slot(index: index, suffix: suffix)
            set(name, .array([slot]), in: &entries)
            return slot
        }
        var slots: [Slot] = []
        if case .array(let existing) = entries[position].member {
            if let found = existing.first(where: { $0.index == index && $0.suffix == suffix }) { return found }
            slots = existing
        }
        // The entry lets go of the array first, so that the append extends it in place instead of copying it.
        entries[position].member = .array([])
        let slot = Slot(index: index, suffix: suffix)
        slots.append(slot)
        entries[position].member = .array(slots)
        return slot
    }

    func member(_ name: String) -> Member? { entries.first { $0.name == name }?.member }

    /// The string a primitive member holds.
    func string(_ name: String) -> String? {
        guard case .primitive(let value)? = member(name) else { return nil }
        return value.stringValue
    }

    /// Whether `json()` has anything to write.
    var hasContent: Bool {
        entries.contains { entry in
            switch entry.member {
            case .primitive: true
            case .object(let node): node.hasContent
            case .array(let slots):
                slots.contains {
                    $0.primitive != nil || $0.node?.hasContent == true || $0.extras?.hasContent == true
                }
            }
        }
    }

    /// The JSON object, empty objects and array elements left out.
    func json() -> JSON? {
        let members = jsonMembers()
        // `set` keeps one entry per name: the keys are distinct.
        return members.isEmpty ? nil : .object(JSONObject(uncheckedMembers: members))
    }

    /// The resource this node makes: `resourceType` and `id` first, then the members `json()` writes
    /// (a member named `resourceType` or `id` replaces the one given).
    func resource(type: String, id: String) -> JSON {
        Self.resource(type: type, id: id, members: jsonMembers())
    }

    /// A resource of `members` (as `resource(type:id:)` writes them).
    static func resource(type: String, id: String, members made: [JSONMember]) -> JSON {
        var members = [
            JSONMember(key: "resourceType", value: .string(type)), JSONMember(key: "id", value: .string(id)),
        ]
        members.reserveCapacity(2 + made.count)
        for member in made {
            if let index = members.prefix(2).firstIndex(where: { $0.key == member.key }) {
                members[index].value = member.value
            } else {
                members.append(member)
            }
        }
        return .object(JSONObject(uncheckedMembers: members))
    }

    /// The members `json()` writes, in order.
    func jsonMembers() -> [JSONMember] {
        var result: [JSONMember] = []
        result.reserveCapacity(entries.count)
        for (name, member) in entries {
            switch member {
            case .primitive(let value): result.append(JSONMember(key: name, value: value))
            case .object(let node): if let json = node.json() { result.append(JSONMember(key: name, value: json)) }
            case .array(let slots):
                if slots.contains(where: { $0.extras != nil }) {
                    appendPrimitiveArray(name, slots, to: &result)
                    continue
                }
                let values = slots.compactMap { slot in slot.primitive ?? slot.node?.json() }
                if !values.isEmpty { result.append(JSONMember(key: name, value: .array(values))) }
            }
        }
        return result
    }
}

extension ResourceNode {
    /// A repeating primitive some of whose items have an id or extensions: `name` and `_name` as two
    /// arrays of one length, item for item, `null` where an item has no value or no extras (FHIR's
    /// JSON form of `category` with an extension on its first code).
    fileprivate func appendPrimitiveArray(_ name: String, _ slots: [Slot], to result: inout [JSONMember]) {
        var values: [JSON] = []
        var extras: [JSON] = []
        for slot in slots {
            let extra = slot.extras?.json()
            guard slot.primitive != nil || extra != nil else { continue }
            values.append(slot.primitive ?? .null)
            extras.append(extra ?? .null)
        }
        guard !values.isEmpty else { return }
        result.append(JSONMember(key: name, value: .array(values)))
        if extras.contains(where: { $0 != .null }) { result.append(JSONMember(key: "_" + name, value: .array(extras))) }
    }
}

/// What tells apart the elements of an array member that rows naming the same index create: the
/// repetition of the source that wrote them, or the writer (a vocabulary's translation, a
/// timestamp's original). A number, not text: a conversion compares and makes thousands.
struct SlotSuffix: Hashable {
    private let value: Int

    /// A mapping spec's target paths.
    static let plain = SlotSuffix(value: 0)
    /// A spec's whole-array values.
    static let whole = SlotSuffix(value: 1)
    /// A resource made from one value (its own first element).
    static let first = SlotSuffix(value: 2)
    /// The standard coding a vocabulary map adds.
    static let vocabulary = SlotSuffix(value: 3)
    /// The extension keeping a timestamp as sent.
    static let original = SlotSuffix(value: 4)

    /// Repetition `repetition` (from 1) of a field of segment `segment` (0: the segment that made the resource).
    static func repetition(_ repetition: Int, segment: Int) -> SlotSuffix {
        SlotSuffix(value: (segment + 1) << 32 | repetition)
    }

    /// What this suffix wrote, as the data type map's instance `instance` (from 2: a second HumanName
    /// from one XPN), an element apart from the first.
    func instance(_ instance: Int) -> SlotSuffix {
        SlotSuffix(value: value ^ (instance << 56))
    }
}

/// One step of an IG target path: `identifier[2]`, `assigner(Organization)`, `[1]`.
struct TargetStep {
    var name: String
    var index: Int?
    var referenceType: String?

    /// `identifier[1].assigner(Organization)` → steps; `nil` for paths Ferry cannot follow.
    static func parse(_ path: String) -> [TargetStep]? {
        var steps: [TargetStep] = []
        // Split at dots outside parentheses (`diagnosis.condition(Condition.code)`).
        var parts: [Substring] = []
        var depth = 0
        var start = path.startIndex
        for index in path.indices {
            switch path[index] {
            case "(": depth += 1
            case ")": depth -= 1
            case "." where depth == 0:
                parts.append(path[start..<index])
                start = path.index(after: index)
            default: break
            }
        }
        parts.append(path[start...])
        for part in parts {
            var text = Substring(part)
            var step = TargetStep(name: "", index: nil, referenceType: nil)
            if let open = text.firstIndex(of: "("), text.last == ")" {
                step.referenceType = String(text[text.index(after: open)..<text.index(before: text.endIndex)])
                text = text[..<open]
            }
            if let open = text.firstIndex(of: "["), text.last == "]" {
                // `line[1-3]`: several components into one repeating element start at the first.
                let inside = text[text.index(after: open)..<text.index(before: text.endIndex)]
                guard let index = Int(inside.prefix { $0.isNumber }) else { return nil }
                step.index = index
                text = text[..<open]
            }
            guard text.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "$" }) else { return nil }
            step.name = String(text)
            steps.append(step)
        }
        return steps
    }
}

/// Walks target paths through the FHIR definitions, creating what is missing.
struct TargetPathWalker {
    let definitions: FHIRDefinitions
    let elementType: FHIRObjectType?

    init(definitions: FHIRDefinitions) {
        self.definitions = definitions
        elementType = definitions.objectType(named: "Element")
    }

    enum Place {
        /// An object (a data type, backbone element or the resource itself).
        case object(ResourceNode)
        /// A primitive member: the node that holds it, its name, the array slot when it repeats.
        case primitive(ResourceNode, FHIRMember, Slot?)

        typealias Slot = ResourceNode.Slot
    }

    /// The place a path leads to from `node`, created on the way; `suffix` tells apart the elements
    /// that repetitions of the source create. Throws a sentence when the path leaves the definitions.
    func place(
        _ steps: ArraySlice<TargetStep>, from node: ResourceNode, suffix: SlotSuffix
    ) throws(TargetPathError) -> Place {
        guard let step = steps.first else { return .object(node) }
        guard let member = definitions.member(step.name, of: node.type) else {
            throw TargetPathError("\(step.name) is not an element here")
        }
        let rest = steps.dropFirst()
        if member.isPrimitive {
            var slot: ResourceNode.Slot?
            if member.isArray {
                slot = node.slot(member.name, index: step.index ?? 1, suffix: suffix)
            }
            guard !rest.isEmpty else { return .primitive(node, member, slot) }
            // `birthDate.extension[1].url`: the primitive's own extensions, in `_birthDate`; for a
            // repeating one (`category.extension[1].url`), its item's, kept with the item.
            guard let elementType else { throw TargetPathError("no Element type for the extensions of \(step.name)") }
            if let slot {
                if slot.extras == nil { slot.extras = ResourceNode(type: elementType) }
                return try place(rest, from: slot.extras!, suffix: suffix)
            }
            let holderName = "_" + member.name
            let holder: ResourceNode
            if case .object(let existing) = node.member(holderName) {
                holder = existing
            } else {
                holder = ResourceNode(type: elementType)
                node.set(holderName, .object(holder))
            }
            return try place(rest, from: holder, suffix: suffix)
        }
        guard let objectType = member.objectType else { throw TargetPathError("\(step.name) holds a resource") }
        let child: ResourceNode
        if member.isArray {
            let slot = node.slot(member.name, index: step.index ?? 1, suffix: suffix)
            if let existing = slot.node {
                child = existing
            } else {
                child = ResourceNode(type: objectType)
                slot.node = child
            }
        } else if case .object(let existing) = node.member(member.name) {
            child = existing
        } else {
            child = ResourceNode(type: objectType)
            node.set(member.name, .object(child))
        }
        return try place(rest, from: child, suffix: suffix)
    }

}

struct TargetPathError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
