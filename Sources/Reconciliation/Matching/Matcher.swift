import Foundation
import Legacy

/// How sure a link is, in the grades of FHIR's `Patient/$match`.
public enum MatchGrade: String, Sendable, Hashable, Codable, Comparable {
    case possible, probable, certain

    var rank: Int { self == .possible ? 0 : self == .probable ? 1 : 2 }
    public static func < (a: MatchGrade, b: MatchGrade) -> Bool { a.rank < b.rank }
}

/// A deterministic rule: records that agree exactly on every one of its fields (all present) are the
/// same person, certainly (`soc_sec_id`, `mrn+date_of_birth`).
public struct DeterministicRule: Sendable, Hashable, Codable, CustomStringConvertible {
    public var columns: [String]

    public init(parsing text: String) throws {
        columns = text.split(separator: "+").map(String.init)
        guard !columns.isEmpty, !columns.contains(where: \.isEmpty) else {
            throw LinkError("'\(text)' is not a deterministic rule (COLUMN+COLUMN…)")
        }
    }

    public init(columns: [String]) { self.columns = columns }

    public var description: String { columns.joined(separator: "+") }
}

/// A pair the matcher links, with what decided it.
public struct MatchPair: Sendable, Hashable {
    /// Record numbers (for linking, the right record's number counts from the end of the left input).
    public var left: Int
    public var right: Int
    /// The Fellegi–Sunter match weight (log₂ odds), term-frequency adjustments included.
    public var weight: Double
    public var probability: Double
    public var grade: MatchGrade
    /// The deterministic rule that made it certain, if one did.
    public var rule: String?
    /// The comparison level of each field.
    public var levels: [UInt8]
    /// Each field's share of the weight.
    public var partials: [Double]
}

/// Finds the records that are the same person: candidate pairs from blocking rules; deterministic
/// rules first (agreement on them is certain); then every pair weighed by a Fellegi–Sunter model whose
/// m and u are estimated by EM. Grades: certain (a rule, or probability ≥ 0.999), probable (≥ 0.95),
/// possible (≥ 0.5). Nothing is merged by the matcher: only "certain" pairs are proposed for a merge,
/// the others for review.
public struct Matcher: Sendable {
    public var fields: [LinkField]
    public var blocking: [BlockingRule]
    public var rules: [DeterministicRule]
    /// Blocks larger than this are left out (and reported).
    public var largestBlock = 5_000
    /// Random pairs measured for the starting u.
    public var randomPairs = 200_000
    public var seed: UInt64 = 1

    public static let thresholds: [(MatchGrade, Double)] = [(.certain, 0.999), (.probable, 0.95), (.possible, 0.5)]

    public init(fields: [LinkField], blocking: [BlockingRule], rules: [DeterministicRule] = []) {
        self.fields = fields
        self.blocking = blocking
        self.rules = rules
    }

    /// What a run found and how.
    public struct Outcome: Sendable {
        public var model: FellegiSunterModel
        /// Pairs graded possible or better, highest weight first.
        public var pairs: [MatchPair]
        /// Pairs compared.
        public var candidates: Int
        /// Blocks left out as too large, by rule.
        public var skippedBlocks: [String: Int]
    }

