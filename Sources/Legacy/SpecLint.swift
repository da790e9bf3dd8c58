import FHIR
import Mapping

/// Checks a mapping spec against its source and the FHIR definitions before anything runs:
/// tables and columns the source lacks, required elements no rule fills, PHI columns no rule
/// maps, and tables no mapping reads.
public enum SpecLint {
    public struct Finding: Sendable, Hashable, Codable, CustomStringConvertible {
        public enum Severity: String, Sendable, Codable { case error, warning }
        public var severity: Severity
        public var line: Int?
        public var message: String

        public var description: String { "\(line.map { "line \($0): " } ?? "")\(severity.rawValue): \(message)" }
    }

    public static func run(
        spec: MappingSpec, definitions: FHIRDefinitions, tables: [LegacyTable], discovery: Discovery?
    ) -> [Finding] {
        var findings: [Finding] = []
        let byName = Dictionary(tables.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        var used: [String: Set<String>] = [:]
        func check(_ columns: [String], in table: String, line: Int?, what: String) {
            guard let source = byName[table] else { return }
            let known = Set(source.columns.map { $0.name.lowercased() })
            for column in columns {
                used[table, default: []].insert(column.lowercased())
                if !known.contains(column.lowercased()) {
                    findings.append(
                        Finding(
                            severity: .error, line: line, message: "\(what): table \(table) has no column \(column)"))
                }
            }
        }
        for lookup in spec.lookups.values {
            if byName[lookup.table] == nil {
                findings.append(
                    Finding(
                        severity: .error, line: nil,
                        message: "lookup \(lookup.name): the source has no table \(lookup.table)"))
            }
            check([lookup.key], in: lookup.table, line: nil, what: "lookup \(lookup.name)")
        }
        for (table, rules) in spec.filters {
            for rule in rules { check(rule.condition.columns, in: table, line: nil, what: "filter \(rule.name)") }
        }
        for mapping in spec.mappings {
            guard byName[mapping.table] != nil else {
                findings.append(
                    Finding(
                        severity: .error, line: mapping.line,
                        message: "\(mapping.name): the source has no table \(mapping.table)"))
                continue
            }
            var columns = mapping.key + (mapping.id?.columns ?? []) + (mapping.partition.map { [$0] } ?? [])
            columns += mapping.selection?.condition.columns ?? []
            columns += mapping.filters.flatMap(\.condition.columns)
            if case .value(let source)? = mapping.zone { columns += source.columns }
            check(columns, in: mapping.table, line: mapping.line, what: mapping.name)
            for element in mapping.elements {
                check(element.columns, in: mapping.table, line: element.line, what: "\(mapping.name) \(element.path)")
                var lookups: [MappingSpec.ValueSource] = [element.value.source]
                if case .value(let source)? = mapping.zone { lookups.append(source) }
                for case .lookup(let name, _, let column) in lookups {
                    if let lookup = spec.lookups[name] {
                        check([column], in: lookup.table, line: element.line, what: "lookup \(name)")
                    }
                }
            }
            findings += unfilled(mapping, definitions: definitions)
        }
        for table in tables where !spec.mappings.contains(where: { $0.table == table.name }) {
            if spec.lookups.values.contains(where: { $0.table == table.name }) { continue }
            findings.append(
                Finding(
                    severity: .warning, line: nil,
                    message:
                        "table \(table.name) (\(table.rowCount) rows) is not mapped: none of its rows would migrate"))
        }
        if let discovery {
            for table in discovery.tables where spec.mappings.contains(where: { $0.table == table.name }) {
                for column in table.columns
                where column.phi.isPHI && !(used[table.name]?.contains(column.name.lowercased()) ?? false) {
                    findings.append(
                        Finding(
                            severity: .warning, line: nil,
                            message:
                                "\(table.name).\(column.name) holds \(column.phi.rawValue) (PHI) and no rule maps it: it would be left behind"
                        ))
                }
            }
        }
        return findings.sorted { ($0.line ?? 0, $0.message) < ($1.line ?? 0, $1.message) }
    }

    /// Elements of the resource with a minimum of one that no rule fills.
    static func unfilled(_ mapping: MappingSpec.TableMapping, definitions: FHIRDefinitions) -> [Finding] {
        guard let type = definitions.resourceType(named: mapping.resource) else { return [] }
        let firstSteps = Set(
            mapping.elements.map {
                $0.path.split(separator: ".").first.map { String($0.split(separator: "[").first ?? $0) } ?? ""
            })
        var findings: [Finding] = []
        for element in type.elements where element.min >= 1 {
            let parts = element.path.split(separator: ".")
            guard parts.count == 2 else { continue }
            let name = String(parts[1])
            let filled =
                name.hasSuffix("[x]")
                ? firstSteps.contains { $0.hasPrefix(name.dropLast(3)) } : firstSteps.contains(name)
            if !filled {
                findings.append(
                    Finding(
                        severity: .error, line: mapping.line,
                        message:
                            "\(mapping.name): \(element.path) is required (min \(element.min)) and no rule fills it"))
            }
        }
        return findings
    }
}
