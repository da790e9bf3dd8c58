import FHIR
import Foundation
import Testing

@testable import Store

/// The behaviour every `FHIRStore` must have, run against each store kind.
struct StoreConformanceTests {
    typealias Support = StoreTestSupport

    @Test(arguments: StoreKind.allCases)
    func writesAreVersionedAndAnUnchangedWriteIsANoOp(kind: StoreKind) async throws {
        try await Support.withStore(kind) { store in
            let first = try await store.update(Support.patient("p1"))
            #expect(first.outcome == .created && first.stored.version == 1)
            #expect(first.stored.resource?["meta"]?["versionId"] == "1")
            // The same content again (even with other meta timestamps) writes nothing.
            let again = try await store.update(try #require(first.stored.resource))
            #expect(again.outcome == .unchanged && again.stored.version == 1)
            let changed = try await store.update(Support.patient("p1", family: "Smith"))
            #expect(changed.outcome == .updated && changed.stored.version == 2)
            let current = try #require(try await store.read(type: "Patient", id: "p1"))
            #expect(current.version == 2 && current.resource?["name"]?[0]?["family"] == "Smith")
            let old = try #require(try await store.read(type: "Patient", id: "p1", version: 1))
            #expect(old.resource?["name"]?[0]?["family"] == "Doe")
            #expect(try await store.history(type: "Patient", id: "p1").map(\.version) == [2, 1])
            #expect(current.contentHash == ResourceVersion.contentHash(Support.patient("p1", family: "Smith")))
            #expect(try await store.read(type: "Patient", id: "nobody") == nil)
        }
    }

    /// A batch's outcome counts what its Bundles wrote, the same whether its plain PUTs are written
    /// at once (worked out ahead) or entry by entry (a Bundle with a conditional create among them).
    @Test(arguments: StoreKind.allCases)
    func aBatchSaysWhatItsBundlesWrote(kind: StoreKind) async throws {
        try await Support.withStore(kind) { store in
            let observation = Support.json(
                """
                {"resourceType":"Observation","id":"o1","status":"final","code":{"text":"pulse"},
                 "subject":{"reference":"Patient/a"}}
                """)
            func batch(_ position: Int, _ bundles: [JSON]) -> MigrationBatch {
                MigrationBatch(run: "r", partition: "p", position: position, bundles: bundles, deadLetters: [])
            }
            let plain = [
                BulkLoadTests.bundle([Support.patient("a"), Support.patient("b")]),
                BulkLoadTests.bundle([observation]),
            ]
            let first = try await store.commit(batch(1, plain))
            #expect(first.written == ["Patient": 2, "Observation": 1] && first.unchanged == 0)
            let again = try await store.commit(batch(2, plain))
            #expect(again.written == [:] && again.unchanged == 3)
            // A conditional create that finds its match writes nothing; beside it, a changed Patient.
            let conditional = Support.json(
                """
                {"resourceType":"Bundle","type":"transaction","entry":[
                 {"resource":{"resourceType":"Patient","identifier":[{"system":"urn:oid:1.2.3","value":"MRN-a"}]},
                  "request":{"method":"POST","url":"Patient","ifNoneExist":"identifier=urn:oid:1.2.3|MRN-a"}},
                 {"resource":\(String(decoding: Support.patient("b", family: "Changed").canonicalBytes, as: UTF8.self)),
                  "request":{"method":"PUT","url":"Patient/b"}}]}
                """)
            let mixed = try await store.commit(batch(3, [conditional, plain[1]]))
            #expect(mixed.written == ["Patient": 1] && mixed.unchanged == 2)
            #expect(try await store.read(type: "Patient", id: "b")?.version == 2)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func aDeletedResourceIsGoneButItsHistoryStays(kind: StoreKind) async throws {
        try await Support.withStore(kind) { store in
            _ = try await store.update(Support.patient("p1"))
            let deleted = try #require(try await store.delete(type: "Patient", id: "p1"))
            #expect(deleted.outcome == .deleted && deleted.stored.version == 2)
            await #expect(throws: StoreError.self) { try await store.read(type: "Patient", id: "p1") }
            #expect(try await store.delete(type: "Patient", id: "p1") == nil, "deleting again does nothing")
            #expect(try await store.search(SearchQuery(type: "Patient")).total == 0)
            #expect(try await store.counts()["Patient"] == nil)
            let back = try await store.update(Support.patient("p1"))
            #expect(back.outcome == .created && back.stored.version == 3)
            let versions = try await store.history(type: "Patient", id: "p1")
            #expect(versions.map(\.version) == [3, 2, 1] && versions[1].resource == nil)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func conditionalWritesFindTheirResourceBySearch(kind: StoreKind) async throws {
        try await Support.withStore(kind) { store in
            let byMRN = try SearchQuery("Patient?identifier=urn:oid:1.2.3|MRN-a")
            var patient = Support.patient("a")
            if case .object(var object) = patient {
                object["id"] = nil
                patient = .object(object)
            }
            let made = try await store.create(patient, ifNoneExist: byMRN)
            #expect(made.outcome == .created && made.stored.id.count == 36)
            let found = try await store.create(patient, ifNoneExist: byMRN)
            #expect(found.outcome == .found && found.stored.id == made.stored.id)
            // A conditional update of the one match updates it under its id.
            let updated = try await store.update(Support.patient("a", family: "Roe").removingID, matching: byMRN)
            #expect(updated.outcome == .updated && updated.stored.id == made.stored.id)
            // No match: created.
            let other = try await store.update(
                Support.patient("b").removingID, matching: try SearchQuery("Patient?identifier=urn:oid:1.2.3|MRN-b"))
            #expect(other.outcome == .created)
            // Two matches: refused.
            await #expect(throws: StoreError(.preconditionFailed, "If-None-Exist matches 2 Patient resources")) {
                try await store.create(patient, ifNoneExist: try SearchQuery("Patient?gender=female"))
            }
            #expect(try await store.counts()["Patient"] == 2)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func aTransactionResolvesItsReferencesAndIsAllOrNothing(kind: StoreKind) async throws {
        try await Support.withStore(kind) { store in
            let bundle = Support.json(
                """
                {"resourceType":"Bundle","type":"transaction","entry":[
                 {"fullUrl":"urn:uuid:9a1b","resource":{"resourceType":"Patient","identifier":[{"system":"s","value":"1"}]},
                  "request":{"method":"POST","url":"Patient","ifNoneExist":"identifier=s|1"}},
                 {"fullUrl":"urn:uuid:c0de","resource":{"resourceType":"Observation","status":"final",
                  "code":{"text":"x"},"subject":{"reference":"urn:uuid:9a1b"}},"request":{"method":"POST","url":"Observation"}},
                 {"resource":{"resourceType":"Patient","id":"fixed","gender":"male"},"request":{"method":"PUT","url":"Patient/fixed"}}
                ]}
                """)
            let response = try await store.transaction(bundle)
            #expect(response["type"] == "transaction-response")
            let statuses = (response["entry"]?.arrayValue ?? []).map { $0["response"]?["status"]?.stringValue }
            #expect(statuses == ["201 Created", "201 Created", "201 Created"])
            let observation = try #require(try await store.search(SearchQuery(type: "Observation")).resources.first)
            let patientID = try #require(
                response["entry"]?[0]?["response"]?["location"]?.stringValue?.split(separator: "/").dropFirst().first)
            #expect(observation.resource?["subject"]?["reference"]?.stringValue == "Patient/\(patientID)")
            // The same transaction again finds the patient (ifNoneExist) instead of making another.
            let again = try await store.transaction(bundle)
            #expect(
                again["entry"]?[0]?["response"]?["outcome"]?["issue"]?[0]?["diagnostics"]?.stringValue?.hasPrefix(
                    "found")
                    == true)
            #expect(
                again["entry"]?[2]?["response"]?["outcome"]?["issue"]?[0]?["diagnostics"]?.stringValue?.hasPrefix(
                    "unchanged") == true)
            #expect(try await store.counts()["Patient"] == 2)
            // A conditional create that finds its resource writes nothing, even when the entry differs.
            let differing = Support.json(
                """
                {"resourceType":"Bundle","type":"transaction","entry":[
                 {"resource":{"resourceType":"Patient","gender":"other","identifier":[{"system":"s","value":"1"}]},
                  "request":{"method":"POST","url":"Patient","ifNoneExist":"identifier=s|1"}}]}
                """)
            _ = try await store.transaction(differing)
            let kept = try #require(try await store.read(type: "Patient", id: String(patientID)))
            #expect(kept.version == 1 && kept.resource?["gender"] == nil)

            // One bad entry: nothing of the transaction is written.
            let before = try await store.counts()
            let broken = Support.json(
                """
                {"resourceType":"Bundle","type":"transaction","entry":[
                 {"resource":{"resourceType":"Patient","id":"new1"},"request":{"method":"PUT","url":"Patient/new1"}},
                 {"resource":{"resourceType":"NoSuchThing","id":"x"},"request":{"method":"PUT","url":"NoSuchThing/x"}}
                ]}
                """)
            await #expect(throws: StoreError.self) { try await store.transaction(broken) }
            #expect(try await store.counts() == before)
            #expect(try await store.read(type: "Patient", id: "new1") == nil)
        }
    }
}

extension StoreConformanceTests {
    /// Writers at once: every write lands once, versions count up without gaps, transactions stay whole.
    @Test(arguments: StoreKind.allCases)
    func concurrentWritersLoseNothingAndDoubleNothing(kind: StoreKind) async throws {
        try await Support.withStore(kind) { store in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for writer in 0..<8 {
                    group.addTask {
                        for round in 0..<10 {
                            // Each writer has its own patients and all share "shared".
                            _ = try await store.update(Support.patient("w\(writer)-\(round)"))
                            _ = try await store.update(Support.patient("shared", family: "F\(writer)-\(round)"))
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await store.counts()["Patient"] == 81)
            let versions = try await store.history(type: "Patient", id: "shared").map(\.version)
            #expect(versions == Array((1...80).reversed()))
        }
    }
}

extension JSON {
    var removingID: JSON {
        guard case .object(var object) = self else { return self }
        object["id"] = nil
        return .object(object)
    }
}
