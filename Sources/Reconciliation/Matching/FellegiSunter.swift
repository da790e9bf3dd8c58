import Foundation

/// The Fellegi–Sunter model: for each field and comparison level, the chance of that level among
/// true matches (m) and among non-matches (u), and the share of matches among all pairs (λ).
///
/// u is measured on random pairs (nearly all non-matches). m is estimated by expectation–maximization
/// from the compared pairs' levels alone, no labels, in one session per blocking rule: the pairs a
/// rule finds all agree on its fields, so those fields say nothing there and are left out of that
/// session (blocking on surname, EM learns how matches compare on everything but surname); each field's
/// m is the average of the sessions that estimated it, weighed by the matches each found. λ is then
/// the expected number of matches among the compared pairs over every pair there is (pairs no rule
/// found count as non-matches). A pair's weight is log₂(λ/(1−λ)) + Σ log₂(m/u).
public struct FellegiSunterModel: Sendable, Codable, Hashable {
    public var fields: [LinkField]
    /// `m[field][level]`; level 0 (a value missing) is not used.
    public var m: [[Double]]
    /// u among random pairs.
    public var u: [[Double]]
    /// The share of matches among all pairs.
    public var lambda: Double
    /// EM iterations, all sessions together.
    public var iterations = 0
    /// Per field, the chance that two random records agree exactly (Σ f² over its values): the
    /// baseline a rare value's agreement is weighed against.
    public var randomExactAgreement: [Double]

    /// The weight (log₂ of the odds) before any field is compared.
    public var priorWeight: Double { log2(lambda / (1 - lambda)) }

    /// A level's weight: log₂(m / u); nothing for a missing value.
    public func weight(field: Int, level: Int) -> Double {
        level == 0 ? 0 : log2(m[field][level] / u[field][level])
    }

    /// The term-frequency adjustment of an exact agreement on a value with frequency `frequency`.
    public func termFrequencyAdjustment(field: Int, frequency: Double) -> Double {
        guard fields[field].termFrequency, frequency > 0, randomExactAgreement[field] > 0 else { return 0 }
        return log2(randomExactAgreement[field] / frequency)
    }

    /// Comparison patterns (levels per field) with how many pairs have them.
    typealias Patterns = [(levels: [UInt8], count: Int)]

    /// Estimates m by one EM session per set of patterns (with the fields it leaves out), then λ over
    /// `allPairs`, from the patterns of every compared pair.
    static func estimate(
        fields: [LinkField], sessions: [(patterns: Patterns, excluded: Set<Int>)], all: Patterns, u: [[Double]],
        allPairs: Double, randomExactAgreement: [Double]
    ) -> FellegiSunterModel {
        var model = FellegiSunterModel(
            fields: fields, m: fields.map { startingM($0) }, u: u, lambda: 1e-6,
            randomExactAgreement: randomExactAgreement)
        var sums = fields.map { [Double](repeating: 0, count: $0.levels.count) }
        var weights = [Double](repeating: 0, count: fields.count)
        for session in sessions {
            let (m, matches, iterations) = emSession(
                fields: fields, patterns: session.patterns, excluded: session.excluded, u: u)
            model.iterations += iterations
            guard matches > 0 else { continue }
            for field in fields.indices where !session.excluded.contains(field) {
                for level in sums[field].indices { sums[field][level] += m[field][level] * matches }
                weights[field] += matches
            }
        }
        for field in fields.indices where weights[field] > 0 {
            model.m[field] = normalized(sums[field], floor: 1e-6)
        }
        // λ: the share of matches among all pairs, by EM on λ alone over the compared pairs.
        let total = Double(all.reduce(0) { $0 + $1.count })
        guard total > 0 else { return model }
        var lambda = max(1e-9, min(0.5, total / max(allPairs, total) * 0.1))
        let ratios = all.map { pattern -> Double in
            var ratio = 1.0
            for (field, level) in pattern.levels.enumerated() where level > 0 {
                ratio *= model.m[field][Int(level)] / u[field][Int(level)]
            }
            return ratio
        }
        for _ in 0..<100 {
            let odds = lambda / (1 - lambda)
            var expected = 0.0
            for (index, pattern) in all.enumerated() {
                let likelihood = odds * ratios[index]
                expected += Double(pattern.count) * likelihood / (1 + likelihood)
            }
            let next = min(max(expected / max(allPairs, total), 1e-12), 0.5)
            if abs(next - lambda) < lambda * 1e-6 { break }
            lambda = next
        }
        model.lambda = lambda
        return model
    }

    /// One EM session: m and the session's own λ, with u fixed and `excluded` fields left out.
    /// Returns m, the matches the session found, and its iterations.
    static func emSession(
        fields: [LinkField], patterns: Patterns, excluded: Set<Int>, u: [[Double]], maximumIterations: Int = 1000
    ) -> (m: [[Double]], matches: Double, iterations: Int) {
        var m = fields.map { startingM($0) }
        var lambda = 0.3
        let total = Double(patterns.reduce(0) { $0 + $1.count })
        guard total > 0 else { return (m, 0, 0) }
        var matches = 0.0
        for iteration in 1...maximumIterations {
            var counts = fields.map { [Double](repeating: 0, count: $0.levels.count) }
            matches = 0
            for pattern in patterns {
                var ratio = lambda / (1 - lambda)
                for (field, level) in pattern.levels.enumerated() where level > 0 && !excluded.contains(field) {
                    ratio *= m[field][Int(level)] / u[field][Int(level)]
                }
                let posterior = ratio.isInfinite ? 1 : ratio / (1 + ratio)
                let count = Double(pattern.count)
                matches += posterior * count
                for (field, level) in pattern.levels.enumerated() where level > 0 {
                    counts[field][Int(level)] += posterior * count
                }
            }
            let newLambda = min(max(matches / total, 1e-6), 1 - 1e-6)
            var change = abs(newLambda - lambda)
            lambda = newLambda
            for field in fields.indices where !excluded.contains(field) {
                let newM = normalized(counts[field], floor: 1e-6)
                for level in 1..<newM.count { change = max(change, abs(newM[level] - m[field][level])) }
                m[field] = newM
            }
            if change < 1e-7 { return (m, matches, iteration) }
        }
        return (m, matches, maximumIterations)
    }

    /// Where EM starts: matches mostly agree exactly.
    static func startingM(_ field: LinkField) -> [Double] {
        let count = field.levels.count
        var levels = [Double](repeating: 0, count: count)
        levels[1] = 0.9
        for level in 2..<count { levels[level] = 0.1 / Double(count - 2) }
        return levels
    }

    /// Proportions over levels 1…, each at least `floor` (level 0 kept at 0).
    static func normalized(_ counts: [Double], floor: Double) -> [Double] {
        let sum = counts.dropFirst().reduce(0, +)
        guard sum > 0 else {
            return [0] + [Double](repeating: 1 / Double(counts.count - 1), count: counts.count - 1)
        }
        var levels = [0.0] + counts.dropFirst().map { max($0 / sum, floor) }
        let total = levels.dropFirst().reduce(0, +)
        for level in 1..<levels.count { levels[level] /= total }
        return levels
    }
}
