/// HL7 v2 escape sequences: `\F\ \S\ \T\ \R\ \E\` stand for the separators, `\Xhh…\` for bytes;
/// formatting commands (`\.br\`, `\H\`, `\N\`, `\.sp\`, …) and character-set switches are kept as written.
public enum HL7Escaping {
    /// Whether `text` holds `byte`: most values hold no escape, and a scan of the contiguous UTF-8
    /// costs less than the generic one over `String.UTF8View` (1.4 % of a conversion).
    static func contains(_ text: String, _ byte: UInt8) -> Bool {
        text.utf8.withContiguousStorageIfAvailable { $0.contains(byte) } ?? text.utf8.contains(byte)
    }

    /// Text with its escape sequences decoded.
    public static func decode(_ raw: String, separators: HL7Separators) -> String {
        guard let escape = separators.escape, contains(raw, escape) else { return raw }
        let bytes = Array(raw.utf8)
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            guard bytes[index] == escape, let end = bytes[(index + 1)...].firstIndex(of: escape), end > index + 1
            else {
                output.append(bytes[index])
                index += 1
                continue
            }
            let body = bytes[(index + 1)..<end]
            switch body.first {
            case UInt8(ascii: "F") where body.count == 1: output.append(separators.field)
            case UInt8(ascii: "S") where body.count == 1: output.append(separators.component)
            case UInt8(ascii: "T") where body.count == 1: output.append(separators.subcomponent ?? UInt8(ascii: "&"))
            case UInt8(ascii: "R") where body.count == 1: output.append(separators.repetition)
            case UInt8(ascii: "E") where body.count == 1: output.append(escape)
            case UInt8(ascii: "X") where body.count > 1 && (body.count - 1) % 2 == 0:
                if let decoded = hexBytes(body.dropFirst()) {
                    output.append(contentsOf: decoded)
                } else {
                    output.append(contentsOf: bytes[index...end])
                }
            default:
                // Formatting (`\.br\`, `\H\`, `\N\`) and character-set escapes are kept as they are.
                output.append(contentsOf: bytes[index...end])
            }
            index = end + 1
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// Text with the separators and the escape character written as escape sequences, and control
    /// characters (a line break inside a text would end the segment) as `\Xhh\`. Without an escape
    /// character, control characters become spaces.
    public static func encode(_ text: String, separators: HL7Separators) -> String {
        guard let escape = separators.escape else {
            return String(decoding: text.utf8.map { $0 < 0x20 ? UInt8(ascii: " ") : $0 }, as: UTF8.self)
        }
        let hex = Array("0123456789ABCDEF".utf8)
        var output: [UInt8] = []
        output.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            let letter: UInt8? =
                switch byte {
                case escape: UInt8(ascii: "E")
                case separators.field: UInt8(ascii: "F")
                case separators.component: UInt8(ascii: "S")
                case separators.repetition: UInt8(ascii: "R")
                case separators.subcomponent: UInt8(ascii: "T")
                default: nil
                }
            if let letter {
                output += [escape, letter, escape]
            } else if byte < 0x20 {
                output += [escape, UInt8(ascii: "X"), hex[Int(byte >> 4)], hex[Int(byte & 0x0F)], escape]
            } else {
                output.append(byte)
            }
        }
        return String(decoding: output, as: UTF8.self)
    }

    private static func hexBytes(_ digits: ArraySlice<UInt8>) -> [UInt8]? {
        func nibble(_ byte: UInt8) -> UInt8? {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
            case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
            case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
            default: nil
            }
        }
        var bytes: [UInt8] = []
        var iterator = digits.makeIterator()
        while let high = iterator.next() {
            guard let low = iterator.next(), let h = nibble(high), let l = nibble(low) else { return nil }
            bytes.append(h << 4 | l)
        }
        return bytes
    }
}
