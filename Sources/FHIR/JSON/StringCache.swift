/// The strings a parser met lately, by their bytes: FHIR repeats a few dozen names (`system`, `code`,
/// `reference`) through every resource, and most of its values too (code systems, units, codes,
/// displays, statuses). Making each into a `String` again checks its UTF-8, packs or allocates it,
/// and later frees it; a string met before is handed out again instead (a copy of a small string, a
/// retain of a large one).
///
/// Two tables, each slot chosen by a hash of the bytes; a string that meets another in its slot takes
/// the slot. Strings up to 16 bytes are compared as two words; longer ones up to `longest` by a
/// 64-bit hash and then word by word. Longer strings are always made anew.
final class StringCache {
    private struct ShortEntry {
        var low: UInt64
        var high: UInt64
        var length: Int
        var string: String
    }

    private struct LongEntry {
        var hash: UInt64
        var string: String
    }

    private static let shortSlots = 512
    private static let longSlots = 256
    /// The longest string a short slot keeps.
    private static let shortest = 16
    /// The longest string kept at all: system URLs and displays fit, narrative does not.
    static let longest = 96

    private let shortEntries: UnsafeMutablePointer<ShortEntry>
    private let longEntries: UnsafeMutablePointer<LongEntry>

    init() {
        shortEntries = .allocate(capacity: Self.shortSlots)
        shortEntries.initialize(repeating: ShortEntry(low: 0, high: 0, length: -1, string: ""), count: Self.shortSlots)
        longEntries = .allocate(capacity: Self.longSlots)
        longEntries.initialize(repeating: LongEntry(hash: 0, string: ""), count: Self.longSlots)
    }

    deinit {
        shortEntries.deinitialize(count: Self.shortSlots)
        shortEntries.deallocate()
        longEntries.deinitialize(count: Self.longSlots)
        longEntries.deallocate()
    }

    /// The string whose (already validated) UTF-8 is `buffer[start..<end]`.
    @inline(__always)
    func string(_ buffer: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int) -> String {
        let length = end - start
        if length <= Self.shortest { return short(buffer, from: start, length: length) }
        if length <= Self.longest { return long(buffer, from: start, length: length) }
        return String(decoding: UnsafeBufferPointer(rebasing: buffer[start..<end]), as: UTF8.self)
    }

    @inline(__always)
    private func short(_ buffer: UnsafeBufferPointer<UInt8>, from start: Int, length: Int) -> String {
        var low: UInt64 = 0
        var high: UInt64 = 0
        if buffer.count - start >= 16 {
            // Safe: sixteen bytes from `start` lie inside the buffer (checked above).
            let base = UnsafeRawPointer(buffer.baseAddress! + start)
            low = UInt64(littleEndian: base.loadUnaligned(as: UInt64.self))
            high = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
            if length < 8 {
                low &= Self.mask(length)
                high = 0
            } else {
                high &= Self.mask(length - 8)
            }
        } else {
            for index in 0..<length {
                let byte = UInt64(buffer[start + index])
                if index < 8 { low |= byte << (index * 8) } else { high |= byte << ((index - 8) * 8) }
            }
        }
        let slot = Int(truncatingIfNeeded: (((low ^ high &* 31) &+ UInt64(length)) &* 0x9E37_79B9_7F4A_7C15) >> 55)
        let entry = shortEntries + slot
        if entry.pointee.low == low && entry.pointee.high == high && entry.pointee.length == length {
            return entry.pointee.string
        }
        let string = String(decoding: UnsafeBufferPointer(rebasing: buffer[start..<start + length]), as: UTF8.self)
        entry.pointee = ShortEntry(low: low, high: high, length: length, string: string)
        return string
    }

    /// A string of 17 to `longest` bytes: eight at a time into the hash (the last word overlapping the
    /// one before it), then compared with the slot's string the same way.
    private func long(_ buffer: UnsafeBufferPointer<UInt8>, from start: Int, length: Int) -> String {
        // Safe: `length` > 16, so every word read below lies inside `buffer[start..<start + length]`.
        let base = UnsafeRawPointer(buffer.baseAddress! + start)
        var hash = UInt64(truncatingIfNeeded: length) &* 0x9E37_79B9_7F4A_7C15
        var offset = 0
        while offset + 8 < length {
            hash = (hash ^ base.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) &* 0x0000_0100_0000_01B3
            offset &+= 8
        }
        hash = (hash ^ base.loadUnaligned(fromByteOffset: length - 8, as: UInt64.self)) &* 0x9E37_79B9_7F4A_7C15
        let entry = longEntries + Int(truncatingIfNeeded: hash >> 56)
        if entry.pointee.hash == hash,
            entry.pointee.string.utf8.withContiguousStorageIfAvailable({ kept in
                kept.count == length && Self.sameWords(UnsafeRawPointer(kept.baseAddress!), base, length)
            }) == true
        {
            return entry.pointee.string
        }
        let string = String(decoding: UnsafeRawBufferPointer(start: base, count: length), as: UTF8.self)
        entry.pointee = LongEntry(hash: hash, string: string)
        return string
    }

    /// Whether `count` (more than 8) bytes at `first` and `second` are the same, eight at a time, the
    /// last word overlapping the one before it.
    @inline(__always)
    private static func sameWords(_ first: UnsafeRawPointer, _ second: UnsafeRawPointer, _ count: Int) -> Bool {
        var offset = 0
        while offset + 8 < count {
            if first.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
                != second.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
            {
                return false
            }
            offset &+= 8
        }
        return first.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self)
            == second.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self)
    }

    /// The low `count` bytes of a word (`count` at most 8).
    @inline(__always)
    private static func mask(_ count: Int) -> UInt64 {
        count == 0 ? 0 : UInt64.max >> (64 - count * 8)
    }
}
