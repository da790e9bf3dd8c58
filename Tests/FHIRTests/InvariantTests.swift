import Foundation
import Testing

@testable import FHIR

/// The invariants of the definitions, evaluated with the FHIRPath engine.
@Suite struct InvariantTests {
    static let interpreted = Validator(definitions: TestSupport.definitions, invariants: .interpreted)

    /// Every input the equivalence check runs over: the official examples and the broken resources.
    static func inputs() throws -> [(name: String, resource: JSON)] {
        var inputs: [(String, JSON)] = []
        for file in TestSupport.exampleFiles() {
            inputs.append((file.lastPathComponent, try JSON(parsing: Data(contentsOf: file))))
        }
        for broken in BrokenResourceTests.cases {
            if let resource = try? JSON(parsing: broken.json) { inputs.append((broken.rule, resource)) }
        }
        for broken in BrokenInvariantTests.cases { inputs.append((broken.key, try JSON(parsing: broken.json))) }
        for extra in Self.nativeRuleProbes + Self.glanceProbes { inputs.append((extra, try JSON(parsing: extra))) }
        return inputs
    }

    /// Resources aimed at the rules the validator checks natively, in the corners where a native
    /// check could drift from the FHIRPath: objects holding only an id, extensions with both or neither.
    static let nativeRuleProbes = [
        ##"{"resourceType":"Patient","name":[{"id":"n1"}]}"##,
        ##"{"resourceType":"Patient","_birthDate":{"id":"b1"}}"##,
        ##"{"resourceType":"Patient","birthDate":"2000-01-01","_birthDate":{"id":"b1"}}"##,
        ##"{"resourceType":"Patient","extension":[{"url":"http://x/a"}]}"##,
        ##"{"resourceType":"Patient","extension":[{"url":"http://x/a","valueString":"v","extension":[{"url":"b","valueCode":"c"}]}]}"##,
        ##"{"resourceType":"Patient","contained":[{"resourceType":"Patient","id":"c1","contained":[{"resourceType":"Patient","id":"c2"}]}],"link":[{"type":"seealso","other":{"reference":"#c1"}}]}"##,
        ##"{"resourceType":"Patient","contained":[{"resourceType":"Organization","id":"o1","meta":{"versionId":"2"}}],"managingOrganization":{"reference":"#o1"}}"##,
        ##"{"resourceType":"Patient","contained":[{"resourceType":"Organization","id":"o1"}]}"##,
        ##"{"resourceType":"Bundle","type":"searchset","total":1,"entry":[{"fullUrl":"http://x/Patient/1","resource":{"resourceType":"Patient","id":"1"},"search":{"mode":"match"}}]}"##,
        ##"{"resourceType":"Bundle","type":"collection","total":1}"##,
        ##"{"resourceType":"Bundle","type":"transaction","entry":[{"resource":{"resourceType":"Patient"}}]}"##,
        ##"{"resourceType":"Bundle","type":"document","entry":[{"fullUrl":"http://x/Patient/1","resource":{"resourceType":"Patient","id":"1"}}]}"##,
        ##"{"resourceType":"Bundle","type":"collection","entry":[{"fullUrl":"http://x/Patient/1","resource":{"resourceType":"Patient","id":"1"}},{"fullUrl":"http://x/Patient/1","resource":{"resourceType":"Patient","id":"1"}}]}"##,
        ##"{"resourceType":"Bundle","type":"history","entry":[{"fullUrl":"http://x/Patient/1","resource":{"resourceType":"Patient","id":"2"},"request":{"method":"PUT","url":"Patient/2"},"response":{"status":"200"}}]}"##,
        // The shortcut invariants (InvariantShortcut), each broken and each in the corners of its glance.
        ##"{"resourceType":"Patient","managingOrganization":{"reference":"#nowhere"}}"##,
        ##"{"resourceType":"Patient","managingOrganization":{"_reference":{"extension":[{"url":"http://x/a","valueString":"v"}]}}}"##,
        ##"{"resourceType":"Patient","managingOrganization":{"reference":"Organization/1"},"generalPractitioner":[{"display":"Dr"}]}"##,
        ##"{"resourceType":"Patient","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">x</div>"},"contained":[{"resourceType":"Organization","id":"o1","meta":{"security":[{"code":"R"}]}}],"managingOrganization":{"reference":"#o1"}}"##,
        ##"{"resourceType":"Patient","text":{"status":"empty"}}"##,
        ##"{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueQuantity":{"value":1,"code":"mg"}}"##,
        ##"{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueQuantity":{"value":1,"_code":{"extension":[{"url":"http://x/a","valueString":"v"}]}}}"##,
        ##"{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueQuantity":{"value":1,"code":"mg","_system":{"extension":[{"url":"http://x/a","valueString":"v"}]}}}"##,
        ##"{"resourceType":"Patient","telecom":[{"value":"555"},{"system":"phone","value":"556"},{"system":"email"}]}"##,
        ##"{"resourceType":"Patient","name":[{"family":"A","period":{"start":"2020-01-02","end":"2020-01-01"}},{"family":"B","period":{"start":"2020-01-01"}},{"family":"C","period":{"_start":{"extension":[{"url":"http://x/a","valueString":"v"}]},"end":"2020"}}]}"##,
    ]

