import Foundation
import Mapping

/// The reconciliation report as files: JSON for machines, Markdown and HTML (with an SVG chart of
/// every type's records) for people, each ending with a sign-off block for the data steward.
public struct ReportDocuments: Sendable {
    public var report: ReconciliationReport
    public var verdict: Verdict
    /// What was compared, for the heading: sources and target as given (credentials left out).
    public var sources: [String]
    public var target: String
    public var generated: Date

    public init(report: ReconciliationReport, verdict: Verdict, sources: [String], target: String, generated: Date) {
        self.report = report
        self.verdict = verdict
        self.sources = sources
        self.target = target
        self.generated = generated
    }

    /// The JSON document: the report, the verdict and what was compared.
    public func json() throws -> Data {
        struct Document: Encodable {
            var generated: String
            var sources: [String]
            var target: String
            var verdict: Verdict
            var report: ReconciliationReport
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(
            Document(
                generated: Self.timestamp(generated), sources: sources, target: target, verdict: verdict,
                report: report))
    }

    static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        return formatter.string(from: date)
    }

    static let chartMarker = "<!-- figure: records per type -->"

    public func markdown() -> String {
        var lines = ["# Reconciliation report", ""]
        lines.append("Generated \(Self.timestamp(generated)) with mapping spec `\(report.spec)`.")
        lines.append("Sources: \(sources.map { "`\($0)`" }.joined(separator: ", ")); target: `\(target)`.")
        lines.append("")
        lines.append("## Verdict: \(verdict.level.rawValue.uppercased())")
        lines.append("")
        if verdict.findings.isEmpty {
            lines.append("Every measure is within its thresholds.")
        } else {
            lines += [
                "| Measure | Subject | Value | Warn above | Escalate above | Level |", "|---|---|---|---|---|---|",
            ]
            for finding in verdict.findings {
                lines.append(
                    "| \(finding.measure) | \(Self.cell(finding.subject)) | \(Self.number(finding.value)) | "
                        + "\(Self.number(finding.warn)) | \(Self.number(finding.escalate)) | \(finding.level.rawValue) |"
                )
            }
        }
        lines += ["", "## Records per resource type", "", Self.chartMarker, ""]
        lines += [
            "| Type | Legacy | Target | Matched | Altered | Missing | Extra |", "|---|---|---|---|---|---|---|",
        ]
        for row in report.types {
            lines.append(
                "| \(row.type) | \(row.legacy) | \(row.target) | \(row.matched) | \(row.altered) | \(row.missing) | \(row.extra) |"
            )
        }
        lines += [
            "", "## Source rows", "",
            "Every row read is loaded, dead-lettered, filtered by a named rule, or listed as unaccounted.", "",
        ]
        lines += [
            "| Table | Read | Loaded | Dead-lettered | Filtered | Unaccounted | Adds up |",
            "|---|---|---|---|---|---|---|",
        ]
        for table in report.tables {
            let filtered = table.filtered.sorted { $0.key < $1.key }.map { "\($0.value) (\(Self.cell($0.key)))" }
            lines.append(
                "| \(table.table) | \(table.read) | \(table.loaded) | \(table.deadLettered) | "
                    + "\(filtered.isEmpty ? "0" : filtered.joined(separator: "; ")) | \(table.unaccounted) | "
                    + "\(table.addsUp ? "yes" : "NO") |")
        }
        if !report.unaccounted.isEmpty {
            lines += ["", "### Unaccounted rows", "", "| Row | Why |", "|---|---|"]
            for row in report.unaccounted.prefix(Self.rowsShown) {
                lines.append("| \(Self.cell(row.locator)) | \(Self.cell(row.reason)) |")
            }
            lines += Self.more(report.unaccounted.count)
        }
        lines += ["", "## Differing records", ""]
        if report.differences.isEmpty {
            lines.append(
                "None: every record the legacy side makes is in the target with the same content, and nothing else is.")
        } else {
            lines += ["| Record | Kind | Legacy row | What differs |", "|---|---|---|---|"]
            for difference in report.differences.prefix(Self.rowsShown) {
                lines.append(
                    "| \(difference.type)/\(difference.id) | \(difference.kind.rawValue) | "
                        + "\(Self.cell(difference.locator ?? "(none)")) | "
                        + "\(Self.cell(difference.changedElements.joined(separator: ", "))) |")
            }
            lines += Self.more(report.differences.count)
            let fields = report.differences.filter { !$0.fields.isEmpty }.prefix(Self.rowsShown)
            if !fields.isEmpty {
                lines += ["", "### High-risk attributes, side by side", ""]
                lines += ["| Record | Attribute | Legacy column | Legacy (mapped) | Target |", "|---|---|---|---|---|"]
                for difference in fields {
                    for field in difference.fields {
                        let source = field.source.sorted { $0.key < $1.key }.map { "\($0.key) = \($0.value)" }
                        lines.append(
                            "| \(difference.type)/\(difference.id) | \(field.element) | "
                                + "\(Self.cell(source.joined(separator: "; "))) | "
                                + "\(Self.cell(field.legacy.joined(separator: ", "))) | "
                                + "\(Self.cell(field.target.joined(separator: ", "))) |")
                    }
                }
            }
        }
        if let duplicates = report.duplicates {
            lines += [
                "", "## Duplicate and merged patients", "",
                "\(duplicates.patients) patients, \(duplicates.candidates) pairs compared: certain \(duplicates.certain), "
                    + "probable \(duplicates.probable), possible \(duplicates.possible); \(duplicates.resolved) already "
                    + "linked (merged), \(duplicates.unresolved) probable or certain not yet. Nothing was merged: certain "
                    + "pairs are proposed for a merge, the others for review; every decision with its weights is in "
                    + "duplicates.csv.",
            ]
            let open = duplicates.pairs.filter { !$0.resolved }
            if !open.isEmpty {
                lines += ["", "| Pair | Grade | Probability | Rule | Agreement |", "|---|---|---|---|---|"]
                for pair in open.prefix(500) {
                    let agreeing = pair.levels.filter { $0.value != "different" && $0.value != "missing" }.keys.sorted()
                    lines.append(
                        "| \(pair.first) ~ \(pair.second) | \(pair.grade.rawValue) | \(String(format: "%.4f", pair.probability)) | "
                            + "\(pair.rule ?? "") | \(agreeing.joined(separator: ", ")) |")
                }
                if open.count > 500 { lines += ["", "(first 500 of \(open.count); all in duplicates.csv)"] }
            }
        }
        if let review = report.review {
            lines += [
                "", "## Clinical review sample", "",
                "\(review.items.count) records drawn (seed \(review.seed)) for reading side by side in review.html; "
                    + "sign-off columns in review.csv.", "", "| Stratum | Records | Drawn |", "|---|---|---|",
            ]
            for stratum in review.strata {
                lines.append("| \(Self.cell(stratum.name)) | \(stratum.population) | \(stratum.sampled) |")
            }
        }
        if let drift = report.drift {
            lines += ["", "## Drift since the snapshot of \(drift.snapshot)", ""]
            lines += [
                "| Type | Then | Now | Unchanged | Changed | Deleted since | Created since |",
                "|---|---|---|---|---|---|---|",
            ]
            for row in drift.types {
                lines.append(
                    "| \(row.type) | \(row.legacy) | \(row.target) | \(row.matched) | \(row.altered) | \(row.missing) | \(row.extra) |"
                )
            }
            if !drift.differences.isEmpty {
                lines += ["", "| Record | Change |", "|---|---|"]
                let names: [RecordDifference.Kind: String] = [
                    .altered: "changed", .missing: "deleted", .extra: "created",
                ]
                for difference in drift.differences.prefix(1000) {
                    lines.append("| \(difference.type)/\(difference.id) | \(names[difference.kind]!) |")
                }
                if drift.differences.count > 1000 {
                    lines += ["", "(first 1,000 of \(drift.differences.count); all in the JSON report)"]
                }
            }
        }
        if !report.unmappedCodes.isEmpty {
            lines += ["", "## Codes without a mapping", "", "| Map and code | Rows |", "|---|---|"]
            for (code, count) in report.unmappedCodes.sorted(by: { $0.key < $1.key }) {
                lines.append("| \(Self.cell(code)) | \(count) |")
            }
        }
        lines += [
            "", "## Cost", "",
            "Range summaries computed by the target: \(report.cost.summaries); id-and-hash rows read: "
                + "\(report.cost.hashesRead). Projection \(Self.seconds(report.cost.projectionSeconds)), comparison "
                + "\(Self.seconds(report.cost.comparisonSeconds)), details \(Self.seconds(report.cost.detailSeconds)).",
        ]
        lines += [
            "", "## Sign-off", "",
            "| Data steward | Decision (accept / accept with actions / reject) | Date | Signature |",
            "|---|---|---|---|", "|   |   |   |   |", "",
        ]
        return lines.joined(separator: "\n")
    }

