import Store

/// One side's records of one resource type held in memory: ids in byte order with their content
/// hashes, and running sums of their fingerprints, so that any id range's summary takes two binary
/// searches. The legacy side (projected through the mapping) and a snapshot are held this way.
public struct SortedRecords: Sendable {
    public private(set) var ids: [String] = []
    public private(set) var hashes: [String] = []
    /// `prefix[i]`: the sum of the first `i` fingerprints.
    private var prefix: [UInt64] = [0]
    /// Whether fingerprints cover the id alone (for types whose content is expected to differ).
    public let idOnly: Bool

    /// Sorts `records` by id; a later record with an id already seen replaces it (the last write wins,
    /// as in the store).
    public init(_ records: [IDHash], idOnly: Bool = false) {
        self.idOnly = idOnly
        // Sorted by id, a stable sort keeps the order of equal ids, so the last of a run is the latest.
        var order = Array(records.indices)
        order.sort { records[$0].id < records[$1].id || (records[$0].id == records[$1].id && $0 < $1) }
        ids.reserveCapacity(records.count)
        hashes.reserveCapacity(records.count)
        prefix.reserveCapacity(records.count + 1)
        for (position, index) in order.enumerated() {
            if position + 1 < order.count && records[order[position + 1]].id == records[index].id { continue }
            let record = records[index]
            ids.append(record.id)
            hashes.append(record.hash)
            prefix.append(prefix.last! &+ Fingerprint.of(id: record.id, hash: record.hash, idOnly: idOnly))
        }
    }

    public var count: Int { ids.count }

    /// The positions of the ids in `range`.
    public func positions(in range: IDRange) -> Range<Int> {
        let start = range.lower.map { firstPosition(after: $0) } ?? 0
        let end = range.upper.map { firstPosition(after: $0) } ?? ids.count
        return start..<max(start, end)
    }

    public func summary(_ range: IDRange) -> RangeSummary {
        let positions = positions(in: range)
        return RangeSummary(count: positions.count, sum: prefix[positions.upperBound] &- prefix[positions.lowerBound])
    }

    public func hash(of id: String) -> String? {
        let position = firstPosition(atOrAfter: id)
        return position < ids.count && ids[position] == id ? hashes[position] : nil
    }

    /// `range` cut into consecutive ranges of about `size` records each (by this side's ids); the
    /// first starts where `range` starts and the last ends where it ends, so together they cover it.
    public func split(_ range: IDRange, size: Int) -> [IDRange] {
        let positions = positions(in: range)
        guard positions.count > size, size > 0 else { return [range] }
        var parts: [IDRange] = []
        var lower = range.lower
        var position = positions.lowerBound + size - 1
        while position < positions.upperBound - 1 {
            parts.append(IDRange(after: lower, through: ids[position]))
            lower = ids[position]
            position += size
        }
        parts.append(IDRange(after: lower, through: range.upper))
        return parts
    }

    private func firstPosition(after id: String) -> Int {
        var low = 0
        var high = ids.count
        while low < high {
            let middle = (low + high) / 2
            if ids[middle] <= id { low = middle + 1 } else { high = middle }
        }
        return low
    }

    private func firstPosition(atOrAfter id: String) -> Int {
        var low = 0
        var high = ids.count
        while low < high {
            let middle = (low + high) / 2
            if ids[middle] < id { low = middle + 1 } else { high = middle }
        }
        return low
    }
}
