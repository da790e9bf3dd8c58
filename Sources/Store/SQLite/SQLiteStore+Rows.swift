import GRDB

/// The rows a write transaction on the embedded store reads and writes: a resource's current row and
/// owner, its versions in the history, and its search index rows, bound through SQLite's C API.
extension SQLiteStore.Transaction {
    /// The current row of a resource (in bulk mode, its pending history row); the transaction
    /// remembers its owner, or that it has none. Read through SQLite's C API: most lookups of a load
    /// find nothing, and GRDB's row made a dictionary of column names for each.
    static func current(
        _ db: Database, type: String, id: String, bulk: DeferredTransaction
    ) throws
        -> StoredResource?
    {
        let key = "\(type)/\(id)"
        let columns = "owner, type, id, version, last_updated, deleted, hash, content"
        let statement: RawStatement
        if let pending = bulk.pendingRow(key) {
            statement = try RawStatement(db, "SELECT \(columns) FROM resource_history WHERE rowid = ?")
            statement.bind(1, pending)
        } else {
            statement = try RawStatement(db, "SELECT \(columns) FROM resource_current WHERE type = ? AND id = ?")
            statement.bind(1, type)
            statement.bind(2, id)
        }
        let found = try statement.first(db) { row in
            (
                owner: row.integer(0),
                stored: try StoreSchema.stored(
                    type: row.text(1), id: row.text(2), version: Int(row.integer(3)), lastUpdated: row.real(4),
                    deleted: row.integer(5) != 0, hash: row.text(6), content: row.bytes(7))
            )
        }
        bulk.know(key, owner: found?.owner)
        return found?.stored
    }

    /// The owner of a resource: remembered by the transaction, or looked up (0: it has none yet).
    static func owner(
        _ db: Database, type: String, id: String, key: String, bulk: DeferredTransaction
    ) throws
        -> Int64
    {
        if let known = bulk.owners[key] { return known }
        let found: Int64?
        if let pending = bulk.pendingRow(key) {
            found = try Int64.fetchOne(
                db.cachedStatement(sql: "SELECT owner FROM resource_history WHERE rowid = ?"), arguments: [pending])
        } else {
            found = try Int64.fetchOne(
                db.cachedStatement(sql: "SELECT owner FROM resource WHERE type = ? AND id = ?"),
                arguments: [type, id])
        }
        bulk.know(key, owner: found)
        return found ?? 0
    }

    /// Appends the version to the history, as the row after the history's last (the open write
    /// transaction is the only writer); a resource's first version's row is its owner. In bulk mode
    /// the current row is kept back (`DeferredCurrents`).
    static func save(
        _ db: Database, _ stored: StoredResource, content: [UInt8]? = nil, bulk: DeferredTransaction
    ) throws {
        let key = "\(stored.type)/\(stored.id)"
        let known = try owner(db, type: stored.type, id: stored.id, key: key, bulk: bulk)
        let row = bulk.last + 1
        let owner = known == 0 ? row : known
        let time = stored.lastUpdated.timeIntervalSince1970
        let deleted: Int64 = stored.resource == nil ? 1 : 0
        let history = try RawStatement(
            db,
            "INSERT INTO resource_history (rowid, owner, type, id, version, last_updated, deleted, hash, content) "
                + "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
        history.bind(1, row)
        history.bind(2, owner)
        history.bind(3, stored.type)
        history.bind(4, stored.id)
        history.bind(5, Int64(stored.version))
        history.bind(6, time)
        history.bind(7, deleted)
        history.bind(8, stored.contentHash)
        history.bind(9, bytes: stored.resource.map { content ?? $0.canonicalBytes })
        try history.run(db)
        bulk.wrote(key, row: row, owner: owner)
        if bulk.active { return }
        let current = try RawStatement(
            db,
            "INSERT OR REPLACE INTO resource (type, id, owner, version, last_updated, deleted, hash, content_row) "
                + "VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
        current.bind(1, stored.type)
        current.bind(2, stored.id)
        current.bind(3, owner)
        current.bind(4, Int64(stored.version))
        current.bind(5, time)
        current.bind(6, deleted)
        current.bind(7, stored.contentHash)
        current.bind(8, row)
        try current.run(db)
    }

    static func replaceIndex(
        _ db: Database, type: String, id: String, with rows: SearchIndexRows?, clearing: Bool,
        bulk: DeferredTransaction
    ) throws {
        let owner = try owner(db, type: type, id: id, key: "\(type)/\(id)", bulk: bulk)
        guard owner != 0 else { throw StoreError(.database, "\(type)/\(id) is not stored: nothing to index") }
        for table in SearchIndexRows.tables where clearing {
            let statement = try RawStatement(db, "DELETE FROM \(table) WHERE owner = ?")
            statement.bind(1, owner)
            try statement.run(db)
        }
        guard let rows else { return }
        // A resource's rows come parameter by parameter: the last parameter's key is kept.
        var last: (code: String, key: Int64) = ("", 0)
        func key(_ code: String) -> Int64 {
            if code != last.code { last = (code, StoreSchema.parameterKey(type: type, code: code)) }
            return last.key
        }
        /// Each row's parameter key and values after `owner`, which stays bound from one row to the next.
        func insert<Row>(
            _ table: String, _ columns: String, _ rows: [Row], _ bind: (RawStatement, Row) -> Void
        ) throws {
            guard !rows.isEmpty else { return }
            let marks = String(repeating: ", ?", count: columns.count(where: { $0 == "," }) + 1)
            let statement = try RawStatement(
                db, "INSERT INTO \(table) (owner, param, \(columns)) VALUES (?, ?\(marks))")
            statement.bind(1, owner)
            for row in rows {
                bind(statement, row)
                try statement.run(db)
            }
        }
        try insert("search_token", "system, code, text", rows.tokens) {
            $0.bind(2, key($1.param))
            $0.bind(3, $1.system)
            $0.bind(4, $1.code)
            $0.bind(5, $1.text)
        }
        try insert("search_string", "normalized, exact", rows.strings) {
            $0.bind(2, key($1.param))
            $0.bind(3, $1.normalized)
            $0.bind(4, $1.exact)
        }
        try insert("search_date", "low, high", rows.dates) {
            $0.bind(2, key($1.param))
            $0.bind(3, $1.low)
            $0.bind(4, $1.high)
        }
        try insert("search_reference", "target_type, target_id, url", rows.references) {
            $0.bind(2, key($1.param))
            $0.bind(3, $1.targetType)
            $0.bind(4, $1.targetID)
            $0.bind(5, $1.url)
        }
        try insert("search_number", "value", rows.numbers) {
            $0.bind(2, key($1.param))
            $0.bind(3, $1.value)
        }
        try insert("search_quantity", "value, system, code", rows.quantities) {
            $0.bind(2, key($1.param))
            $0.bind(3, $1.value)
            $0.bind(4, $1.system)
            $0.bind(5, $1.code)
        }
        try insert("search_uri", "value", rows.uris) {
            $0.bind(2, key($1.param))
            $0.bind(3, $1.value)
        }
    }
}
