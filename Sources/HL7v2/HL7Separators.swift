/// The delimiters a message declares in MSH-1 and MSH-2 (any legal choice, not only `|^~\&`).
public struct HL7Separators: Sendable, Hashable {
    /// Separates fields (MSH-1), usually `|`.
    public var field: UInt8
    /// Separates components, usually `^`.
    public var component: UInt8
    /// Separates repetitions, usually `~`.
    public var repetition: UInt8
    /// Starts and ends escape sequences, usually `\`; `nil` when the message declares none.
    public var escape: UInt8?
    /// Separates subcomponents, usually `&`; `nil` when the message declares none.
    public var subcomponent: UInt8?
    /// The truncation character of v2.7 and later (`#`), when declared.
    public var truncation: UInt8?

    /// The usual separators, `|^~\&`.
    public static let standard = HL7Separators(
        field: UInt8(ascii: "|"), component: UInt8(ascii: "^"), repetition: UInt8(ascii: "~"),
        escape: UInt8(ascii: "\\"), subcomponent: UInt8(ascii: "&"), truncation: nil)

    public init(
        field: UInt8, component: UInt8, repetition: UInt8, escape: UInt8?, subcomponent: UInt8?, truncation: UInt8?
    ) {
        self.field = field
        self.component = component
        self.repetition = repetition
        self.escape = escape
        self.subcomponent = subcomponent
        self.truncation = truncation
    }

    /// Reads the separators from the start of an MSH, FHS or BHS segment (`MSH|^~\&|…`).
    init(header bytes: some Collection<UInt8>, segmentNumber: Int) throws(HL7Error) {
        let bytes = Array(bytes)
        let id = String(decoding: bytes.prefix(3), as: UTF8.self)
        guard bytes.count >= 4 else {
            throw HL7Error(
                .syntax, "the \(id) segment ends before its field separator", segmentNumber: segmentNumber, segment: id)
        }
        let field = bytes[3]
        var characters: [UInt8] = []
        var position = 4
        while position < bytes.count, bytes[position] != field {
            characters.append(bytes[position])
            position += 1
        }
        guard characters.count >= 2, characters.count <= 5 else {
            throw HL7Error(
                .syntax, "\(id)-2 must declare 2 to 5 encoding characters, found \(characters.count)",
                segmentNumber: segmentNumber, segment: id, field: 2)
        }
        let all = [field] + characters
        guard Set(all).count == all.count, !all.contains(where: { Self.isUnusable($0) }) else {
            throw HL7Error(
                .syntax, "the separators must be distinct printable characters other than letters and digits",
                segmentNumber: segmentNumber, segment: id, field: 2)
        }
        self.init(
            field: field, component: characters[0], repetition: characters[1],
            escape: characters.count > 2 ? characters[2] : nil,
            subcomponent: characters.count > 3 ? characters[3] : nil,
            truncation: characters.count > 4 ? characters[4] : nil)
    }

    private static func isUnusable(_ byte: UInt8) -> Bool {
        byte < 0x21 || byte > 0x7E || (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A)
            || (byte >= 0x61 && byte <= 0x7A)
    }

    /// MSH-2 as written: the encoding characters after the field separator.
    var encodingCharacters: [UInt8] {
        [component, repetition] + [escape, subcomponent, truncation].compactMap { $0 }
    }
}
