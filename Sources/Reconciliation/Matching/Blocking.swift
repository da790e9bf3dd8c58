import FHIR

/// A blocking rule: only records that agree on its key are compared. A key is one or more fields,
/// each whole or its first characters: `surname`, `given_name:3+date_of_birth`.
public struct BlockingRule: Sendable, Hashable, Codable, CustomStringConvertible {
    public struct Part: Sendable, Hashable, Codable {
        public var column: String
        /// Only the first characters, when set.
        public var prefix: Int?
    }

    public var parts: [Part]

    public init(parsing text: String) throws {
        parts = try text.split(separator: "+").map { piece in
            let bits = piece.split(separator: ":")
            guard (1...2).contains(bits.count), !bits[0].isEmpty else {
                throw LinkError("'\(text)' is not a blocking rule (COLUMN[:PREFIX]+COLUMN…)")
            }
            let prefix = bits.count == 2 ? Int(bits[1]) : nil
            if bits.count == 2 && (prefix ?? 0) < 1 {
                throw LinkError("'\(bits[1])' in '\(text)' is not a prefix length")
            }
            return Part(column: String(bits[0]), prefix: prefix)
        }
        guard !parts.isEmpty else { throw LinkError("an empty blocking rule") }
    }

    /// Whole columns, none of them cut to a prefix.
    public init(columns: [String]) {
        parts = columns.map { Part(column: $0, prefix: nil) }
    }

    public var description: String {
        parts.map { $0.column + ($0.prefix.map { ":\($0)" } ?? "") }.joined(separator: "+")
    }

    /// Each record's key as a 64-bit hash (FNV-1a over the parts); 0 when a part is missing, so the
    /// record is not blocked by this rule. Two records share a block when their keys are equal (a
    /// hash collision only adds a pair to compare; the comparison decides).
    func keys(_ records: LinkRecords) throws -> [UInt64] {
        let columns = try parts.map { part -> (PackedColumn, Int?) in
            guard let index = records.fields.firstIndex(where: { $0.column == part.column }) else {
                throw LinkError("the blocking rule \(self) names '\(part.column)', which is not among the fields")
            }
            return (records.columns[index], part.prefix)
        }
        var keys = [UInt64](repeating: 0, count: records.count)
        for record in 0..<records.count {
            var hash = FNV1a()
            var missing = false
            for (column, prefix) in columns {
                let range = column.range(record)
                if range.isEmpty {
                    missing = true
                    break
                }
                let end = prefix.map { min(range.upperBound, range.lowerBound + $0) } ?? range.upperBound
                for position in range.lowerBound..<end { hash.add(column.bytes[position]) }
                hash.add(0xFF)
            }
            keys[record] = missing ? 0 : max(1, hash.value)
        }
        return keys
    }
}

/// The candidate pairs of blocking rules, each pair once: a pair a rule finds is skipped when an
/// earlier rule found it already. Records are numbered across both inputs; for linking two inputs
/// only pairs across them count.
struct Blocking {
    var rules: [BlockingRule]
    /// A block larger than this is left out (a key as common as a blank is no key), and counted.
    var largestBlock: Int

    struct Outcome {
        var pairs: [(Int32, Int32)] = []
        /// Blocks left out as too large, by rule.
        var skipped: [String: Int] = [:]
        /// Each rule's key of every record (0: none).
        var keys: [[UInt64]] = []
    }

    /// `split`: the number of records of the first input when linking two (records below it are
    /// the left side); `nil` to deduplicate one.
    func pairs(_ records: LinkRecords, split: Int?) throws -> Outcome {
        var outcome = Outcome()
        var earlier: [[UInt64]] = []
        for rule in rules {
            let keys = try rule.keys(records)
            let order = (0..<records.count).filter { keys[$0] != 0 }.sorted { keys[$0] < keys[$1] }
            var start = 0
            while start < order.count {
                var end = start + 1
                while end < order.count && keys[order[end]] == keys[order[start]] { end += 1 }
                defer { start = end }
                let block = order[start..<end]
                guard block.count > 1 else { continue }
                if block.count > largestBlock {
                    outcome.skipped[rule.description, default: 0] += 1
                    continue
                }
                let members = block.sorted()
                for (offset, i) in members.enumerated() {
                    for j in members[(offset + 1)...] {
                        if let split, (i < split) == (j < split) { continue }
                        if earlier.contains(where: { $0[i] != 0 && $0[i] == $0[j] }) { continue }
                        outcome.pairs.append((Int32(i), Int32(j)))
                    }
                }
            }
            earlier.append(keys)
        }
        outcome.keys = earlier
        return outcome
    }
}
