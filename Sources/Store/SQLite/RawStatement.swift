import FHIR
import GRDB
import GRDBSQLite
import Synchronization

/// One of GRDB's prepared statements bound and stepped through SQLite's C API. A migration writes
/// its resources and their index rows by the hundred thousand, and GRDB's arguments (an array of
/// existential values per row) cost more than SQLite's insert itself; these writes bind each value
/// where it is.
///
/// For statements that write (`run`) and for lookups of one row (`first`); the statement is reset
/// after each use. Text and bytes are bound without SQLite copying them (`SQLITE_STATIC`): they are
/// copied into the statement's own `BindBuffer`, which keeps them until the statement has run.
struct RawStatement {
    /// SQLite's statement (GRDB's, kept in its cache).
    let handle: OpaquePointer
    private let sql: String
    private let buffer: BindBuffer

    /// The statement GRDB keeps for `sql`, reset, its values unbound.
    fileprivate init(_ db: Database, _ sql: String) throws {
        handle = try db.cachedStatement(sql: sql).sqliteStatement
        self.sql = sql
        buffer = BindBuffer()
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    func bind(_ index: Int32, _ text: String?) {
        guard let text else {
            sqlite3_bind_null(handle, index)
            return
        }
        text.withUTF8Bytes { bytes in
            // A NULL pointer would bind NULL, not the empty text.
            guard !bytes.isEmpty else {
                _ = sqlite3_bind_text(handle, index, "", 0, nil)
                return
            }
            let kept = buffer.keep(UnsafeRawBufferPointer(bytes))
            _ = sqlite3_bind_text(handle, index, kept.assumingMemoryBound(to: CChar.self), Int32(bytes.count), nil)
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
        bytes.withUnsafeBytes { bytes in
            guard !bytes.isEmpty else {
                _ = sqlite3_bind_zeroblob(handle, index, 0)
                return
            }
            _ = sqlite3_bind_blob(handle, index, buffer.keep(bytes), Int32(bytes.count), nil)
        }
    }

    /// The first row the statement yields with the values bound, read by `read`; `nil` when none.
    func first<T>(_ db: Database, _ read: (RawRow) throws -> T) throws -> T? {
        let code = sqlite3_step(handle)
        defer { done() }
        switch code {
        case SQLITE_ROW: return try read(RawRow(handle: handle))
        case SQLITE_DONE: return nil
        default:
            let message = db.sqliteConnection.map { String(cString: sqlite3_errmsg($0)) }
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: message, sql: sql)
        }
    }

    /// Runs the statement with the values bound, and resets it for the next row.
    func run(_ db: Database) throws {
        let code = sqlite3_step(handle)
        defer { done() }
        guard code == SQLITE_DONE else {
            let message = db.sqliteConnection.map { String(cString: sqlite3_errmsg($0)) }
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: message, sql: sql)
        }
    }

    /// Resets the statement for its next values; what it had bound may go.
    private func done() {
        sqlite3_reset(handle)
        buffer.clear()
    }

    /// Unbinds every value, so that nothing bound points into a buffer about to go.
    fileprivate func unbind() {
        sqlite3_clear_bindings(handle)
    }
}

/// The writer connection's statements for one turn at it: each taken from GRDB's cache at its first
/// use and kept for the rest of the turn (finding it by its text hashed the SQL at every row: some
/// 1,000 instructions). Made and used inside one access to the connection, and nowhere else.
final class WriterStatements {
    let db: Database
    private var statements: [RawStatement?] = []

    init(_ db: Database) {
        self.db = db
    }

    deinit {
        for statement in statements { statement?.unbind() }
    }

    /// The statement for `sql`, reset, ready for its values.
    func callAsFunction(_ sql: WriterSQL) throws -> RawStatement {
        if sql.slot < statements.count, let statement = statements[sql.slot] { return statement }
        let statement = try RawStatement(db, sql.text)
        if sql.slot >= statements.count { statements += Array(repeating: nil, count: sql.slot + 1 - statements.count) }
        statements[sql.slot] = statement
        return statement
    }
}

/// A statement the writer runs row by row, with a place of its own among `WriterStatements`' slots.
struct WriterSQL: Sendable {
    let slot: Int
    let text: String

    init(_ text: String) {
        self.text = text
        slot = Self.slots.add(1, ordering: .relaxed).oldValue
    }

    private static let slots = Atomic<Int>(0)
}

/// Text and bytes bound to a statement, kept where SQLite reads them until the statement has run:
/// copied once into blocks reused from row to row, where `SQLITE_TRANSIENT` had SQLite copy each
/// value into memory of its own.
final class BindBuffer {
    private var block: UnsafeMutableRawBufferPointer
    private var used = 0
    /// Blocks outgrown while values in them were still bound.
    private var outgrown: [UnsafeMutableRawBufferPointer] = []

    init(capacity: Int = 4096) {
        block = .allocate(byteCount: capacity, alignment: 8)
    }

    deinit {
        block.deallocate()
        for old in outgrown { old.deallocate() }
    }

    /// A copy of `bytes` that stays until `clear`.
    func keep(_ bytes: UnsafeRawBufferPointer) -> UnsafeRawPointer {
        if used + bytes.count > block.count {
            outgrown.append(block)
            block = .allocate(byteCount: max(block.count * 2, bytes.count), alignment: 8)
            used = 0
        }
        let place = block.baseAddress! + used
        place.copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
        used += bytes.count
        return UnsafeRawPointer(place)
    }

    /// Forgets what was kept: nothing bound reads it any more.
    func clear() {
        used = 0
        for old in outgrown { old.deallocate() }
        outgrown = []
    }
}

/// The row a `RawStatement` stands on, column by column (from 0), valid inside `first`'s closure only.
struct RawRow {
    fileprivate let handle: OpaquePointer

    func integer(_ column: Int32) -> Int64 { sqlite3_column_int64(handle, column) }

    func real(_ column: Int32) -> Double { sqlite3_column_double(handle, column) }

    /// The column's text; `""` for NULL.
    func text(_ column: Int32) -> String {
        guard let bytes = sqlite3_column_text(handle, column) else { return "" }
        let count = Int(sqlite3_column_bytes(handle, column))
        return String(decoding: UnsafeBufferPointer(start: bytes, count: count), as: UTF8.self)
    }

    /// The column's bytes; `nil` for NULL.
    func bytes(_ column: Int32) -> [UInt8]? {
        guard sqlite3_column_type(handle, column) != SQLITE_NULL else { return nil }
        let count = Int(sqlite3_column_bytes(handle, column))
        guard count > 0, let base = sqlite3_column_blob(handle, column) else { return [] }
        return Array(UnsafeRawBufferPointer(start: base, count: count))
    }
}
