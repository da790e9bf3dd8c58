import FHIR
import Foundation
import HL7v2
import Mapping
import Store

/// Migrates HL7 v2 message files into a FHIR store: every message converted by the v2-to-FHIR maps
/// to a validated transaction Bundle and committed in batches.
///
/// - Partitions: messages go to a partition by their patient (PID-3), so one patient's messages are
///   loaded in the order they were sent; workers claim partitions one at a time through the store,
///   so several processes (on PostgreSQL, on several machines) can share one run.
/// - Checkpoints: each batch's Bundles, its dead letters and its partition's position are committed
///   in one database transaction. Killed at any moment, a rerun of the same run resumes after the last
///   committed batch and ends with the same store as a run that was never interrupted.
/// - Nothing lost: every message is loaded, dead-lettered (unreadable, not convertible, or not valid,
///   with the reason and its place in the file), or filtered by a named rule; the report adds up.
public final class HL7Migration: Sendable {
    public struct Options: Sendable {
        /// The run's name: checkpoints and dead letters belong to it, and a rerun with it resumes.
        public var run: String
        public var batchSize: Int
        public var workers: Int
        public var partitions: Int
        /// This process's name among the workers of a run (several processes, on one machine or many,
        /// share a run's partitions through the store). A restarted worker with the same name takes
        /// back its partitions at once; another's wait for its lease to run out.
        public var worker: String
        /// At most this many messages a second from this process (to spare a busy system), if set.
        public var maximumRate: Double?

