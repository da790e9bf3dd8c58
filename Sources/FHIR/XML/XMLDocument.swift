/// A minimal, strict XML 1.0 parser for FHIR XML, over bytes.
///
/// It takes outside bytes, so it refuses what could be used against it: a DOCTYPE (and with it
/// every entity declaration and expansion), input over `maxBytes`, nesting deeper than `maxDepth`.
/// Only the five predefined entities and numeric character references are understood. Namespaces are
/// resolved. Each element remembers its byte range, so an xhtml narrative can be kept as written.
struct XMLParser {
    var maxBytes = 256 * 1024 * 1024
    var maxDepth = 256

    func parse(_ bytes: UnsafeBufferPointer<UInt8>) throws(FHIRError) -> XMLElement {
        guard bytes.count <= maxBytes else {
            throw FHIRError(.xmlSyntax, "the document is larger than the limit of \(maxBytes) bytes")
        }
        var reader = XMLReader(buffer: bytes, maxDepth: maxDepth)
        do throws(XMLFailure) {
            return try reader.document()
        } catch {
            let (line, column) = lineAndColumn(bytes, error.offset)
            throw FHIRError(.xmlSyntax, error.message, line: line, column: column)
        }
    }
}

/// Line and column (1-based, column in bytes) of a byte offset.
func lineAndColumn(_ bytes: UnsafeBufferPointer<UInt8>, _ offset: Int) -> (Int, Int) {
    var line = 1
    var lineStart = 0
    for index in 0..<min(offset, bytes.count) where bytes[index] == UInt8(ascii: "\n") {
        line += 1
        lineStart = index + 1
    }
    return (line, offset - lineStart + 1)
}

/// An XML element with its namespace resolved.
final class XMLElement {
    /// The local name, without prefix.
    let name: String
    /// The namespace URI, or "" for none.
    let namespace: String
    /// Attributes in document order (namespace declarations excluded), local names.
    var attributes: [(name: String, value: String)] = []
    var children: [XMLNode] = []
    /// Byte offsets of `<` and one past `>` of the end tag.
    let start: Int
    var end: Int = 0
    /// Whether the element declares its default namespace itself (`xmlns="…"`) and uses no prefixes.
    var isSelfContained = false

    init(name: String, namespace: String, start: Int) {
        self.name = name
        self.namespace = namespace
        self.start = start
    }

    func attribute(_ name: String) -> String? {
        attributes.first { $0.name == name }?.value
    }

    var elementChildren: [XMLElement] {
        children.compactMap { if case .element(let element) = $0 { element } else { nil } }
    }
}

enum XMLNode {
    case element(XMLElement)
    case text(String)
}

struct XMLFailure: Error {
    var offset: Int
    var message: String
}

private struct XMLReader {
    let buffer: UnsafeBufferPointer<UInt8>
    let maxDepth: Int
    var offset = 0
    /// Namespace bindings in scope: prefix ("" for default) to URI, innermost last.
    var bindings: [(prefix: String, uri: String)] = [("xml", "http://www.w3.org/XML/1998/namespace")]
    /// How many prefixed names (other than `xml:`) and prefix declarations have been read so far.
    var prefixesSeen = 0

    init(buffer: UnsafeBufferPointer<UInt8>, maxDepth: Int) {
        self.buffer = buffer
        self.maxDepth = maxDepth
    }

    func fail(_ message: String, at offset: Int? = nil) -> XMLFailure {
        XMLFailure(offset: offset ?? self.offset, message: message)
    }

    func peek(_ text: StaticString) -> Bool {
        let count = text.utf8CodeUnitCount
        guard buffer.count - offset >= count else { return false }
        for index in 0..<count where buffer[offset + index] != text.utf8Start[index] { return false }
        return true
    }

