/// FNV-1a, 64 bits: a hash that comes out the same in every process and run (Swift's `Hasher` is
/// seeded per process), for what must be shared out or keyed alike every time: migration partitions,
/// search-parameter keys, review samples, blocking keys.
public struct FNV1a: Sendable {
    public var value: UInt64 = 0xcbf2_9ce4_8422_2325

    @inlinable public init() {}

    @inlinable public mutating func add(_ byte: UInt8) {
        value = (value ^ UInt64(byte)) &* 0x100_0000_01b3
    }

    /// Over contiguous bytes when the sequence has them (a string's UTF-8 view stepped one index at
    /// a time cost three times as much).
    @inlinable public mutating func add(_ bytes: some Sequence<UInt8>) {
        let added: Void? = bytes.withContiguousStorageIfAvailable { buffer in
            var value = self.value
            for byte in buffer { value = (value ^ UInt64(byte)) &* 0x100_0000_01b3 }
            self.value = value
        }
        if added == nil { for byte in bytes { add(byte) } }
    }

    /// The hash of `bytes`.
    @inlinable public static func hash(_ bytes: some Sequence<UInt8>) -> UInt64 {
        var hash = FNV1a()
        hash.add(bytes)
        return hash.value
    }
}
