/// One occurrence of a group in a message (`ORDER_OBSERVATION`), or the whole message: its segments
/// and nested groups in message order.
public struct HL7Group: Sendable, Hashable {
    /// One child: a segment (by its 0-based index in `HL7Message.segments`) or a nested group.
    public enum Child: Sendable, Hashable {
        case segment(Int)
        case group(HL7Group)
    }

    /// The group name from the structure (`ORDER_OBSERVATION`); the structure name for the message.
    public var name: String
    public var children: [Child]

    /// The nested groups with a name, in order.
    public func groups(_ name: String) -> [HL7Group] {
        children.compactMap {
            if case .group(let group) = $0, group.name == name { return group }
            return nil
        }
    }

    /// The indices of this group's own segments with an id (not those of nested groups), in order.
    public func segmentIndices(_ id: String, in message: HL7Message) -> [Int] {
        children.compactMap {
            if case .segment(let index) = $0, message.segments[index].id == id { return index }
            return nil
        }
    }

    /// The indices of every segment in the group and its nested groups, in message order.
    public var allSegmentIndices: [Int] {
        children.flatMap { child -> [Int] in
            switch child {
            case .segment(let index): [index]
            case .group(let group): group.allSegmentIndices
            }
        }
    }
}

/// A message arranged by its structure: which group each segment belongs to, and what did not fit.
public struct HL7GroupedMessage: Sendable {
    /// A way the message departs from its structure. The message is still arranged: an unexpected
    /// segment is kept where it stood, a missing one is reported.
    public struct Issue: Sendable, Hashable, CustomStringConvertible {
        public enum Kind: Sendable, Hashable {
            /// A required segment or group is absent from a group that is present.
            case missing
            /// A segment the structure knows stands where it cannot be placed.
            case unexpected
        }

        public var kind: Kind
        /// The group path where it happened (`ORU_R01/PATIENT_RESULT/ORDER_OBSERVATION`).
        public var location: String
        /// The segment id or group name that is missing or unexpected.
        public var element: String
        /// For an unexpected segment, its 1-based position in the message.
        public var segmentNumber: Int?

        public var description: String {
            switch kind {
            case .missing: "\(location): required \(element) is missing"
            case .unexpected: "segment \(segmentNumber ?? 0) \(element): not expected here by \(location)"
            }
        }
    }

    public var message: HL7Message
    public var structure: HL7MessageStructure
    /// The message as a group named after the structure.
    public var root: HL7Group
    public var issues: [Issue]

    /// Arranges a message by a structure. Segments that the structure does not know anywhere stay in
    /// the group where they stand (Z-segments without an issue, standard segments reported); known
    /// segments that fit nowhere are kept at the top and reported.
    public init(_ message: HL7Message, structure: HL7MessageStructure) {
        self.message = message
        self.structure = structure
        var matcher = GroupMatcher(message: message, known: structure.segmentIDs)
        var root = HL7Group(name: structure.name, children: [])
        matcher.match(structure.elements, into: &root, location: { structure.name }, isRoot: true)
        self.root = root
        self.issues = matcher.issues
    }

    /// Arranges a message by the structure its MSH names (`HL7MessageStructure.for(_:)`); `nil` when
    /// Ferry has no structure for it.
    public init?(_ message: HL7Message) {
        guard let structure = HL7MessageStructure.for(message) else { return nil }
        self.init(message, structure: structure)
    }

    /// The segment with an index in the message.
    public func segment(_ index: Int) -> HL7Segment { message.segments[index] }

    /// The groups that hold a segment (by its 0-based index), from the message down to its own
    /// group: for an OBX of an ORU, the message, its PATIENT_RESULT, ORDER_OBSERVATION and OBSERVATION.
    public func groups(containing index: Int) -> [HL7Group] {
        func search(_ group: HL7Group, _ trail: [HL7Group]) -> [HL7Group]? {
            for child in group.children {
                switch child {
                case .segment(let other) where other == index: return trail + [group]
                case .group(let nested): if let found = search(nested, trail + [group]) { return found }
                default: continue
                }
            }
            return nil
        }
        return search(root, []) ?? []
    }

