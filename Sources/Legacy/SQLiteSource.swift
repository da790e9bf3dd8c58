import Foundation
import GRDB
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
        guard let info = try await tables().first(where: { $0.name == table }) else {
            throw LegacySourceError("\(system): no table \(table)")
        }
        let columns = SourceColumns(info.columns.map(\.name))
        let keyPositions = info.primaryKey.compactMap { columns.position(of: $0) }
        let sql =
            "SELECT rowid, * FROM \(table.quotedDatabaseIdentifier) WHERE rowid > ? ORDER BY rowid LIMIT \(max(1, batchSize))"
        var after: Int64 = .min
        while true {
            let start = after
            let (records, last) = try await queue.read { db -> ([LegacyRecord], Int64?) in
                var records: [LegacyRecord] = []
                var last: Int64?
                let cursor = try Row.fetchCursor(db, sql: sql, arguments: [start])
                while let row = try cursor.next() {
                    let rowid: Int64 = row[0]
                    last = rowid
                    var values: [SourceValue] = []
                    values.reserveCapacity(row.count - 1)
                    for index in 1..<row.count { values.append(Self.value(row[index] as DatabaseValue)) }
                    let key =
                        keyPositions.isEmpty
                        ? "rowid=\(rowid)"
                        : keyPositions.map { "\(info.columns[$0].name)=\(values[$0].text ?? "")" }.joined(
                            separator: ",")
                    records.append(
                        .row(SourceRow(system: self.system, table: table, key: key, columns: columns, values: values)))
                }
                return (records, last)
            }
            guard let last else { return }
            try await body(records)
            after = last
        }
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
