import Foundation

/// What a reconciliation found: counts per type, accounts per source table, every differing record
/// named, the rows that are not accounted for, and what the comparison cost.
public struct ReconciliationReport: Sendable, Codable, Hashable {
    /// The mapping spec's name and version.
    public var spec = ""
    public var types: [TypeCounts] = []
    public var tables: [TableAccounts] = []
    public var differences: [Difference] = []
    public var unaccounted: [Unaccounted] = []
    /// Codes no value map or ConceptMap had: `map|code` → times.
    public var unmappedCodes: [String: Int] = [:]
    public var cost = Cost()
    /// What changed in the target since a dated snapshot, when one was given.
    public var drift: Drift?
    /// Duplicate and merged patients in the target, when looked for.
    public var duplicates: PatientDuplicates?
    /// The clinical review sample, when one was drawn (its content is PHI: the JSON report leaves
    /// it out; the worksheet has it).
    public var review: ClinicalReview?

    enum CodingKeys: String, CodingKey {
        case spec, types, tables, differences, unaccounted, unmappedCodes, cost, drift, duplicates, reviewStrata
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(spec, forKey: .spec)
        try container.encode(types, forKey: .types)
        try container.encode(tables, forKey: .tables)
        try container.encode(differences, forKey: .differences)
        try container.encode(unaccounted, forKey: .unaccounted)
        try container.encode(unmappedCodes, forKey: .unmappedCodes)
        try container.encode(cost, forKey: .cost)
        try container.encodeIfPresent(drift, forKey: .drift)
        try container.encodeIfPresent(duplicates, forKey: .duplicates)
        try container.encodeIfPresent(review?.strata, forKey: .reviewStrata)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        spec = try container.decode(String.self, forKey: .spec)
        types = try container.decode([TypeCounts].self, forKey: .types)
        tables = try container.decode([TableAccounts].self, forKey: .tables)
        differences = try container.decode([Difference].self, forKey: .differences)
        unaccounted = try container.decode([Unaccounted].self, forKey: .unaccounted)
        unmappedCodes = try container.decode([String: Int].self, forKey: .unmappedCodes)
        cost = try container.decode(Cost.self, forKey: .cost)
        drift = try container.decodeIfPresent(Drift.self, forKey: .drift)
        duplicates = try container.decodeIfPresent(PatientDuplicates.self, forKey: .duplicates)
    }

    public init() {}

    /// One resource type on both sides.
    public struct TypeCounts: Sendable, Codable, Hashable {
        public var type: String
        /// Records the legacy side makes.
        public var legacy: Int
        /// Records the target holds.
        public var target: Int
        public var matched: Int
        public var altered: Int
        public var missing: Int
        public var extra: Int

        public init(type: String, legacy: Int, target: Int, matched: Int, altered: Int, missing: Int, extra: Int) {
            self.type = type
            self.legacy = legacy
            self.target = target
            self.matched = matched
            self.altered = altered
            self.missing = missing
            self.extra = extra
        }

        /// Differing records per legacy record (per target record when the legacy side has none).
        public var mismatchRate: Double {
            let differing = altered + missing + extra
            return differing == 0 ? 0 : Double(differing) / Double(max(legacy, target, 1))
        }
    }

    /// One source table: `read == loaded + deadLettered + filtered + unaccounted`.
    public struct TableAccounts: Sendable, Codable, Hashable {
        public var table: String
        public var read: Int
        /// Rows whose every resource the target holds.
        public var loaded: Int
        public var deadLettered: Int
        /// Rows left out, by the rule that left them out.
        public var filtered: [String: Int]
        /// Rows mapped whose resources the target lacks.
        public var unaccounted = 0

        public init(
            table: String, read: Int, loaded: Int, deadLettered: Int, filtered: [String: Int], unaccounted: Int = 0
        ) {
            self.table = table
            self.read = read
            self.loaded = loaded
            self.deadLettered = deadLettered
            self.filtered = filtered
            self.unaccounted = unaccounted
        }

        public var addsUp: Bool { read == loaded + deadLettered + filtered.values.reduce(0, +) + unaccounted }
    }

    /// A record that differs, named by its type and id and, when the legacy side made it, its row.
    public struct Difference: Sendable, Codable, Hashable {
        public var type: String
        public var id: String
        public var kind: RecordDifference.Kind
        public var locator: String?
        /// For an altered record: the top-level elements whose values differ.
        public var changedElements: [String] = []
        /// For an altered record: the high-risk attributes that differ, both values shown.
        public var fields: [FieldDifference] = []

        public init(
            type: String, id: String, kind: RecordDifference.Kind, locator: String?, changedElements: [String] = [],
            fields: [FieldDifference] = []
        ) {
            self.type = type
            self.id = id
            self.kind = kind
            self.locator = locator
            self.changedElements = changedElements
            self.fields = fields
        }
    }

    /// A source row that is neither loaded, dead-lettered nor filtered.
    public struct Unaccounted: Sendable, Codable, Hashable {
        public var locator: String
        public var reason: String

        public init(locator: String, reason: String) {
            self.locator = locator
            self.reason = reason
        }
    }

    /// What the comparison read.
    public struct Cost: Sendable, Codable, Hashable {
        /// Range summaries the target computed.
        public var summaries = 0
        /// Id-and-hash rows read from the target.
        public var hashesRead = 0
        public var projectionSeconds = 0.0
        public var comparisonSeconds = 0.0
        public var detailSeconds = 0.0
    }

    /// Whether nothing differs and every row is accounted for.
    public var isClean: Bool { differences.isEmpty && unaccounted.isEmpty }
}
