import FHIR
import Foundation
import Store
import Testing

@Suite struct StoreSnapshotTests {
    typealias Support = StoreTestSupport

    static func fill(_ store: any FHIRStore, patients: Int) async throws {
        for number in 0..<patients {
            _ = try await store.update(Support.patient(String(format: "p%04d", number), family: "Family\(number)"))
        }
        _ = try await store.update(
            Support.json(#"{"resourceType":"Organization","id":"org-1","name":"Northside"}"#))
    }

    @Test(arguments: StoreKind.allCases)
    func digestsNameTheRangesThatDiffer(kind: StoreKind) async throws {
        try await Support.withStore(kind) { store in
            try await Self.fill(store, patients: 25)
            let before = try await StoreDigest.of(store, rangeSize: 10)
            #expect(before.counts == ["Patient": 25, "Organization": 1])
            #expect(before.ranges["Patient"]?.map(\.count) == [10, 10, 5])
            #expect(before.ranges["Patient"]?[1].first == "p0010" && before.ranges["Patient"]?[1].last == "p0019")
            // The same content again: the same digest.
            _ = try await store.update(Support.patient("p0013", family: "Family13"))
            #expect(try await StoreDigest.of(store, rangeSize: 10) == before)
            // One change in the second range: only that range differs.
            _ = try await store.update(Support.patient("p0013", family: "Changed"))
            let after = try await StoreDigest.of(store, rangeSize: 10)
            #expect(after.types["Patient"] != before.types["Patient"])
            #expect(after.types["Organization"] == before.types["Organization"])
            #expect(after.differingRanges(of: "Patient", from: before).map(\.first) == ["p0010"])
        }
    }

    @Test(arguments: StoreKind.allCases)
    func aSnapshotRestoresTheStoreAsItWas(kind: StoreKind) async throws {
        try await Support.withStore(kind) { store in
            try await Self.fill(store, patients: 30)
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
                "ferry-snap-\(UUID().uuidString)"
            ).path
            defer { try? FileManager.default.removeItem(atPath: folder) }
            let manifest = try await StoreSnapshot.write(store, to: folder, rangeSize: 8)
            #expect(manifest.resources == 31)
            #expect(try StoreSnapshot.manifest(in: folder) == manifest)
            let lines = try String(contentsOfFile: folder + "/resources.ndjson", encoding: .utf8).split(separator: "\n")
            #expect(lines.count == 31)

            // After the snapshot: one changed, one deleted, one added.
            _ = try await store.update(Support.patient("p0003", family: "Changed"))
            _ = try await store.delete(type: "Patient", id: "p0004")
            _ = try await store.update(Support.patient("p9999"))
            #expect(try await StoreDigest.of(store, rangeSize: 8) != manifest.digest)

            let report = try await StoreSnapshot.restore(from: folder, into: store)
            #expect(report.verified)
            #expect(report.deleted == 1)
            #expect(report.written == 2 && report.unchanged == 29)
            #expect(try await StoreDigest.of(store, rangeSize: 8) == manifest.digest)
            // History is kept: p0003 went forward to a third version equal to its first.
            let history = try await store.history(type: "Patient", id: "p0003")
            #expect(history.map(\.version) == [3, 2, 1])
            #expect(history[0].contentHash == history[2].contentHash)
        }
    }
}

@Suite struct BulkLoadTests {
    typealias Support = StoreTestSupport

    static func bundle(_ resources: [JSON]) -> JSON {
        .object(
            JSONObject([
                ("resourceType", "Bundle"), ("type", "transaction"),
                (
                    "entry",
                    .array(
                        resources.map { resource in
                            let type = resource["resourceType"]!.stringValue!
                            let id = resource["id"]!.stringValue!
                            return [
                                "resource": resource, "request": ["method": "PUT", "url": .string("\(type)/\(id)")],
                            ]
                        })
                ),
            ]))
    }

