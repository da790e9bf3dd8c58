/// One segment as it stood in the message: its id and its fields as written (still escaped), so that
/// encoding gives back the bytes that were parsed.
public struct HL7Segment: Sendable, Hashable {
    /// The segment id: `MSH`, `PID`, `OBX`, or a site's own `ZPD`.
    public var id: String
    /// The fields as written, `fields[0]` being field 1. In MSH, field 1 is the field separator itself
    /// and field 2 the encoding characters, as the standard counts them.
    public var fields: [String]

    /// Creates a segment from its id and fields as written (escaped); for MSH, field 1 is the field
    /// separator and field 2 the encoding characters.
    public init(id: String, fields: [String]) {
        self.id = id
        self.fields = fields
    }

    /// Whether a segment id is a header (MSH, FHS, BHS), whose field 1 is the field separator itself and
    /// field 2 the encoding characters, neither of them escaped.
    public static func isHeader(_ id: String) -> Bool {
        id == "MSH" || id == "FHS" || id == "BHS"
    }

    /// Whether the segment is a site-defined Z-segment.
    public var isZSegment: Bool { id.utf8.first == UInt8(ascii: "Z") }

    /// Field `number` (1-based) as written, or `nil` when the segment has fewer fields.
    public func rawField(_ number: Int) -> String? {
        number >= 1 && number <= fields.count ? fields[number - 1] : nil
    }
}

/// An HL7 v2 message (versions 2.1 to 2.8): its separators and segments, parsed byte by byte.
///
/// Fields stay as written until asked for, so parsing is a single pass and `encoded()` returns the
/// parsed bytes (with segments ended by `\r`). `value(at:)` reads any field, repetition, component or
/// subcomponent by path (`PID-5.1`, `PID-3[2].4.1`, `OBX[3]-5`), decoding escape sequences.
public struct HL7Message: Sendable, Hashable {
    /// The separators declared in MSH-1 and MSH-2.
    public var separators: HL7Separators
    /// Every segment in order, MSH first, Z-segments included.
    public var segments: [HL7Segment]

    /// Parses one message; segments may end with `\r`, `\n` or `\r\n`.
    public init(parsing bytes: some Collection<UInt8>) throws(HL7Error) {
        typealias Parsed = Result<(HL7Separators, [HL7Segment]), HL7Error>
        let parsed: Parsed =
            bytes.withContiguousStorageIfAvailable { buffer in Parsed { () throws(HL7Error) in try Self.parse(buffer) }
            }
            ?? Array(bytes).withUnsafeBufferPointer { buffer in Parsed { () throws(HL7Error) in try Self.parse(buffer) }
            }
        (separators, segments) = try parsed.get()
    }

    /// Creates a message from segments already split into fields.
    public init(separators: HL7Separators = .standard, segments: [HL7Segment]) {
        self.separators = separators
        self.segments = segments
    }

    /// The message as bytes: segments joined and ended by `\r`.
    public func encoded() -> [UInt8] {
        // A message that declares ISO 8859-1 in MSH-18 is written in it, as it was read.
        let latin1 =
            segments.first.map { header in
                header.id == "MSH"
                    && header.rawField(18).map { Self.declaresLatin1(Array($0.utf8), separators) } == true
            } ?? false
        var output: [UInt8] = []
        for segment in segments {
            output.append(contentsOf: segment.id.utf8)
            let isHeader = HL7Segment.isHeader(segment.id)
            for (index, field) in segment.fields.enumerated() {
                // A header's field 1 is the field separator itself: it is written once, not twice.
                if isHeader && index == 0 { continue }
                output.append(separators.field)
                if latin1 {
                    // Characters beyond ISO 8859-1 cannot come from a Latin-1 message; written as `?`.
                    output += field.unicodeScalars.map { $0.value < 0x100 ? UInt8($0.value) : UInt8(ascii: "?") }
                } else {
                    output.append(contentsOf: field.utf8)
                }
            }
            output.append(0x0D)
        }
        return output
    }