    /// Resources in the corners of the glances (InvariantShortcut) that settle invariants from which
    /// members an object holds: choice members (`value.empty()` beside `valueString`), a primitive's
    /// `_name` alone, empty objects and arrays, nulls, and chains through objects (`text.div`).
    static let glanceProbes = [
        // `(identifier.count() + name.count()) > 0` (org-1, ipn-1): each member alone, neither, a
        // name by its `_name` alone, an empty array and a null item (the glance leaves those to FHIRPath).
        ##"{"resourceType":"Organization","active":true}"##,
        ##"{"resourceType":"Organization","name":"A"}"##,
        ##"{"resourceType":"Organization","identifier":[{"value":"1"}]}"##,
        ##"{"resourceType":"Organization","_name":{"extension":[{"url":"http://x/a","valueString":"v"}]}}"##,
        ##"{"resourceType":"Organization","identifier":[]}"##,
        ##"{"resourceType":"Organization","identifier":[null],"active":false}"##,
        ##"{"resourceType":"InsurancePlan","status":"active"}"##,
        ##"{"resourceType":"InsurancePlan","name":"Plan"}"##,
        ##"{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueString":"v","dataAbsentReason":{"text":"u"}}"##,
        ##"{"resourceType":"Observation","status":"final","code":{"text":"x"},"_valueString":{"extension":[{"url":"http://x/a","valueString":"v"}]},"dataAbsentReason":{"text":"u"}}"##,
        ##"{"resourceType":"Observation","status":"final","code":{"text":"x"},"referenceRange":[{"low":{}},{"text":"t"},{"_text":{"extension":[{"url":"http://x/a","valueString":"v"}]}},{"appliesTo":[{"text":"a"}]}]}"##,
        ##"{"resourceType":"Observation","status":"final","code":{"text":"x"},"referenceRange":[{"low":null,"high":{"value":1}},{"age":{"low":{"value":1}}}]}"##,
        ##"{"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"1"}]},"valueQuantity":{"value":1},"component":[{"code":{"text":"c"}}]}"##,
        ##"{"resourceType":"Patient","text":{"status":"generated"},"contact":[{"gender":"male"},{"name":{"family":"A"}},{"telecom":[{"value":"1"}]},{"_gender":{"extension":[{"url":"http://x/a","valueString":"v"}]}}]}"##,
        ##"{"resourceType":"Patient","text":{"status":"generated","_div":{"id":"d"}}}"##,
        ##"{"resourceType":"Patient","text":null}"##,
        ##"{"resourceType":"Patient","name":[{"period":{"start":"2020","_end":{"extension":[{"url":"http://x/a","valueString":"v"}]}}},{"period":{"start":"2021","end":"2020"}},{"period":{}}]}"##,
        ##"{"resourceType":"Patient","managingOrganization":{"display":"x"},"generalPractitioner":[{"reference":"#p"},{"reference":""}]}"##,
        ##"{"resourceType":"Medication","ingredient":[{"itemCodeableConcept":{"text":"a"},"strength":{"numerator":{"value":1,"code":"mg"}}}]}"##,
        ##"{"resourceType":"Condition","subject":{"reference":"Patient/1"},"abatementString":"x","clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"active"}]}}"##,
        ##"{"resourceType":"Condition","subject":{"reference":"Patient/1"},"_abatementString":{"id":"a1"},"verificationStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-ver-status","code":"entered-in-error"}]},"clinicalStatus":{"text":"x"}}"##,
        // What validation found of an object's members stands in for a look at its keys only when
        // every key was one of its elements: a type the choice does not allow, `_` on a choice or a
        // complex element, an unknown member, and two types of one choice.
        ##"{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueFoo":1,"dataAbsentReason":{"text":"u"}}"##,
        ##"{"resourceType":"Observation","status":"final","code":{"text":"x"},"_value":{"id":"v"},"dataAbsentReason":{"text":"u"}}"##,
        ##"{"resourceType":"Observation","status":"final","code":{"text":"x"},"value":"v","dataAbsentReason":{"text":"u"}}"##,
        ##"{"resourceType":"Condition","subject":{"reference":"Patient/1"},"abatement":"x","clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"active"}]}}"##,
        ##"{"resourceType":"Observation","status":"final","code":{"text":"x"},"_dataAbsentReason":{"id":"d"},"valueString":"v"}"##,
        ##"{"resourceType":"Observation","status":"final","code":{"text":"x"},"contained":5,"dataAbsentReason":{"text":"u"}}"##,
        ##"{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueString":"v","valueBoolean":true,"dataAbsentReason":{"text":"u"}}"##,
        ##"{"resourceType":"Observation","status":"final","code":{"text":"x"},"referenceRange":[{"lowest":{"value":1}},{"_low":{"id":"l"}}]}"##,
        ##"{"resourceType":"Patient","text":{"status":"generated","div2":"<div xmlns=\"http://www.w3.org/1999/xhtml\">x</div>"}}"##,
    ]

