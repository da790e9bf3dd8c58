import FHIR
import Foundation
import Store

/// How a migration runs: its name, batch size, parallelism, partitions, and this worker's name.
public struct MigrationOptions: Sendable {
    /// The run's name: checkpoints and dead letters belong to it, and a rerun with it resumes.
    public var run: String
    public var batchSize: Int
    public var workers: Int
    public var partitions: Int
    /// This process's name among the workers of a run (several processes, on one machine or many,
    /// share a run's partitions through the store). A restarted worker with the same name takes
    /// back its partitions at once; another's wait for its lease to run out.
    public var worker: String
    /// At most this many units a second from this process (to spare a busy system), if set.
    public var maximumRate: Double?
    /// Bulk mode: the search tables' own indexes are dropped when the run starts (each resource's
    /// index rows are still written with it), and whoever runs the migration builds them once it is
    /// done (`FHIRStore.buildSearchIndexes()`). Searches are slow, not wrong, in between.
    public var deferIndex = false

    /// Partitions migrated at once unless told otherwise: one more than the processors, so that the
    /// cores keep mapping while a batch waits its turn at the store's one writer (which a load holds
    /// about 60 % of the time). On 2 cores, 3 against 2 in alternate runs of the 10,000-patient clinic:
    /// faster in 5 of 7, median +6 %, 1.72–1.75 cores busy against 1.66–1.71.
    public static let defaultWorkers = max(2, ProcessInfo.processInfo.activeProcessorCount + 1)

    public init(
        run: String = "migration", batchSize: Int = 100, workers: Int = defaultWorkers, partitions: Int = 8,
        worker: String = ProcessInfo.processInfo.hostName, maximumRate: Double? = nil
    ) {
        self.run = run
        self.maximumRate = maximumRate.flatMap { $0 > 0 ? $0 : nil }
        self.worker = worker
        self.batchSize = max(1, batchSize)
        self.workers = max(1, workers)
        self.partitions = max(1, partitions)
    }
}

/// What a run did. `read == loaded + deadLettered + filtered.values.sum() + alreadyDone`.
public struct MigrationReport: Sendable, Hashable {
    public var read = 0
    public var loaded = 0
    public var deadLettered = 0
    /// Units left out on purpose, by the rule that left them out.
    public var filtered: [String: Int] = [:]
    /// Units an earlier, interrupted attempt of this run had already committed.
    public var alreadyDone = 0
    /// Resources written (created or updated) per type.
    public var resources: [String: Int] = [:]
    /// Transaction entries whose content was already in the store (no new version).
    public var unchanged = 0
    /// Codes no value map or ConceptMap had (`map|code` → times), for mapped sources.
    public var unmapped: [String: Int] = [:]
    /// The same accounts per kind of unit: per table for rows, per message type for HL7 v2 (units an
    /// interrupted attempt already did are not split up).
    public var groups: [String: GroupAccounts] = [:]

    public init() {}

    /// One kind of unit's accounts: `read == loaded + deadLettered + filtered`.
    public struct GroupAccounts: Sendable, Hashable, Codable {
        public var read = 0
        public var loaded = 0
        public var deadLettered = 0
        public var filtered = 0
    }

    /// Whether every unit read is accounted for.
    public var addsUp: Bool { read == loaded + deadLettered + filtered.values.reduce(0, +) + alreadyDone }

    /// Two runs' reports as one (several sources in one migration).
    public mutating func add(_ other: MigrationReport) {
        read += other.read
        loaded += other.loaded
        deadLettered += other.deadLettered
        alreadyDone += other.alreadyDone
        unchanged += other.unchanged
        filtered.merge(other.filtered, uniquingKeysWith: +)
        resources.merge(other.resources, uniquingKeysWith: +)
        unmapped.merge(other.unmapped, uniquingKeysWith: +)
        groups.merge(other.groups) { a, b in
            GroupAccounts(
                read: a.read + b.read, loaded: a.loaded + b.loaded, deadLettered: a.deadLettered + b.deadLettered,
                filtered: a.filtered + b.filtered)
        }
    }
}

/// How far a run has come, reported after each batch.
public struct MigrationProgress: Sendable {
    public var done: Int
    public var total: Int
}

/// What a retry of dead letters did.
public struct RetryReport: Sendable, Hashable {
    public var retried = 0
    /// Loaded now (and removed from the dead letters).
    public var loaded = 0
    /// Still dead, with their reason brought up to date.
    public var stillDead = 0
    /// Left out by a named rule now (and removed from the dead letters).
    public var filtered = 0

