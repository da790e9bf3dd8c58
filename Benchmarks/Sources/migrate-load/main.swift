// Migration end to end: the HL7 v2 corpus (hl7-mixed.txt, 5,000 messages) migrated into a new store —
// read, partition, parse, convert, validate, load with checkpoints — as resources written per second
// and peak memory; then, in the same run, the physical floor: the same Bundles, converted beforehand,
// committed to another new store in the same batches with no parsing, mapping or validation.
//   swift run -c release migrate-load [WORKERS] [BATCH]
import BenchmarkCorpus
import BenchmarkSupport
import FHIR
import Foundation
import HL7v2
import Mapping
import Migration
import Store

let arguments = CommandLine.arguments
let workers = arguments.count > 1 ? Int(arguments[1]) ?? 2 : 2
let batchSize = arguments.count > 2 ? Int(arguments[2]) ?? 100 : 100

let corpus = CorpusFiles.folder.appendingPathComponent("hl7-mixed.txt")
guard FileManager.default.fileExists(atPath: corpus.path) else {
    print("missing \(corpus.path): run `swift run -c release make-corpus` first")
    exit(1)
}
let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-migrate-load-\(UUID().uuidString)")
try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(at: folder) }
let definitions = try FHIRDefinitions.r4()
let converter = V2Converter(maps: try V2Maps.shipped(), definitions: definitions)

// 1. The migration.
let store = try SQLiteStore(path: folder.appendingPathComponent("migrated.sqlite").path, definitions: definitions)
let started = ContinuousClock.now
let report = try await HL7Migration(
    files: [corpus.path], store: store, converter: converter,
    options: .init(run: "bench", batchSize: batchSize, workers: workers)
).run()
let migrationTime = ContinuousClock.now - started
// Every entry of every Bundle loaded counts, whether it wrote a new version or found the content unchanged.
let written = report.resources.values.reduce(0, +) + report.unchanged
let migrationSeconds = Double(migrationTime.components.seconds) + Double(migrationTime.components.attoseconds) / 1e18
let migrationPeak = peakMegabytes()
precondition(report.addsUp, "the migration's counts do not add up")

// 2. The floor: the same Bundles, made beforehand, committed in the same batches by as many tasks.
let messages = HL7Batch.messageRanges(Array(try Data(contentsOf: corpus)))
let bytes = Array(try Data(contentsOf: corpus))
var bundles: [JSON] = []
for piece in messages {
    guard let message = try? HL7Message(parsing: bytes[piece.range]), let conversion = try? converter.convert(message),
        conversion.outcome.isValid
    else { continue }
    bundles.append(conversion.bundle)
}
let floorStore = try SQLiteStore(path: folder.appendingPathComponent("floor.sqlite").path, definitions: definitions)
let (floorSeconds, floorWritten) = try await commitFloor(
    bundles, to: floorStore, workers: workers, batchSize: batchSize)

print("messages: \(report.read) read, \(report.loaded) loaded, \(report.deadLettered) dead-lettered")
print(
    String(
        format: "migration: %d resources in %.1f s = %.0f resources/s (%.0f messages/s), peak %d MB",
        written, migrationSeconds, Double(written) / migrationSeconds, Double(report.read) / migrationSeconds,
        migrationPeak))
printFloor(
    migrated: written, migrationSeconds: migrationSeconds, floorResources: floorWritten, floorSeconds: floorSeconds)
