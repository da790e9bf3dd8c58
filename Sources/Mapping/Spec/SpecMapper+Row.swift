import FHIR
import Foundation

/// Why a row could not be mapped, naming the element, the column and the value.
struct RowError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// One row through one mapping: the resource built element by element.
struct RowRun {
    let mapper: SpecMapper
    let mapping: MappingSpec.TableMapping
    let row: SourceRow
    let lookups: SpecMapper.Lookups
    var unmapped: [String: Int] = [:]
    var zone: TimeZone

    init(mapper: SpecMapper, mapping: MappingSpec.TableMapping, row: SourceRow, lookups: SpecMapper.Lookups) {
        self.mapper = mapper
        self.mapping = mapping
        self.row = row
        self.lookups = lookups
        zone = mapper.spec.zone
    }

    /// Formats tried for a date or time that names none: ISO forms.
    static let isoFormats = [
        "yyyy-MM-dd", "yyyy-MM-dd HH:mm:ss", "yyyy-MM-ddTHH:mm:ss", "yyyy-MM-dd HH:mm", "yyyy-MM-ddTHH:mm",
        "yyyy-MM-dd HH:mm:ss.SSS",
    ].map(LocalTimeFormat.init)

    mutating func resource() throws -> SpecMapper.Made {
        var keys: [String] = []
        for column in mapping.key {
            guard let value = row[column]?.text else { throw RowError("key column \(column) has no value") }
            keys.append(value)
        }
        let idText = mapping.id.map { $0.render(row) } ?? keys.joined(separator: "|")
        guard let idText else { throw RowError("the id rule's columns have no value") }
        let id = mapper.id(mapping: mapping, key: idText)
        if let rule = mapping.zone {
            switch rule {
            case .fixed(let fixed): zone = fixed
            case .value(let source):
                if let name = try text(of: source) {
                    guard let named = TimeZone(identifier: name) else {
                        throw RowError("zone '\(name)' is not an IANA zone")
                    }
                    zone = named
                }
            }
        }
        guard let type = mapper.definitions.objectType(named: mapping.resource) else {
            throw RowError("\(mapping.resource) has no definition")
        }
        let node = ResourceNode(type: type)
        for element in mapping.elements {
            if let condition = element.value.condition, !mapper.holds(condition, row) { continue }
            do {
                try write(element, into: node)
            } catch let error as RowError {
                throw RowError("\(element.path) (spec line \(element.line)): \(error.description)")
            }
        }
        // A spec that writes `id` itself overrides the rule's, as a later member does.
        return SpecMapper.Made(type: mapping.resource, id: id, resource: node.resource(type: mapping.resource, id: id))
    }

    /// The value a source gives for this row, as text; `nil` when there is none.
    func text(of source: MappingSpec.ValueSource) throws -> String? {
        switch source {
        case .column(let name):
            guard let value = row[name] else { throw RowError("table \(row.table) has no column \(name)") }
            return value.text
        case .template(let template): return template.render(row)
        case .constant(let value): return value
        case .lookup(let name, let key, let column):
            guard let keyValue = row[key]?.text else { return nil }
            guard let found = lookups[name]?[keyValue] else {
                throw RowError("\(key) = \(keyValue) is not in lookup \(name)")
            }
            return found[column]?.text
        case .reference(let name, let key):
            guard let target = mapper.byName[name], let keyText = key.render(row) else { return nil }
            return "\(target.resource)/\(mapper.id(mapping: target, key: keyText))"
        }
    }

    func describe(_ source: MappingSpec.ValueSource) -> String {
        switch source {
        case .column(let name): "column \(name)"
        case .lookup(let name, _, let column): "\(name).\(column)"
        default: "value"
        }
    }

    mutating func write(_ element: MappingSpec.ElementRule, into node: ResourceNode) throws {
        let rule = element.value
        guard let raw = try text(of: rule.source) else {
            if rule.required { throw RowError("\(describe(rule.source)) has no value, and the element is required") }
            return
        }
        let place: TargetPathWalker.Place
        do {
            place = try mapper.walker.place(element.steps[...], from: node, suffix: .plain)
        } catch {
            throw RowError("\(error)")
        }
        switch place {
        case .primitive(let holder, let member, let slot):
            guard let (value, local) = try primitive(raw, type: member.typeCode, rule: rule) else { return }
            if let slot { slot.primitive = value } else { holder.set(member.name, .primitive(value)) }
            if let local, slot == nil {
                let extensions: JSON = [
                    "extension": [
                        ["url": .string(SpecMapper.zoneExtensionURL), "valueCode": .string(zone.identifier)],
                        ["url": .string(SpecMapper.originalTimeURL), "valueString": .string(local)],
                    ]
                ]
                holder.set("_" + member.name, .primitive(extensions))
            }
        case .object(let target):
            guard let json = try object(raw, type: mapper.typeName(target.type), rule: rule) else { return }
            guard case .object(let members) = json else { return }
            for (name, value) in members {
                if case .array(let items) = value {
                    target.set(
                        name,
                        .array(
                            items.enumerated().map { index, item in
                                // Apart from the slots target paths make (whose suffix here is empty).
                                let slot = ResourceNode.Slot(index: index, suffix: .whole)
                                slot.primitive = item
                                return slot
                            }))
                } else {
                    target.set(name, .primitive(value))
                }
            }
        }
    }

