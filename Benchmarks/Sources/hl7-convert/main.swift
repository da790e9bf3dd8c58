// HL7 v2 to FHIR, the work alone: converts the first N messages of the mixed feed (hl7-mixed.txt)
// once each, or ROUNDS times (`hl7-convert N ROUNDS`), as `HL7Benchmarks`' "HL7 v2 to FHIR" converts
// its sample of the feed, and prints how many were converted and valid. Made to run under
// `valgrind --tool=callgrind`, whose instruction count a message does not move with the machine's
// load, to compare two builds on a noisy machine (docs/measuring.md):
//   swift build -c release --product hl7-convert
//   cp .build/release/hl7-convert /tmp/hc && strip -g /tmp/hc     (valgrind cannot read Swift's DWARF)
//   valgrind --tool=callgrind --callgrind-out-file=/dev/null /tmp/hc 100     (and again with 400)
// The difference of the two `Collected` counts divided by 300: the first messages also fill the
// definitions' and maps' lazy caches, so a run with 0 messages does not take out all the set-up.
// The benchmark goes round its sample again and again, so after the first round the converter's cache
// of what values make (`V2ExtraCache`) holds all of it: (400 messages 3 rounds − 2 rounds) / 400
// counts that steady state.
import BenchmarkCorpus
import FHIR
import HL7v2
import Mapping

let count = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 500 : 500
let rounds = CommandLine.arguments.count > 2 ? Int(CommandLine.arguments[2]) ?? 1 : 1
let messages = CorpusFiles.read("hl7-mixed.txt").split(separator: UInt8(ascii: "\n")).map(Array.init)
let definitions = try FHIRDefinitions.r4()
let converter = V2Converter(maps: try V2Maps.shipped(), definitions: definitions)
let parsed = messages.prefix(count).compactMap { try? HL7Message(parsing: $0) }
var valid = 0
for _ in 0..<rounds {
    for message in parsed where try converter.convert(message).outcome.isValid { valid += 1 }
}
print("converted \(parsed.count) messages \(rounds) times, \(valid) valid")