    public func html() -> String {
        HTMLPage.render(
            markdown: markdown(), title: "Reconciliation report", figures: [Self.chartMarker: chart()])
    }

    /// One horizontal bar per type: matched in green, altered, missing and extra stacked after it.
    func chart() -> String {
        let rows = report.types
        let width = 640.0
        let label = 170.0
        let height = 22.0
        let largest = Double(max(1, rows.map { max($0.legacy, $0.target) + $0.extra }.max() ?? 1))
        var parts: [String] = []
        let colors: [(String, String)] = [
            ("matched", "#3c8d5a"), ("altered", "#d89b1d"), ("missing", "#c0392b"), ("extra", "#6c5ce7"),
        ]
        for (index, row) in rows.enumerated() {
            let y = Double(index) * height + 24
            parts.append(
                "<text x=\"\(label - 6)\" y=\"\(y + 15)\" text-anchor=\"end\" font-size=\"12\">"
                    + "\(HTMLPage.escape(row.type))</text>")
            var x = label
            for (name, color) in colors {
                let value = Double(
                    name == "matched"
                        ? row.matched : name == "altered" ? row.altered : name == "missing" ? row.missing : row.extra)
                guard value > 0 else { continue }
                let length = max(1.5, value / largest * (width - label - 60))
                parts.append(
                    "<rect x=\"\(Self.number(x))\" y=\"\(y + 4)\" width=\"\(Self.number(length))\" height=\"14\" "
                        + "fill=\"\(color)\"><title>\(name): \(Int(value))</title></rect>")
                x += length
            }
            let differing = row.altered + row.missing + row.extra
            parts.append(
                "<text x=\"\(Self.number(x + 4))\" y=\"\(y + 15)\" font-size=\"11\">\(row.matched)"
                    + "\(differing > 0 ? " + \(differing) differing" : "")</text>")
        }
        var legend = ""
        for (offset, (name, color)) in colors.enumerated() {
            let x = label + Double(offset) * 90
            legend +=
                "<rect x=\"\(Self.number(x))\" y=\"4\" width=\"10\" height=\"10\" fill=\"\(color)\"/>"
                + "<text x=\"\(Self.number(x + 14))\" y=\"13\" font-size=\"11\">\(name)</text>"
        }
        let total = Double(rows.count) * height + 32
        return "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(total))\" "
            + "role=\"img\" aria-label=\"Records per resource type\">\(legend)\(parts.joined())</svg>"
    }

