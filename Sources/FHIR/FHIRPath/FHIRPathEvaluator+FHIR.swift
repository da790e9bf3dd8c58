import Foundation

extension FHIRPathEvaluator {
    /// The functions FHIR adds to FHIRPath: `extension`, `hasValue`, `getValue`, `resolve`, `memberOf`,
    /// `conformsTo` and `htmlChecks`.
    func callFHIRFunction(
        _ function: FHIRPathFunction, on input: [FHIRPathValue], arguments: [FHIRPathNode],
        focus: [FHIRPathValue], scope: Scope, at offset: Int
    ) throws(FHIRError) -> [FHIRPathValue] {
        func stringArgument() throws(FHIRError) -> String? {
            try self.stringArgument(arguments[0], focus: focus, scope: scope, of: function, at: offset)
        }
        switch function {
        case .extension, .hasExtension:
            guard let url = try stringArgument() else { return [] }
            var extensions: [FHIRPathValue] = []
            for case .element(let element) in input {
                try appendChildren(of: element, named: "extension", to: &extensions, at: offset)
            }
            let matching = extensions.filter { item in
                if case .element(let element) = item { return element.value["url"]?.stringValue == url }
                return false
            }
            return function == .extension ? matching : Self.collection(!matching.isEmpty)
        case .hasValue:
            guard input.count == 1, case .element(let element) = input[0], element.primitive != nil else {
                return Self.collection(false)
            }
            if case .null = element.value { return Self.collection(false) }
            return Self.collection(true)
        case .getValue:
            guard input.count == 1, case .element(let element) = input[0], element.primitive != nil,
                let value = element.systemValue
            else { return [] }
            return [value]
        case .resolve:
            return input.compactMap { resolve($0) }
        case .memberOf:
            guard let url = try stringArgument() else { return [] }
            let canonical = url.split(separator: "|").first.map(String.init) ?? url
            guard let valueSet = definitions.valueSets[canonical], valueSet.isExpanded else { return [] }
            return input.compactMap { item in Self.isMember(item, of: valueSet).map { .boolean($0) } }
        case .conformsTo:
            guard let url = try stringArgument() else { return [] }
            let prefix = "http://hl7.org/fhir/StructureDefinition/"
            guard url.hasPrefix(prefix), definitions.types[String(url.dropFirst(prefix.count))] != nil else {
                throw failure("conformsTo() knows the core profiles only, not \(url)", at: offset)
            }
            let type = FHIRPathTypeSpecifier(namespace: "FHIR", name: String(url.dropFirst(prefix.count)))
            return input.map { .boolean(isType($0, type)) }
        case .htmlChecks:
            return input.map { item in
                guard case .element(let element) = item, case .string(let xhtml) = element.value else {
                    return .boolean(false)
                }
                return .boolean(Self.isSafeNarrative(xhtml))
            }
        default:
            throw failure("\(function.rawValue)() is not available here", at: offset)
        }
    }

    // MARK: - resolve()

    /// What `resolve()` finds for a reference: a resource of the context or the Bundle being evaluated,
    /// or, for a reference that only names its target, that target's type and id.
    enum Resolution {
        case resource(FHIRPathValue)
        case named(type: String, id: Substring)
    }

    /// The resource a reference points to: a contained resource (`#id`), an entry of the Bundle being
    /// evaluated (by `fullUrl` or `Type/id`), or, for a reference that names its type, a minimal resource
    /// of that type (type and id only) so that `resolve() is Patient` can be answered without the target.
    func resolve(_ item: FHIRPathValue) -> FHIRPathValue? {
        switch resolution(item) {
        case .resource(let resource)?: resource
        case .named(let type, let id)?: resourceElement(["resourceType": .string(type), "id": .string(String(id))])
        case nil: nil
        }
    }

    /// Whether what `resolve()` finds is of `type` (`resolve() is Patient`), answered without making
    /// the minimal resource of a reference that only names its target.
    func resolves(_ item: FHIRPathValue, to type: FHIRPathTypeSpecifier) -> Bool {
        switch resolution(item) {
        case .resource(let resource)?:
            return isType(resource, type)
        case .named(let name, _)?:
            // The minimal resource as `resolve` makes it, less its content, which `isType` never reads.
            let element = FHIRPathElement(
                value: .null, typeName: name, node: definitions.nodeIndex[name] ?? -1, primitive: nil)
            return isType(.element(element), type)
        case nil:
            return false
        }
    }

