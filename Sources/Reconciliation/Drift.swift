import FHIR
import Foundation
import Store

/// What changed in a store since a dated snapshot (`ferry store snapshot`): the snapshot's records
/// are the expected side, compared with today's by the same ranges and hashes. Altered records
/// changed since, missing ones were deleted since, extra ones were created since.
public struct Drift: Sendable, Codable, Hashable {
    /// When the snapshot was taken.
    public var snapshot: String
    public var types: [ReconciliationReport.TypeCounts] = []
    public var differences: [RecordDifference] = []

    /// Compares the snapshot in `folder` with `store`.
    public static func measure(
        snapshot folder: String, store: any FHIRStore, reconciler: RangeReconciler = RangeReconciler()
    ) async throws -> Drift {
        let manifest = try StoreSnapshot.manifest(in: folder)
        let path = (folder as NSString).appendingPathComponent("resources.ndjson")
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ThresholdsError("\(path): cannot be read")
        }
        var records: [String: [IDHash]] = [:]
        for (number, line) in data.split(separator: 0x0A).enumerated() where !line.isEmpty {
            let resource: JSON
            do { resource = try JSON(parsing: line) } catch { throw ThresholdsError("\(path):\(number + 1): \(error)") }
            guard let type = resource["resourceType"]?.stringValue, let id = resource["id"]?.stringValue else {
                throw ThresholdsError("\(path):\(number + 1): a resource without resourceType or id")
            }
            records[type, default: []].append(IDHash(id: id, hash: ContentHash.of(resource)))
        }
        var drift = Drift(snapshot: manifest.created)
        let types = Set(records.keys).union(try await store.counts().keys)
        for type in types.sorted() {
            let expected = SortedRecords(records[type] ?? [])
            let outcome = try await reconciler.compare(type: type, legacy: expected, target: StoreSide(store))
            let kinds = Dictionary(grouping: outcome.differences, by: \.kind).mapValues(\.count)
            drift.types.append(
                .init(
                    type: type, legacy: expected.count, target: outcome.targetCount, matched: outcome.matched,
                    altered: kinds[.altered] ?? 0, missing: kinds[.missing] ?? 0, extra: kinds[.extra] ?? 0))
            drift.differences += outcome.differences
        }
        return drift
    }
}
