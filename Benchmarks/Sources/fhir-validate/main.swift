// FHIR parse + validate, the work alone: parses and validates the first N lines of one corpus file
// (patients.ndjson, observations.ndjson or bundles.ndjson) once each, as `FHIRBenchmarks`' "Parse +
// validate" does, and prints how many were valid. Made to run under `valgrind --tool=callgrind`,
// whose instruction count does not move with the machine's load (docs/measuring.md):
//   swift build -c release --product fhir-validate
//   cp .build/release/fhir-validate /tmp/fv && strip -g /tmp/fv
//   valgrind --tool=callgrind --callgrind-out-file=/dev/null /tmp/fv observations.ndjson 200  (and 800)
// The difference of the two `Collected` counts divided by 600 is the cost of one resource.
import BenchmarkCorpus
import FHIR

let arguments = CommandLine.arguments
let file = arguments.count > 1 ? arguments[1] : "observations.ndjson"
let count = arguments.count > 2 ? Int(arguments[2]) ?? 500 : 500
let lines = Corpus.lines(of: CorpusFiles.read(file))
let validator = try Validator()
var valid = 0
for index in 0..<count where validator.validate(jsonBytes: lines[index % lines.count]).isValid { valid += 1 }
print("validated \(count) resources of \(file), \(valid) valid")
