import FHIR
import Foundation
import Testing

@Suite struct OfficialExamplesTests {
    /// Official examples that break a rule of R4 itself, each checked against the R4 definitions.
    static let knownInvalid: [String: (expression: String, reason: String)] = [
        "bundle-questionnaire.json": (
            "Questionnaire.item[0].item[0].linkId",
            "Questionnaire.item.linkId is 1..1 in R4; the example's display items have no linkId"
        ),
        "devicemetric-example.json": (
            "DeviceMetric.parent.reference",
            "DeviceMetric.parent is Reference(Device) in R4; the example points to DeviceDefinition/dc102"
        ),
        "codesystem-example.json": (
            "CodeSystem",
            "two concepts share the code chol-mass, which breaks csd-1 (all the codes of a code system SHALL be unique)"
        ),
        "deviceusestatement-example.json": (
            "DeviceUseStatement.reasonReference[0].reference",
            "reasonReference is Reference(Condition | Observation | DiagnosticReport | DocumentReference | Media); the example points to Procedure/example"
        ),
        "medicationrequest0301.json": (
            "MedicationRequest.dispenseRequest.performer.reference",
            "dispenseRequest.performer is Reference(Organization) in R4; the example points to Practitioner/f001"
        ),
    ]

    @Test func theExamplesFolderIsThere() {
        #expect(TestSupport.exampleFiles().count == 72)
    }

    @Test(arguments: TestSupport.exampleFiles().map(\.lastPathComponent))
    func officialExampleValidates(_ name: String) throws {
        let bytes = try Data(contentsOf: TestSupport.examplesFolder.appendingPathComponent(name))
        let outcome = TestSupport.validator.validate(jsonBytes: bytes)
        let unevaluated = outcome.issues.filter { $0.diagnostics.contains("could not be evaluated") }
        #expect(unevaluated.isEmpty, "\(name): \(unevaluated.map(\.diagnostics))")
        if let known = Self.knownInvalid[name] {
            #expect(!outcome.isValid, "\(name) was listed as invalid (\(known.reason)) but validates")
            #expect(outcome.errors.contains { $0.expression == known.expression }, "\(outcome.errors)")
        } else {
            #expect(outcome.errors.isEmpty, "\(name): \(outcome.errors.map { "\($0.expression): \($0.diagnostics)" })")
        }
    }
}
