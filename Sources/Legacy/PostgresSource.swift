import Foundation
import Logging
import Mapping
import PostgresNIO

/// A legacy PostgreSQL database (schema `public`). Values are read as text and typed by the
/// column's declared type; rows come in pages ordered by the primary key (keyset paging when the
/// key is one column, so a scan holds one batch at a time).
public final class PostgresSource: LegacySource {
    public let system: String
    let client: PostgresClient
    private let running: Task<Void, Never>
    private let logger = Logger(label: "ferry.legacy.postgres")

    /// Connects to `postgres://user[:password]@host[:port]/database`.
    public init(url: String) throws {
        guard let components = URLComponents(string: url), ["postgres", "postgresql"].contains(components.scheme),
            let host = components.host, let user = components.user
        else { throw LegacySourceError("not a postgres:// URL (postgres://user@host:port/database)") }
        let database = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        client = PostgresClient(
            configuration: .init(
                host: host, port: components.port ?? 5432, username: user, password: components.password,
                database: database.isEmpty ? nil : database, tls: .disable),
            backgroundLogger: logger)
        let client = client
        running = Task { await client.run() }
        system = "postgres:\(host):\(components.port ?? 5432)/\(database)"
    }

    deinit { running.cancel() }

    func texts(_ query: PostgresQuery) async throws -> [[String?]] {
        let rows = try await client.query(query, logger: logger)
        var result: [[String?]] = []
        for try await row in rows {
            result.append(row.map { cell in try? cell.decode(String?.self) ?? nil })
        }
        return result
    }

    public func tables() async throws -> [LegacyTable] {
        let names = try await texts(
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name"
        ).compactMap { $0.first ?? nil }
        var tables: [LegacyTable] = []
        for name in names {
            let columns = try await texts(
                "SELECT column_name::text, data_type::text FROM information_schema.columns WHERE table_schema = 'public' AND table_name = \(name) ORDER BY ordinal_position"
            ).map { LegacyColumn(name: $0[0] ?? "", declaredType: $0[1] ?? "") }
            let key = try await texts(
                """
                SELECT k.column_name::text FROM information_schema.table_constraints c
                JOIN information_schema.key_column_usage k ON c.constraint_name = k.constraint_name AND c.table_schema = k.table_schema
                WHERE c.table_schema = 'public' AND c.table_name = \(name) AND c.constraint_type = 'PRIMARY KEY'
                ORDER BY k.ordinal_position
                """
            ).compactMap { $0.first ?? nil }
            let foreign = try await texts(
                """
                SELECT k.column_name::text, u.table_name::text, u.column_name::text FROM information_schema.table_constraints c
                JOIN information_schema.key_column_usage k ON c.constraint_name = k.constraint_name AND c.table_schema = k.table_schema
                JOIN information_schema.constraint_column_usage u ON c.constraint_name = u.constraint_name AND c.table_schema = u.table_schema
                WHERE c.table_schema = 'public' AND c.table_name = \(name) AND c.constraint_type = 'FOREIGN KEY'
                """
            ).map { ForeignKey(column: $0[0] ?? "", table: $0[1] ?? "", referencedColumn: $0[2] ?? "") }
            let count = try await texts(PostgresQuery(unsafeSQL: "SELECT count(*)::text FROM \(Self.quoted(name))"))
            tables.append(
                LegacyTable(
                    name: name, columns: columns, primaryKey: key, foreignKeys: foreign,
                    rowCount: Int(count.first?.first.flatMap { $0 } ?? "0") ?? 0))
        }
        return tables
    }

    static func quoted(_ identifier: String) -> String {
        "\"" + identifier.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    public func scan(table: String, batchSize: Int, _ body: ([LegacyRecord]) async throws -> Void) async throws {
        guard let info = try await tables().first(where: { $0.name == table }) else {
            throw LegacySourceError("\(system): no table \(table)")
        }
        let columns = SourceColumns(info.columns.map(\.name))
        // Columns are read as text under other names (`c0`, `c1`…), and rows ordered by the table's
        // own columns (`t.pid`): ordering by an output column named like the key would sort its text.
        let select = info.columns.enumerated().map { "t.\(Self.quoted($1.name))::text AS c\($0)" }.joined(
            separator: ", ")
        let order =
            info.primaryKey.isEmpty ? "t.ctid" : info.primaryKey.map { "t." + Self.quoted($0) }.joined(separator: ", ")
        let keyPositions = info.primaryKey.compactMap { columns.position(of: $0) }
        let integers = info.columns.map { ["integer", "bigint", "smallint"].contains($0.declaredType) }
        let size = max(1, batchSize)
        var offset = 0
        var after: String?
        // A single-column key of a common type pages by keyset (the last key, bound as a parameter and
        // cast to the column's type, so it compares in the column's own order); others by offset.
        let keyTypes: Set<String> = [
            "integer", "bigint", "smallint", "text", "character varying", "character", "uuid", "numeric", "date",
            "timestamp without time zone", "timestamp with time zone",
        ]
        let keyset = info.primaryKey.count == 1 && keyTypes.contains(info.columns[keyPositions[0]].declaredType)
        while true {
            var query: PostgresQuery
            if keyset {
                let condition =
                    after == nil ? "" : "WHERE \(order) > CAST($1 AS \(info.columns[keyPositions[0]].declaredType))"
                query = PostgresQuery(
                    unsafeSQL:
                        "SELECT \(select) FROM \(Self.quoted(table)) AS t \(condition) ORDER BY \(order) LIMIT \(size)")
                if let after { query.binds.append(after) }
            } else {
                query = PostgresQuery(
                    unsafeSQL:
                        "SELECT \(select) FROM \(Self.quoted(table)) AS t ORDER BY \(order) LIMIT \(size) OFFSET \(offset)"
                )
            }
            let rows = try await texts(query)
            guard !rows.isEmpty else { return }
            var records: [LegacyRecord] = []
            for (number, row) in rows.enumerated() {
                let values = row.enumerated().map { index, text -> SourceValue in
                    guard let text else { return .null }
                    if integers[index], let number = Int64(text) { return .integer(number) }
                    return .text(text)
                }
                let key =
                    keyPositions.isEmpty
                    ? "row=\(offset + number + 1)"
                    : keyPositions.map { "\(info.columns[$0].name)=\(row[$0] ?? "")" }.joined(separator: ",")
                records.append(
                    .row(SourceRow(system: system, table: table, key: key, columns: columns, values: values)))
            }
            offset += rows.count
            if keyset { after = rows.last?[keyPositions[0]] ?? nil }
            try await body(records)
            if rows.count < size { return }
        }
    }
}