    public init(retried: Int = 0, loaded: Int = 0, stillDead: Int = 0, filtered: Int = 0) {
        self.retried = retried
        self.loaded = loaded
        self.stillDead = stillDead
        self.filtered = filtered
    }
}

/// A unit made ready: a Bundle, a dead letter, or the rule that filtered it.
struct Prepared: Sendable {
    var locator: String
    /// The unit as read, for its dead letter: worked out only when one is written.
    var content: @Sendable () -> [UInt8]
    var bundle: JSON?
    var deadLetter: DeadLetter?
    var filteredBy: String?
    var unmapped: [String: Int] = [:]
    /// The kind of unit, for the accounts per kind (a table, a message type).
    var group = ""

    static func dead(_ locator: String, _ content: [UInt8], partition: String, _ reason: String) -> Prepared {
        Prepared(
            locator: locator, content: { content }, bundle: nil,
            deadLetter: DeadLetter(locator: locator, partition: partition, reason: reason, content: content),
            filteredBy: nil)
    }
}

/// What a migration moves: partitions of units, each unit made ready (mapped, converted, validated)
/// for the store, and dead letters made ready again for a retry.
protocol MigrationUnits: Sendable {
    /// The partitions' names (unique within a run).
    func partitionNames() async throws -> [String]
    /// How many units all partitions hold, for progress.
    func total() async throws -> Int
    /// A partition's units from `start` on, in the same order every time, `size` at a time.
    func batches(
        partition: Int, name: String, from start: Int, size: Int, _ body: ([Prepared]) async throws -> Void
    ) async throws
    /// A dead letter of this source made ready again.
    func prepare(retry letter: DeadLetter) -> Prepared
}

/// The part every migration shares: workers claim partitions through the store, each batch's Bundles,
/// dead letters and checkpoint are committed in one transaction, a batch the store refuses is
/// committed one unit at a time (the refused ones dead-lettered), and the counts are kept.
struct MigrationEngine: Sendable {
    let store: any FHIRStore
    let options: MigrationOptions

