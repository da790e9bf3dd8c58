import Foundation
import GRDB
import GRDBSQLite
import Testing

@testable import Store

/// The writer's statements: kept for a turn at the connection, text and bytes bound from the
/// statement's own buffer (`SQLITE_STATIC`), nothing left bound into it after the turn.
struct RawStatementTests {
    static let insert = WriterSQL("INSERT INTO t (a, b, c, d, blob) VALUES (?, ?, ?, ?, ?)")

    static func database() throws -> DatabaseQueue {
        let database = try DatabaseQueue()
        try database.write { db in try db.execute(sql: "CREATE TABLE t (a TEXT, b TEXT, c TEXT, d TEXT, blob BLOB)") }
        return database
    }

    static func rows(_ database: DatabaseQueue) throws -> [[String?]] {
        try database.read { db in
            try Row.fetchAll(
                db, sql: "SELECT a, b, c, d, CASE WHEN blob IS NULL THEN NULL ELSE hex(blob) END FROM t ORDER BY rowid"
            ).map { row in
                (0..<5).map { column -> String? in row[column] }
            }
        }
    }

    /// Rows of every length from empty to beyond the buffer's first block, non-ASCII text and NULLs,
    /// read back exactly as bound; the values of one row together outgrow the block, so the earlier
    /// ones must stay where SQLite reads them while the later ones go to a new block.
    @Test func everyValueIsReadBackAsBound() throws {
        let database = try Self.database()
        var expected: [[String?]] = []
        try database.write { db in
            let writer = WriterStatements(db)
            for row in 0..<300 {
                let length = (row * 37) % 3_000
                let texts: [String?] = [
                    String(repeating: "é", count: length / 2),
                    row % 7 == 0 ? nil : String(repeating: "x", count: length) + "\(row)",
                    row % 5 == 0 ? "" : "Patient/\(row)",
                    String(repeating: "ü", count: 2_100 - length % 2_000),
                ]
                let blob: [UInt8]? =
                    row % 11 == 0 ? nil : (0..<(length + 1)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
                let statement = try writer(Self.insert)
                for (index, text) in texts.enumerated() { statement.bind(Int32(index + 1), text) }
                statement.bind(5, bytes: blob)
                try statement.run(db)
                expected.append(texts + [blob.map { $0.map { String(format: "%02X", $0) }.joined() }])
            }
        }
        let read = try Self.rows(database)
        #expect(read.count == expected.count)
        for (got, want) in zip(read, expected) { #expect(got == want) }
    }

    /// The same statement serves every row of a turn (one prepared statement, not one a row).
    @Test func aTurnKeepsEachStatement() throws {
        let database = try Self.database()
        try database.write { db in
            let writer = WriterStatements(db)
            let first = try writer(Self.insert)
            first.bind(1, "one")
            try first.run(db)
            let second = try writer(Self.insert)
            #expect(first.handle == second.handle)
            second.bind(1, "two")
            try second.run(db)
        }
        #expect(try Self.rows(database).map { $0[0] } == ["one", "two"])
    }

    /// After the turn nothing stays bound to the buffer that went with it: the statement GRDB keeps,
    /// stepped again with no values bound, inserts NULLs (not whatever the freed memory holds).
    @Test func nothingStaysBoundAfterTheTurn() throws {
        let database = try Self.database()
        try database.write { db in
            do {
                let writer = WriterStatements(db)
                let statement = try writer(Self.insert)
                statement.bind(1, String(repeating: "a", count: 5_000))
                statement.bind(2, "b")
                statement.bind(5, bytes: [1, 2, 3])
                try statement.run(db)
                // Bound again and not run: the turn ends with these values bound.
                statement.bind(1, String(repeating: "c", count: 5_000))
                statement.bind(5, bytes: [4, 5, 6])
            }
            let kept = try db.cachedStatement(sql: Self.insert.text).sqliteStatement
            sqlite3_reset(kept)
            #expect(sqlite3_step(kept) == SQLITE_DONE)
            sqlite3_reset(kept)
        }
        let rows = try Self.rows(database)
        #expect(rows.count == 2)
        #expect(rows[1] == [nil, nil, nil, nil, nil])
    }

    /// Each `WriterSQL` has a slot of its own.
    @Test func everyWriterStatementHasItsOwnSlot() {
        typealias SQL = SQLiteStore.Transaction.SQL
        let slots =
            [SQL.pendingVersion, SQL.currentVersion, SQL.pendingOwner, SQL.currentOwner, SQL.appendVersion]
            .map(\.slot) + [SQL.replaceCurrent.slot] + SQL.deleteIndexRows.map(\.slot)
            + [
                SQL.insertToken, SQL.insertString, SQL.insertDate, SQL.insertReference, SQL.insertNumber,
                SQL.insertQuantity, SQL.insertUri,
            ].map(\.statement.slot) + [Self.insert.slot]
        #expect(Set(slots).count == slots.count)
    }
}
