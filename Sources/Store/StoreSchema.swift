import FHIR
import Foundation

/// The tables every store keeps, in the SQL of each database.
enum StoreSchema {
    enum Dialect {
        case sqlite
        case postgres
    }

    /// The layout of a SQLite store's tables (`PRAGMA user_version`); a store of another layout is refused.
    static let sqliteLayout = 5

    /// The row ids of a resource's rows in each SQLite search table: its owner times 2^20 onwards. A
    /// resource's rows are found, and removed when it changes, by that range of the table's own key,
    /// so the tables need no index by owner (seven fewer to build after a bulk load, and one B-tree
    /// fewer to insert into for every row written). Owners are history rows, below 2^43.
    static func indexRowIDs(owner: Int64) throws(StoreError) -> ClosedRange<Int64> {
        guard owner > 0, owner < 1 << 43 else {
            throw StoreError(.database, "history row \(owner) is beyond what search index rows can name")
        }
        return (owner << 20)...(owner << 20 | (1 << 20 - 1))
    }

    /// SQLite's key for a search parameter of a type, in place of the type's and the parameter's
    /// names in every search table row and value index entry: FNV-1a of `Type|code`, 48 bits (stored
    /// in 6 bytes; the same in every store and every run; no two of the definitions' parameters share
    /// one, a test checks). Token, reference and date tables 27 % smaller, their value indexes built a
    /// quarter faster.
    static func parameterKey(type: String, code: String) -> Int64 {
        var hash = FNV1a()
        hash.add(type.utf8)
        hash.add(UInt8(ascii: "|"))
        hash.add(code.utf8)
        return Int64(hash.value & 0xFFFF_FFFF_FFFF)
    }

    static func sql(for dialect: Dialect) -> String {
        switch dialect {
        case .sqlite: sqliteTables
        case .postgres: postgresTables
        }
    }

    /// SQLite's tables. Each resource has an integer key, `owner` (the history row of its first
    /// version), that its versions and search index rows carry instead of its type and 36-character
    /// id: narrower rows, and keys that grow in the order resources are first written, so that a bulk
    /// load appends a resource's search index rows, whose row ids follow from the owner
    /// (`indexRowIDs`), instead of inserting them at random places. Search index rows name their
    /// parameter by `parameterKey` (the type is the owner's).
    ///
    /// Each version's content is written once, appended to the history (a rowid table, so rows of a
    /// few KB go to the end of the file instead of splitting pages of a tree keyed by id); `resource`
    /// is a small row per resource, clustered by (type, id), that points at its current version.
    /// `resource_current` reads like PostgreSQL's `resource`.
    private static var sqliteTables: String {
        var statements = [
            "CREATE TABLE IF NOT EXISTS resource_history (owner INTEGER NOT NULL, type TEXT NOT NULL, id TEXT NOT NULL, "
                + "version INTEGER NOT NULL, last_updated REAL NOT NULL, deleted INTEGER NOT NULL, hash TEXT NOT NULL, "
                + "content BLOB)",
            historyKey.create,
            "CREATE TABLE IF NOT EXISTS resource (type TEXT NOT NULL, id TEXT NOT NULL, owner INTEGER NOT NULL, "
                + "version INTEGER NOT NULL, last_updated REAL NOT NULL, deleted INTEGER NOT NULL, hash TEXT NOT NULL, "
                + "content_row INTEGER NOT NULL, PRIMARY KEY (type, id)) WITHOUT ROWID",
            "CREATE VIEW IF NOT EXISTS resource_current AS SELECT r.owner, r.type, r.id, r.version, r.last_updated, "
                + "r.deleted, r.hash, h.content FROM resource r JOIN resource_history h ON h.rowid = r.content_row",
        ]
        for table in indexTables {
            statements.append(
                "CREATE TABLE IF NOT EXISTS \(table.name) (owner INTEGER NOT NULL, param INTEGER NOT NULL, "
                    + "\(table.columns))")
        }
        statements += searchIndexes(.sqlite).map(\.create)
        statements += migrationTables(blob: "BLOB", real: "REAL")
        statements.append("PRAGMA user_version = \(sqliteLayout)")
        return statements.joined(separator: ";\n") + ";"
    }

    /// PostgreSQL's tables: current versions and history keyed by (type, id), the search tables by
    /// the same. Ids compare byte by byte (the "C" collation), so that id ranges and keyset pages mean
    /// the same as in SQLite and the primary key's index serves them.
    private static var postgresTables: String {
        let version =
            "type TEXT NOT NULL, id TEXT COLLATE \"C\" NOT NULL, version INTEGER NOT NULL, "
            + "last_updated DOUBLE PRECISION NOT NULL, deleted INTEGER NOT NULL, hash TEXT NOT NULL, content BYTEA"
        var statements = [
            "CREATE TABLE IF NOT EXISTS resource (\(version), PRIMARY KEY (type, id))",
            "CREATE TABLE IF NOT EXISTS resource_history (\(version), PRIMARY KEY (type, id, version))",
            "CREATE INDEX IF NOT EXISTS resource_updated ON resource (type, last_updated)",
        ]
        for table in indexTables {
            statements.append(
                "CREATE TABLE IF NOT EXISTS \(table.name) (type TEXT, id TEXT, param TEXT, "
                    + table.columns.replacingOccurrences(of: "REAL", with: "DOUBLE PRECISION") + ")")
        }
        statements += searchIndexes(.postgres).map(\.create)
        statements += migrationTables(blob: "BYTEA", real: "DOUBLE PRECISION")
        return statements.joined(separator: ";\n") + ";"
    }

