import FHIR
import Foundation
import Legacy
import Mapping
import Store

/// Migrates a relational or CSV source into a FHIR store by a mapping spec: every row mapped to
/// validated resources with their Provenance, committed as one transaction Bundle per row, in
/// checkpointed batches.
///
/// - Partitions: a row goes to a partition by its mapping's `partition` column (the patient), or by
///   its key; each partition streams the source's tables in the spec's order and key order, so a
///   partition holds one batch in memory at a time, and its position (rows of that partition done)
///   is the same on every run.
/// - A subset (some resource types, some rows by a column's value) leaves the rest out under a named
///   rule, so a pilot or a phase by module or site still adds up.
public final class RelationalMigration: Sendable {
    /// Which part of the source a run takes: a phase by module (resource types) or by site (a
    /// column's values, such as `facility_id`), or by a time window on a column of each table.
    public struct Subset: Sendable, Hashable {
        /// Only rows whose mappings make one of these types; `nil` for all.
        public var resourceTypes: Set<String>?
        /// Only rows whose `column` (in tables that have it) is one of `values`.
        public var column: String?
        public var values: Set<String>
        /// Only rows whose `timeColumn` (in tables that have it; any of the spec's date formats)
        /// falls in `from...to` (dates as `YYYY-MM-DD`, either end open).
        public var timeColumn: String?
        public var from: String?
        public var to: String?

        public init(
            resourceTypes: Set<String>? = nil, column: String? = nil, values: Set<String> = [],
            timeColumn: String? = nil,
            from: String? = nil, to: String? = nil
        ) {
            self.resourceTypes = resourceTypes
            self.column = column
            self.values = values
            self.timeColumn = timeColumn
            self.from = from
            self.to = to
        }

        /// The name rows outside the subset are counted under.
        public var rule: String {
            var parts: [String] = []
            if let types = resourceTypes { parts.append("resource types \(types.sorted().joined(separator: ", "))") }
            if let column { parts.append("\(column) in \(values.sorted().joined(separator: ", "))") }
            if let timeColumn { parts.append("\(timeColumn) from \(from ?? "the start") to \(to ?? "now")") }
            return "outside this phase (\(parts.joined(separator: "; ")))"
        }
    }

    let source: any LegacySource
    let mapper: SpecMapper
    let store: any FHIRStore
    let options: MigrationOptions
    let subset: Subset?

    public init(
        source: any LegacySource, mapper: SpecMapper, store: any FHIRStore, options: MigrationOptions,
        subset: Subset? = nil
    ) {
        self.mapper = mapper
        self.store = store
        self.options = options
        self.subset = subset
        self.source = MappingRun(source: source, mapper: mapper).source
    }

    var prefix: String { "rows-\(source.system)-" }

    /// Runs (or resumes) the migration.
    public func run(
        progress: @escaping @Sendable (MigrationProgress) -> Void = { _ in }
    ) async throws
        -> MigrationReport
    {
        let run = MappingRun(source: source, mapper: mapper, batchSize: options.batchSize)
        let units = Units(migration: self, lookups: try await run.lookups())
        return try await MigrationEngine(store: store, options: options).run(units, progress: progress)
    }

    /// Maps the run's dead letters from this source again (after a fix to the spec or the data).
    public func retryDeadLetters() async throws -> RetryReport {
        let run = MappingRun(source: source, mapper: mapper, batchSize: options.batchSize)
        let units = Units(migration: self, lookups: try await run.lookups())
        return try await MigrationEngine(store: store, options: options).retryDeadLetters(
            units, partitions: Set(try await units.partitionNames()))
    }

    struct Units: MigrationUnits {
        let migration: RelationalMigration
        let lookups: SpecMapper.Lookups

        var options: MigrationOptions { migration.options }

        func partitionNames() async throws -> [String] { (0..<options.partitions).map { migration.prefix + "\($0)" } }

        func total() async throws -> Int {
            let tables = Set(migration.mapper.tables)
            return try await migration.source.tables().filter { tables.contains($0.name) }.reduce(0) {
                $0 + $1.rowCount
            }
        }

        /// The share of a table's records that is partition `index`'s: by the mapping's `partition`
        /// column (the patient), or by the record's key.
        func filter(table: String, partition index: Int) -> RecordFilter {
            let column = migration.mapper.spec.mappings.first { $0.table == table }?.partition
            let partitions = UInt64(options.partitions)
            return RecordFilter(column: column) { Int(FNV1a.hash($0.utf8) % partitions) == index }
        }