    /// The segments with an id, in order.
    public func segments(_ id: String) -> [HL7Segment] {
        segments.filter { $0.id == id }
    }

    /// MSH-9: the message type and trigger event, e.g. `ADT^A01^ADT_A01`.
    public var messageType: String? { try? value(at: "MSH-9.1").text }
    /// MSH-9.2, the trigger event (`A01`).
    public var triggerEvent: String? { try? value(at: "MSH-9.2").text }
    /// MSH-10, the message control id.
    public var controlID: String? { try? value(at: "MSH-10").text }
    /// MSH-12, the version (`2.5.1`).
    public var version: String? { try? value(at: "MSH-12.1").text }

    // MARK: - Parsing

    /// One pass over the bytes: segments are cut at line ends, fields at the field separator. When every
    /// byte is ASCII (most feeds) the fields are made without UTF-8 validation.
    private static func parse(
        _ bytes: UnsafeBufferPointer<UInt8>, transcoded: Bool = false
    ) throws(HL7Error) -> (HL7Separators, [HL7Segment]) {
        var start = 0
        while start < bytes.count, bytes[start] == 0x0D || bytes[start] == 0x0A { start += 1 }
        guard start < bytes.count else { throw HL7Error(.syntax, "the message is empty") }
        guard bytes.count - start >= 3, bytes[start] == 0x4D, bytes[start + 1] == 0x53, bytes[start + 2] == 0x48 else {
            let found = String(
                decoding: UnsafeBufferPointer(rebasing: bytes[start..<min(start + 3, bytes.count)]), as: UTF8.self)
            throw HL7Error(.syntax, "a message must start with an MSH segment, found '\(found)'", segmentNumber: 1)
        }
        var firstEnd = start
        while firstEnd < bytes.count, bytes[firstEnd] != 0x0D, bytes[firstEnd] != 0x0A { firstEnd += 1 }
        let separators = try HL7Separators(
            header: UnsafeBufferPointer(rebasing: bytes[start..<firstEnd]), segmentNumber: 1)
        let isASCII = !bytes.contains { $0 >= 0x80 }
        if !isASCII, !transcoded,
            Self.isLatin1(header: UnsafeBufferPointer(rebasing: bytes[start..<firstEnd]), separators)
        {
            // MSH-18 8859/1: each byte is the Unicode code point of the same number; parse it as UTF-8.
            var utf8: [UInt8] = []
            utf8.reserveCapacity(bytes.count + bytes.count / 8)
            for byte in bytes {
                if byte < 0x80 {
                    utf8.append(byte)
                } else {
                    utf8.append(0xC0 | (byte >> 6))
                    utf8.append(0x80 | (byte & 0x3F))
                }
            }
            return try utf8.withUnsafeBufferPointer { (buffer) throws(HL7Error) in try parse(buffer, transcoded: true) }
        }
        var segments: [HL7Segment] = []
        segments.reserveCapacity(16)
        var lineStart = start
        var index = start
        while index <= bytes.count {
            if index == bytes.count || bytes[index] == 0x0D || bytes[index] == 0x0A {
                if index > lineStart {
                    let line = UnsafeBufferPointer(rebasing: bytes[lineStart..<index])
                    segments.append(
                        try segment(line, separators: separators, number: segments.count + 1, isASCII: isASCII))
                }
                lineStart = index + 1
            }
            index += 1
        }
        return (separators, segments)
    }

    /// Whether MSH-18 declares ISO 8859-1 (`8859/1`), the one single-byte character set Ferry reads
    /// besides ASCII and UTF-8.
    static func isLatin1(header: UnsafeBufferPointer<UInt8>, _ separators: HL7Separators) -> Bool {
        // MSH-1 is the separator itself, so MSH-18 lies between the 17th separator and the 18th.
        let pieces = header.split(separator: separators.field, maxSplits: 18, omittingEmptySubsequences: false)
        guard pieces.count > 17 else { return false }
        return declaresLatin1(pieces[17], separators)
    }

