/// Checks what a spec's parts say about each other: names of value maps, ConceptMaps, lookups and
/// mappings that exist, unique mapping names, and `Type/{key}` references that one mapping answers.
struct SpecChecker {
    var spec: MappingSpec
    let file: String

    func fail(_ line: Int, _ message: String) -> MappingSpecError {
        MappingSpecError(file: file, line: line, column: nil, message: message)
    }

    /// The spec with `Type/{key}` templates at references turned into references to the mapping
    /// that makes that type.
    func resolved() throws -> MappingSpec {
        var spec = spec
        var seen: [String: Int] = [:]
        for mapping in spec.mappings {
            if let line = seen[mapping.name] {
                throw fail(mapping.line, "mapping name '\(mapping.name)' is used twice (first at line \(line))")
            }
            seen[mapping.name] = mapping.line
        }
        for m in spec.mappings.indices {
            let mapping = spec.mappings[m]
            if case .value(let source)? = mapping.zone { try check(source, line: mapping.line) }
            for e in mapping.elements.indices {
                let element = mapping.elements[e]
                if element.isReference, case .template(let template) = element.value.source,
                    let (type, key) = Self.split(template)
                {
                    let producers = spec.mappings.filter { $0.resource == type }
                    guard producers.count == 1 else {
                        throw fail(
                            element.line,
                            producers.isEmpty
                                ? "\(element.path): no mapping makes \(type) resources"
                                : "\(element.path): several mappings make \(type) (\(producers.map(\.name).joined(separator: ", "))); "
                                    + "name one with 'reference: MAPPING' and 'key'")
                    }
                    spec.mappings[m].elements[e].value.source = .reference(mapping: producers[0].name, key: key)
                }
                try check(spec.mappings[m].elements[e].value, line: element.line, path: element.path)
            }
        }
        return spec
    }

    /// `Patient/{pid}` → (`Patient`, `{pid}`).
    static func split(_ template: Template) -> (String, Template)? {
        guard case .literal(let head)? = template.parts.first, head.hasSuffix("/"),
            head.dropLast().allSatisfy(\.isLetter), head.first?.isUppercase == true, template.parts.count > 1
        else { return nil }
        var key = template
        key.parts.removeFirst()
        return (String(head.dropLast()), key)
    }

    func check(_ rule: MappingSpec.ValueRule, line: Int, path: String) throws {
        try check(rule.source, line: line)
        switch rule.transform {
        case .valueMap(let name)?:
            guard spec.valueMaps[name] != nil else { throw fail(line, "\(path): no value map named '\(name)'") }
        case .concept(let name, let display)?:
            guard spec.conceptMaps[name] != nil else { throw fail(line, "\(path): no ConceptMap named '\(name)'") }
            if let display { try check(display, line: line) }
        case .quantity(let unit?)?:
            try check(unit, line: line)
        default: break
        }
    }

    func check(_ source: MappingSpec.ValueSource, line: Int) throws {
        switch source {
        case .lookup(let name, _, _):
            guard spec.lookups[name] != nil else { throw fail(line, "no lookup named '\(name)'") }
        case .reference(let mapping, _):
            guard spec.mappings.contains(where: { $0.name == mapping }) else {
                throw fail(line, "no mapping named '\(mapping)' to refer to")
            }
        case .column, .template, .constant: break
        }
    }
}
