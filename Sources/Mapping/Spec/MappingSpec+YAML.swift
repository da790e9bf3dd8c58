import FHIR
import Foundation
import Yams

/// A mapping spec that cannot be used, with where in which file.
public struct MappingSpecError: Error, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var column: Int?
    public var message: String

    public init(file: String, line: Int?, column: Int?, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
    }

    public var description: String {
        [file, line.map(String.init), column.map(String.init)].compactMap { $0 }.joined(separator: ":") + ": "
            + message
    }
}

extension MappingSpec {
    /// The format version this Ferry reads (`ferry-mapping: 1`).
    public static let formatVersion = 1

    /// Reads a spec file and the ConceptMaps it names (paths relative to the spec), checking every
    /// target path against the FHIR definitions.
    public static func load(path: String, definitions: FHIRDefinitions) throws -> MappingSpec {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw MappingSpecError(file: path, line: nil, column: nil, message: "the spec file cannot be read")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw MappingSpecError(file: path, line: nil, column: nil, message: "the spec file is not UTF-8")
        }
        let folder = (path as NSString).deletingLastPathComponent
        return try parse(yaml: text, file: path, definitions: definitions) { name, relative in
            let full = relative.hasPrefix("/") ? relative : (folder as NSString).appendingPathComponent(relative)
            return try ConceptMapTable.load(path: full, name: name)
        }
    }

    /// Reads a spec from YAML text; `conceptMap` loads a ConceptMap the spec names by file.
    public static func parse(
        yaml: String, file: String, definitions: FHIRDefinitions,
        conceptMap: (String, String) throws -> ConceptMapTable
    ) throws -> MappingSpec {
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: yaml) else {
                throw MappingSpecError(file: file, line: 1, column: 1, message: "the spec is empty")
            }
            root = node
        } catch let error as MappingSpecError {
            throw error
        } catch {
            throw SpecReader.yamlError(error, file: file)
        }
        let reader = SpecReader(file: file, definitions: definitions)
        return try reader.spec(root, conceptMap: conceptMap)
    }
}

/// Reads the YAML tree of a spec, naming the line and column of what it cannot use.
struct SpecReader {
    let file: String
    let definitions: FHIRDefinitions

