import FHIR
import Foundation
import HL7v2

/// The state of converting one message.
final class V2ConversionRun {
    /// A resource of the message, by its label in the maps (`Observation[1]`) and its scope (the
    /// occurrence path of the group its segment stands in).
    final class Instance {
        let type: String
        /// The label as `matches` compares it.
        let key: LabelKey
        var label: String { key.text }
        let scope: String
        let node: ResourceNode
        var id = ""
        /// A resource made from a value: its content as written out for its id.
        var content: JSON?
        /// The segment (index) that made it.
        var segment = -1

        convenience init(type: String, label: String, scope: String, node: ResourceNode) {
            self.init(type: type, key: LabelKey(label), scope: scope, node: node)
        }

        init(type: String, key: LabelKey, scope: String, node: ResourceNode) {
            self.type = type
            self.key = key
            self.scope = scope
            self.node = node
        }
    }

    let converter: V2Converter
    let grouped: HL7GroupedMessage
    let map: V2Maps.MessageMap
    let walker: TargetPathWalker
    let primitives: V2Primitives
    var instances: [Instance] = []
    var issues: [String] = []
    /// The fields a map read a value from, as `usedField(segment:field:)` numbers them.
    var used: Set<Int> = []
    var usedSegments: Set<Int> = []
    /// The segment being mapped.
    var currentSegment = -1
    let codingType: FHIRObjectType?
    let quantityType: FHIRObjectType?
    /// Resources made from data types (`assigner(Organization)`), by id.
    var extras: [String: Instance] = [:]
    /// The ids of the resources each value being made (`extraID`, innermost last) has named so far.
    var namedExtras: [[String]] = []
    /// How many times a condition read a field of the message (not of the value being mapped).
    var messageReads = 0
    /// `A.path.reference=B.id` from the message map, with the scope of the segment that named them.
    var pendingReferences: [(from: String, steps: [TargetStep], to: String, scope: String)] = []
    /// References to the resource of a type a segment makes, resolved once every segment is done.
    var pendingSegmentReferences:
        [(node: ResourceNode, steps: [TargetStep], segment: Int, type: String, suffix: SlotSuffix)] =
            []

    var message: HL7Message { grouped.message }
    var maps: V2Maps { converter.maps }

    /// A field of a segment as one number for `used` (a pair in an array cost an allocation and a
    /// hash of the array each time; fields are numbered below 2^16).
    static func usedField(segment: Int, field: Int) -> Int { segment << 16 | field }

    init(converter: V2Converter, grouped: HL7GroupedMessage, map: V2Maps.MessageMap) {
        self.converter = converter
        self.grouped = grouped
        self.map = map
        walker = TargetPathWalker(definitions: converter.definitions)
        primitives = V2Primitives(senderZone: converter.options.senderZone)
        codingType = converter.definitions.objectType(named: "Coding")
        quantityType = converter.definitions.objectType(named: "Quantity")
    }

    func convert() throws -> V2Converter.Conversion {
        // A segment repeated in one group (two AL1s, two DG1s) makes a resource each: from the second
        // on, it has a scope of its own inside the group's (`/DG1[2]`), and does not add to what an
        // earlier repetition made.
        var visits: [(index: Int, place: String, scope: String, group: String)] = []
        visits.reserveCapacity(message.segments.count)
        /// `prefix`: the names of the groups around, each followed by a dot (`PATIENT_RESULT.`).
        func walk(_ group: HL7Group, prefix: String, scope: String) {
            // How many of each segment and group so far: a group has a handful of kinds, so a list
            // searched in order (a dictionary hashed every name and cost two allocations a group).
            var seen: [(name: String, isGroup: Bool, count: Int)] = []
            for child in group.children {
                switch child {
                case .segment(let index):
                    let id = message.segments[index].id
                    let repetition = Self.count(id, isGroup: false, in: &seen)
                    visits.append(
                        (
                            index, String.concatenating(prefix, id),
                            repetition > 1 ? scope + "/\(id)[\(repetition)]" : scope, scope
                        ))
                case .group(let nested):
                    let occurrence = Self.count(nested.name, isGroup: true, in: &seen)
                    walk(
                        nested, prefix: String.concatenating(prefix, nested.name, "."),
                        scope: scope + "/\(nested.name)[\(occurrence)]")
                }
            }
        }
        walk(grouped.root, prefix: "", scope: "")
        for visit in visits {
            let segment = message.segments[visit.index]
            let candidates = map.byPlace[visit.place] ?? map.bySegment[segment.id] ?? []
            var reads = ConditionReads(self, segment: visit.index)
            for row in candidates {
                if let condition = row.condition, !condition.holds(&reads) { continue }
                // A row without a segment map only links resources (Ferry's additions use it).
                if row.segmentMapKey.isEmpty {
                    for link in row.links { pendingReferences.append((link.from, link.steps, link.to, visit.scope)) }
                    continue
                }
                // `Observation[2].note`: the segment adds to a resource another segment made (an NTE's note).
                if let label = row.addsTo, let owner = nearest(label, scope: visit.scope),
                    let segmentMap = maps.segmentMap(key: row.segmentMapKey)
                {
                    currentSegment = visit.index
                    usedSegments.insert(visit.index)
                    apply(segmentMap, segment: visit.index, to: owner)
                    continue
                }
                guard let (type, label) = row.resource, converter.definitions.isResourceType(type)
                else { continue }
                guard let segmentMap = maps.segmentMap(key: row.segmentMapKey) else {
                    issues.append("\(segment.id): no segment map \(row.segmentMap)")
                    continue
                }
                currentSegment = visit.index
                let instance = instance(type: type, label: label, scope: visit.scope, group: visit.group)
                usedSegments.insert(visit.index)
                apply(segmentMap, segment: visit.index, to: instance)
                for link in row.links {
                    pendingReferences.append((link.from, link.steps, link.to, visit.scope))
                }
            }
        }
        return finish()
    }