    /// Whether an MSH-18 value names ISO 8859-1 first (its first repetition's first component is
    /// `8859/1`). Reading and writing decide by this one rule, so that what is read is written back.
    static func declaresLatin1(_ field: some Collection<UInt8>, _ separators: HL7Separators) -> Bool {
        field.prefix { $0 != separators.component && $0 != separators.repetition }.elementsEqual("8859/1".utf8)
    }

    /// The lines of a message, split at `\r`, `\n` or `\r\n`, empty lines dropped.
    static func segmentLines(_ bytes: [UInt8]) -> [ArraySlice<UInt8>] {
        var lines: [ArraySlice<UInt8>] = []
        var start = 0
        for (index, byte) in bytes.enumerated() where byte == 0x0D || byte == 0x0A {
            if index > start { lines.append(bytes[start..<index]) }
            start = index + 1
        }
        if start < bytes.count { lines.append(bytes[start...]) }
        return lines
    }

    /// One segment from a line of a batch file.
    static func segment(
        _ line: ArraySlice<UInt8>, separators: HL7Separators, number: Int
    ) throws(HL7Error) -> HL7Segment {
        let isASCII = !line.contains { $0 >= 0x80 }
        let copy = Array(line)
        return try copy.withUnsafeBufferPointer { (buffer) throws(HL7Error) in
            try segment(buffer, separators: separators, number: number, isASCII: isASCII)
        }
    }

    static func segment(
        _ line: UnsafeBufferPointer<UInt8>, separators: HL7Separators, number: Int, isASCII: Bool
    ) throws(HL7Error) -> HL7Segment {
        guard line.count >= 3 else {
            throw HL7Error(
                .syntax, "a segment needs a three-character id, found '\(String(decoding: line, as: UTF8.self))'",
                segmentNumber: number)
        }
        let (a, b, c) = (line[0], line[1], line[2])
        func isUpperOrDigit(_ byte: UInt8) -> Bool { (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x30 && byte <= 0x39) }
        guard a >= 0x41, a <= 0x5A, isUpperOrDigit(b), isUpperOrDigit(c) else {
            let id = String(decoding: UnsafeBufferPointer(rebasing: line[0..<3]), as: UTF8.self)
            throw HL7Error(
                .syntax, "'\(id)' is not a segment id (three capital letters or digits, starting with a letter)",
                segmentNumber: number)
        }
        let id = String(decoding: UnsafeBufferPointer(rebasing: line[0..<3]), as: UTF8.self)
        if line.count == 3 { return HL7Segment(id: id, fields: []) }
        let field = separators.field
        guard line[3] == field else {
            throw HL7Error(
                .syntax,
                "the segment id must be followed by the field separator '\(Character(Unicode.Scalar(field)))'",
                segmentNumber: number, segment: id)
        }
        let isHeader = HL7Segment.isHeader(id)
        var count = 1
        for position in 4..<line.count where line[position] == field { count += 1 }
        var fields: [String] = []
        fields.reserveCapacity(count + (isHeader ? 1 : 0))
        if isHeader { fields.append(String(Character(Unicode.Scalar(field)))) }
        var start = 4
        for position in 4...line.count where position == line.count || line[position] == field {
            let piece = UnsafeBufferPointer(rebasing: line[start..<position])
            if isASCII {
                fields.append(String(decoding: piece, as: UTF8.self))
            } else {
                guard let text = String(validating: piece, as: UTF8.self) else {
                    throw HL7Error(
                        .syntax, "the field is not valid UTF-8 (declare MSH-18 and convert before parsing)",
                        segmentNumber: number, segment: id, field: fields.count + 1)
                }
                fields.append(text)
            }
            start = position + 1
        }
        return HL7Segment(id: id, fields: fields)
    }
}
