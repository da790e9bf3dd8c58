import Foundation

extension MappingSpec.ValueSource {
    /// `lname`, `"Patient/{pid}"`, `= final`, `facilities.timezone by facility_id`.
    public var summary: String {
        switch self {
        case .column(let name): name
        case .template(let template): "\"\(template.text)\""
        case .constant(let value): "= \(value)"
        case .lookup(let name, let key, let column): "\(name).\(column) by \(key)"
        case .reference(let mapping, let key): "reference to \(mapping) \(key.text)"
        }
    }

    /// The columns of the row this source reads.
    public var columns: [String] {
        switch self {
        case .column(let name): [name]
        case .template(let template): template.columns
        case .constant: []
        case .lookup(_, let key, _): [key]
        case .reference(_, let key): key.columns
        }
    }
}

extension Template {
    /// The template as written.
    public var text: String {
        parts.map { part in
            switch part {
            case .literal(let text): text
            case .column(let name): "{\(name)}"
            }
        }.joined()
    }
}

extension MappingSpec.Transform {
    public var summary: String {
        switch self {
        case .temporal(let formats): "local time (\(formats.joined(separator: " | "))) to UTC, zone kept"
        case .valueMap(let name): "value map \(name)"
        case .concept(let map, let display):
            "ConceptMap \(map)" + (display.map { ", display \($0.summary)" } ?? "") + ", original coding kept"
        case .humanName: "split into a HumanName"
        case .address: "split into an Address"
        case .quantity(let unit): "Quantity" + (unit.map { " with unit \($0.summary), UCUM where known" } ?? "")
        case .upper: "upper case"
        case .digits: "digits only"
        case .base64: "base64 of the text"
        }
    }
}

extension MappingSpec.Condition {
    public var summary: String {
        switch self {
        case .oneOf(let column, let values):
            values.count == 1 ? "\(column) = \(values[0])" : "\(column) in (\(values.joined(separator: ", ")))"
        case .present(let column): "\(column) has a value"
        case .not(let inner): "not (\(inner.summary))"
        case .all(let items): items.map(\.summary).joined(separator: " and ")
        case .any(let items): items.map(\.summary).joined(separator: " or ")
        }
    }

    /// The columns the condition reads.
    public var columns: [String] {
        switch self {
        case .oneOf(let column, _), .present(let column): [column]
        case .not(let inner): inner.columns
        case .all(let items), .any(let items): items.flatMap(\.columns)
        }
    }
}

extension MappingSpec.ElementRule {
    /// The columns this element reads (its source, its condition, a concept's display, a unit).
    public var columns: [String] {
        var result = value.source.columns + (value.condition?.columns ?? [])
        switch value.transform {
        case .concept(_, let display?)?: result += display.columns
        case .quantity(let unit?)?: result += unit.columns
        default: break
        }
        return result
    }
}

/// The mapping spec document auditors ask for: per table, legacy field → FHIR element → transform,
/// with the spec's version, change log, filters, value maps and ConceptMaps.
public enum SpecDocument {
    public static func markdown(_ spec: MappingSpec) -> String {
        var lines = [
            "# Mapping specification: \(spec.name) \(spec.version)", "",
            "Legacy system `\(spec.system)`; local times without a zone are read in \(spec.zone.identifier) unless a mapping says otherwise.",
            "",
            "## Change log", "", "| version | date | author | approver | summary |", "|---|---|---|---|---|",
        ]
        lines += spec.changelog.map {
            "| \($0.version) | \($0.date) | \(cell($0.author)) | \(cell($0.approver)) | \(cell($0.summary)) |"
        }
        if !spec.filters.isEmpty {
            lines += ["", "## Rows left out on purpose", "", "| table | rule | when |", "|---|---|---|"]
            for table in spec.filters.keys.sorted() {
                lines += spec.filters[table]!.map { "| \(table) | \(cell($0.name)) | \(cell($0.condition.summary)) |" }
            }
        }
        for mapping in spec.mappings {
            lines += [
                "", "## \(mapping.name): `\(mapping.table)` → \(mapping.resource)", "",
                "Key `\(mapping.key.joined(separator: ", "))`; id from \(mapping.id.map { "`\($0.text)`" } ?? "the key") (deterministic, from system, table and key).",
            ]
            if let selection = mapping.selection {
                lines.append("Takes the rows where \(selection.condition.summary) (rule \"\(selection.name)\").")
            }
            for filter in mapping.filters {
                lines.append("Leaves out the rows where \(filter.condition.summary) (rule \"\(filter.name)\").")
            }
            lines += ["", "| legacy field | FHIR element | transform | when |", "|---|---|---|---|"]
            for element in mapping.elements {
                let transform = element.value.transform?.summary ?? ""
                let required = element.value.required ? " (required)" : ""
                lines.append(
                    "| \(cell(element.value.source.summary)) | `\(mapping.resource).\(element.path)`\(required) | \(cell(transform)) | \(cell(element.value.condition?.summary ?? "")) |"
                )
            }
        }
        if !spec.valueMaps.isEmpty {
            lines += ["", "## Value maps"]
            for name in spec.valueMaps.keys.sorted() {
                lines += ["", "### \(name)", "", "| legacy | FHIR |", "|---|---|"]
                let entries = spec.valueMaps[name]!.entries
                lines += entries.keys.sorted().map { "| \(cell($0)) | \(cell(entries[$0]!)) |" }
            }
        }
        if !spec.conceptMaps.isEmpty {
            lines += ["", "## ConceptMaps", "", "| name | local system | codes mapped |", "|---|---|---|"]
            lines += spec.conceptMaps.keys.sorted().map {
                "| \($0) | \(spec.conceptMaps[$0]!.sourceSystem) | \(spec.conceptMaps[$0]!.count) |"
            }
        }
        lines += [
            "",
            "Every resource made gets a Provenance naming the source row (system, table, key, SHA-256), this spec's name and version, and the time of the run.",
            "",
        ]
        return lines.joined(separator: "\n")
    }

