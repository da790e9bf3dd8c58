import FHIR
import Foundation
import Logging
import NIOCore
import PostgresNIO

/// The FHIR store on PostgreSQL (postgres-nio), for scale: the same tables and the same behaviour
/// as `SQLiteStore`. Each write and each transaction Bundle is one PostgreSQL transaction; writes to
/// the same resource take turns by an advisory lock on its type and id.
public final class PostgresStore: FHIRStore {
    let client: PostgresClient
    let indexing: StoreIndexing
    let now: @Sendable () -> Date
    private let running: Task<Void, Never>
    private let logger: Logger

    /// Connects to `postgres://user[:password]@host[:port]/database` and creates the tables when absent.
    public init(
        url: String, definitions: FHIRDefinitions, now: @escaping @Sendable () -> Date = { Date() },
        logger: Logger = Logger(label: "ferry.store.postgres")
    ) async throws(StoreError) {
        guard let components = URLComponents(string: url), ["postgres", "postgresql"].contains(components.scheme),
            let host = components.host, let user = components.user
        else {
            throw StoreError(.invalid, "not a postgres:// URL (postgres://user@host:port/database)")
        }
        let database = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        let configuration = PostgresClient.Configuration(
            host: host, port: components.port ?? 5432, username: user, password: components.password,
            database: database.isEmpty ? nil : database, tls: .disable)
        client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        indexing = StoreIndexing(definitions: definitions, dialect: .postgres)
        self.now = now
        self.logger = logger
        let client = client
        running = Task { await client.run() }
        try await storeErrors {
            try await client.withConnection { connection in
                // Two stores opening at once must not race to create the tables.
                try await connection.query("SELECT pg_advisory_lock(20261125)", logger: logger)
                for statement in StoreSchema.sql(for: .postgres).split(separator: ";\n") {
                    let text = statement.hasSuffix(";") ? String(statement.dropLast()) : String(statement)
                    try await connection.query(PostgresQuery(unsafeSQL: text), logger: logger)
                }
                try await connection.query("SELECT pg_advisory_unlock(20261125)", logger: logger)
            }
        }
    }

    deinit { running.cancel() }

