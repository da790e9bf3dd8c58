import Foundation
import Testing

@testable import FHIR

/// Expressions that are paths are walked (`SearchPath`) instead of evaluated. Walking must never change
/// what is extracted, and must cover the shapes R4's parameters are written in.
@Suite struct SearchPathTests {
    static let walking = SearchParameterExtractor(definitions: TestSupport.definitions, skipsAbsentElements: true)
    static let evaluating = SearchParameterExtractor(
        definitions: TestSupport.definitions, skipsAbsentElements: true, walksPaths: false)

    static func path(_ text: String, _ type: String) throws -> SearchPath? {
        SearchPath(try FHIRPathExpression(text).root, resourceType: type, definitions: TestSupport.definitions)
    }

    @Test func pathsAreReadFromTheSyntax() throws {
        #expect(try Self.path("Observation.code", "Observation")?.branches.count == 1)
        #expect(try Self.path("Observation.subject.where(resolve() is Patient)", "Observation") != nil)
        #expect(
            try Self.path("(Observation.value as Quantity) | (Observation.value as SampledData)", "Observation")?
                .branches.count == 2)
        #expect(try Self.path("Condition.onset.as(dateTime) | Condition.onset.as(Period)", "Condition") != nil)
        #expect(try Self.path("(Condition.code).distinct()", "Condition")?.removesRepeats == true)
        #expect(try Self.path("Observation.code", "Observation")?.removesRepeats == false)
        #expect(try Self.path("Resource.meta.tag", "Patient") != nil)
        #expect(try Self.path("DomainResource.text", "Patient") != nil)
        #expect(try Self.path("id", "Patient") != nil)
        // Other shapes are evaluated.
        #expect(try Self.path("DomainResource.text", "Bundle") == nil)  // a Bundle is no DomainResource
        #expect(try Self.path("Observation.code", "Patient") == nil)
        #expect(try Self.path("Patient.telecom.where(system='email')", "Patient") == nil)
        #expect(try Self.path("Patient.extension('http://x')", "Patient") == nil)
        #expect(try Self.path("Patient.deceased.exists() and Patient.deceased != false", "Patient") == nil)
        #expect(try Self.path("Bundle.entry[0].resource", "Bundle") == nil)
        #expect(try Self.path("Observation.value as NotAType", "Observation") == nil)
        #expect(try Self.path("Patient.link.other.resolve()", "Patient") == nil)
        #expect(try Self.path("Patient.name | %resource.id", "Patient") == nil)
    }

    /// Nearly every parameter of every resource type is walked; the rest keep the evaluator.
    @Test func mostParametersAreWalked() throws {
        let definitions = TestSupport.definitions
        var walked = 0
        var evaluated = 0
        for type in definitions.types.values where type.kind == .resource {
            for parameter in definitions.searchParameters(for: type.name) {
                guard let text = parameter.expression, !text.isEmpty, parameter.type != "composite",
                    parameter.type != "special"
                else { continue }
                let narrowed = SearchParameterExtractor.narrowed(text, to: type.name, definitions: definitions)
                guard !narrowed.isEmpty else { continue }
                if try Self.path(narrowed, type.name) != nil { walked += 1 } else { evaluated += 1 }
            }
        }
        #expect(walked > 9 * evaluated, "walked \(walked), evaluated \(evaluated)")
    }

    /// Every official example, its contained resources, its Bundle entries and the HL7 v2-to-FHIR
    /// IG's sample Bundles' entries, each whole and with each of its top-level elements removed in
    /// turn, indexed by walking and by evaluating: the same parameters with the same values, in order.
    @Test func walkingChangesNothingOnTheOfficialExamples() throws {
        let samples = TestSupport.shared.appendingPathComponent("v2-to-fhir/samples/fhir-bundles")
        let files =
            TestSupport.exampleFiles()
            + ((try? FileManager.default.contentsOfDirectory(at: samples, includingPropertiesForKeys: nil)) ?? [])
            .filter { $0.pathExtension == "json" }
        var compared = 0
        for file in files {
            // One of the IG's "json" samples is FHIR XML.
            let bytes = [UInt8](try Data(contentsOf: file))
            let example =
                bytes.first == UInt8(ascii: "<")
                ? try FHIRXML(definitions: TestSupport.definitions).read(bytes) : try JSON(parsing: Data(bytes))
            var resources = [example]
            resources += example["contained"]?.arrayValue ?? []
            resources += (example["entry"]?.arrayValue ?? []).compactMap { $0["resource"] }
            for resource in resources {
                guard case .object(let object) = resource else { continue }
                for (removed, variant) in SearchPlanTests.withEachMemberRemoved(object) {
                    try SearchPlanTests.expectSameIndex(
                        Self.walking, Self.evaluating, variant,
                        "\(file.lastPathComponent) without \(removed ?? "nothing")")
                    compared += 1
                }
            }
        }
        #expect(compared > 1000)
    }

    /// The walk's own steps on a resource made for them: repeats across a union removed, references
    /// filtered by their target's type (contained, by Bundle entry, by `Type/id`, absolute), a choice
    /// cast to one type, a choice element spelt out (an error, answered by evaluating), each as
    /// evaluating the expression gives.
    @Test func eachStepAnswersAsTheEvaluatorDoes() throws {
        let observation = try TestSupport.parse(
            #"""
            {"resourceType":"Observation","id":"o","status":"final",
             "contained":[{"resourceType":"Patient","id":"p1"}],
             "code":{"coding":[{"system":"http://loinc.org","code":"1"},{"system":"http://loinc.org","code":"1"}]},
             "subject":{"reference":"#p1"},
             "performer":[{"reference":"Practitioner/1"},{"reference":"http://x/fhir/Patient/2"},
                          {"reference":"Patient/3/_history/1"},{"display":"no reference"},{"reference":"urn:uuid:9"}],
             "valueQuantity":{"value":1.50,"unit":"mg"},
             "component":[{"code":{"coding":[{"system":"http://loinc.org","code":"1"}]}},
                          {"code":{"text":"other"},"valueString":"x"}]}
            """#)
        let bundle = try TestSupport.parse(
            #"""
            {"resourceType":"Bundle","type":"collection",
             "entry":[{"fullUrl":"urn:uuid:9","resource":{"resourceType":"Patient","id":"u"}}]}
            """#)
        let definitions = TestSupport.definitions
        let focus = [FHIRPathValue.resource(observation, definitions: definitions)]
        for root in [nil, bundle] {
            let environment = FHIRPathEnvironment(rootResource: root, castsCollections: true)
            for text in [
                "Observation.code | Observation.component.code", "(Observation.code.coding).distinct()",
                "Observation.code.coding | Observation.code.coding", "Observation.subject.where(resolve() is Patient)",
                "Observation.performer.where(resolve() is Patient)",
                "Observation.performer.where(resolve() is Practitioner)",
                "(Observation.value as Quantity)", "Observation.value.ofType(string)",
                "Observation.component.value as string",
                "(Observation.value as string) | (Observation.component.value as CodeableConcept).text",
                "Observation.status", "Resource.id", "DomainResource.contained",
            ] {
                let expression = try FHIRPathExpression(text)
                let path = try #require(
                    SearchPath(expression.root, resourceType: "Observation", definitions: definitions))
                let walker = FHIRPathEvaluator(
                    definitions: definitions, expression: expression, environment: environment, context: focus)
                let evaluated = try expression.evaluate(
                    focus: focus, definitions: definitions, environment: environment)
                #expect(path.evaluate(walker, focus: focus) == evaluated, "\(text)")
            }
            // `valueQuantity` is no element name: evaluating fails, and the walk leaves it to evaluating.
            let spelt = try FHIRPathExpression("Observation.valueQuantity")
            let path = try #require(SearchPath(spelt.root, resourceType: "Observation", definitions: definitions))
            let walker = FHIRPathEvaluator(
                definitions: definitions, expression: spelt, environment: environment, context: focus)
            #expect(path.evaluate(walker, focus: focus) == nil)
            #expect(throws: FHIRError.self) {
                try spelt.evaluate(focus: focus, definitions: definitions, environment: environment)
            }
        }
    }

    /// A quantity whose unit or value is beyond `Decimal`'s range once stopped the process while its
    /// canonical value was computed; it is indexed without one.
    @Test func aQuantityBeyondDecimalsRangeIsIndexedWithoutCanonicalValue() throws {
        let observation = try TestSupport.parse(
            #"""
            {"resourceType":"Observation","id":"o","status":"final","code":{"text":"x"},
             "valueQuantity":{"value":1e-100,"system":"http://unitsofmeasure.org","code":"u6"}}
            """#)
        let quantities = try Self.walking.index(observation).filter { $0.parameter.code == "value-quantity" }
        #expect(quantities.count == 1)
        guard case .quantity(_, _, let code, _, let canonical)? = quantities.first?.values.first else {
            Issue.record("no quantity value")
            return
        }
        #expect(code == "u6")
        #expect(canonical == nil)
    }
}
