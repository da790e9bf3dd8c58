/// FHIR's XML format, read into and written from the same `JSON` tree as FHIR JSON.
///
/// The definitions say what XML leaves implicit: which elements repeat (JSON arrays), which
/// primitives are numbers or Booleans, where a whole resource sits (`contained`, `Bundle.entry.resource`).
/// Primitive `id` and extensions become the `_name` siblings of FHIR JSON; the xhtml narrative is kept
/// as a string, byte for byte when the `div` declares its own namespace.
public struct FHIRXML: Sendable {
    /// The FHIR namespace.
    public static let namespace = "http://hl7.org/fhir"
    /// The XHTML namespace of the narrative.
    public static let xhtmlNamespace = "http://www.w3.org/1999/xhtml"

    /// The definitions that drive the mapping.
    public let definitions: FHIRDefinitions
    /// The deepest element nesting accepted when reading.
    public var maxDepth = 256
    /// The largest document accepted when reading.
    public var maxBytes = 256 * 1024 * 1024

    /// Creates a reader and writer.
    public init(definitions: FHIRDefinitions) {
        self.definitions = definitions
    }

    /// Reads a FHIR XML document into a resource tree.
    public func read(_ bytes: [UInt8]) throws(FHIRError) -> JSON {
        try bytes.withUnsafeBufferPointer { buffer in
            Result { () throws(FHIRError) in
                let root = try XMLParser(maxBytes: maxBytes, maxDepth: maxDepth).parse(buffer)
                var reader = XMLToJSON(definitions: definitions, buffer: buffer)
                return try reader.resource(root, path: nil)
            }
        }.get()
    }
}

private struct XMLToJSON {
    let definitions: FHIRDefinitions
    let buffer: UnsafeBufferPointer<UInt8>

    func fail(_ message: String, _ element: XMLElement, path: String) -> FHIRError {
        let (line, column) = lineAndColumn(buffer, element.start)
        return FHIRError(.structure, message, line: line, column: column, path: path)
    }

    mutating func resource(_ element: XMLElement, path: String?) throws(FHIRError) -> JSON {
        let type = element.name
        let here = path ?? type
        guard element.namespace == FHIRXML.namespace else {
            throw fail("<\(type)> is not in the FHIR namespace \(FHIRXML.namespace)", element, path: here)
        }
        guard definitions.isResourceType(type), let node = definitions.node(type) else {
            throw fail("<\(type)> is not a FHIR R4 resource type", element, path: here)
        }
        var object = JSONObject()
        object.appendUnchecked("resourceType", .string(type))
        try members(of: element, node: node, path: here, isResourceRoot: true, into: &object)
        return .object(object)
    }

    /// One JSON member being assembled from XML children of the same name.
    struct Pending {
        var name: String
        var slot: ObjectNode.Slot
        var values: [JSON?] = []
        var extensions: [JSON?] = []
        var firstElement: XMLElement
    }