    /// Runs `body` in one PostgreSQL transaction: committed when it returns, rolled back when it throws.
    func transact<T: Sendable>(
        time: Date? = nil, _ body: @Sendable @escaping (Transaction) async throws -> T
    ) async throws(StoreError)
        -> T
    {
        let time = time ?? now()
        let indexing = indexing
        let logger = logger
        return try await storeErrors {
            do {
                return try await client.withTransaction(logger: logger) { connection in
                    try await body(Transaction(connection: connection, indexing: indexing, time: time, logger: logger))
                }
            } catch let error as PostgresTransactionError {
                // The store's own errors (a conditional write that matched two) come back as they were.
                if let closureError = error.closureError as? StoreError { throw closureError }
                throw error
            }
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

    public func dropSearchIndexes() async throws(StoreError) {
        try await transact { try await $0.searchIndexes(drop: true) }
    }

    public func buildSearchIndexes() async throws(StoreError) {
        try await transact { try await $0.searchIndexes(drop: false) }
    }

    public func commit(_ batch: MigrationBatch) async throws(StoreError) -> BatchOutcome {
        let time = now()
        let prepared = batch.prepared(indexing: indexing, time: time)
        return try await transact(time: time) { try await $0.commit(batch, prepared: prepared) }
    }

    public func claimPartition(run: String, partitions: [String], worker: String) async throws(StoreError) -> String? {
        try await transact { transaction in
            try await PartitionClaims.register(run, partitions, in: transaction)
            // Rows another worker's claim has locked are skipped, not waited for.
            let rows = try await transaction.connection.query(
                Transaction.query(
                    "SELECT partition FROM migration_partition WHERE \(PartitionClaims.claimable) "
                        + "ORDER BY partition LIMIT 1 FOR UPDATE SKIP LOCKED",
                    [.text(run), .text(worker), .real(transaction.time.timeIntervalSince1970)]),
                logger: transaction.logger)
            var found: String?
            for try await partition in rows.decode(String.self) { found = partition }
            if let found { try await PartitionClaims.take(run, found, worker: worker, in: transaction) }
            return found
        }
    }

    public func finishPartition(run: String, partition: String) async throws(StoreError) {
        try await transact { try await PartitionClaims.finish(run, partition, in: $0) }
    }

    public func checkpoint(run: String, partition: String) async throws(StoreError) -> Int? {
        try await reading { transaction in
            let rows = try await transaction.connection.query(
                Transaction.query(
                    "SELECT position FROM migration_checkpoint WHERE run = ? AND partition = ?",
                    [.text(run), .text(partition)]), logger: transaction.logger)
            var position: Int?
            for try await value in rows.decode(Int.self) { position = value }
            return position
        }
    }

    public func deadLetters(run: String) async throws(StoreError) -> [DeadLetter] {
        try await reading { transaction in
            let rows = try await transaction.connection.query(
                Transaction.query(
                    "SELECT locator, partition, reason, content FROM migration_dead_letter WHERE run = ? ORDER BY locator",
                    [.text(run)]), logger: transaction.logger)
            var letters: [DeadLetter] = []
            for try await (locator, partition, reason, content) in rows.decode(
                (String, String, String, ByteBuffer?).self)
            {
                letters.append(
                    DeadLetter(
                        locator: locator, partition: partition, reason: reason,
                        content: content.map { Array($0.readableBytesView) } ?? []))
            }
            return letters
        }
    }

    public func read(type: String, id: String) async throws(StoreError) -> StoredResource? {
        let stored = try await reading {
            try await $0.rows("SELECT * FROM resource WHERE type = ? AND id = ?", [.text(type), .text(id)]).first
        }
        if let stored, stored.resource == nil {
            throw StoreError(.gone, "\(type)/\(id) was deleted (version \(stored.version))")
        }
        return stored
    }

    public func read(type: String, id: String, version: Int) async throws(StoreError) -> StoredResource? {
        try await reading {
            try await $0.rows(
                "SELECT * FROM resource_history WHERE type = ? AND id = ? AND version = ?",
                [.text(type), .text(id), .integer(version)]
            ).first
        }
    }

    public func history(type: String, id: String) async throws(StoreError) -> [StoredResource] {
        try await reading {
            try await $0.rows(
                "SELECT * FROM resource_history WHERE type = ? AND id = ? ORDER BY version DESC",
                [.text(type), .text(id)])
        }
    }

    public func search(_ query: SearchQuery) async throws(StoreError) -> SearchResult {
        try await reading { try await $0.search(query) }
    }

    public func counts() async throws(StoreError) -> [String: Int] {
        try await storeErrors {
            var counts: [String: Int] = [:]
            let rows = try await client.query(
                "SELECT type, COUNT(*) FROM resource WHERE deleted = 0 GROUP BY type", logger: logger)
            for try await (type, count) in rows.decode((String, Int).self) { counts[type] = count }
            return counts
        }
    }

    public func currentResources(
        type: String, after: String?, limit: Int
    ) async throws(StoreError)
        -> [StoredResource]
    {
        try await reading {
            try await $0.rows(
                "SELECT * FROM resource WHERE type = ? AND deleted = 0 AND id COLLATE \"C\" > ? ORDER BY id COLLATE \"C\" LIMIT ?",
                [.text(type), .text(after ?? ""), .integer(limit)])
        }
    }

    public func summary(type: String, in range: IDRange, idOnly: Bool) async throws(StoreError) -> RangeSummary {
        let (condition, bounds) = range.condition(collate: " COLLATE \"C\"")
        let sql =
            "SELECT COUNT(*)::bigint, COALESCE(SUM(\(Fingerprint.postgresExpression(idOnly: idOnly))::numeric), 0)::text "
            + "FROM resource WHERE type = ? AND deleted = 0\(condition)"
        let query = Transaction.query(sql, ([type] + bounds).map { .text($0) })
        return try await storeErrors {
            var summary = RangeSummary()
            for try await (count, sum) in try await client.query(query, logger: logger).decode((Int, String).self) {
                summary = RangeSummary(count: count, sum: Fingerprint.wrapping(decimal: sum))
            }
            return summary
        }
    }

    public func contentHashes(type: String, in range: IDRange, limit: Int) async throws(StoreError) -> [IDHash] {
        let (condition, bounds) = range.condition(collate: " COLLATE \"C\"")
        let sql =
            "SELECT id, hash FROM resource WHERE type = ? AND deleted = 0\(condition) ORDER BY id COLLATE \"C\" LIMIT ?"
        let query = Transaction.query(sql, ([type] + bounds).map { .text($0) } + [.integer(limit)])
        return try await storeErrors {
            var hashes: [IDHash] = []
            for try await (id, hash) in try await client.query(query, logger: logger).decode((String, String).self) {
                hashes.append(IDHash(id: id, hash: hash))
            }
            return hashes
        }
    }

    public func exportCurrent(_ body: @escaping @Sendable (StoredResource) throws -> Void) async throws(StoreError) {
        // One repeatable-read transaction: every page sees the database as of its first statement.
        let types = try await counts().keys.sorted()
        _ = try await transact { transaction in
            try await transaction.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ", [])
            for type in types {
                var after = ""
                while true {
                    let page = try await transaction.rows(
                        "SELECT * FROM resource WHERE type = ? AND deleted = 0 AND id COLLATE \"C\" > ? "
                            + "ORDER BY id COLLATE \"C\" LIMIT 1000", [.text(type), .text(after)])
                    for stored in page { try body(stored) }
                    guard let last = page.last, page.count == 1000 else { break }
                    after = last.id
                }
            }
            return 0
        }
    }

    private func reading<T: Sendable>(
        _ body: @Sendable @escaping (Transaction) async throws -> T
    ) async throws(StoreError)
        -> T
    {
        let indexing = indexing
        let logger = logger
        let time = now()
        return try await storeErrors {
            try await client.withConnection { connection in
                try await body(Transaction(connection: connection, indexing: indexing, time: time, logger: logger))
            }
        }
    }

    /// The row operations on one connection (inside its transaction, for writes).
    struct Transaction: StoreTransaction {
        let connection: PostgresConnection
        let indexing: StoreIndexing
        let time: Date
        let logger: Logger

        func current(type: String, id: String) async throws -> StoredResource? {
            // Writers of one resource take turns until their transactions end.
            try await execute("SELECT pg_advisory_xact_lock(hashtext(?))", [.text("\(type)/\(id)")])
            return try await rows("SELECT * FROM resource WHERE type = ? AND id = ?", [.text(type), .text(id)]).first
        }

        func save(_ stored: StoredResource) async throws {
            let values: [SQLArgument?] = [
                .text(stored.type), .text(stored.id), .integer(stored.version),
                .real(stored.lastUpdated.timeIntervalSince1970), .integer(stored.resource == nil ? 1 : 0),
                .text(stored.contentHash),
            ]
            let marks = "?, ?, ?, ?, ?, ?, ?"
            try await execute(
                "INSERT INTO resource VALUES (\(marks)) ON CONFLICT (type, id) DO UPDATE SET version = EXCLUDED.version, "
                    + "last_updated = EXCLUDED.last_updated, deleted = EXCLUDED.deleted, hash = EXCLUDED.hash, "
                    + "content = EXCLUDED.content", values, bytes: stored.resource.map(\.canonicalBytes))
            try await execute(
                "INSERT INTO resource_history VALUES (\(marks))", values, bytes: stored.resource.map(\.canonicalBytes))
        }

        func replaceIndex(type: String, id: String, with rows: SearchIndexRows?, clearing: Bool) async throws {
            for table in SearchIndexRows.tables where clearing {
                try await execute("DELETE FROM \(table) WHERE type = ? AND id = ?", [.text(type), .text(id)])
            }
            for (table, values) in rows?.rows ?? [] {
                let marks = Array(repeating: "?", count: values.count + 2).joined(separator: ", ")
                try await execute("INSERT INTO \(table) VALUES (\(marks))", [.text(type), .text(id)] + values)
            }
        }

        func search(_ query: SearchQuery) async throws -> SearchResult {
            let conditions = try indexing.sql.conditions(query)
            let arguments = conditions.arguments.map { Optional($0) }
            var total = 0
            let counted = try await connection.query(
                Self.query("SELECT COUNT(*) FROM resource r WHERE \(conditions.text)", arguments), logger: logger)
            for try await count in counted.decode(Int.self) { total = count }
            let found = try await rows(
                "SELECT r.* FROM resource r WHERE \(conditions.text) ORDER BY \(SearchSQL.order(query)) LIMIT ? OFFSET ?",
                arguments + [.integer(query.count), .integer(query.offset)])
            return SearchResult(resources: found, total: total)
        }

        func rows(_ sql: String, _ arguments: [SQLArgument?]) async throws -> [StoredResource] {
            try await rows(Self.query(sql, arguments))
        }

        func rows(_ query: PostgresQuery) async throws -> [StoredResource] {
            let result = try await connection.query(query, logger: logger)
            var stored: [StoredResource] = []
            for try await (type, id, version, lastUpdated, deleted, hash, content) in result.decode(
                (String, String, Int, Double, Int, String, ByteBuffer?).self)
            {
                stored.append(
                    try StoreSchema.stored(
                        type: type, id: id, version: version, lastUpdated: lastUpdated, deleted: deleted != 0,
                        hash: hash, content: content.map { Array($0.readableBytesView) }))
            }
            return stored
        }

        /// Runs a statement.
        func execute(_ sql: String, _ arguments: [SQLArgument?]) async throws {
            try await connection.query(Self.query(sql, arguments), logger: logger)
        }

        /// Runs a statement whose last `?` takes bytes (`nil`: SQL NULL).
        func execute(_ sql: String, _ arguments: [SQLArgument?], bytes: [UInt8]?) async throws {
            var query = Self.query(sql, arguments)
            if let bytes { query.binds.append(ByteBuffer(bytes: bytes)) } else { query.binds.appendNull() }
            try await connection.query(query, logger: logger)
        }

        /// SQL with `?` placeholders as PostgreSQL's `$1`, `$2`, … and the values bound.
        static func query(_ sql: String, _ arguments: [SQLArgument?]) -> PostgresQuery {
            var binds = PostgresBindings()
            for argument in arguments {
                switch argument {
                case .text(let value)?: binds.append(value)
                case .real(let value)?: binds.append(value)
                case .integer(let value)?: binds.append(value)
                case .bytes(let value)?: binds.append(ByteBuffer(bytes: value))
                case nil: binds.appendNull()
                }
            }
            return PostgresQuery(unsafeSQL: numbered(sql), binds: binds)
        }

        /// `?` placeholders as PostgreSQL's `$1`, `$2`, ….
        static func numbered(_ sql: String) -> String {
            var text = ""
            var number = 0
            for character in sql {
                if character == "?" {
                    number += 1
                    text += "$\(number)"
                } else {
                    text.append(character)
                }
            }
            return text
        }
    }
}
