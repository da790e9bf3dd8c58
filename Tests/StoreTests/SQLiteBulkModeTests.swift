import FHIR
import Foundation
import GRDB
import Testing

@testable import Store

/// Bulk mode on SQLite keeps new versions' current rows out of `resource` until the load ends
/// (`DeferredCurrents`); whatever happens meanwhile, the store must read and end as if it had not.
struct SQLiteBulkModeTests {
    typealias Support = StoreTestSupport

    /// A clock that does not move.
    static let clock: @Sendable () -> Date = { Date(timeIntervalSince1970: 1_780_000_000) }

    static func open(
        _ path: String, spillRows: Int = 200_000, checkpointPages: Int = SQLiteStore.bulkCheckpointPages
    ) throws -> SQLiteStore {
        try SQLiteStore(
            path: path, definitions: Support.definitions, now: clock, deferred: DeferredCurrents(spillRows: spillRows),
            checkpointPages: checkpointPages)
    }

    /// The rows of `resource`, of the history and of the token index as text, read by a connection of
    /// their own, each with its resource's owner.
    static func tables(_ path: String) throws -> (current: [String], history: [String], tokens: [String]) {
        try DatabaseQueue(path: path).read { db in
            let current = try Row.fetchAll(
                db,
                sql:
                    "SELECT r.*, h.version AS pointed FROM resource r JOIN resource_history h ON h.rowid = r.content_row "
                    + "ORDER BY r.type, r.id")
            let history = try Row.fetchAll(
                db,
                sql: "SELECT owner, type, id, version, last_updated, deleted, hash FROM resource_history "
                    + "ORDER BY type, id, version")
            let tokens = try Row.fetchAll(
                db, sql: "SELECT * FROM search_token ORDER BY owner, param, system, code")
            return (
                current.map {
                    "\($0["type"] as String)/\($0["id"] as String) o\($0["owner"] as Int) v\($0["version"] as Int) → "
                        + "v\($0["pointed"] as Int) deleted=\($0["deleted"] as Int) \($0["hash"] as String) "
                        + "\($0["last_updated"] as Double)"
                },
                history.map {
                    "\($0["type"] as String)/\($0["id"] as String) o\($0["owner"] as Int) v\($0["version"] as Int) "
                        + "deleted=\($0["deleted"] as Int) \($0["hash"] as String)"
                },
                tokens.map { $0.description }
            )
        }
    }

    static func indexes(_ path: String) throws -> [String] {
        try DatabaseQueue(path: path).read { db in
            try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'index' ORDER BY name")
        }
    }

    /// Every version and every index row names its resource's owner (and a parameter of its type), and
    /// no two resources share one.
    static func ownersAgree(_ path: String) throws -> Bool {
        try DatabaseQueue(path: path).read { db in
            let strays = try Int.fetchOne(
                db,
                sql: "SELECT (SELECT COUNT(*) FROM resource_history h LEFT JOIN resource r ON r.type = h.type "
                    + "AND r.id = h.id WHERE r.owner IS NOT h.owner) + (SELECT COUNT(*) FROM search_token i "
                    + "LEFT JOIN resource r ON r.owner = i.owner WHERE r.type IS NULL OR r.deleted != 0)")
            let shared = try Int.fetchOne(
                db, sql: "SELECT COUNT(*) - COUNT(DISTINCT owner) FROM resource")
            let parameters = try Row.fetchAll(
                db, sql: "SELECT DISTINCT r.type, i.param FROM search_token i JOIN resource r ON r.owner = i.owner")
            let foreign = parameters.filter { row in
                let type: String = row["type"]
                return !Support.definitions.searchParameters(for: type).contains {
                    StoreSchema.parameterKey(type: type, code: $0.code) == row["param"] as Int64
                }
            }
            return strays == 0 && shared == 0 && foreign.isEmpty
        }
    }

    static func count(_ path: String) throws -> Int {
        try DatabaseQueue(path: path).read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM resource") ?? 0 }
    }

    /// Writes, updates, an unchanged write, a delete and a transaction Bundle, in that order.
    static func load(_ store: SQLiteStore) async throws {
        for number in 0..<6 { _ = try await store.update(Support.patient("p\(number)", family: "First")) }
        _ = try await store.update(Support.patient("p1", family: "Second"))
        _ = try await store.update(Support.patient("p1", family: "Second"))
        _ = try await store.delete(type: "Patient", id: "p2")
        _ = try await store.update(Support.patient("p2", family: "Back"))
        _ = try await store.transaction(
            Support.json(
                """
                {"resourceType":"Bundle","type":"transaction","entry":[
                 {"resource":{"resourceType":"Patient","id":"p3","gender":"male"},"request":{"method":"PUT","url":"Patient/p3"}},
                 {"resource":{"resourceType":"Patient","id":"p9","gender":"male"},"request":{"method":"PUT","url":"Patient/p9"}}]}
                """))
    }

