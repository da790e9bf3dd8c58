import FHIR
import Foundation
import Legacy
import Mapping
import Store

/// Reconciles a target store against its legacy sources: the sources are projected through the
/// mapping spec the migration used; per resource type the records are compared by ranges of ids
/// (count and fingerprint sum first, hashes only where a range differs); differing records are
/// named, with their high-risk attributes side by side; every source row is accounted for.
public struct Reconciliation: Sendable {
    public var inputs: LegacyInputs
    public var target: any FHIRStore
    public var definitions: FHIRDefinitions
    /// The migration run whose dead letters account for the rows the mapping refuses.
    public var run: String?
    /// Only these resource types; `nil`: every type either side holds.
    public var types: Set<String>?
    public var fieldRules = FieldRules.standard
    public var reconciler = RangeReconciler()
    /// Whether to look for duplicate patients in the target.
    public var findDuplicates = true
    /// Records drawn per stratum for clinical review (0: none), and the seed of the draw.
    public var reviewPerStratum = 0
    public var reviewSeed: UInt64 = 1

    public init(
        inputs: LegacyInputs, target: any FHIRStore, definitions: FHIRDefinitions,
        run: String? = nil
    ) {
        self.inputs = inputs
        self.target = target
        self.definitions = definitions
        self.run = run
    }

    public func reconcile() async throws -> ReconciliationReport {
        let started = Date()
        let projection = try await LegacyProjection.project(inputs)
        let projected = Date()
        var report = ReconciliationReport()
        report.spec = inputs.mapper.map { "\($0.spec.name) \($0.spec.version)" } ?? "(HL7 v2 maps only)"
        report.unmappedCodes = projection.accounts.unmapped
        let targetCounts = try await target.counts()
        let allTypes = Set(projection.types.keys).union(targetCounts.keys)
        var differences: [RecordDifference] = []
        for type in allTypes.sorted() where types?.contains(type) ?? true {
            let legacy =
                projection.types[type] ?? SortedRecords([], idOnly: LegacyProjection.idOnlyTypes.contains(type))
            let outcome = try await reconciler.compare(type: type, legacy: legacy, target: StoreSide(target))
            report.cost.summaries += outcome.summaries
            report.cost.hashesRead += outcome.hashesRead
            let kinds = Dictionary(grouping: outcome.differences, by: \.kind).mapValues(\.count)
            report.types.append(
                ReconciliationReport.TypeCounts(
                    type: type, legacy: legacy.count, target: outcome.targetCount, matched: outcome.matched,
                    altered: kinds[.altered] ?? 0, missing: kinds[.missing] ?? 0, extra: kinds[.extra] ?? 0))
            differences += outcome.differences
        }
        let compared = Date()
        if findDuplicates { report.duplicates = try await PatientDuplicates.find(in: target).0 }
        if reviewPerStratum > 0 {
            report.review = try await ClinicalReview.draw(
                projection.reviewCandidates, perStratum: reviewPerStratum, seed: reviewSeed,
                origins: projection.origins, inputs: inputs, target: target)
        }
        report.differences = try await describe(differences, projection: projection)
        report.tables = try await accounts(projection: projection, differences: differences, report: &report)
        report.cost.projectionSeconds = projected.timeIntervalSince(started)
        report.cost.comparisonSeconds = compared.timeIntervalSince(projected)
        report.cost.detailSeconds = Date().timeIntervalSince(compared)
        return report
    }

    /// Each difference named: its row, and for an altered record the elements that differ, high-risk
    /// ones with both values.
    func describe(
        _ differences: [RecordDifference], projection: LegacyProjection
    ) async throws
        -> [ReconciliationReport.Difference]
    {
        let altered = Set(differences.filter { $0.kind == .altered }.map { "\($0.type)/\($0.id)" })
        let remapped = try await LegacyProjection.resources(
            named: altered, origins: projection.origins, inputs: inputs)
        let cache = FHIRPathCache(definitions: definitions)
        var described: [ReconciliationReport.Difference] = []
        for difference in differences {
            let name = "\(difference.type)/\(difference.id)"
            var entry = ReconciliationReport.Difference(
                type: difference.type, id: difference.id, kind: difference.kind,
                locator: projection.origins[name]?.locator)
            if difference.kind == .altered, let legacy = remapped[name],
                let stored = try await target.read(type: difference.type, id: difference.id)?.resource
            {
                entry.changedElements = FieldRules.changedElements(legacy: legacy.resource, target: stored)
                entry.fields = fieldRules.differences(
                    type: difference.type, legacy: legacy.resource, target: stored, definitions: definitions,
                    cache: cache
                ).map { found in
                    var source: [String: String] = [:]
                    if let row = legacy.row, let spec = inputs.mapper?.spec {
                        source = LegacyProjection.sourceValues(
                            element: LegacyProjection.firstStep(found.element), type: difference.type, row: row,
                            spec: spec)
                    }
                    return FieldDifference(
                        element: found.element, legacy: found.legacy, target: found.target, source: source)
                }
            }
            described.append(entry)
        }
        return described.sorted { ($0.type, $0.id) < ($1.type, $1.id) }
    }

    /// Per table: read = loaded + dead-lettered + filtered, and the rows that are none of these.
    func accounts(
        projection: LegacyProjection, differences: [RecordDifference], report: inout ReconciliationReport
    ) async throws -> [ReconciliationReport.TableAccounts] {
        let missing = Set(differences.filter { $0.kind == .missing }.map { "\($0.type)/\($0.id)" })
        let recorded: Set<String>? =
            if let run { Set(try await target.deadLetters(run: run).map(\.locator)) } else { nil }
        var tables: [String: ReconciliationReport.TableAccounts] = [:]
        for (table, accounts) in projection.accounts.tables {
            tables[table] = ReconciliationReport.TableAccounts(
                table: table, read: accounts.read, loaded: 0, deadLettered: accounts.deadLettered,
                filtered: accounts.filtered)
        }
        for (locator, (table, names)) in projection.made {
            let absent = names.filter {
                missing.contains($0) && (types?.contains(String($0.prefix { $0 != "/" })) ?? true)
            }
            if absent.isEmpty {
                tables[table]?.loaded += 1
            } else {
                tables[table]?.unaccounted += 1
                report.unaccounted.append(
                    .init(
                        locator: locator,
                        reason: "mapped, but the target lacks \(absent.sorted().joined(separator: ", "))"))
            }
        }
        if let recorded {
            for (locator, reason) in projection.deadLettered where !recorded.contains(locator) {
                report.unaccounted.append(
                    .init(
                        locator: locator,
                        reason: "the mapping dead-letters it (\(reason.prefix(200))), but the run did not record it"))
            }
        }
        report.unaccounted.sort { $0.locator < $1.locator }
        return tables.values.sorted { $0.table < $1.table }
    }
}
