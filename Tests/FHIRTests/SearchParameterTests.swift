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

    /// `index` evaluates each parameter's expression narrowed to the resource's type (the branches
    /// of shared expressions that start from other types left out); the values must be the same as
    /// the whole expression's, on every official example.
    @Test(arguments: TestSupport.exampleFiles().map(\.lastPathComponent))
    func narrowedExpressionsExtractWhatTheWholeOnesDo(_ name: String) throws {
        let resource = try Self.example(name)
        let type = resource["resourceType"]?.stringValue ?? ""
        let index = try Self.extractor.index(resource)
        var whole: [String: [SearchValue]] = [:]
        for parameter in TestSupport.definitions.searchParameters(for: type) {
            let values = try Self.extractor.values(of: parameter, in: resource)
            if !values.isEmpty { whole[parameter.url] = values }
        }
        #expect(Dictionary(uniqueKeysWithValues: index.map { ($0.parameter.url, $0.values) }) == whole, "\(name)")
    }

    @Test func narrowingKeepsTheBranchesOfTheTypeAndOfNoType() {
        let text =
            "AllergyIntolerance.code | (Condition.code as CodeableConcept) | Observation.code.where(text = 'a|b')"
            + " | Resource.id | %resource.id"
        #expect(
            SearchParameterExtractor.narrowed(text, to: "Observation", definitions: TestSupport.definitions)
                == "Observation.code.where(text = 'a|b') | Resource.id | %resource.id")
        #expect(
            SearchParameterExtractor.narrowed(text, to: "Condition", definitions: TestSupport.definitions)
                == "(Condition.code as CodeableConcept) | Resource.id | %resource.id")
        #expect(
            SearchParameterExtractor.narrowed("Patient.name", to: "Observation", definitions: TestSupport.definitions)
                == "Patient.name")
        #expect(
            SearchParameterExtractor.narrowed(
                "Patient.name.given | Practitioner.name.given", to: "Patient", definitions: TestSupport.definitions)
                == "(Patient.name.given).distinct()")
    }

    /// Text searches compare a folded form; the byte-by-byte path for ASCII must fold as Foundation does.
    @Test func asciiTextFoldsAsFoundationFoldsIt() {
        var generator = SystemRandomNumberGenerator()
        var samples = ["", " ", "  José  María ", "A\tB\nC\u{0B}D\u{0C}E\rF", "MiXeD  case  ", "x\u{1F}y"]
        samples.append(String(decoding: (0..<128).map { UInt8($0) }, as: UTF8.self))
        for _ in 0..<500 {
            samples.append(
                String(
                    decoding: (0..<Int.random(in: 0..<20, using: &generator)).map { _ in
                        UInt8.random(in: 0..<128, using: &generator)
                    }, as: UTF8.self))
        }
        for text in samples {
            let foundation = text.folding(
                options: [.caseInsensitive, .diacriticInsensitive], locale: Locale(identifier: "en_US_POSIX")
            ).split(whereSeparator: \.isWhitespace).joined(separator: " ")
            #expect(SearchValue.normalize(text) == foundation, "\(Array(text.utf8))")
        }
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