    /// The offset of the first byte that does not start or continue a valid UTF-8 sequence, if any.
    static func firstInvalidUTF8(_ bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte < 0x80 {
                index += 1
                continue
            }
            let length = byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : byte >= 0xC2 ? 2 : 0
            guard length > 0, index + length <= bytes.count,
                String(validating: UnsafeBufferPointer(rebasing: bytes[index..<index + length]), as: UTF8.self) != nil
            else { return index }
            index += length
        }
        return nil
    }

    mutating func skipWhitespace() {
        while offset < buffer.count, PrimitiveFormat.isWhitespace(buffer[offset]) { offset += 1 }
    }

    mutating func document() throws(XMLFailure) -> XMLElement {
        // FHIR XML is UTF-8: bytes that are not are refused where they stand, before any text (a narrative
        // kept as written among them) is read.
        if let bad = Self.firstInvalidUTF8(buffer) { throw fail("invalid UTF-8", at: bad) }
        if buffer.count >= 3 && buffer[0] == 0xEF && buffer[1] == 0xBB && buffer[2] == 0xBF { offset = 3 }
        var root: XMLElement?
        while true {
            skipWhitespace()
            if offset >= buffer.count { break }
            if peek("<?") {
                try skipProcessingInstruction()
            } else if peek("<!--") {
                try skipComment()
            } else if peek("<!DOCTYPE") || peek("<!doctype") {
                throw fail("a DOCTYPE is not allowed: Ferry does not process DTDs or entity declarations")
            } else if peek("<") {
                if root != nil { throw fail("only one root element is allowed") }
                root = try element(depth: 1)
            } else {
                throw fail("text outside the root element")
            }
        }
        guard let root else { throw fail("the document has no root element") }
        return root
    }

    mutating func skipProcessingInstruction() throws(XMLFailure) {
        let start = offset
        offset += 2
        while offset + 1 < buffer.count {
            if buffer[offset] == UInt8(ascii: "?") && buffer[offset + 1] == UInt8(ascii: ">") {
                offset += 2
                return
            }
            offset += 1
        }
        throw fail("unterminated processing instruction", at: start)
    }

    mutating func skipComment() throws(XMLFailure) {
        let start = offset
        offset += 4
        while offset + 2 < buffer.count {
            if buffer[offset] == UInt8(ascii: "-") && buffer[offset + 1] == UInt8(ascii: "-") {
                guard buffer[offset + 2] == UInt8(ascii: ">") else {
                    throw fail("'--' is not allowed inside a comment")
                }
                offset += 3
                return
            }
            offset += 1
        }
        throw fail("unterminated comment", at: start)
    }

    static func isNameByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "."),
            UInt8(ascii: ":"), 0x80...:
            return true
        default: return false
        }
    }

    mutating func name() throws(XMLFailure) -> String {
        let start = offset
        guard offset < buffer.count, Self.isNameByte(buffer[offset]), buffer[offset] != UInt8(ascii: "-"),
            buffer[offset] != UInt8(ascii: "."),
            !(buffer[offset] >= UInt8(ascii: "0") && buffer[offset] <= UInt8(ascii: "9"))
        else { throw fail("a name was expected") }
        while offset < buffer.count, Self.isNameByte(buffer[offset]) { offset += 1 }
        // Namespaces in XML: a name is `local` or `prefix:local`, one colon at most, neither part empty,
        // and the local part starts like a name.
        var colon: Int? = nil
        for index in start..<offset where buffer[index] == UInt8(ascii: ":") {
            guard colon == nil, index > start, index + 1 < offset else {
                throw fail(
                    "'\(String(decoding: UnsafeBufferPointer(rebasing: buffer[start..<offset]), as: UTF8.self))' is not a valid qualified name",
                    at: start)
            }
            colon = index
        }
        if let colon {
            let first = buffer[colon + 1]
            if first == UInt8(ascii: "-") || first == UInt8(ascii: ".")
                || (first >= UInt8(ascii: "0") && first <= UInt8(ascii: "9"))
            {
                throw fail("a local name must not start with '-', '.' or a digit", at: colon + 1)
            }
        }
        return try text(start..<offset)
    }

    func text(_ range: Range<Int>) throws(XMLFailure) -> String {
        let slice = UnsafeBufferPointer(rebasing: buffer[range])
        guard let string = String(validating: slice, as: UTF8.self) else {
            throw fail("invalid UTF-8", at: range.lowerBound)
        }
        return string
    }

    func split(_ qualified: String) -> (prefix: String, local: String) {
        guard let colon = qualified.firstIndex(of: ":") else { return ("", qualified) }
        return (String(qualified[..<colon]), String(qualified[qualified.index(after: colon)...]))
    }

    func namespace(for prefix: String) -> String? {
        for binding in bindings.reversed() where binding.prefix == prefix { return binding.uri }
        return prefix.isEmpty ? "" : nil
    }

    mutating func element(depth: Int) throws(XMLFailure) -> XMLElement {
        guard depth <= maxDepth else { throw fail("elements nested deeper than \(maxDepth) levels") }
        let start = offset
        offset += 1  // <
        let prefixesBefore = prefixesSeen
        let qualified = try name()
        var rawAttributes: [(String, String, Int)] = []
        let bindingCount = bindings.count
        var declaresDefault = false
        var declared: [String] = []
        if qualified.contains(":") { prefixesSeen += 1 }
        while true {
            let hadSpace = offset < buffer.count && PrimitiveFormat.isWhitespace(buffer[offset])
            skipWhitespace()
            guard offset < buffer.count else { throw fail("unterminated start tag <\(qualified)", at: start) }
            if peek("/>") || peek(">") { break }
            guard hadSpace else { throw fail("whitespace is required between attributes") }
            let attributeOffset = offset
            let attributeName = try name()
            skipWhitespace()
            guard offset < buffer.count, buffer[offset] == UInt8(ascii: "=") else {
                throw fail("'=' expected after the attribute \(attributeName)")
            }
            offset += 1
            skipWhitespace()
            let value = try attributeValue()
            if rawAttributes.contains(where: { $0.0 == attributeName })
                || (attributeName.hasPrefix("xmlns") && declared.contains(attributeName))
            {
                throw fail("duplicate attribute \(attributeName)", at: attributeOffset)
            }
            if attributeName.hasPrefix("xmlns") { declared.append(attributeName) }
            if attributeName == "xmlns" {
                bindings.append(("", value))
                declaresDefault = true
            } else if attributeName.hasPrefix("xmlns:") {
                bindings.append((String(attributeName.dropFirst(6)), value))
                prefixesSeen += 1
            } else {
                if attributeName.contains(":") && !attributeName.hasPrefix("xml:") { prefixesSeen += 1 }
                rawAttributes.append((attributeName, value, attributeOffset))
            }
        }
        defer { bindings.removeSubrange(bindingCount...) }
        let (prefix, local) = split(qualified)
        guard let uri = namespace(for: prefix) else { throw fail("undeclared namespace prefix '\(prefix)'", at: start) }
        let element = XMLElement(name: local, namespace: uri, start: start)
        for (attributeName, value, attributeOffset) in rawAttributes {
            let (attributePrefix, attributeLocal) = split(attributeName)
            if !attributePrefix.isEmpty && namespace(for: attributePrefix) == nil {
                throw fail("undeclared namespace prefix '\(attributePrefix)'", at: attributeOffset)
            }
            element.attributes.append((attributeLocal, value))
        }
        if peek("/>") {
            offset += 2
            element.end = offset
            element.isSelfContained = declaresDefault && prefixesSeen == prefixesBefore
            return element
        }
        offset += 1  // >
        var textBytes: [UInt8] = []
        func flushText() {
            if !textBytes.isEmpty {
                element.children.append(.text(String(decoding: textBytes, as: UTF8.self)))
                textBytes.removeAll(keepingCapacity: true)
            }
        }
        while true {
            guard offset < buffer.count else { throw fail("element <\(qualified)> is not closed", at: start) }
            let byte = buffer[offset]
            if byte == UInt8(ascii: "<") {
                if peek("</") {
                    flushText()
                    let closeStart = offset
                    offset += 2
                    let closing = try name()
                    skipWhitespace()
                    guard offset < buffer.count, buffer[offset] == UInt8(ascii: ">") else {
                        throw fail("'>' expected to close </\(closing)")
                    }
                    offset += 1
                    guard closing == qualified else {
                        throw fail("</\(closing)> does not close <\(qualified)>", at: closeStart)
                    }
                    element.end = offset
                    element.isSelfContained = declaresDefault && prefixesSeen == prefixesBefore
                    return element
                } else if peek("<!--") {
                    try skipComment()
                } else if peek("<![CDATA[") {
                    let cdataStart = offset
                    offset += 9
                    while true {
                        guard offset + 2 < buffer.count else {
                            throw fail("unterminated CDATA section", at: cdataStart)
                        }
                        if buffer[offset] == UInt8(ascii: "]") && buffer[offset + 1] == UInt8(ascii: "]")
                            && buffer[offset + 2] == UInt8(ascii: ">")
                        {
                            offset += 3
                            break
                        }
                        textBytes.append(buffer[offset])
                        offset += 1
                    }
                } else if peek("<?") {
                    try skipProcessingInstruction()
                } else if peek("<!") {
                    throw fail("declarations are not allowed inside elements")
                } else {
                    flushText()
                    element.children.append(.element(try self.element(depth: depth + 1)))
                }
            } else if byte == UInt8(ascii: "&") {
                try reference(into: &textBytes)
            } else {
                if byte < 0x20 && byte != 0x09 && byte != 0x0A && byte != 0x0D {
                    throw fail("control character 0x\(String(byte, radix: 16, uppercase: true)) is not allowed in XML")
                }
                textBytes.append(byte)
                offset += 1
            }
        }
    }

    mutating func attributeValue() throws(XMLFailure) -> String {
        guard offset < buffer.count, buffer[offset] == UInt8(ascii: "\"") || buffer[offset] == UInt8(ascii: "'") else {
            throw fail("an attribute value in quotes was expected")
        }
        let quote = buffer[offset]
        let start = offset
        offset += 1
        var bytes: [UInt8] = []
        while true {
            guard offset < buffer.count else { throw fail("unterminated attribute value", at: start) }
            let byte = buffer[offset]
            if byte == quote {
                offset += 1
                break
            }
            switch byte {
            case UInt8(ascii: "<"): throw fail("'<' is not allowed in an attribute value")
            case UInt8(ascii: "&"): try reference(into: &bytes)
            case 0x09, 0x0A, 0x0D:
                bytes.append(0x20)  // attribute-value normalization
                offset += 1
            case 0..<0x20:
                throw fail("control character 0x\(String(byte, radix: 16, uppercase: true)) is not allowed in XML")
            default:
                bytes.append(byte)
                offset += 1
            }
        }
        guard let string = String(validating: bytes, as: UTF8.self) else { throw fail("invalid UTF-8", at: start) }
        return string
    }

    /// `&lt;` `&gt;` `&amp;` `&quot;` `&apos;` `&#N;` `&#xH;`; anything else is refused.
    mutating func reference(into bytes: inout [UInt8]) throws(XMLFailure) {
        let start = offset
        offset += 1
        var end = offset
        while end < buffer.count, end - offset < 12, buffer[end] != UInt8(ascii: ";") { end += 1 }
        guard end < buffer.count, buffer[end] == UInt8(ascii: ";") else {
            throw fail("unterminated entity reference", at: start)
        }
        let name = String(decoding: UnsafeBufferPointer(rebasing: buffer[offset..<end]), as: UTF8.self)
        offset = end + 1
        switch name {
        case "lt": bytes.append(UInt8(ascii: "<"))
        case "gt": bytes.append(UInt8(ascii: ">"))
        case "amp": bytes.append(UInt8(ascii: "&"))
        case "quot": bytes.append(UInt8(ascii: "\""))
        case "apos": bytes.append(UInt8(ascii: "'"))
        default:
            var value: UInt32?
            if name.hasPrefix("#x") {
                value = UInt32(name.dropFirst(2), radix: 16)
            } else if name.hasPrefix("#") {
                value = UInt32(name.dropFirst(1))
            }
            guard let value, let scalar = Unicode.Scalar(value),
                value == 0x9 || value == 0xA || value == 0xD || value >= 0x20
            else {
                if name.hasPrefix("#") { throw fail("invalid character reference &\(name);", at: start) }
                throw fail(
                    "the entity &\(name); is not one of XML's five predefined entities; Ferry expands no others",
                    at: start)
            }
            bytes.append(contentsOf: String(Character(scalar)).utf8)
        }
    }
}
