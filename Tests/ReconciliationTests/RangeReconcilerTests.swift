import Foundation
import Reconciliation
import Store
import Testing

@Suite struct RangeReconcilerTests {
    /// Ids shaped like Ferry's (UUID-like) and like a legacy system's (numbers with gaps).
    static func records(_ count: Int, seed: UInt64) -> [IDHash] {
        var state = seed
        func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        return (0..<count).map { index in
            let id = index.isMultiple(of: 2) ? String(next(), radix: 16) : "p\(index * 7 + 3)"
            return IDHash(id: id, hash: String(next(), radix: 16))
        }
    }

    @Test func equalSidesCostOneSummaryPerSegmentAndNoHashes() async throws {
        let records = Self.records(20_000, seed: 1)
        let legacy = SortedRecords(records)
        let target = SortedRecords(records.reversed())
        let outcome = try await RangeReconciler(leafSize: 500).compare(type: "T", legacy: legacy, target: target)
        #expect(outcome.differences.isEmpty && outcome.matched == 20_000 && outcome.targetCount == 20_000)
        #expect(outcome.summaries == 40 && outcome.hashesRead == 0)
    }

    @Test func everyDifferenceIsFoundAndNothingElseWhereverItFalls() async throws {
        var records = Self.records(20_000, seed: 2)
        let sorted = records.sorted { $0.id < $1.id }
        var target = records
        // Altered, removed and added, at both ends of the id space and in between.
        let altered = [sorted[0].id, sorted[9_999].id, sorted[19_999].id] + (0..<20).map { sorted[$0 * 997 + 5].id }
        let removed = [sorted[1].id, sorted[19_998].id, sorted[12_345].id]
        let added = ["0", "zzzz", sorted[500].id + "0"]
        target = target.compactMap { record in
            if removed.contains(record.id) { return nil }
            if altered.contains(record.id) { return IDHash(id: record.id, hash: record.hash + "x") }
            return record
        }
        target += added.map { IDHash(id: $0, hash: "new") }
        records.shuffle()
        let outcome = try await RangeReconciler(leafSize: 200, fanout: 8).compare(
            type: "T", legacy: SortedRecords(records), target: SortedRecords(target))
        let found = Dictionary(grouping: outcome.differences, by: \.kind).mapValues { Set($0.map(\.id)) }
        #expect(found[.altered] == Set(altered))
        #expect(found[.missing] == Set(removed))
        #expect(found[.extra] == Set(added))
        #expect(outcome.matched == 20_000 - altered.count - removed.count)
        #expect(outcome.targetCount == 20_000 - removed.count + added.count)
        // A few dozen differences among 20,000 read a small part of the target, not all of it.
        #expect(outcome.hashesRead < 20_000 / 2)
    }

    @Test func anEmptySideMakesEveryRecordADifference() async throws {
        let records = Self.records(1_234, seed: 3)
        let none = SortedRecords([])
        let missing = try await RangeReconciler(leafSize: 100).compare(
            type: "T", legacy: SortedRecords(records), target: none)
        #expect(missing.differences.count == 1_234 && missing.differences.allSatisfy { $0.kind == .missing })
        let extra = try await RangeReconciler(leafSize: 100).compare(
            type: "T", legacy: none, target: SortedRecords(records))
        #expect(extra.differences.count == 1_234 && extra.differences.allSatisfy { $0.kind == .extra })
        #expect(Set(extra.differences.map(\.id)).count == 1_234)
    }

    @Test func idOnlyRecordsIgnoreTheirContent() async throws {
        let records = Self.records(3_000, seed: 4)
        let changed = records.map { IDHash(id: $0.id, hash: $0.hash + "later") }
        let outcome = try await RangeReconciler(leafSize: 100).compare(
            type: "Provenance", legacy: SortedRecords(records, idOnly: true),
            target: SortedRecords(changed, idOnly: true))
        #expect(outcome.differences.isEmpty && outcome.matched == 3_000)
    }

    @Test func aStoreSumsFingerprintsAsSwiftDoes() {
        // The PostgreSQL sum comes back as a decimal of signed values; its wrap must equal Swift's.
        let values: [UInt64] = [0, 1, UInt64.max, 1 << 63, 12_345_678_901_234_567_890]
        var sum: UInt64 = 0
        var decimal: Int128 = 0
        for value in values {
            sum &+= value
            decimal += Int128(Int64(bitPattern: value))
        }
        #expect(Fingerprint.wrappingForTesting(decimal: String(decimal)) == sum)
        #expect(Fingerprint.of(id: "a", hash: "b") != Fingerprint.of(id: "a", hash: "c"))
        #expect(Fingerprint.of(id: "a", hash: "b", idOnly: true) == Fingerprint.of(id: "a", hash: "c", idOnly: true))
    }
}
