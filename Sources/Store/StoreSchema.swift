import FHIR
import Foundation

/// The tables every store keeps, in the SQL of each database.
enum StoreSchema {
    enum Dialect {
        case sqlite
        case postgres
    }

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
        var statements = [
            "CREATE TABLE IF NOT EXISTS resource (\(version), PRIMARY KEY (type, id))\(withoutRowID)",
            "CREATE TABLE IF NOT EXISTS resource_history (\(version), PRIMARY KEY (type, id, version))\(withoutRowID)",
            "CREATE INDEX IF NOT EXISTS resource_updated ON resource (type, last_updated)",
        ]
        let indexTables: [(String, String, String)] = [
            ("search_token", "system TEXT, code TEXT, text TEXT", "code, system"),
            ("search_string", "normalized TEXT, exact TEXT", "normalized"),
            ("search_date", "low \(real), high \(real)", "low, high"),
            ("search_reference", "target_type TEXT, target_id TEXT, url TEXT", "target_id"),
            ("search_number", "value \(real)", "value"),
            ("search_quantity", "value \(real), system TEXT, code TEXT", "value"),
            ("search_uri", "value TEXT", "value"),
        ]
        for (table, columns, key) in indexTables {
            statements.append("CREATE TABLE IF NOT EXISTS \(table) (type TEXT, id TEXT, param TEXT, \(columns))")
            statements.append("CREATE INDEX IF NOT EXISTS \(table)_value ON \(table) (type, param, \(key))")
            statements.append("CREATE INDEX IF NOT EXISTS \(table)_owner ON \(table) (type, id)")
        }
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
