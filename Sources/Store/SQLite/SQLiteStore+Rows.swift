import GRDB

/// The rows a write transaction on the embedded store reads and writes: a resource's current row and
/// owner, its versions in the history, and its search index rows, bound through SQLite's C API.
extension SQLiteStore.Transaction {
    /// The current row of a resource (in bulk mode, its pending history row); the transaction
    /// remembers its owner, or that it has none. Read through SQLite's C API: most lookups of a load
    /// find nothing, and GRDB's row made a dictionary of column names for each.
    static func current(
        _ writer: WriterStatements, _ key: ResourceKey, bulk: DeferredTransaction
    ) throws -> StoredResource? {
        let statement: RawStatement
        if let pending = bulk.pendingRow(key.name) {
            statement = try writer(SQL.pendingVersion)
            statement.bind(1, pending)
        } else {
            statement = try writer(SQL.currentVersion)
            statement.bind(1, key.type)
            statement.bind(2, key.id)
        }
        let found = try statement.first(writer.db) { row in
            (
                owner: row.integer(0),
                stored: try StoreSchema.stored(
                    type: row.text(1), id: row.text(2), version: Int(row.integer(3)), lastUpdated: row.real(4),
                    deleted: row.integer(5) != 0, hash: row.text(6), content: row.bytes(7))
            )
        }
        bulk.know(key.name, owner: found?.owner)
        return found?.stored
    }

    /// The owner of a resource: remembered by the transaction, or looked up (0: it has none yet).
    static func owner(_ writer: WriterStatements, _ key: ResourceKey, bulk: DeferredTransaction) throws -> Int64 {
        if let known = bulk.owners[key.name] { return known }
        let statement: RawStatement
        if let pending = bulk.pendingRow(key.name) {
            statement = try writer(SQL.pendingOwner)
            statement.bind(1, pending)
        } else {
            statement = try writer(SQL.currentOwner)
            statement.bind(1, key.type)
            statement.bind(2, key.id)
        }
        let found = try statement.first(writer.db) { $0.integer(0) }
        bulk.know(key.name, owner: found)
        return found ?? 0
    }

    /// Appends the version to the history, as the row after the history's last (the open write
    /// transaction is the only writer); a resource's first version's row is its owner, which is
    /// returned. In bulk mode the current row is kept back (`DeferredCurrents`). `key`: the stored
    /// resource's.
    @discardableResult
    static func save(
        _ writer: WriterStatements, _ stored: StoredResource, key: ResourceKey, content: [UInt8]? = nil,
        bulk: DeferredTransaction
    ) throws -> Int64 {
        let known = try owner(writer, key, bulk: bulk)
        let row = bulk.last + 1
        let owner = known == 0 ? row : known
        let time = stored.lastUpdated.timeIntervalSince1970
        let deleted: Int64 = stored.resource == nil ? 1 : 0
        let history = try writer(SQL.appendVersion)
        history.bind(1, row)
        history.bind(2, owner)
        history.bind(3, stored.type)
        history.bind(4, stored.id)
        history.bind(5, Int64(stored.version))
        history.bind(6, time)
        history.bind(7, deleted)
        history.bind(8, stored.contentHash)
        history.bind(9, bytes: stored.resource.map { content ?? $0.canonicalBytes })
        try history.run(writer.db)
        bulk.wrote(key.name, row: row, owner: owner)
        if bulk.active { return owner }
        let current = try writer(SQL.replaceCurrent)
        current.bind(1, stored.type)
        current.bind(2, stored.id)
        current.bind(3, owner)
        current.bind(4, Int64(stored.version))
        current.bind(5, time)
        current.bind(6, deleted)
        current.bind(7, stored.contentHash)
        current.bind(8, row)
        try current.run(writer.db)
        return owner
    }

    static func replaceIndex(
        _ writer: WriterStatements, _ key: ResourceKey, with rows: SearchIndexRows?, clearing: Bool,
        bulk: DeferredTransaction
    ) throws {
        let owner = try owner(writer, key, bulk: bulk)
        guard owner != 0 else { throw StoreError(.database, "\(key.name) is not stored: nothing to index") }
        try replaceIndex(writer, owner: owner, type: key.type, with: rows, clearing: clearing)
    }

