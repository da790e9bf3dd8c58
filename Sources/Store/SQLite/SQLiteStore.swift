import FHIR
import Foundation
import GRDB

/// The embedded FHIR store: one SQLite file (WAL) through GRDB. Current versions in `resource`, every
/// version in `resource_history`, search index rows in one table per parameter type. Each write and
/// each transaction Bundle is one SQLite transaction; writes take turns, reads run beside them on
/// their own snapshot.
public final class SQLiteStore: FHIRStore {
    let pool: DatabasePool
    let indexing: StoreIndexing
    /// The clock writes are stamped with (tests pin it).
    let now: @Sendable () -> Date
    /// Writes take turns: a transaction stays open across several steps on the one writer connection.
    private let writes = AsyncLock()
    /// Where write transactions continue between their steps on the connection.
    private let writer = WriterExecutor(label: "ferry.sqlite.writer")
    /// Bulk mode's current versions not yet in `resource`.
    let deferred: DeferredCurrents
    /// Bulk mode's copies of the log into the file, made beside the writer.
    let checkpoints: BackgroundCheckpoints

    /// Opens (creating when absent) a store at `path`.
    public convenience init(
        path: String, definitions: FHIRDefinitions, now: @escaping @Sendable () -> Date = { Date() }
    ) throws(StoreError) {
        try self.init(path: path, definitions: definitions, now: now, deferred: DeferredCurrents())
    }

    /// `checkpointPages`: pages of log that start a copy in bulk mode (`bulkCheckpointPages`; tests make it small).
    init(
        path: String, definitions: FHIRDefinitions, now: @escaping @Sendable () -> Date, deferred: DeferredCurrents,
        checkpointPages: Int = bulkCheckpointPages
    ) throws(StoreError) {
        indexing = StoreIndexing(definitions: definitions, dialect: .sqlite)
        self.now = now
        self.deferred = deferred
        checkpoints = BackgroundCheckpoints(path: path, threshold: checkpointPages)
        do {
            var configuration = Configuration()
            // A transaction Bundle keeps its transaction open between steps (under `writes`).
            configuration.allowsUnsafeTransactions = true
            // Another process may hold the write lock (a second ferry on the same file): wait for it.
            configuration.busyMode = .timeout(30)
            configuration.prepareDatabase { db in
                try db.execute(sql: "PRAGMA synchronous = NORMAL; PRAGMA cache_size = -\(StoreSchema.sqliteCacheKB)")
                db.add(function: FingerprintSum.function)
            }
            pool = try DatabasePool(path: path, configuration: configuration)
            // Only a new file needs the write lock (another process may be busy writing to this one).
            let (complete, layout) = try pool.read { db in
                (try db.tableExists("migration_partition"), try Int.fetchOne(db, sql: "PRAGMA user_version") ?? 0)
            }
            if !complete {
                try pool.write { db in try db.execute(sql: StoreSchema.sql(for: .sqlite)) }
            } else if layout != StoreSchema.sqliteLayout {
                throw StoreError(
                    .database,
                    "opening \(path): the store's tables are of layout \(layout), this Ferry reads layout "
                        + "\(StoreSchema.sqliteLayout); export it with the Ferry that made it (ferry store snapshot) "
                        + "and restore the snapshot into a new store")
            }
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(.database, "opening \(path): \(error)")
        }
    }

    /// Runs `body` in one write transaction: committed when it returns, rolled back when it throws.
    func transact<T: Sendable>(
        time: Date? = nil, _ body: @Sendable @escaping (Transaction) async throws -> T
    ) async throws(StoreError)
        -> T
    {
        let time = time ?? now()
        return try await storeErrors {
            try await withTaskExecutorPreference(writer) {
                try await self.writeLocked(time: time, body)
            }
        }
    }

