/// A fixed set of names (a node's member names, the resource types) found by a string or by bytes:
/// an open-addressing table by a hash of a name's length, first and last bytes, so that a lookup
/// compares one or two names instead of scanning them all, and hashes nothing of the middle.
struct NameTable: Sendable {
    /// The names, in the order given; a lookup answers a position in here.
    let names: [String]
    /// A name's position in `names` in the low 32 bits and its UTF-8 length in the high ones (all
    /// ones for none), a power of two long: a probe reads both in one load.
    private let table: [UInt64]
    private static let empty = UInt64.max

    init(_ names: [String]) {
        self.names = names
        var size = 4
        while size < names.count * 2 { size *= 2 }
        var table = [UInt64](repeating: Self.empty, count: size)
        for (position, name) in names.enumerated() {
            let bytes = Array(name.utf8)
            var probe = Self.hash(bytes.count, bytes.first ?? 0, bytes.last ?? 0) & (size - 1)
            while table[probe] != Self.empty { probe = (probe + 1) & (size - 1) }
            table[probe] = UInt64(UInt32(position)) | UInt64(UInt32(bytes.count)) << 32
        }
        self.table = table
    }

    @inline(__always)
    private static func hash(_ length: Int, _ first: UInt8, _ last: UInt8) -> Int {
        (length &* 0x9E37 &+ Int(first) &* 0x2F1 &+ Int(last) &* 0x61) ^ (length >> 2)
    }

    /// The position of `name`.
    @inline(__always)
    func position(of name: String) -> Int? {
        let length = name.utf8.count
        guard length > 0 else { return nil }
        let ends =
            name.utf8.withContiguousStorageIfAvailable { ($0[0], $0[$0.count - 1]) }
            ?? (name.utf8.first ?? 0, name.utf8.last ?? 0)
        // `==` on strings: comparing a string's bytes would copy a small one out first.
        return probe(length, ends) { names[$0] == name }
    }

    /// The position of the name whose UTF-8 is `bytes`, without making a `String` of them.
    @inline(__always)
    func position(ofBytes bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        guard let first = bytes.first, let last = bytes.last else { return nil }
        return probe(bytes.count, (first, last)) { position in
            // The lengths are equal here.
            names[position].utf8.withContiguousStorageIfAvailable { name in
                for index in name.indices where name[index] != bytes[index] { return false }
                return true
            } ?? names[position].utf8.elementsEqual(bytes)
        }
    }

    /// The first position from the hash of `length` and `ends` on whose name `matches` agrees.
    @inline(__always)
    private func probe(_ length: Int, _ ends: (UInt8, UInt8), _ matches: (Int) -> Bool) -> Int? {
        table.withUnsafeBufferPointer { table in
            let mask = table.count - 1
            var probe = Self.hash(length, ends.0, ends.1) & mask
            while true {
                let entry = table[probe]
                if entry == Self.empty { return nil }
                if Int(entry >> 32) == length, matches(Int(truncatingIfNeeded: UInt32(truncatingIfNeeded: entry))) {
                    return Int(truncatingIfNeeded: UInt32(truncatingIfNeeded: entry))
                }
                probe = (probe + 1) & mask
            }
        }
    }
}