    /// Deduplicates `records` (`split == nil`) or links the records before `split` to those from it on.
    public func run(_ records: LinkRecords, split: Int? = nil) throws -> Outcome {
        guard (1...16).contains(fields.count) else {
            throw LinkError("compare between 1 and 16 fields, not \(fields.count)")
        }
        let ruleColumns = try rules.map { rule in
            try rule.columns.map { column -> Int in
                guard let index = fields.firstIndex(where: { $0.column == column }) else {
                    throw LinkError("the rule \(rule) names '\(column)', which is not among the fields")
                }
                return index
            }
        }
        // A deterministic rule is a blocking rule too, so its pairs are always compared.
        let allRules = try rules.map { try BlockingRule(parsing: $0.description) } + blocking
        let blocked = try Blocking(rules: allRules, largestBlock: largestBlock).pairs(records, split: split)
        let pairs = blocked.pairs
        let levels = compare(records, pairs)
        let stride = fields.count
        // Every pair's pattern (four bits a field), and each rule's pairs' patterns for its EM session.
        func key(_ index: Int) -> UInt64 {
            var key: UInt64 = 0
            for field in 0..<stride { key = key << 4 | UInt64(levels[index * stride + field]) }
            return key
        }
        func pattern(_ key: UInt64) -> [UInt8] {
            (0..<stride).map { UInt8((key >> (4 * UInt64(stride - 1 - $0))) & 0xF) }
        }
        var all: [UInt64: Int] = [:]
        var perRule = [[UInt64: Int]](repeating: [:], count: allRules.count)
        for (index, pair) in pairs.enumerated() {
            let pattern = key(index)
            all[pattern, default: 0] += 1
            for (rule, keys) in blocked.keys.enumerated() {
                let key = keys[Int(pair.0)]
                if key != 0 && key == keys[Int(pair.1)] { perRule[rule][pattern, default: 0] += 1 }
            }
        }
        let sessions = allRules.enumerated().map { rule, blocking in
            (
                patterns: perRule[rule].map { (levels: pattern($0.key), count: $0.value) },
                excluded: Set(blocking.parts.compactMap { part in fields.firstIndex { $0.column == part.column } })
            )
        }
        let frequencies = termFrequencies(records)
        let model = FellegiSunterModel.estimate(
            fields: fields, sessions: sessions, all: all.map { (levels: pattern($0.key), count: $0.value) },
            u: randomU(records, split: split), allPairs: Self.allPairs(records.count, split: split),
            randomExactAgreement: frequencies.map { $0.agreement })
        // Weights by field and level, looked up per pair; a pair's arrays are made only when it is kept.
        let table = fields.indices.map { field in
            fields[field].levels.indices.map { model.weight(field: field, level: $0) }
        }
        var linked: [MatchPair] = []
        for (index, pair) in pairs.enumerated() {
            var weight = model.priorWeight
            for field in 0..<stride {
                let level = Int(levels[index * stride + field])
                weight += table[field][level]
                if level == 1, fields[field].termFrequency {
                    weight += model.termFrequencyAdjustment(
                        field: field, frequency: frequencies[field].perRecord[Int(pair.0)])
                }
            }
            let probability = 1 / (1 + exp2(-weight))
            let rule = rules.indices.first { rule in
                ruleColumns[rule].allSatisfy { levels[index * stride + $0] == 1 }
            }.map { rules[$0].description }
            let grade: MatchGrade? =
                rule != nil ? .certain : Self.thresholds.first { probability >= $0.1 }.map(\.0)
            guard let grade else { continue }
            let kept = Array(levels[(index * stride)..<((index + 1) * stride)])
            let partials = (0..<stride).map { field -> Double in
                let level = Int(kept[field])
                var partial = table[field][level]
                if level == 1, fields[field].termFrequency {
                    partial += model.termFrequencyAdjustment(
                        field: field, frequency: frequencies[field].perRecord[Int(pair.0)])
                }
                return partial
            }
            linked.append(
                MatchPair(
                    left: Int(pair.0), right: Int(pair.1), weight: weight, probability: probability, grade: grade,
                    rule: rule, levels: kept, partials: partials))
        }
        linked.sort { $0.weight > $1.weight }
        return Outcome(model: model, pairs: linked, candidates: pairs.count, skippedBlocks: blocked.skipped)
    }

    /// One EM session on given pairs with u given (for tests of the estimation alone): m, and the
    /// matches it found.
    public func estimateForTesting(
        _ records: LinkRecords, pairs: [(Int32, Int32)], u: [[Double]]
    ) -> (
        m: [[Double]], matches: Double
    ) {
        let levels = compare(records, pairs)
        var histogram: [[UInt8]: Int] = [:]
        for index in pairs.indices {
            histogram[Array(levels[(index * fields.count)..<((index + 1) * fields.count)]), default: 0] += 1
        }
        let session = FellegiSunterModel.emSession(
            fields: fields, patterns: histogram.map { (levels: $0.key, count: $0.value) }, excluded: [], u: u)
        return (session.m, session.matches)
    }

    /// The level names of given pairs (for tests of the comparisons).
    public func levelsForTesting(_ records: LinkRecords, _ pairs: [(Int32, Int32)]) -> [[String]] {
        let levels = compare(records, pairs)
        return pairs.indices.map { index in
            fields.indices.map { fields[$0].levels[Int(levels[index * fields.count + $0])] }
        }
    }

    /// How many pairs there are in all: every two records, or every left record with every right one.
    static func allPairs(_ count: Int, split: Int?) -> Double {
        if let split { return Double(split) * Double(count - split) }
        return Double(count) * Double(count - 1) / 2
    }