    static func cell(_ text: String) -> String { text.replacingOccurrences(of: "|", with: "\\|") }

    /// The same document as a standalone HTML page.
    public static func html(_ spec: MappingSpec) -> String {
        HTMLPage.render(markdown: markdown(spec), title: "Mapping specification \(spec.name) \(spec.version)")
    }
}

/// Turns the simple Markdown Ferry writes (headings, paragraphs, pipe tables) into a plain HTML page.
public enum HTMLPage {
    public static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    static func inline(_ text: String) -> String {
        var result = ""
        var code = false
        for piece in escape(text).split(separator: "`", omittingEmptySubsequences: false) {
            result += code ? "<code>\(piece)</code>" : String(piece)
            code.toggle()
        }
        return result
    }

    /// `figures`: raw HTML (an SVG chart) put where a line of the Markdown is exactly its key (an HTML
    /// comment such as `<!-- figure: counts -->`, which Markdown viewers do not show).
    public static func render(markdown: String, title: String, figures: [String: String] = [:]) -> String {
        var body: [String] = []
        var inTable = false
        for line in markdown.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if let figure = figures[line] {
                body.append(figure)
                continue
            }
            if line.hasPrefix("|") {
                let cells = line.dropFirst().dropLast().replacingOccurrences(of: "\\|", with: "\u{1}")
                    .split(separator: "|", omittingEmptySubsequences: false)
                    .map { $0.replacingOccurrences(of: "\u{1}", with: "|").trimmingCharacters(in: .whitespaces) }
                if cells.allSatisfy({ $0.allSatisfy { $0 == "-" } }) { continue }
                if !inTable {
                    body.append("<table><tr>" + cells.map { "<th>\(inline($0))</th>" }.joined() + "</tr>")
                    inTable = true
                } else {
                    body.append("<tr>" + cells.map { "<td>\(inline($0))</td>" }.joined() + "</tr>")
                }
                continue
            }
            if inTable {
                body.append("</table>")
                inTable = false
            }
            if line.hasPrefix("### ") {
                body.append("<h3>\(inline(String(line.dropFirst(4))))</h3>")
            } else if line.hasPrefix("## ") {
                body.append("<h2>\(inline(String(line.dropFirst(3))))</h2>")
            } else if line.hasPrefix("# ") {
                body.append("<h1>\(inline(String(line.dropFirst(2))))</h1>")
            } else if line.hasPrefix("- ") {
                body.append("<li>\(inline(String(line.dropFirst(2))))</li>")
            } else if !line.isEmpty {
                body.append("<p>\(inline(line))</p>")
            }
        }
        if inTable { body.append("</table>") }
        return """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>\(escape(title))</title>
            <style>body{font-family:system-ui,sans-serif;margin:2em;max-width:80em;color:#1b1f23}
            table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccd;padding:.3em .6em;text-align:left;vertical-align:top}
            th{background:#eef}code{background:#f4f4f8;padding:0 .2em}</style></head>
            <body>
            \(body.joined(separator: "\n"))
            </body></html>

            """
    }
}