    /// A value map's target, counted when the map lacks the code.
    mutating func mapped(_ raw: String, by name: String, required: Bool) throws -> String? {
        guard let map = mapper.spec.valueMaps[name] else { throw RowError("no value map \(name)") }
        if let target = map.target(raw) { return target }
        unmapped["\(name)|\(raw)", default: 0] += 1
        if required { throw RowError("value map \(name) has no entry for '\(raw)'") }
        return nil
    }

    /// The JSON for a primitive element, and the local time as read when a zone was applied.
    mutating func primitive(_ raw: String, type: String, rule: MappingSpec.ValueRule) throws -> (JSON, String?)? {
        var text = raw
        switch rule.transform {
        case .valueMap(let name)?:
            guard let target = try mapped(raw, by: name, required: rule.required) else { return nil }
            text = target
        case .concept(let name, _)?:
            guard let map = mapper.spec.conceptMaps[name] else { throw RowError("no ConceptMap \(name)") }
            if let target = map.target(of: raw) {
                text = target.code
            } else {
                unmapped["\(name)|\(raw)", default: 0] += 1
            }
        case .upper?: text = raw.uppercased()
        case .digits?: text = String(raw.filter(\.isNumber))
        case .base64?: text = Data(raw.utf8).base64EncodedString()
        case .temporal(let formats)?:
            return try temporal(
                raw, type: type, formats: mapper.temporalFormats[formats] ?? formats.map(LocalTimeFormat.init))
        case .humanName?, .address?, .quantity?:
            throw RowError("\(type) is a primitive; this transform makes an object")
        case nil: break
        }
        switch type {
        case "date", "dateTime", "instant":
            return try temporal(text, type: type, formats: Self.isoFormats)
        case "boolean", "integer", "positiveInt", "unsignedInt", "decimal":
            guard let (value, _) = V2Primitives(senderZone: zone).value(text, as: type) else {
                throw RowError("'\(text)' is not a FHIR \(type)")
            }
            return (value, nil)
        default:
            return (.string(text), nil)
        }
    }

    func temporal(_ raw: String, type: String, formats: [LocalTimeFormat]) throws -> (JSON, String?) {
        guard let value = formats.lazy.compactMap({ $0.parse(raw) }).first else {
            throw RowError(
                "'\(raw)' matches none of the formats \(formats.map(\.pattern).joined(separator: ", "))")
        }
        switch type {
        case "date":
            return (.string(value.dateText), nil)
        case "dateTime", "instant":
            guard value.hour != nil else {
                if type == "instant" { throw RowError("'\(raw)' has no time, and an instant needs one") }
                return (.string(value.dateText), nil)
            }
            return (.string(value.utcText(zone: zone)), value.localText(zone: zone))
        default:
            throw RowError("a date format was given for an element of type \(type)")
        }
    }

