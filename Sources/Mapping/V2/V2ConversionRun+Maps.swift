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

    mutating func apply(_ map: [V2Maps.Row], segment index: Int, to instance: Instance) {
        let segment = message.segments[index]
        let separators = message.separators
        let holds = map.map { row in
            row.condition.map { condition in condition.holds { values($0, segment: index, piece: nil, owner: nil) } }
                ?? true
        }
        for (rowIndex, row) in map.enumerated() {
            guard holds[rowIndex] else { continue }
            // A row without a condition beside conditional ones for the same field and choice element
            // (`OBX-5` → `valueString`) is their "otherwise": it applies when none of them does.
            if row.condition == nil {
                let choice = Self.choiceBase(row.target)
                let alternatives = map.indices.filter {
                    map[$0].condition != nil && map[$0].position == row.position
                        && Self.choiceBase(map[$0].target) == choice
                }
                if choice != nil, !alternatives.isEmpty, alternatives.contains(where: { holds[$0] }) { continue }
            }
            if row.position == 0 {
                // A constant for the segment as a whole.
                if row.assignment != nil {
                    assign(
                        row, piece: V2Piece(raw: "", level: 0), segment: index, at: row.target, in: instance.node,
                        suffix: "1", location: segment.id)
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
                used.insert([index, path.position])
            }
            let location = "\(segment.id)-\(row.position)"
            for (repetition, piece) in pieces.enumerated() {
                // Repetitions, and each segment adding to one resource (NTEs as notes), make their own elements.
                let wrote = assign(
                    row, piece: piece, segment: index, at: row.target, in: instance.node,
                    suffix: "\(instance.segment == index ? 0 : index)#\(repetition + 1)", location: location)
                if wrote { used.insert([index, row.position]) }
            }
        }
    }

    /// `valueQuantity[1].value` → `value`; `nil` when the first step is not a choice element.
    static func choiceBase(_ target: String) -> String? {
        let first = target.prefix { $0 != "." && $0 != "[" }
        guard let upper = first.firstIndex(where: \.isUppercase), upper != first.startIndex else { return nil }
        return String(first[..<upper])
    }

    /// Writes one row's value at a target under `node`; returns whether something was written.
    @discardableResult
    mutating func assign(
        _ row: V2Maps.Row, piece: V2Piece, segment: Int, at target: String, in node: V2Node, suffix: String,
        location: String
    ) -> Bool {
        guard var steps = V2TargetStep.parse(target) else {
            issues.append("\(location): cannot follow the target \(target)")
            return false
        }
        // `$value` and `$this`: the value itself; `Quantity.unit` in a Quantity map: the type's own name
        // first (FHIR element names start in lower case).
        if steps.last?.name == "$value" || steps.last?.name == "$this" { steps.removeLast() }
        if let first = steps.first?.name.first, first.isUppercase { steps.removeFirst() }
        // A reference to the resource this segment makes: `diagnosis.condition(Condition.code)` names
        // the DG1's Condition (whose code the DG1's own Condition map sets).
        if let last = steps.last, let type = last.referenceType, type.contains(".") || row.dataTypeMap == nil {
            let resource = String(type.prefix { $0.isLetter })
            if !pendingSegmentReferences.contains(where: {
                $0.node === node && $0.segment == segment && $0.type == resource
            }) {
                pendingSegmentReferences.append((node, Array(steps), segment, resource, suffix))
            }
            return true
        }
        // A reference to a resource made from the value (`assigner(Organization)`).
        if let last = steps.last, let type = last.referenceType {
            guard let mapName = row.dataTypeMap, let map = maps.dataTypeMap(mapName),
                let objectType = converter.definitions.objectType(named: type),
                converter.definitions.resourceType(named: type) != nil
            else { return false }
            let made = V2Node(type: objectType)
            mapDataType(map, name: mapName, piece: piece, segment: segment, into: made, suffix: "1", location: location)
            guard let json = made.json() else { return false }
            let id = Self.id(type: type, content: JSONWriter().string(json))
            if extras[id] == nil {
                let extra = Instance(type: type, label: type, scope: "", node: made)
                extra.id = id
                extras[id] = extra
            }
            return write(
                .string("\(type)/\(id)"), at: Array(steps) + [V2TargetStep(name: "reference")], in: node,
                suffix: suffix, location: location)
        }
        let place: V2PathWalker.Place
        do {
            place = try walker.place(steps[...], from: node, suffix: suffix)
        } catch {
            issues.append("\(location): \(target): \(error)")
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
                        .string(text), at: [V2TargetStep(name: "value")], in: object, suffix: suffix, location: location
                    )
                }
                return false
            }
            guard let map = maps.dataTypeMap(mapName) else {
                issues.append("\(location): no data type map \(mapName)")
                return false
            }
            let wrote = mapDataType(
                map, name: mapName, piece: piece, segment: segment, into: object, suffix: suffix, location: location)
            if wrote, let vocabulary = row.vocabulary { addTranslation(vocabulary, piece: piece, to: object) }
            return wrote
        case .primitive(let holder, let member, let slot):
            var text: String?
            if piece.level == -1 {
                // Lines of a document: decoded, joined, and written as base64.
                let lines = piece.raw.split(
                    separator: Character(Unicode.Scalar(message.separators.repetition)),
                    omittingEmptySubsequences: false
                )
                .map { HL7Escaping.decode(String($0), separators: message.separators) }
                text = Data(lines.joined(separator: "\n").utf8).base64EncodedString()
            } else if let assignment = row.assignment, !assignment.hasPrefix("/") {
                text = Self.evaluate(assignment, piece: piece, separators: message.separators)
            } else if let mapName = row.dataTypeMap, let map = maps.dataTypeMap(mapName) {
                text = primitiveText(map, name: mapName, piece: piece, segment: segment)
            } else {
                text = piece.part(1, message.separators)?.text(message.separators)
            }
            guard var value = text else { return false }
            if let vocabulary = row.vocabulary, !maps.hasVocabulary(vocabulary), row.assignment == nil,
                member.typeCode == "code"
            {
                issues.append("\(location): the maps have no vocabulary \(vocabulary); '\(value)' written as sent")
            }
            if let vocabulary = row.vocabulary, maps.hasVocabulary(vocabulary), row.assignment == nil {
                guard let concept = maps.concept(value, in: vocabulary), let code = concept.code else {
                    issues.append("\(location): code '\(value)' has no mapping in \(vocabulary)")
                    return false
                }
                value = member.typeCode == "uri" ? (concept.system ?? code) : code
            }
            if member.name == "system", holder.type == codingType || holder.type == quantityType, row.assignment == nil
            {
                guard let uri = V2CodingSystems.uri(for: value) else {
                    issues.append("\(location): coding system '\(value)' has no known URI; left out")
                    return false
                }
                value = uri
            }
            guard let (json, original) = primitives.value(value, as: member.typeCode) else {
                issues.append("\(location): '\(value)' is not a valid \(member.typeCode)")
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

    /// Writes a primitive at a path.
    mutating func write(
        _ value: JSON, at steps: [V2TargetStep], in node: V2Node, suffix: String, location: String
    ) -> Bool {
        guard
            case .primitive(let holder, let member, let slot)? = try? walker.place(
                steps[...], from: node, suffix: suffix)
        else {
            issues.append("\(location): cannot write \(steps.map(\.name).joined(separator: "."))")
            return false
        }
        if let slot { slot.primitive = value } else { holder.set(member.name, .primitive(value)) }
        return true
    }

    /// Applies a data type map to one value, into an object; `[k]` targets make further instances
    /// beside the first in the parent's array (a name's nickname).
    @discardableResult
    mutating func mapDataType(
        _ map: [V2Maps.Row], name: String, piece: V2Piece, segment: Int, into node: V2Node, suffix: String,
        location: String
    ) -> Bool {
        let owner = String(name.prefix { $0 != "[" })
        var wrote = false
        for row in map {
            if let condition = row.condition,
                !condition.holds({ values($0, segment: segment, piece: piece, owner: owner) })
            {
                continue
            }
            guard var part = piece.part(row.position, message.separators) else { continue }
            if let sub = row.subPosition {
                guard let deeper = part.part(sub, message.separators) else { continue }
                part = deeper
            }
            var target = row.target
            if target.hasPrefix("[") {
                // Only the first instance goes into this node; a second one would need the parent's array.
                guard target.hasPrefix("[1]") else { continue }
                target = String(target.dropFirst(3))
                if target.hasPrefix(".") { target.removeFirst() }
                if target.isEmpty { target = "$this" }
            }
            if assign(
                row, piece: part, segment: segment, at: target, in: node, suffix: suffix,
                location: location + "." + String(row.position))
            {
                wrote = true
            }
        }
        return wrote
    }

    /// The text a data type map gives for a primitive target (`CWE[code]`: CWE.1, else CWE.4).
    func primitiveText(_ map: [V2Maps.Row], name: String, piece: V2Piece, segment: Int) -> String? {
        let owner = String(name.prefix { $0 != "[" })
        for row in map {
            if let condition = row.condition,
                !condition.holds({ values($0, segment: segment, piece: piece, owner: owner) })
            {
                continue
            }
            guard let part = piece.part(row.position, message.separators) else { continue }
            if let assignment = row.assignment, !assignment.hasPrefix("/") {
                return Self.evaluate(assignment, piece: part, separators: message.separators)
            }
            if let text = part.part(1, message.separators)?.text(message.separators) { return text }
        }
        return nil
    }

    /// `"urn:oid:"+HD.2` → the prefix and the value; a plain literal as it is.
    static func evaluate(_ assignment: String, piece: V2Piece, separators: HL7Separators) -> String? {
        // An expression over several components (`OBX-5.1+" "+OBX-5.2…`): the value as it stands.
        if assignment.filter({ $0 == "+" }).count > 1 || (assignment.contains("+") && !assignment.hasPrefix("\"")) {
            return piece.part(1, separators)?.text(separators)
        }
        if let plus = assignment.range(of: "\"+") {
            let prefix = assignment[..<plus.lowerBound].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            return piece.part(1, separators)?.text(separators).map { prefix + $0 }
        }
        return assignment
    }

    /// Adds the standard coding a vocabulary map gives for a CodeableConcept's first code, or turns a
    /// Coding's v2 code into the standard one.
    mutating func addTranslation(_ vocabulary: String, piece: V2Piece, to node: V2Node) {
        guard maps.hasVocabulary(vocabulary), let code = piece.part(1, message.separators)?.text(message.separators)
        else { return }
        guard let concept = maps.concept(code, in: vocabulary), let mapped = concept.code else {
            issues.append("\(vocabulary): code '\(code)' has no mapping")
            return
        }
        var steps: [V2TargetStep] = []
        if node.type != codingType {
            guard converter.definitions.member("coding", of: node.type) != nil else { return }
            steps = [V2TargetStep(name: "coding", index: 0, referenceType: nil)]
        }
        _ = write(
            .string(mapped), at: steps + [V2TargetStep(name: "code")], in: node, suffix: "vocabulary",
            location: vocabulary)
        if let system = concept.system {
            _ = write(
                .string(system), at: steps + [V2TargetStep(name: "system")], in: node, suffix: "vocabulary",
                location: vocabulary)
        }
        if let display = concept.display {
            _ = write(
                .string(display), at: steps + [V2TargetStep(name: "display")], in: node, suffix: "vocabulary",
                location: vocabulary)
        }
    }

    /// Keeps a timestamp as sent, beside the UTC value Ferry wrote.
    mutating func keepOriginal(_ original: String, of name: String, in holder: V2Node) {
        guard let elementType = walker.elementType else { return }
        let sibling: V2Node
        if case .object(let existing) = holder.member("_" + name) {
            sibling = existing
        } else {
            sibling = V2Node(type: elementType)
            holder.set("_" + name, .object(sibling))
        }
        let steps = [V2TargetStep(name: "extension", index: 99, referenceType: nil)]
        _ = write(
            .string(V2Primitives.originalTimestampURL), at: steps + [V2TargetStep(name: "url")], in: sibling,
            suffix: "original", location: name)
        _ = write(
            .string(original), at: steps + [V2TargetStep(name: "valueString")], in: sibling, suffix: "original",
            location: name)
    }

}