    /// Every duplicate pair with its grade, weight, rule, whether it is resolved, and each field's level.
    public func duplicatesCSV() -> String {
        guard let duplicates = report.duplicates else { return "" }
        let fields = PatientDuplicates.fields.map(\.column)
        var lines = [
            (["first", "second", "grade", "probability", "match_weight", "rule", "resolved", "action"]
                + fields.flatMap { ["\($0)_level", "\($0)_weight"] }).joined(separator: ",")
        ]
        for pair in duplicates.pairs {
            let action = pair.resolved ? "none (linked)" : pair.grade == .certain ? "propose merge" : "review"
            let cells =
                [
                    pair.first, pair.second, pair.grade.rawValue, String(format: "%.6f", pair.probability),
                    String(format: "%.3f", pair.weight), pair.rule ?? "", pair.resolved ? "yes" : "no", action,
                ] + fields.flatMap { [pair.levels[$0] ?? "", String(format: "%.3f", pair.weights[$0] ?? 0)] }
            lines.append(cells.map { CSVWriter.field($0) }.joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The most rows a table of the Markdown and HTML reports shows; the JSON report has them all.
    static let rowsShown = 10_000

    static func more(_ count: Int) -> [String] {
        count > rowsShown ? ["", "(the first \(rowsShown) of \(count); all of them are in reconciliation.json)"] : []
    }

    static func cell(_ text: String) -> String {
        text.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ")
    }

    static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(format: "%.4g", value)
    }

    static func seconds(_ value: Double) -> String { String(format: "%.2f s", value) }
}
