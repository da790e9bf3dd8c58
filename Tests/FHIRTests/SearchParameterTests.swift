import FHIR
import Foundation
import Testing

@Suite struct SearchParameterTests {
    static let extractor = SearchParameterExtractor(definitions: TestSupport.definitions)

    static func example(_ name: String) throws -> JSON {
        try JSON(parsing: Data(contentsOf: TestSupport.examplesFolder.appendingPathComponent(name)))
    }

    static func values(_ code: String, _ resource: JSON) throws -> [SearchValue] {
        let type = resource["resourceType"]?.stringValue ?? ""
        let parameter = try #require(TestSupport.definitions.searchParameters(for: type).first { $0.code == code })
        return try extractor.values(of: parameter, in: resource)
    }

    static func instant(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text)
    }

    @Test(arguments: TestSupport.exampleFiles().map(\.lastPathComponent))
    func everyParameterOfTheTypeExtractsWithoutError(_ name: String) throws {
        let resource = try Self.example(name)
        let index = try Self.extractor.index(resource)
        // Binary and Parameters have no search parameters beyond `_id` and friends, which these examples lack.
        #expect(
            !index.isEmpty || ["binary-example.json", "parameters-example.json"].contains(name),
            "\(name) extracted nothing")
    }

    @Test func patientValuesAreTypedPerParameterType() throws {
        let patient = try Self.example("patient-example.json")
        #expect(
            try Self.values("birthdate", patient)
                == [
                    .date(low: Self.instant("1974-12-25T00:00:00.000Z"), high: Self.instant("1974-12-25T23:59:59.999Z"))
                ])
        #expect(try Self.values("family", patient).contains(.string("Chalmers", normalized: "chalmers")))
        #expect(try Self.values("name", patient).contains(.string("Peter", normalized: "peter")))
        #expect(
            try Self.values("identifier", patient).contains(
                .token(system: "urn:oid:1.2.36.146.595.217.0.1", code: "12345", text: nil)))
        #expect(try Self.values("gender", patient) == [.token(system: nil, code: "male", text: nil)])
        #expect(
            try Self.values("organization", patient) == [.reference("Organization/1", type: "Organization", id: "1")])
        #expect(try Self.values("active", patient) == [.token(system: nil, code: "true", text: nil)])
    }

    @Test func observationValuesAreTypedPerParameterType() throws {
        let observation = try Self.example("observation-example.json")
        #expect(
            try Self.values("code", observation)
                == [
                    .token(system: "http://loinc.org", code: "29463-7", text: "Body Weight"),
                    .token(system: "http://loinc.org", code: "3141-9", text: "Body weight Measured"),
                    .token(system: "http://snomed.info/sct", code: "27113001", text: "Body weight"),
                    .token(system: "http://acme.org/devices/clinical-codes", code: "body-weight", text: "Body Weight"),
                ])
        let quantity = try Self.values("value-quantity", observation)
        guard case .quantity(let value, let system, let code, _, let canonical)? = quantity.first else {
            Issue.record("no quantity: \(quantity)")
            return
        }
        #expect(value == 185 && system == "http://unitsofmeasure.org" && code == "[lb_av]")
        #expect(canonical?.unit == "g")
        #expect(canonical?.value == Decimal(string: "83914.58845"))
        #expect(
            try Self.values("subject", observation) == [.reference("Patient/example", type: "Patient", id: "example")])
        #expect(
            try Self.values("date", observation)
                == [
                    .date(low: Self.instant("2016-03-28T00:00:00.000Z"), high: Self.instant("2016-03-28T23:59:59.999Z"))
                ])
    }

    @Test func periodsAndOffsetsBecomeUTCRanges() throws {
        let encounter: JSON = [
            "resourceType": "Encounter", "status": "finished", "class": ["code": "AMB"],
            "period": ["start": "2020-03-01T08:00:00+02:00", "end": "2020-03"],
        ]
        #expect(
            try Self.values("date", encounter)
                == [
                    .date(low: Self.instant("2020-03-01T06:00:00.000Z"), high: Self.instant("2020-03-31T23:59:59.999Z"))
                ])
        let open: JSON = [
            "resourceType": "Encounter", "status": "finished", "class": ["code": "AMB"], "period": ["start": "2021"],
        ]
        #expect(try Self.values("date", open) == [.date(low: Self.instant("2021-01-01T00:00:00.000Z"), high: nil)])
    }

    @Test func stringsAreFoldedForSearch() throws {
        let patient: JSON = [
            "resourceType": "Patient", "name": [["family": "Müller-Lüdenscheidt", "given": ["  José  María "]]],
        ]
        let values = try Self.values("name", patient)
        #expect(values.contains(.string("Müller-Lüdenscheidt", normalized: "muller-ludenscheidt")))
        #expect(values.contains(.string("  José  María ", normalized: "jose maria")))
    }

    @Test func numbersKeepTheirPrecision() throws {
        let assessment: JSON = [
            "resourceType": "RiskAssessment", "status": "final", "subject": ["reference": "Patient/1"],
            "prediction": [["probabilityDecimal": .number("0.150")]],
        ]
        #expect(try Self.values("probability", assessment) == [.number(Decimal(string: "0.15")!, scale: 3)])
    }
}
