import FHIR
import Foundation

/// Maps legacy rows to FHIR resources by a ``MappingSpec``: each row through every mapping of its
/// table, the resources validated, and a Provenance for the row naming the source (system, table,
/// key, SHA-256 of the row), the spec's name and version, and the time of the run.
///
/// A row ends one of three ways, and ``RowResult`` says which: mapped (its resources, all valid),
/// dead-lettered (the reason names the mapping, the column and the value, or the validator's
/// issues), or filtered by a named rule.
public final class SpecMapper: Sendable {
    public let spec: MappingSpec
    let definitions: FHIRDefinitions
    let validator: Validator
    let walker: TargetPathWalker
    let byTable: [String: [MappingSpec.TableMapping]]
    let byName: [String: MappingSpec.TableMapping]
    /// The data types a value can be written into as a whole, by their object type.
    let objectNames: [FHIRObjectType: String]
    /// When the run happened (Provenance.recorded): fixed per run, so a resumed run writes the same.
    let recorded: String
    /// The spec's date formats, compiled once: by the patterns of each `date:` transform.
    let temporalFormats: [[String]: [LocalTimeFormat]]
    /// What every Provenance of the run says alike, made once: its policy, activity and agent.
    let provenanceParts: (policy: JSON, activity: JSON, agent: JSON)

    /// The extension that keeps the IANA zone a local time was read in.
    public static let zoneExtensionURL = "http://hl7.org/fhir/StructureDefinition/tz-code"
    /// The extension that keeps a local time as the source wrote it.
    public static let originalTimeURL = "https://ferry.health/fhir/StructureDefinition/source-local-time"