    private func resolution(_ item: FHIRPathValue) -> Resolution? {
        let reference: String
        switch item {
        case .element(let element):
            if case .object(let object) = element.value {
                guard let text = object["reference"]?.stringValue else { return nil }
                reference = text
            } else if case .string(let text) = element.value {
                reference = text
            } else {
                return nil
            }
        case .string(let text):
            reference = text
        default:
            return nil
        }
        if reference.hasPrefix("#") {
            let id = String(reference.dropFirst())
            for case .element(let element) in context {
                if id.isEmpty { return .resource(.element(element)) }
                for contained in element.value["contained"]?.arrayValue ?? [] where contained["id"]?.stringValue == id {
                    return .resource(resourceElement(contained))
                }
            }
            return nil
        }
        if let bundle = environment.rootResource, bundle["resourceType"]?.stringValue == "Bundle" {
            for entry in bundle["entry"]?.arrayValue ?? [] {
                guard let resource = entry["resource"] else { continue }
                if entry["fullUrl"]?.stringValue == reference { return .resource(resourceElement(resource)) }
                if let type = resource["resourceType"]?.stringValue, let id = resource["id"]?.stringValue,
                    reference == "\(type)/\(id)" || reference.hasSuffix("/\(type)/\(id)")
                {
                    return .resource(resourceElement(resource))
                }
            }
        }
        // `Type/id`, the common case, without splitting.
        if let slash = ValidationRun.plainRelativeSlash(reference) {
            let type = String(reference[..<slash])
            if definitions.isResourceType(type) {
                return .named(type: type, id: reference[reference.utf8.index(after: slash)...])
            }
        }
        let parts = reference.utf8.split(separator: UInt8(ascii: "/")).map { String(Substring($0)) }
        for position in parts.indices.reversed() where position + 1 < parts.count {
            let type = parts[position]
            if definitions.isResourceType(type), parts[position + 1] != "_history" {
                return .named(type: type, id: Substring(parts[position + 1]))
            }
        }
        return nil
    }

    // MARK: - memberOf()

    private static func isMember(_ item: FHIRPathValue, of valueSet: ValueSetExpansion) -> Bool? {
        if let code = item.stringValue { return valueSet.codes.contains(code) }
        guard case .element(let element) = item, case .object(let object) = element.value else { return nil }
        func codingIsMember(_ coding: JSON) -> Bool {
            guard let code = coding["code"]?.stringValue else { return false }
            guard let system = coding["system"]?.stringValue else { return valueSet.codes.contains(code) }
            return valueSet.codings.contains(system + "|" + code)
        }
        if let codings = object["coding"]?.arrayValue { return codings.contains(where: codingIsMember) }
        if object["code"] != nil { return codingIsMember(element.value) }
        return nil
    }

    // MARK: - htmlChecks()

    private static let allowedNarrativeElements: Set<String> = [
        "a", "abbr", "acronym", "b", "big", "blockquote", "br", "caption", "cite", "code", "col", "colgroup", "dd",
        "dfn", "div", "dl", "dt", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "li", "ol", "p", "pre",
        "q", "samp", "small", "span", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr",
        "tt", "ul", "var", "address", "bdo", "del", "ins", "kbd", "s", "strike", "u", "center", "font", "map", "area",
    ]

    /// Whether narrative XHTML is well-formed, rooted in an XHTML `div`, uses only the basic formatting
    /// elements FHIR allows, has no scripts, event handlers or active content, and shows something
    /// (text or an image): R4 gives `txt-1` and `txt-2` both as `htmlChecks()`.
    static func isSafeNarrative(_ xhtml: String) -> Bool {
        let bytes = Array(xhtml.utf8)
        let root: XMLElement? = bytes.withUnsafeBufferPointer { buffer in
            try? XMLParser(maxBytes: 16 * 1024 * 1024, maxDepth: 64).parse(buffer)
        }
        guard let root, root.name == "div", root.namespace == FHIRXML.xhtmlNamespace else { return false }
        var pending = [root]
        var hasContent = false
        while let element = pending.popLast() {
            if element.name == "img" { hasContent = true }
            guard element.namespace == FHIRXML.xhtmlNamespace, allowedNarrativeElements.contains(element.name) else {
                return false
            }
            for attribute in element.attributes {
                let name = attribute.name.lowercased()
                if name.hasPrefix("on") { return false }
                if name == "href" || name == "src",
                    attribute.value.trimmingCharacters(in: .whitespaces).lowercased().hasPrefix("javascript:")
                {
                    return false
                }
            }
            for child in element.children {
                switch child {
                case .element(let inner): pending.append(inner)
                case .text(let text): if !hasContent, text.contains(where: { !$0.isWhitespace }) { hasContent = true }
                }
            }
        }
        return hasContent
    }
}
