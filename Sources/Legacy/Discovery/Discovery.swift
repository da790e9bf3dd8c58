import Foundation
import Mapping

/// One table as discovery saw it.
public struct TableProfile: Sendable, Codable, Hashable {
    public var name: String
    public var rows: Int
    /// Records the source could not read (ragged CSV lines).
    public var unreadable: Int
    public var columns: [ColumnProfile]
    public var primaryKey: [String]
    /// `declared` or `inferred (unique, no nulls)`.
    public var primaryKeyOrigin: String
    public var foreignKeys: [InferredForeignKey]
}

public struct InferredForeignKey: Sendable, Codable, Hashable {
    public var column: String
    public var table: String
    public var referencedColumn: String
    /// `declared`, or how it was inferred.
    public var origin: String
}

/// The inventory of a legacy source: every table profiled, keys declared or inferred, every
/// column classified for PHI; HL7 v2 feeds summarised by ``FeedDiscovery``.
public struct Discovery: Sendable, Codable, Hashable {
    public var source: String
    public var tables: [TableProfile]
    public var feed: FeedProfile?

    public init(source: String, tables: [TableProfile], feed: FeedProfile?) {
        self.source = source
        self.tables = tables
        self.feed = feed
    }

    /// Profiles every table of a source, streaming each once.
    public static func run(source: any LegacySource, batchSize: Int = 1000) async throws -> Discovery {
        let classifier = PHIClassifier()
        var profiles: [TableProfile] = []
        var keyValues: [String: (column: String, values: Set<String>)] = [:]
        var samples: [String: [String: [String]]] = [:]
        for table in try await source.tables() {
            var profilers = table.columns.map { ColumnProfiler(name: $0.name, declaredType: $0.declaredType) }
            var unreadable = 0
            try await source.scan(table: table.name, batchSize: batchSize) { records in
                for record in records {
                    guard case .row(let row) = record else {
                        unreadable += 1
                        continue
                    }
                    for index in profilers.indices {
                        profilers[index].add(index < row.values.count ? row.values[index] : .null)
                    }
                }
            }
            let columns = profilers.map { $0.profile(classifier: classifier, table: table.name) }
            var primaryKey = table.primaryKey
            var origin = "declared"
            if primaryKey.isEmpty {
                origin = "inferred (unique, no nulls)"
                let unique = profilers.filter {
                    $0.exact != nil && $0.values == $0.rows && $0.exact!.count == $0.rows && $0.rows > 0
                }
                let preferred = unique.first {
                    ["id", "pid"].contains($0.name.lowercased()) || $0.name.lowercased().hasSuffix("_id")
                }
                if let key = preferred ?? unique.first { primaryKey = [key.name] }
            }
            if primaryKey.count == 1, let profiler = profilers.first(where: { $0.name == primaryKey[0] }),
                let values = profiler.exact
            {
                keyValues[table.name] = (primaryKey[0], values)
            }
            samples[table.name] = Dictionary(
                profilers.map { ($0.name, $0.exact.map { Array($0.prefix(5000)) } ?? []) },
                uniquingKeysWith: { a, _ in a })
            profiles.append(
                TableProfile(
                    name: table.name, rows: profilers.first?.rows ?? 0, unreadable: unreadable, columns: columns,
                    primaryKey: primaryKey, primaryKeyOrigin: primaryKey.isEmpty ? "none found" : origin,
                    foreignKeys: table.foreignKeys.map {
                        InferredForeignKey(
                            column: $0.column, table: $0.table, referencedColumn: $0.referencedColumn,
                            origin: "declared")
                    }))
        }
        // Foreign keys nobody declared: a column named after another table whose values all appear
        // among that table's key values.
        for index in profiles.indices where profiles[index].foreignKeys.isEmpty {
            for column in profiles[index].columns {
                guard !profiles[index].primaryKey.contains(column.name),
                    let values = samples[profiles[index].name]?[column.name], !values.isEmpty
                else { continue }
                let stem = PHIClassifier.words(column.name).filter { $0 != "id" && $0 != "fk" }.joined(separator: "_")
                for (target, key) in keyValues where target != profiles[index].name {
                    // `patient_id` → patient_data, `drug_id` → drugs, `pid` → the table keyed by pid.
                    var table = target.lowercased()
                    if table.hasSuffix("s") { table.removeLast() }
                    let named =
                        column.name == key.column
                        || (!stem.isEmpty
                            && (stem == table || table.hasPrefix(stem + "_") || table.hasSuffix("_" + stem)))
                    guard named else { continue }
                    guard values.allSatisfy(key.values.contains) else { continue }
                    profiles[index].foreignKeys.append(
                        InferredForeignKey(
                            column: column.name, table: target, referencedColumn: key.column,
                            origin: "inferred: name matches, all \(values.count) distinct values found"))
                }
            }
        }
        return Discovery(source: source.system, tables: profiles, feed: nil)
    }

    /// Every column's class: `table.column` → class.
    public var classes: [String: PHIClass] {
        var result: [String: PHIClass] = [:]
        for table in tables {
            for column in table.columns { result["\(table.name).\(column.name)"] = column.phi }
        }
        return result
    }
}