    static func yamlError(_ error: any Error, file: String) -> MappingSpecError {
        if let yaml = error as? YamlError {
            switch yaml {
            case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _),
                .composer(_, let problem, let mark, _):
                return MappingSpecError(file: file, line: mark.line, column: mark.column, message: "YAML: \(problem)")
            case .duplicatedKeysInMapping(let duplicates, let context):
                return MappingSpecError(
                    file: file, line: context.mark.line, column: context.mark.column,
                    message: "YAML: the key \(duplicates.joined(separator: ", ")) appears twice")
            default: break
            }
        }
        return MappingSpecError(file: file, line: nil, column: nil, message: "YAML: \(error)")
    }

    /// The keys each part of a spec may have (the JSON Schema in docs/mapping-spec.schema.json lists the same).
    static let keys: [String: Set<String>] = [
        "spec": [
            "ferry-mapping", "name", "version", "system", "zone", "changelog", "conceptMaps", "valueMaps", "lookups",
            "mappings", "filters", "description",
        ],
        "change": ["version", "date", "author", "approver", "summary"],
        "lookup": ["table", "key"],
        "filter": ["table", "name", "when"],
        "rule": ["name", "when"],
        "condition": ["column", "in", "equals", "present", "not", "all", "any"],
        "mapping": ["name", "table", "resource", "key", "id", "partition", "where", "filters", "zone", "elements"],
        "value": [
            "column", "template", "const", "lookup", "key", "reference", "date", "map", "concept", "display",
            "humanName", "address", "unit", "upper", "digits", "base64", "when", "required",
        ],
    ]

    func fail(_ node: Node?, _ message: String) -> MappingSpecError {
        MappingSpecError(file: file, line: node?.mark?.line, column: node?.mark?.column, message: message)
    }

    /// The members of a YAML mapping, refusing keys outside `allowed` (a misspelt key is a mistake,
    /// not something to ignore).
    func members(_ node: Node, _ what: String, allowed: Set<String>) throws -> [(String, Node, Node)] {
        guard case .mapping(let mapping) = node else { throw fail(node, "\(what) must be a mapping") }
        var result: [(String, Node, Node)] = []
        for (key, value) in mapping {
            guard let name = key.string else { throw fail(key, "\(what): keys must be text") }
            if !allowed.isEmpty, !allowed.contains(name) {
                throw fail(key, "\(what): unknown key '\(name)' (known: \(allowed.sorted().joined(separator: ", ")))")
            }
            result.append((name, key, value))
        }
        return result
    }

    func text(_ node: Node, _ what: String) throws -> String {
        guard case .scalar(let scalar) = node else { throw fail(node, "\(what) must be a single value") }
        return scalar.string
    }

    func texts(_ node: Node, _ what: String) throws -> [String] {
        if case .sequence(let sequence) = node { return try sequence.map { try text($0, what) } }
        return [try text(node, what)]
    }

    func spec(_ root: Node, conceptMap: (String, String) throws -> ConceptMapTable) throws -> MappingSpec {
        let fields = try members(root, "the spec", allowed: Self.keys["spec"]!)
        var byName: [String: (Node, Node)] = [:]
        for (name, key, value) in fields { byName[name] = (key, value) }
        func required(_ name: String) throws -> Node {
            guard let value = byName[name]?.1 else { throw fail(root, "the spec needs '\(name)'") }
            return value
        }
        let format = try text(try required("ferry-mapping"), "ferry-mapping")
        guard Int(format) == MappingSpec.formatVersion else {
            throw fail(byName["ferry-mapping"]?.1, "ferry-mapping \(format) is not a format this Ferry reads (1)")
        }
        let version = try text(try required("version"), "version")
        guard Self.isSemanticVersion(version) else {
            throw fail(byName["version"]?.1, "version '\(version)' is not a semantic version (1.2.0)")
        }
        var spec = MappingSpec(
            name: try text(try required("name"), "name"), version: version,
            system: try text(try required("system"), "system"), zone: TimeZone(identifier: "UTC")!, changelog: [],
            conceptMaps: [:], valueMaps: [:], lookups: [:], mappings: [], file: file)
        if let node = byName["zone"]?.1 { spec.zone = try zone(node) }
        if let node = byName["changelog"]?.1 { spec.changelog = try changelog(node) }
        if let node = byName["conceptMaps"]?.1 {
            for (name, _, value) in try members(node, "conceptMaps", allowed: []) {
                do {
                    spec.conceptMaps[name] = try conceptMap(name, try text(value, "conceptMaps.\(name)"))
                } catch let error as MappingSpecError where error.line == nil {
                    throw fail(value, "conceptMaps.\(name): \(error)")
                }
            }
        }
        if let node = byName["valueMaps"]?.1 {
            for (name, _, value) in try members(node, "valueMaps", allowed: []) {
                spec.valueMaps[name] = try valueMap(name, value)
            }
        }
        if let node = byName["lookups"]?.1 {
            for (name, _, value) in try members(node, "lookups", allowed: []) {
                let parts = try members(value, "lookups.\(name)", allowed: Self.keys["lookup"]!)
                let table = try parts.first { $0.0 == "table" }.map { try text($0.2, "table") }
                let key = try parts.first { $0.0 == "key" }.map { try text($0.2, "key") }
                guard let table, let key else { throw fail(value, "lookups.\(name) needs 'table' and 'key'") }
                spec.lookups[name] = MappingSpec.Lookup(name: name, table: table, key: key)
            }
        }
        if let node = byName["filters"]?.1 {
            guard case .sequence(let items) = node else { throw fail(node, "filters must be a list of rules") }
            for item in items {
                let table = try members(item, "a filter", allowed: Self.keys["filter"]!).first { $0.0 == "table" }
                guard let table else { throw fail(item, "a filter needs 'table'") }
                var copy = item
                if case .mapping(var mapping) = item {
                    mapping[Node("table")] = nil
                    copy = .mapping(mapping)
                }
                spec.filters[try text(table.2, "table"), default: []].append(try rule(copy, "a filter"))
            }
        }
        guard case .sequence(let mappings) = try required("mappings") else {
            throw fail(byName["mappings"]?.1, "mappings must be a list")
        }
        for node in mappings { spec.mappings.append(try mapping(node)) }
        return try SpecChecker(spec: spec, file: file).resolved()
    }

    static func isSemanticVersion(_ text: String) -> Bool {
        let core = text.split(separator: "-", maxSplits: 1).first ?? ""
        let parts = core.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 3 && parts.allSatisfy { !$0.isEmpty && $0.allSatisfy(\.isNumber) }
    }

    func zone(_ node: Node) throws -> TimeZone {
        let name = try text(node, "zone")
        guard let zone = TimeZone(identifier: name) else { throw fail(node, "zone '\(name)' is not an IANA zone") }
        return zone
    }

    func changelog(_ node: Node) throws -> [MappingSpec.Change] {
        guard case .sequence(let entries) = node else { throw fail(node, "changelog must be a list") }
        return try entries.map { entry in
            var values: [String: String] = [:]
            for (name, _, value) in try members(
                entry, "a changelog entry", allowed: Self.keys["change"]!)
            {
                values[name] = try text(value, "changelog.\(name)")
            }
            for name in ["version", "date", "author", "approver", "summary"] where values[name, default: ""].isEmpty {
                throw fail(entry, "a changelog entry needs '\(name)'")
            }
            return MappingSpec.Change(
                version: values["version"]!, date: values["date"]!, author: values["author"]!,
                approver: values["approver"]!, summary: values["summary"]!)
        }
    }

    func valueMap(_ name: String, _ node: Node) throws -> MappingSpec.ValueMap {
        var map = MappingSpec.ValueMap(name: name, entries: [:], caseInsensitive: false)
        for (key, _, value) in try members(node, "valueMaps.\(name)", allowed: []) {
            if key == "_caseInsensitive" {
                map.caseInsensitive = try text(value, key) == "true"
                continue
            }
            map.entries[key] = try text(value, "valueMaps.\(name).\(key)")
        }
        if map.caseInsensitive {
            for (key, value) in map.entries { map.entries[key.lowercased()] = value }
        }
        return map
    }

    func rule(_ node: Node, _ what: String) throws -> MappingSpec.Rule {
        let parts = try members(node, what, allowed: Self.keys["rule"]!)
        guard let name = try parts.first(where: { $0.0 == "name" }).map({ try text($0.2, "name") }),
            let when = parts.first(where: { $0.0 == "when" })?.2
        else { throw fail(node, "\(what) needs a 'name' (rows it leaves out are counted under it) and 'when'") }
        return MappingSpec.Rule(name: name, condition: try condition(when))
    }

    func condition(_ node: Node) throws -> MappingSpec.Condition {
        let parts = try members(node, "a condition", allowed: Self.keys["condition"]!)
        var values: [String: Node] = [:]
        for (name, _, value) in parts { values[name] = value }
        if let column = values["column"] {
            let name = try text(column, "column")
            if let list = values["in"] { return .oneOf(column: name, values: try texts(list, "in")) }
            if let value = values["equals"] { return .oneOf(column: name, values: [try text(value, "equals")]) }
            throw fail(node, "a condition on a column needs 'in' or 'equals'")
        }
        if let column = values["present"] { return .present(column: try text(column, "present")) }
        if let inner = values["not"] { return .not(try condition(inner)) }
        for (key, make) in [("all", MappingSpec.Condition.all), ("any", MappingSpec.Condition.any)] {
            guard let list = values[key] else { continue }
            guard case .sequence(let items) = list else { throw fail(list, "\(key) must be a list of conditions") }
            return make(try items.map(condition))
        }
        throw fail(node, "a condition is one of: column with in/equals, present, not, all, any")
    }

    func mapping(_ node: Node) throws -> MappingSpec.TableMapping {
        let parts = try members(node, "a mapping", allowed: Self.keys["mapping"]!)
        var values: [String: Node] = [:]
        for (name, _, value) in parts { values[name] = value }
        func need(_ name: String) throws -> String {
            guard let value = values[name] else { throw fail(node, "a mapping needs '\(name)'") }
            return try text(value, name)
        }
        let resource = try need("resource")
        guard definitions.isResourceType(resource) else {
            throw fail(values["resource"], "\(resource) is not a FHIR R4 resource type")
        }
        let name = try values["name"].map { try text($0, "name") } ?? "\(try need("table"))-\(resource)"
        var result = MappingSpec.TableMapping(
            name: name, table: try need("table"), resource: resource,
            key: try values["key"].map { try texts($0, "key") } ?? [], id: nil, partition: nil, selection: nil,
            filters: [], zone: nil, elements: [], line: node.mark?.line ?? 0)
        guard !result.key.isEmpty else { throw fail(node, "mapping \(name) needs 'key' (the columns naming a row)") }
        if let id = values["id"] {
            guard let template = Template(try text(id, "id")) else { throw fail(id, "id: a '{' is never closed") }
            result.id = template
        }
        result.partition = try values["partition"].map { try text($0, "partition") }
        result.selection = try values["where"].map { try rule($0, "where") }
        if let filters = values["filters"] {
            guard case .sequence(let items) = filters else { throw fail(filters, "filters must be a list of rules") }
            result.filters = try items.map { try rule($0, "a filter") }
        }
        if let zone = values["zone"] {
            if case .scalar = zone {
                result.zone = .fixed(try self.zone(zone))
            } else {
                result.zone = .value(try value(zone, path: "zone").source)
            }
        }
        guard let elements = values["elements"] else { throw fail(node, "mapping \(name) needs 'elements'") }
        guard let type = definitions.objectType(named: resource) else { throw fail(node, "\(resource): no definition") }
        let walker = TargetPathWalker(definitions: definitions)
        for (path, key, value) in try members(elements, "elements", allowed: []) {
            guard let steps = TargetStep.parse(path), !steps.isEmpty else {
                throw fail(key, "'\(path)' is not a FHIR element path (name[0].given[1])")
            }
            let place: TargetPathWalker.Place
            do {
                place = try walker.place(steps[...], from: ResourceNode(type: type), suffix: .plain)
            } catch {
                throw fail(key, "\(resource).\(path): \(error)")
            }
            let reference = definitions.objectType(named: "Reference")
            let isReference: Bool =
                switch place {
                case .object(let node): node.type == reference
                case .primitive(let holder, let member, _): holder.type == reference && member.name == "reference"
                }
            result.elements.append(
                MappingSpec.ElementRule(
                    path: path, steps: steps, value: try self.value(value, path: path), line: key.mark?.line ?? 0,
                    isReference: isReference))
        }
        return result
    }

    /// A value: `column`, `{template}`, `=constant`, or a mapping with a source and a transform.
    func value(_ node: Node, path: String) throws -> MappingSpec.ValueRule {
        if case .scalar(let scalar) = node {
            return MappingSpec.ValueRule(
                source: try source(scalar.string, node), transform: nil, condition: nil, required: false)
        }
        let parts = try members(node, path, allowed: Self.keys["value"]!)
        var values: [String: Node] = [:]
        for (name, _, value) in parts { values[name] = value }
        let source: MappingSpec.ValueSource
        if let column = values["column"] {
            source = .column(try text(column, "column"))
        } else if let template = values["template"] {
            guard let parsed = Template(try text(template, "template")) else {
                throw fail(template, "a '{' is never closed")
            }
            source = .template(parsed)
        } else if let constant = values["const"] {
            source = .constant(try text(constant, "const"))
        } else if let lookup = values["lookup"] {
            let parts = try text(lookup, "lookup").split(separator: ".", maxSplits: 1).map(String.init)
            guard parts.count == 2, let key = values["key"] else {
                throw fail(lookup, "lookup is written 'lookupName.column', with 'key' naming this row's column")
            }
            source = .lookup(name: parts[0], key: try text(key, "key"), column: parts[1])
        } else if let reference = values["reference"] {
            guard let key = values["key"], let template = Template(try text(key, "key")) else {
                throw fail(reference, "reference names a mapping; 'key' gives the row it made ({pid})")
            }
            source = .reference(mapping: try text(reference, "reference"), key: template)
        } else {
            throw fail(node, "\(path): the value needs one of column, template, const, lookup, reference")
        }
        var transform: MappingSpec.Transform?
        if let formats = values["date"] { transform = .temporal(formats: try texts(formats, "date")) }
        if let map = values["map"] { transform = .valueMap(try text(map, "map")) }
        if let concept = values["concept"] {
            let display = try values["display"].map { try self.source(try text($0, "display"), $0) }
            transform = .concept(map: try text(concept, "concept"), display: display)
        }
        if values["humanName"] != nil { transform = .humanName }
        if values["address"] != nil { transform = .address }
        if let unit = values["unit"] { transform = .quantity(unit: try self.source(try text(unit, "unit"), unit)) }
        if values["upper"] != nil { transform = .upper }
        if values["digits"] != nil { transform = .digits }
        if values["base64"] != nil { transform = .base64 }
        return MappingSpec.ValueRule(
            source: source, transform: transform, condition: try values["when"].map(condition),
            required: try values["required"].map { try text($0, "required") == "true" } ?? false)
    }

    func source(_ text: String, _ node: Node) throws -> MappingSpec.ValueSource {
        if text.hasPrefix("=") { return .constant(String(text.dropFirst())) }
        if text.contains("{") {
            guard let template = Template(text) else { throw fail(node, "'\(text)': a '{' is never closed") }
            return .template(template)
        }
        return .column(text)
    }
}
