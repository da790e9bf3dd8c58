import FHIR
import Foundation
import GRDB

/// The embedded FHIR store: one SQLite file (WAL) through GRDB. Current versions in `resource`, every
/// version in `resource_history`, search index rows in one table per parameter type. Each write and
/// each transaction Bundle is one SQLite transaction.
public final class SQLiteStore: FHIRStore {
    let pool: DatabasePool
    let definitions: FHIRDefinitions
    let extractor: SearchParameterExtractor
    let sql: SearchSQL
    /// The clock writes are stamped with (tests pin it).
    let now: @Sendable () -> Date

    /// Opens (creating when absent) a store at `path`.
    public init(
        path: String, definitions: FHIRDefinitions, now: @escaping @Sendable () -> Date = { Date() }
    ) throws(StoreError) {
        self.definitions = definitions
        extractor = SearchParameterExtractor(definitions: definitions)
        sql = SearchSQL(definitions: definitions)
        self.now = now
        do {
            var configuration = Configuration()
            configuration.prepareDatabase { db in
                try db.execute(sql: "PRAGMA synchronous = NORMAL")
            }
            pool = try DatabasePool(path: path, configuration: configuration)
            try pool.write { db in try Self.createSchema(db) }
        } catch {
            throw StoreError(.database, "opening \(path): \(error)")
        }
    }

    static func createSchema(_ db: Database) throws {
        let version =
            "type TEXT NOT NULL, id TEXT NOT NULL, version INTEGER NOT NULL, last_updated REAL NOT NULL, "
            + "deleted INTEGER NOT NULL, hash TEXT NOT NULL, content BLOB"
        try db.execute(
            sql: """
                CREATE TABLE IF NOT EXISTS resource (\(version), PRIMARY KEY (type, id)) WITHOUT ROWID;
                CREATE TABLE IF NOT EXISTS resource_history (\(version), PRIMARY KEY (type, id, version)) WITHOUT ROWID;
                CREATE INDEX IF NOT EXISTS resource_updated ON resource (type, last_updated);
                CREATE TABLE IF NOT EXISTS search_token (type TEXT, id TEXT, param TEXT, system TEXT, code TEXT, text TEXT);
                CREATE INDEX IF NOT EXISTS search_token_value ON search_token (type, param, code, system);
                CREATE TABLE IF NOT EXISTS search_string (type TEXT, id TEXT, param TEXT, normalized TEXT, exact TEXT);
                CREATE INDEX IF NOT EXISTS search_string_value ON search_string (type, param, normalized);
                CREATE TABLE IF NOT EXISTS search_date (type TEXT, id TEXT, param TEXT, low REAL, high REAL);
                CREATE INDEX IF NOT EXISTS search_date_value ON search_date (type, param, low, high);
                CREATE TABLE IF NOT EXISTS search_reference (type TEXT, id TEXT, param TEXT, target_type TEXT, target_id TEXT, url TEXT);
                CREATE INDEX IF NOT EXISTS search_reference_value ON search_reference (type, param, target_id);
                CREATE TABLE IF NOT EXISTS search_number (type TEXT, id TEXT, param TEXT, value REAL);
                CREATE INDEX IF NOT EXISTS search_number_value ON search_number (type, param, value);
                CREATE TABLE IF NOT EXISTS search_quantity (type TEXT, id TEXT, param TEXT, value REAL, system TEXT, code TEXT);
                CREATE INDEX IF NOT EXISTS search_quantity_value ON search_quantity (type, param, value);
                CREATE TABLE IF NOT EXISTS search_uri (type TEXT, id TEXT, param TEXT, value TEXT);
                CREATE INDEX IF NOT EXISTS search_uri_value ON search_uri (type, param, value);
                """)
        for table in SearchIndexRows.tables {
            try db.execute(sql: "CREATE INDEX IF NOT EXISTS \(table)_owner ON \(table) (type, id)")
        }
    }

    /// Runs `body` in one write transaction, every failure a `StoreError`.
    func writing<T: Sendable>(_ body: @Sendable @escaping (Database) throws -> T) async throws(StoreError) -> T {
        do {
            return try await pool.write(body)
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(.database, "\(error)")
        }
    }

    func reading<T: Sendable>(_ body: @Sendable @escaping (Database) throws -> T) async throws(StoreError) -> T {
        do {
            return try await pool.read(body)
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(.database, "\(error)")
        }
    }

    // MARK: - FHIRStore

    public func update(_ resource: JSON) async throws(StoreError) -> WriteResult {
        let time = now()
        return try await writing { db in try self.put(resource, in: db, at: time) }
    }

    public func create(_ resource: JSON) async throws(StoreError) -> WriteResult {
        let time = now()
        return try await writing { db in try self.put(Self.withNewID(resource), in: db, at: time) }
    }

