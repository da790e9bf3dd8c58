import FHIR
import Foundation
import HL7v2

extension V2ConversionRun {
    /// The values at a condition's path: in this segment, another segment of the message, or (for a
    /// data type's own components) the piece being mapped.
    func values(_ path: V2Condition.Path, segment index: Int, piece: V2Piece?, owner: String?) -> [String] {
        let separators = message.separators
        if let piece, let owner, path.owner == owner {
            guard var part = piece.part(path.position, separators) else { return [] }
            if let sub = path.subPosition {
                guard let deeper = part.part(sub, separators) else { return [] }
                part = deeper
            }
            return part.text(separators).map { [$0] } ?? []
        }
        // Read from the message: what a value made depends on more than the value (`extraID`).
        messageReads += 1
        let segment =
            message.segments[index].id == path.owner
            ? message.segments[index] : message.segments.first { $0.id == path.owner }
        guard let segment else { return [] }
        if path.position == 0 { return [segment.id] }
        return V2Piece.repetitions(segment.rawField(path.position), separators).compactMap { repetition in
            guard let sub = path.subPosition else { return repetition.part(1, separators)?.text(separators) ?? nil }
            return repetition.part(sub, separators)?.text(separators)
        }
    }

    func apply(_ map: [V2Maps.Row], segment index: Int, to instance: Instance) {
        let segment = message.segments[index]
        let separators = message.separators
        // Conditions are read when a row has something to write (most fields of a segment are empty),
        // each once. (Plain locals passed `inout`: captured by a nested function, every access to
        // them was checked for exclusivity at run time.)
        var known: [Bool?] = Array(repeating: nil, count: map.count)
        var reads = ConditionReads(self, segment: index)
        for (rowIndex, row) in map.enumerated() {
            if row.position > 0, (segment.rawField(row.position) ?? "").isEmpty { continue }
            guard Self.holds(rowIndex, of: map, known: &known, reads: &reads) else { continue }
            // A row without a condition beside conditional ones for the same field and choice element
            // (`OBX-5` → `valueString`) is their "otherwise": it applies when none of them does.
            if row.condition == nil {
                var otherwise = true
                for alternative in row.alternatives
                where Self.holds(alternative, of: map, known: &known, reads: &reads) {
                    otherwise = false
                    break
                }
                if !otherwise { continue }
            }
            if row.position == 0 {
                // A constant for the segment as a whole, or a reference to the resource the segment
                // makes; it joins the element the segment's first field repetitions write.
                if row.assignment != nil || row.steps?.last?.referenceType != nil {
                    assign(
                        row, piece: V2Piece(raw: "", level: 0), segment: index, in: instance.node,
                        suffix: .repetition(1, segment: instance.segment == index ? 0 : index), location: segment.id)
                }
                continue
            }
            var pieces = V2Piece.repetitions(segment.rawField(row.position), separators)
            if let sub = row.subPosition { pieces = pieces.compactMap { $0.part(sub, separators) } }
            // A document's text (`binary64` in the maps): every repetition is a line of one attachment.
            if row.targetType == "binary64", let field = segment.rawField(row.position), !pieces.isEmpty {
                pieces = [V2Piece(raw: Substring(field), level: -1)]
            }
            guard !pieces.isEmpty else { continue }
            // The fields a condition read decided what this row wrote (OBX-2 chose the value's type).
            for path in row.condition?.paths ?? [] where path.owner == segment.id && path.position > 0 {
                used.insert(Self.usedField(segment: index, field: path.position))
            }
            for (repetition, piece) in pieces.enumerated() {
                // Repetitions, and each segment adding to one resource (NTEs as notes), make their own elements.
                let wrote = assign(
                    row, piece: piece, segment: index, in: instance.node,
                    suffix: .repetition(repetition + 1, segment: instance.segment == index ? 0 : index),
                    // Written out only for an issue.
                    location: "\(segment.id)-\(row.position)")
                if wrote { used.insert(Self.usedField(segment: index, field: row.position)) }
            }
        }
    }

    /// The letters `text` starts with (`Condition` of `Condition.code`), read as bytes while they are
    /// ASCII (Character by Character, `isLetter` cost some 400 instructions a letter).
    static func leadingLetters(_ text: String) -> String {
        let utf8 = text.utf8
        var end = utf8.startIndex
        while end != utf8.endIndex {
            let byte = utf8[end]
            if byte >= 0x80 { return String(text.prefix { $0.isLetter }) }
            guard (byte | 0x20) >= UInt8(ascii: "a") && (byte | 0x20) <= UInt8(ascii: "z") else { break }
            end = utf8.index(after: end)
        }
        return String(text[..<end])
    }

