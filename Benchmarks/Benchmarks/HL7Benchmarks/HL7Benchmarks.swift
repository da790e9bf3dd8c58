// Benchmarks of the HL7 v2 parser. Run with ./compare for the side-by-side table with python-hl7 and hl7apy.
import Benchmark
import BenchmarkCorpus
import FHIR
import HL7v2
import Mapping

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .peakMemoryResident, .mallocCountTotal],
        timeUnits: .microseconds,
        maxDuration: .seconds(5),
        maxIterations: 10_000
    )
    // One message per line of the mixed feed (segments inside end with \r).
    let messages = CorpusFiles.read("hl7-mixed.txt").split(separator: UInt8(ascii: "\n")).map(Array.init)
    guard !messages.isEmpty else { return }
    let fields = ["MSH-9.1", "MSH-9.2", "MSH-10", "PID-3.1", "PID-5.1", "PID-5.2", "PID-7", "PID-8"].map {
        try! HL7Path($0)
    }

    // Messages per second: one message per scaled iteration. An iteration's thousand messages are spread
    // evenly over the whole feed (every fifth of its 5,000), so that each is the feed's mix: with one
    // message an iteration (no scaling factor) `scaledIterations` is `0..<1`, and the same first
    // message would be measured again and again.
    func sample(_ iteration: Int, of count: Int) -> Int { iteration * count / 1000 }

    Benchmark("HL7 parse, mixed feed", configuration: .init(scalingFactor: .kilo)) { benchmark in
        for iteration in benchmark.scaledIterations {
            blackHole(try HL7Message(parsing: messages[sample(iteration, of: messages.count)]))
        }
    }

    Benchmark("HL7 parse + read 8 fields (MSH-9.1 … PID-8)", configuration: .init(scalingFactor: .kilo)) { benchmark in
        for iteration in benchmark.scaledIterations {
            let message = try HL7Message(parsing: messages[sample(iteration, of: messages.count)])
            for path in fields { blackHole(message.value(at: path)) }
        }
    }

    Benchmark("HL7 parse + group by message structure", configuration: .init(scalingFactor: .kilo)) { benchmark in
        for iteration in benchmark.scaledIterations {
            let message = try HL7Message(parsing: messages[sample(iteration, of: messages.count)])
            blackHole(HL7GroupedMessage(message))
        }
    }

    // HL7 v2 to FHIR: one message converted to a transaction Bundle, which the converter validates as a
    // whole (repairing and validating again only when something had to be left out); `ferry hl7 convert`
    // writes what this makes.
    guard let definitions = try? FHIRDefinitions.r4(), let maps = try? V2Maps.shipped() else { return }
    let converter = V2Converter(maps: maps, definitions: definitions)
    let parsed = messages.compactMap { try? HL7Message(parsing: $0) }
    Benchmark("HL7 v2 to FHIR: convert + validate, mixed feed", configuration: .init(scalingFactor: .kilo)) {
        benchmark in
        for iteration in benchmark.scaledIterations {
            let conversion = try converter.convert(parsed[sample(iteration, of: parsed.count)])
            precondition(conversion.outcome.isValid)
            blackHole(conversion)
        }
    }
}
