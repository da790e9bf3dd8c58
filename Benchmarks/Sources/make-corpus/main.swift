// Writes the benchmark corpus (deterministic) to .build-bench/corpus, and checks every resource is valid.
//   swift run -c release make-corpus
import BenchmarkCorpus
import FHIR
import Foundation
import HL7v2

var corpus = Corpus(seed: 20_261_124)
let folder = CorpusFiles.folder
try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
let patients = (0..<5_000).map { corpus.patient($0) }
let observations = (0..<5_000).map { corpus.observation($0, patient: "Patient/pat-\($0 / 5)") }
let bundles = (0..<100).map { corpus.bundle($0) }

let validator = try Validator()
for resource in patients + observations + bundles {
    let outcome = validator.validate(resource)
    guard outcome.isValid else {
        print("generated an invalid resource: \(outcome.errors)")
        exit(1)
    }
}

func write(_ name: String, _ bytes: [UInt8]) throws {
    try Data(bytes).write(to: folder.appendingPathComponent(name))
    print("\(name): \(bytes.count) bytes")
}
try write("patients.ndjson", Corpus.ndjson(patients))
try write("observations.ndjson", Corpus.ndjson(observations))
try write("bundles.ndjson", Corpus.ndjson(bundles))
try write(
    "fhirpath-workload.json",
    JSONWriter(layout: .pretty).bytes(FHIRPathWorkload.document(definitions: validator.definitions)))
// About 50 MB of mixed resources for the parse benchmark.
var mixed: [UInt8] = []
var round = 0
while mixed.count < 50_000_000 {
    var more = Corpus(seed: UInt64(round))
    mixed += Corpus.ndjson(
        (0..<1_000).flatMap { [more.patient($0), more.observation($0, patient: "Patient/pat-\($0)")] })
    round += 1
}
try write("mixed-50mb.ndjson", mixed)

// A mixed HL7 v2 feed, one message per line; every message must parse and follow its structure.
var hl7 = HL7Corpus(seed: 20_261_125)
let feed = hl7.feed(5_000)
// Split as bytes: "\r\n" is one Character in Swift, so a String split at "\n" would not split here.
for line in Array(feed.utf8).split(separator: UInt8(ascii: "\n")) {
    do {
        let message = try HL7Message(parsing: line)
        guard let grouped = HL7GroupedMessage(message), grouped.issues.isEmpty else {
            print(
                "generated a message that does not follow its structure: \(String(decoding: line.prefix(60), as: UTF8.self)) … \(HL7GroupedMessage(message)?.issues.prefix(5) ?? [])"
            )
            exit(1)
        }
    } catch {
        print("generated an HL7 message that does not parse: \(error)")
        exit(1)
    }
}
try write("hl7-mixed.txt", Array(feed.utf8))
