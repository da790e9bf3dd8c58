import FHIR
import Foundation

/// What a migration commits at once: a partition's next transaction Bundles, the units that failed
/// (dead letters), and where the partition stands after them. A store commits all of it in one
/// database transaction, so a migration killed at any moment resumes exactly after its last batch.
public struct MigrationBatch: Sendable {
    /// The migration run (several runs can share a store).
    public var run: String
    public var partition: String
    /// The partition's position after this batch (how many units of it are done); `nil` leaves the
    /// checkpoint where it is (a retry of dead letters).
    public var position: Int?
    public var bundles: [JSON]
    public var deadLetters: [DeadLetter]
    /// Dead letters of the run that this batch loads after all (by locator): removed with it.
    public var resolved: [String]
    /// The worker that claimed the partition: its lease is renewed with the batch.
    public var worker: String?
    /// Bulk mode: write no search-index rows now (`FHIRStore.rebuildIndex()` makes them afterwards).
    public var deferIndex = false

    public init(
        run: String, partition: String, position: Int?, bundles: [JSON], deadLetters: [DeadLetter],
        resolved: [String] = [], worker: String? = nil
    ) {
        self.worker = worker
        self.run = run
        self.partition = partition
        self.position = position
        self.bundles = bundles
        self.deadLetters = deadLetters
        self.resolved = resolved
    }
}

extension MigrationBatch {
    /// The batch's writes worked out ahead, outside any lock, at the time the commit will stamp.
    func prepared(indexing: StoreIndexing, time: Date) -> [[Int: PreparedWrite]] {
        bundles.map { TransactionBundle.prepare($0, indexing: indexing, time: time, indexed: !deferIndex) }
    }
}

/// What a migration batch's Bundles did, entry by entry: resources written (created or updated) per
/// type, and entries that wrote nothing (the content was current already, or a conditional create
/// found its match). A migration counts these; it needs no response Bundle made and read back.
public struct BatchOutcome: Sendable, Hashable {
    public var written: [String: Int] = [:]
    public var unchanged = 0

    public init() {}

    /// Adds what a transaction-response Bundle's entries say.
    mutating func add(response: JSON) {
        for entry in response["entry"]?.arrayValue ?? [] {
            let status = entry["response"]?["status"]?.stringValue ?? ""
            let note = entry["response"]?["outcome"]?["issue"]?[0]?["diagnostics"]?.stringValue ?? ""
            if note.hasPrefix("unchanged") || note.hasPrefix("found") {
                unchanged += 1
            } else if let type = entry["response"]?["location"]?.stringValue?.split(separator: "/").first,
                status.hasPrefix("20")
            {
                written[String(type), default: 0] += 1
            }
        }
    }
}

/// A unit of the source that could not be migrated, kept with why and where it came from.
public struct DeadLetter: Sendable, Hashable {
    /// Where in the source: `feed.hl7#12 (line 340)`, `sqlite:legacy.db patient_data pid=17`.
    public var locator: String
    public var partition: String
    /// Why: an OperationOutcome as JSON, or the error's text.
    public var reason: String
    /// The unit as it was read.
    public var content: [UInt8]

    public init(locator: String, partition: String, reason: String, content: [UInt8]) {
        self.locator = locator
        self.partition = partition
        self.reason = reason
        self.content = content
    }
}

extension StoreTransaction {
    /// Runs a batch's Bundles, keeps its dead letters, and moves its partition's checkpoint.
    func commit(_ batch: MigrationBatch, prepared: [[Int: PreparedWrite]] = []) async throws -> BatchOutcome {
        var outcome = BatchOutcome()
        if prepared.count == batch.bundles.count,
            let written = try await TransactionBundle.runPrepared(batch.bundles, prepared: prepared, in: self)
        {
            outcome = written
        } else {
            for (index, bundle) in batch.bundles.enumerated() {
                let writes = index < prepared.count ? prepared[index] : [:]
                outcome.add(response: try await TransactionBundle.run(bundle, in: self, prepared: writes))
            }
        }
        for letter in batch.deadLetters {
            try await execute(
                "INSERT INTO migration_dead_letter VALUES (?, ?, ?, ?, ?) ON CONFLICT (run, locator) DO UPDATE SET "
                    + "partition = excluded.partition, reason = excluded.reason, content = excluded.content",
                [
                    .text(batch.run), .text(letter.locator), .text(letter.partition), .text(letter.reason),
                    .bytes(letter.content),
                ])
        }
        for locator in batch.resolved {
            try await execute(
                "DELETE FROM migration_dead_letter WHERE run = ? AND locator = ?", [.text(batch.run), .text(locator)])
        }
        if let worker = batch.worker {
            try await execute(
                "UPDATE migration_partition SET lease_until = ? WHERE run = ? AND partition = ? AND owner = ?",
                [
                    .real(time.timeIntervalSince1970 + PartitionClaims.lease), .text(batch.run), .text(batch.partition),
                    .text(worker),
                ])
        }
        if let position = batch.position {
            try await execute(
                "INSERT INTO migration_checkpoint VALUES (?, ?, ?) ON CONFLICT (run, partition) DO UPDATE SET "
                    + "position = excluded.position",
                [.text(batch.run), .text(batch.partition), .integer(position)])
        }
        return outcome
    }
}

/// How workers share a run's partitions through the store: each partition is registered once, a worker
/// claims one nobody holds (or whose holder's lease ran out: a worker that died), renews the lease with
/// every batch, and marks it done. On PostgreSQL the claim skips rows other workers have locked, so
/// several `ferry migrate` processes on several machines share one run.
enum PartitionClaims {
    /// How long a claim holds without a batch renewing it, in seconds.
    static let lease: TimeInterval = 120

    static func register(_ run: String, _ partitions: [String], in transaction: some StoreTransaction) async throws {
        for partition in partitions {
            try await transaction.execute(
                "INSERT INTO migration_partition (run, partition, state) VALUES (?, ?, 'pending') "
                    + "ON CONFLICT (run, partition) DO NOTHING", [.text(run), .text(partition)])
        }
    }

    /// The condition of a partition that a worker can claim at a time: nobody's, its own from before a
    /// restart (a worker keeps its name across restarts), or one whose worker's lease ran out.
    static let claimable =
        "run = ? AND (state = 'pending' OR (state = 'running' AND (owner = ? OR lease_until < ?)))"

    static func take(
        _ run: String, _ partition: String, worker: String, in transaction: some StoreTransaction
    )
        async throws
    {
        try await transaction.execute(
            "UPDATE migration_partition SET state = 'running', owner = ?, lease_until = ? WHERE run = ? AND partition = ?",
            [.text(worker), .real(transaction.time.timeIntervalSince1970 + lease), .text(run), .text(partition)])
    }

    static func finish(_ run: String, _ partition: String, in transaction: some StoreTransaction) async throws {
        try await transaction.execute(
            "UPDATE migration_partition SET state = 'done', lease_until = NULL WHERE run = ? AND partition = ?",
            [.text(run), .text(partition)])
    }
}
