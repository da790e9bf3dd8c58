// Migration of the synthetic database end to end, as issue 5 measures it: `ferry synth` writes a clinic,
// `RelationalMigration` maps, validates and loads it into a new store (resources/s, peak memory); then,
// in the same run, the physical floor: the same Bundles, mapped beforehand, committed to another new
// store in the same batches by as many tasks, with no reading, mapping or validation.
//   swift run -c release rows-load PATIENTS sqlite [--bulk] [--workers N] [--no-floor]
//   swift run -c release rows-load PATIENTS postgres://user@host:port/ DATABASE_A DATABASE_B [--bulk] [--workers N]
// (for PostgreSQL, two empty databases on one server: the migration's and the floor's). `--bulk` runs
// both in bulk mode (`ferry migrate --defer-index`): the search tables' indexes dropped for the load
// and built at its end, inside the timed span.
// The measuring runs in a task the main thread waits for (not a top-level `await`, which hands the main
// thread to Dispatch and stops valgrind), so that callgrind can count a whole migration's instructions
// (docs/measuring.md).
import BenchmarkSupport
import Dispatch
import FHIR
import Foundation
import Legacy
import Mapping
import Migration
import Store

let bulk = CommandLine.arguments.contains("--bulk")
// `--no-floor`: the migration alone (to compare two builds of it, run after run, in half the time).
let measuresFloor = !CommandLine.arguments.contains("--no-floor")
// `--workers N`: partitions migrated at once, in the migration and the floor alike (as `ferry migrate`:
// one more than the processors).
let (arguments, workers): ([String], Int) = {
    var arguments = CommandLine.arguments.filter { $0 != "--bulk" && $0 != "--no-floor" }
    guard let flag = arguments.firstIndex(of: "--workers"), flag + 1 < arguments.count,
        let count = Int(arguments[flag + 1])
    else { return (arguments, MigrationOptions.defaultWorkers) }
    arguments.removeSubrange(flag...flag + 1)
    return (arguments, max(1, count))
}()
guard arguments.count >= 3, let patients = Int(arguments[1]) else {
    print(
        "usage: rows-load PATIENTS sqlite [--bulk] [--workers N] [--no-floor] | rows-load PATIENTS postgres://user@host:port/ DB_A DB_B"
    )
    exit(2)
}
let batchSize = 200
let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-rows-load-\(UUID().uuidString)")
defer { try? FileManager.default.removeItem(at: folder) }
_ = try Synthesizer.run(Synthesizer.Options(patients: patients, seed: 1, folder: folder.path))
let definitions = try FHIRDefinitions.r4()

func store(_ name: String) async throws -> any FHIRStore {
    if arguments[2] == "sqlite" {
        return try SQLiteStore(path: folder.appendingPathComponent("\(name).sqlite").path, definitions: definitions)
    }
    return try await PostgresStore(url: arguments[2] + arguments[name == "migrated" ? 3 : 4], definitions: definitions)
}

let spec = try MappingSpec.load(path: Synthesizer.exampleSpecPath!, definitions: definitions)
let mapper = SpecMapper(spec: spec, definitions: definitions, recorded: Date(timeIntervalSince1970: 0))
let source = try SQLiteSource(path: folder.appendingPathComponent("legacy.db").path)

/// The migration, then the floor.
func measure() async throws {
    // 1. The migration.
    let migrated = try await store("migrated")
    let started = ContinuousClock.now
    let processorAtStart = processorSeconds()
    var options = MigrationOptions(run: "bench", batchSize: batchSize, workers: workers)
    options.deferIndex = bulk
    let report = try await RelationalMigration(source: source, mapper: mapper, store: migrated, options: options).run()
    if bulk { try await migrated.buildSearchIndexes() }
    let migrationSeconds = seconds(ContinuousClock.now - started)
    let migrationProcessor = processorSeconds() - processorAtStart
    let migrationPeak = peakMegabytes()
    let written = report.resources.values.reduce(0, +) + report.unchanged
    precondition(report.addsUp)

    print(
        "store: \(arguments[2] == "sqlite" ? "SQLite" : "PostgreSQL")\(bulk ? ", bulk mode" : ""); \(patients) patients, "
            + "\(report.read) rows")
    print(
        String(
            format: "migration: %d resources in %.1f s = %.0f resources/s (%.0f rows/s), peak %d MB", written,
            migrationSeconds, Double(written) / migrationSeconds, Double(report.read) / migrationSeconds, migrationPeak)
    )
    // The processor time beside the wall time: what the migration costs, and how busy it kept the cores.
    print(
        String(
            format: "migration processor time: %.1f s (%.1f µs a resource), %.2f cores busy on average",
            migrationProcessor, migrationProcessor * 1e6 / Double(written), migrationProcessor / migrationSeconds))
    guard measuresFloor else { return }

    // 2. The floor: the same Bundles, mapped beforehand, committed in the same batches by as many tasks.
    var bundles: [JSON] = []
    _ = try await MappingRun(source: source, mapper: mapper).run { items in
        for item in items { if case .mapped(let made) = item.result.outcome { bundles.append(mapper.bundle(made)) } }
    }
    let floor = try await store("floor")
    let (floorSeconds, floorWritten) = try await commitFloor(
        bundles, to: floor, workers: workers, batchSize: batchSize, bulk: bulk)

    printFloor(
        migrated: written, migrationSeconds: migrationSeconds, floorResources: floorWritten, floorSeconds: floorSeconds)
}

nonisolated(unsafe) var failure: (any Error)?
let finished = DispatchSemaphore(value: 0)
Task.detached {
    do { try await measure() } catch { failure = error }
    finished.signal()
}
finished.wait()
if let failure {
    print("rows-load: \(failure)")
    exit(1)
}
