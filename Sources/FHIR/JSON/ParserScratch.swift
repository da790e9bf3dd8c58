import Synchronization

/// What a parse works in, kept between parses: the two stacks, whose first storage (1–2 KB) cost
/// about 1,300 instructions to allocate and free (`posix_memalign`, which `UnsafeMutablePointer.allocate`
/// uses on Linux), 2 % of parsing an Observation; and the keys met before, so a key read again is
/// not made into a new `String`. Parsers on several threads each take one of their own.
final class ParserScratch: @unchecked Sendable {  // Unchecked: used by one parse at a time, handed over through `pool`.
    let members = MoveStack<JSONMember>()
    let values = MoveStack<JSON>()
    let keys = KeyCache()

    private static let pool = Mutex<[ParserScratch]>([])
    /// Scratches kept beyond this many, or grown past `largest` elements by a big document, are freed.
    private static let kept = 16
    private static let largest = 4096

    /// A scratch for one parse: a kept one when there is one.
    static func take() -> ParserScratch {
        pool.withLock { $0.popLast() } ?? ParserScratch()
    }

    /// Gives the scratch back once the parse is over, its stacks emptied.
    static func give(_ scratch: ParserScratch) {
        scratch.members.removeAll()
        scratch.values.removeAll()
        guard scratch.members.capacity <= largest, scratch.values.capacity <= largest else { return }
        pool.withLock { kept in
            if kept.count < Self.kept { kept.append(scratch) }
        }
    }
}

/// The object keys a parser met lately, by their bytes: FHIR repeats a few dozen names (`system`,
/// `code`, `reference`) through every resource, and making each into a `String` again (checking the
/// UTF-8, packing a small string, allocating one of 16 bytes) was a tenth of parsing.
///
/// Keys up to 16 bytes, one per slot of a table of 256 chosen by a hash of the bytes; a key that
/// meets another in its slot takes the slot.
final class KeyCache {
    private struct Entry {
        var low: UInt64
        var high: UInt64
        var length: Int
        var key: String
    }

    private static let slots = 256
    private let entries: UnsafeMutablePointer<Entry>

    init() {
        entries = .allocate(capacity: Self.slots)
        entries.initialize(repeating: Entry(low: 0, high: 0, length: -1, key: ""), count: Self.slots)
    }

    deinit {
        entries.deinitialize(count: Self.slots)
        entries.deallocate()
    }

    /// The longest key kept.
    static let longest = 16

    /// The key whose (already validated) UTF-8 is `buffer[start..<end]`, at most `longest` bytes.
    @inline(__always)
    func key(_ buffer: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int) -> String {
        let length = end - start
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
        let slot = Int(truncatingIfNeeded: (((low ^ high &* 31) &+ UInt64(length)) &* 0x9E37_79B9_7F4A_7C15) >> 56)
        let entry = entries + slot
        if entry.pointee.low == low && entry.pointee.high == high && entry.pointee.length == length {
            return entry.pointee.key
        }
        let key = String(decoding: UnsafeBufferPointer(rebasing: buffer[start..<end]), as: UTF8.self)
        entry.pointee = Entry(low: low, high: high, length: length, key: key)
        return key
    }

    /// The low `count` bytes of a word (`count` at most 8).
    @inline(__always)
    private static func mask(_ count: Int) -> UInt64 {
        count == 0 ? 0 : UInt64.max >> (64 - count * 8)
    }
}