    /// The data type a map is for: `CWE` of `CWE[CodeableConcept]`.
    static func mapOwner(_ name: String) -> String {
        name.utf8.firstIndex(of: UInt8(ascii: "[")).map { String(name[..<$0]) } ?? name
    }

    /// The object that holds a target's last element (`node` itself for a one-step target), as the
    /// target's own walk found or made it.
    func parentOfTarget(_ steps: [TargetStep], from node: ResourceNode, suffix: SlotSuffix) -> ResourceNode? {
        guard steps.count > 1 else { return node }
        guard case .object(let parent)? = try? walker.place(steps.dropLast(), from: node, suffix: suffix) else {
            return nil
        }
        return parent
    }

    /// The instances of a data type map's `[k]` targets that a value fills, in order: an instance is
    /// there when a component of its own has a value (PL.2 for the room, XPN.15 for a second name);
    /// rows for every instance (`[1-6]`) or chosen by a condition do not make one.
    static func instances(of map: [V2Maps.Row], in piece: V2Piece, _ separators: HL7Separators) -> [Int] {
        let parts = piece.parts(separators)
        return Set(
            map.filter { $0.makesInstance && V2Piece.part($0.position, in: parts) != nil }.map(\.instances.lowerBound)
        ).sorted()
    }

    /// `instances(of:in:)` from the second on, looking only at the rows for those (most maps have
    /// none, and this runs for every value a data type map writes into an object).
    static func furtherInstances(of map: [V2Maps.Row], in piece: V2Piece, _ separators: HL7Separators) -> [Int] {
        var levels: [Int] = []
        for row in map where row.isFurtherInstance && row.makesInstance && !levels.contains(row.instances.lowerBound) {
            if piece.part(row.position, separators) != nil { levels.append(row.instances.lowerBound) }
        }
        return levels.sorted()
    }

    /// Whether row `rowIndex` of `map` applies, its condition read once (`known` keeps the answers).
    static func holds(_ rowIndex: Int, of map: [V2Maps.Row], known: inout [Bool?], reads: inout ConditionReads) -> Bool
    {
        if let answer = known[rowIndex] { return answer }
        let answer = map[rowIndex].condition?.holds(&reads) ?? true
        known[rowIndex] = answer
        return answer
    }

