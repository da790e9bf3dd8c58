import Foundation
import GRDB
import GRDBSQLite
import Mapping

/// A legacy SQLite database, opened read-only. Rows are read by keyset pages on `rowid`, so a scan
/// holds one batch at a time however large the table.
public final class SQLiteSource: LegacySource {
    public let system: String
    let queue: DatabaseQueue

    public init(path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else {
            throw LegacySourceError("sqlite:\(path): no such file")
        }
        var configuration = Configuration()
        configuration.readonly = true
        do {
            queue = try DatabaseQueue(path: path, configuration: configuration)
        } catch {
            throw LegacySourceError("sqlite:\(path): cannot be opened: \(error)")
        }
        system = "sqlite:\((path as NSString).lastPathComponent)"
    }

    public func tables() async throws -> [LegacyTable] {
        try await queue.read { db in
            let names = try String.fetchAll(
                db,
                sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
            return try names.map { name in
                let info = try Row.fetchAll(db, sql: "PRAGMA table_info(\(name.quotedDatabaseIdentifier))")
                let columns = info.map { LegacyColumn(name: $0["name"], declaredType: $0["type"] ?? "") }
                let primaryKey =
                    info.filter { ($0["pk"] as Int? ?? 0) > 0 }.sorted { ($0["pk"] as Int) < ($1["pk"] as Int) }
                    .map { $0["name"] as String }
                let foreign = try Row.fetchAll(db, sql: "PRAGMA foreign_key_list(\(name.quotedDatabaseIdentifier))")
                    .map { ForeignKey(column: $0["from"], table: $0["table"], referencedColumn: $0["to"] ?? "") }
                let count = try Int.fetchOne(db, sql: "SELECT count(*) FROM \(name.quotedDatabaseIdentifier)") ?? 0
                return LegacyTable(
                    name: name, columns: columns, primaryKey: primaryKey, foreignKeys: foreign, rowCount: count)
            }
        }
    }

    public func scan(table: String, batchSize: Int, _ body: ([LegacyRecord]) async throws -> Void) async throws {
        try await scan(table: table, batchSize: batchSize, filter: nil, body)
    }

    /// Reads the filter's column (or the key) of each row first, and the rest only of the rows it keeps:
    /// a migration's partitions each scan every table, and most rows belong to another partition.
    public func scan(
        table: String, batchSize: Int, filter: RecordFilter, _ body: ([LegacyRecord]) async throws -> Void
    ) async throws {
        try await scan(table: table, batchSize: batchSize, filter: Optional(filter), body)
    }

    private func scan(
        table: String, batchSize: Int, filter: RecordFilter?, _ body: ([LegacyRecord]) async throws -> Void
    ) async throws {
        let info = try await columns(of: table)
        let columns = SourceColumns(info.names)
        let keyPositions = info.primaryKey.compactMap { columns.position(of: $0) }
        let filterPosition = filter?.column.flatMap { columns.position(of: $0) }
        let sql =
            "SELECT rowid, * FROM \(table.quotedDatabaseIdentifier) WHERE rowid > ? ORDER BY rowid LIMIT \(max(1, batchSize))"
        var after: Int64 = .min
        while true {
            let start = after
            let (records, last) = try await queue.read { db -> ([LegacyRecord], Int64?) in
                var records: [LegacyRecord] = []
                var last: Int64?
                let statement = try db.cachedStatement(sql: sql)
                statement.arguments = [start]
                let cursor = try Row.fetchCursor(statement)
                // Columns are read from the statement itself: `Row`'s generic decoding looked up type
                // metadata for every value.
                let sqlite = statement.sqliteStatement
                func value(_ position: Int) -> SourceValue {
                    Self.value(DatabaseValue(sqliteStatement: sqlite, index: CInt(position + 1)))
                }
                func key(_ rowid: Int64, _ value: (Int) -> SourceValue) -> String {
                    keyPositions.isEmpty
                        ? "rowid=\(rowid)"
                        : keyPositions.map { "\(info.names[$0])=\(value($0).text ?? "")" }.joined(separator: ",")
                }
                while try cursor.next() != nil {
                    let rowid = sqlite3_column_int64(sqlite, 0)
                    last = rowid
                    if let filter {
                        let partitionKey = filterPosition.flatMap { value($0).text } ?? key(rowid, value)
                        guard filter.keep(partitionKey) else { continue }
                    }
                    var values: [SourceValue] = []
                    values.reserveCapacity(info.names.count)
                    for position in info.names.indices { values.append(value(position)) }
                    records.append(
                        .row(
                            SourceRow(
                                system: self.system, table: table, key: key(rowid) { values[$0] }, columns: columns,
                                values: values)))
                }
                return (records, last)
            }
            guard let last else { return }
            if !records.isEmpty { try await body(records) }
            after = last
        }
    }

    /// A table's column names and primary key (without counting its rows, as `tables()` does).
    private func columns(of table: String) async throws -> (names: [String], primaryKey: [String]) {
        let info = try await queue.read { db -> [(name: String, key: Int)] in
            try Row.fetchAll(db, sql: "PRAGMA table_info(\(table.quotedDatabaseIdentifier))").map {
                ($0["name"], $0["pk"] as Int? ?? 0)
            }
        }
        guard !info.isEmpty else { throw LegacySourceError("\(system): no table \(table)") }
        let primaryKey = info.filter { $0.key > 0 }.sorted { $0.key < $1.key }.map(\.name)
        return (info.map(\.name), primaryKey)
    }

    static func value(_ value: DatabaseValue) -> SourceValue {
        switch value.storage {
        case .null: .null
        case .int64(let number): .integer(number)
        case .double(let number): .real(number)
        case .string(let text): .text(text)
        case .blob(let data): .blob(Array(data))
        }
    }
}
