import FHIR
import Foundation
import HL7v2

/// The state of converting one message.
struct V2ConversionRun {
    /// A resource of the message, by its label in the maps (`Observation[1]`) and its scope (the
    /// occurrence path of the group its segment stands in).
    final class Instance {
        let type: String
        let label: String
        let scope: String
        let node: V2Node
        var id = ""
        /// The segment (index) that made it.
        var segment = -1

        init(type: String, label: String, scope: String, node: V2Node) {
            self.type = type
            self.label = label
            self.scope = scope
            self.node = node
        }
    }

    let converter: V2Converter
    let grouped: HL7GroupedMessage
    let rows: [V2Maps.MessageRow]
    let walker: V2PathWalker
    let primitives: V2Primitives
    var instances: [Instance] = []
    var issues: [String] = []
    /// (segment index, field) pairs a map read a value from.
    var used: Set<[Int]> = []
    var usedSegments: Set<Int> = []
    /// The segment being mapped.
    var currentSegment = -1
    let codingType: FHIRObjectType?
    let quantityType: FHIRObjectType?
    /// Resources made from data types (`assigner(Organization)`), by id.
    var extras: [String: Instance] = [:]
    /// `A.path.reference=B.id` from the message map, with the scope of the segment that named them.
    var pendingReferences: [(from: String, path: String, to: String, scope: String)] = []
    /// References to the resource of a type a segment makes, resolved once every segment is done.
    var pendingSegmentReferences: [(node: V2Node, steps: [V2TargetStep], segment: Int, type: String, suffix: String)] =
        []

    var message: HL7Message { grouped.message }
    var maps: V2Maps { converter.maps }

    init(converter: V2Converter, grouped: HL7GroupedMessage, rows: [V2Maps.MessageRow]) {
        self.converter = converter
        self.grouped = grouped
        self.rows = rows
        walker = V2PathWalker(definitions: converter.definitions)
        primitives = V2Primitives(senderZone: converter.options.senderZone)
        codingType = converter.definitions.objectType(named: "Coding")
        quantityType = converter.definitions.objectType(named: "Quantity")
    }

    mutating func convert() throws -> V2Converter.Conversion {
        // The rows by where their segment stands: `PATIENT_RESULT.PATIENT.PID`.
        var rowsByPlace: [String: [V2Maps.MessageRow]] = [:]
        var rowsBySegment: [String: [V2Maps.MessageRow]] = [:]
        for row in rows {
            let place = row.identifier.split(separator: ".").dropFirst().joined(separator: ".")
            rowsByPlace[place, default: []].append(row)
            rowsBySegment[row.segment, default: []].append(row)
        }
        var visits: [(index: Int, place: String, scope: String)] = []
        func walk(_ group: HL7Group, names: [String], scope: String) {
            var occurrences: [String: Int] = [:]
            for child in group.children {
                switch child {
                case .segment(let index):
                    let id = message.segments[index].id
                    visits.append((index, (names + [id]).joined(separator: "."), scope))
                case .group(let nested):
                    occurrences[nested.name, default: 0] += 1
                    walk(
                        nested, names: names + [nested.name],
                        scope: scope + "/\(nested.name)[\(occurrences[nested.name]!)]")
                }
            }
        }
        walk(grouped.root, names: [], scope: "")
        for visit in visits {
            let segment = message.segments[visit.index]
            let candidates = rowsByPlace[visit.place] ?? rowsBySegment[segment.id] ?? []
            for row in candidates {
                if let condition = row.condition,
                    !condition.holds({ values($0, segment: visit.index, piece: nil, owner: nil) })
                {
                    continue
                }
                // `Observation[2].note`: the segment adds to a resource another segment made (an NTE's note).
                if let dot = row.target.firstIndex(of: "."), !row.target.contains("("),
                    let owner = nearest(String(row.target[..<dot]), scope: visit.scope),
                    let map = maps.segmentMap(row.segmentMap)
                {
                    currentSegment = visit.index
                    usedSegments.insert(visit.index)
                    apply(map, segment: visit.index, to: owner)
                    continue
                }
                guard let (type, label) = Self.resourceLabel(row.target),
                    converter.definitions.resourceType(named: type) != nil
                else { continue }
                guard let map = maps.segmentMap(row.segmentMap) else {
                    issues.append("\(segment.id): no segment map \(row.segmentMap)")
                    continue
                }
                currentSegment = visit.index
                let instance = instance(type: type, label: label, scope: visit.scope)
                usedSegments.insert(visit.index)
                apply(map, segment: visit.index, to: instance)
                for reference in Self.references(row.references) {
                    pendingReferences.append((reference.from, reference.path, reference.to, visit.scope))
                }
            }
        }
        return finish()
    }