    /// The ids three searches find among `Support.patient` resources named `PREFIX0…`, alternately
    /// Even and Odd.
    static func evenOddResults(_ store: any FHIRStore, prefix: String) async throws -> [[String]] {
        var all: [[String]] = []
        for query in [
            "Patient?family=even", "Patient?identifier=urn:oid:1.2.3|MRN-\(prefix)7", "Patient?birthdate=1970-05-12",
        ] {
            all.append(try await store.search(try SearchQuery(query + "&_count=100")).resources.map(\.id).sorted())
        }
        return all
    }

    /// Bulk mode: the search tables' own indexes dropped, rows written with their resources, the
    /// indexes built at the end. Searches find the same in between (slower) and after.
    @Test(arguments: StoreKind.allCases)
    func aLoadWithoutTheSearchTablesIndexesSearchesTheSame(kind: StoreKind) async throws {
        let patients = (0..<40).map { Support.patient("c\($0)", family: $0 % 2 == 0 ? "Even" : "Odd") }
        func results(_ store: any FHIRStore) async throws -> [[String]] {
            try await Self.evenOddResults(store, prefix: "c")
        }
        let batch = MigrationBatch(
            run: "c", partition: "p", position: 1, bundles: [Self.bundle(patients)], deadLetters: [])
        let indexed = try await Support.withStore(kind) { store in
            _ = try await store.commit(batch)
            return try await results(store)
        }
        #expect(indexed[0].count == 20 && indexed[1] == ["c7"] && indexed[2].count == 40)
        try await Support.withStore(kind) { store in
            try await store.dropSearchIndexes()
            try await store.dropSearchIndexes()
            _ = try await store.commit(batch)
            #expect(try await results(store) == indexed)
            // A second version while the indexes are down (SQLite's history index among them): history
            // and vread answer the same before and after the build.
            let changed = Support.patient("c0", family: "Even", given: "Changed")
            _ = try await store.commit(
                MigrationBatch(
                    run: "c", partition: "p", position: 2, bundles: [Self.bundle([changed])], deadLetters: []))
            #expect(try await store.history(type: "Patient", id: "c0").map(\.version).sorted() == [1, 2])
            try await store.buildSearchIndexes()
            try await store.buildSearchIndexes()
            #expect(try await results(store) == indexed)
            #expect(try await store.history(type: "Patient", id: "c0").map(\.version).sorted() == [1, 2])
            #expect(try await store.read(type: "Patient", id: "c0", version: 1)?.version == 1)
            // A rebuild drops and builds them around its own rows.
            #expect(try await store.rebuildIndex() == 40)
            #expect(try await results(store) == indexed)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func aBulkLoadWithTheIndexDeferredSearchesLikeAnIndexedOneAfterTheRebuild(kind: StoreKind) async throws {
        let patients = (0..<40).map { Support.patient("b\($0)", family: $0 % 2 == 0 ? "Even" : "Odd") }
        func results(_ store: any FHIRStore) async throws -> [[String]] {
            try await Self.evenOddResults(store, prefix: "b")
        }
        let indexed = try await Support.withStore(kind) { store in
            _ = try await store.commit(
                MigrationBatch(run: "i", partition: "p", position: 1, bundles: [Self.bundle(patients)], deadLetters: [])
            )
            return try await results(store)
        }
        #expect(indexed[0].count == 20 && indexed[1] == ["b7"] && indexed[2].count == 40)
        try await Support.withStore(kind) { store in
            var batch = MigrationBatch(
                run: "b", partition: "p", position: 1, bundles: [Self.bundle(patients)], deadLetters: [])
            batch.deferIndex = true
            _ = try await store.commit(batch)
            #expect(try await store.counts() == ["Patient": 40])
            #expect(try await results(store) == [[], [], []])
            #expect(try await store.rebuildIndex() == 40)
            #expect(try await results(store) == indexed)
            // Rebuilding again changes nothing.
            _ = try await store.rebuildIndex()
            #expect(try await results(store) == indexed)
        }
    }
}