    /// Replaces the index rows of the resource of type `type` whose owner is `owner`.
    static func replaceIndex(
        _ writer: WriterStatements, owner: Int64, type: String, with rows: SearchIndexRows?, clearing: Bool
    ) throws {
        let rowIDs = try StoreSchema.indexRowIDs(owner: owner)
        for delete in SQL.deleteIndexRows where clearing {
            let statement = try writer(delete)
            statement.bind(1, rowIDs.lowerBound)
            statement.bind(2, rowIDs.upperBound)
            try statement.run(writer.db)
        }
        guard let rows else { return }
        // A resource's rows come parameter by parameter: the last parameter's key is kept.
        var last: (code: String, key: Int64) = ("", 0)
        func key(_ code: String) -> Int64 {
            if code != last.code { last = (code, StoreSchema.parameterKey(type: type, code: code)) }
            return last.key
        }
        /// Each row's parameter key and values after `owner`, which stays bound from one row to the
        /// next; the row's id, the owner's next, is the statement's last value.
        func insert<Row>(
            _ sql: (statement: WriterSQL, rowID: Int32), _ rows: [Row], _ bind: (RawStatement, Row) -> Void
        )
            throws
        {
            guard !rows.isEmpty else { return }
            guard rows.count <= rowIDs.count else {
                throw StoreError(
                    .invalid,
                    "\(type) has \(rows.count) search index values of one kind; a resource may have \(rowIDs.count)")
            }
            let statement = try writer(sql.statement)
            statement.bind(1, owner)
            for (offset, row) in rows.enumerated() {
                bind(statement, row)
                statement.bind(sql.rowID, rowIDs.lowerBound + Int64(offset))
                try statement.run(writer.db)
            }
        }
        try insert(SQL.insertToken, rows.tokens) {
            $0.bind(2, key($1.param))
            $0.bind(3, $1.system)
            $0.bind(4, $1.code)
            $0.bind(5, $1.text)
        }
        try insert(SQL.insertString, rows.strings) {
            $0.bind(2, key($1.param))
            $0.bind(3, $1.normalized)
            $0.bind(4, $1.exact)
        }
        try insert(SQL.insertDate, rows.dates) {
            $0.bind(2, key($1.param))
            $0.bind(3, $1.low)
            $0.bind(4, $1.high)
        }
        try insert(SQL.insertReference, rows.references) {
            $0.bind(2, key($1.param))
            $0.bind(3, $1.targetType)
            $0.bind(4, $1.targetID)
            $0.bind(5, $1.url)
        }
        try insert(SQL.insertNumber, rows.numbers) {
            $0.bind(2, key($1.param))
            $0.bind(3, $1.value)
        }
        try insert(SQL.insertQuantity, rows.quantities) {
            $0.bind(2, key($1.param))
            $0.bind(3, $1.value)
            $0.bind(4, $1.system)
            $0.bind(5, $1.code)
        }
        try insert(SQL.insertUri, rows.uris) {
            $0.bind(2, key($1.param))
            $0.bind(3, $1.value)
        }
    }

    /// The statements above, written once, each with its slot in a turn's `WriterStatements`.
    enum SQL {
        static let pendingVersion = WriterSQL(
            "SELECT owner, type, id, version, last_updated, deleted, hash, content FROM resource_history WHERE rowid = ?"
        )
        static let currentVersion = WriterSQL(
            "SELECT owner, type, id, version, last_updated, deleted, hash, content FROM resource_current "
                + "WHERE type = ? AND id = ?")
        static let pendingOwner = WriterSQL("SELECT owner FROM resource_history WHERE rowid = ?")
        static let currentOwner = WriterSQL("SELECT owner FROM resource WHERE type = ? AND id = ?")
        static let appendVersion = WriterSQL(
            "INSERT INTO resource_history (rowid, owner, type, id, version, last_updated, deleted, hash, content) "
                + "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
        static let replaceCurrent = WriterSQL(
            "INSERT OR REPLACE INTO resource (type, id, owner, version, last_updated, deleted, hash, content_row) "
                + "VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
        static let deleteIndexRows = SearchIndexRows.tables.map {
            WriterSQL("DELETE FROM \($0) WHERE rowid BETWEEN ? AND ?")
        }
        static let insertToken = insert("search_token", "system, code, text")
        static let insertString = insert("search_string", "normalized, exact")
        static let insertDate = insert("search_date", "low, high")
        static let insertReference = insert("search_reference", "target_type, target_id, url")
        static let insertNumber = insert("search_number", "value")
        static let insertQuantity = insert("search_quantity", "value, system, code")
        static let insertUri = insert("search_uri", "value")

        /// The statement, and the position of the row id among its values (the last).
        private static func insert(_ table: String, _ columns: String) -> (statement: WriterSQL, rowID: Int32) {
            let count = columns.count(where: { $0 == "," }) + 1
            let marks = String(repeating: ", ?", count: count)
            return (
                WriterSQL("INSERT INTO \(table) (owner, param, \(columns), rowid) VALUES (?, ?\(marks), ?)"),
                Int32(count + 3)
            )
        }
    }
}