    /// `Patient[1]` → (Patient, Patient[1]); `Account` → (Account, Account); `Bundle`, paths and
    /// types in parentheses are not resources made from a segment.
    static func resourceLabel(_ target: String) -> (String, String)? {
        let trimmed = target.trimmingCharacters(in: .whitespaces)
        guard !trimmed.contains("."), !trimmed.contains("(") else { return nil }
        let type = String(trimmed.prefix { $0.isLetter })
        guard !type.isEmpty, type != "Bundle", type != "MessageHeader", type != "Provenance" else { return nil }
        return (type, trimmed)
    }

    /// The reference assignments of a message row, `A.path.reference=B.id`, `A.path=B.id` or
    /// `A.path=Type[SEG]` (the resource made from that segment): (from label, path, to label).
    static func references(_ text: String?) -> [(from: String, path: String, to: String)] {
        guard let text else { return [] }
        return text.split(whereSeparator: { $0 == ";" || $0 == " " || $0 == "\n" }).compactMap { assignment in
            let sides = assignment.split(separator: "=", maxSplits: 1).map(String.init)
            guard sides.count == 2 else { return nil }
            var to = sides[1]
            if to.hasSuffix(".id") {
                to = String(to.dropLast(3))
            } else if let open = to.firstIndex(of: "["), to.hasSuffix("]"),
                to[to.index(after: open)...].dropLast().allSatisfy({ $0.isUppercase || $0.isNumber })
            {
                to = String(to[..<open])
            } else {
                return nil
            }
            var left = Substring(sides[0])
            if left.hasSuffix(".reference") { left = left.dropLast(".reference".count) }
            guard let dot = left.firstIndex(of: "."), !to.contains(".") else { return nil }
            return (String(left[..<dot]), String(left[left.index(after: dot)...]), to)
        }
    }

    /// Whether an instance's label answers a label written in a reference (`DiagnosticReport` answers
    /// for `DiagnosticReport[1]` and the other way round).
    static func matches(_ label: String, _ written: String) -> Bool {
        label == written || (!written.contains("[") && label.hasPrefix(written + "["))
            || (!label.contains("[") && written.hasPrefix(label + "["))
    }

    /// The instance for a label in a scope: the one already made in this scope or an enclosing one,
    /// else a new one.
    mutating func instance(type: String, label: String, scope: String) -> Instance {
        // The same label in this group, a group around it or a group inside it is one resource: TQ1 in
        // TIMING_ENCODED adds to its ORDER's MedicationRequest, ORC in COMMON_ORDER and OBR make one
        // DiagnosticReport. Sibling groups (two OBSERVATIONs) make two.
        if let existing = instances.last(where: {
            $0.label == label && (Self.encloses($0.scope, scope) || Self.encloses(scope, $0.scope))
        }) {
            return existing
        }
        let node = V2Node(type: converter.definitions.objectType(named: type)!)
        let made = Instance(type: type, label: label, scope: scope, node: node)
        made.segment = currentSegment
        instances.append(made)
        return made
    }

    /// Whether scope `outer` is `inner` or encloses it (`/A[1]` encloses `/A[1]/B[2]`, not `/A[10]`).
    static func encloses(_ outer: String, _ inner: String) -> Bool {
        outer == inner || inner.hasPrefix(outer + "/")
    }

    /// The instance with a label whose scope encloses `scope` most closely, else the first with it.
    func nearest(_ label: String, scope: String) -> Instance? {
        let candidates = instances.filter { Self.matches($0.label, label) }
        return candidates.filter { Self.encloses($0.scope, scope) }.max { $0.scope.count < $1.scope.count }
            ?? candidates.first
    }
}
