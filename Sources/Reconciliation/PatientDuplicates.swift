import FHIR
import Foundation
import Store

/// Duplicate and merged patients in a store: every current Patient's demographics matched by the
/// `Matcher` (deterministic rules first: same MRN and birth date, same SSN; then Fellegi–Sunter).
/// A pair already joined by `Patient.link` counts as resolved (a merge the legacy system or a steward
/// made); the others wait for review. Nothing is merged here.
public struct PatientDuplicates: Sendable, Codable, Hashable {
    public var patients = 0
    public var candidates = 0
    public var certain = 0
    public var probable = 0
    public var possible = 0
    /// Pairs already joined by a `Patient.link`.
    public var resolved = 0
    public var pairs: [Pair] = []

    /// Pairs of grade probable or better that no link joins yet.
    public var unresolved: Int { pairs.filter { !$0.resolved && $0.grade >= .probable }.count }

    public struct Pair: Sendable, Codable, Hashable {
        public var first: String
        public var second: String
        public var grade: MatchGrade
        public var probability: Double
        public var weight: Double
        public var rule: String?
        public var resolved: Bool
        /// Each field's comparison level.
        public var levels: [String: String]
        /// Each field's share of the weight.
        public var weights: [String: Double]
    }

    public static let fields: [LinkField] = [
        LinkField(column: "family", kind: .name), LinkField(column: "given", kind: .name),
        LinkField(column: "birthDate", kind: .date), LinkField(column: "gender", kind: .exact),
        LinkField(column: "ssn", kind: .identifier), LinkField(column: "mrn", kind: .identifier),
        LinkField(column: "line", kind: .text), LinkField(column: "city", kind: .text),
        LinkField(column: "postalCode", kind: .exact), LinkField(column: "phone", kind: .phone),
    ]

    public static func matcher() -> Matcher {
        Matcher(
            fields: fields,
            blocking: [["family"], ["given", "birthDate"], ["birthDate", "postalCode"], ["phone"]].map {
                BlockingRule(columns: $0)
            },
            rules: [["mrn", "birthDate"], ["ssn"]].map { DeterministicRule(columns: $0) })
    }

    /// Reads every current Patient of `store` and matches them.
    public static func find(
        in store: any FHIRStore, matcher: Matcher = matcher()
    ) async throws -> (
        PatientDuplicates, Matcher.Outcome, LinkRecords
    ) {
        var records = LinkRecords(fields: matcher.fields)
        var links: Set<LinkEvaluation.Pair> = []
        var after: String?
        while true {
            let page = try await store.currentResources(type: "Patient", after: after, limit: 1000)
            for stored in page {
                guard let patient = stored.resource else { continue }
                records.append(id: stored.id, origin: "Patient/\(stored.id)", values: demographics(patient))
                for link in patient["link"]?.arrayValue ?? [] {
                    if let other = link["other"]?["reference"]?.stringValue, other.hasPrefix("Patient/") {
                        links.insert(LinkEvaluation.Pair(stored.id, String(other.dropFirst(8))))
                    }
                }
            }
            guard let last = page.last, page.count == 1000 else { break }
            after = last.id
        }
        let outcome = try matcher.run(records)
        var report = PatientDuplicates(patients: records.count, candidates: outcome.candidates)
        for pair in outcome.pairs {
            let first = records.ids[pair.left]
            let second = records.ids[pair.right]
            let resolved = links.contains(LinkEvaluation.Pair(first, second))
            switch pair.grade {
            case .certain: report.certain += 1
            case .probable: report.probable += 1
            case .possible: report.possible += 1
            }
            if resolved { report.resolved += 1 }
            var levels: [String: String] = [:]
            var weights: [String: Double] = [:]
            for (index, field) in matcher.fields.enumerated() {
                levels[field.column] = field.levels[Int(pair.levels[index])]
                weights[field.column] = pair.partials[index]
            }
            report.pairs.append(
                Pair(
                    first: "Patient/\(first)", second: "Patient/\(second)", grade: pair.grade,
                    probability: pair.probability, weight: pair.weight, rule: pair.rule, resolved: resolved,
                    levels: levels, weights: weights))
        }
        return (report, outcome, records)
    }

    /// The compared values of a Patient, in the order of `fields`.
    static func demographics(_ patient: JSON) -> [String] {
        let name = patient["name"]?[0]
        let address = patient["address"]?[0]
        var ssn = ""
        var mrn = ""
        for identifier in patient["identifier"]?.arrayValue ?? [] {
            let value = identifier["value"]?.stringValue ?? ""
            if identifier["system"]?.stringValue == "http://hl7.org/fhir/sid/us-ssn" {
                ssn = value
            } else if (identifier["type"]?["coding"]?.arrayValue ?? []).contains(where: {
                $0["code"]?.stringValue == "MR"
            }) {
                mrn = value
            }
        }
        let phone = (patient["telecom"]?.arrayValue ?? []).first { $0["system"]?.stringValue == "phone" }
        return [
            name?["family"]?.stringValue ?? "", name?["given"]?[0]?.stringValue ?? "",
            patient["birthDate"]?.stringValue ?? "", patient["gender"]?.stringValue ?? "", ssn, mrn,
            address?["line"]?[0]?.stringValue ?? "", address?["city"]?.stringValue ?? "",
            address?["postalCode"]?.stringValue ?? "", phone?["value"]?.stringValue ?? "",
        ]
    }
}
