import Store

/// A record that is not the same on both sides.
public struct RecordDifference: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Hashable, Codable {
        /// The legacy side has it; the target does not.
        case missing
        /// The target has it; the legacy side does not.
        case extra
        /// Both have it, with different content.
        case altered
    }

    public var type: String
    public var id: String
    public var kind: Kind
    /// The content hash the legacy side expects (`nil` for an extra record).
    public var expected: String?
    /// The content hash the target holds (`nil` for a missing record).
    public var actual: String?

    public init(type: String, id: String, kind: Kind, expected: String?, actual: String?) {
        self.type = type
        self.id = id
        self.kind = kind
        self.expected = expected
        self.actual = actual
    }
}

/// The side a reconciliation compares against: it tells a range's summary and lists a range's
/// hashes. A `FHIRStore` is one (computed in its database); so is a `SortedRecords`.
public protocol HashedSide: Sendable {
    func summary(type: String, in range: IDRange, idOnly: Bool) async throws -> RangeSummary
    func contentHashes(type: String, in range: IDRange, limit: Int) async throws -> [IDHash]
}

/// A store as the side compared against.
public struct StoreSide: HashedSide {
    public let store: any FHIRStore

    public init(_ store: any FHIRStore) { self.store = store }

    public func summary(type: String, in range: IDRange, idOnly: Bool) async throws -> RangeSummary {
        try await store.summary(type: type, in: range, idOnly: idOnly)
    }

    public func contentHashes(type: String, in range: IDRange, limit: Int) async throws -> [IDHash] {
        try await store.contentHashes(type: type, in: range, limit: limit)
    }
}

/// Finds the records that differ between the legacy side, held in memory, and a target, by their
/// ranges: the legacy ids cut the id space into segments; a segment whose count and fingerprint sum
/// are the same on both sides is skipped; one that differs is cut again, until a segment is small
/// enough to list its hashes and compare them one by one. Segments follow the keys themselves, so
/// gaps, UUIDs and any other ids work alike, and the target reads each record about once.
public struct RangeReconciler: Sendable {
    /// A segment with at most this many records on either side is compared record by record.
    public var leafSize: Int
    /// How many parts a differing segment is cut into.
    public var fanout: Int

    public init(leafSize: Int = 1000, fanout: Int = 16) {
        self.leafSize = max(1, leafSize)
        self.fanout = max(2, fanout)
    }

    /// What a comparison of one type found, and what it cost.
    public struct Outcome: Sendable, Hashable {
        public var differences: [RecordDifference] = []
        /// Range summaries asked of the target.
        public var summaries = 0
        /// Id-and-hash rows read from the target.
        public var hashesRead = 0
        /// Records found equal.
        public var matched = 0
        /// Records the target holds of this type.
        public var targetCount = 0
    }

    public func compare(type: String, legacy: SortedRecords, target: some HashedSide) async throws -> Outcome {
        var outcome = Outcome()
        // The first cut: segments of one leaf each, so equal data costs one pass over the target.
        var pending = legacy.split(.all, size: leafSize).reversed().map { $0 }
        while let range = pending.popLast() {
            let expected = legacy.summary(range)
            let actual = try await target.summary(type: type, in: range, idOnly: legacy.idOnly)
            outcome.summaries += 1
            outcome.targetCount += actual.count
            if expected == actual {
                outcome.matched += expected.count
                continue
            }
            if expected.count <= leafSize || actual.count <= leafSize {
                try await compareRecords(type: type, range: range, legacy: legacy, target: target, into: &outcome)
                continue
            }
            // Counted again by the parts.
            outcome.targetCount -= actual.count
            let size = max(leafSize, (expected.count + fanout - 1) / fanout)
            pending.append(contentsOf: legacy.split(range, size: size).reversed())
        }
        return outcome
    }

    private func compareRecords(
        type: String, range: IDRange, legacy: SortedRecords, target: some HashedSide, into outcome: inout Outcome
    ) async throws {
        let positions = legacy.positions(in: range)
        var next = positions.lowerBound
        func difference(_ kind: RecordDifference.Kind, _ id: String, _ expected: String?, _ actual: String?) {
            outcome.differences.append(
                RecordDifference(type: type, id: id, kind: kind, expected: expected, actual: actual))
        }
        var page = range
        while true {
            let hashes = try await target.contentHashes(type: type, in: page, limit: leafSize)
            outcome.hashesRead += hashes.count
            for record in hashes {
                while next < positions.upperBound && legacy.ids[next] < record.id {
                    difference(.missing, legacy.ids[next], legacy.hashes[next], nil)
                    next += 1
                }
                if next < positions.upperBound && legacy.ids[next] == record.id {
                    let matches =
                        legacy.idOnly || legacy.hashes[next] == record.hash
                    if matches {
                        outcome.matched += 1
                    } else {
                        difference(.altered, record.id, legacy.hashes[next], record.hash)
                    }
                    next += 1
                } else {
                    difference(.extra, record.id, nil, record.hash)
                }
            }
            guard hashes.count == leafSize, let last = hashes.last else { break }
            page = IDRange(after: last.id, through: range.upper)
        }
        while next < positions.upperBound {
            difference(.missing, legacy.ids[next], legacy.hashes[next], nil)
            next += 1
        }
    }
}

extension SortedRecords: HashedSide {
    /// A side of one type: `type` is not looked at.
    public func summary(type: String, in range: IDRange, idOnly: Bool) async throws -> RangeSummary { summary(range) }

    public func contentHashes(type: String, in range: IDRange, limit: Int) async throws -> [IDHash] {
        let positions = positions(in: range)
        return positions.prefix(limit).map { IDHash(id: ids[$0], hash: hashes[$0]) }
    }
}