    mutating func members(
        of element: XMLElement,
        node: ObjectNode,
        path: String,
        isResourceRoot: Bool,
        into object: inout JSONObject
    ) throws(FHIRError) {
        for (name, value) in element.attributes {
            if !isResourceRoot && name == "id" {
                object["id"] = .string(value)
            } else if node.isExtension && name == "url" {
                object["url"] = .string(value)
            } else if name == "lang" || name == "schemaLocation" {
                continue  // xml:lang and xsi:schemaLocation carry no FHIR content
            } else {
                throw fail("unexpected attribute '\(name)' on <\(element.name)>", element, path: path)
            }
        }
        var pending: [Pending] = []
        var positions: [String: Int] = [:]
        for child in element.children {
            let childElement: XMLElement
            switch child {
            case .text(let text):
                if text.utf8.contains(where: { !PrimitiveFormat.isWhitespace($0) }) {
                    throw fail("text is not allowed directly inside <\(element.name)>", element, path: path)
                }
                continue
            case .element(let value): childElement = value
            }
            let name = childElement.name
            let isNarrative = name == "div" && childElement.namespace == FHIRXML.xhtmlNamespace
            guard childElement.namespace == FHIRXML.namespace || isNarrative else {
                throw fail(
                    "<\(name)> is in the namespace '\(childElement.namespace)', not FHIR's", childElement,
                    path: "\(path).\(name)")
            }
            guard let slot = node.slot(named: name) else {
                throw fail("unknown element <\(name)> in \(node.key)", childElement, path: "\(path).\(name)")
            }
            let position: Int
            if let existing = positions[name] {
                position = existing
            } else {
                position = pending.count
                positions[name] = position
                pending.append(Pending(name: name, slot: slot, firstElement: childElement))
            }
            let index = pending[position].values.count
            let childPath = slot.element.isArray ? "\(path).\(name)[\(index)]" : "\(path).\(name)"
            switch slot.kind {
            case .primitive(let kind):
                let (value, extensions) = try primitive(childElement, type: kind, path: childPath)
                pending[position].values.append(value)
                pending[position].extensions.append(extensions)
            case .resource:
                let inner = childElement.elementChildren
                guard inner.count == 1 else {
                    throw fail("<\(name)> must hold exactly one resource element", childElement, path: childPath)
                }
                pending[position].values.append(try resource(inner[0], path: childPath))
                pending[position].extensions.append(nil)
            case .unknown:
                throw fail("no definition for \(slot.type.code)", childElement, path: childPath)
            case .complex(let nodeIndex):
                let childNode = definitions.nodeList[nodeIndex]
                var childObject = JSONObject()
                try members(
                    of: childElement, node: childNode, path: childPath, isResourceRoot: false, into: &childObject)
                pending[position].values.append(.object(childObject))
                pending[position].extensions.append(nil)
            }
        }
        for entry in pending {
            let isArray = entry.slot.element.isArray
            if !isArray && entry.values.count > 1 {
                throw fail(
                    "<\(entry.name)> does not repeat, but appears \(entry.values.count) times", entry.firstElement,
                    path: "\(path).\(entry.name)")
            }
            let hasValue = entry.values.contains { $0 != nil }
            let hasExtensions = entry.extensions.contains { $0 != nil }
            if hasValue {
                object[entry.name] = isArray ? .array(entry.values.map { $0 ?? .null }) : entry.values[0]
            }
            if hasExtensions {
                object["_" + entry.name] = isArray ? .array(entry.extensions.map { $0 ?? .null }) : entry.extensions[0]
            }
        }
    }

    mutating func primitive(
        _ element: XMLElement,
        type: PrimitiveType,
        path: String
    ) throws(FHIRError) -> (JSON?, JSON?) {
        if type == .xhtml {
            guard element.namespace == FHIRXML.xhtmlNamespace else {
                throw fail(
                    "the narrative <div> must be in the XHTML namespace \(FHIRXML.xhtmlNamespace)", element, path: path)
            }
            return (.string(narrative(element)), nil)
        }
        var value: JSON?
        var extensionObject = JSONObject()
        for (name, text) in element.attributes {
            switch name {
            case "value":
                switch type.jsonKind {
                case .string: value = .string(text)
                case .boolean:
                    guard text == "true" || text == "false" else {
                        throw fail("'\(text)' is not a boolean (true or false)", element, path: path)
                    }
                    value = .bool(text == "true")
                case .number:
                    guard case .number(let number)? = try? JSON(parsing: text), number == text else {
                        throw fail("'\(text)' is not a number", element, path: path)
                    }
                    value = .number(text)
                }
            case "id": extensionObject["id"] = .string(text)
            default: throw fail("unexpected attribute '\(name)' on <\(element.name)>", element, path: path)
            }
        }
        var extensions: [JSON] = []
        for child in element.children {
            switch child {
            case .text(let text):
                if text.utf8.contains(where: { !PrimitiveFormat.isWhitespace($0) }) {
                    throw fail("a primitive's value goes in its value attribute, not in text", element, path: path)
                }
            case .element(let childElement):
                guard childElement.name == "extension", childElement.namespace == FHIRXML.namespace,
                    let node = definitions.node("Extension")
                else {
                    throw fail("<\(element.name)> may hold only <extension> elements", childElement, path: path)
                }
                var object = JSONObject()
                try members(
                    of: childElement, node: node, path: "\(path).extension[\(extensions.count)]", isResourceRoot: false,
                    into: &object)
                extensions.append(.object(object))
            }
        }
        if !extensions.isEmpty { extensionObject["extension"] = .array(extensions) }
        // ele-1: an element holds a value or children; an empty one would vanish from the JSON unnoticed.
        guard value != nil || !extensions.isEmpty else {
            throw fail("<\(element.name)> has neither a value attribute nor extensions", element, path: path)
        }
        return (value, extensionObject.isEmpty ? nil : .object(extensionObject))
    }

    /// The narrative as a string: its bytes as written when it declares its own namespace, otherwise re-serialized.
    func narrative(_ element: XMLElement) -> String {
        if element.isSelfContained {
            return String(decoding: UnsafeBufferPointer(rebasing: buffer[element.start..<element.end]), as: UTF8.self)
        }
        var output: [UInt8] = []
        XMLEscaping.serialize(element, into: &output, declareNamespace: true)
        return String(decoding: output, as: UTF8.self)
    }
}
