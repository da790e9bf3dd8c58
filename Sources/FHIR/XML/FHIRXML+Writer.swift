extension FHIRXML {
    /// Writes a resource tree as FHIR XML, elements in the order the definitions give.
    ///
    /// Fails with the member's path when the tree holds something XML cannot carry: an element the
    /// definitions do not know, or a narrative that is not well-formed XHTML.
    public func write(_ resource: JSON) throws(FHIRError) -> [UInt8] {
        var output: [UInt8] = Array("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n".utf8)
        var writer = JSONToXML(definitions: definitions)
        try writer.resource(resource, name: nil, path: nil, indent: 0, into: &output)
        output.append(UInt8(ascii: "\n"))
        return output
    }
}

private struct JSONToXML {
    let definitions: FHIRDefinitions

    func fail(_ message: String, path: String) -> FHIRError {
        FHIRError(.structure, message, path: path)
    }

    func newline(_ indent: Int, into output: inout [UInt8]) {
        output.append(UInt8(ascii: "\n"))
        output.append(contentsOf: repeatElement(UInt8(ascii: " "), count: indent * 2))
    }

    mutating func resource(
        _ value: JSON, name: String?, path: String?, indent: Int, into output: inout [UInt8]
    ) throws(FHIRError) {
        guard case .object(let object) = value, let type = object["resourceType"]?.stringValue,
            let node = definitions.node(type), definitions.isResourceType(type)
        else { throw fail("not a FHIR resource", path: path ?? "$") }
        let here = path ?? type
        var level = indent
        if let name {
            output.append(contentsOf: "<\(name)>".utf8)
            level += 1
            newline(level, into: &output)
        }
        output.append(contentsOf: "<\(type)".utf8)
        if name == nil { output.append(contentsOf: " xmlns=\"\(FHIRXML.namespace)\"".utf8) }
        output.append(UInt8(ascii: ">"))
        try members(object, node: node, path: here, isResourceRoot: true, indent: level + 1, into: &output)
        newline(level, into: &output)
        output.append(contentsOf: "</\(type)>".utf8)
        if let name {
            newline(indent, into: &output)
            output.append(contentsOf: "</\(name)>".utf8)
        }
    }

    mutating func members(
        _ object: JSONObject,
        node: ObjectNode,
        path: String,
        isResourceRoot: Bool,
        indent: Int,
        into output: inout [UInt8]
    ) throws(FHIRError) {
        for key in object.members.lazy.map(\.key) {
            if (isResourceRoot && key == "resourceType") || (!isResourceRoot && key == "id")
                || (node.isExtension && key == "url")
            {
                continue
            }
            let base = key.hasPrefix("_") ? String(key.dropFirst()) : key
            guard node.slot(named: base) != nil else {
                throw fail("unknown element '\(key)' in \(node.key)", path: "\(path).\(key)")
            }
        }
        for element in node.elements {
            let names =
                element.isChoice
                ? element.types.map { element.name + $0.code.prefix(1).uppercased() + $0.code.dropFirst() }
                : [element.name]
            for name in names {
                if !isResourceRoot && name == "id" { continue }
                if node.isExtension && name == "url" { continue }
                let value = object[name]
                let extensions = object["_" + name]
                guard value != nil || extensions != nil, let slot = node.slot(named: name) else { continue }
                try member(
                    name, value: value, extensions: extensions, slot: slot, path: "\(path).\(name)", indent: indent,
                    into: &output)
            }
        }
    }

    mutating func member(
        _ name: String,
        value: JSON?,
        extensions: JSON?,
        slot: ObjectNode.Slot,
        path: String,
        indent: Int,
        into output: inout [UInt8]
    ) throws(FHIRError) {
        let values: [JSON?]
        let extensionItems: [JSON?]
        if slot.element.isArray {
            values = value?.arrayValue ?? []
            extensionItems = extensions?.arrayValue ?? []
        } else {
            values = value.map { [$0] } ?? []
            extensionItems = extensions.map { [$0] } ?? []
        }
        let count = max(values.count, extensionItems.count)
        for index in 0..<count {
            let item = index < values.count ? values[index] : nil
            let extensionItem = index < extensionItems.count ? extensionItems[index] : nil
            let itemPath = slot.element.isArray ? "\(path)[\(index)]" : path
            newline(indent, into: &output)
            switch slot.kind {
            case .primitive:
                try primitive(
                    name, value: item, extensions: extensionItem, type: slot.kind, path: itemPath, indent: indent,
                    into: &output)
            case .resource:
                guard let item else { continue }
                try resource(item, name: name, path: itemPath, indent: indent, into: &output)
            case .unknown:
                throw fail("no definition for the type \(slot.type.code)", path: itemPath)
            case .complex(let nodeIndex):
                guard case .object(let object)? = item else { throw fail("\(name) must be an object", path: itemPath) }
                let node = definitions.nodeList[nodeIndex]
                output.append(contentsOf: "<\(name)".utf8)
                if let id = object["id"]?.stringValue { XMLEscaping.attribute("id", id, into: &output) }
                if node.isExtension, let url = object["url"]?.stringValue {
                    XMLEscaping.attribute("url", url, into: &output)
                }
                let hasChildren = object.members.contains { $0.key != "id" && !(node.isExtension && $0.key == "url") }
                if hasChildren {
                    output.append(UInt8(ascii: ">"))
                    try members(
                        object, node: node, path: itemPath, isResourceRoot: false, indent: indent + 1, into: &output)
                    newline(indent, into: &output)
                    output.append(contentsOf: "</\(name)>".utf8)
                } else {
                    output.append(contentsOf: "/>".utf8)
                }
            }
        }
    }