    private func writeLocked<T: Sendable>(
        time: Date, _ body: @Sendable @escaping (Transaction) async throws -> T
    ) async throws -> T {
        try await writes.run {
            let bulk = try await self.pool.writeWithoutTransaction { db in try self.begin(db) }
            let transaction = Transaction(pool: pool, indexing: indexing, time: time, bulk: bulk)
            let result: T
            do {
                result = try await body(transaction)
                try await self.pool.writeWithoutTransaction { db in
                    try db.commit()
                    self.checkpoints.committed(db)
                }
            } catch {
                try? await self.pool.writeWithoutTransaction { db in try db.rollback() }
                throw error
            }
            self.deferred.committed(bulk)
            if self.deferred.needsSpill {
                // Committed already: a failure leaves the rows pending, for the next commit to try again.
                try? await self.pool.writeWithoutTransaction { db in
                    let spill = try self.begin(db)
                    do {
                        try spill.settle(db)
                        try db.commit()
                    } catch {
                        try? db.rollback()
                        throw error
                    }
                    self.deferred.committed(spill)
                }
            }
            return result
        }
    }

    private func begin(_ db: Database) throws -> DeferredTransaction {
        try db.beginTransaction(.immediate)
        do { return try deferred.begin(db) } catch {
            try? db.rollback()
            throw error
        }
    }

    // MARK: - FHIRStore

    public func update(_ resource: JSON) async throws(StoreError) -> WriteResult {
        try await transact { try await $0.put(resource) }
    }

    public func create(_ resource: JSON) async throws(StoreError) -> WriteResult {
        try await transact { try await $0.create(resource, ifNoneExist: nil) }
    }

    public func create(_ resource: JSON, ifNoneExist query: SearchQuery) async throws(StoreError) -> WriteResult {
        try await transact { try await $0.create(resource, ifNoneExist: query) }
    }

    public func update(_ resource: JSON, matching query: SearchQuery) async throws(StoreError) -> WriteResult {
        try await transact { try await $0.update(resource, matching: query) }
    }

    public func delete(type: String, id: String) async throws(StoreError) -> WriteResult? {
        try await transact { try await $0.delete(type: type, id: id) }
    }

    public func transaction(_ bundle: JSON) async throws(StoreError) -> JSON {
        try await transact { try await TransactionBundle.run(bundle, in: $0) }
    }

    public func rebuildIndex() async throws(StoreError) -> Int {
        try await storeErrors {
            try await IndexRebuild.run(self, indexing: indexing) { body in try await self.transact(body) }
        }
    }

    /// Also drops the history's (type, id, version) index: ids are hashes, so each new version would
    /// be inserted at a random place of that tree; a load reads current versions through `resource`
    /// alone, and the history's uniqueness is checked again when the index is built.
    ///
    /// Until the indexes are built again, the write-ahead log is copied into the database file only
    /// once it holds `bulkCheckpointPages` pages instead of SQLite's 1,000 (each copy ends with two
    /// syncs, and a load wrote 4 MB between them; a commit is durable in the log either way), and on a
    /// connection of its own beside the writer (`BackgroundCheckpoints`). And new versions go to the
    /// history alone, their current rows kept back (`DeferredCurrents`).
    public func dropSearchIndexes() async throws(StoreError) {
        try await transact { transaction in
            try await transaction.searchIndexes(drop: true)
            try await transaction.execute(StoreSchema.historyKey.drop, [])
            try await transaction.pool.writeWithoutTransaction { db in self.checkpoints.start(on: db) }
            transaction.bulk.switchTo = true
        }
    }

    /// Also writes the current rows bulk mode kept back, copies the write-ahead log into the database
    /// file (as much as no reader still needs), and puts the log's checkpoints back at SQLite's default.
    /// The current rows and the history's key are sorted as the indexes are, in small runs by helper
    /// threads (0.88 → 0.73 s and 0.36 → 0.27 s after a load of 395,028 resources).
    public func buildSearchIndexes() async throws(StoreError) {
        try await transact { transaction in
            let settings = StoreSchema.indexBuild(.sqlite)
            for statement in settings.before { try await transaction.execute(statement, []) }
            do {
                try await transaction.settle()
                try await transaction.execute(StoreSchema.historyKey.create, [])
            } catch {
                for statement in settings.after { try? await transaction.execute(statement, []) }
                throw error
            }
            transaction.bulk.switchTo = false
            // Puts the settings back when it is done.
            try await transaction.searchIndexes(drop: false)
            try await transaction.pool.writeWithoutTransaction { db in self.checkpoints.stop(on: db) }
        }
        try await storeErrors {
            try await writes.run {
                try await self.pool.writeWithoutTransaction { db in
                    try db.execute(sql: "PRAGMA wal_checkpoint(PASSIVE)")
                }
            }
        }
    }