    @Test func aBulkLoadEndsWithTheSameTablesAsWritesOneByOne() async throws {
        try await Support.withFolder { folder in
            let plain = folder.appendingPathComponent("plain.sqlite").path
            try await Self.load(try Self.open(plain))
            let bulkPath = folder.appendingPathComponent("bulk.sqlite").path
            let bulk = try Self.open(bulkPath)
            try await bulk.dropSearchIndexes()
            try await Self.load(bulk)
            // Kept back: `resource` has none of them yet …
            #expect(try Self.count(bulkPath) == 0)
            try await bulk.buildSearchIndexes()
            // … and after the build the same rows as the store written one resource at a time.
            let expected = try Self.tables(plain)
            #expect(expected.current.count == 7)
            #expect(expected.history.count == 11)
            #expect(try Self.tables(bulkPath) == expected)
            #expect(expected.tokens.count > 7)
            #expect(try Self.ownersAgree(plain))
            #expect(try Self.ownersAgree(bulkPath))
            // Every index the load dropped (resource's by owner and time among them) is back.
            #expect(try Self.indexes(bulkPath) == Self.indexes(plain))
            #expect(try Self.indexes(plain).contains("resource_owner"))
            #expect(!bulk.deferred.isActive)
        }
    }

    @Test func readsDuringABulkLoadSeeEveryWrite() async throws {
        try await Support.withFolder { folder in
            let path = folder.appendingPathComponent("store.sqlite").path
            let store = try Self.open(path)
            try await store.dropSearchIndexes()
            _ = try await store.update(Support.patient("a", family: "One"))
            _ = try await store.update(Support.patient("a", family: "Two"))
            #expect(try await store.read(type: "Patient", id: "a")?.version == 2)
            #expect(try await store.read(type: "Patient", id: "a")?.resource?["name"]?[0]?["family"] == "Two")
            _ = try await store.update(Support.patient("b"))
            #expect(try await store.counts() == ["Patient": 2])
            let found = try await store.search(try SearchQuery(type: "Patient", query: "family=two"))
            #expect(found.resources.map(\.id) == ["a"])
            // Versions written after a read still go on from the right number.
            #expect(try await store.update(Support.patient("a", family: "Three")).stored.version == 3)
            try await store.buildSearchIndexes()
            #expect(try await store.read(type: "Patient", id: "a")?.version == 3)
        }
    }

    /// What a bulk load keeps back lives in memory: a store left in bulk mode (its loader killed) is
    /// caught up by the next connection from the history, and the loader notices that another
    /// connection wrote meanwhile.
    @Test func anotherConnectionCatchesUpAndTheLoaderNoticesItsWrites() async throws {
        try await Support.withFolder { folder in
            let path = folder.appendingPathComponent("store.sqlite").path
            let loader = try Self.open(path)
            try await loader.dropSearchIndexes()
            _ = try await loader.update(Support.patient("p", family: "One"))
            _ = try await loader.update(Support.patient("p", family: "Two"))
            _ = try await loader.update(Support.patient("q"))
            #expect(try Self.count(path) == 0)

            let other = try Self.open(path)
            #expect(try await other.read(type: "Patient", id: "p")?.version == 2)
            #expect(try await other.update(Support.patient("p", family: "Three")).stored.version == 3)
            #expect(try await other.read(type: "Patient", id: "q")?.version == 1)

            // The loader's memory says version 2 is current; the history says 3.
            #expect(try await loader.update(Support.patient("p", family: "Four")).stored.version == 4)
            _ = try await loader.update(Support.patient("r"))
            #expect(try await other.read(type: "Patient", id: "r")?.version == 1)
            try await loader.buildSearchIndexes()
            let tables = try Self.tables(path)
            #expect(tables.history.filter { $0.hasPrefix("Patient/p ") }.count == 4)
            #expect(tables.current.count == 3)
            #expect(tables.current.first { $0.hasPrefix("Patient/p ") }?.contains("v4 → v4") == true)
            #expect(try Self.ownersAgree(path))
        }
    }

    @Test func tooManyPendingRowsAreWrittenBetweenCommits() async throws {
        try await Support.withFolder { folder in
            let path = folder.appendingPathComponent("store.sqlite").path
            let store = try Self.open(path, spillRows: 3)
            try await store.dropSearchIndexes()
            for number in 0..<10 { _ = try await store.update(Support.patient("s\(number)")) }
            // Written after the 3rd, 6th and 9th commit.
            #expect(try Self.count(path) == 9)
            #expect(try await store.update(Support.patient("s0", family: "Again")).stored.version == 2)
            try await store.buildSearchIndexes()
            #expect(try Self.count(path) == 10)
            #expect(try await store.read(type: "Patient", id: "s0")?.version == 2)
        }
    }