    /// The value at a group path: groups from the top separated by `/`, each with an optional
    /// occurrence, then a segment path within the last group, e.g.
    /// `PATIENT_RESULT/ORDER_OBSERVATION[2]/OBSERVATION[3]/OBX-5` or `PATIENT_RESULT/PATIENT/PID-5.1`.
    public func value(at path: String) throws(HL7Error) -> HL7Value {
        let steps = path.split(separator: "/", omittingEmptySubsequences: false)
        var group = root
        for step in steps.dropLast() {
            let (name, occurrence) = try Self.step(step, in: path)
            let matches = group.groups(name)
            guard occurrence <= matches.count else { return .absent }
            group = matches[occurrence - 1]
        }
        let segmentPath = try HL7Path(String(steps.last ?? ""))
        let indices = group.segmentIndices(segmentPath.segment, in: message)
        guard segmentPath.occurrence <= indices.count else { return .absent }
        return message.value(in: message.segments[indices[segmentPath.occurrence - 1]], at: segmentPath)
    }

    private static func step(_ step: Substring, in path: String) throws(HL7Error) -> (String, Int) {
        var name = step
        var occurrence = 1
        if let open = step.firstIndex(of: "["), step.last == "]" {
            name = step[..<open]
            guard let number = Int(step[step.index(after: open)..<step.index(before: step.endIndex)]), number >= 1
            else {
                throw HL7Error(.path, "'\(path)': the occurrence in '\(step)' must be a number from 1")
            }
            occurrence = number
        }
        guard !name.isEmpty,
            name.utf8.allSatisfy({ ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5F })
        else {
            throw HL7Error(.path, "'\(path)': '\(step)' is not a group name (e.g. ORDER_OBSERVATION[2])")
        }
        return (String(name), occurrence)
    }
}

/// Places segments into groups: each segment goes to the first element at or after the current
/// position that can take it; a segment that no later element of the group takes ends the group
/// and is offered to the enclosing one, where it may start a new occurrence.
private struct GroupMatcher {
    let message: HL7Message
    /// Every segment id the structure mentions; others are site extras kept where they stand.
    let known: Set<String>
    var index = 0
    var issues: [HL7GroupedMessage.Issue] = []

    /// `location` is written out only for an issue (`ORU_R01/PATIENT_RESULT[1]`): most messages have none.
    mutating func match(
        _ elements: [HL7StructureElement], into group: inout HL7Group, location: () -> String, isRoot: Bool
    ) {
        var position = 0
        var counts = [Int](repeating: 0, count: elements.count)
        while index < message.segments.count {
            let id = message.segments[index].id
            var taken = false
            // Asked of the structure directly (a set of starting ids made for every group of every
            // message cost more than the matching).
            for candidate in position..<elements.count where elements[candidate].canStart(with: id) {
                // Only the element at the current position can have occurred already.
                if !elements[candidate].cardinality.allows(counts[candidate]) { continue }
                switch elements[candidate] {
                case .segment, .choice:
                    group.children.append(.segment(index))
                    index += 1
                case .group(let name, let nested, _):
                    let occurrence = counts[candidate] + 1
                    var child = HL7Group(name: name, children: [])
                    match(nested, into: &child, location: { "\(location())/\(name)[\(occurrence)]" }, isRoot: false)
                    group.children.append(.group(child))
                }
                counts[candidate] += 1
                position = candidate
                taken = true
                break
            }
            if taken { continue }
            if !known.contains(id) {
                // A segment the structure never mentions stays where it stands; a Z-segment is the site's
                // own and expected, a standard one is reported.
                if !message.segments[index].isZSegment {
                    issues.append(.init(kind: .unexpected, location: location(), element: id, segmentNumber: index + 1))
                }
                group.children.append(.segment(index))
                index += 1
                continue
            }
            guard isRoot else { break }
            issues.append(.init(kind: .unexpected, location: location(), element: id, segmentNumber: index + 1))
            group.children.append(.segment(index))
            index += 1
        }
        for (element, count) in zip(elements, counts) where count < element.cardinality.min {
            issues.append(.init(kind: .missing, location: location(), element: element.label, segmentNumber: nil))
        }
    }
}

extension HL7StructureElement {
    /// Whether a segment with `id` can begin this element: `startingSegments.contains(id)`, without the set.
    func canStart(with id: String) -> Bool {
        switch self {
        case .segment(let own, _):
            return own == id
        case .choice(let alternatives, _):
            return alternatives.contains { $0.canStart(with: id) }
        case .group(_, let elements, _):
            for element in elements {
                if element.canStart(with: id) { return true }
                if element.cardinality.min > 0 { return false }
            }
            return false
        }
    }

    /// The segment id, group name or choice as written in the notation.
    var label: String {
        switch self {
        case .segment(let id, _): id
        case .group(let name, _, _): name
        case .choice: notation
        }
    }
}
