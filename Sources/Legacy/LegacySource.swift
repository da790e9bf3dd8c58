import Mapping

/// A legacy system Ferry reads: a SQLite or PostgreSQL database, a folder of CSV exports. Every
/// connector streams its tables' records in batches with their locator (system, table, key), so a
/// table of any size is read in bounded memory.
public protocol LegacySource: Sendable {
    /// Names the source in locators and Provenance (`sqlite:legacy.db`, `csv:exports`).
    var system: String { get }
    /// The tables (or files) with their columns and keys.
    func tables() async throws -> [LegacyTable]
    /// Every record of a table in key order, `batchSize` at a time; `body` is awaited before the
    /// next batch is read (backpressure).
    func scan(table: String, batchSize: Int, _ body: ([LegacyRecord]) async throws -> Void) async throws
    /// The records of a table that `filter` keeps, in key order, `batchSize` at a time (a batch may
    /// hold fewer). A source that can tell a record's share before reading all of it does so.
    func scan(
        table: String, batchSize: Int, filter: RecordFilter, _ body: ([LegacyRecord]) async throws -> Void
    ) async throws
}

extension LegacySource {
    public func scan(
        table: String, batchSize: Int, filter: RecordFilter, _ body: ([LegacyRecord]) async throws -> Void
    ) async throws {
        try await scan(table: table, batchSize: batchSize) { records in
            let kept = records.filter(filter.keeps)
            if !kept.isEmpty { try await body(kept) }
        }
    }
}

/// A share of a table's records, such as a migration partition's: a record is kept when `keep`
/// accepts its partition key, the text of `column` when the row has a value there, else the row's
/// key (a record that could not be read: its locator).
public struct RecordFilter: Sendable {
    public var column: String?
    public var keep: @Sendable (String) -> Bool

    public init(column: String?, keep: @escaping @Sendable (String) -> Bool) {
        self.column = column
        self.keep = keep
    }

    /// The text a record is shared out by.
    public func partitionKey(of record: LegacyRecord) -> String {
        switch record {
        case .row(let row): column.flatMap { row[$0]?.text } ?? row.key
        case .unreadable(let bad): bad.locator
        }
    }

    public func keeps(_ record: LegacyRecord) -> Bool { keep(partitionKey(of: record)) }
}

/// A table as the source describes it.
public struct LegacyTable: Sendable, Hashable {
    public var name: String
    public var columns: [LegacyColumn]
    /// Declared primary key columns; empty when none is declared.
    public var primaryKey: [String]
    public var foreignKeys: [ForeignKey]
    public var rowCount: Int

    public init(name: String, columns: [LegacyColumn], primaryKey: [String], foreignKeys: [ForeignKey], rowCount: Int) {
        self.name = name
        self.columns = columns
        self.primaryKey = primaryKey
        self.foreignKeys = foreignKeys
        self.rowCount = rowCount
    }
}

public struct LegacyColumn: Sendable, Hashable {
    public var name: String
    /// The type the source declares (`INTEGER`, `varchar(64)`); empty for CSV.
    public var declaredType: String

    public init(name: String, declaredType: String) {
        self.name = name
        self.declaredType = declaredType
    }
}

public struct ForeignKey: Sendable, Hashable, Codable {
    public var column: String
    public var table: String
    public var referencedColumn: String

    public init(column: String, table: String, referencedColumn: String) {
        self.column = column
        self.table = table
        self.referencedColumn = referencedColumn
    }
}

/// One unit a source yields: a row, or a record it could not read (kept, with why and where).
public enum LegacyRecord: Sendable {
    case row(SourceRow)
    case unreadable(Unreadable)

    /// A record that could not be made into a row: a ragged CSV line, a quote never closed.
    public struct Unreadable: Sendable, Hashable {
        public var table: String
        /// `csv:exports patient_data.csv line 17`.
        public var locator: String
        public var reason: String
        /// The record's text as it stood in the source.
        public var content: String
    }

    public var locator: String {
        switch self {
        case .row(let row): row.locator
        case .unreadable(let record): record.locator
        }
    }
}

/// A source that cannot be opened or read.
public struct LegacySourceError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Opens a source by its name: `sqlite:PATH`, `postgres://…`, `csv:FOLDER` (or a folder path).
public enum LegacySources {
    public static func open(_ name: String) throws -> any LegacySource {
        if name.hasPrefix("sqlite:") { return try SQLiteSource(path: String(name.dropFirst("sqlite:".count))) }
        if name.hasPrefix("postgres://") || name.hasPrefix("postgresql://") { return try PostgresSource(url: name) }
        if name.hasPrefix("csv:") { return try CSVSource(folder: String(name.dropFirst("csv:".count))) }
        if name.hasSuffix(".db") || name.hasSuffix(".sqlite") { return try SQLiteSource(path: name) }
        return try CSVSource(folder: name)
    }
}
