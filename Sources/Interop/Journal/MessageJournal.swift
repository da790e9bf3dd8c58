import Crypto
import Foundation
import GRDB

/// The durable store of inbound HL7 v2 messages: a SQLite file (WAL, synchronous commits) that a
/// listener writes before it acknowledges, so a crash never loses an acknowledged message.
///
/// Messages that parsed go to `hl7_inbound`, unique by sender (MSH-3 and MSH-4) and control id
/// (MSH-10): the same message sent again is recognised and counted, not stored twice. What could
/// not be parsed goes to `hl7_dead_letter` with the error and where it happened. Concurrent callers
/// are committed together (group commit): one transaction and one sync for all that arrived
/// while the previous commit ran.
public final class MessageJournal: Sendable {
    /// How hard each commit waits for the disk.
    public enum Durability: String, Sendable, CaseIterable {
        /// Every commit is synced to disk: survives a crash of the process and of the machine.
        case full
        /// WAL without a sync per commit: survives a crash of the process, not a power cut.
        case normal
    }

    /// A message to store, with what the listener knows about where it came from.
    public struct Entry: Sendable {
        public var content: [UInt8]
        /// The remote address, e.g. `127.0.0.1:51234`.
        public var peer: String
        /// MSH-3 and MSH-4 as written, joined by `|`; `nil` for dead letters whose MSH is unreadable.
        public var sender: String?
        public var controlID: String?
        /// MSH-9 as written (`ADT^A01^ADT_A01`).
        public var messageType: String?
        public var receivedAt: Date

        public init(
            content: [UInt8], peer: String, sender: String?, controlID: String?, messageType: String?,
            receivedAt: Date = Date()
        ) {
            self.content = content
            self.peer = peer
            self.sender = sender
            self.controlID = controlID
            self.messageType = messageType
            self.receivedAt = receivedAt
        }
    }

    /// What became of a stored message.
    public enum Receipt: Sendable, Hashable {
        /// Stored for the first time, with its sequence number in the journal.
        case stored(sequence: Int64)
        /// The sender sent this control id before; the first copy is at `sequence`.
        case duplicate(sequence: Int64)
        /// Kept in the dead-letter table with its error.
        case deadLettered(sequence: Int64)

        /// The journal sequence number, whatever the outcome.
        public var sequence: Int64 {
            switch self {
            case .stored(let sequence), .duplicate(let sequence), .deadLettered(let sequence): sequence
            }
        }
    }

    /// A message read back from the journal.
    public struct StoredMessage: Sendable, Hashable {
        public var sequence: Int64
        public var sender: String?
        public var controlID: String?
        public var messageType: String?
        public var content: [UInt8]
        /// How many times the same message arrived again after it was stored.
        public var duplicates: Int
    }

    /// A dead letter read back from the journal: the bytes as received and why they were refused.
    public struct DeadLetter: Sendable, Hashable {
        public var sequence: Int64
        public var peer: String
        public var content: [UInt8]
        /// The size of what arrived; larger than `content` when only the start of a frame was kept.
        public var byteCount: Int
        public var error: String
    }

    private let pool: DatabasePool
    private let committer: GroupCommitter
    /// The file the journal lives in.
    public let path: String