    /// Writes one row's value at its target under `node`; returns whether something was written.
    @discardableResult
    func assign(
        _ row: V2Maps.Row, piece: V2Piece, segment: Int, in node: ResourceNode, suffix: SlotSuffix,
        location: @autoclosure () -> String
    ) -> Bool {
        guard let steps = row.steps else {
            issues.append("\(location()): cannot follow the target \(row.target)")
            return false
        }
        // A reference to the resource this segment makes: `diagnosis.condition(Condition.code)` names
        // the DG1's Condition (whose code the DG1's own Condition map sets).
        if let last = steps.last, let type = last.referenceType,
            type.utf8.contains(UInt8(ascii: ".")) || row.dataTypeMap == nil
        {
            let resource = Self.leadingLetters(type)
            // Once per element path: `participant.actor[1](Patient)` from PID-2 and `[2]` from PID-3
            // name one participant, the subject extension another element.
            if !pendingSegmentReferences.contains(where: {
                $0.node === node && $0.segment == segment && $0.type == resource
                    && $0.steps.count == steps.count
                    && zip($0.steps, steps).allSatisfy { $0.name == $1.name }
            }) {
                pendingSegmentReferences.append((node, Array(steps), segment, resource, suffix))
            }
            return true
        }
        // A reference to a resource made from the value (`assigner(Organization)`).
        if let last = steps.last, let type = last.referenceType {
            guard let mapName = row.dataTypeMap, let map = row.dataTypeKey.flatMap(maps.dataTypeMap(key:)),
                let objectType = converter.definitions.objectType(named: type),
                converter.definitions.isResourceType(type)
            else { return false }
            guard
                let id = extraID(
                    map, name: mapName, type: type, objectType: objectType, piece: piece, segment: segment,
                    location: location())
            else { return false }
            return write(
                .string(ResourceID.path(type, id)), at: Array(steps) + [TargetStep(name: "reference")], in: node,
                suffix: suffix, location: location())
        }
        let place: TargetPathWalker.Place
        do {
            place = try walker.place(steps[...], from: node, suffix: suffix)
        } catch {
            issues.append("\(location()): \(row.target): \(error)")
            return false
        }
        switch place {
        case .object(let object):
            guard let mapName = row.dataTypeMap else {
                // A composite written to an object without a map (`NM[Quantity]` as `$value`): its value member.
                if let text = piece.part(1, message.separators)?.text(message.separators),
                    converter.definitions.member("value", of: object.type) != nil
                {
                    return write(
                        .string(text), at: [TargetStep(name: "value")], in: object, suffix: suffix, location: location()
                    )
                }
                return false
            }
            guard let map = row.dataTypeKey.flatMap(maps.dataTypeMap(key:)) else {
                issues.append("\(location()): no data type map \(mapName)")
                return false
            }
            // Components that fill further elements of a repeating target (XPN.15, the name a person is
            // called by, as a second HumanName; CWE.4 to CWE.6 as a second Identifier): each such
            // instance an element of its own beside the first, in the same parent. A target that does
            // not repeat cannot hold them: `mapDataType` reports them instead.
            var further: [(level: Int, node: ResourceNode)] = []
            let levels = Self.furtherInstances(of: map, in: piece, message.separators)
            if !levels.isEmpty, let parent = parentOfTarget(steps, from: node, suffix: suffix) {
                for level in levels {
                    guard
                        case .object(let other)? = try? walker.place(
                            steps.suffix(1), from: parent, suffix: suffix.instance(level)),
                        other !== object
                    else {
                        further = []
                        break
                    }
                    further.append((level, other))
                }
            }
            var wrote = mapDataType(
                map, name: mapName, piece: piece, segment: segment, into: object, suffix: suffix, location: location(),
                instance: further.isEmpty ? nil : 1)
            if wrote, let vocabulary = row.vocabulary { addTranslation(vocabulary, piece: piece, to: object) }
            for (level, other) in further {
                if mapDataType(
                    map, name: mapName, piece: piece, segment: segment, into: other, suffix: suffix,
                    location: location(), instance: level)
                {
                    wrote = true
                }
            }
            return wrote
        case .primitive(let holder, let member, let slot):
            var text: String?
            if piece.level == -1 {
                // Lines of a document: decoded, joined, and written as base64.
                let lines = piece.raw.utf8.split(
                    separator: message.separators.repetition, omittingEmptySubsequences: false
                )
                .map { HL7Escaping.decode(String(Substring($0)), separators: message.separators) }
                text = Data(lines.joined(separator: "\n").utf8).base64EncodedString()
            } else if let value = row.value, !value.isInstruction {
                text = value.text(piece, message.separators)
            } else if let mapName = row.dataTypeMap, let map = row.dataTypeKey.flatMap(maps.dataTypeMap(key:)) {
                text = primitiveText(map, name: mapName, piece: piece, segment: segment)
            } else {
                text = piece.part(1, message.separators)?.text(message.separators)
            }
            guard var value = text else { return false }
            if let vocabulary = row.vocabulary, row.assignment == nil {
                if let concepts = row.vocabularyKey.flatMap(maps.vocabulary(key:)) {
                    guard let concept = concepts[value], let code = concept.code else {
                        issues.append("\(location()): code '\(value)' has no mapping in \(vocabulary)")
                        return false
                    }
                    value = member.typeCode == "uri" ? (concept.system ?? code) : code
                } else if member.typeCode == "code" {
                    issues.append(
                        "\(location()): the maps have no vocabulary \(vocabulary); '\(value)' written as sent")
                }
            }
            if member.name == "system", holder.type == codingType || holder.type == quantityType, row.assignment == nil
            {
                guard let uri = V2CodingSystems.uri(for: value) else {
                    issues.append("\(location()): coding system '\(value)' has no known URI; left out")
                    return false
                }
                value = uri
            }
            guard let (json, original) = primitives.value(value, as: member.typeCode) else {
                issues.append("\(location()): '\(value)' is not a valid \(member.typeCode)")
                return false
            }
            if let slot {
                slot.primitive = json
            } else {
                holder.set(member.name, .primitive(json))
                if let original { keepOriginal(original, of: member.name, in: holder) }
            }
            return true
        }
    }

    /// A resource made from a value, kept once per content (the same Location from two fields is one); its id.
    func keepExtra(_ made: ResourceNode, type: String, json: JSON) -> String {
        let id = Self.id(type: type, content: JSONWriter().string(json))
        if !namedExtras.isEmpty { namedExtras[namedExtras.count - 1].append(id) }
        if extras[id] == nil {
            let extra = Instance(type: type, label: type, scope: "", node: made)
            extra.id = id
            extra.content = json
            extras[id] = extra
        }
        return id
    }