    /// The comparison levels of every pair, `fields.count` per pair, computed on every core.
    func compare(_ records: LinkRecords, _ pairs: [(Int32, Int32)]) -> [UInt8] {
        let stride = fields.count
        var levels = [UInt8](repeating: 0, count: pairs.count * stride)
        let chunks = max(1, min(ProcessInfo.processInfo.activeProcessorCount * 4, pairs.count / 1000))
        let fields = self.fields
        let nameFields = fields.indices.filter { fields[$0].kind == .name }
        let swappable = nameFields.count >= 2 ? (nameFields[0], nameFields[1]) : nil
        let different = UInt8(LinkField(column: "", kind: .name).levels.count - 1)
        levels.withUnsafeMutableBufferPointer { output in
            let output = UnsafeMutableSendableBuffer(output)
            PackedColumn.withValues(records.columns[...]) { columns in
                DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                    let start = pairs.count * chunk / chunks
                    let end = pairs.count * (chunk + 1) / chunks
                    for index in start..<end {
                        let (i, j) = (Int(pairs[index].0), Int(pairs[index].1))
                        for field in 0..<stride {
                            output.buffer[index * stride + field] = UInt8(
                                fields[field].level(columns.value(field, i), columns.value(field, j)))
                        }
                        // Given and family name the other way round: a common slip at registration.
                        if let (first, second) = swappable, output.buffer[index * stride + first] == different,
                            output.buffer[index * stride + second] == different
                        {
                            let forward = Self.alike(columns.value(first, i), columns.value(second, j))
                            let backward = Self.alike(columns.value(second, i), columns.value(first, j))
                            if forward && backward {
                                output.buffer[index * stride + first] = UInt8(LinkField.swappedLevel)
                                output.buffer[index * stride + second] = UInt8(LinkField.swappedLevel)
                            } else if forward || backward {
                                output.buffer[index * stride + first] = UInt8(LinkField.crossedLevel)
                            }
                        }
                    }
                }
            }
        }
        return levels
    }

    /// Whether one name is another, or nearly (Jaro–Winkler ≥ 0.92).
    static func alike(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Bool {
        !a.isEmpty && !b.isEmpty && StringSimilarity.jaroWinkler(a, b) >= 0.92
    }

    /// u measured on random pairs (nearly all non-matches).
    func randomU(_ records: LinkRecords, split: Int?) -> [[Double]] {
        var counts = fields.map { [Double](repeating: 1, count: $0.levels.count) }
        guard records.count > 1 else { return counts.map { FellegiSunterModel.normalized($0, floor: 1e-6) } }
        var random = SynthRandom(seed: seed)
        func next(_ bound: Int) -> Int { random.int(bound) }
        var pairs: [(Int32, Int32)] = []
        pairs.reserveCapacity(randomPairs)
        for _ in 0..<randomPairs {
            if let split, split > 0, split < records.count {
                pairs.append((Int32(next(split)), Int32(split + next(records.count - split))))
            } else {
                let (i, j) = (next(records.count), next(records.count))
                if i != j { pairs.append((Int32(i), Int32(j))) }
            }
        }
        // The same comparison as the candidates get (swapped and crossed names included).
        let levels = compare(records, pairs)
        for index in pairs.indices {
            for field in fields.indices {
                let level = Int(levels[index * fields.count + field])
                if level > 0 { counts[field][level] += 1 }
            }
        }
        return counts.map { FellegiSunterModel.normalized($0, floor: 1e-6) }
    }

    /// Per field, each record's value frequency and the chance two random records agree exactly.
    func termFrequencies(_ records: LinkRecords) -> [(perRecord: [Double], agreement: Double)] {
        fields.indices.map { field in
            guard fields[field].termFrequency else { return ([], 0) }
            let column = records.columns[field]
            var counts: [ArraySlice<UInt8>: Int] = [:]
            var present = 0
            for record in 0..<records.count where !column.isEmpty(record) {
                counts[column.bytes[column.range(record)], default: 0] += 1
                present += 1
            }
            guard present > 0 else { return ([Double](repeating: 0, count: records.count), 0) }
            let total = Double(present)
            let perRecord = (0..<records.count).map { record in
                column.isEmpty(record) ? 0 : Double(counts[column.bytes[column.range(record)]]!) / total
            }
            let agreement = counts.values.reduce(0.0) { $0 + (Double($1) / total) * (Double($1) / total) }
            return (perRecord, agreement)
        }
    }
}

/// A buffer shared by the tasks that each write their own part of it.
struct UnsafeMutableSendableBuffer<Element>: @unchecked Sendable {
    let buffer: UnsafeMutableBufferPointer<Element>
    init(_ buffer: UnsafeMutableBufferPointer<Element>) { self.buffer = buffer }
}
