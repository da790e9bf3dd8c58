import GRDB
import Synchronization

/// Bulk mode's current versions, kept out of `resource` while a load runs.
///
/// `resource` is clustered by (type, id), and ids are hashes: a load that wrote each new resource's
/// row at once put it on a random page of that tree, and every commit wrote about one page of log per
/// resource — two thirds of all a load wrote. In bulk mode a version goes to the history alone, and
/// the store remembers, in memory, the history row of each resource's current version written since
/// `resource` was last caught up; lookups read that row. `resource` is caught up from the history in
/// one sorted pass: when too many rows are pending, before anything else reads it, and when the load
/// ends.
///
/// The history stays the record. Every history row up to `merged` is reflected in `resource`, and
/// rows after it are the newest versions written since, so a store left in bulk mode by a killed load
/// (its history key index is missing then) is caught up by the next transaction of any connection.
/// Another connection writing during a load shows as a history that grew under the loader: its
/// memory is dropped and `resource` caught up from the history instead.
final class DeferredCurrents: Sendable {
    private struct State {
        /// In bulk mode: versions go to the history alone.
        var active = false
        /// By `Type/id`: the history row of the current version, for versions after `merged`.
        var rows = PendingRows()
        /// Every history row up to here is reflected in `resource`.
        var merged: Int64 = 0
        /// The history's last row after this store's last commit.
        var last: Int64 = 0
    }

    private let state = Mutex(State())
    /// Pending rows that make `resource` be caught up after a commit: 500,000 take about 25 MB
    /// (`PendingRows`, names with Ferry's ids). A load of 395,028 resources is caught up once, at its
    /// end, and not also half way (a catch-up into a `resource` that has rows inserts at random places
    /// of its tree).
    let spillRows: Int

    init(spillRows: Int = 500_000) {
        self.spillRows = spillRows
    }

    /// Whether reads must wait for `resource` to be caught up first.
    var hasPendingRows: Bool { state.withLock { !$0.rows.isEmpty } }

    var isActive: Bool { state.withLock { $0.active } }

    var needsSpill: Bool { state.withLock { $0.rows.count >= spillRows } }

    /// At the start of a write transaction, on the writer connection: catches `resource` up when
    /// another connection wrote during this store's load, or when a load left it behind.
    func begin(_ db: Database) throws -> DeferredTransaction {
        let last = try Self.lastHistoryRow(db)
        return try state.withLock { state in
            let transaction = DeferredTransaction(owner: self, active: state.active, last: last)
            if state.active {
                if last != state.last {
                    try Self.catchUp(db, after: state.merged)
                    transaction.mergedTo = last
                }
            } else if try Self.lagsBehind(db) {
                let merged = try Int64.fetchOne(db, sql: "SELECT coalesce(max(content_row), 0) FROM resource") ?? 0
                try Self.catchUp(db, after: merged)
            }
            return transaction
        }
    }

    /// After the transaction committed: what it wrote and merged becomes the store's.
    func committed(_ transaction: DeferredTransaction) {
        state.withLock { state in
            if state.active {
                if let merged = transaction.mergedTo {
                    state.rows = PendingRows()
                    state.merged = merged
                }
                for (name, row) in transaction.staged { state.rows.set(row, for: name) }
                state.last = transaction.last
            }
            switch transaction.switchTo {
            case true? where !state.active:
                // `begin` caught `resource` up: it reflects the whole history.
                state = State(active: true, merged: transaction.last, last: transaction.last)
            case false?:
                state = State()
            default: break
            }
        }
    }

    /// The history row of a resource's current version, when it is newer than `resource`'s row.
    func pendingRow(_ key: String, in transaction: DeferredTransaction) -> Int64? {
        if let row = transaction.staged[key] { return row }
        if transaction.mergedTo != nil { return nil }
        return state.withLock { $0.rows[key] }
    }

    /// The first row `settle` must read from: after what `resource` reflects in this transaction.
    func mergedRow(in transaction: DeferredTransaction) -> Int64 {
        transaction.mergedTo ?? state.withLock { $0.merged }
    }

    // MARK: - SQL

    static func lastHistoryRow(_ db: Database) throws -> Int64 {
        try Int64.fetchOne(db, sql: "SELECT coalesce(max(rowid), 0) FROM resource_history") ?? 0
    }

    /// Whether `resource` misses versions in the history: only while the history's key index is
    /// missing (a bulk load runs, or was killed), and then when the history's last row is not current
    /// in `resource` (rows not yet reflected are always the history's last ones).
    static func lagsBehind(_ db: Database) throws -> Bool {
        try Bool.fetchOne(
            db,
            sql:
                "SELECT NOT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = 'resource_history_key') "
                + "AND NOT EXISTS (SELECT 1 FROM resource r JOIN resource_history h ON r.type = h.type AND r.id = h.id "
                + "AND r.content_row = h.rowid WHERE h.rowid = (SELECT max(rowid) FROM resource_history)) "
                + "AND EXISTS (SELECT 1 FROM resource_history)"
        ) ?? false
    }

    /// Points `resource` at the newest history row of each resource with rows after `row`, in key order.
    static func catchUp(_ db: Database, after row: Int64) throws {
        try db.execute(
            sql: "INSERT OR REPLACE INTO resource (type, id, owner, version, last_updated, deleted, hash, content_row) "
                + "SELECT h.type, h.id, h.owner, h.version, h.last_updated, h.deleted, h.hash, h.rowid "
                + "FROM (SELECT max(rowid) AS newest FROM resource_history WHERE rowid > ? GROUP BY owner) n "
                + "JOIN resource_history h ON h.rowid = n.newest ORDER BY h.type, h.id",
            arguments: [row])
    }
}

/// One write transaction's part of bulk mode, kept until it commits (a rollback forgets it).
final class DeferredTransaction: @unchecked Sendable {
    // Only the transaction's own steps touch it, one after the other on the writer connection.
    private unowned let owner: DeferredCurrents
    /// Whether versions go to the history alone.
    let active: Bool
    /// By `Type/id`: history rows this transaction wrote after `mergedTo`.
    fileprivate(set) var staged: [String: Int64] = [:]
    /// `resource` was caught up in this transaction to here: the store's pending rows are spent.
    fileprivate(set) var mergedTo: Int64?
    /// The history's last row.
    fileprivate(set) var last: Int64
    /// By `Type/id`: the owner of each resource this transaction read or wrote (0: it has none yet).
    private(set) var owners: [String: Int64] = [:]
    /// Bulk mode starts (`true`) or ends (`false`) when this transaction commits.
    var switchTo: Bool?

    fileprivate init(owner: DeferredCurrents, active: Bool, last: Int64) {
        self.owner = owner
        self.active = active
        self.last = last
    }

    /// A version written to the history as row `row`: current from now on (kept back in bulk mode).
    func wrote(_ key: String, row: Int64, owner: Int64) {
        if active { staged[key] = row }
        owners[key] = owner
        last = row
    }

    /// What a lookup found: the resource's owner, or none.
    func know(_ key: String, owner: Int64?) {
        owners[key] = owner ?? 0
    }

    func pendingRow(_ key: String) -> Int64? { owner.pendingRow(key, in: self) }

    /// Catches `resource` up with everything pending, this transaction's writes included.
    func settle(_ db: Database) throws {
        guard active else { return }
        try DeferredCurrents.catchUp(db, after: owner.mergedRow(in: self))
        staged = [:]
        mergedTo = last
    }
}
