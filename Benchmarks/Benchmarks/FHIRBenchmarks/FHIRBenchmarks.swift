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
            "Parse + validate \(name) (all invariants)",
            configuration: .init(scalingFactor: .kilo, maxDuration: .seconds(5), maxIterations: 10_000)
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

    fhirPathBenchmarks()
}

/// FHIRPath: the same expressions on the same resources as the fhirpathpy peer, and the cost of invariants in validation.
let fhirPathBenchmarks: @Sendable () -> Void = {
    guard let definitions = try? FHIRDefinitions.r4() else { return }
    let workload = FHIRPathWorkload.read()
    let full = FHIRPathWorkload.read(full: true)
    func parsed(_ file: String) -> [JSON] {
        Corpus.lines(of: CorpusFiles.read(file)).prefix(2000).compactMap { try? JSON(parsing: $0) }
    }
    let patients = parsed("patients.ndjson")
    let observations = parsed("observations.ndjson")
    let alternating = zip(patients, observations).flatMap { [$0, $1] }
    let environment = FHIRPathEnvironment(castsCollections: true)

    for (label, texts, resources) in [
        ("Patient invariants", workload.patient, patients),
        ("Observation invariants", workload.observation, observations),
        ("10 search-parameter expressions", workload.search, alternating),
        // Ferry alone: every invariant, including those fhirpathpy cannot evaluate (hasValue(), %rootResource).
        ("Patient invariants, full set", full.patient, patients),
        ("Observation invariants, full set", full.observation, observations),
    ] {
        let expressions = texts.compactMap { try? FHIRPathExpression($0, definitions: definitions) }
        guard !expressions.isEmpty, !resources.isEmpty else { continue }
        // Each resource wrapped once, as a caller evaluating many expressions on it would.
        let focuses = resources.map { [FHIRPathValue.resource($0, definitions: definitions)] }
        // One scaled iteration is one evaluation, so throughput reads as evaluations per second.
        Benchmark(
            "FHIRPath \(label) (\(expressions.count) expressions): Ferry",
            configuration: .init(scalingFactor: .kilo, maxDuration: .seconds(5), maxIterations: 100_000)
        ) { benchmark in
            for iteration in benchmark.scaledIterations {
                let focus = focuses[iteration / expressions.count % focuses.count]
                let expression = expressions[iteration % expressions.count]
                blackHole(try expression.evaluate(focus: focus, definitions: definitions, environment: environment))
            }
        }
    }

    for (name, file) in [("Patient", "patients.ndjson"), ("Observation", "observations.ndjson")] {
        let lines = Corpus.lines(of: CorpusFiles.read(file))
        for mode in [Validator.InvariantMode.off, .interpreted] {
            let validator = Validator(definitions: definitions, invariants: mode)
            Benchmark(
                "Parse + validate \(name), invariants \(mode)",
                configuration: .init(scalingFactor: .kilo, maxDuration: .seconds(5), maxIterations: 10_000)
            ) { benchmark in
                for iteration in benchmark.scaledIterations {
                    let outcome = validator.validate(jsonBytes: lines[iteration % lines.count])
                    precondition(outcome.isValid)
                    blackHole(outcome)
                }
            }
        }
    }
}