    /// Pages of write-ahead log between checkpoints in bulk mode (4 KB each: 128 MB).
    static let bulkCheckpointPages = 32768

    public func commit(_ batch: MigrationBatch) async throws(StoreError) -> BatchOutcome {
        let time = now()
        let prepared = batch.prepared(indexing: indexing, time: time)
        return try await transact(time: time) { try await $0.commit(batch, prepared: prepared) }
    }

    public func claimPartition(run: String, partitions: [String], worker: String) async throws(StoreError) -> String? {
        try await transact { transaction in
            try await PartitionClaims.register(run, partitions, in: transaction)
            // One writer at a time: the open transaction is the claim's lock.
            let time = transaction.time.timeIntervalSince1970
            let found = try await transaction.pool.writeWithoutTransaction { db in
                try String.fetchOne(
                    db,
                    sql: "SELECT partition FROM migration_partition WHERE \(PartitionClaims.claimable) "
                        + "ORDER BY partition LIMIT 1", arguments: [run, worker, time])
            }
            if let found { try await PartitionClaims.take(run, found, worker: worker, in: transaction) }
            return found
        }
    }

    public func finishPartition(run: String, partition: String) async throws(StoreError) {
        try await transact { try await PartitionClaims.finish(run, partition, in: $0) }
    }

    public func checkpoint(run: String, partition: String) async throws(StoreError) -> Int? {
        try await reading { db in
            try Int.fetchOne(
                db, sql: "SELECT position FROM migration_checkpoint WHERE run = ? AND partition = ?",
                arguments: [run, partition])
        }
    }