    /// Opens (or creates) a journal file.
    public init(path: String, durability: Durability = .full) throws {
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = \(durability == .full ? "FULL" : "NORMAL")")
        }
        pool = try DatabasePool(path: path, configuration: configuration)
        try pool.write { db in try Self.createSchema(db) }
        self.path = path
        committer = GroupCommitter(pool: pool)
    }

    /// Stores a message durably; returns once it is committed. Safe to call from many tasks at once.
    public func store(_ entry: Entry) async throws -> Receipt {
        try await committer.submit(.message(entry))
    }

    /// Keeps what could not be stored as a message, with the error (which names where it happened).
    /// `byteCount` is the size that arrived when only its start is kept.
    public func deadLetter(_ entry: Entry, error: String, byteCount: Int? = nil) async throws -> Receipt {
        try await committer.submit(.deadLetter(entry, error: error, byteCount: byteCount ?? entry.content.count))
    }

    /// The stored messages after a sequence number, in arrival order.
    public func messages(after sequence: Int64 = 0, limit: Int = 1000) throws -> [StoredMessage] {
        try pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT sequence, sender, control_id, message_type, content, duplicates FROM hl7_inbound
                    WHERE sequence > ? ORDER BY sequence LIMIT ?
                    """,
                arguments: [sequence, limit]
            ).map { row in
                StoredMessage(
                    sequence: row["sequence"], sender: row["sender"], controlID: row["control_id"],
                    messageType: row["message_type"], content: [UInt8](row["content"] as Data),
                    duplicates: row["duplicates"])
            }
        }
    }

    /// The dead letters, in arrival order.
    public func deadLetters() throws -> [DeadLetter] {
        try pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT sequence, peer, content, byte_count, error FROM hl7_dead_letter ORDER BY sequence"
            ).map { row in
                DeadLetter(
                    sequence: row["sequence"], peer: row["peer"], content: [UInt8](row["content"] as Data),
                    byteCount: row["byte_count"], error: row["error"])
            }
        }
    }

    /// Counts for a summary: messages stored, duplicates recognised, dead letters.
    public func counts() throws -> (stored: Int, duplicates: Int, deadLetters: Int) {
        try pool.read { db in
            let stored = try Int.fetchOne(db, sql: "SELECT count(*) FROM hl7_inbound") ?? 0
            let duplicates = try Int.fetchOne(db, sql: "SELECT coalesce(sum(duplicates), 0) FROM hl7_inbound") ?? 0
            let dead = try Int.fetchOne(db, sql: "SELECT count(*) FROM hl7_dead_letter") ?? 0
            return (stored, duplicates, dead)
        }
    }

    private static func createSchema(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE IF NOT EXISTS hl7_inbound (
                    sequence INTEGER PRIMARY KEY AUTOINCREMENT,
                    received_at TEXT NOT NULL,
                    peer TEXT NOT NULL,
                    sender TEXT,
                    control_id TEXT,
                    message_type TEXT,
                    sha256 TEXT NOT NULL,
                    content BLOB NOT NULL,
                    duplicates INTEGER NOT NULL DEFAULT 0,
                    last_duplicate_at TEXT
                );
                CREATE UNIQUE INDEX IF NOT EXISTS hl7_inbound_sender_control ON hl7_inbound(sender, control_id);
                CREATE TABLE IF NOT EXISTS hl7_dead_letter (
                    sequence INTEGER PRIMARY KEY AUTOINCREMENT,
                    received_at TEXT NOT NULL,
                    peer TEXT NOT NULL,
                    sender TEXT,
                    control_id TEXT,
                    sha256 TEXT NOT NULL,
                    content BLOB NOT NULL,
                    byte_count INTEGER NOT NULL,
                    error TEXT NOT NULL
                );
                """)
    }

    /// Writes one batch in one transaction.
    fileprivate static func write(_ batch: [GroupCommitter.Item], in db: Database) throws -> [Receipt] {
        try batch.map { item in
            switch item {
            case .message(let entry):
                // A message without a control id cannot be recognised when resent; each copy is kept.
                let row = try Row.fetchOne(
                    db,
                    sql: """
                        INSERT INTO hl7_inbound
                            (received_at, peer, sender, control_id, message_type, sha256, content)
                        VALUES (?, ?, ?, ?, ?, ?, ?)
                        ON CONFLICT(sender, control_id) DO UPDATE SET
                            duplicates = duplicates + 1, last_duplicate_at = excluded.received_at
                        RETURNING sequence, duplicates
                        """,
                    arguments: [
                        timestamp(entry.receivedAt), entry.peer, entry.sender, entry.controlID, entry.messageType,
                        sha256(entry.content), Data(entry.content),
                    ])
                guard let row else { throw DatabaseError(message: "the insert returned no row") }
                let sequence: Int64 = row["sequence"]
                return (row["duplicates"] as Int) == 0 ? .stored(sequence: sequence) : .duplicate(sequence: sequence)
            case .deadLetter(let entry, let error, let byteCount):
                try db.execute(
                    sql: """
                        INSERT INTO hl7_dead_letter
                            (received_at, peer, sender, control_id, sha256, content, byte_count, error)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        timestamp(entry.receivedAt), entry.peer, entry.sender, entry.controlID,
                        sha256(entry.content), Data(entry.content), byteCount, error,
                    ])
                return .deadLettered(sequence: db.lastInsertedRowID)
            }
        }
    }

    private static func sha256(_ bytes: [UInt8]) -> String {
        SHA256.hash(data: bytes).map { String($0, radix: 16).leftPadded(to: 2) }.joined()
    }

    private static func timestamp(_ date: Date) -> String {
        date.formatted(
            .iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
    }
}

/// Collects the writes that arrive while a commit runs and commits them together.
private actor GroupCommitter {
    enum Item: Sendable {
        case message(MessageJournal.Entry)
        case deadLetter(MessageJournal.Entry, error: String, byteCount: Int)
    }

    private let pool: DatabasePool
    private var pending: [(Item, CheckedContinuation<MessageJournal.Receipt, any Error>)] = []
    private var isWriting = false
    /// The most items one transaction takes, so one commit never holds a large batch's memory.
    private let batchLimit = 512

    init(pool: DatabasePool) {
        self.pool = pool
    }

    func submit(_ item: Item) async throws -> MessageJournal.Receipt {
        try await withCheckedThrowingContinuation { continuation in
            pending.append((item, continuation))
            if !isWriting {
                isWriting = true
                Task { await self.drain() }
            }
        }
    }

    private func drain() async {
        while !pending.isEmpty {
            let batch = Array(pending.prefix(batchLimit))
            pending.removeFirst(batch.count)
            let items = batch.map(\.0)
            do {
                let receipts = try await pool.write { db in try MessageJournal.write(items, in: db) }
                for ((_, continuation), receipt) in zip(batch, receipts) { continuation.resume(returning: receipt) }
            } catch {
                for (_, continuation) in batch { continuation.resume(throwing: error) }
            }
        }
        isWriting = false
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        String(repeating: "0", count: max(0, width - count)) + self
    }
}