    /// The search tables: their value columns (in SQLite's types; PostgreSQL's doubles are `DOUBLE
    /// PRECISION`), and the columns their value index orders by.
    private static let indexTables: [(name: String, columns: String, key: String)] = [
        ("search_token", "system TEXT, code TEXT, text TEXT", "code, system"),
        ("search_string", "normalized TEXT, exact TEXT", "normalized"),
        ("search_date", "low REAL, high REAL", "low, high"),
        // `url` only when the reference is not `type/id` (an absolute or a contained one).
        ("search_reference", "target_type TEXT, target_id TEXT, url TEXT", "target_id"),
        ("search_number", "value REAL", "value"),
        ("search_quantity", "value REAL, system TEXT, code TEXT", "value"),
        ("search_uri", "value TEXT", "value"),
    ]

    private static func migrationTables(blob: String, real: String) -> [String] {
        [
            "CREATE TABLE IF NOT EXISTS migration_checkpoint (run TEXT NOT NULL, partition TEXT NOT NULL, "
                + "position INTEGER NOT NULL, PRIMARY KEY (run, partition))",
            "CREATE TABLE IF NOT EXISTS migration_dead_letter (run TEXT NOT NULL, locator TEXT NOT NULL, "
                + "partition TEXT NOT NULL, reason TEXT NOT NULL, content \(blob), PRIMARY KEY (run, locator))",
            "CREATE TABLE IF NOT EXISTS migration_partition (run TEXT NOT NULL, partition TEXT NOT NULL, "
                + "state TEXT NOT NULL, owner TEXT, lease_until \(real), PRIMARY KEY (run, partition))",
        ]
    }

    /// Pages of cache a SQLite connection keeps, in KB (`PRAGMA cache_size`): index tables outgrow
    /// SQLite's 2 MB default at once.
    static let sqliteCacheKB = 65536

    /// What an index build runs under, and what is put back after it. SQLite sorts an index's rows in
    /// runs as large as the connection's page cache: runs of 4 MB, sorted by helper threads and merged,
    /// built the search tables' indexes of 395,028 resources in two thirds of the time one 64 MB run
    /// took (3.1–3.4 s against 4.7–4.9 s; the index is written in order and needs no cache).
    static func indexBuild(_ dialect: Dialect) -> (before: [String], after: [String]) {
        switch dialect {
        case .sqlite:
            let threads = min(4, max(1, ProcessInfo.processInfo.activeProcessorCount))
            return (
                ["PRAGMA cache_size = -4096", "PRAGMA threads = \(threads)"],
                ["PRAGMA cache_size = -\(sqliteCacheKB)", "PRAGMA threads = 0"]
            )
        case .postgres:
            return ([], [])
        }
    }

    /// SQLite's index of versions by (owner, version), which a bulk load drops with the search tables'
    /// indexes (PostgreSQL's is the history table's primary key). Its absence marks a store in bulk
    /// mode (`DeferredCurrents`).
    static let historyKey = (
        drop: "DROP INDEX IF EXISTS resource_history_key",
        create: "CREATE UNIQUE INDEX IF NOT EXISTS resource_history_key ON resource_history (owner, version)"
    )

    /// SQLite's indexes of `resource` besides its key, by owner (searches) and by time: a bulk load drops
    /// them with the search tables' indexes, so that catching `resource` up inserts into its key's tree
    /// alone (2.4 s → 1.3 s for 395,028 rows, and 0.6 s to build both after).
    static let resourceIndexes: [(drop: String, create: String)] = [
        ("DROP INDEX IF EXISTS resource_owner", "CREATE UNIQUE INDEX IF NOT EXISTS resource_owner ON resource (owner)"),
        (
            "DROP INDEX IF EXISTS resource_updated",
            "CREATE INDEX IF NOT EXISTS resource_updated ON resource (type, last_updated)"
        ),
    ]

    /// The search tables' own indexes: by value (searches; in SQLite with the owner at the end, so a
    /// search reads the index alone) and, in PostgreSQL, by resource (a resource's rows replaced; SQLite
    /// finds them by row id, `indexRowIDs`); in SQLite also `resourceIndexes`. A bulk load drops them
    /// and builds them again at its end.
    static func searchIndexes(_ dialect: Dialect) -> [(drop: String, create: String)] {
        (dialect == .sqlite ? resourceIndexes : [])
            + indexTables.flatMap { table in
                let value = (
                    drop: "DROP INDEX IF EXISTS \(table.name)_value",
                    create:
                        "CREATE INDEX IF NOT EXISTS \(table.name)_value ON \(table.name) "
                        + (dialect == .sqlite ? "(param, \(table.key), owner)" : "(type, param, \(table.key))")
                )
                guard dialect == .postgres else { return [value] }
                return [
                    value,
                    (
                        drop: "DROP INDEX IF EXISTS \(table.name)_owner",
                        create: "CREATE INDEX IF NOT EXISTS \(table.name)_owner ON \(table.name) (type, id)"
                    ),
                ]
            }
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
