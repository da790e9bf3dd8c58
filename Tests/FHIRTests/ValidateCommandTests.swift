import FHIR
import Foundation
import Testing

/// `ferry validate` as a user runs it: the built binary, real files, exit codes and output.
@Suite struct ValidateCommandTests {
    func ferry(_ arguments: [String]) throws -> (status: Int32, output: String) {
        try TestSupport.ferry(arguments)
    }

    @Test func validExamplesExitZero() throws {
        let (status, output) = try ferry(["validate", "Examples/fhir"])
        #expect(status == 0, "\(output)")
        #expect(output.contains("5 inputs: 5 valid, 0 invalid, 0 unusable"))
    }

    @Test func invalidResourcesExitOneAndNameTheLocation() throws {
        let (status, output) = try ferry(["validate", "Examples/fhir-broken/patient-legacy-export.json"])
        #expect(status == 1)
        #expect(output.contains("Patient.birthDate: '1979-02-30' is not a valid date"))
        #expect(output.contains("Patient.name[0].middle"))
    }

    @Test func unparseableOrMissingInputExitsTwo() throws {
        let (status, output) = try ferry(["validate", "Examples/fhir-broken/lab-feed.ndjson"])
        #expect(status == 2)
        #expect(output.contains("lab-feed.ndjson:2: UNUSABLE"))
        #expect(output.contains("line 2, column 176"))
        let missing = try ferry(["validate", "no/such/file.json"])
        #expect(missing.status == 2)
    }

    @Test func jsonFormatPrintsAnOperationOutcomePerInput() throws {
        let (status, output) = try ferry(["validate", "--format", "json", "Examples/fhir-broken/lab-feed.ndjson"])
        #expect(status == 2)
        let lines = output.split(separator: "\n")
        #expect(lines.count == 3)
        let third = try JSON(parsing: String(lines[2]))
        #expect(third["source"] == "Examples/fhir-broken/lab-feed.ndjson:3")
        #expect(third["valid"] == false)
        #expect(third["outcome"]?["resourceType"] == "OperationOutcome")
        #expect(third["outcome"]?["issue"]?.arrayValue?.first?["expression"] == ["Observation.subject.reference"])
        let outcome = try #require(third["outcome"])
        #expect(
            TestSupport.validator.validate(outcome).errors.isEmpty, "the OperationOutcome itself must be valid FHIR")
    }

    @Test func brokenInvariantsAreReportedWithTheirKey() throws {
        let (status, output) = try ferry(["validate", "Examples/fhir-broken/observation-value-and-absent-reason.json"])
        #expect(status == 1)
        #expect(output.contains("error [invariant] Observation: obs-6: dataAbsentReason SHALL only be present"))
        #expect(output.contains("1 input: 0 valid, 1 invalid, 0 unusable, 1 warning\n"))
    }
}