    func run(
        _ units: some MigrationUnits, progress: @escaping @Sendable (MigrationProgress) -> Void
    ) async throws -> MigrationReport {
        let names = try await units.partitionNames()
        if options.deferIndex { try await store.dropSearchIndexes() }
        let tally = Tally(total: try await units.total(), progress: progress)
        let throttle = Throttle(rate: options.maximumRate)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for lane in 0..<options.workers {
                group.addTask {
                    // Partitions are claimed through the store, so that other processes can share the run.
                    let worker = "\(self.options.worker)/\(lane)"
                    while let name = try await self.store.claimPartition(
                        run: self.options.run, partitions: names, worker: worker)
                    {
                        let index = names.firstIndex(of: name)!
                        try await self.migrate(
                            units, partition: index, name: name, worker: worker, tally: tally, throttle: throttle)
                        try await self.store.finishPartition(run: self.options.run, partition: name)
                    }
                }
            }
            try await group.waitForAll()
        }
        return await tally.report
    }

    /// Maps a partition's batches and commits them in order, the next batch mapped while the one
    /// before commits (one commit in flight at a time, so memory stays at two batches and the
    /// checkpoint never passes a batch that is not in the store).
    func migrate(
        _ units: some MigrationUnits, partition index: Int, name: String, worker: String, tally: Tally,
        throttle: Throttle
    ) async throws {
        let start = try await store.checkpoint(run: options.run, partition: name) ?? 0
        await tally.add(alreadyDone: start)
        var position = start
        var committing: Task<Void, any Error>?
        do {
            try await units.batches(partition: index, name: name, from: start, size: options.batchSize) {
                prepared in
                try await throttle.admit(prepared.count)
                try await committing?.value
                let first = position
                committing = Task {
                    try await self.commit(prepared, from: first, partition: name, worker: worker, tally: tally)
                }
                position += prepared.count
            }
        } catch {
            _ = try? await committing?.value
            throw error
        }
        try await committing?.value
    }

    /// One batch in one transaction; when the store refuses it, one unit at a time, the refused ones
    /// dead-lettered.
    private func commit(
        _ prepared: [Prepared], from position: Int, partition name: String, worker: String, tally: Tally
    ) async throws {
        do {
            let batch = MigrationBatch(
                run: options.run, partition: name, position: position + prepared.count,
                bundles: prepared.compactMap(\.bundle), deadLetters: prepared.compactMap(\.deadLetter), worker: worker)
            await tally.add(prepared, outcome: try await store.commit(batch))
        } catch {
            for (offset, item) in prepared.enumerated() {
                try await commitAlone(item, partition: name, position: position + offset + 1, tally: tally)
            }
        }
    }

    private func commitAlone(_ item: Prepared, partition: String, position: Int, tally: Tally) async throws {
        let batch = MigrationBatch(
            run: options.run, partition: partition, position: position, bundles: item.bundle.map { [$0] } ?? [],
            deadLetters: item.deadLetter.map { [$0] } ?? [])
        do {
            await tally.add([item], outcome: try await store.commit(batch))
        } catch {
            var refused = Prepared.dead(
                item.locator, item.content(), partition: partition, "the store refused the Bundle: \(error)")
            refused.group = item.group
            _ = try await store.commit(
                MigrationBatch(
                    run: options.run, partition: partition, position: position, bundles: [],
                    deadLetters: [refused.deadLetter!]))
            await tally.add([refused], outcome: BatchOutcome())
        }
    }

    /// Runs the run's dead letters through their source's preparation again (after a fix): each one
    /// that now makes a valid Bundle is loaded and its dead letter removed in one transaction; the
    /// others stay, with the reason they fail for now. The checkpoints do not move.
    func retryDeadLetters(_ units: some MigrationUnits, partitions: Set<String>) async throws -> RetryReport {
        var report = RetryReport()
        for letter in try await store.deadLetters(run: options.run) where partitions.contains(letter.partition) {
            report.retried += 1
            let prepared = units.prepare(retry: letter)
            func commit(bundles: [JSON], dead: [DeadLetter], resolved: [String]) async throws {
                _ = try await store.commit(
                    MigrationBatch(
                        run: options.run, partition: letter.partition, position: nil, bundles: bundles,
                        deadLetters: dead, resolved: resolved))
            }
            if let bundle = prepared.bundle {
                do {
                    try await commit(bundles: [bundle], dead: [], resolved: [letter.locator])
                    report.loaded += 1
                    continue
                } catch {
                    var refused = letter
                    refused.reason = "the store refused the Bundle: \(error)"
                    try await commit(bundles: [], dead: [refused], resolved: [])
                }
            } else if let again = prepared.deadLetter {
                try await commit(bundles: [], dead: [again], resolved: [])
            } else {
                // Filtered by a rule now: no longer a dead letter.
                try await commit(bundles: [], dead: [], resolved: [letter.locator])
                report.filtered += 1
                continue
            }
            report.stillDead += 1
        }
        return report
    }
}

/// Holds a run to a rate: a batch starts no earlier than its units are due.
actor Throttle {
    let rate: Double?
    private let started = ContinuousClock.now
    private var admitted = 0

    init(rate: Double?) { self.rate = rate }

    func admit(_ count: Int) async throws {
        guard let rate else { return }
        let due = started + .milliseconds(Int(Double(admitted) / rate * 1000))
        admitted += count
        try await Task.sleep(until: due)
    }
}

/// The run's counts, added to as batches commit.
actor Tally {
    private(set) var report = MigrationReport()
    private var done = 0
    let total: Int
    let progress: @Sendable (MigrationProgress) -> Void

    init(total: Int, progress: @escaping @Sendable (MigrationProgress) -> Void) {
        self.total = total
        self.progress = progress
    }

    func add(alreadyDone: Int) {
        report.alreadyDone += alreadyDone
        report.read += alreadyDone
        done += alreadyDone
    }

    func add(_ items: [Prepared], outcome: BatchOutcome) {
        for item in items {
            report.read += 1
            report.groups[item.group, default: .init()].read += 1
            if item.deadLetter != nil {
                report.deadLettered += 1
                report.groups[item.group]!.deadLettered += 1
            } else if let rule = item.filteredBy {
                report.filtered[rule, default: 0] += 1
                report.groups[item.group]!.filtered += 1
            } else {
                report.loaded += 1
                report.groups[item.group]!.loaded += 1
            }
            report.unmapped.merge(item.unmapped, uniquingKeysWith: +)
        }
        report.unchanged += outcome.unchanged
        report.resources.merge(outcome.written, uniquingKeysWith: +)
        done += items.count
        progress(MigrationProgress(done: done, total: total))
    }
}