    /// The JSON for an object element (CodeableConcept, Coding, HumanName, Address, Quantity, Reference).
    mutating func object(_ raw: String, type: String, rule: MappingSpec.ValueRule) throws -> JSON? {
        switch (type, rule.transform) {
        case ("Reference", nil):
            return ["reference": .string(raw)]
        case ("CodeableConcept", .concept(let name, let display)?), ("Coding", .concept(let name, let display)?):
            guard let map = mapper.spec.conceptMaps[name] else { throw RowError("no ConceptMap \(name)") }
            let label = try display.flatMap { try text(of: $0) }
            let original = map.source(raw, display: label)
            var codings = [Self.coding(original)]
            if let target = map.target(of: raw) {
                codings.insert(Self.coding(target), at: 0)
            } else {
                unmapped["\(name)|\(raw)", default: 0] += 1
            }
            if type == "Coding" { return codings[0] }
            var members: [(String, JSON)] = [("coding", .array(codings))]
            if let text = label ?? original.display { members.append(("text", .string(text))) }
            return .object(JSONObject(members))
        case ("CodeableConcept", .valueMap(let name)?), ("Coding", .valueMap(let name)?):
            guard let target = try mapped(raw, by: name, required: rule.required) else { return nil }
            let coding: JSON =
                // `system|code`; with either side empty, the whole text is the code.
                if let bar = target.utf8.firstIndex(of: UInt8(ascii: "|")), bar != target.utf8.startIndex,
                    target.utf8.index(after: bar) != target.utf8.endIndex
                {
                    [
                        "system": .string(String(target[..<bar])),
                        "code": .string(String(target[target.utf8.index(after: bar)...])),
                    ]
                } else {
                    ["code": .string(target)]
                }
            return type == "Coding" ? coding : ["coding": [coding]]
        case ("CodeableConcept", nil):
            return ["text": .string(raw)]
        case ("HumanName", .humanName?):
            return Self.humanName(raw)
        case ("HumanName", nil), ("Address", nil):
            return ["text": .string(raw)]
        case ("Address", .address?):
            return Self.address(raw)
        case ("Quantity", .quantity?), ("Quantity", nil):
            var unitSource: MappingSpec.ValueSource?
            if case .quantity(let unit)? = rule.transform { unitSource = unit }
            guard let (number, _) = V2Primitives(senderZone: zone).value(raw, as: "decimal") else {
                throw RowError("'\(raw)' is not a number")
            }
            var members: [(String, JSON)] = [("value", number)]
            if let unitSource, let unit = try text(of: unitSource) {
                members.append(("unit", .string(unit)))
                if let code = UCUMUnits.code(for: unit) {
                    members.append(("system", "http://unitsofmeasure.org"))
                    members.append(("code", .string(code)))
                }
            }
            return .object(JSONObject(members))
        default:
            throw RowError("cannot write a value into \(type) this way (see docs/mapping-specs.md, transforms)")
        }
    }

    static func coding(_ concept: ConceptMapTable.Concept) -> JSON {
        var members: [(String, JSON)] = [("system", .string(concept.system)), ("code", .string(concept.code))]
        if let display = concept.display { members.append(("display", .string(display))) }
        return .object(JSONObject(members))
    }

    /// `Last, First Middle` or `First Middle Last`.
    static func humanName(_ text: String) -> JSON {
        let family: String
        let given: [String]
        if let comma = text.firstIndex(of: ",") {
            family = text[..<comma].trimmingCharacters(in: .whitespaces)
            given = text[text.index(after: comma)...].split(separator: " ").map(String.init)
        } else {
            var words = text.split(separator: " ").map(String.init)
            family = words.popLast() ?? ""
            given = words
        }
        var members: [(String, JSON)] = [("text", .string(text))]
        if !family.isEmpty { members.append(("family", .string(family))) }
        if !given.isEmpty { members.append(("given", .array(given.map { .string($0) }))) }
        return .object(JSONObject(members))
    }

    /// `street[, street 2], city, ST 12345`; other shapes keep the text alone.
    static func address(_ text: String) -> JSON {
        let parts = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        guard parts.count >= 3 else { return ["text": .string(text)] }
        let last = parts[parts.count - 1].split(separator: " ").map(String.init)
        var members: [(String, JSON)] = [("text", .string(text))]
        members.append(("line", .array(parts[0..<(parts.count - 2)].map { .string($0) })))
        members.append(("city", .string(parts[parts.count - 2])))
        if let state = last.first { members.append(("state", .string(state))) }
        if last.count > 1 { members.append(("postalCode", .string(last[1...].joined(separator: " ")))) }
        return .object(JSONObject(members))
    }
}

/// Units as legacy systems write them, to UCUM codes.
enum UCUMUnits {
    static let codes: [String: String] = [
        "mg/dL": "mg/dL", "mmol/L": "mmol/L", "%": "%", "g/dL": "g/dL", "K/uL": "10*3/uL", "10^3/uL": "10*3/uL",
        "x10E3/uL": "10*3/uL", "M/uL": "10*6/uL", "10^6/uL": "10*6/uL", "mEq/L": "meq/L", "U/L": "U/L",
        "IU/L": "[IU]/L",
        "fL": "fL", "pg": "pg", "ng/mL": "ng/mL", "ug/dL": "ug/dL", "mIU/L": "m[IU]/L", "uIU/mL": "u[IU]/mL",
        "mL/min/1.73m2": "mL/min/{1.73_m2}", "kg": "kg", "g": "g", "cm": "cm", "mmHg": "mm[Hg]", "mm[Hg]": "mm[Hg]",
        "bpm": "/min", "/min": "/min", "lb": "[lb_av]", "in": "[in_i]", "degF": "[degF]", "Cel": "Cel", "C": "Cel",
        "F": "[degF]", "mg": "mg", "mL": "mL", "L": "L", "kg/m2": "kg/m2", "mg/L": "mg/L", "g/L": "g/L",
    ]

    static func code(for unit: String) -> String? { codes[unit] }
}
