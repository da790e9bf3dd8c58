/// The abstract message syntax of one message structure (`ORU_R01`): which segments come in which
/// order, how often, and how they nest in groups, so that an OBX belongs to its OBR and an NTE to
/// its parent.
///
/// The structures ship with Ferry, generated from the HL7 v2-to-FHIR IG's message tables (see
/// `scripts/generate-hl7-structures`); `HL7MessageStructure.named(_:)` and `for(_:)` look them up.
public struct HL7MessageStructure: Sendable, Hashable {
    /// The structure id, e.g. `ORU_R01`.
    public var name: String
    /// The elements of the message, MSH first.
    public var elements: [HL7StructureElement] {
        didSet { segmentIDs = Self.segmentIDs(elements) }
    }
    /// Every segment id the structure names, in any group (worked out once, not per message).
    public private(set) var segmentIDs: Set<String>

    /// Creates a structure from its elements.
    public init(name: String, elements: [HL7StructureElement]) {
        self.name = name
        self.elements = elements
        segmentIDs = Self.segmentIDs(elements)
    }

    private static func segmentIDs(_ elements: [HL7StructureElement]) -> Set<String> {
        elements.reduce(into: []) { $0.formUnion($1.allSegments) }
    }

    /// Parses a structure written in Ferry's notation: segment ids and groups `NAME(...)` or choices
    /// `<A|B>`, each followed by nothing (exactly one), `?` (optional), `*` (any) or `+` (one or more).
    ///
    ///     MSH PATIENT_RESULT(PATIENT(PID PD1? NTE*)? ORDER_OBSERVATION(ORC? OBR NTE* OBSERVATION(OBX NTE*)*)+)+
    public init(name: String, notation: String) throws(HL7Error) {
        var parser = NotationParser(text: Array(notation.utf8), name: name)
        self.name = name
        let elements = try parser.elements(until: nil)
        self.elements = elements
        segmentIDs = Self.segmentIDs(elements)
        guard parser.isAtEnd else { throw parser.fail("an element") }
    }

    /// The structure in Ferry's notation.
    public var notation: String {
        elements.map(\.notation).joined(separator: " ")
    }

    /// A shipped structure by id (`ADT_A01`), or `nil` when Ferry has none by that name.
    public static func named(_ name: String) -> HL7MessageStructure? {
        shipped[name]
    }

    /// The structure of a message: the one MSH-9.3 names when Ferry knows it, else the one its
    /// message type and trigger event use (`ADT^A04` uses `ADT_A01`); an acknowledgment is `ACK`.
    public static func `for`(_ message: HL7Message) -> HL7MessageStructure? {
        if let declared = try? message.value(at: "MSH-9.3").text, let structure = shipped[declared] {
            return structure
        }
        guard let type = message.messageType else { return nil }
        if type == "ACK" { return shipped["ACK"] }
        guard let event = message.triggerEvent, let name = HL7StructureTable.events["\(type)^\(event)"] else {
            return nil
        }
        return shipped[name]
    }

    /// Every structure Ferry ships, by name.
    public static let shipped: [String: HL7MessageStructure] = {
        var structures: [String: HL7MessageStructure] = [:]
        // The table is generated, and a test holds every entry to parse: none is left out here.
        for (name, notation) in HL7StructureTable.notations {
            if let structure = try? HL7MessageStructure(name: name, notation: notation) { structures[name] = structure }
        }
        return structures
    }()
}

/// How often an element may occur.
public struct HL7Cardinality: Sendable, Hashable {
    public var min: Int
    /// `nil` when unbounded.
    public var max: Int?

    public static let one = HL7Cardinality(min: 1, max: 1)
    public static let optional = HL7Cardinality(min: 0, max: 1)
    public static let any = HL7Cardinality(min: 0, max: nil)
    public static let oneOrMore = HL7Cardinality(min: 1, max: nil)

    /// Whether one more occurrence is allowed after `count`.
    func allows(_ count: Int) -> Bool { max.map { count < $0 } ?? true }

    var suffix: String {
        switch (min, max) {
        case (0, 1): "?"
        case (0, nil): "*"
        case (1, nil): "+"
        default: ""
        }
    }
}