    /// Every constraint of the definitions is read into a glance without failing, and the common
    /// shapes are understood (a glance that decides nothing has no steps and costs nothing).
    @Test func glancesReadTheCommonInvariants() {
        let definitions = TestSupport.definitions
        var decided: Set<String> = []
        for (constraint, shortcut) in zip(definitions.constraints, definitions.shortcuts) {
            if !shortcut.steps.isEmpty { decided.insert(constraint.key) }
        }
        for key in [
            "obs-3", "obs-6", "obs-7", "dom-5", "dom-6", "qty-3", "cpt-2", "per-1", "ref-1", "pat-1", "org-1", "ipn-1",
            "cpb-2",
        ] {
            #expect(decided.contains(key), "\(key) has no glance")
        }
    }

    @Test func everyConstraintAndSearchParameterCompilesWithItsTypesChecked() {
        let definitions = TestSupport.definitions
        for (constraint, compiled) in zip(definitions.constraints, definitions.compiledConstraints) {
            #expect((try? compiled.get())?.hasVerifiedTypes == true, "\(constraint.key): \(constraint.expression)")
        }
        for parameter in definitions.searchParameters {
            guard let expression = parameter.expression else { continue }
            #expect(throws: Never.self, "\(parameter.url)") {
                _ = try FHIRPathExpression(expression, definitions: definitions)
            }
        }
        #expect(definitions.constraints.count > 200 && definitions.searchParameters.count > 1000)
    }

    /// The native checks of `ele-1`, `ext-1`, `dom-*` and `bdl-*`, and the glances that settle other
    /// invariants (InvariantShortcut), reach the same verdict as their FHIRPath: for every input, the
    /// same rules are broken the same number of times, every rule compared.
    @Test func nativeChecksAgreeWithTheFHIRPathOfTheirRules() throws {
        var checked = 0
        var broken: Set<String> = []
        for (name, resource) in try Self.inputs() {
            func keys(_ outcome: OperationOutcome) -> [String] {
                outcome.issues.compactMap(\.constraintKey).sorted()
            }
            let native = keys(TestSupport.validator.validate(resource))
            let interpreted = keys(Self.interpreted.validate(resource))
            #expect(native == interpreted, "\(name): native \(native), FHIRPath \(interpreted)")
            checked += native.count
            broken.formUnion(interpreted)
        }
        #expect(checked >= 15, "the probes must break the native rules, or the comparison shows nothing")
        for key in [
            "ref-1", "dom-5", "dom-6", "qty-3", "cpt-2", "per-1", "obs-3", "obs-6", "obs-7", "pat-1", "org-1", "ipn-1",
        ] {
            #expect(broken.contains(key), "no input breaks \(key)")
        }
    }
}

