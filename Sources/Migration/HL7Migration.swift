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
    public typealias Options = MigrationOptions
    public typealias Report = MigrationReport
    public typealias Progress = MigrationProgress
    public typealias RetryReport = Migration.RetryReport

    let files: [String]
    let store: any FHIRStore
    let converter: V2Converter
    let options: Options

    public init(files: [String], store: any FHIRStore, converter: V2Converter, options: Options = Options(run: "hl7")) {
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

    /// Where a message stands: its file, its bytes' range, and its place for the locator.
    struct Place: Sendable {
        let file: Int
        let range: Range<Int>
        let locator: String
    }

    /// Runs (or resumes) the migration.
    public func run(progress: @escaping @Sendable (Progress) -> Void = { _ in }) async throws -> Report {
        let units = try Units(migration: self, files: files, partitions: options.partitions)
        return try await MigrationEngine(store: store, options: options).run(units, progress: progress)
    }

    /// Converts the run's dead letters again (after a fix to the maps): each one that now makes a
    /// valid Bundle is loaded and its dead letter removed in one transaction; the others stay, with
    /// the reason they fail for now. The checkpoints do not move.
    public func retryDeadLetters() async throws -> RetryReport {
        let units = try Units(migration: self, files: [], partitions: options.partitions)
        return try await MigrationEngine(store: store, options: options).retryDeadLetters(
            units, partitions: Set(try await units.partitionNames()))
    }

    /// The messages by partition, for the engine. The files are mapped into memory, not read into it:
    /// what the process holds is an index of places (a few dozen bytes a message), and each batch's
    /// messages are copied out as the batch is prepared.
    struct Units: MigrationUnits {
        let migration: HL7Migration
        let contents: [Data]
        let partitions: [[Place]]

        init(migration: HL7Migration, files: [String], partitions count: Int) throws {
            self.migration = migration
            var contents: [Data] = []
            var partitions = Array(repeating: [Place](), count: count)
            for (index, file) in files.enumerated() {
                let data: Data
                do { data = try Data(contentsOf: URL(fileURLWithPath: file), options: .alwaysMapped) } catch {
                    throw MigrationError(description: "\(file): cannot be read")
                }
                contents.append(data)
                let bytes = [UInt8](data)
                for (number, piece) in HL7Batch.messageRanges(bytes).enumerated() {
                    let place = Place(
                        file: index, range: piece.range,
                        locator: V2FeedMessage.locator(file: file, number: number + 1, line: piece.line))
                    partitions[HL7Migration.partition(of: Array(bytes[piece.range]), count: count)].append(place)
                }
            }
            self.contents = contents
            self.partitions = partitions
        }

        func partitionNames() async throws -> [String] { partitions.indices.map { "hl7-\($0)" } }

        func total() async throws -> Int { partitions.reduce(0) { $0 + $1.count } }

        func batches(
            partition: Int, name: String, from start: Int, size: Int, _ body: ([Prepared]) async throws -> Void
        ) async throws {
            let places = partitions[partition]
            var position = min(start, places.count)
            while position < places.count {
                let slice = places[position..<min(position + size, places.count)]
                try await body(
                    slice.map { place in
                        let bytes = [UInt8](contents[place.file][place.range])
                        return migration.prepare(Unit(locator: place.locator, bytes: bytes), partition: name)
                    })
                position += slice.count
            }
        }

        func prepare(retry letter: DeadLetter) -> Prepared {
            migration.prepare(Unit(locator: letter.locator, bytes: letter.content), partition: letter.partition)
        }
    }

    /// A message's partition: its patient's (PID-3's first identifier and its authority), so that a
    /// patient's messages are loaded in the order they were sent; a message without a readable PID
    /// by its own bytes.
    static func partition(of bytes: [UInt8], count: Int) -> Int {
        let message = try? HL7Message(parsing: bytes)
        let patient = message.flatMap { message -> String? in
            guard case .text(let id)? = try? message.value(at: "PID-3.1") else { return nil }
            let authority = (try? message.value(at: "PID-3.4").text) ?? nil
            return "\(authority ?? "")|\(id)"
        }
        let key = patient.map { Array($0.utf8) } ?? bytes
        return Int(FNV1a.hash(key) % UInt64(count))
    }

    /// The rule for messages that carry no data to migrate.
    public static let acknowledgmentRule = V2FeedMessage.acknowledgmentRule

    func prepare(_ unit: Unit, partition: String) -> Prepared {
        let (outcome, group) = V2FeedMessage.outcome(unit.bytes, converter: converter)
        var prepared: Prepared
        switch outcome {
        case .bundle(let bundle):
            prepared = Prepared(
                locator: unit.locator, content: { unit.bytes }, bundle: bundle, deadLetter: nil, filteredBy: nil)
        case .filtered(let rule):
            prepared = Prepared(
                locator: unit.locator, content: { unit.bytes }, bundle: nil, deadLetter: nil, filteredBy: rule)
        case .deadLettered(let reason):
            prepared = .dead(unit.locator, unit.bytes, partition: partition, reason)
        }
        prepared.group = group
        return prepared
    }
}

/// Why a migration could not run at all.
public struct MigrationError: Error, CustomStringConvertible {
    public var description: String
}
