import FHIR
import Foundation
import GRDB
import Testing

@testable import Store

/// The embedded store's tables: each version's content once, in the history; the current row points at it.
struct SQLiteLayoutTests {
    typealias Support = StoreTestSupport

    @Test func eachVersionIsStoredOnceAndTheCurrentRowPointsAtIt() async throws {
        try await Support.withFolder { folder in
            let path = folder.appendingPathComponent("store.sqlite").path
            let store = try SQLiteStore(path: path, definitions: Support.definitions)
            _ = try await store.update(Support.patient("p1", family: "First"))
            _ = try await store.update(Support.patient("p1", family: "Second"))
            _ = try await store.update(Support.patient("p2"))
            _ = try await store.delete(type: "Patient", id: "p2")
            #expect(try await store.read(type: "Patient", id: "p1")?.resource?["name"]?[0]?["family"] == "Second")
            #expect(
                try await store.read(type: "Patient", id: "p1", version: 1)?.resource?["name"]?[0]?["family"] == "First"
            )
            await #expect(throws: StoreError.self) { try await store.read(type: "Patient", id: "p2") }

            let database = try DatabaseQueue(path: path)
            try await database.read { db in
                #expect(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM resource_history") == 4)
                #expect(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM resource") == 2)
                // The current row names its version's history row; a deletion's has no content.
                let current = try Row.fetchAll(
                    db,
                    sql: "SELECT r.id, r.version, h.version AS pointed, h.content IS NULL AS empty FROM resource r "
                        + "JOIN resource_history h ON h.rowid = r.content_row ORDER BY r.id")
                let described = current.map { row -> String in
                    let id: String = row["id"]
                    let version: Int = row["version"]
                    let pointed: Int = row["pointed"]
                    let empty: Bool = row["empty"]
                    return "\(id) v\(version) → v\(pointed)\(empty ? " (deleted)" : "")"
                }
                #expect(described == ["p1 v2 → v2", "p2 v2 → v2 (deleted)"])
            }
        }
    }

    /// A resource's integer key, its owner, is the history row of its first version; every version
    /// and every index row carries it, and a reference's url is kept only when it is not `type/id`.
    @Test func versionsAndIndexRowsCarryTheResourcesOwner() async throws {
        try await Support.withFolder { folder in
            let path = folder.appendingPathComponent("store.sqlite").path
            let store = try SQLiteStore(path: path, definitions: Support.definitions)
            _ = try await store.update(Support.patient("p1", family: "First"))
            _ = try await store.update(Support.patient("p2"))
            _ = try await store.update(Support.patient("p1", family: "Second"))
            _ = try await store.update(
                Support.json(
                    """
                    {"resourceType":"Observation","id":"o1","status":"final","code":{"text":"pulse"},
                     "subject":{"reference":"Patient/p1"},
                     "performer":[{"reference":"https://other.example/fhir/Practitioner/x"}]}
                    """))
            let database = try DatabaseQueue(path: path)
            try await database.read { db in
                let history = try Row.fetchAll(
                    db, sql: "SELECT rowid AS row, owner, id, version FROM resource_history ORDER BY rowid"
                ).map { row -> String in
                    let (number, owner, id, version): (Int, Int, String, Int) = (
                        row["row"], row["owner"], row["id"], row["version"]
                    )
                    return "\(number) o\(owner) \(id) v\(version)"
                }
                #expect(history == ["1 o1 p1 v1", "2 o2 p2 v1", "3 o1 p1 v2", "4 o4 o1 v1"])
                #expect(try Int.fetchOne(db, sql: "SELECT owner FROM resource WHERE id = 'p1'") == 1)
                let family = try String.fetchAll(
                    db, sql: "SELECT exact FROM search_string WHERE owner = 1 AND param = ?",
                    arguments: [StoreSchema.parameterKey(type: "Patient", code: "family")])
                #expect(family == ["Second"])
                // Every index row's id lies in its owner's range, so replacing p1's rows left none behind.
                for table in SearchIndexRows.tables {
                    let outside = try Int.fetchOne(
                        db, sql: "SELECT count(*) FROM \(table) WHERE rowid < owner << 20 OR rowid >= (owner + 1) << 20"
                    )
                    #expect(outside == 0, "\(table)")
                }
                #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM search_string WHERE owner = 1") ?? 0 > 0)
                let references = try Row.fetchAll(
                    db, sql: "SELECT param, target_type, url FROM search_reference WHERE owner = 4 ORDER BY param")
                let codes = Dictionary(
                    uniqueKeysWithValues: Support.definitions.searchParameters(for: "Observation").map {
                        (StoreSchema.parameterKey(type: "Observation", code: $0.code), $0.code)
                    })
                let described = references.map {
                    "\(codes[$0["param"] as Int64] ?? "?") \($0["target_type"] as String? ?? "-") "
                        + "\($0["url"] as String? ?? "-")"
                }
                #expect(described.contains("subject Patient -"))
                #expect(described.contains("performer Practitioner https://other.example/fhir/Practitioner/x"))
            }
            #expect(
                try await store.search(SearchQuery("Observation?performer=https://other.example/fhir/Practitioner/x"))
                    .resources.map(\.id) == ["o1"])
            #expect(try await store.search(SearchQuery("Observation?subject=Patient/p1")).resources.map(\.id) == ["o1"])
            #expect(
                try await store.read(type: "Patient", id: "p1", version: 1)?.resource?["name"]?[0]?["family"] == "First"
            )
            #expect(try await store.history(type: "Patient", id: "p1").map(\.version) == [2, 1])
        }
    }

    /// A resource's index rows in each table take the row ids from its owner × 2^20 on; owners that
    /// could not name rows that way are refused.
    @Test func indexRowIDsFollowFromTheOwner() throws {
        #expect(try StoreSchema.indexRowIDs(owner: 1) == 1_048_576...2_097_151)
        #expect(try StoreSchema.indexRowIDs(owner: 3).count == 1 << 20)
        #expect(try StoreSchema.indexRowIDs(owner: (1 << 43) - 1).upperBound == Int64.max)
        #expect(throws: StoreError.self) { try StoreSchema.indexRowIDs(owner: 0) }
        #expect(throws: StoreError.self) { try StoreSchema.indexRowIDs(owner: 1 << 43) }
    }

    /// Index rows name their parameter by a key made from its type and code: no two parameters of the
    /// definitions may share one, or a search would find the other's rows.
    @Test func everySearchParameterHasAKeyOfItsOwn() {
        var seen: [Int64: String] = [:]
        var count = 0
        for type in Support.definitions.types.keys.sorted() where Support.definitions.isResourceType(type) {
            for parameter in Support.definitions.searchParameters(for: type) {
                let key = StoreSchema.parameterKey(type: type, code: parameter.code)
                let name = "\(type).\(parameter.code)"
                #expect(seen[key] == nil || seen[key] == name, "\(name) and \(seen[key] ?? "") share a key")
                seen[key] = name
                count += 1
                #expect(key >= 0 && key < 1 << 48)
            }
        }
        #expect(count > 3000)
        #expect(
            StoreSchema.parameterKey(type: "Patient", code: "name")
                != StoreSchema.parameterKey(type: "Person", code: "name"))
    }

    /// A search reads its parameter's value index (owners and all), not every resource of the type.
    @Test func aSearchIsAnsweredFromTheValueIndex() async throws {
        try await Support.withFolder { folder in
            let path = folder.appendingPathComponent("store.sqlite").path
            let store = try SQLiteStore(path: path, definitions: Support.definitions)
            for number in 0..<50 { _ = try await store.update(Support.patient("p\(number)")) }
            let conditions = try store.indexing.sql.conditions(
                try SearchQuery(type: "Patient", query: "identifier=MRN-p7"))
            let plan = try await DatabaseQueue(path: path).read { db in
                try Row.fetchAll(
                    db, sql: "EXPLAIN QUERY PLAN SELECT r.* FROM resource_current r WHERE \(conditions.text)",
                    arguments: StatementArguments(conditions.arguments.map(SQLiteStore.databaseValue))
                ).map { $0["detail"] as String }
            }
            #expect(plan.contains { $0.contains("COVERING INDEX search_token_value") }, "\(plan)")
            #expect(!plan.contains { $0.contains("SCAN") }, "\(plan)")
            #expect(
                try await store.search(try SearchQuery(type: "Patient", query: "identifier=MRN-p7")).resources.map(\.id)
                    == ["p7"])
        }
    }

    /// Bulk mode leaves the copies of the write-ahead log into the database file to its own connection
    /// (`BackgroundCheckpoints`, once the log holds `bulkCheckpointPages`): the writer makes none, where
    /// SQLite's default would copy the log after every 1,000 pages. The index build puts SQLite's
    /// default back (and the page cache it sorted without) and copies what the load left in the log.
    @Test func bulkModeCheckpointsSeldomAndTheBuildLeavesNothingInTheLog() async throws {
        try await Support.withFolder { folder in
            let path = folder.appendingPathComponent("bulk.sqlite").path
            let store = try SQLiteStore(path: path, definitions: Support.definitions)
            func autocheckpoint() async throws -> Int? {
                try await store.pool.write { db in try Int.fetchOne(db, sql: "PRAGMA wal_autocheckpoint") }
            }
            #expect(try await autocheckpoint() == 1000)
            try await store.dropSearchIndexes()
            for number in 0..<1000 {
                _ = try await store.update(
                    Support.patient("b\(number)", family: String(repeating: "Bulk\(number) ", count: 40)))
            }
            // 1,000 versions of about 1 KB, and their index rows: more than 1,000 pages of log, all still there.
            #expect(SQLiteBulkModeTests.logBytes(path) > 1000 * (4096 + 24))
            #expect(store.checkpoints.passCount == 0)
            try await store.buildSearchIndexes()
            #expect(try await autocheckpoint() == 1000)
            // The build sorted in small runs on helper threads, and put the writer's cache back.
            let settings = try await store.pool.write { db in
                [try Int.fetchOne(db, sql: "PRAGMA cache_size"), try Int.fetchOne(db, sql: "PRAGMA threads")]
            }
            #expect(settings == [-StoreSchema.sqliteCacheKB, 0])
            // What the load wrote is in the database file itself: a copy of the file without its log has it all.
            let copy = folder.appendingPathComponent("copy.sqlite").path
            try FileManager.default.copyItem(atPath: path, toPath: copy)
            let database = try DatabaseQueue(path: copy)
            #expect(
                try await database.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM resource") } == 1000)
        }
    }

    @Test func aStoreOfAnotherLayoutIsRefusedWithWhatToDo() async throws {
        try await Support.withFolder { folder in
            let path = folder.appendingPathComponent("old.sqlite").path
            // The first layout: content in both tables, no layout number.
            try await DatabaseQueue(path: path).write { db in
                try db.execute(
                    sql: """
                        CREATE TABLE resource (type TEXT, id TEXT, version INTEGER, last_updated REAL, deleted INTEGER,
                          hash TEXT, content BLOB, PRIMARY KEY (type, id)) WITHOUT ROWID;
                        CREATE TABLE migration_partition (run TEXT, partition TEXT, state TEXT, owner TEXT,
                          lease_until REAL, PRIMARY KEY (run, partition));
                        """)
            }
            #expect {
                _ = try SQLiteStore(path: path, definitions: Support.definitions)
            } throws: { error in
                let message = "\(error)"
                return message.contains("layout 0") && message.contains("old.sqlite") && message.contains("snapshot")
            }
        }
    }
}