    public func create(_ resource: JSON, ifNoneExist query: SearchQuery) async throws(StoreError) -> WriteResult {
        let time = now()
        return try await writing { db in try self.conditionalCreate(resource, query, in: db, at: time) }
    }

    public func update(_ resource: JSON, matching query: SearchQuery) async throws(StoreError) -> WriteResult {
        let time = now()
        return try await writing { db in try self.conditionalUpdate(resource, query, in: db, at: time) }
    }

    public func delete(type: String, id: String) async throws(StoreError) -> WriteResult? {
        let time = now()
        return try await writing { db in try self.delete(type: type, id: id, in: db, at: time) }
    }

    public func read(type: String, id: String) async throws(StoreError) -> StoredResource? {
        let stored = try await reading { db in
            try self.row(db, "SELECT * FROM resource WHERE type = ? AND id = ?", [type, id])
        }
        if let stored, stored.resource == nil {
            throw StoreError(.gone, "\(type)/\(id) was deleted (version \(stored.version))")
        }
        return stored
    }

    public func read(type: String, id: String, version: Int) async throws(StoreError) -> StoredResource? {
        try await reading { db in
            try self.row(
                db, "SELECT * FROM resource_history WHERE type = ? AND id = ? AND version = ?", [type, id, version])
        }
    }

