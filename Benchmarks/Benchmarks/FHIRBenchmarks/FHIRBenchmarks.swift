// Benchmarks of the FHIR core. Run with ./compare for the side-by-side table with the peers.
import Benchmark
import BenchmarkCorpus
import FHIR
import Foundation

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .peakMemoryResident, .mallocCountTotal],
        timeUnits: .milliseconds,
        maxDuration: .seconds(10),
        maxIterations: 20
    )

    let mixed = CorpusFiles.read("mixed-50mb.ndjson")
    let mixedLines = Corpus.lines(of: mixed)
    let megabytes = Double(mixed.count) / 1_000_000

    // JSON parse alone: one iteration parses every line of the ~50 MB file.
    Benchmark("JSON parse 50 MB NDJSON: Ferry (\(String(format: "%.1f", megabytes)) MB per iteration)") { benchmark in
        for line in mixedLines {
            blackHole(try JSONParser().parse(line))
        }
    }

    Benchmark(
        "JSON parse 50 MB NDJSON: Foundation JSONSerialization (\(String(format: "%.1f", megabytes)) MB per iteration)"
    ) { benchmark in
        for line in mixedLines {
            blackHole(try JSONSerialization.jsonObject(with: Data(line)))
        }
    }

    let validator = try? Validator()

    // Parse + validate: resources per second, one resource per scaled iteration.
    for (name, file) in [
        ("Patient", "patients.ndjson"), ("Observation", "observations.ndjson"),
        ("Bundle of 100 entries", "bundles.ndjson"),
    ] {
        let lines = Corpus.lines(of: CorpusFiles.read(file))
        guard let validator, !lines.isEmpty else { continue }
        Benchmark(
            "Parse + validate \(name)",
            configuration: .init(scalingFactor: .one, maxDuration: .seconds(5), maxIterations: 1_000_000)
        ) { benchmark in
            for iteration in benchmark.scaledIterations {
                let line = lines[iteration % lines.count]
                let outcome = validator.validate(jsonBytes: line)
                precondition(outcome.isValid)
                blackHole(outcome)
            }
        }
    }

    Benchmark(
        "Load the shipped R4 definitions",
        configuration: .init(maxDuration: .seconds(5), maxIterations: 50)
    ) { benchmark in
        let data = try FHIRDefinitions.shippedDocument()
        benchmark.startMeasurement()
        blackHole(try FHIRDefinitions(compactDocument: data))
    }
}