        public init(
            run: String = "hl7", batchSize: Int = 100, workers: Int = 2, partitions: Int = 8,
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
    public struct Report: Sendable, Hashable {
        public var read = 0
        public var loaded = 0
        public var deadLettered = 0
        /// Messages left out on purpose, by the rule that left them out.
        public var filtered: [String: Int] = [:]
        /// Messages an earlier, interrupted attempt of this run had already committed.
        public var alreadyDone = 0
        /// Resources written (created or updated) per type.
        public var resources: [String: Int] = [:]
        /// Transaction entries whose content was already in the store (no new version).
        public var unchanged = 0

        /// Whether every message read is accounted for.
        public var addsUp: Bool { read == loaded + deadLettered + filtered.values.reduce(0, +) + alreadyDone }
    }

    /// How far a run has come, reported after each batch.
    public struct Progress: Sendable {
        public var done: Int
        public var total: Int
    }

    let files: [String]
    let store: any FHIRStore
    let converter: V2Converter
    let options: Options

    public init(files: [String], store: any FHIRStore, converter: V2Converter, options: Options = Options()) {
        self.files = files
        self.store = store
        self.converter = converter
        self.options = options
    }

    /// One message of the source, not yet parsed.
    struct Unit: Sendable {
        let locator: String
        let bytes: [UInt8]
    }

    /// Runs (or resumes) the migration.
    public func run(progress: @escaping @Sendable (Progress) -> Void = { _ in }) async throws -> Report {
        let partitions = try partition(try readUnits())
        let names = partitions.indices.map { "hl7-\($0)" }
        let total = partitions.reduce(0) { $0 + $1.count }
        let tally = Tally(total: total, progress: progress)
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
                            partition: index, units: partitions[index], worker: worker, tally: tally, throttle: throttle
                        )
                        try await self.store.finishPartition(run: self.options.run, partition: name)
                    }
                }
            }
            try await group.waitForAll()
        }
        return await tally.report
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

    /// Runs the run's dead letters through conversion again (after a fix to the maps): each one that
    /// now makes a valid Bundle is loaded and its dead letter removed in one transaction; the others
    /// stay, with the reason they fail for now. The checkpoints do not move.
    public func retryDeadLetters() async throws -> RetryReport {
        var report = RetryReport()
        for letter in try await store.deadLetters(run: options.run) {
            report.retried += 1
            let prepared = prepare(Unit(locator: letter.locator, bytes: letter.content), partition: letter.partition)
            if let bundle = prepared.bundle {
                do {
                    _ = try await store.commit(
                        MigrationBatch(
                            run: options.run, partition: letter.partition, position: nil, bundles: [bundle],
                            deadLetters: [], resolved: [letter.locator]))
                    report.loaded += 1
                    continue
                } catch {
                    let refused = DeadLetter(
                        locator: letter.locator, partition: letter.partition,
                        reason: "the store refused the Bundle: \(error)", content: letter.content)
                    _ = try await store.commit(
                        MigrationBatch(
                            run: options.run, partition: letter.partition, position: nil, bundles: [],
                            deadLetters: [refused]))
                }
            } else if let again = prepared.deadLetter {
                _ = try await store.commit(
                    MigrationBatch(
                        run: options.run, partition: letter.partition, position: nil, bundles: [], deadLetters: [again])
                )
            } else {
                // Filtered by a rule now: no longer a dead letter.
                _ = try await store.commit(
                    MigrationBatch(
                        run: options.run, partition: letter.partition, position: nil, bundles: [], deadLetters: [],
                        resolved: [letter.locator]))
                report.filtered += 1
                continue
            }
            report.stillDead += 1
        }
        return report
    }

    /// Every message of every file, as bytes with its place.
    func readUnits() throws -> [Unit] {
        var units: [Unit] = []
        for file in files {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw MigrationError(description: "\(file): cannot be read")
            }
            let bytes = Array(data)
            for (number, piece) in HL7Batch.messageRanges(bytes).enumerated() {
                units.append(
                    Unit(locator: "\(file)#\(number + 1) (line \(piece.line))", bytes: Array(bytes[piece.range])))
            }
        }
        return units
    }

    /// Units by partition: a patient's messages (PID-3's first identifier and its authority) in one,
    /// in source order; a message without a readable PID by its own bytes.
    func partition(_ units: [Unit]) throws -> [[Unit]] {
        var partitions = Array(repeating: [Unit](), count: options.partitions)
        for unit in units {
            let message = try? HL7Message(parsing: unit.bytes)
            let patient = message.flatMap { message -> String? in
                guard case .text(let id)? = try? message.value(at: "PID-3.1") else { return nil }
                let authority = (try? message.value(at: "PID-3.4").text) ?? nil
                return "\(authority ?? "")|\(id)"
            }
            let key = patient.map { Array($0.utf8) } ?? unit.bytes
            partitions[Int(Self.fnv1a(key) % UInt64(options.partitions))].append(unit)
        }
        return partitions
    }

    /// FNV-1a: a hash that is the same in every process (Swift's `Hasher` is seeded per process).
    static func fnv1a(_ bytes: [UInt8]) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return hash
    }

    func migrate(partition index: Int, units: [Unit], worker: String, tally: Tally, throttle: Throttle) async throws {
        let name = "hl7-\(index)"
        let start = try await store.checkpoint(run: options.run, partition: name) ?? 0
        await tally.add(alreadyDone: min(start, units.count), read: min(start, units.count))
        var position = start
        while position < units.count {
            let slice = units[position..<min(position + options.batchSize, units.count)]
            try await throttle.admit(slice.count)
            var prepared: [Prepared] = []
            for unit in slice { prepared.append(prepare(unit, partition: name)) }
            let end = position + slice.count
            do {
                let responses = try await store.commit(
                    MigrationBatch(
                        run: options.run, partition: name, position: end,
                        bundles: prepared.compactMap(\.bundle), deadLetters: prepared.compactMap(\.deadLetter),
                        worker: worker))
                await tally.add(prepared, responses: responses)
            } catch {
                // The store refused a Bundle: one message at a time, the refused ones dead-lettered.
                for (offset, item) in prepared.enumerated() {
                    try await commitAlone(
                        item, unit: slice[slice.startIndex + offset], partition: name,
                        position: position + offset + 1, tally: tally)
                }
            }
            position = end
        }
    }

    private func commitAlone(_ item: Prepared, unit: Unit, partition: String, position: Int, tally: Tally) async throws
    {
        let batch = MigrationBatch(
            run: options.run, partition: partition, position: position, bundles: item.bundle.map { [$0] } ?? [],
            deadLetters: item.deadLetter.map { [$0] } ?? [])
        do {
            await tally.add([item], responses: try await store.commit(batch))
        } catch {
            let letter = DeadLetter(
                locator: unit.locator, partition: partition, reason: "the store refused the Bundle: \(error)",
                content: unit.bytes)
            let refused = Prepared(bundle: nil, deadLetter: letter, filteredBy: nil, counts: [:])
            _ = try await store.commit(
                MigrationBatch(
                    run: options.run, partition: partition, position: position, bundles: [], deadLetters: [letter]))
            await tally.add([refused], responses: [])
        }
    }

    /// A unit made ready: a Bundle, a dead letter, or the rule that filtered it.
    struct Prepared: Sendable {
        var bundle: JSON?
        var deadLetter: DeadLetter?
        var filteredBy: String?
        var counts: [String: Int]
    }

    /// The rule for messages that carry no data to migrate.
    public static let acknowledgmentRule = "acknowledgments (MSH-9 ACK) carry no clinical data"

    func prepare(_ unit: Unit, partition: String) -> Prepared {
        func dead(_ reason: String) -> Prepared {
            Prepared(
                bundle: nil,
                deadLetter: DeadLetter(
                    locator: unit.locator, partition: partition, reason: reason, content: unit.bytes),
                filteredBy: nil, counts: [:])
        }
        let message: HL7Message
        do { message = try HL7Message(parsing: unit.bytes) } catch { return dead("unreadable: \(error)") }
        if message.messageType == "ACK" {
            return Prepared(bundle: nil, deadLetter: nil, filteredBy: Self.acknowledgmentRule, counts: [:])
        }
        let conversion: V2Converter.Conversion
        do { conversion = try converter.convert(message) } catch { return dead("not convertible: \(error)") }
        guard conversion.outcome.isValid else {
            return dead(JSONWriter(layout: .compact).string(conversion.outcome.resource))
        }
        return Prepared(bundle: conversion.bundle, deadLetter: nil, filteredBy: nil, counts: conversion.counts)
    }
}