    public func deadLetters(run: String) async throws(StoreError) -> [DeadLetter] {
        try await reading { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM migration_dead_letter WHERE run = ? ORDER BY locator", arguments: [run]
            ).map { row in
                let content: Data? = row["content"]
                return DeadLetter(
                    locator: row["locator"], partition: row["partition"], reason: row["reason"],
                    content: content.map { Array($0) } ?? [])
            }
        }
    }

    public func read(type: String, id: String) async throws(StoreError) -> StoredResource? {
        let stored = try await readingCurrent { db in
            try Self.row(db, "SELECT * FROM resource_current WHERE type = ? AND id = ?", [type, id])
        }
        if let stored, stored.resource == nil {
            throw StoreError(.gone, "\(type)/\(id) was deleted (version \(stored.version))")
        }
        return stored
    }

    public func read(type: String, id: String, version: Int) async throws(StoreError) -> StoredResource? {
        try await readingCurrent { db in
            try Self.row(
                db,
                "SELECT h.* FROM resource r JOIN resource_history h ON h.owner = r.owner "
                    + "WHERE r.type = ? AND r.id = ? AND h.version = ?", [type, id, version])
        }
    }

    public func history(type: String, id: String) async throws(StoreError) -> [StoredResource] {
        try await readingCurrent { db in
            try Row.fetchAll(
                db,
                sql: "SELECT h.* FROM resource r JOIN resource_history h ON h.owner = r.owner "
                    + "WHERE r.type = ? AND r.id = ? ORDER BY h.version DESC", arguments: [type, id]
            ).map(Self.stored)
        }
    }

    public func search(_ query: SearchQuery) async throws(StoreError) -> SearchResult {
        let sql = indexing.sql
        return try await readingCurrent { db in try Self.search(query, sql: sql, in: db) }
    }

    public func counts() async throws(StoreError) -> [String: Int] {
        try await readingCurrent { db in
            var counts: [String: Int] = [:]
            let rows = try Row.fetchAll(
                db, sql: "SELECT type, COUNT(*) AS n FROM resource WHERE deleted = 0 GROUP BY type")
            for row in rows { counts[row["type"]] = row["n"] }
            return counts
        }
    }

    public func currentResources(
        type: String, after: String?, limit: Int
    ) async throws(StoreError)
        -> [StoredResource]
    {
        try await readingCurrent { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM resource_current WHERE type = ? AND deleted = 0 AND id > ? ORDER BY id LIMIT ?",
                arguments: [type, after ?? "", limit]
            ).map(SQLiteStore.stored)
        }
    }

    public func summary(type: String, in range: IDRange, idOnly: Bool) async throws(StoreError) -> RangeSummary {
        let (condition, bounds) = range.condition(collate: "")
        let hash = idOnly ? "''" : "hash"
        return try await readingCurrent { db in
            let row = try Row.fetchOne(
                db,
                sql: "SELECT COUNT(*), \(FingerprintSum.function.name)(id, \(hash)) FROM resource "
                    + "WHERE type = ? AND deleted = 0\(condition)", arguments: StatementArguments([type] + bounds))
            let sum: Int64? = row?[1]
            return RangeSummary(count: row?[0] ?? 0, sum: UInt64(bitPattern: sum ?? 0))
        }
    }

    public func contentHashes(type: String, in range: IDRange, limit: Int) async throws(StoreError) -> [IDHash] {
        let (condition, bounds) = range.condition(collate: "")
        return try await readingCurrent { db in
            try Row.fetchAll(
                db,
                sql: "SELECT id, hash FROM resource WHERE type = ? AND deleted = 0\(condition) ORDER BY id LIMIT ?",
                arguments: StatementArguments(([type] + bounds).map { $0 as any DatabaseValueConvertible } + [limit])
            ).map { IDHash(id: $0[0], hash: $0[1]) }
        }
    }

    public func exportCurrent(_ body: @escaping @Sendable (StoredResource) throws -> Void) async throws(StoreError) {
        // One read transaction: in WAL mode it sees the database as of its start, whatever is written meanwhile.
        try await readingCurrent { db in
            let rows = try Row.fetchCursor(
                db, sql: "SELECT * FROM resource_current WHERE deleted = 0 ORDER BY type, id")
            while let row = try rows.next() { try body(try SQLiteStore.stored(row)) }
        }
    }

    private func reading<T: Sendable>(_ body: @Sendable @escaping (Database) throws -> T) async throws(StoreError) -> T
    {
        try await storeErrors { try await pool.read(body) }
    }

    /// A read of `resource`, once it holds every current version: what this store's bulk load keeps
    /// back is written first, and so is what a load left behind (a killed one, or another connection's).
    private func readingCurrent<T: Sendable>(
        _ body: @Sendable @escaping (Database) throws -> T
    ) async throws(StoreError) -> T {
        if deferred.hasPendingRows {
            try await transact { try await $0.settle() }
        } else if !deferred.isActive {
            let read = try await reading { db -> T? in try DeferredCurrents.lagsBehind(db) ? nil : body(db) }
            if let read { return read }
            // A write transaction begins by catching `resource` up.
            try await transact { _ in }
        }
        return try await reading(body)
    }

    // MARK: - Rows

    static func search(_ query: SearchQuery, sql: SearchSQL, in db: Database) throws -> SearchResult {
        let conditions = try sql.conditions(query)
        let arguments = StatementArguments(conditions.arguments.map(databaseValue))
        let total =
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM resource r WHERE \(conditions.text)", arguments: arguments)
            ?? 0
        let rows = try Row.fetchAll(
            db,
            sql:
                "SELECT r.* FROM resource_current r WHERE \(conditions.text) ORDER BY \(SearchSQL.order(query)) LIMIT ? OFFSET ?",
            arguments: arguments + [query.count, query.offset])
        return SearchResult(resources: try rows.map(stored), total: total)
    }

    static func row(_ db: Database, _ sql: String, _ arguments: StatementArguments) throws -> StoredResource? {
        try Row.fetchOne(db, sql: sql, arguments: arguments).map(stored)
    }

    static func stored(_ row: Row) throws -> StoredResource {
        let content: Data? = row["content"]
        return try StoreSchema.stored(
            type: row["type"], id: row["id"], version: row["version"], lastUpdated: row["last_updated"],
            deleted: row["deleted"] as Int != 0, hash: row["hash"], content: content.map { Array($0) })
    }

    static func databaseValue(_ argument: SQLArgument?) -> (any DatabaseValueConvertible)? {
        switch argument {
        case .text(let text)?: text
        case .real(let number)?: number
        case .integer(let number)?: number
        case .bytes(let bytes)?: Data(bytes)
        case nil: nil
        }
    }

    /// The row operations on the open transaction of the writer connection.
    struct Transaction: StoreTransaction {
        let pool: DatabasePool
        let indexing: StoreIndexing
        let time: Date
        /// Bulk mode's part: where current versions not yet in `resource` are.
        let bulk: DeferredTransaction

        func current(type: String, id: String) async throws -> StoredResource? {
            try await pool.writeWithoutTransaction { db in
                try Self.current(WriterStatements(db), ResourceKey(type: type, id: id), bulk: bulk)
            }
        }

        func save(_ stored: StoredResource) async throws {
            _ = try await pool.writeWithoutTransaction { db in
                try Self.save(
                    WriterStatements(db), stored, key: ResourceKey(type: stored.type, id: stored.id), bulk: bulk)
            }
        }

        /// Writes the current rows bulk mode kept back into `resource`.
        func settle() async throws {
            try await pool.writeWithoutTransaction { db in try bulk.settle(db) }
        }

        func replaceIndex(type: String, id: String, with rows: SearchIndexRows?, clearing: Bool) async throws {
            try await pool.writeWithoutTransaction { db in
                try Self.replaceIndex(
                    WriterStatements(db), ResourceKey(type: type, id: id), with: rows, clearing: clearing, bulk: bulk)
            }
        }

        func currents(_ keys: [ResourceKey]) async throws -> [String: StoredResource] {
            try await pool.writeWithoutTransaction { db in
                let writer = WriterStatements(db)
                var found: [String: StoredResource] = [:]
                for key in keys where found[key.name] == nil {
                    if let stored = try Self.current(writer, key, bulk: bulk) { found[key.name] = stored }
                }
                return found
            }
        }

        func saveAll(_ writes: [VersionWrite]) async throws {
            try await pool.writeWithoutTransaction { db in
                let writer = WriterStatements(db)
                for write in writes {
                    let key = ResourceKey(type: write.stored.type, id: write.stored.id, name: write.name)
                    let owner = try Self.save(writer, write.stored, key: key, content: write.content, bulk: bulk)
                    try Self.replaceIndex(
                        writer, owner: owner, type: write.stored.type, with: write.rows, clearing: write.clearing)
                }
            }
        }

        func insertIndex(_ entries: [(type: String, id: String, rows: SearchIndexRows)]) async throws {
            try await pool.writeWithoutTransaction { db in
                let writer = WriterStatements(db)
                for entry in entries {
                    try Self.replaceIndex(
                        writer, ResourceKey(type: entry.type, id: entry.id), with: entry.rows, clearing: false,
                        bulk: bulk)
                }
            }
        }

        /// The version and its index rows in one round trip to the writer connection.
        func saveIndexed(_ stored: StoredResource, rows: SearchIndexRows?, clearing: Bool) async throws {
            try await pool.writeWithoutTransaction { db in
                let writer = WriterStatements(db)
                let owner = try Self.save(
                    writer, stored, key: ResourceKey(type: stored.type, id: stored.id), bulk: bulk)
                try Self.replaceIndex(writer, owner: owner, type: stored.type, with: rows, clearing: clearing)
            }
        }

        func execute(_ sql: String, _ arguments: [SQLArgument?]) async throws {
            try await pool.writeWithoutTransaction { db in
                try db.execute(sql: sql, arguments: StatementArguments(arguments.map(SQLiteStore.databaseValue)))
            }
        }

        func search(_ query: SearchQuery) async throws -> SearchResult {
            let sql = indexing.sql
            return try await pool.writeWithoutTransaction { db in
                try bulk.settle(db)
                return try SQLiteStore.search(query, sql: sql, in: db)
            }
        }
    }
}

/// `ferry_fingerprint_sum(id, hash)`: the wrapping sum of `Fingerprint.of(id:hash:)` over the rows, as
/// a signed 64-bit integer (SQLite's own `sum` stops at an overflow).
struct FingerprintSum: DatabaseAggregate {
    static let function = DatabaseFunction(
        "ferry_fingerprint_sum", argumentCount: 2, pure: true, aggregate: FingerprintSum.self)

    var sum: UInt64 = 0

    mutating func step(_ values: [DatabaseValue]) throws {
        let id = String.fromDatabaseValue(values[0]) ?? ""
        let hash = String.fromDatabaseValue(values[1]) ?? ""
        sum &+= Fingerprint.of(id: id, hash: hash, idOnly: hash.isEmpty)
    }

    func finalize() throws -> (any DatabaseValueConvertible)? { Int64(bitPattern: sum) }
}
