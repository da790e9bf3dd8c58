import FHIR
import Foundation
import Testing

@Suite struct DefinitionsTests {
    @Test func committedDefinitionsAreExactlyWhatTheGeneratorWrites() throws {
        let archive = TestSupport.shared.appendingPathComponent("fhir/hl7.fhir.r4.core-4.0.1.tgz").path
        let generated = try DefinitionsGeneration.compile(packageArchive: archive)
        let committed = try Data(
            contentsOf: TestSupport.packageRoot.appendingPathComponent(
                "Sources/FHIR/Definitions/Resources/fhir-r4-definitions.json")
        )
        #expect(generated == [UInt8](committed), "run scripts/generate-definitions and commit the result")
    }

    @Test func holdsEveryBaseTypeValueSetAndSearchParameter() throws {
        let definitions = TestSupport.definitions
        #expect(definitions.source == "hl7.fhir.r4.core#4.0.1")
        #expect(definitions.types.values.filter { $0.kind == .resource && !$0.isAbstract }.count == 146)
        #expect(definitions.types.values.filter { $0.kind == .primitiveType }.count == 20)
        // The package's 1,400 SearchParameter resources less its three examples of the resource.
        #expect(definitions.searchParameters.count == 1397)
        #expect(definitions.valueSets.count == 224)
        #expect(definitions.valueSets.values.filter { !$0.isExpanded }.count == 4)
    }

    @Test func describesElementsWithTypesCardinalityBindingsAndConstraints() throws {
        let patient = try #require(TestSupport.definitions.resourceType(named: "Patient"))
        let gender = try #require(patient.elements.first { $0.path == "Patient.gender" })
        #expect(gender.min == 0 && gender.max == 1)
        #expect(gender.types.map(\.code) == ["code"])
        #expect(gender.binding?.strength == "required")
        #expect(gender.binding?.valueSet == "http://hl7.org/fhir/ValueSet/administrative-gender")
        let deceased = try #require(patient.elements.first { $0.path == "Patient.deceased[x]" })
        #expect(deceased.isChoice && deceased.types.map(\.code) == ["boolean", "dateTime"])
        let generalPractitioner = try #require(patient.elements.first { $0.path == "Patient.generalPractitioner" })
        #expect(
            generalPractitioner.types.first?.targetProfiles == ["Organization", "Practitioner", "PractitionerRole"])
        let contact = try #require(patient.elements.first { $0.path == "Patient.contact" })
        let keys = contact.constraintIndices.map { TestSupport.definitions.constraints[$0].key }
        #expect(keys.contains("pat-1"))
        let pat1 = try #require(TestSupport.definitions.constraints.first { $0.key == "pat-1" })
        #expect(pat1.expression == "name.exists() or telecom.exists() or address.exists() or organization.exists()")
        let gender_ = try #require(
            TestSupport.definitions.valueSets["http://hl7.org/fhir/ValueSet/administrative-gender"])
        #expect(gender_.codes == ["male", "female", "other", "unknown"])
    }

    @Test func searchParametersCarryTheirTypeAndExpression() throws {
        let parameters = TestSupport.definitions.searchParameters(for: "Patient")
        let birthdate = try #require(parameters.first { $0.code == "birthdate" })
        #expect(birthdate.type == "date")
        #expect(birthdate.expression?.contains("Patient.birthDate") == true)
        #expect(parameters.contains { $0.code == "_id" })
        let subject = try #require(
            TestSupport.definitions.searchParameters(for: "Observation").first { $0.code == "subject" })
        #expect(subject.type == "reference")
    }

    /// A type's parameters have distinct codes: the package's examples of the SearchParameter
    /// resource (a second `subject` on Condition, targeting Organization; a second `_id`) are left out.
    @Test func noTypeHasTwoParametersOfOneCode() throws {
        let definitions = TestSupport.definitions
        for type in definitions.types.values where type.kind == .resource {
            let codes = definitions.searchParameters(for: type.name).map(\.code)
            #expect(Set(codes).count == codes.count, "\(type.name): \(codes)")
        }
        let subject = try #require(definitions.searchParameters(for: "Condition").first { $0.code == "subject" })
        #expect(subject.targets.sorted() == ["Group", "Patient"])
        #expect(!definitions.searchParameters(for: "Patient").contains { $0.code == "part-agree" })
    }
}
