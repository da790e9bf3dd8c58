import Foundation
import Mapping

/// The decision log: one CSV line per linked pair with its ids, where each record was read, the
/// grade, probability and weight, the deterministic rule if one decided, and every field's level and
/// share of the weight; and the model's parameters as JSON.
public enum LinkOutput {
    public static func csv(_ outcome: Matcher.Outcome, records: LinkRecords) -> String {
        var header = ["id_l", "id_r", "grade", "probability", "match_weight", "rule", "action", "source_l", "source_r"]
        for field in records.fields { header += ["\(field.column)_level", "\(field.column)_weight"] }
        var lines = [header.joined(separator: ",")]
        lines.reserveCapacity(outcome.pairs.count + 1)
        for pair in outcome.pairs {
            var cells = [
                records.ids[pair.left], records.ids[pair.right], pair.grade.rawValue,
                String(format: "%.6f", pair.probability),
                String(format: "%.3f", pair.weight), pair.rule ?? "",
                pair.grade == .certain ? "propose merge" : "review", records.origins[pair.left],
                records.origins[pair.right],
            ]
            for (field, definition) in records.fields.enumerated() {
                cells += [definition.levels[Int(pair.levels[field])], String(format: "%.3f", pair.partials[field])]
            }
            lines.append(cells.map { CSVWriter.field($0) }.joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    public static func modelJSON(_ outcome: Matcher.Outcome) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(outcome.model)
    }
}

/// Precision, recall and F1 of linked pairs against known true pairs (by id, either order).
public struct LinkEvaluation: Sendable, Hashable, Codable {
    public var truePositives: Int
    public var falsePositives: Int
    public var falseNegatives: Int

    public var precision: Double { Double(truePositives) / Double(max(1, truePositives + falsePositives)) }
    public var recall: Double { Double(truePositives) / Double(max(1, truePositives + falseNegatives)) }
    public var f1: Double { precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall) }

    /// Pairs of the grade `at` or better count as links.
    public init(_ outcome: Matcher.Outcome, records: LinkRecords, truth: Set<Pair>, at grade: MatchGrade = .possible) {
        let predicted = Set(
            outcome.pairs.filter { $0.grade >= grade }.map { Pair(records.ids[$0.left], records.ids[$0.right]) })
        truePositives = predicted.intersection(truth).count
        falsePositives = predicted.count - truePositives
        falseNegatives = truth.count - truePositives
    }

    /// Two ids in a fixed order.
    public struct Pair: Sendable, Hashable, Codable {
        public var first: String
        public var second: String

        public init(_ a: String, _ b: String) {
            (first, second) = a < b ? (a, b) : (b, a)
        }
    }

    /// True pairs from a CSV file whose first two columns are the ids (a header row first).
    public static func truth(csv path: String) throws -> Set<Pair> {
        guard let data = FileManager.default.contents(atPath: path) else { throw LinkError("\(path): cannot be read") }
        var reader = CSVReader(bytes: [UInt8](data), file: path)
        _ = try reader.next()
        var pairs = Set<Pair>()
        while let record = try reader.next() {
            guard record.fields.count >= 2 else { throw LinkError("\(path):\(record.line): fewer than two ids") }
            pairs.insert(Pair(record.fields[0], record.fields[1]))
        }
        return pairs
    }
}