    public func history(type: String, id: String) async throws(StoreError) -> [StoredResource] {
        try await reading { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM resource_history WHERE type = ? AND id = ? ORDER BY version DESC",
                arguments: [type, id]
            ).map { row throws in try Self.stored(row) }
        }
    }

    public func search(_ query: SearchQuery) async throws(StoreError) -> SearchResult {
        try await reading { db in try self.search(query, in: db) }
    }

    public func counts() async throws(StoreError) -> [String: Int] {
        try await reading { db in
            var counts: [String: Int] = [:]
            for row in try Row.fetchAll(
                db, sql: "SELECT type, COUNT(*) AS n FROM resource WHERE deleted = 0 GROUP BY type")
            {
                counts[row["type"]] = row["n"]
            }
            return counts
        }
    }

    // MARK: - Inside a transaction

    /// Writes a resource under its id: a new version unless the content is unchanged.
    func put(_ resource: JSON, in db: Database, at time: Date) throws -> WriteResult {
        let (type, id) = try ResourceVersion.key(resource)
        guard definitions.resourceType(named: type) != nil else {
            throw StoreError(.invalid, "unknown resource type \(type)")
        }
        let hash = ResourceVersion.contentHash(resource)
        let current = try row(db, "SELECT * FROM resource WHERE type = ? AND id = ?", [type, id])
        if let current, current.resource != nil, current.contentHash == hash {
            return WriteResult(outcome: .unchanged, stored: current)
        }
        let version = (current?.version ?? 0) + 1
        let stamped = ResourceVersion.stamped(resource, version: version, lastUpdated: time)
        let stored = StoredResource(
            type: type, id: id, version: version, lastUpdated: time, resource: stamped, contentHash: hash)
        let index = try SearchIndexRows(stamped, extractor: extractor)
        try save(stored, in: db)
        try replaceIndex(type: type, id: id, with: index, in: db)
        return WriteResult(outcome: current?.resource == nil ? .created : .updated, stored: stored)
    }

    func delete(type: String, id: String, in db: Database, at time: Date) throws -> WriteResult? {
        guard let current = try row(db, "SELECT * FROM resource WHERE type = ? AND id = ?", [type, id]),
            current.resource != nil
        else { return nil }
        let stored = StoredResource(
            type: type, id: id, version: current.version + 1, lastUpdated: time, resource: nil,
            contentHash: current.contentHash)
        try save(stored, in: db)
        try replaceIndex(type: type, id: id, with: nil, in: db)
        return WriteResult(outcome: .deleted, stored: stored)
    }

    func conditionalCreate(
        _ resource: JSON, _ query: SearchQuery, in db: Database, at time: Date
    ) throws
        -> WriteResult
    {
        let found = try search(SearchQuery(type: query.type, parameters: query.parameters, count: 2), in: db)
        switch found.total {
        case 0: return try put(Self.withNewID(resource), in: db, at: time)
        case 1: return WriteResult(outcome: .found, stored: found.resources[0])
        default: throw StoreError(.preconditionFailed, "If-None-Exist matches \(found.total) \(query.type) resources")
        }
    }

    func conditionalUpdate(
        _ resource: JSON, _ query: SearchQuery, in db: Database, at time: Date
    ) throws
        -> WriteResult
    {
        let found = try search(SearchQuery(type: query.type, parameters: query.parameters, count: 2), in: db)
        switch found.total {
        case 0:
            let hasID = resource["id"]?.stringValue != nil
            return try put(hasID ? resource : Self.withNewID(resource), in: db, at: time)
        case 1:
            let id = found.resources[0].id
            if let given = resource["id"]?.stringValue, given != id {
                throw StoreError(.invalid, "the resource's id \(given) is not the matched \(query.type)/\(id)")
            }
            return try put(Self.with(id: id, resource), in: db, at: time)
        default:
            throw StoreError(
                .preconditionFailed, "the conditional update matches \(found.total) \(query.type) resources")
        }
    }

    func search(_ query: SearchQuery, in db: Database) throws -> SearchResult {
        let conditions = try sql.conditions(query)
        let arguments = StatementArguments(conditions.arguments.map(Self.databaseValue))
        let total =
            try Int.fetchOne(
                db, sql: "SELECT COUNT(*) FROM resource r WHERE \(conditions.text)", arguments: arguments) ?? 0
        let rows = try Row.fetchAll(
            db,
            sql:
                "SELECT r.* FROM resource r WHERE \(conditions.text) ORDER BY \(SearchSQL.order(query)) LIMIT ? OFFSET ?",
            arguments: arguments + [query.count, query.offset])
        return SearchResult(resources: try rows.map(Self.stored), total: total)
    }

    // MARK: - Rows

    private func save(_ stored: StoredResource, in db: Database) throws {
        let content = stored.resource.map { Data($0.canonicalBytes) }
        let values: StatementArguments = [
            stored.type, stored.id, stored.version, stored.lastUpdated.timeIntervalSince1970,
            stored.resource == nil ? 1 : 0, stored.contentHash, content,
        ]
        try db.execute(sql: "INSERT OR REPLACE INTO resource VALUES (?, ?, ?, ?, ?, ?, ?)", arguments: values)
        try db.execute(sql: "INSERT INTO resource_history VALUES (?, ?, ?, ?, ?, ?, ?)", arguments: values)
    }

    private func replaceIndex(type: String, id: String, with index: SearchIndexRows?, in db: Database) throws {
        for table in SearchIndexRows.tables {
            try db.execute(sql: "DELETE FROM \(table) WHERE type = ? AND id = ?", arguments: [type, id])
        }
        guard let index else { return }
        func insert(_ table: String, _ columns: Int, _ values: [any DatabaseValueConvertible]) throws {
            let marks = Array(repeating: "?", count: columns + 3).joined(separator: ", ")
            try db.cachedStatement(sql: "INSERT INTO \(table) VALUES (\(marks))")
                .execute(arguments: StatementArguments([type, id] + values)!)
        }
        for row in index.tokens { try insert("search_token", 3, [row.param, row.system, row.code, row.text]) }
        for row in index.strings { try insert("search_string", 2, [row.param, row.normalized, row.exact]) }
        for row in index.dates { try insert("search_date", 2, [row.param, row.low, row.high]) }
        for row in index.references {
            try insert("search_reference", 3, [row.param, row.targetType, row.targetID, row.url])
        }
        for row in index.numbers { try insert("search_number", 1, [row.param, row.value]) }
        for row in index.quantities { try insert("search_quantity", 3, [row.param, row.value, row.system, row.code]) }
        for row in index.uris { try insert("search_uri", 1, [row.param, row.value]) }
    }

    func row(_ db: Database, _ sql: String, _ arguments: StatementArguments) throws -> StoredResource? {
        try Row.fetchOne(db, sql: sql, arguments: arguments).map(Self.stored)
    }

    static func stored(_ row: Row) throws -> StoredResource {
        let deleted: Bool = row["deleted"]
        let content: Data? = row["content"]
        var resource: JSON?
        if !deleted, let content {
            do { resource = try JSON(parsing: content) } catch {
                throw StoreError(
                    .database, "stored content of \(row["type"] as String)/\(row["id"] as String): \(error)")
            }
        }
        return StoredResource(
            type: row["type"], id: row["id"], version: row["version"],
            lastUpdated: Date(timeIntervalSince1970: row["last_updated"]), resource: resource, contentHash: row["hash"])
    }

    static func databaseValue(_ argument: SQLArgument) -> (any DatabaseValueConvertible)? {
        switch argument {
        case .text(let text): text
        case .real(let number): number
        case .integer(let number): number
        }
    }

    static func withNewID(_ resource: JSON) -> JSON {
        with(id: UUID().uuidString.lowercased(), resource)
    }

    static func with(id: String, _ resource: JSON) -> JSON {
        guard case .object(var object) = resource else { return resource }
        object["id"] = .string(id)
        return .object(object)
    }
}