/// Why a migration could not run at all.
public struct MigrationError: Error, CustomStringConvertible {
    public var description: String
}

/// Holds a run to a rate: a batch starts no earlier than its messages are due.
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
    private(set) var report = HL7Migration.Report()
    private var done = 0
    let total: Int
    let progress: @Sendable (HL7Migration.Progress) -> Void

    init(total: Int, progress: @escaping @Sendable (HL7Migration.Progress) -> Void) {
        self.total = total
        self.progress = progress
    }

    func add(alreadyDone: Int, read: Int) {
        report.alreadyDone += alreadyDone
        report.read += read
        done += alreadyDone
    }

    func add(_ items: [HL7Migration.Prepared], responses: [JSON]) {
        for item in items {
            report.read += 1
            if item.deadLetter != nil {
                report.deadLettered += 1
            } else if let rule = item.filteredBy {
                report.filtered[rule, default: 0] += 1
            } else {
                report.loaded += 1
            }
        }
        for response in responses {
            for entry in response["entry"]?.arrayValue ?? [] {
                let status = entry["response"]?["status"]?.stringValue ?? ""
                let note = entry["response"]?["outcome"]?["issue"]?[0]?["diagnostics"]?.stringValue ?? ""
                if note.hasPrefix("unchanged") || note.hasPrefix("found") {
                    report.unchanged += 1
                } else if let type = entry["response"]?["location"]?.stringValue?.split(separator: "/").first,
                    status.hasPrefix("20")
                {
                    report.resources[String(type), default: 0] += 1
                }
            }
        }
        done += items.count
        progress(HL7Migration.Progress(done: done, total: total))
    }
}
