import FHIR
import Legacy
import Mapping
import Store

/// The legacy side as the target should hold it: every source row mapped through the same spec the
/// migration used, each resource reduced to its id and content hash, sorted per type; with where
/// each came from and the accounts of every row (mapped, dead-lettered, filtered by a named rule).
public struct LegacyProjection: Sendable {
    /// The projected records per resource type.
    public var types: [String: SortedRecords] = [:]
    /// Where each resource came from, by `Type/id`.
    public var origins: [String: Origin] = [:]
    /// Per table: read, mapped, dead-lettered, filtered; codes without a mapping.
    public var accounts = MappingRun.Report()
    /// The rows the mapping dead-letters, by locator, with the reason.
    public var deadLettered: [String: String] = [:]
    /// Per row (or message) locator, its table (or kind of message) and the resources it makes (`Type/id`).
    public var made: [String: (table: String, names: [String])] = [:]
    /// The records a clinical review may draw from, with their strata.
    public var reviewCandidates: [ClinicalReview.Candidate] = []

    /// Types compared by id alone: a Provenance records when the migration ran, which a projection
    /// made another day cannot reproduce; that it exists for its row is what is checked.
    public static let idOnlyTypes: Set<String> = ["Provenance"]

    /// The row a resource was made from.
    public struct Origin: Sendable, Hashable, Codable {
        /// The position of the source in the inputs' sources; for a feed file at position `n`, `-1 - n`.
        public var source: Int
        public var table: String
        public var key: String
        public var locator: String
    }

    /// Maps every row of the relational sources by the spec, and converts every message of the feeds
    /// in the order they were sent (a later message's version of a resource replaces an earlier one,
    /// as in the store).
    ///
    /// Resources of `reviewTypes` become review candidates, stratified by site: the row's
    /// `siteColumn`, or else the site of the Patient it refers to (`subject` or `patient`).
    public static func project(
        _ inputs: LegacyInputs, reviewTypes: Set<String> = ClinicalReview.standardTypes,
        siteColumn: String = "facility_id"
    ) async throws -> LegacyProjection {
        var projection = LegacyProjection()
        var records: [String: [IDHash]] = [:]
        var siteOfPatient: [String: String] = [:]
        var pending: [(ClinicalReview.Candidate, String?)] = []
        func add(_ made: [SpecMapper.Made], origin: Origin, row: SourceRow?) {
            var names: [String] = []
            for resource in made {
                records[resource.type, default: []].append(
                    IDHash(id: resource.id, hash: ContentHash.of(resource.resource)))
                let name = "\(resource.type)/\(resource.id)"
                projection.origins[name] = origin
                names.append(name)
                guard let row else { continue }
                if resource.type == "Patient", let site = row[siteColumn]?.text { siteOfPatient[name] = site }
                if reviewTypes.contains(resource.type) {
                    let patient = (resource.resource["subject"] ?? resource.resource["patient"])?["reference"]?
                        .stringValue
                    pending.append((ClinicalReview.candidate(resource, row: row, siteColumn: siteColumn), patient))
                }
            }
            projection.made[origin.locator] = (origin.table, names)
        }
        if let mapper = inputs.mapper {
            for (index, source) in inputs.sources.enumerated() {
                let run = MappingRun(source: source, mapper: mapper)
                let report = try await run.run { items in
                    for item in items {
                        switch (item.record, item.result.outcome) {
                        case (.row(let row), .mapped(let made)):
                            add(
                                made,
                                origin: Origin(source: index, table: row.table, key: row.key, locator: row.locator),
                                row: row)
                        case (let record, .deadLettered(let reason)):
                            projection.deadLettered[record.locator] = reason
                        default: break
                        }
                    }
                }
                projection.accounts.specName = report.specName
                projection.accounts.specVersion = report.specVersion
                for (table, accounts) in report.tables { projection.account(table, accounts) }
                projection.accounts.resources.merge(report.resources, uniquingKeysWith: +)
                projection.accounts.unmapped.merge(report.unmapped, uniquingKeysWith: +)
            }
        }
        if let converter = inputs.converter {
            try inputs.messages { file, number, locator, bytes in
                let (outcome, group) = V2FeedMessage.outcome(bytes, converter: converter)
                var accounts = MappingRun.TableReport()
                accounts.read = 1
                switch outcome {
                case .bundle(let bundle):
                    accounts.mapped = 1
                    let made = LegacyInputs.entries(bundle)
                    for resource in made { projection.accounts.resources[resource.type, default: 0] += 1 }
                    add(
                        made, origin: Origin(source: -1 - file, table: group, key: String(number), locator: locator),
                        row: nil)
                case .filtered(let rule): accounts.filtered[rule] = 1
                case .deadLettered(let reason):
                    accounts.deadLettered = 1
                    projection.deadLettered[locator] = reason
                }
                projection.account(group, accounts)
            }
        }
        for (type, list) in records {
            projection.types[type] = SortedRecords(list, idOnly: idOnlyTypes.contains(type))
        }
        projection.reviewCandidates = pending.map { candidate, patient in
            var candidate = candidate
            if candidate.site == "no site", let site = patient.flatMap({ siteOfPatient[$0] }) {
                candidate.site = "site \(site)"
            }
            return candidate
        }
        return projection
    }

