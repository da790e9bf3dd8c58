/// SplitMix64: small, fast, and the same sequence on every platform for a seed (Swift's own
/// generators promise neither). The synthetic clinic draws from it, and so do reproducible samples
/// elsewhere (clinical review draws, the matcher's random pairs).
public struct SynthRandom: RandomNumberGenerator {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    /// A generator for one stream of a seed (a patient): streams do not depend on each other, so
    /// patient 500 is the same whether 1,000 or 1,000,000 are made.
    init(seed: UInt64, stream: UInt64) {
        var mixer = SynthRandom(seed: seed ^ (stream &* 0x9E37_79B9_7F4A_7C15))
        state = mixer.next()
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A whole number in `0..<bound`.
    public mutating func int(_ bound: Int) -> Int { Int(next() % UInt64(max(1, bound))) }

    mutating func int(in range: ClosedRange<Int>) -> Int { range.lowerBound + int(range.count) }

    /// A number in `0..<1`.
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }

    mutating func chance(_ probability: Double) -> Bool { unit() < probability }

    mutating func pick<T>(_ items: [T]) -> T { items[int(items.count)] }

    /// Roughly normal (sum of uniforms), mean 0, deviation 1.
    mutating func normal() -> Double { (0..<6).reduce(0) { sum, _ in sum + unit() } - 3 }

    mutating func digits(_ count: Int) -> String { String((0..<count).map { _ in Character(String(int(10))) }) }
}
