import FHIR

/// Bulk mode's pending rows by resource name (`Type/id`), kept by the hundred thousand: a name whose
/// id has the form Ferry gives ids (a UUID in lowercase hexadecimal, `ResourceID`) is kept as the
/// UUID's 16 bytes, its row and its type's number packed into one word beside it — 24 bytes a slot
/// instead of a 45-byte string on the heap and its 24-byte slot. Any other name, and a second type
/// under the same UUID, is kept as written.
///
/// Exact: the compact form gives back the name's very text (type by number, UUID digit by digit),
/// so two names share a slot only when they are the same name.
struct PendingRows {
    struct UUIDBits: Hashable {
        let high: UInt64
        let low: UInt64
    }

    /// By UUID: the row times 2^16 plus the type's number.
    private var compact: [UUIDBits: UInt64] = [:]
    private var written: [String: Int64] = [:]
    /// The type names met so far, by number (a load writes a few dozen types at most).
    private var types: [[UInt8]] = []

    /// Slots of `compact` that hold no row (`byName`).
    private var byNameSlots = 0

    var count: Int { compact.count - byNameSlots + written.count }

    var isEmpty: Bool { compact.isEmpty && written.isEmpty }

    /// How many names are kept as written.
    var writtenCount: Int { written.count }

    /// The pending row of the resource named `name`.
    subscript(name: String) -> Int64? {
        mutating get {
            guard let (type, bits) = compactForm(name) else { return written[name] }
            guard let slot = compact[bits] else { return nil }
            return slot & 0xFFFF == type ? Int64(slot >> 16) : written[name]
        }
    }

    /// Makes `row` the pending row of the resource named `name` (rows are only ever replaced, never
    /// removed one by one).
    mutating func set(_ row: Int64, for name: String) {
        guard let (type, bits) = compactForm(name) else {
            written[name] = row
            return
        }
        switch compact[bits] {
        case let slot? where slot & 0xFFFF != type:
            // Another type's under this UUID, or a row too large for the slot: by name.
            written[name] = row
        case _ where row < 0 || row >= 1 << 48:
            // Every name under this UUID is looked up by name from now on.
            compact[bits] = Self.byName
            byNameSlots += 1
            written[name] = row
        default:
            compact[bits] = UInt64(row) << 16 | type
        }
    }

    /// A slot whose names are all kept as written (no type has this number).
    private static let byName: UInt64 = 0xFFFF

    /// The type's number and the id's bits, when the name has the compact form.
    private mutating func compactForm(_ name: String) -> (type: UInt64, bits: UUIDBits)? {
        return name.withUTF8Bytes { bytes in
            guard let slash = bytes.firstIndex(of: UInt8(ascii: "/")), slash > 0, bytes.count - slash - 1 == 36,
                let bits = Self.uuid(UnsafeBufferPointer(rebasing: bytes[(slash + 1)...])),
                let type = number(of: UnsafeBufferPointer(rebasing: bytes[..<slash]))
            else { return nil }
            return (UInt64(type), bits)
        }
    }

    /// The number of a type's name (its place among `types`, which it joins when new).
    private mutating func number(of type: UnsafeBufferPointer<UInt8>) -> UInt16? {
        for (number, known) in types.enumerated() where known.count == type.count {
            if known.withUnsafeBufferPointer({ $0.elementsEqual(type) }) { return UInt16(number) }
        }
        guard types.count < Int(UInt16.max) else { return nil }
        types.append(Array(type))
        return UInt16(types.count - 1)
    }

    /// The 128 bits of `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` in lowercase hexadecimal; `nil` for
    /// anything else (uppercase digits included: their text would not come back).
    static func uuid(_ text: UnsafeBufferPointer<UInt8>) -> UUIDBits? {
        guard text.count == 36 else { return nil }
        var high: UInt64 = 0
        var low: UInt64 = 0
        var digits = 0
        for (position, byte) in text.enumerated() {
            if position == 8 || position == 13 || position == 18 || position == 23 {
                guard byte == UInt8(ascii: "-") else { return nil }
                continue
            }
            let value: UInt64
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = UInt64(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): value = UInt64(byte - UInt8(ascii: "a") + 10)
            default: return nil
            }
            if digits < 16 { high = high << 4 | value } else { low = low << 4 | value }
            digits += 1
        }
        return UUIDBits(high: high, low: low)
    }
}