    mutating func primitive(
        _ name: String,
        value: JSON?,
        extensions: JSON?,
        type kind: ObjectNode.Slot.Kind,
        path: String,
        indent: Int,
        into output: inout [UInt8]
    ) throws(FHIRError) {
        if case .primitive(.xhtml) = kind {
            guard case .string(let text)? = value else { throw fail("the narrative must be a string", path: path) }
            try narrative(text, path: path, into: &output)
            return
        }
        output.append(contentsOf: "<\(name)".utf8)
        let extensionObject = extensions?.objectValue
        if let id = extensionObject?["id"]?.stringValue { XMLEscaping.attribute("id", id, into: &output) }
        switch value {
        case .string(let text)?: XMLEscaping.attribute("value", text, into: &output)
        case .number(let text)?: XMLEscaping.attribute("value", text, into: &output)
        case .bool(let flag)?: XMLEscaping.attribute("value", flag ? "true" : "false", into: &output)
        case nil, .null?: break
        case let other?: throw fail("\(name) must be a primitive value, found \(other.kindName)", path: path)
        }
        let extensionList = extensionObject?["extension"]?.arrayValue ?? []
        guard !extensionList.isEmpty, let node = definitions.node("Extension") else {
            output.append(contentsOf: "/>".utf8)
            return
        }
        output.append(UInt8(ascii: ">"))
        for (index, item) in extensionList.enumerated() {
            guard case .object(let object) = item else {
                throw fail("an extension must be an object", path: "\(path).extension[\(index)]")
            }
            newline(indent + 1, into: &output)
            output.append(contentsOf: "<extension".utf8)
            if let id = object["id"]?.stringValue { XMLEscaping.attribute("id", id, into: &output) }
            if let url = object["url"]?.stringValue { XMLEscaping.attribute("url", url, into: &output) }
            output.append(UInt8(ascii: ">"))
            try members(
                object, node: node, path: "\(path).extension[\(index)]", isResourceRoot: false, indent: indent + 2,
                into: &output)
            newline(indent + 1, into: &output)
            output.append(contentsOf: "</extension>".utf8)
        }
        newline(indent, into: &output)
        output.append(contentsOf: "</\(name)>".utf8)
    }

    /// Embeds the narrative after checking that it is one well-formed XHTML `div`; a `div` without a
    /// namespace declaration gets the XHTML one.
    func narrative(_ text: String, path: String, into output: inout [UInt8]) throws(FHIRError) {
        var bytes = Array(text.utf8)
        var root = try parseNarrative(bytes, path: path)
        if root.name == "div" && root.namespace.isEmpty && text.hasPrefix("<div") {
            bytes = Array(("<div xmlns=\"\(FHIRXML.xhtmlNamespace)\"" + text.dropFirst(4)).utf8)
            root = try parseNarrative(bytes, path: path)
        }
        guard root.name == "div", root.namespace == FHIRXML.xhtmlNamespace else {
            throw fail("the narrative must be one XHTML <div> element", path: path)
        }
        output.append(contentsOf: bytes)
    }

    private func parseNarrative(_ bytes: [UInt8], path: String) throws(FHIRError) -> XMLElement {
        try bytes.withUnsafeBufferPointer { buffer in
            Result { () throws(FHIRError) in try XMLParser().parse(buffer) }
        }.mapError { error in
            var located = error
            located.path = path
            located.message = "the narrative is not well-formed XHTML: \(error.message)"
            return located
        }.get()
    }
}

/// Escaping for XML text and attributes, and serialization of parsed XHTML.
enum XMLEscaping {
    static func attribute(_ name: String, _ value: String, into output: inout [UInt8]) {
        output.append(contentsOf: " \(name)=\"".utf8)
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "&"): output.append(contentsOf: "&amp;".utf8)
            case UInt8(ascii: "<"): output.append(contentsOf: "&lt;".utf8)
            case UInt8(ascii: ">"): output.append(contentsOf: "&gt;".utf8)
            case UInt8(ascii: "\""): output.append(contentsOf: "&quot;".utf8)
            case 0x0A: output.append(contentsOf: "&#10;".utf8)
            case 0x0D: output.append(contentsOf: "&#13;".utf8)
            case 0x09: output.append(contentsOf: "&#9;".utf8)
            default: output.append(byte)
            }
        }
        output.append(UInt8(ascii: "\""))
    }

    static func text(_ value: String, into output: inout [UInt8]) {
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "&"): output.append(contentsOf: "&amp;".utf8)
            case UInt8(ascii: "<"): output.append(contentsOf: "&lt;".utf8)
            case UInt8(ascii: ">"): output.append(contentsOf: "&gt;".utf8)
            default: output.append(byte)
            }
        }
    }

    /// Serializes an XHTML subtree with unprefixed names, declaring the XHTML namespace on the root.
    static func serialize(_ element: XMLElement, into output: inout [UInt8], declareNamespace: Bool) {
        output.append(contentsOf: "<\(element.name)".utf8)
        if declareNamespace { attribute("xmlns", FHIRXML.xhtmlNamespace, into: &output) }
        for (name, value) in element.attributes { attribute(name, value, into: &output) }
        if element.children.isEmpty {
            output.append(contentsOf: "/>".utf8)
            return
        }
        output.append(UInt8(ascii: ">"))
        for child in element.children {
            switch child {
            case .text(let value): text(value, into: &output)
            case .element(let inner): serialize(inner, into: &output, declareNamespace: false)
            }
        }
        output.append(contentsOf: "</\(element.name)>".utf8)
    }
}
