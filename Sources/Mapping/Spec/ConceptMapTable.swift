import FHIR
import Foundation

/// Local codes to standard ones (LOINC, SNOMED CT, RxNorm, ICD-10-CM, CVX), read from a FHIR
/// ConceptMap (JSON) or a CSV file with the columns `source_system, source_code, source_display,
/// target_system, target_code, target_display`.
public struct ConceptMapTable: Sendable {
    /// One side of a mapping: a code in its system, with its display.
    public struct Concept: Sendable, Hashable {
        public var system: String
        public var code: String
        public var display: String?
    }

    public var name: String
    /// The system of the local codes (the first source system the map names).
    public var sourceSystem: String
    var targets: [String: Concept]
    var displays: [String: String]

    /// The standard concept for a local code, if the map has one.
    public func target(of code: String) -> Concept? { targets[code] }

    /// The local code as a concept of the source system.
    public func source(_ code: String, display: String?) -> Concept {
        Concept(system: sourceSystem, code: code, display: display ?? displays[code])
    }

    public var count: Int { targets.count }

    /// Reads a ConceptMap file; `.json` as FHIR ConceptMap, anything else as CSV.
    public static func load(path: String, name: String) throws -> ConceptMapTable {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw MappingSpecError(file: path, line: nil, column: nil, message: "the ConceptMap file cannot be read")
        }
        return path.hasSuffix(".json")
            ? try fromFHIR(Array(data), file: path, name: name) : try fromCSV(Array(data), file: path, name: name)
    }

    static func fromCSV(_ bytes: [UInt8], file: String, name: String) throws -> ConceptMapTable {
        var reader = CSVReader(bytes: bytes, file: file)
        let expected = [
            "source_system", "source_code", "source_display", "target_system", "target_code", "target_display",
        ]
        guard let header = try reader.next(), header.fields.map({ $0.lowercased() }) == expected else {
            throw MappingSpecError(
                file: file, line: 1, column: 1, message: "the header must be \(expected.joined(separator: ","))")
        }
        var table = ConceptMapTable(name: name, sourceSystem: "", targets: [:], displays: [:])
        while let record = try reader.next() {
            guard record.fields.count == expected.count else {
                throw MappingSpecError(
                    file: file, line: record.line, column: 1,
                    message: "\(record.fields.count) fields where the header has \(expected.count)")
            }
            let f = record.fields
            guard !f[1].isEmpty, !f[3].isEmpty, !f[4].isEmpty else {
                throw MappingSpecError(
                    file: file, line: record.line, column: 1,
                    message: "source_code, target_system and target_code must have values")
            }
            try table.add(
                source: f[1], display: f[2].isEmpty ? nil : f[2], sourceSystem: f[0],
                target: Concept(system: f[3], code: f[4], display: f[5].isEmpty ? nil : f[5]), file: file,
                line: record.line)
        }
        return table
    }

    static func fromFHIR(_ bytes: [UInt8], file: String, name: String) throws -> ConceptMapTable {
        let json = try JSON(parsing: bytes)
        guard json["resourceType"]?.stringValue == "ConceptMap" else {
            throw MappingSpecError(file: file, line: nil, column: nil, message: "not a ConceptMap resource")
        }
        var table = ConceptMapTable(name: name, sourceSystem: "", targets: [:], displays: [:])
        for (g, group) in (json["group"]?.arrayValue ?? []).enumerated() {
            let sourceSystem = group["source"]?.stringValue ?? ""
            guard let targetSystem = group["target"]?.stringValue else {
                throw MappingSpecError(
                    file: file, line: nil, column: nil, message: "ConceptMap.group[\(g)].target is missing")
            }
            for element in group["element"]?.arrayValue ?? [] {
                guard let code = element["code"]?.stringValue else { continue }
                // Only equivalent and wider/narrower targets stand in for the code; `unmatched` and
                // `disjoint` say there is none.
                let usable = (element["target"]?.arrayValue ?? []).first { target in
                    let equivalence = target["equivalence"]?.stringValue ?? "equivalent"
                    return target["code"]?.stringValue != nil && !["unmatched", "disjoint"].contains(equivalence)
                }
                guard let target = usable, let targetCode = target["code"]?.stringValue else { continue }
                try table.add(
                    source: code, display: element["display"]?.stringValue, sourceSystem: sourceSystem,
                    target: Concept(system: targetSystem, code: targetCode, display: target["display"]?.stringValue),
                    file: file, line: nil)
            }
        }
        return table
    }

    private mutating func add(
        source code: String, display: String?, sourceSystem: String, target: Concept, file: String, line: Int?
    ) throws {
        if self.sourceSystem.isEmpty { self.sourceSystem = sourceSystem }
        if let existing = targets[code], existing != target {
            throw MappingSpecError(
                file: file, line: line, column: nil,
                message:
                    "code \(code) maps to both \(existing.system)|\(existing.code) and \(target.system)|\(target.code)")
        }
        targets[code] = target
        if let display { displays[code] = display }
    }
}