    /// The resources a data type map with `[k]` targets makes from one value: one per instance the
    /// value fills, each linked to the instance its `partOf` rows name — or, when that one is not
    /// there, to the nearest one above it that is. Parents are made first, so that a child's id
    /// covers its link. Returns the id of the most specific (the one no other is part of).
    func makeInstances(
        _ map: [V2Maps.Row], name: String, type: String, objectType: FHIRObjectType, piece: V2Piece, segment: Int,
        location: @autoclosure () -> String
    ) -> String? {
        var nodes: [Int: ResourceNode] = [:]
        var parents: [Int: Int] = [:]
        for row in map {
            if let parent = row.parentInstance, parents[row.instances.lowerBound] == nil {
                parents[row.instances.lowerBound] = parent
            }
        }
        for level in Self.instances(of: map, in: piece, message.separators) {
            let node = ResourceNode(type: objectType)
            mapDataType(
                map, name: name, piece: piece, segment: segment, into: node, suffix: .first, location: location(),
                instance: level)
            if node.hasContent { nodes[level] = node }
        }
        guard !nodes.isEmpty else { return nil }
        /// The nearest instance above `level` that was made.
        func madeParent(of level: Int) -> Int? {
            var seen: Set<Int> = [level]
            var next = parents[level]
            while let candidate = next, seen.insert(candidate).inserted {
                if nodes[candidate] != nil { return candidate }
                next = parents[candidate]
            }
            return nil
        }
        var ids: [Int: String] = [:]
        var making: Set<Int> = []
        func id(of level: Int) -> String? {
            if let id = ids[level] { return id }
            guard let node = nodes[level], making.insert(level).inserted else { return nil }
            if let parent = madeParent(of: level), let parentID = id(of: parent) {
                _ = write(
                    .string(ResourceID.path(type, parentID)),
                    at: [TargetStep(name: "partOf"), TargetStep(name: "reference")], in: node, suffix: .first,
                    location: location())
            }
            guard let json = node.json() else { return nil }
            let made = keepExtra(node, type: type, json: json)
            ids[level] = made
            return made
        }
        let parentsMade = Set(nodes.keys.compactMap(madeParent))
        for level in nodes.keys.sorted() { _ = id(of: level) }
        guard let leaf = nodes.keys.sorted().first(where: { !parentsMade.contains($0) }) else { return nil }
        return ids[leaf]
    }

    /// Writes a primitive at a path.
    func write(
        _ value: JSON, at steps: [TargetStep], in node: ResourceNode, suffix: SlotSuffix,
        location: @autoclosure () -> String
    ) -> Bool {
        guard
            case .primitive(let holder, let member, let slot)? = try? walker.place(
                steps[...], from: node, suffix: suffix)
        else {
            issues.append("\(location()): cannot write \(steps.map(\.name).joined(separator: "."))")
            return false
        }
        if let slot { slot.primitive = value } else { holder.set(member.name, .primitive(value)) }
        return true
    }

    /// Applies a data type map to one value, into an object. `instance`: which of the map's `[k]`
    /// targets to fill (a resource of its own for a PL's Locations, `makeInstances`; another element
    /// of a repeating target for a name's nickname, `assign`); without it the first, and further
    /// instances (which a target that does not repeat cannot hold) are reported as not made.
    @discardableResult
    func mapDataType(
        _ map: [V2Maps.Row], name: String, piece: V2Piece, segment: Int, into node: ResourceNode, suffix: SlotSuffix,
        location: @autoclosure () -> String, instance: Int? = nil
    ) -> Bool {
        var wrote = false
        var further: Set<Int> = []
        // Made at the first condition: most values meet none.
        var reads: ConditionReads?
        let parts = piece.parts(message.separators)
        for row in map {
            // A condition is read only for a row whose component has a value (most have none).
            guard var part = V2Piece.part(row.position, in: parts) else { continue }
            // Links between instances (`partOf`) are made by `makeInstances`, which knows which exist.
            if row.parentInstance != nil { continue }
            if let instance {
                guard row.instances.contains(instance) else { continue }
            } else if row.isFurtherInstance {
                if further.insert(row.position).inserted {
                    issues.append(
                        "\(location()).\(row.position): \(row.target): a further instance of \(name) is not made yet")
                }
                continue
            }
            if let sub = row.subPosition {
                guard let deeper = part.part(sub, message.separators) else { continue }
                part = deeper
            }
            if let condition = row.condition {
                if reads == nil {
                    reads = ConditionReads(
                        self, segment: segment, piece: piece, owner: Self.mapOwner(name))
                }
                guard condition.holds(&reads!) else { continue }
            }
            if assign(
                row, piece: part, segment: segment, in: node, suffix: suffix,
                location: location() + "." + String(row.position))
            {
                wrote = true
            }
        }
        return wrote
    }

