import Foundation
import Mapping

/// The assessment report of a discovery: per table its size, keys and columns with types, null
/// rates, distinct counts, date ranges and PHI classes with their evidence; the HL7 v2 feed's
/// messages, segments, senders and volumes.
public enum DiscoveryReport {
    public static func markdown(_ discovery: Discovery) -> String {
        var lines = ["# Legacy assessment: \(discovery.source)", ""]
        let phi = discovery.tables.flatMap { table in
            table.columns.filter(\.phi.isPHI).map { "\(table.name).\($0.name)" }
        }
        lines.append(
            "\(discovery.tables.count) tables, \(discovery.tables.reduce(0) { $0 + $1.rows }) rows, \(phi.count) columns holding PHI."
        )
        lines += ["", "| table | rows | unreadable | primary key | foreign keys |", "|---|---|---|---|---|"]
        for table in discovery.tables {
            let keys = table.foreignKeys.map { "\($0.column) → \($0.table).\($0.referencedColumn)" }.joined(
                separator: "; ")
            lines.append(
                "| \(table.name) | \(table.rows) | \(table.unreadable) | \(table.primaryKey.joined(separator: ", ")) (\(table.primaryKeyOrigin)) | \(keys) |"
            )
        }
        for table in discovery.tables {
            lines += [
                "", "## \(table.name)", "",
                "| column | declared | inferred | null or blank | distinct | dates | PHI class | confidence | evidence |",
                "|---|---|---|---|---|---|---|---|---|",
            ]
            for column in table.columns {
                let dates =
                    column.earliest.map {
                        "\($0) … \(column.latest ?? "") (\(column.dateFormats.joined(separator: ", ")))"
                    } ?? ""
                let distinct = "\(column.distinctIsEstimate ? "≈" : "")\(column.distinct)"
                lines.append(
                    "| \(column.name) | \(column.declaredType) | \(column.inferredType) | \(String(format: "%.1f%%", column.nullRate * 100)) | \(distinct) | \(dates) | \(column.phi.rawValue) | \(String(format: "%.2f", column.confidence)) | \(column.evidence.joined(separator: "; ").replacingOccurrences(of: "|", with: "\\|")) |"
                )
            }
        }
        if let feed = discovery.feed { lines += feedLines(feed) }
        lines.append("")
        return lines.joined(separator: "\n")
    }

    static func feedLines(_ feed: FeedProfile) -> [String] {
        func table(_ title: String, _ counts: [String: Int]) -> [String] {
            ["", "### \(title)", "", "| value | messages |", "|---|---|"]
                + counts.sorted { ($1.value, $0.key) < ($0.value, $1.key) }.map { "| \($0.key) | \($0.value) |" }
        }
        var lines = [
            "", "## HL7 v2 feed", "",
            "\(feed.messages) messages in \(feed.files) files; \(feed.unreadable.count) unreadable"
                + (feed.unreadable.isEmpty ? "." : ": \(feed.unreadable.prefix(20).joined(separator: ", "))."),
        ]
        if let (hour, count) = feed.peakHour {
            lines.append("Busiest hour \(hour): \(count) messages; \(feed.perHour.count) hours with traffic.")
        }
        lines += table("Message types and trigger events", feed.events)
        lines += table("Versions", feed.versions)
        lines += table("Senders (MSH-3^MSH-4)", feed.senders)
        lines += table("Segments (messages carrying each)", feed.segments)
        lines += table("Z-segments", feed.zSegments)
        return lines
    }

    public static func html(_ discovery: Discovery) -> String {
        HTMLPage.render(markdown: markdown(discovery), title: "Legacy assessment \(discovery.source)")
    }

    public static func json(_ discovery: Discovery) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(discovery)
    }
}

/// A first mapping spec written from what discovery found: a resource type guessed from each
/// table's name, and element rules suggested from column names, PHI classes and date formats. It
/// is a draft: every guess is marked for review.
public enum DraftSpec {
    static let resources: [(String, String)] = [
        ("patient", "Patient"), ("encounter", "Encounter"), ("visit", "Encounter"), ("user", "Practitioner"),
        ("provider", "Practitioner"), ("facility", "Organization"), ("prescription", "MedicationRequest"),
        ("drug", "Medication"), ("result", "Observation"), ("report", "DiagnosticReport"), ("order", "ServiceRequest"),
        ("document", "DocumentReference"), ("note", "DocumentReference"), ("allerg", "AllergyIntolerance"),
        ("problem", "Condition"), ("diagnos", "Condition"), ("list", "Condition"), ("immuniz", "Immunization"),
    ]

    static let suggestions: [PHIClass: [String]] = [
        .mrn: ["identifier[0].value"], .ssn: ["identifier[1].value"], .birthDate: ["birthDate"],
        .email: ["telecom[2].value"],
    ]

    public static func yaml(_ discovery: Discovery, name: String) -> String {
        var lines = [
            "# Draft written by `ferry discover` from \(discovery.source). Review every rule before use.",
            "ferry-mapping: 1", "name: \(name)", "version: 0.1.0", "system: urn:ferry:\(name)", "zone: UTC",
            "changelog:",
            "  - version: 0.1.0", "    date: \(ISO8601DateFormatter().string(from: Date()).prefix(10))",
            "    author: ferry discover", "    approver: (to be approved)", "    summary: Draft from discovery.",
            "mappings:",
        ]
        for table in discovery.tables {
            let lower = table.name.lowercased()
            guard let resource = resources.first(where: { lower.contains($0.0) })?.1 else {
                lines.append("  # \(table.name): no resource type guessed from the name; map it or filter it.")
                continue
            }
            lines += [
                "  - name: \(table.name)", "    table: \(table.name)", "    resource: \(resource)  # review",
                "    key: \(table.primaryKey.first ?? table.columns.first?.name ?? "id")",
            ]
            var elements: [String] = []
            var phones = 0
            var given = 0
            for column in table.columns {
                var path: String?
                var value = column.name
                let words = PHIClassifier.words(column.name)
                switch column.phi {
                case .name where resource == "Patient" || resource == "Practitioner":
                    if words.contains(where: { ["lname", "lastname", "surname", "last", "family"].contains($0) }) {
                        path = "name[0].family"
                    } else {
                        path = "name[0].given[\(given)]"
                        given += 1
                    }
                case .phone where resource == "Patient":
                    path = "telecom[\(phones)].value"
                    phones += 1
                case .address where resource == "Patient":
                    if words.contains("city") {
                        path = "address[0].city"
                    } else if words.contains(where: { ["zip", "postal", "postcode"].contains($0) }) {
                        path = "address[0].postalCode"
                    } else {
                        path = "address[0].line[0]"
                    }
                case .birthDate where resource == "Patient":
                    path = "birthDate"
                    value = "{ column: \(column.name), date: [\(column.dateFormats.joined(separator: ", "))] }"
                default:
                    if resource == "Patient", let suggested = suggestions[column.phi]?.first { path = suggested }
                }
                if let path {
                    elements.append("      \(path): \(value)  # \(column.phi.rawValue), review")
                } else {
                    elements.append(
                        "      # \(column.name): \(column.inferredType), \(column.phi.rawValue) — map or leave out")
                }
            }
            // YAML needs a mapping under `elements`, even an empty one.
            lines.append(elements.contains { !$0.hasPrefix("      #") } ? "    elements:" : "    elements: {}")
            lines += elements
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
