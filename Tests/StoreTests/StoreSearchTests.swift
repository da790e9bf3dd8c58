import FHIR
import Foundation
import Testing

@testable import Store

/// Search by every parameter type the store indexes, with the FHIR prefixes and modifiers.
struct StoreSearchTests {
    typealias Support = StoreTestSupport

    static let resources: [JSON] = [
        Support.patient("p1", family: "Müller", given: "Anna", birthDate: "1970-05-12"),
        Support.patient("p2", family: "Mullins", given: "Bob", birthDate: "1985"),
        Support.patient("p3", family: "Okafor", given: "Chidi", birthDate: "2001-12-31"),
        Support.json(
            """
            {"resourceType":"Observation","id":"o1","status":"final",
             "code":{"coding":[{"system":"http://loinc.org","code":"2339-0","display":"Glucose"}]},
             "subject":{"reference":"Patient/p1"},"effectiveDateTime":"2024-03-15T09:30:00Z",
             "valueQuantity":{"value":5.4,"unit":"mmol/L","system":"http://unitsofmeasure.org","code":"mmol/L"}}
            """),
        Support.json(
            """
            {"resourceType":"Observation","id":"o2","status":"amended",
             "code":{"coding":[{"system":"http://loinc.org","code":"718-7","display":"Hemoglobin"}]},
             "subject":{"reference":"Patient/p2"},"effectivePeriod":{"start":"2024-03-16T08:00:00Z","end":"2024-03-16T09:00:00Z"},
             "valueQuantity":{"value":13.2,"unit":"g/dL","system":"http://unitsofmeasure.org","code":"g/dL"}}
            """),
        Support.json(
            """
            {"resourceType":"ValueSet","id":"vs1","url":"http://example.org/fhir/ValueSet/colors","status":"active"}
            """),
    ]

    static func ids(_ store: any FHIRStore, _ url: String) async throws -> [String] {
        try await store.search(SearchQuery(url)).resources.map(\.id)
    }

