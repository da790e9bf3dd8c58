// Search index extraction, the work alone: the synthetic clinic of PATIENTS patients mapped by the
// shipped spec (as `rows-load` does), then every mapped resource's search parameters extracted ROUNDS
// times, as a store's write does (its own `_id` and `_lastUpdated` excepted); prints resources a
// second on one core and how many values. For an instruction count of the extraction alone
// (docs/measuring.md), run it under callgrind counting only the extractor, at one round:
//   swift build -c release --product search-index
//   cp .build/release/search-index /tmp/si && strip -g /tmp/si
//   valgrind --tool=callgrind --toggle-collect='*SearchParameterExtractorV5index*' /tmp/si 300 1
// and divide `Collected` by the resources printed. The mapping runs in a task the main thread waits
// for: valgrind stops on a program whose main thread is handed to Dispatch by a top-level `await`.
import BenchmarkSupport
import Dispatch
import FHIR
import Foundation
import Legacy
import Mapping
import Synchronization

let arguments = CommandLine.arguments
guard arguments.count >= 2, let patients = Int(arguments[1]) else {
    print("usage: search-index PATIENTS [ROUNDS]")
    exit(2)
}
let rounds = arguments.count > 2 ? max(1, Int(arguments[2]) ?? 1) : 1
let definitions = try FHIRDefinitions.r4()

/// The clinic's rows mapped to resources (Provenance included), in the order the mapping made them.
func mappedResources() throws -> [JSON] {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
        "ferry-search-index-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: folder) }
    _ = try Synthesizer.run(Synthesizer.Options(patients: patients, seed: 1, folder: folder.path))
    let spec = try MappingSpec.load(path: Synthesizer.exampleSpecPath!, definitions: definitions)
    let mapper = SpecMapper(spec: spec, definitions: definitions, recorded: Date(timeIntervalSince1970: 0))
    let source = try SQLiteSource(path: folder.appendingPathComponent("legacy.db").path)
    let outcome = Mutex<Result<[JSON], any Error>>(.success([]))
    let done = DispatchSemaphore(value: 0)
    Task {
        do {
            let collected = Mutex<[JSON]>([])
            _ = try await MappingRun(source: source, mapper: mapper).run { items in
                for item in items {
                    if case .mapped(let made) = item.result.outcome {
                        collected.withLock { $0 += made.map(\.resource) }
                    }
                }
            }
            outcome.withLock { $0 = .success(collected.withLock { $0 }) }
        } catch {
            outcome.withLock { $0 = .failure(error) }
        }
        done.signal()
    }
    done.wait()
    return try outcome.withLock { try $0.get() }
}

let resources = try mappedResources()
let extractor = SearchParameterExtractor(definitions: definitions)
let excluded: Set<String> = ["_id", "_lastUpdated"]
var values = 0
let started = ContinuousClock.now
for _ in 0..<rounds {
    for resource in resources {
        for entry in try extractor.index(resource, excluding: excluded) { values += entry.values.count }
    }
}
let time = seconds(ContinuousClock.now - started)
print(
    String(
        format: "index: %d resources (%d values) in %.2f s on one core: %.0f resources/s",
        resources.count * rounds, values, time, Double(resources.count * rounds) / time))
