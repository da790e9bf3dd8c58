import Foundation

/// Compiles the official FHIR R4 core package into Ferry's compact definitions document.
///
/// Input: the folder of an unpacked `hl7.fhir.r4.core` package (its `package/` directory). Output: one
/// JSON document with every base resource and data type (elements with types, cardinality, bindings
/// and constraints), the value sets of required bindings expanded from the package's code systems,
/// and every SearchParameter. The format is described in `docs/definitions.md`. The same package
/// always compiles to the same bytes.
package struct DefinitionsCompiler {
    private var structureDefinitions: [JSONObject] = []
    private var valueSets: [String: JSONObject] = [:]
    private var codeSystems: [String: JSONObject] = [:]
    private var searchParameters: [JSONObject] = []
    private var packageVersion = ""

    /// Reads the package folder.
    package init(packageDirectory: String) throws {
        let manager = FileManager.default
        let names = try manager.contentsOfDirectory(atPath: packageDirectory).sorted()
        for name in names where name.hasSuffix(".json") {
            let kind = name.prefix { $0 != "-" }
            guard
                ["StructureDefinition", "ValueSet", "CodeSystem", "SearchParameter", "package.json"].contains(kind)
            else { continue }
            let path = packageDirectory + "/" + name
            guard let data = manager.contents(atPath: path) else { throw FHIRError(.io, "cannot read \(path)") }
            var parsed: JSON
            do { parsed = try JSON(parsing: data) } catch {
                var located = error
                located.file = path
                throw located
            }
            guard let object = parsed.objectValue else { continue }
            if name == "package.json" {
                packageVersion = "\(object["name"]?.stringValue ?? "?")#\(object["version"]?.stringValue ?? "?")"
                continue
            }
            switch object["resourceType"]?.stringValue {
            case "StructureDefinition": structureDefinitions.append(object)
            case "ValueSet": if let url = object["url"]?.stringValue { valueSets[url] = object }
            case "CodeSystem": if let url = object["url"]?.stringValue { codeSystems[url] = object }
            case "SearchParameter": searchParameters.append(object)
            default: break
            }
        }
    }

    /// Whether a SearchParameter is one of the package's examples of the SearchParameter resource
    /// (`example`, `example-extension`, `example-reference`), not a parameter of the specification:
    /// experimental, and not of the specification's version (the specification's own 1,397 all say
    /// 4.0.1 except `_filter`, which is not experimental). Taken as parameters, they indexed every
    /// Condition's subject twice, once as an Organization.
    static func isExample(_ parameter: JSONObject) -> Bool {
        parameter["experimental"]?.boolValue == true && parameter["version"]?.stringValue != "4.0.1"
    }

    /// The compact definitions document.
    package func compile() throws -> JSON {
        var constraintTable: [JSON] = []
        var constraintIndex: [String: Int] = [:]
        var requiredValueSets: Set<String> = []
        var types: [JSON] = []
        var primitives = JSONObject()

        let baseDefinitions = structureDefinitions.filter { definition in
            let kind = definition["kind"]?.stringValue
            return kind != "logical" && definition["derivation"]?.stringValue != "constraint"
        }
        .sorted { ($0["id"]?.stringValue ?? "") < ($1["id"]?.stringValue ?? "") }

        for definition in baseDefinitions {
            guard let id = definition["id"]?.stringValue, let kind = definition["kind"]?.stringValue else { continue }
            let elements = definition["snapshot"]?["element"]?.arrayValue ?? []
            var compactElements: [JSON] = []
            for case .object(let element) in elements {
                guard let path = element["path"]?.stringValue else { continue }
                var compact = JSONObject()
                compact["p"] = .string(path)
                compact["n"] = element["min"] ?? 0
                compact["x"] = element["max"] ?? "*"
                if let reference = element["contentReference"]?.stringValue { compact["r"] = .string(reference) }
                let isResourceId = element["base"]?["path"]?.stringValue == "Resource.id"
                let compactTypes = (element["type"]?.arrayValue ?? []).compactMap { type -> JSON? in
                    guard let object = type.objectValue else { return nil }
                    return compactElementType(object, isResourceId: isResourceId)
                }
                if !compactTypes.isEmpty { compact["t"] = .array(compactTypes) }
                if let binding = element["binding"]?.objectValue, let strength = binding["strength"]?.stringValue,
                    let valueSet = binding["valueSet"]?.stringValue
                {
                    let url = String(valueSet.prefix { $0 != "|" })
                    compact["b"] = [.string(strength), .string(url)]
                    if strength == "required" { requiredValueSets.insert(url) }
                }
                var keys: [JSON] = []
                for case .object(let constraint) in element["constraint"]?.arrayValue ?? [] {
                    let entry: JSON = [
                        constraint["key"] ?? "", constraint["severity"] ?? "error",
                        constraint["expression"] ?? "", constraint["human"] ?? "",
                    ]
                    let signature = String(decoding: entry.canonicalBytes, as: UTF8.self)
                    let index: Int
                    if let existing = constraintIndex[signature] {
                        index = existing
                    } else {
                        index = constraintTable.count
                        constraintIndex[signature] = index
                        constraintTable.append(entry)
                    }
                    keys.append(.number(String(index)))
                }
                if !keys.isEmpty { compact["k"] = .array(keys) }
                if element["isSummary"]?.boolValue == true { compact["s"] = true }
                if element["isModifier"]?.boolValue == true { compact["m"] = true }
                compactElements.append(.object(compact))
            }
            var typeEntry = JSONObject()
            typeEntry["name"] = .string(id)
            typeEntry["kind"] = .string(kind)
            if definition["abstract"]?.boolValue == true { typeEntry["abstract"] = true }
            if let base = definition["baseDefinition"]?.stringValue {
                typeEntry["base"] = .string(Self.shortName(base))
            }
            typeEntry["elements"] = .array(compactElements)
            types.append(.object(typeEntry))

            if kind == "primitive-type" {
                primitives[id] = primitiveInfo(id: id, elements: elements)
            }
        }

        var expanded = JSONObject()
        for url in requiredValueSets.sorted() {
            expanded[url] = expand(valueSetURL: url)
        }

        let parameters: [JSON] = searchParameters.filter { !Self.isExample($0) }.sorted {
            ($0["url"]?.stringValue ?? "") < ($1["url"]?.stringValue ?? "")
        }
        .map { parameter in
            var compact = JSONObject()
            compact["url"] = parameter["url"] ?? ""
            compact["code"] = parameter["code"] ?? ""
            compact["base"] = parameter["base"] ?? []
            compact["type"] = parameter["type"] ?? ""
            if let expression = parameter["expression"] { compact["expression"] = expression }
            if let target = parameter["target"] { compact["target"] = target }
            if let components = parameter["component"]?.arrayValue {
                compact["component"] = .array(
                    components.map { component in
                        [component["definition"] ?? "", component["expression"] ?? ""]
                    }
                )
            }
            return .object(compact)
        }

        return [
            "format": 1,
            "fhirVersion": "4.0.1",
            "source": .string(packageVersion),
            "constraints": .array(constraintTable),
            "primitives": .object(primitives),
            "types": .array(types),
            "valueSets": .object(expanded),
            "searchParameters": .array(parameters),
        ]
    }

    /// Bytes of the document, one type, value set or search parameter a line, so diffs stay readable.
    package static func serialize(_ document: JSON) -> [UInt8] {
        guard case .object(let object) = document else { return JSONWriter().bytes(document) }
        var output: [UInt8] = Array("{".utf8)
        let writer = JSONWriter()
        for (position, (key, value)) in object.enumerated() {
            output.append(contentsOf: (position == 0 ? "\n" : ",\n").utf8)
            JSONWriter.writeString(key, into: &output)
            output.append(UInt8(ascii: ":"))
            switch value {
            case .array(let elements) where elements.count > 1:
                output.append(UInt8(ascii: "["))
                for (index, element) in elements.enumerated() {
                    output.append(contentsOf: (index == 0 ? "\n" : ",\n").utf8)
                    writer.write(element, into: &output)
                }
                output.append(contentsOf: "\n]".utf8)
            case .object(let members) where members.count > 1:
                output.append(UInt8(ascii: "{"))
                for (index, member) in members.enumerated() {
                    output.append(contentsOf: (index == 0 ? "\n" : ",\n").utf8)
                    JSONWriter.writeString(member.key, into: &output)
                    output.append(UInt8(ascii: ":"))
                    writer.write(member.value, into: &output)
                }
                output.append(contentsOf: "\n}".utf8)
            default:
                writer.write(value, into: &output)
            }
        }
        output.append(contentsOf: "\n}\n".utf8)
        return output
    }

    static func shortName(_ url: String) -> String {
        let prefix = "http://hl7.org/fhir/StructureDefinition/"
        return url.hasPrefix(prefix) ? String(url.dropFirst(prefix.count)) : url
    }

    private func compactElementType(_ type: JSONObject, isResourceId: Bool) -> JSON? {
        guard var code = type["code"]?.stringValue else { return nil }
        if code.hasPrefix("http://hl7.org/fhirpath/System.") {
            let fhirType = (type["extension"]?.arrayValue ?? []).first {
                $0["url"]?.stringValue == "http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type"
            }
            if let name = fhirType?["valueUrl"]?.stringValue ?? fhirType?["valueUri"]?.stringValue {
                code = name
            } else {
                code = "System." + code.dropFirst("http://hl7.org/fhirpath/System.".count)
            }
        }
        if isResourceId { code = "id" }
        var compact = JSONObject()
        compact["c"] = .string(code)
        if let targets = type["targetProfile"]?.arrayValue, !targets.isEmpty {
            compact["tp"] = .array(targets.compactMap { $0.stringValue.map { .string(Self.shortName($0)) } })
        }
        if let profiles = type["profile"]?.arrayValue, !profiles.isEmpty {
            compact["pr"] = .array(profiles.compactMap { $0.stringValue.map { .string(Self.shortName($0)) } })
        }
        return .object(compact)
    }

    private func primitiveInfo(id: String, elements: [JSON]) -> JSON {
        var info = JSONObject()
        let valueElement = elements.first { $0["path"]?.stringValue == "\(id).value" }
        let extensions = valueElement?["type"]?.arrayValue?.first?["extension"]?.arrayValue ?? []
        if let regex = extensions.first(where: {
            $0["url"]?.stringValue == "http://hl7.org/fhir/StructureDefinition/regex"
        })?["valueString"] {
            info["regex"] = regex
        }
        if let maxLength = valueElement?["maxLength"] { info["maxLength"] = maxLength }
        switch id {
        case "boolean": info["json"] = "boolean"
        case "integer", "decimal", "positiveInt", "unsignedInt": info["json"] = "number"
        default: info["json"] = "string"
        }
        return .object(info)
    }

    /// Expands a value set to `system|code` entries, or says why it cannot be expanded from the package.
    private func expand(valueSetURL url: String) -> JSON {
        var visiting: Set<String> = []
        switch expandCodes(url, visiting: &visiting) {
        case .success(let codes):
            return ["codes": .array(codes.sorted().map { .string($0) })]
        case .failure(let reason):
            return ["unexpandable": .string(reason.text)]
        }
    }

    private struct Unexpandable: Error {
        var text: String
    }

    private func expandCodes(_ url: String, visiting: inout Set<String>) -> Result<Set<String>, Unexpandable> {
        guard let valueSet = valueSets[url] else {
            return .failure(Unexpandable(text: "value set \(url) is not in the core package"))
        }
        guard visiting.insert(url).inserted else { return .success([]) }
        defer { visiting.remove(url) }
        guard let compose = valueSet["compose"]?.objectValue else {
            return .failure(Unexpandable(text: "value set \(url) has no compose"))
        }
        var included: Set<String> = []
        for include in compose["include"]?.arrayValue ?? [] {
            switch codes(of: include, visiting: &visiting) {
            case .success(let codes): included.formUnion(codes)
            case .failure(let reason): return .failure(reason)
            }
        }
        for exclude in compose["exclude"]?.arrayValue ?? [] {
            switch codes(of: exclude, visiting: &visiting) {
            case .success(let codes): included.subtract(codes)
            case .failure(let reason): return .failure(reason)
            }
        }
        return .success(included)
    }

    private func codes(of include: JSON, visiting: inout Set<String>) -> Result<Set<String>, Unexpandable> {
        var result: Set<String>? = nil
        if let system = include["system"]?.stringValue {
            if let concepts = include["concept"]?.arrayValue {
                result = Set(concepts.compactMap { $0["code"]?.stringValue.map { "\(system)|\($0)" } })
            } else {
                guard let codeSystem = codeSystems[system], codeSystem["content"]?.stringValue == "complete" else {
                    return .failure(
                        Unexpandable(text: "code system \(system) is not defined completely in the core package"))
                }
                var all: [(code: String, ancestors: [String])] = []
                collectConcepts(codeSystem["concept"]?.arrayValue ?? [], ancestors: [], into: &all)
                var selected = all
                for filter in include["filter"]?.arrayValue ?? [] {
                    guard let op = filter["op"]?.stringValue, let value = filter["value"]?.stringValue else { continue }
                    switch op {
                    case "is-a": selected = selected.filter { $0.code == value || $0.ancestors.contains(value) }
                    case "descendent-of": selected = selected.filter { $0.ancestors.contains(value) }
                    case "is-not-a": selected = selected.filter { $0.code != value && !$0.ancestors.contains(value) }
                    case "=" where filter["property"]?.stringValue == "concept":
                        selected = selected.filter { $0.code == value }
                    default:
                        return .failure(Unexpandable(text: "filter \(op) on \(system) is not supported"))
                    }
                }
                result = Set(selected.map { "\(system)|\($0.code)" })
            }
        }
        for valueSet in include["valueSet"]?.arrayValue ?? [] {
            guard let reference = valueSet.stringValue else { continue }
            switch expandCodes(String(reference.prefix { $0 != "|" }), visiting: &visiting) {
            case .success(let codes): result = result.map { $0.intersection(codes) } ?? codes
            case .failure(let reason): return .failure(reason)
            }
        }
        return .success(result ?? [])
    }

    private func collectConcepts(
        _ concepts: [JSON],
        ancestors: [String],
        into all: inout [(code: String, ancestors: [String])]
    ) {
        for concept in concepts {
            guard let code = concept["code"]?.stringValue else { continue }
            all.append((code, ancestors))
            collectConcepts(concept["concept"]?.arrayValue ?? [], ancestors: ancestors + [code], into: &all)
        }
    }
}
