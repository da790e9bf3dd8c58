/// String comparisons for record linkage, on bytes (values are normalized to lower-case ASCII or
/// UTF-8 before they are compared).
public enum StringSimilarity {
    /// Jaro–Winkler similarity in 0...1 (prefix scale 0.1, up to four characters of common prefix).
    public static func jaroWinkler(_ a: [UInt8], _ b: [UInt8]) -> Double {
        a.withUnsafeBufferPointer { a in b.withUnsafeBufferPointer { b in jaroWinkler(a, b) } }
    }

    public static func jaroWinkler(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Double {
        let jaro = jaro(a, b)
        guard jaro > 0.7 else { return jaro }
        var prefix = 0
        while prefix < min(4, a.count, b.count) && a[prefix] == b[prefix] { prefix += 1 }
        return jaro + Double(prefix) * 0.1 * (1 - jaro)
    }

    public static func jaro(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Double {
        if a.isEmpty && b.isEmpty { return 1 }
        if a.isEmpty || b.isEmpty { return 0 }
        if a.elementsEqual(b) { return 1 }
        let window = max(0, max(a.count, b.count) / 2 - 1)
        // Matched flags on the stack for short values (names), on the heap beyond.
        return withUnsafeTemporaryAllocation(of: Bool.self, capacity: a.count + b.count) { flags in
            flags.initialize(repeating: false)
            var matches = 0
            for i in 0..<a.count {
                let low = max(0, i - window)
                let high = min(b.count - 1, i + window)
                guard low <= high else { continue }
                for j in low...high where !flags[a.count + j] && a[i] == b[j] {
                    flags[i] = true
                    flags[a.count + j] = true
                    matches += 1
                    break
                }
            }
            guard matches > 0 else { return 0 }
            var transpositions = 0
            var k = 0
            for i in 0..<a.count where flags[i] {
                while !flags[a.count + k] { k += 1 }
                if a[i] != b[k] { transpositions += 1 }
                k += 1
            }
            let m = Double(matches)
            return (m / Double(a.count) + m / Double(b.count) + (m - Double(transpositions / 2)) / m) / 3
        }
    }

    /// Whether two values are at most one edit apart: one substitution, insertion, deletion, or a
    /// transposition of two neighbours (Damerau–Levenshtein distance ≤ 1).
    public static func withinOneEdit(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        a.withUnsafeBufferPointer { a in b.withUnsafeBufferPointer { b in withinOneEdit(a, b) } }
    }

    public static func withinOneEdit(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Bool {
        if a.elementsEqual(b) { return true }
        if abs(a.count - b.count) > 1 { return false }
        var i = 0
        while i < min(a.count, b.count) && a[i] == b[i] { i += 1 }
        if a.count == b.count {
            // One substitution, or two neighbours swapped.
            if a[(i + 1)...].elementsEqual(b[(i + 1)...]) { return true }
            return i + 1 < a.count && a[i] == b[i + 1] && a[i + 1] == b[i]
                && a[(i + 2)...].elementsEqual(b[(i + 2)...])
        }
        let (long, short) = a.count > b.count ? (a, b) : (b, a)
        return long[(i + 1)...].elementsEqual(short[i...])
    }
}
