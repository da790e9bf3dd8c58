import FHIR
import Foundation

/// The tables every store keeps, in the SQL of each database.
enum StoreSchema {
    enum Dialect {
        case sqlite
        case postgres
    }

    /// The layout of a SQLite store's tables (`PRAGMA user_version`); a store of another layout is refused.
    static let sqliteLayout = 2

    static func sql(for dialect: Dialect) -> String {
        // Ids compare byte by byte in both databases (PostgreSQL's "C" collation), so that id ranges and
        // keyset pages mean the same everywhere and PostgreSQL's primary-key index serves them.
        let (real, blob, withoutRowID, byteOrder) =
            switch dialect {
            case .sqlite: ("REAL", "BLOB", " WITHOUT ROWID", "")
            case .postgres: ("DOUBLE PRECISION", "BYTEA", "", " COLLATE \"C\"")
            }
        let version =
            "type TEXT NOT NULL, id TEXT\(byteOrder) NOT NULL, version INTEGER NOT NULL, last_updated \(real) NOT NULL, "
            + "deleted INTEGER NOT NULL, hash TEXT NOT NULL, content \(blob)"
        var statements: [String]
        switch dialect {
        case .sqlite:
            // Each version's content is written once, appended to the history (a rowid table, so rows
            // of a few KB go to the end of the file instead of splitting pages of a tree keyed by id);
            // `resource` is a small row per resource, clustered by (type, id), that points at its
            // current version. `resource_current` reads like PostgreSQL's `resource`.
            statements = [
                "CREATE TABLE IF NOT EXISTS resource_history (\(version))",
                historyKey.create,
                "CREATE TABLE IF NOT EXISTS resource (type TEXT NOT NULL, id TEXT NOT NULL, version INTEGER NOT NULL, "
                    + "last_updated REAL NOT NULL, deleted INTEGER NOT NULL, hash TEXT NOT NULL, "
                    + "content_row INTEGER NOT NULL, PRIMARY KEY (type, id))\(withoutRowID)",
                "CREATE VIEW IF NOT EXISTS resource_current AS SELECT r.type, r.id, r.version, r.last_updated, "
                    + "r.deleted, r.hash, h.content FROM resource r JOIN resource_history h ON h.rowid = r.content_row",
                "PRAGMA user_version = \(sqliteLayout)",
            ]
        case .postgres:
            statements = [
                "CREATE TABLE IF NOT EXISTS resource (\(version), PRIMARY KEY (type, id))",
                "CREATE TABLE IF NOT EXISTS resource_history (\(version), PRIMARY KEY (type, id, version))",
            ]
        }
        statements.append("CREATE INDEX IF NOT EXISTS resource_updated ON resource (type, last_updated)")
        let indexTables: [(String, String)] = [
            ("search_token", "system TEXT, code TEXT, text TEXT"),
            ("search_string", "normalized TEXT, exact TEXT"),
            ("search_date", "low \(real), high \(real)"),
            ("search_reference", "target_type TEXT, target_id TEXT, url TEXT"),
            ("search_number", "value \(real)"),
            ("search_quantity", "value \(real), system TEXT, code TEXT"),
            ("search_uri", "value TEXT"),
        ]
        for (table, columns) in indexTables {
            statements.append("CREATE TABLE IF NOT EXISTS \(table) (type TEXT, id TEXT, param TEXT, \(columns))")
        }
        statements += searchIndexes.map(\.create)
        statements.append(
            "CREATE TABLE IF NOT EXISTS migration_checkpoint (run TEXT NOT NULL, partition TEXT NOT NULL, "
                + "position INTEGER NOT NULL, PRIMARY KEY (run, partition))")
        statements.append(
            "CREATE TABLE IF NOT EXISTS migration_dead_letter (run TEXT NOT NULL, locator TEXT NOT NULL, "
                + "partition TEXT NOT NULL, reason TEXT NOT NULL, content \(blob), PRIMARY KEY (run, locator))")
        statements.append(
            "CREATE TABLE IF NOT EXISTS migration_partition (run TEXT NOT NULL, partition TEXT NOT NULL, "
                + "state TEXT NOT NULL, owner TEXT, lease_until \(real), PRIMARY KEY (run, partition))")
        return statements.joined(separator: ";\n") + ";"
    }

    /// SQLite's index of versions by (type, id, version), which a bulk load drops with the search
    /// tables' indexes (PostgreSQL's is the history table's primary key).
    static let historyKey = (
        drop: "DROP INDEX IF EXISTS resource_history_key",
        create: "CREATE UNIQUE INDEX IF NOT EXISTS resource_history_key ON resource_history (type, id, version)"
    )

    /// The search tables' own indexes, the same in both databases: by value (searches) and by owner
    /// (a resource's rows replaced). A bulk load drops them and builds them again at its end.
    static let searchIndexes: [(drop: String, create: String)] = [
        ("search_token", "code, system"), ("search_string", "normalized"), ("search_date", "low, high"),
        ("search_reference", "target_id"), ("search_number", "value"), ("search_quantity", "value"),
        ("search_uri", "value"),
    ].flatMap { table, key in
        [
            (
                "DROP INDEX IF EXISTS \(table)_value",
                "CREATE INDEX IF NOT EXISTS \(table)_value ON \(table) (type, param, \(key))"
            ),
            ("DROP INDEX IF EXISTS \(table)_owner", "CREATE INDEX IF NOT EXISTS \(table)_owner ON \(table) (type, id)"),
        ]
    }

    /// A stored version from a row's columns.
    static func stored(
        type: String, id: String, version: Int, lastUpdated: Double, deleted: Bool, hash: String, content: [UInt8]?
    ) throws -> StoredResource {
        var resource: JSON?
        if !deleted, let content {
            do { resource = try JSON(parsing: content) } catch {
                throw StoreError(.database, "the stored content of \(type)/\(id) version \(version): \(error)")
            }
        }
        return StoredResource(
            type: type, id: id, version: version, lastUpdated: Date(timeIntervalSince1970: lastUpdated),
            resource: resource, contentHash: hash)
    }
}
