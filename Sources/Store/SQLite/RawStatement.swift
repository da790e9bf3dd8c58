import GRDB
import GRDBSQLite

/// One of GRDB's prepared statements bound and stepped through SQLite's C API. A migration writes
/// its resources and their index rows by the hundred thousand, and GRDB's arguments (an array of
/// existential values per row) cost more than SQLite's insert itself; these writes bind each value
/// where it is.
///
/// Only for statements that write (no rows come back); the statement is reset before each use.
struct RawStatement {
    private let handle: OpaquePointer
    private let sql: String

    /// SQLite copies the bytes at once (`SQLITE_TRANSIENT`).
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    init(_ db: Database, _ sql: String) throws {
        handle = try db.cachedStatement(sql: sql).sqliteStatement
        self.sql = sql
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    func bind(_ index: Int32, _ text: String?) {
        guard var text else {
            sqlite3_bind_null(handle, index)
            return
        }
        text.withUTF8 { bytes in
            // A NULL pointer would bind NULL, not the empty text.
            guard let base = bytes.baseAddress, !bytes.isEmpty else {
                _ = sqlite3_bind_text(handle, index, "", 0, nil)
                return
            }
            _ = sqlite3_bind_text(handle, index, base, Int32(bytes.count), Self.transient)
        }
    }

    func bind(_ index: Int32, _ number: Double) {
        sqlite3_bind_double(handle, index, number)
    }

    func bind(_ index: Int32, _ number: Int64) {
        sqlite3_bind_int64(handle, index, number)
    }

    func bind(_ index: Int32, bytes: [UInt8]?) {
        guard let bytes else {
            sqlite3_bind_null(handle, index)
            return
        }
        bytes.withUnsafeBytes { buffer in
            guard let base = buffer.baseAddress, !buffer.isEmpty else {
                _ = sqlite3_bind_zeroblob(handle, index, 0)
                return
            }
            _ = sqlite3_bind_blob(handle, index, base, Int32(buffer.count), Self.transient)
        }
    }

    /// Runs the statement with the values bound, and resets it for the next row.
    func run(_ db: Database) throws {
        let code = sqlite3_step(handle)
        defer { sqlite3_reset(handle) }
        guard code == SQLITE_DONE else {
            let message = db.sqliteConnection.map { String(cString: sqlite3_errmsg($0)) }
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: message, sql: sql)
        }
    }
}
