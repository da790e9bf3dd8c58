import Foundation

/// The Fellegi–Sunter model: for each field and comparison level, the chance of that level among
/// true matches (m) and among non-matches (u), and the share of matches among the compared pairs
/// (λ); estimated by expectation–maximization from the pairs' comparison levels alone, no labels.
public struct FellegiSunterModel: Sendable, Codable, Hashable {
    public var fields: [LinkField]
    /// `m[field][level]`; level 0 (a value missing) is not used.
    public var m: [[Double]]
    public var u: [[Double]]
    public var lambda: Double
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

    /// Estimates the model from comparison patterns (levels per field, with how many pairs have
    /// them), starting from `u` measured on random pairs.
    static func estimate(
        fields: [LinkField], patterns: [(levels: [UInt8], count: Int)], initialU: [[Double]],
        randomExactAgreement: [Double], maximumIterations: Int = 200
    ) -> FellegiSunterModel {
        let floor = 1e-6
        var m = fields.map { field -> [Double] in
            let count = field.levels.count
            var levels = [Double](repeating: 0, count: count)
            levels[1] = 0.9
            for level in 2..<count { levels[level] = 0.1 / Double(count - 2) }
            return levels
        }
        var u = initialU
        var lambda = 0.1
        var model = FellegiSunterModel(
            fields: fields, m: m, u: u, lambda: lambda, randomExactAgreement: randomExactAgreement)
        let total = Double(patterns.reduce(0) { $0 + $1.count })
        guard total > 0 else { return model }
        for iteration in 1...maximumIterations {
            var matchShare = 0.0
            var mCounts = fields.map { [Double](repeating: 0, count: $0.levels.count) }
            var uCounts = mCounts
            for pattern in patterns {
                var matchLikelihood = lambda
                var otherLikelihood = 1 - lambda
                for (field, level) in pattern.levels.enumerated() where level > 0 {
                    matchLikelihood *= m[field][Int(level)]
                    otherLikelihood *= u[field][Int(level)]
                }
                let posterior = matchLikelihood / (matchLikelihood + otherLikelihood)
                let count = Double(pattern.count)
                matchShare += posterior * count
                for (field, level) in pattern.levels.enumerated() where level > 0 {
                    mCounts[field][Int(level)] += posterior * count
                    uCounts[field][Int(level)] += (1 - posterior) * count
                }
            }
            let newLambda = min(max(matchShare / total, floor), 1 - floor)
            var change = abs(newLambda - lambda)
            lambda = newLambda
            for field in fields.indices {
                let newM = Self.normalized(mCounts[field], floor: floor)
                let newU = Self.normalized(uCounts[field], floor: floor)
                for level in 1..<newM.count {
                    change = max(change, abs(newM[level] - m[field][level]), abs(newU[level] - u[field][level]))
                }
                m[field] = newM
                u[field] = newU
            }
            model.iterations = iteration
            if change < 1e-7 { break }
        }
        model.m = m
        model.u = u
        model.lambda = lambda
        return model
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