    public init(spec: MappingSpec, definitions: FHIRDefinitions, recorded: Date) {
        self.spec = spec
        self.definitions = definitions
        validator = Validator(definitions: definitions)
        walker = TargetPathWalker(definitions: definitions)
        byTable = Dictionary(grouping: spec.mappings, by: \.table)
        byName = Dictionary(spec.mappings.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        var objectNames: [FHIRObjectType: String] = [:]
        for name in ["Reference", "CodeableConcept", "Coding", "HumanName", "Address", "Quantity"] {
            if let type = definitions.objectType(named: name) { objectNames[type] = name }
        }
        self.objectNames = objectNames
        var temporalFormats: [[String]: [LocalTimeFormat]] = [:]
        for mapping in spec.mappings {
            for element in mapping.elements {
                if case .temporal(let patterns)? = element.value.transform {
                    temporalFormats[patterns] = patterns.map(LocalTimeFormat.init)
                }
            }
        }
        self.temporalFormats = temporalFormats
        provenanceParts = (
            policy: .array([.string("urn:ferry:mapping:\(spec.name):\(spec.version)")]),
            activity: [
                "coding": .array([
                    ["system": "http://terminology.hl7.org/CodeSystem/v3-DataOperation", "code": "CREATE"]
                ])
            ],
            agent: .array([["who": ["display": .string("Ferry mapping \(spec.name) \(spec.version)")]]])
        )
        let seconds = Int(recorded.timeIntervalSince1970.rounded(.down))
        self.recorded = String(FHIRPathTemporal(utcMilliseconds: seconds * 1000, precision: .second).text)
    }

    func typeName(_ type: FHIRObjectType) -> String { objectNames[type] ?? "this element" }

    /// The tables the spec maps, in the order they first appear.
    public var tables: [String] {
        var seen = Set<String>()
        return spec.mappings.map(\.table).filter { seen.insert($0).inserted }
    }

    /// Rows of other tables, by lookup name and key value, for values the spec joins in.
    public typealias Lookups = [String: [String: SourceRow]]

    /// A resource made from a row.
    public struct Made: Sendable {
        public var type: String
        public var id: String
        public var resource: JSON

        public init(type: String, id: String, resource: JSON) {
            self.type = type
            self.id = id
            self.resource = resource
        }
    }

    /// How a row ended.
    public enum Outcome: Sendable {
        case mapped([Made])
        case deadLettered(reason: String)
        case filtered(rule: String)
    }

    public struct RowResult: Sendable {
        public var outcome: Outcome
        /// Codes that a value map or ConceptMap did not have: `map|code` → times.
        public var unmapped: [String: Int] = [:]

        public init(outcome: Outcome, unmapped: [String: Int] = [:]) {
            self.outcome = outcome
            self.unmapped = unmapped
        }
    }

    /// Maps one row through every mapping of its table.
    public func map(_ row: SourceRow, lookups: Lookups = [:]) -> RowResult {
        guard let mappings = byTable[row.table] else {
            return RowResult(outcome: .filtered(rule: "no mapping for table \(row.table)"))
        }
        if let filter = spec.filters[row.table]?.first(where: { holds($0.condition, row) }) {
            return RowResult(outcome: .filtered(rule: filter.name))
        }
        var made: [Made] = []
        var unmapped: [String: Int] = [:]
        var filteredBy: [String] = []
        for mapping in mappings {
            if let selection = mapping.selection, !holds(selection.condition, row) {
                filteredBy.append(selection.name)
                continue
            }
            if let filter = mapping.filters.first(where: { holds($0.condition, row) }) {
                filteredBy.append(filter.name)
                continue
            }
            var run = RowRun(mapper: self, mapping: mapping, row: row, lookups: lookups)
            do {
                made.append(try run.resource())
                for (key, count) in run.unmapped { unmapped[key, default: 0] += count }
            } catch {
                return RowResult(outcome: .deadLettered(reason: "\(mapping.name): \(error)"), unmapped: run.unmapped)
            }
        }
        guard !made.isEmpty else {
            let rule =
                filteredBy.count == 1
                ? filteredBy[0] : "\(row.table): not selected (\(filteredBy.joined(separator: ", ")))"
            return RowResult(outcome: .filtered(rule: rule), unmapped: unmapped)
        }
        for item in made {
            let outcome = validator.validate(item.resource)
            guard outcome.isValid else {
                let reason = JSONWriter(layout: .compact).string(outcome.resource)
                return RowResult(
                    outcome: .deadLettered(reason: "\(item.type)/\(item.id) is not valid: \(reason)"),
                    unmapped: unmapped)
            }
        }
        made.append(provenance(for: row, targets: made))
        return RowResult(outcome: .mapped(made), unmapped: unmapped)
    }

    /// The row's resources as a transaction Bundle of `PUT`s.
    public func bundle(_ made: [Made]) -> JSON {
        .object(
            JSONObject([
                ("resourceType", .string("Bundle")), ("type", .string("transaction")),
                ("entry", .array(made.map { ResourceID.putEntry($0.resource, type: $0.type, id: $0.id) })),
            ]))
    }

    func holds(_ condition: MappingSpec.Condition, _ row: SourceRow) -> Bool {
        switch condition {
        case .oneOf(let column, let values): row[column]?.text.map(values.contains) ?? values.contains("")
        case .present(let column): row[column]?.text != nil
        case .not(let inner): !holds(inner, row)
        case .all(let conditions): conditions.allSatisfy { holds($0, row) }
        case .any(let conditions): conditions.contains { holds($0, row) }
        }
    }

    /// The id of the resource a mapping makes from the row whose id text is `key`.
    func id(mapping: MappingSpec.TableMapping, key: String) -> String {
        ResourceID.make(type: mapping.resource, content: "\(spec.system)|\(mapping.table)|\(key)")
    }

    func provenance(for row: SourceRow, targets: [Made]) -> Made {
        let id = ResourceID.make(type: "Provenance", content: "\(spec.system)|\(row.table)|\(row.key)")
        func object(_ members: (String, JSON)...) -> JSON { .object(JSONObject(members)) }
        let entity = object(
            ("role", "source"),
            (
                "what",
                object(
                    (
                        "identifier",
                        object(("system", .string(spec.system)), ("value", .string("\(row.table)/\(row.key)")))
                    ),
                    ("display", .string("\(row.table) \(row.key) sha256:\(row.sha256)"))
                )
            ))
        let resource = object(
            ("resourceType", "Provenance"), ("id", .string(id)),
            ("target", .array(targets.map { object(("reference", .string("\($0.type)/\($0.id)"))) })),
            ("recorded", .string(recorded)),
            ("policy", provenanceParts.policy), ("activity", provenanceParts.activity),
            ("agent", provenanceParts.agent),
            ("entity", .array([entity])))
        return Made(type: "Provenance", id: id, resource: resource)
    }
}
