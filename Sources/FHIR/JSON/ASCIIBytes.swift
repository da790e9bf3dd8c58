/// Classes of ASCII bytes as 128-bit masks, one test a byte: the id format and the `Type/id` reference
/// check share one definition of what an id holds. The masks are literals, so reading one costs no
/// lazy initialisation; `ASCIIBytesTests` holds each to the predicate it stands for.
package struct ASCIIBytes: Sendable {
    /// Bit `b` for byte `b` below 64.
    let low: UInt64
    /// Bit `b - 64` for byte `b` from 64 to 127.
    let high: UInt64

    /// `A-Z`, `a-z`.
    package static let letters = ASCIIBytes(low: 0, high: 0x07FF_FFFE_07FF_FFFE)
    /// What a FHIR id may hold: letters, digits, `-` and `.`.
    package static let idBytes = ASCIIBytes(low: 0x03FF_6000_0000_0000, high: 0x07FF_FFFE_07FF_FFFE)

    /// Whether `byte` is in the class (bytes from 0x80 never are).
    @inline(__always)
    package func contains(_ byte: UInt8) -> Bool {
        let word = byte < 64 ? low : high
        return byte < 0x80 && (word >> UInt64(byte & 63)) & 1 != 0
    }

    /// Whether every byte of `bytes` is in the class.
    @inline(__always)
    package func containsAll(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = bytes.baseAddress else { return true }
        var index = 0
        while index < bytes.count {
            guard contains(base[index]) else { return false }
            index &+= 1
        }
        return true
    }
}
