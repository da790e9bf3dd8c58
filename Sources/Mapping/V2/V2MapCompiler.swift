import FHIR
import Foundation
import HL7v2

/// Turns the HL7 v2-to-FHIR IG's mapping tables (messages, segments, data types, vocabulary) into the
/// compact JSON file Ferry ships (`Resources/v2-to-fhir-maps.json`), one row a line so that a
/// regeneration diffs cleanly. Used by `generate-v2-maps` and by the test that keeps the committed
/// file equal to what the generator writes.
package enum V2MapCompiler {
    /// One IG table: which folder it came from, its file name and CSV text.
    package struct Table {
        package enum Kind: String, CaseIterable {
            case messages, segments, datatypes, codesystems
        }

        package var kind: Kind
        package var fileName: String
        package var csv: String

        package init(kind: Kind, fileName: String, csv: String) {
            self.kind = kind
            self.fileName = fileName
            self.csv = csv
        }
    }

    /// The JSON text of the maps.
    package static func compile(_ tables: [Table]) -> String {
        var sections: [Table.Kind: [(String, [[String?]])]] = [:]
        for table in tables.sorted(by: { $0.fileName < $1.fileName }) {
            guard let name = mapName(table) else { continue }
            let rows = CSVRows.parse(table.csv).dropFirst(2).compactMap { row(table.kind, $0) }
            guard !rows.isEmpty else { continue }
            sections[table.kind, default: []].append((name, rows))
        }
        let writer = JSONWriter()
        var text = "{\n\"source\": \"HL7 v2-to-FHIR IG mapping tables (../shared/v2-to-fhir/mappings)\""
        for kind in Table.Kind.allCases {
            text += ",\n\"\(kind.rawValue)\": {"
            for (index, (name, rows)) in (sections[kind] ?? []).enumerated() {
                text += (index == 0 ? "\n" : ",\n") + writer.string(.string(name)) + ": ["
                for (rowIndex, row) in rows.enumerated() {
                    let array = JSON.array(row.map { $0.map(JSON.string) ?? .null })
                    text += (rowIndex == 0 ? "\n" : ",\n") + writer.string(array)
                }
                text += "\n]"
            }
            text += "\n}"
        }
        return text + "\n}\n"
    }

    /// The map's name from the file name: `PID[Patient]`, `CX[Identifier]`, `AdministrativeSex`, `ADT_A01`.
    static func mapName(_ table: Table) -> String? {
        let name = table.fileName
        guard name.hasSuffix(".csv") else { return nil }
        let prefixes = [
            "HL7 Message - FHIR R4_ ", "HL7 Segment - FHIR R4_ ", "HL7 Data Type - FHIR R4_ ", "HL7 Concept Map_ ",
        ]
        guard let prefix = prefixes.first(where: { name.hasPrefix($0) }) else { return nil }
        let rest = name.dropFirst(prefix.count)
        guard let end = rest.range(of: " - ", options: .backwards) else { return nil }
        return String(rest[..<end.lowerBound]).trimmingCharacters(in: .whitespaces)
    }

    /// One row of a table, as the engine reads it; `nil` for rows that map nothing.
    static func row(_ kind: Table.Kind, _ cells: [String]) -> [String?]? {
        func cell(_ index: Int) -> String? {
            guard index < cells.count else { return nil }
            let text = cells[index].split(whereSeparator: \.isNewline).joined(separator: " ")
                .trimmingCharacters(in: .whitespaces)
            return text.isEmpty ? nil : text
        }
        switch kind {
        case .messages:
            // identifier, segment id (from the syntax), condition, target resource, segment map, references
            guard let identifier = cell(1), let map = cell(10), let syntax = cell(2) else { return nil }
            let segment = String(syntax.filter { $0.isLetter || $0.isNumber })
            guard segment.count == 3 else { return nil }
            return [identifier, segment, cell(6), cell(9), map, cell(11)]
        case .segments, .datatypes:
            // source, condition, target path, target type, data type map, vocabulary map, assignment
            guard let source = cell(1), let target = cell(9) else { return nil }
            let assignment = cell(16).map { literal in
                literal.hasPrefix("\"") && literal.hasSuffix("\"") && literal.count >= 2
                    ? String(literal.dropFirst().dropLast()) : literal
            }
            return [source, cell(6), target, cell(11), cell(14), cell(15), assignment]
        case .codesystems:
            // v2 code, v2 code system, condition, FHIR code, display, FHIR system
            guard let code = cell(0) else { return nil }
            guard cell(6) != nil || cell(9) != nil else { return nil }
            return [code, cell(2), cell(3), cell(6), cell(8), cell(9)]
        }
    }
}

extension V2MapCompiler {
    /// Reads every table of the IG's `mappings` folder (its `messages`, `segments`, `datatypes` and
    /// `codesystems` sub-folders).
    package static func readTables(folder: URL) throws -> [Table] {
        try Table.Kind.allCases.flatMap { kind in
            let sub = folder.appendingPathComponent(kind.rawValue)
            return try FileManager.default.contentsOfDirectory(atPath: sub.path).filter { $0.hasSuffix(".csv") }
                .sorted()
                .map {
                    Table(
                        kind: kind, fileName: $0,
                        csv: try String(contentsOf: sub.appendingPathComponent($0), encoding: .utf8))
                }
        }
    }
}