/// One element of a message structure: a segment, a named group of elements, or a choice of one
/// among several segments.
public indirect enum HL7StructureElement: Sendable, Hashable {
    case segment(String, HL7Cardinality)
    case group(String, [HL7StructureElement], HL7Cardinality)
    case choice([HL7StructureElement], HL7Cardinality)

    /// How often the element may occur.
    public var cardinality: HL7Cardinality {
        switch self {
        case .segment(_, let cardinality), .group(_, _, let cardinality), .choice(_, let cardinality):
            cardinality
        }
    }

    /// The segment ids that can begin this element: its own id, or for a group those of its elements
    /// up to and including the first required one.
    public var startingSegments: Set<String> {
        switch self {
        case .segment(let id, _):
            return [id]
        case .choice(let alternatives, _):
            return alternatives.reduce(into: []) { $0.formUnion($1.startingSegments) }
        case .group(_, let elements, _):
            var ids: Set<String> = []
            for element in elements {
                ids.formUnion(element.startingSegments)
                if element.cardinality.min > 0 { break }
            }
            return ids
        }
    }

    /// Every segment id anywhere in the element.
    var allSegments: Set<String> {
        switch self {
        case .segment(let id, _): [id]
        case .group(_, let elements, _), .choice(let elements, _):
            elements.reduce(into: []) { $0.formUnion($1.allSegments) }
        }
    }

    var notation: String {
        switch self {
        case .segment(let id, let cardinality):
            id + cardinality.suffix
        case .group(let name, let elements, let cardinality):
            "\(name)(\(elements.map(\.notation).joined(separator: " ")))" + cardinality.suffix
        case .choice(let alternatives, let cardinality):
            "<\(alternatives.map(\.notation).joined(separator: "|"))>" + cardinality.suffix
        }
    }
}

/// Reads Ferry's structure notation.
private struct NotationParser {
    let text: [UInt8]
    let name: String
    var position = 0

    var isAtEnd: Bool {
        text[position...].allSatisfy { $0 == UInt8(ascii: " ") }
    }

    func fail(_ expected: String) -> HL7Error {
        HL7Error(.structure, "structure \(name), character \(position + 1): expected \(expected)")
    }

    mutating func elements(until terminator: UInt8?) throws(HL7Error) -> [HL7StructureElement] {
        var elements: [HL7StructureElement] = []
        while true {
            skipSpaces()
            guard position < text.count else {
                if let terminator { throw fail("'\(Character(Unicode.Scalar(terminator)))'") }
                return elements
            }
            if text[position] == terminator { return elements }
            elements.append(try element())
        }
    }

    mutating func element() throws(HL7Error) -> HL7StructureElement {
        if text[position] == UInt8(ascii: "<") {
            position += 1
            var alternatives: [HL7StructureElement] = []
            while true {
                skipSpaces()
                guard position < text.count else { throw fail("a segment in the choice") }
                alternatives.append(try element())
                skipSpaces()
                guard position < text.count else { throw fail("'|' or '>'") }
                position += 1
                if text[position - 1] == UInt8(ascii: ">") { break }
                guard text[position - 1] == UInt8(ascii: "|") else { throw fail("'|' or '>'") }
            }
            return .choice(alternatives, cardinality())
        }
        let start = position
        while position < text.count, Self.isNameByte(text[position]) { position += 1 }
        guard position > start else { throw fail("a segment id or a group name") }
        let word = String(decoding: text[start..<position], as: UTF8.self)
        if position < text.count, text[position] == UInt8(ascii: "(") {
            position += 1
            let elements = try elements(until: UInt8(ascii: ")"))
            position += 1
            guard !elements.isEmpty else { throw fail("an element in group \(word)") }
            return .group(word, elements, cardinality())
        }
        guard word.utf8.count == 3 else { throw fail("a three-character segment id, found '\(word)'") }
        return .segment(word, cardinality())
    }

    mutating func cardinality() -> HL7Cardinality {
        guard position < text.count else { return .one }
        let cardinality: HL7Cardinality? =
            switch text[position] {
            case UInt8(ascii: "?"): .optional
            case UInt8(ascii: "*"): .any
            case UInt8(ascii: "+"): .oneOrMore
            default: nil
            }
        if cardinality != nil { position += 1 }
        return cardinality ?? .one
    }

    mutating func skipSpaces() {
        while position < text.count, text[position] == UInt8(ascii: " ") { position += 1 }
    }

    static func isNameByte(_ byte: UInt8) -> Bool {
        (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x30 && byte <= 0x39) || byte == UInt8(ascii: "_")
    }
}