    /// In bulk mode the log is copied into the file by a connection of its own, beside the writer; after
    /// each copy the writer copies what it appended meanwhile, and the log starts again from its
    /// beginning instead of growing with the load.
    @Test func theLogIsCopiedBesideTheWriterAndStartsAgain() async throws {
        try await Support.withFolder { folder in
            let plainPath = folder.appendingPathComponent("plain.sqlite").path
            let path = folder.appendingPathComponent("bulk.sqlite").path
            let plain = try Self.open(plainPath)
            let threshold = 32
            let store = try Self.open(path, checkpointPages: threshold)
            try await store.dropSearchIndexes()
            var largestLog = 0
            var restarts: Set<UInt32> = []
            for number in 0..<1200 {
                let patient = Support.patient("c\(number)", family: String(repeating: "Family\(number) ", count: 40))
                _ = try await plain.update(patient)
                _ = try await store.update(patient)
                largestLog = max(largestLog, Self.logBytes(path))
                restarts.insert(Self.logSequence(path))
            }
            try await store.buildSearchIndexes()
            let pages = try Self.pageCount(path)
            #expect(store.checkpoints.passCount >= 3)
            #expect(pages > 1000)
            // After each pass the log starts again (here 219 and 230 times in 174 and 176 passes); when
            // the writer leaves the rest of each pass to the next one, only when a pass happens to end
            // between two commits (120–140 times in 320–345 passes).
            #expect(restarts.count * 4 >= store.checkpoints.passCount * 3)
            // A frame of log is a page and 24 bytes. Here the log stays under 60 frames, and reached 133
            // with the whole suite running beside it on two cores (a slow pass lets the writer append
            // more); with the writer leaving the rest to the next pass it grew to 115–268.
            #expect(largestLog < 8 * threshold * (4096 + 24))
            #expect(try Self.tables(path) == Self.tables(plainPath))
            let integrity = try await DatabaseQueue(path: path).read { db in
                try String.fetchOne(db, sql: "PRAGMA integrity_check")
            }
            #expect(integrity == "ok")
        }
    }

    /// The log's checkpoint sequence number (its header's bytes 12–15, big-endian): one more each time
    /// the log starts again from its beginning.
    static func logSequence(_ path: String) -> UInt32 {
        guard let handle = FileHandle(forReadingAtPath: path + "-wal"), let header = try? handle.read(upToCount: 16),
            header.count == 16
        else { return 0 }
        return header[12..<16].reduce(0) { $0 << 8 | UInt32($1) }
    }

    static func logBytes(_ path: String) -> Int {
        let attributes = try? FileManager.default.attributesOfItem(atPath: path + "-wal")
        return (attributes?[.size] as? Int) ?? 0
    }

    /// Pages of the database file.
    static func pageCount(_ path: String) throws -> Int {
        try DatabaseQueue(path: path).read { db in try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 0 }
    }

    /// A transaction that fails leaves nothing behind in bulk mode either.
    @Test func aRolledBackTransactionLeavesNoPendingRow() async throws {
        try await Support.withFolder { folder in
            let path = folder.appendingPathComponent("store.sqlite").path
            let store = try Self.open(path)
            try await store.dropSearchIndexes()
            _ = try await store.update(Support.patient("kept"))
            await #expect(throws: StoreError.self) {
                _ = try await store.transaction(
                    Support.json(
                        """
                        {"resourceType":"Bundle","type":"transaction","entry":[
                         {"resource":{"resourceType":"Patient","id":"kept","gender":"male"},"request":{"method":"PUT","url":"Patient/kept"}},
                         {"resource":{"resourceType":"Patient","id":"lost"},"request":{"method":"PUT","url":"Patient/lost"}},
                         {"resource":{"resourceType":"NoSuchType","id":"x"},"request":{"method":"PUT","url":"NoSuchType/x"}}]}
                        """))
            }
            #expect(try await store.read(type: "Patient", id: "lost") == nil)
            #expect(try await store.read(type: "Patient", id: "kept")?.version == 1)
            #expect(try await store.update(Support.patient("lost")).stored.version == 1)
            #expect(try await store.update(Support.patient("kept", family: "New")).stored.version == 2)
            try await store.buildSearchIndexes()
            #expect(try Self.tables(path).history.count == 3)
        }
    }
}
