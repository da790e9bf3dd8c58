import FHIR
import Foundation
import Legacy
import Mapping
import Store

/// A stratified random sample of clinical content for people to read: notes and problem-list
/// entries, drawn evenly from every stratum (site, resource type, date band), each shown as the
/// legacy row and the FHIR resource side by side with sign-off fields. Deterministic for a seed.
public struct ClinicalReview: Sendable, Codable, Hashable {
    /// The types sampled: notes and problem lists by default.
    public static let standardTypes: Set<String> = ["DocumentReference", "Condition"]

    /// A record that may be drawn, with its stratum.
    public struct Candidate: Sendable, Codable, Hashable {
        public var name: String
        public var site: String
        public var type: String
        public var band: String

        public var stratum: String { "\(site) · \(type) · \(band)" }
    }

    /// One stratum: how many records it holds and how many were drawn.
    public struct Stratum: Sendable, Codable, Hashable {
        public var name: String
        public var population: Int
        public var sampled: Int
    }

    /// One record drawn, both sides (this content is PHI: it goes to the worksheet only).
    public struct Item: Sendable, Codable, Hashable {
        public var stratum: String
        public var name: String
        public var locator: String
        /// The legacy row's non-empty columns, in the table's order.
        public var legacy: [[String]]
        /// The resource as the target holds it, without `meta`, pretty-printed.
        public var fhir: String
    }

    public var seed: UInt64
    public var strata: [Stratum] = []
    public var items: [Item] = []

    /// The stratum of a resource made from `row`: the row's site column (`facility_id` unless said
    /// otherwise), the type, and a five-year band of the resource's clinical date.
    static func candidate(_ made: SpecMapper.Made, row: SourceRow, siteColumn: String) -> Candidate {
        let site = row[siteColumn]?.text.map { "site \($0)" } ?? "no site"
        let resource = made.resource
        let date =
            resource["date"]?.stringValue ?? resource["recordedDate"]?.stringValue
            ?? resource["onsetDateTime"]?.stringValue ?? resource["context"]?["period"]?["start"]?.stringValue
            ?? resource["content"]?[0]?["attachment"]?["creation"]?.stringValue
        var band = "no date"
        if let year = date.flatMap({ Int($0.prefix(4)) }) {
            let start = year - ((year % 5) + 5) % 5
            band = "\(start)–\(start + 4)"
        }
        return Candidate(name: "\(made.type)/\(made.id)", site: site, type: made.type, band: band)
    }

    /// Draws `perStratum` records from each stratum and fetches both sides of each.
    public static func draw(
        _ candidates: [Candidate], perStratum: Int, seed: UInt64, origins: [String: LegacyProjection.Origin],
        inputs: LegacyInputs, target: any FHIRStore
    ) async throws -> ClinicalReview {
        var review = ClinicalReview(seed: seed)
        var chosen: [(Candidate, String)] = []
        for (stratum, members) in Dictionary(grouping: candidates, by: \.stratum).sorted(by: { $0.key < $1.key }) {
            var generator = SynthRandom(seed: seed ^ FNV1a.hash(stratum.utf8))
            let drawn = members.sorted { $0.name < $1.name }.shuffled(using: &generator).prefix(perStratum)
            review.strata.append(Stratum(name: stratum, population: members.count, sampled: drawn.count))
            chosen += drawn.map { ($0, stratum) }
        }
        let remapped = try await LegacyProjection.resources(
            named: Set(chosen.map(\.0.name)), origins: origins, inputs: inputs)
        for (candidate, stratum) in chosen {
            let parts = candidate.name.split(separator: "/", maxSplits: 1).map(String.init)
            var fhir = "(not in the target)"
            if let stored = try? await target.read(type: parts[0], id: parts[1])?.resource,
                case .object(var object) = stored
            {
                object["meta"] = nil
                fhir = JSONWriter(layout: .pretty).string(.object(object))
            }
            var legacy: [[String]] = []
            if let row = remapped[candidate.name]?.row {
                for (index, column) in row.columns.names.enumerated() {
                    if let text = row.values[index].text, !text.isEmpty { legacy.append([column, text]) }
                }
            }
            review.items.append(
                Item(
                    stratum: stratum, name: candidate.name, locator: origins[candidate.name]?.locator ?? "",
                    legacy: legacy, fhir: fhir))
        }
        return review
    }

    /// The worksheet as CSV: one line per record, the sign-off columns left blank to fill in.
    public func csv() -> String {
        var lines = ["stratum,record,legacy_row,legacy_columns,fhir,reviewer,equivalent (yes/no/unsure),comment,date"]
        for item in items {
            let columns = item.legacy.map { "\($0[0]): \($0[1])" }.joined(separator: "\n")
            lines.append(
                [item.stratum, item.name, item.locator, columns, item.fhir, "", "", "", ""].map { CSVWriter.field($0) }
                    .joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The worksheet as HTML: the strata, then each record's two sides and its sign-off fields.
    public func html(generated: Date) -> String {
        var body = [
            "<h1>Clinical review worksheet</h1>",
            "<p>Drawn \(ReportDocuments.timestamp(generated)) (seed \(seed)): up to "
                + "\(strata.map(\.sampled).max() ?? 0) records from each stratum. Read each legacy row beside the FHIR "
                + "resource made from it and record whether they say the same thing. This sheet holds PHI.</p>",
            "<table><tr><th>Stratum</th><th>Records</th><th>Drawn</th></tr>",
        ]
        for stratum in strata {
            body.append(
                "<tr><td>\(HTMLPage.escape(stratum.name))</td><td>\(stratum.population)</td><td>\(stratum.sampled)</td></tr>"
            )
        }
        body.append("</table>")
        for (number, item) in items.enumerated() {
            body.append(
                "<section><h2>\(number + 1). \(HTMLPage.escape(item.name))</h2><p>\(HTMLPage.escape(item.stratum)) · "
                    + "<code>\(HTMLPage.escape(item.locator))</code></p><table><tr><th>Legacy row</th><th>FHIR</th></tr>"
                    + "<tr><td><dl>")
            for pair in item.legacy {
                body.append("<dt>\(HTMLPage.escape(pair[0]))</dt><dd>\(HTMLPage.escape(pair[1]))</dd>")
            }
            body.append(
                "</dl></td><td><pre>\(HTMLPage.escape(item.fhir))</pre></td></tr></table>"
                    + "<p class=\"signoff\">Equivalent: ☐ yes ☐ no ☐ unsure &nbsp; Reviewer: ________________ "
                    + "&nbsp; Date: ____________<br>Comment: ______________________________________________</p></section>"
            )
        }
        return """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>Clinical review worksheet</title>
            <style>body{font-family:system-ui,sans-serif;margin:2em;max-width:90em}table{border-collapse:collapse;width:100%}
            td,th{border:1px solid #ccd;padding:.3em .6em;vertical-align:top;text-align:left}dt{font-weight:600}
            dd{margin:0 0 .4em 1em;white-space:pre-wrap}pre{white-space:pre-wrap;font-size:.85em}
            section{page-break-inside:avoid;margin:1.5em 0}.signoff{margin-top:.6em}</style></head>
            <body>
            \(body.joined(separator: "\n"))
            </body></html>

            """
    }
}