    /// Counts one more segment or group named `name` in `seen`; its number so far.
    static func count(_ name: String, isGroup: Bool, in seen: inout [(name: String, isGroup: Bool, count: Int)]) -> Int
    {
        for position in seen.indices where seen[position].isGroup == isGroup && seen[position].name == name {
            seen[position].count += 1
            return seen[position].count
        }
        seen.append((name, isGroup, 1))
        return 1
    }

    /// Whether an instance's label answers a label written in a reference (`DiagnosticReport` answers
    /// for `DiagnosticReport[1]` and the other way round).
    static func matches(_ label: String, _ written: String) -> Bool {
        matches(LabelKey(label), LabelKey(written))
    }

    /// A label, and the part of it before its first `[` when it has one: `matches` compares these.
    struct LabelKey {
        let text: String
        /// A string of its own, not a `Substring`: labels are short, and two short strings compare as
        /// two words (substrings went through the general comparison, some 600 instructions an instance).
        let base: String?
        /// FNV-1a of `text` and of `base`, compared before the strings: nearly every pair of labels
        /// `nearest` looks at differs, and two different strings cost a call into the general comparison.
        let textHash: UInt64
        let baseHash: UInt64?

        init(_ text: String) {
            self.text = text
            // Byte-wise: `String.firstIndex(of:)` steps through Characters.
            let base = text.utf8.firstIndex(of: UInt8(ascii: "[")).map { String(text[..<$0]) }
            self.base = base
            textHash = FNV1a.hash(text.utf8)
            baseHash = base.map { FNV1a.hash($0.utf8) }
        }
    }

    /// `matches` on labels whose bracket was found once (`nearest` compares one label with every
    /// instance's: finding it each time was 2 % of a conversion).
    static func matches(_ label: LabelKey, _ written: LabelKey) -> Bool {
        (label.textHash == written.textHash && label.text == written.text)
            || (written.base == nil && label.baseHash == written.textHash && label.base == written.text)
            || (label.base == nil && written.baseHash == label.textHash && written.base == label.text)
    }

    /// Whether `text` is `prefix` and then the byte `next` and more, byte for byte (labels and scopes
    /// are ASCII; `hasPrefix(prefix + "[")` made a string per comparison).
    static func startsWith(_ text: String, _ prefix: String, then next: UInt8) -> Bool {
        guard text.utf8.count > prefix.utf8.count else { return false }
        // Over the contiguous bytes (stepping `UTF8View` indices cost some 40 instructions a byte).
        return text.withUTF8Bytes { text in
            prefix.withUTF8Bytes { prefix in
                text[prefix.count] == next
                    && (prefix.isEmpty || memcmp(text.baseAddress!, prefix.baseAddress!, prefix.count) == 0)
            }
        }
    }

    /// The instance for a label in a scope: the one already made in this scope or an enclosing one,
    /// else a new one. `group` is the scope of the segment's group (its own scope when it is a
    /// repetition is inside it).
    func instance(type: String, label: String, scope: String, group: String) -> Instance {
        // The same label in this group, a group around it or a group inside it is one resource: TQ1 in
        // TIMING_ENCODED adds to its ORDER's MedicationRequest, ORC in COMMON_ORDER and OBR make one
        // DiagnosticReport. Sibling groups (two OBSERVATIONs) make two, and so do repetitions of a
        // segment in one group: the second DG1 does not add to the Condition of the first.
        let segmentID = message.segments[currentSegment].id
        let repeated = scope != group
        let key = LabelKey(label)
        if let existing = instances.last(where: {
            $0.key.textHash == key.textHash && $0.label == label
                && (Self.encloses($0.scope, scope) || Self.encloses(scope, $0.scope))
                && !(repeated && $0.scope == group && $0.segment >= 0
                    && message.segments[$0.segment].id == segmentID)
        }) {
            return existing
        }
        let node = ResourceNode(type: converter.definitions.objectType(named: type)!)
        let made = Instance(type: type, key: key, scope: scope, node: node)
        made.segment = currentSegment
        instances.append(made)
        return made
    }

    /// Whether scope `outer` is `inner` or encloses it (`/A[1]` encloses `/A[1]/B[2]`, not `/A[10]`).
    static func encloses(_ outer: String, _ inner: String) -> Bool {
        outer == inner || startsWith(inner, outer, then: UInt8(ascii: "/"))
    }

    /// The instance with a label whose scope encloses `scope` most closely, else the first with it.
    func nearest(_ label: String, scope: String) -> Instance? {
        let key = LabelKey(label)
        var first: Instance?
        var nearest: Instance?
        var nearestLength = -1
        for instance in instances where Self.matches(instance.key, key) {
            if first == nil { first = instance }
            let length = instance.scope.utf8.count
            if length > nearestLength, Self.encloses(instance.scope, scope) {
                nearest = instance
                nearestLength = length
            }
        }
        return nearest ?? first
    }
}