        func batches(
            partition: Int, name: String, from start: Int, size: Int, _ body: ([Prepared]) async throws -> Void
        ) async throws {
            var seen = 0
            var pending: [Prepared] = []
            for table in migration.mapper.tables {
                let filter = filter(table: table, partition: partition)
                try await migration.source.scan(table: table, batchSize: max(size, 200), filter: filter) { records in
                    for record in records {
                        seen += 1
                        guard seen > start else { continue }
                        pending.append(prepare(record, partition: name))
                        if pending.count == size {
                            try await body(pending)
                            pending.removeAll(keepingCapacity: true)
                        }
                    }
                }
            }
            if !pending.isEmpty { try await body(pending) }
        }

        func prepare(_ record: LegacyRecord, partition: String) -> Prepared {
            var prepared = prepareUngrouped(record, partition: partition)
            switch record {
            case .row(let row): prepared.group = row.table
            case .unreadable(let bad): prepared.group = bad.table
            }
            return prepared
        }

        private func prepareUngrouped(_ record: LegacyRecord, partition: String) -> Prepared {
            switch record {
            case .unreadable(let bad):
                let content = JSON.object(
                    JSONObject([("table", .string(bad.table)), ("text", .string(bad.content))]))
                return .dead(bad.locator, JSONWriter().bytes(content), partition: partition, bad.reason)
            case .row(let row):
                let content: @Sendable () -> [UInt8] = {
                    JSONWriter().bytes(
                        .object(
                            JSONObject([
                                ("system", .string(row.system)), ("table", .string(row.table)),
                                ("key", .string(row.key)),
                                ("row", row.json),
                            ])))
                }
                if let rule = migration.outsideSubset(row) {
                    return Prepared(
                        locator: row.locator, content: content, bundle: nil, deadLetter: nil, filteredBy: rule)
                }
                let result = migration.mapper.map(row, lookups: lookups)
                switch result.outcome {
                case .mapped(let made):
                    return Prepared(
                        locator: row.locator, content: content, bundle: migration.mapper.bundle(made), deadLetter: nil,
                        filteredBy: nil, unmapped: result.unmapped)
                case .deadLettered(let reason):
                    var prepared = Prepared.dead(row.locator, content(), partition: partition, reason)
                    prepared.unmapped = result.unmapped
                    return prepared
                case .filtered(let rule):
                    return Prepared(
                        locator: row.locator, content: content, bundle: nil, deadLetter: nil, filteredBy: rule)
                }
            }
        }

        func prepare(retry letter: DeadLetter) -> Prepared {
            guard let json = try? JSON(parsing: letter.content), let table = json["table"]?.stringValue,
                case .object(let object)? = json["row"]
            else {
                return .dead(
                    letter.locator, letter.content, partition: letter.partition,
                    "the record could not be read from the source; correct the source and migrate again (\(letter.reason))"
                )
            }
            let columns = SourceColumns(object.map(\.key))
            let values = object.map { member -> SourceValue in
                switch member.value {
                case .null: .null
                case .number(let text): Int64(text).map { .integer($0) } ?? .real(Double(text) ?? 0)
                case .string(let text): .text(text)
                case .bool(let flag): .integer(flag ? 1 : 0)
                case .array, .object: .text(JSONWriter().string(member.value))
                }
            }
            let row = SourceRow(
                system: json["system"]?.stringValue ?? migration.source.system, table: table,
                key: json["key"]?.stringValue ?? "", columns: columns, values: values)
            return prepare(.row(row), partition: letter.partition)
        }
    }

    /// The rule a row falls under when it is outside the run's subset.
    func outsideSubset(_ row: SourceRow) -> String? {
        guard let subset else { return nil }
        if let types = subset.resourceTypes {
            let made = mapper.spec.mappings.filter { $0.table == row.table }.map(\.resource)
            if !made.contains(where: types.contains) { return subset.rule }
        }
        if let column = subset.column, let value = row[column] {
            if !subset.values.contains(value.text ?? "") { return subset.rule }
        }
        if let column = subset.timeColumn, let value = row[column]?.text {
            guard let day = Self.day(value) else { return subset.rule }
            if let from = subset.from, day < from { return subset.rule }
            if let to = subset.to, day > to { return subset.rule }
        }
        return nil
    }

    /// Formats a date column may be in, for the time window.
    static let dayFormats = [
        "yyyy-MM-dd", "yyyy-MM-dd HH:mm:ss", "MM/dd/yyyy", "MM/dd/yyyy hh:mm a", "yyyyMMdd", "dd-MMM-yyyy",
        "yyyy-MM-ddTHH:mm:ss",
    ].map(LocalTimeFormat.init)

    static func day(_ text: String) -> String? { dayFormats.lazy.compactMap { $0.parse(text) }.first?.dateText }
}
