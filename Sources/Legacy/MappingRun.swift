import FHIR
import Mapping

/// Streams a legacy source through a mapping spec, table by table, a batch at a time, and keeps
/// the accounts: per table, every record read is mapped, dead-lettered (with the reason and its
/// locator), or filtered by a named rule.
public struct MappingRun: Sendable {
    public let source: any LegacySource
    public let mapper: SpecMapper
    public var batchSize: Int

    public init(source: any LegacySource, mapper: SpecMapper, batchSize: Int = 500) {
        // CSV rows are keyed by the spec's key columns, so ids and locators name the record, not its line.
        if let csv = source as? CSVSource {
            var keys: [String: [String]] = [:]
            for mapping in mapper.spec.mappings where keys[mapping.table] == nil { keys[mapping.table] = mapping.key }
            self.source = (try? csv.keyed(by: keys)) ?? csv
        } else {
            self.source = source
        }
        self.mapper = mapper
        self.batchSize = max(1, batchSize)
    }

    /// One table's accounts. `read == mapped + deadLettered + filtered.values.sum()`.
    public struct TableReport: Sendable, Codable, Hashable {
        public var read = 0
        public var mapped = 0
        public var deadLettered = 0
        public var filtered: [String: Int] = [:]

        public var addsUp: Bool { read == mapped + deadLettered + filtered.values.reduce(0, +) }

        public init() {}
    }

    public struct Report: Sendable, Codable, Hashable {
        public var tables: [String: TableReport] = [:]
        /// Resources made, per type (Provenance included).
        public var resources: [String: Int] = [:]
        /// Codes no value map or ConceptMap had: `map|code` → times.
        public var unmapped: [String: Int] = [:]
        public var specName = ""
        public var specVersion = ""

        public var addsUp: Bool { tables.values.allSatisfy(\.addsUp) }

        public init() {}

        mutating func add(_ record: LegacyRecord, _ result: SpecMapper.RowResult) {
            let table: String
            switch record {
            case .row(let row): table = row.table
            case .unreadable(let bad): table = bad.table
            }
            tables[table, default: TableReport()].read += 1
            switch result.outcome {
            case .mapped(let made):
                tables[table]!.mapped += 1
                for item in made { resources[item.type, default: 0] += 1 }
            case .deadLettered: tables[table]!.deadLettered += 1
            case .filtered(let rule): tables[table]!.filtered[rule, default: 0] += 1
            }
            for (key, count) in result.unmapped { unmapped[key, default: 0] += count }
        }
    }

    /// A record with what became of it.
    public struct Item: Sendable {
        public var record: LegacyRecord
        public var result: SpecMapper.RowResult
    }

    /// The lookup tables the spec joins from, read whole and kept by their key.
    public func lookups() async throws -> SpecMapper.Lookups {
        var lookups: SpecMapper.Lookups = [:]
        for lookup in mapper.spec.lookups.values {
            var rows: [String: SourceRow] = [:]
            try await source.scan(table: lookup.table, batchSize: batchSize) { records in
                for case .row(let row) in records {
                    if let key = row[lookup.key]?.text { rows[key] = row }
                }
            }
            lookups[lookup.name] = rows
        }
        return lookups
    }

    /// Maps the records of `tables` (every table the spec maps, by default); `body` gets each batch.
    public func run(
        tables: [String]? = nil, lookups: SpecMapper.Lookups? = nil, _ body: ([Item]) async throws -> Void
    ) async throws -> Report {
        let lookups = try await resolvedLookups(lookups)
        var report = Report()
        report.specName = mapper.spec.name
        report.specVersion = mapper.spec.version
        for table in tables ?? mapper.tables {
            try await source.scan(table: table, batchSize: batchSize) { records in
                let items = map(records, lookups: lookups)
                for item in items { report.add(item.record, item.result) }
                try await body(items)
            }
        }
        return report
    }

    func resolvedLookups(_ given: SpecMapper.Lookups?) async throws -> SpecMapper.Lookups {
        if let given { return given }
        return try await lookups()
    }

    /// A batch mapped, unreadable records dead-lettered with their reason.
    public func map(_ records: [LegacyRecord], lookups: SpecMapper.Lookups) -> [Item] {
        records.map { record in
            switch record {
            case .row(let row): Item(record: record, result: mapper.map(row, lookups: lookups))
            case .unreadable(let bad):
                Item(record: record, result: SpecMapper.RowResult(outcome: .deadLettered(reason: bad.reason)))
            }
        }
    }
}
