import Dispatch
import GRDB
import GRDBSQLite
import Synchronization

/// Bulk mode's copies of the write-ahead log into the database file, made beside the load.
///
/// SQLite copies the log into the file (a checkpoint) on the connection that committed, within its
/// commit: in a load, every 128 MB of log held the writer for 0.4–0.6 s, while the workers, each with
/// one batch waiting to commit and the next one mapped, had nothing to do (five such stops, about 2.5 s
/// of a 23 s load with one core idle). In bulk mode the writer's own checkpoints are off. Once the log
/// holds `threshold` pages, a connection of its own copies the log on another thread while the writer
/// goes on appending to it; at the writer's first commit after that pass, the writer copies what it
/// appended meanwhile (a few MB), so that the whole log is in the file and SQLite starts the log again
/// from its beginning: the log stays a little over `threshold` pages (139–151 MB for 128 MB in a
/// 10,000-patient load, against 129 MB when the writer copied it itself).
///
/// A checkpoint only copies committed pages and syncs the file after them, on whichever connection it
/// runs; a load killed during one loses nothing.
final class BackgroundCheckpoints: Sendable {
    private enum Phase {
        /// Not in bulk mode: the writer checkpoints as SQLite does by default.
        case off
        case idle
        case copying
        /// A pass ended; the writer copies the rest at its next commit.
        case copied
    }

    private let path: String
    private let threshold: Int
    private let phase = Mutex(Phase.off)
    /// Pages in the log after the writer's last commit, from SQLite's WAL hook.
    private let pages = Atomic<Int>(0)
    /// Runs the passes, one at a time, off Swift's cooperative threads (a pass blocks on the disk).
    private let queue = DispatchQueue(label: "ferry.sqlite.checkpoints")
    /// Passes made on their own connection, for tests.
    private let passes = Atomic<Int>(0)

    /// `threshold`: pages of log (4 KB each) that start a pass.
    init(path: String, threshold: Int) {
        self.path = path
        self.threshold = threshold
    }

    var passCount: Int { passes.load(ordering: .relaxed) }

    /// On the writer connection: its own checkpoints give way to the passes.
    func start(on db: Database) {
        // Replaces SQLite's own hook, the one that checkpoints after a commit. The hook holds this object
        // unretained: the store that owns it owns the connection, and only the store's commits call it.
        sqlite3_wal_hook(db.sqliteConnection, Self.hook, Unmanaged.passUnretained(self).toOpaque())
        pages.store(0, ordering: .relaxed)
        phase.withLock { $0 = .idle }
    }

    /// On the writer connection: the writer checkpoints by itself again (every 1,000 pages, SQLite's
    /// default), once a running pass has ended.
    func stop(on db: Database) {
        queue.sync {}
        sqlite3_wal_autocheckpoint(db.sqliteConnection, 1000)
        phase.withLock { $0 = .off }
    }

    /// On the writer connection, right after each commit.
    func committed(_ db: Database) {
        let next: Phase? = phase.withLock { phase in
            switch phase {
            case .idle where pages.load(ordering: .relaxed) >= threshold:
                phase = .copying
                return .copying
            case .copied:
                phase = .idle
                return .copied
            default:
                return nil
            }
        }
        switch next {
        case .copying?:
            queue.async { self.pass() }
        case .copied?:
            // Copies what was appended during the pass; a failure leaves it to the next pass.
            _ = try? db.checkpoint(.passive)
        default:
            break
        }
    }

    private func pass() {
        var connection: OpaquePointer?
        if sqlite3_open_v2(path, &connection, SQLITE_OPEN_READWRITE, nil) == SQLITE_OK {
            sqlite3_exec(connection, "PRAGMA synchronous = NORMAL", nil, nil, nil)
            if sqlite3_wal_checkpoint_v2(connection, nil, SQLITE_CHECKPOINT_PASSIVE, nil, nil) == SQLITE_OK {
                passes.add(1, ordering: .relaxed)
            }
        }
        sqlite3_close_v2(connection)
        phase.withLock { phase in
            if phase == .copying { phase = .copied }
        }
    }

    private static let hook:
        @convention(c) (UnsafeMutableRawPointer?, OpaquePointer?, UnsafePointer<CChar>?, Int32) ->
            Int32 = { context, _, _, pages in
                guard let context else { return SQLITE_OK }
                Unmanaged<BackgroundCheckpoints>.fromOpaque(context).takeUnretainedValue().pages.store(
                    Int(pages), ordering: .relaxed)
                return SQLITE_OK
            }
}
