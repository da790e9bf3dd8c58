/// A location in a message: `PID-5`, `PID-5.1`, `PID-3[2].4.1`, `OBX[3]-5`.
///
/// Segment occurrences and field repetitions are 1-based and default to the first; a missing component
/// or subcomponent number means the whole field or component.
public struct HL7Path: Sendable, Hashable, CustomStringConvertible {
    public var segment: String
    /// Which occurrence of the segment (1 = the first).
    public var occurrence: Int
    public var field: Int
    /// Which repetition of the field (1 = the first).
    public var repetition: Int
    public var component: Int?
    public var subcomponent: Int?

    /// Parses a path; a malformed one throws an error saying what was expected.
    public init(_ text: String) throws(HL7Error) {
        var scanner = Substring(text).utf8[...]
        func fail(_ expected: String) -> HL7Error {
            HL7Error(.path, "'\(text)' is not an HL7 path: expected \(expected) (e.g. PID-3[2].4.1)")
        }
        func number() -> Int? {
            var value = 0
            var digits = 0
            while let byte = scanner.first, byte >= 0x30, byte <= 0x39, digits < 6 {
                value = value * 10 + Int(byte - 0x30)
                digits += 1
                scanner = scanner.dropFirst()
            }
            return digits > 0 && value > 0 ? value : nil
        }
        func bracketed() throws(HL7Error) -> Int? {
            guard scanner.first == UInt8(ascii: "[") else { return nil }
            scanner = scanner.dropFirst()
            guard let value = number(), scanner.first == UInt8(ascii: "]") else { throw fail("a number from 1 in [ ]") }
            scanner = scanner.dropFirst()
            return value
        }
        let id = scanner.prefix(3)
        guard id.count == 3, id.allSatisfy({ ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x30 && $0 <= 0x39) }) else {
            throw fail("a three-character segment id")
        }
        segment = String(decoding: id, as: UTF8.self)
        scanner = scanner.dropFirst(3)
        occurrence = try bracketed() ?? 1
        guard scanner.first == UInt8(ascii: "-") else { throw fail("'-' and a field number") }
        scanner = scanner.dropFirst()
        guard let field = number() else { throw fail("a field number from 1") }
        self.field = field
        repetition = try bracketed() ?? 1
        component = nil
        subcomponent = nil
        if scanner.first == UInt8(ascii: ".") {
            scanner = scanner.dropFirst()
            guard let component = number() else { throw fail("a component number from 1") }
            self.component = component
            if scanner.first == UInt8(ascii: ".") {
                scanner = scanner.dropFirst()
                guard let subcomponent = number() else { throw fail("a subcomponent number from 1") }
                self.subcomponent = subcomponent
            }
        }
        guard scanner.isEmpty else { throw fail("nothing after the path") }
    }

    public var description: String {
        var text = segment + (occurrence > 1 ? "[\(occurrence)]" : "") + "-\(field)"
        if repetition > 1 { text += "[\(repetition)]" }
        if let component { text += ".\(component)" }
        if let subcomponent { text += ".\(subcomponent)" }
        return text
    }
}

/// A value read from a message: absent (nothing there), the explicit null `""`, or text with its
/// escape sequences decoded.
public enum HL7Value: Sendable, Hashable {
    case absent
    /// `""`: the sender says the value is null (delete it), which is not the same as leaving it empty.
    case null
    case text(String)

    /// The text, when there is some.
    public var text: String? {
        if case .text(let text) = self { return text }
        return nil
    }
}

extension HL7Message {
    /// The value at a path (`PID-5.1`), decoded; `.absent` when the message does not go that deep.
    public func value(at path: String) throws(HL7Error) -> HL7Value {
        value(at: try HL7Path(path))
    }

    /// The value at a path, decoded.
    public func value(at path: HL7Path) -> HL7Value {
        guard let segment = segment(path) else { return .absent }
        return value(in: segment, at: path)
    }

    /// The value at a path in one segment of this message, whatever occurrence the path names.
    public func value(in segment: HL7Segment, at path: HL7Path) -> HL7Value {
        guard let raw = rawValue(in: segment, at: path) else { return .absent }
        if raw.isEmpty { return .absent }
        if raw == "\"\"" { return .null }
        // MSH-1 and MSH-2 are the separators themselves, never escaped.
        if HL7Segment.isHeader(path.segment), path.field <= 2 { return .text(raw) }
        return .text(HL7Escaping.decode(raw, separators: separators))
    }

    /// Every repetition of a field (or of a component of it), decoded; empty repetitions are left out.
    public func values(at path: String) throws(HL7Error) -> [HL7Value] {
        var parsed = try HL7Path(path)
        guard let field = segment(parsed)?.rawField(parsed.field) else { return [] }
        let count = field.utf8.split(separator: separators.repetition, omittingEmptySubsequences: false).count
        return (1...max(count, 1)).compactMap { repetition in
            parsed.repetition = repetition
            let value = value(at: parsed)
            return value == .absent ? nil : value
        }
    }

    /// The text at a path as written, still escaped.
    public func rawValue(at path: HL7Path) -> String? {
        segment(path).flatMap { rawValue(in: $0, at: path) }
    }

    /// The text at a path in one segment, as written.
    func rawValue(in segment: HL7Segment, at path: HL7Path) -> String? {
        guard var text = segment.rawField(path.field) else { return nil }
        if HL7Segment.isHeader(path.segment), path.field <= 2 { return text }
        text = Self.piece(text, separator: separators.repetition, number: path.repetition) ?? ""
        if let component = path.component {
            text = Self.piece(text, separator: separators.component, number: component) ?? ""
            if let subcomponent = path.subcomponent {
                guard let separator = separators.subcomponent else { return subcomponent == 1 ? text : nil }
                text = Self.piece(text, separator: separator, number: subcomponent) ?? ""
            }
        }
        return text
    }

    private func segment(_ path: HL7Path) -> HL7Segment? {
        var seen = 0
        for segment in segments where segment.id == path.segment {
            seen += 1
            if seen == path.occurrence { return segment }
        }
        return nil
    }

    private static func piece(_ text: String, separator: UInt8, number: Int) -> String? {
        var index = 1
        var start = text.utf8.startIndex
        for position in text.utf8.indices where text.utf8[position] == separator {
            if index == number { return String(text[start..<position]) }
            index += 1
            start = text.utf8.index(after: position)
        }
        return index == number ? String(text[start...]) : nil
    }
}
