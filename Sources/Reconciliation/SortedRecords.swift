import Foundation
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
        // Sorted by the ids' first eight bytes as a number (byte order), then by the whole id, then by
        // position: the last of a run of equal ids is the latest. A million ids sort in a fraction of a
        // second this way, most comparisons being of two integers.
        let keys = records.map { Self.leadingBytes($0.id) }
        var order = Array(records.indices)
        order.sort { a, b in
            if keys[a] != keys[b] { return keys[a] < keys[b] }
            if records[a].id != records[b].id { return records[a].id < records[b].id }
            return a < b
        }
        let kept = order.indices.filter { position in
            position + 1 == order.count || records[order[position + 1]].id != records[order[position]].id
        }.map { order[$0] }
        ids = kept.map { records[$0].id }
        hashes = kept.map { records[$0].hash }
        // Fingerprints on every core, then their running sums.
        var fingerprints = [UInt64](repeating: 0, count: kept.count)
        let chunks = max(1, min(ProcessInfo.processInfo.activeProcessorCount * 4, kept.count / 10_000))
        fingerprints.withUnsafeMutableBufferPointer { output in
            let output = UnsafeMutableSendableBuffer(output)
            let ids = self.ids
            let hashes = self.hashes
            DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                for index in (kept.count * chunk / chunks)..<(kept.count * (chunk + 1) / chunks) {
                    output.buffer[index] = Fingerprint.of(id: ids[index], hash: hashes[index], idOnly: idOnly)
                }
            }
        }
        prefix.reserveCapacity(kept.count + 1)
        var sum: UInt64 = 0
        for fingerprint in fingerprints {
            sum &+= fingerprint
            prefix.append(sum)
        }
    }

    /// The first eight bytes of an id, big-endian, zero-padded: their order is the ids' byte order.
    static func leadingBytes(_ id: String) -> UInt64 {
        var value: UInt64 = 0
        var taken = 0
        for byte in id.utf8.prefix(8) {
            value = value << 8 | UInt64(byte)
            taken += 1
        }
        return taken == 8 ? value : value << (8 * (8 - taken))
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
}