    @Test(arguments: StoreKind.allCases)
    func eachParameterTypeFindsWhatItShould(kind: StoreKind) async throws {
        try await Support.withStore(kind) { store in
            for resource in Self.resources { _ = try await store.update(resource) }
            // token
            #expect(try await Self.ids(store, "Patient?identifier=urn:oid:1.2.3|MRN-p2") == ["p2"])
            #expect(try await Self.ids(store, "Patient?identifier=MRN-p3") == ["p3"])
            #expect(try await Self.ids(store, "Observation?code=http://loinc.org|2339-0") == ["o1"])
            #expect(try await Self.ids(store, "Observation?code=2339-0,718-7") == ["o1", "o2"])
            #expect(try await Self.ids(store, "Observation?code:text=hemo") == ["o2"])
            #expect(try await Self.ids(store, "Observation?status:not=final") == ["o2"])
            // string: prefix, case and accents folded; exact; contains
            #expect(try await Self.ids(store, "Patient?family=mul") == ["p1", "p2"])
            #expect(try await Self.ids(store, "Patient?family=muller") == ["p1"])
            #expect(try await Self.ids(store, "Patient?family:exact=Müller") == ["p1"])
            #expect(try await Self.ids(store, "Patient?family:exact=muller") == [])
            #expect(try await Self.ids(store, "Patient?name:contains=kaf") == ["p3"])
            // date: precision of both sides, prefixes
            #expect(try await Self.ids(store, "Patient?birthdate=1970") == ["p1"])
            #expect(try await Self.ids(store, "Patient?birthdate=1985-06") == [], "1985 is not within June 1985")
            #expect(try await Self.ids(store, "Patient?birthdate=ap1985-06") == ["p2"], "but overlaps it")
            #expect(try await Self.ids(store, "Patient?birthdate=ge1985-01-01") == ["p2", "p3"])
            #expect(try await Self.ids(store, "Patient?birthdate=lt1985") == ["p1"])
            #expect(try await Self.ids(store, "Patient?birthdate=sa2000") == ["p3"])
            #expect(try await Self.ids(store, "Observation?date=2024-03-16") == ["o2"])
            #expect(try await Self.ids(store, "Observation?date=eb2024-03-16") == ["o1"])
            // reference
            #expect(try await Self.ids(store, "Observation?subject=Patient/p1") == ["o1"])
            #expect(try await Self.ids(store, "Observation?subject:Patient=p2") == ["o2"])
            #expect(try await Self.ids(store, "Observation?patient=p2") == ["o2"])
            // quantity, with the value's precision
            #expect(
                try await Self.ids(store, "Observation?value-quantity=5.4|http://unitsofmeasure.org|mmol/L") == ["o1"])
            #expect(try await Self.ids(store, "Observation?value-quantity=gt10||g/dL") == ["o2"])
            #expect(try await Self.ids(store, "Observation?value-quantity=13") == ["o2"], "13 stands for 12.5 to 13.5")
            #expect(try await Self.ids(store, "Observation?value-quantity=13.0") == [])
            // uri
            #expect(try await Self.ids(store, "ValueSet?url=http://example.org/fhir/ValueSet/colors") == ["vs1"])
            #expect(try await Self.ids(store, "ValueSet?url:below=http://example.org/fhir") == ["vs1"])
            // missing, _id, AND across parameters
            #expect(try await Self.ids(store, "Observation?value-quantity:missing=true") == [])
            #expect(try await Self.ids(store, "Patient?_id=p1,p3&gender=female") == ["p1", "p3"])
            #expect(try await Self.ids(store, "Patient?family=mul&birthdate=ge1980") == ["p2"])
        }
    }

    @Test(arguments: StoreKind.allCases)
    func pagesSortingAndLastUpdated(kind: StoreKind) async throws {
        let clock = TestClock(start: Date(timeIntervalSince1970: 1_700_000_000))
        try await Support.withStore(kind, now: { clock.tick() }) { store in
            for index in 1...7 { _ = try await store.update(Support.patient("p\(index)")) }
            let page = try await store.search(SearchQuery("Patient?_count=3&_offset=3"))
            #expect(page.total == 7 && page.resources.map(\.id) == ["p4", "p5", "p6"])
            #expect(try await Self.ids(store, "Patient?_sort=-_lastUpdated&_count=2") == ["p7", "p6"])
            // p1 was written at 1,700,000,001 s; p2 one second later.
            #expect(try await Self.ids(store, "Patient?_lastUpdated=ge2023-11-14T22:13:22Z&_count=2") == ["p2", "p3"])
            #expect(try await Self.ids(store, "Patient?_lastUpdated=lt2023-11-14T22:13:22Z") == ["p1"])
        }
    }

    @Test(arguments: StoreKind.allCases)
    func badSearchesAreRefusedWithTheParameterNamed(kind: StoreKind) async throws {
        try await Support.withStore(kind) { store in
            for (url, words) in [
                ("Patient?colour=blue", "Patient has no search parameter colour"),
                ("Patient?birthdate=yesterday", "birthdate=yesterday: not a FHIR date"),
                ("Observation?value-quantity=lots", "value-quantity=lots: not a number"),
                ("Nothing?x=1", "unknown resource type Nothing"),
                ("Patient?family=", "family: no value"),
                ("Patient?_count=-1", "_count=-1"),
            ] {
                do {
                    _ = try await store.search(SearchQuery(url))
                    Issue.record("\(url) was accepted")
                } catch let error as StoreError {
                    #expect(error.kind == .badQuery && error.message.contains(words), "\(url): \(error)")
                } catch {
                    Issue.record("\(url): \(error)")
                }
            }
        }
    }

    /// Every official example of these types is stored, found by its id and by its first identifier.
    @Test(arguments: StoreKind.allCases)
    func theOfficialExamplesAreStoredAndFound(kind: StoreKind) async throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Support.examples.path).filter {
            $0.hasSuffix(".json")
        }
        try await Support.withStore(kind) { store in
            var stored = 0
            for file in files.sorted() {
                let resource = try JSON(parsing: Data(contentsOf: Support.examples.appendingPathComponent(file)))
                guard let type = resource["resourceType"]?.stringValue, type != "Bundle", resource["id"] != nil else {
                    continue
                }
                _ = try await store.update(resource)
                stored += 1
                let id = try #require(resource["id"]?.stringValue)
                #expect(try await Self.ids(store, "\(type)?_id=\(id)") == [id], "\(file)")
                if let identifier = resource["identifier"]?[0] ?? resource["identifier"],
                    let value = identifier["value"]?.stringValue,
                    Support.definitions.searchParameters(for: type).contains(where: { $0.code == "identifier" })
                {
                    let system = identifier["system"]?.stringValue.map { $0 + "|" } ?? ""
                    let query = SearchQuery(
                        type: type, parameters: [.init(name: "identifier", values: [system + value])])
                    #expect(try await store.search(query).resources.map(\.id).contains(id), "\(file)")
                }
            }
            #expect(stored > 50)
        }
    }
}

/// A clock that moves one second each time it is read.
final class TestClock: @unchecked Sendable {
    private var current: Date
    private let lock = NSLock()

    init(start: Date) { current = start }

    func tick() -> Date {
        lock.withLock {
            current += 1
            return current
        }
    }
}