    /// Adds a table's (or a kind of message's) accounts to the totals.
    mutating func account(_ table: String, _ accounts: MappingRun.TableReport) {
        var total = self.accounts.tables[table] ?? MappingRun.TableReport()
        total.read += accounts.read
        total.mapped += accounts.mapped
        total.deadLettered += accounts.deadLettered
        total.filtered.merge(accounts.filtered, uniquingKeysWith: +)
        self.accounts.tables[table] = total
    }

    /// The projected resources named (`Type/id`), made again from their rows or messages: only the
    /// tables and files that hold them are read. For showing what differs, field by field.
    public static func resources(
        named names: Set<String>, origins: [String: Origin], inputs: LegacyInputs
    ) async throws -> [String: Remapped] {
        var wanted: [Int: [String: Set<String>]] = [:]
        for name in names {
            guard let origin = origins[name] else { continue }
            wanted[origin.source, default: [:]][origin.table, default: []].insert(origin.key)
        }
        var found: [String: Remapped] = [:]
        for (index, tables) in wanted where index >= 0 {
            guard let mapper = inputs.mapper else { continue }
            let run = MappingRun(source: inputs.sources[index], mapper: mapper)
            let lookups = try await run.lookups()
            for (table, keys) in tables {
                try await run.source.scan(table: table, batchSize: run.batchSize) { records in
                    for case .row(let row) in records where keys.contains(row.key) {
                        guard case .mapped(let made) = mapper.map(row, lookups: lookups).outcome else { continue }
                        for resource in made where names.contains("\(resource.type)/\(resource.id)") {
                            found["\(resource.type)/\(resource.id)"] = Remapped(resource: resource.resource, row: row)
                        }
                    }
                }
            }
        }
        let messages = Set(
            wanted.filter { $0.key < 0 }.flatMap { file, tables in
                tables.values.flatMap { $0.map { "\(-1 - file):\($0)" } }
            })
        if let converter = inputs.converter, !messages.isEmpty {
            try inputs.messages { file, number, _, bytes in
                guard messages.contains("\(file):\(number)"),
                    case .bundle(let bundle) = V2FeedMessage.outcome(bytes, converter: converter).outcome
                else { return }
                for resource in LegacyInputs.entries(bundle) {
                    let name = "\(resource.type)/\(resource.id)"
                    // The message the projection last took it from: the same version the store holds.
                    if names.contains(name), origins[name]?.key == String(number), origins[name]?.source == -1 - file {
                        found[name] = Remapped(resource: resource.resource, row: nil)
                    }
                }
            }
        }
        return found
    }

    /// A projected resource made again, with the row it was made from (none for a message).
    public struct Remapped: Sendable {
        public var resource: JSON
        public var row: SourceRow?
    }

    /// The source values of the columns the spec assigns to an element (its first step) of a type,
    /// from its row: what the legacy system held, beside what the mapping made of it.
    public static func sourceValues(
        element: String, type: String, row: SourceRow, spec: MappingSpec
    ) -> [String: String] {
        var values: [String: String] = [:]
        for mapping in spec.mappings where mapping.table == row.table && mapping.resource == type {
            for rule in mapping.elements where Self.firstStep(rule.path) == element {
                for column in Self.columns(rule.value.source) {
                    values[column] = row[column]?.text ?? "(null)"
                }
            }
        }
        return values
    }

    static func firstStep(_ path: String) -> String {
        String(path.prefix { $0 != "." && $0 != "[" })
    }

    static func columns(_ source: MappingSpec.ValueSource) -> [String] {
        switch source {
        case .column(let column): [column]
        case .template(let template), .reference(_, let template):
            template.parts.compactMap { if case .column(let column) = $0 { column } else { nil } }
        case .constant: []
        case .lookup(_, let key, _): [key]
        }
    }
}
