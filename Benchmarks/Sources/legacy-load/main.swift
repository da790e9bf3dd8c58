// The legacy side measured: `ferry synth` (patients a second, peak memory), and rows of the synthetic
// database mapped by the shipped spec to validated resources (resources a second on one core, with and
// without validation, and peak memory).
//   swift run -c release legacy-load synth PATIENTS
//   swift run -c release legacy-load map PATIENTS
import BenchmarkSupport
import FHIR
import Foundation
import Legacy
import Mapping

let arguments = CommandLine.arguments
guard arguments.count == 3, let patients = Int(arguments[2]), ["synth", "map"].contains(arguments[1]) else {
    print("usage: legacy-load synth|map PATIENTS")
    exit(2)
}
let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-legacy-load-\(UUID().uuidString)")
defer { try? FileManager.default.removeItem(at: folder) }

let started = ContinuousClock.now
let summary = try Synthesizer.run(Synthesizer.Options(patients: patients, seed: 1, folder: folder.path))
let synthTime = seconds(ContinuousClock.now - started)
let synthPeak = peakMegabytes()
if arguments[1] == "synth" {
    let rows = summary.rows.values.reduce(0, +)
    print(
        String(
            format: "synth: %d patients, %d rows, %d messages in %.1f s: %.0f patients/s, peak %d MB", patients, rows,
            summary.messages.values.reduce(0, +), synthTime, Double(patients) / synthTime, synthPeak))
    try? FileManager.default.removeItem(at: folder)
    exit(0)
}

// Mapping: every table of the database, one task (one core), resources validated as the mapper does.
let definitions = try FHIRDefinitions.r4()
let spec = try MappingSpec.load(path: Synthesizer.exampleSpecPath!, definitions: definitions)
let mapper = SpecMapper(spec: spec, definitions: definitions, recorded: Date(timeIntervalSince1970: 0))
let source = try SQLiteSource(path: folder.appendingPathComponent("legacy.db").path)
let run = MappingRun(source: source, mapper: mapper, batchSize: 1000)
let lookups = try await run.lookups()

// The reading alone: every row of the mapped tables streamed from SQLite.
var read = 0
let readStarted = ContinuousClock.now
for table in mapper.tables {
    try await source.scan(table: table, batchSize: 1000) { read += $0.count }
}
let readTime = seconds(ContinuousClock.now - readStarted)

let mapStarted = ContinuousClock.now
let report = try await run.run(lookups: lookups) { _ in }
let mapTime = seconds(ContinuousClock.now - mapStarted)
let resources = report.resources.values.reduce(0, +)
precondition(report.addsUp)
print(
    String(
        format: "read: %d rows in %.2f s (%.0f rows/s)", read, readTime, Double(read) / readTime))
print(
    String(
        format:
            "map + validate: %d rows → %d resources (Provenance included) in %.2f s on one core: %.0f resources/s, %.0f rows/s; peak %d MB",
        read, resources, mapTime, Double(resources) / mapTime, Double(read) / mapTime, peakMegabytes()))