/// Resources that each break one invariant of the definitions, found by the FHIRPath engine.
@Suite struct BrokenInvariantTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var key: String
        var expression: String
        var json: String
        var testDescription: String { key }
    }

    static let observation = ##""resourceType":"Observation","status":"final","code":{"text":"t"}"##
    static let medicationRequest =
        ##""resourceType":"MedicationRequest","status":"active","intent":"order","medicationCodeableConcept":{"text":"m"},"subject":{"reference":"Patient/1"}"##
    static let condition = ##""resourceType":"Condition","subject":{"reference":"Patient/1"}"##
    static let allergy = ##""resourceType":"AllergyIntolerance","patient":{"reference":"Patient/1"}"##
    static let appointment =
        ##""resourceType":"Appointment","participant":[{"actor":{"reference":"Patient/1"},"status":"accepted"}]"##
    static let loinc = ##"{"coding":[{"system":"http://loinc.org","code":"8480-6"}]}"##
    static let verification = "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification"
    static let allergyClinical = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
    static let conditionVerification = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
    static let conditionClinical = "http://terminology.hl7.org/CodeSystem/condition-clinical"

    static let cases: [Case] = [
        Case(
            key: "obs-6", expression: "Observation",
            json: ##"{\##(observation),"valueString":"x","dataAbsentReason":{"text":"unknown"}}"##),
        Case(
            key: "obs-7", expression: "Observation",
            json:
                ##"{"resourceType":"Observation","status":"final","code":\##(loinc),"valueQuantity":{"value":1},"component":[{"code":\##(loinc),"valueQuantity":{"value":1}}]}"##
        ),
        Case(
            key: "pat-1", expression: "Patient.contact[0]",
            json: ##"{"resourceType":"Patient","contact":[{"gender":"male"}]}"##),
        Case(
            key: "per-1", expression: "Patient.name[0].period",
            json:
                ##"{"resourceType":"Patient","name":[{"family":"A","period":{"start":"2020-01-01","end":"2019-01-01"}}]}"##
        ),
        Case(
            key: "qty-3", expression: "Observation.value.ofType(Quantity)",
            json: ##"{\##(observation),"valueQuantity":{"value":1,"code":"mg"}}"##),
        Case(
            key: "att-1", expression: "Patient.photo[0]",
            json: ##"{"resourceType":"Patient","photo":[{"data":"aGVsbG8="}]}"##),
        Case(
            key: "cpt-2", expression: "Patient.telecom[0]",
            json: ##"{"resourceType":"Patient","telecom":[{"value":"555"}]}"##),
        Case(
            key: "dom-5", expression: "Patient",
            json:
                ##"{"resourceType":"Patient","contained":[{"resourceType":"Organization","id":"o1","name":"O","meta":{"security":[{"code":"R"}]}}],"managingOrganization":{"reference":"#o1"}}"##
        ),
        Case(
            key: "ait-1", expression: "AllergyIntolerance",
            json:
                ##"{\##(allergy),"verificationStatus":{"coding":[{"system":"\##(verification)","code":"confirmed"}]}}"##
        ),
        Case(
            key: "ait-2", expression: "AllergyIntolerance",
            json:
                ##"{\##(allergy),"verificationStatus":{"coding":[{"system":"\##(verification)","code":"entered-in-error"}]},"clinicalStatus":{"coding":[{"system":"\##(allergyClinical)","code":"active"}]}}"##
        ),
        Case(
            key: "con-4", expression: "Condition",
            json:
                ##"{\##(condition),"abatementDateTime":"2020-01-01","clinicalStatus":{"coding":[{"system":"\##(conditionClinical)","code":"active"}]}}"##
        ),
        Case(
            key: "con-5", expression: "Condition",
            json:
                ##"{\##(condition),"verificationStatus":{"coding":[{"system":"\##(conditionVerification)","code":"entered-in-error"}]},"clinicalStatus":{"coding":[{"system":"\##(conditionClinical)","code":"active"}]}}"##
        ),
        Case(
            key: "tim-1", expression: "MedicationRequest.dosageInstruction[0].timing.repeat",
            json: ##"{\##(medicationRequest),"dosageInstruction":[{"timing":{"repeat":{"duration":5}}}]}"##),
        Case(
            key: "tim-4", expression: "MedicationRequest.dosageInstruction[0].timing.repeat",
            json:
                ##"{\##(medicationRequest),"dosageInstruction":[{"timing":{"repeat":{"duration":-1,"durationUnit":"h"}}}]}"##
        ),
        Case(
            key: "tim-6", expression: "MedicationRequest.dosageInstruction[0].timing.repeat",
            json:
                ##"{\##(medicationRequest),"dosageInstruction":[{"timing":{"repeat":{"periodMax":4,"periodUnit":"h"}}}]}"##
        ),
        Case(
            key: "tim-8", expression: "MedicationRequest.dosageInstruction[0].timing.repeat",
            json: ##"{\##(medicationRequest),"dosageInstruction":[{"timing":{"repeat":{"countMax":4}}}]}"##),
        Case(
            key: "rng-2", expression: "Observation.value.ofType(Range)",
            json: ##"{\##(observation),"valueRange":{"low":{"value":10},"high":{"value":5}}}"##),
        Case(
            key: "rat-1", expression: "Observation.value.ofType(Ratio)",
            json: ##"{\##(observation),"valueRatio":{"numerator":{"value":1}}}"##),
        Case(
            key: "app-2", expression: "Appointment",
            json: ##"{\##(appointment),"status":"proposed","start":"2020-01-01T10:00:00Z"}"##),
        Case(key: "app-3", expression: "Appointment", json: ##"{\##(appointment),"status":"booked"}"##),
        Case(
            key: "gol-1", expression: "Goal.target[0]",
            json:
                ##"{"resourceType":"Goal","lifecycleStatus":"active","description":{"text":"d"},"subject":{"reference":"Patient/1"},"target":[{"detailQuantity":{"value":5}}]}"##
        ),
        Case(key: "org-1", expression: "Organization", json: ##"{"resourceType":"Organization","active":true}"##),
        Case(
            key: "txt-1", expression: "Patient.text.div",
            json:
                ##"{"resourceType":"Patient","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\"><script>alert(1)</script></div>"}}"##
        ),
        Case(
            key: "age-1", expression: "Condition.onset.ofType(Age)",
            json: ##"{\##(condition),"onsetAge":{"value":5,"unit":"years"}}"##),
        Case(
            key: "mdd-1", expression: "MedicationDispense",
            json:
                ##"{"resourceType":"MedicationDispense","status":"completed","medicationCodeableConcept":{"text":"m"},"whenPrepared":"2020-01-02T10:00:00Z","whenHandedOver":"2020-01-01T10:00:00Z"}"##
        ),
    ]

    @Test(arguments: cases)
    func theBrokenInvariantIsReportedWithItsKeyAndLocation(_ test: Case) throws {
        let outcome = TestSupport.validator.validate(try JSON(parsing: test.json))
        let broken = outcome.errors.filter { $0.constraintKey == test.key }
        #expect(
            !broken.isEmpty, "\(test.key) not reported: \(outcome.issues.map { "\($0.expression): \($0.diagnostics)" })"
        )
        #expect(broken.allSatisfy { $0.code == "invariant" && $0.expression == test.expression }, "\(broken)")
        let others = outcome.errors.filter {
            $0.constraintKey != test.key && !($0.constraintKey ?? "").hasPrefix("txt-")
        }
        #expect(
            others.isEmpty,
            "other errors: \(others.map { "\($0.constraintKey ?? "-") \($0.expression): \($0.diagnostics)" })")
    }

    @Test func theResourcesAreValidOnceTheInvariantHolds() throws {
        let fixed = [
            ##"{\##(Self.observation),"valueString":"x"}"##,
            ##"{"resourceType":"Patient","contact":[{"gender":"male","name":{"family":"B"}}]}"##,
            ##"{"resourceType":"Patient","name":[{"family":"A","period":{"start":"2019-01-01","end":"2020-01-01"}}]}"##,
            ##"{\##(Self.observation),"valueQuantity":{"value":1,"code":"mg","system":"http://unitsofmeasure.org"}}"##,
            ##"{\##(Self.appointment),"status":"proposed"}"##,
            ##"{"resourceType":"Patient","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>Ann</p></div>"}}"##,
        ]
        for json in fixed {
            let outcome = TestSupport.validator.validate(try JSON(parsing: json))
            #expect(outcome.errors.isEmpty, "\(json): \(outcome.errors.map(\.diagnostics))")
        }
    }
}

@Suite struct NarrativeChecksTests {
    @Test(arguments: [
        ("<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>Ann <b>Lee</b></p></div>", true),
        ("<div xmlns=\"http://www.w3.org/1999/xhtml\"><img src=\"#photo\"/></div>", true),
        ("<div xmlns=\"http://www.w3.org/1999/xhtml\">   </div>", false),
        ("<div xmlns=\"http://www.w3.org/1999/xhtml\"><script>x()</script></div>", false),
        ("<div xmlns=\"http://www.w3.org/1999/xhtml\"><p onclick=\"x()\">a</p></div>", false),
        ("<div xmlns=\"http://www.w3.org/1999/xhtml\"><a href=\"javascript:x()\">a</a></div>", false),
        ("<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>unclosed</div>", false),
        ("<div><p>no namespace</p></div>", false),
        ("<p xmlns=\"http://www.w3.org/1999/xhtml\">not a div</p>", false),
    ])
    func htmlChecksAcceptsOnlySafeNarrative(_ xhtml: String, _ isSafe: Bool) throws {
        let patient: JSON = ["resourceType": "Patient", "text": ["status": "generated", "div": .string(xhtml)]]
        let result = try FHIRPathExpression("text.div.htmlChecks()").evaluate(
            on: patient, definitions: TestSupport.definitions)
        #expect(result == [.boolean(isSafe)])
    }
}

/// A node's slot lookup (a hash table by a name's length and end bytes) finds every slot of every
/// node of the definitions by its name, and nothing for names it does not hold, however close.
@Suite struct SlotLookupTests {
    @Test func everySlotOfEveryNodeIsFoundByItsNameAndNoOtherName() {
        let definitions = TestSupport.definitions
        var looked = 0
        for node in definitions.nodeList {
            let names = Set(node.slots.map(\.name))
            for slot in node.slots {
                #expect(node.slot(named: slot.name) === slot, "\(node.key).\(slot.name)")
                for near in [slot.name + "x", String(slot.name.dropLast()), "_" + slot.name, slot.name.uppercased()]
                where !names.contains(near) {
                    #expect(node.slot(named: near) == nil, "\(node.key): '\(near)'")
                }
                looked += 1
            }
            #expect(node.slot(named: "") == nil)
        }
        #expect(looked > 5_000)
    }

    @Test func everyResourceTypeIsFoundByItsBytesAndNoOtherName() {
        let definitions = TestSupport.definitions
        for name in definitions.resourceTypeNames {
            #expect(Array(name.utf8).withUnsafeBufferPointer(definitions.resourceTypeName(bytes:)) == name)
            for near in [name + "s", String(name.dropLast()), name.lowercased(), "X" + name.dropFirst()]
            where !definitions.resourceTypeNames.contains(near) {
                #expect(
                    Array(near.utf8).withUnsafeBufferPointer(definitions.resourceTypeName(bytes:)) == nil, "\(near)")
            }
        }
        #expect(definitions.resourceTypeNames.count == 148)  // 146, Resource and DomainResource
        #expect([UInt8]().withUnsafeBufferPointer(definitions.resourceTypeName(bytes:)) == nil)
    }

    /// What validation looks a resource type up for: every concrete type with its own node and root
    /// element, the two abstract ones and other names not at all.
    @Test func everyConcreteResourceTypeIsFoundWithItsNode() {
        let definitions = TestSupport.definitions
        var found = 0
        for name in definitions.resourceTypeNames {
            let resource = definitions.concreteResource(named: name)
            let type = definitions.types[name]
            if type?.isAbstract == true {
                #expect(resource == nil, "\(name)")
                continue
            }
            #expect(resource?.node === definitions.node(name), "\(name)")
            #expect(resource?.rootElement?.path == name, "\(name)")
            found += 1
            for near in [name + "s", String(name.dropLast()), name.lowercased()]
            where !definitions.resourceTypeNames.contains(near) {
                #expect(definitions.concreteResource(named: near) == nil, "\(near)")
            }
        }
        #expect(found == 146)
        for name in ["HumanName", "string", "Element", ""] { #expect(definitions.concreteResource(named: name) == nil) }
    }
}