    /// The text a data type map gives for a primitive target (`CWE[code]`: CWE.1, else CWE.4).
    func primitiveText(_ map: [V2Maps.Row], name: String, piece: V2Piece, segment: Int) -> String? {
        var reads: ConditionReads?
        let parts = piece.parts(message.separators)
        for row in map {
            // A condition is read only for a row whose component has a value (most have none).
            guard let part = V2Piece.part(row.position, in: parts) else { continue }
            if let condition = row.condition {
                if reads == nil {
                    reads = ConditionReads(
                        self, segment: segment, piece: piece, owner: Self.mapOwner(name))
                }
                guard condition.holds(&reads!) else { continue }
            }
            if let value = row.value, !value.isInstruction { return value.text(part, message.separators) }
            if let text = part.part(1, message.separators)?.text(message.separators) { return text }
        }
        return nil
    }

    /// Adds the standard coding a vocabulary map gives for a CodeableConcept's first code, or turns a
    /// Coding's v2 code into the standard one.
    func addTranslation(_ vocabulary: String, piece: V2Piece, to node: ResourceNode) {
        guard let concepts = maps.vocabulary(key: vocabulary.lowercased()),
            let code = piece.part(1, message.separators)?.text(message.separators)
        else { return }
        guard let concept = concepts[code], let mapped = concept.code else {
            issues.append("\(vocabulary): code '\(code)' has no mapping")
            return
        }
        var steps: [TargetStep] = []
        if node.type != codingType {
            guard converter.definitions.member("coding", of: node.type) != nil else { return }
            steps = [TargetStep(name: "coding", index: 0, referenceType: nil)]
        }
        _ = write(
            .string(mapped), at: steps + [TargetStep(name: "code")], in: node, suffix: .vocabulary,
            location: vocabulary)
        if let system = concept.system {
            _ = write(
                .string(system), at: steps + [TargetStep(name: "system")], in: node, suffix: .vocabulary,
                location: vocabulary)
        }
        if let display = concept.display {
            _ = write(
                .string(display), at: steps + [TargetStep(name: "display")], in: node, suffix: .vocabulary,
                location: vocabulary)
        }
    }

    /// Keeps a timestamp as sent, beside the UTC value Ferry wrote.
    func keepOriginal(_ original: String, of name: String, in holder: ResourceNode) {
        guard let elementType = walker.elementType else { return }
        let sibling: ResourceNode
        if case .object(let existing) = holder.member("_" + name) {
            sibling = existing
        } else {
            sibling = ResourceNode(type: elementType)
            holder.set("_" + name, .object(sibling))
        }
        let steps = [TargetStep(name: "extension", index: 99, referenceType: nil)]
        _ = write(
            .string(V2Primitives.originalTimestampURL), at: steps + [TargetStep(name: "url")], in: sibling,
            suffix: .original, location: name)
        _ = write(
            .string(original), at: steps + [TargetStep(name: "valueString")], in: sibling, suffix: .original,
            location: name)
    }

}

/// What the conditions of one segment, or of one value's data type map, read: each path read once
/// (the OBX map asks for `OBX-2` in some sixty conditions, an XTN map for `XTN.3` in eight).
struct ConditionReads: V2ConditionValues {
    let run: V2ConversionRun
    let segment: Int
    /// The value being mapped and its data type (`XTN`), for a data type map's own components.
    let piece: V2Piece?
    let owner: String?
    /// A handful of paths a segment: a list searched in order costs less than hashing.
    private var read: [(path: V2Condition.Path, values: [String])] = []

    init(_ run: V2ConversionRun, segment: Int, piece: V2Piece? = nil, owner: String? = nil) {
        self.run = run
        self.segment = segment
        self.piece = piece
        self.owner = owner
    }

    mutating func values(at path: V2Condition.Path) -> [String] {
        if let known = read.first(where: { $0.path == path }) { return known.values }
        let found = run.values(path, segment: segment, piece: piece, owner: owner)
        read.append((path, found))
        return found
    }
}
