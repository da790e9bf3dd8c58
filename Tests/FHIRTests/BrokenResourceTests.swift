import FHIR
import Testing

/// Deliberately broken resources, at least one for every rule the validator checks.
@Suite struct BrokenResourceTests {
    struct Broken: Sendable, CustomTestStringConvertible {
        var rule: String
        var json: String
        var code: String
        var expression: String
        var key: String? = nil
        var testDescription: String { rule }
    }

    static let patient = #""resourceType":"Patient","id":"p1""#
    static let observation = #""resourceType":"Observation","id":"o1","status":"final","code":{"text":"t"}"#

    static let cases: [Broken] = [
        // Resource type and JSON shape.
        Broken(
            rule: "unknown resourceType", json: #"{"resourceType":"Patientt"}"#, code: "invalid", expression: "Patientt"
        ),
        Broken(
            rule: "abstract resourceType", json: #"{"resourceType":"DomainResource"}"#, code: "invalid",
            expression: "DomainResource"),
        Broken(rule: "missing resourceType", json: #"{"id":"x"}"#, code: "required", expression: "Resource"),
        Broken(rule: "resource not an object", json: #"["Patient"]"#, code: "structure", expression: "Resource"),
        Broken(
            rule: "object where array expected", json: "{\(patient),\"name\":{\"family\":\"A\"}}", code: "structure",
            expression: "Patient.name"),
        Broken(
            rule: "array where single expected", json: "{\(patient),\"gender\":[\"male\"]}", code: "structure",
            expression: "Patient.gender"),
        Broken(
            rule: "string where object expected", json: "{\(patient),\"maritalStatus\":\"M\"}", code: "structure",
            expression: "Patient.maritalStatus"),
        Broken(
            rule: "number where boolean expected", json: "{\(patient),\"active\":1}", code: "structure",
            expression: "Patient.active"),
        Broken(
            rule: "string where boolean expected", json: "{\(patient),\"active\":\"true\"}", code: "structure",
            expression: "Patient.active"),
        Broken(
            rule: "string where integer expected", json: "{\(patient),\"multipleBirthInteger\":\"2\"}",
            code: "structure", expression: "Patient.multipleBirth.ofType(integer)"),
        Broken(rule: "empty array", json: "{\(patient),\"name\":[]}", code: "structure", expression: "Patient.name"),
        Broken(
            rule: "empty object", json: "{\(patient),\"name\":[{}]}", code: "structure", expression: "Patient.name[0]",
            key: "ele-1"),
        Broken(
            rule: "null value without extension", json: "{\(patient),\"name\":[{\"given\":[\"A\",null]}]}",
            code: "structure", expression: "Patient.name[0].given[1]"),
        Broken(
            rule: "misaligned primitive extensions",
            json: "{\(patient),\"name\":[{\"given\":[\"A\",\"B\"],\"_given\":[null]}]}", code: "structure",
            expression: "Patient.name[0].given"),
        // Unknown elements.
        Broken(
            rule: "unknown element", json: "{\(patient),\"nickname\":\"Bob\"}", code: "structure",
            expression: "Patient.nickname"),
        Broken(
            rule: "unknown nested element", json: "{\(patient),\"name\":[{\"family\":\"A\",\"middle\":\"B\"}]}",
            code: "structure", expression: "Patient.name[0].middle"),
        Broken(
            rule: "underscore on a complex element", json: "{\(patient),\"_name\":{\"id\":\"x\"}}", code: "structure",
            expression: "Patient._name"),
        // Cardinality.
        Broken(
            rule: "required element missing", json: #"{"resourceType":"Observation","code":{"text":"t"}}"#,
            code: "required", expression: "Observation.status"),
        Broken(
            rule: "required backbone element missing",
            json: #"{"resourceType":"Bundle","type":"collection","link":[{"relation":"self"}]}"#, code: "required",
            expression: "Bundle.link[0].url"),
        Broken(
            rule: "required element in a data type",
            json: #"{"resourceType":"Patient","extension":[{"valueString":"x"}]}"#, code: "required",
            expression: "Patient.extension[0].url"),
        // Primitive formats.
        Broken(
            rule: "id format", json: #"{"resourceType":"Patient","id":"p_1"}"#, code: "value", expression: "Patient.id"),
        Broken(
            rule: "id length", json: "{\"resourceType\":\"Patient\",\"id\":\"\(String(repeating: "a", count: 65))\"}",
            code: "value", expression: "Patient.id"),
        Broken(
            rule: "date format", json: "{\(patient),\"birthDate\":\"1970-13-01\"}", code: "value",
            expression: "Patient.birthDate"),
        Broken(
            rule: "date that does not exist", json: "{\(patient),\"birthDate\":\"2021-02-29\"}", code: "value",
            expression: "Patient.birthDate"),
        Broken(
            rule: "dateTime with time but no zone",
            json: "{\(observation),\"effectiveDateTime\":\"2020-01-01T10:00:00\"}", code: "value",
            expression: "Observation.effective.ofType(dateTime)"),
        Broken(
            rule: "instant without seconds", json: "{\(observation),\"issued\":\"2020-01-01T10:00Z\"}", code: "value",
            expression: "Observation.issued"),
        Broken(
            rule: "time format",
            json: #"{"resourceType":"Observation","status":"final","code":{"text":"t"},"valueTime":"25:00:00"}"#,
            code: "value", expression: "Observation.value.ofType(time)"),
        Broken(
            rule: "decimal format",
            json: "{\(observation),\"valueQuantity\":{\"value\":01.5}}".replacingOccurrences(
                of: "01.5", with: "\"1.5\""), code: "structure", expression: "Observation.value.ofType(Quantity).value"),
        Broken(
            rule: "integer format", json: "{\(patient),\"multipleBirthInteger\":1.5}", code: "value",
            expression: "Patient.multipleBirth.ofType(integer)"),
        Broken(
            rule: "integer range", json: "{\(patient),\"multipleBirthInteger\":2147483648}", code: "value",
            expression: "Patient.multipleBirth.ofType(integer)"),
        Broken(
            rule: "positiveInt zero",
            json: #"{"resourceType":"Patient","photo":[{"size":0,"contentType":"image/png"}]}"#.replacingOccurrences(
                of: "\"size\":0", with: "\"size\":-1"), code: "value", expression: "Patient.photo[0].size"),
        Broken(
            rule: "positiveInt",
            json:
                #"{"resourceType":"ImmunizationRecommendation","patient":{"reference":"Patient/1"},"date":"2020","recommendation":[{"targetDisease":{"text":"x"},"forecastStatus":{"text":"x"},"doseNumberPositiveInt":0}]}"#,
            code: "value", expression: "ImmunizationRecommendation.recommendation[0].doseNumber.ofType(positiveInt)"),
        Broken(
            rule: "uri with whitespace", json: "{\(patient),\"identifier\":[{\"system\":\"http://a b\"}]}",
            code: "value", expression: "Patient.identifier[0].system"),
        Broken(
            rule: "url empty", json: "{\(patient),\"photo\":[{\"url\":\"\"}]}", code: "value",
            expression: "Patient.photo[0].url"),
        Broken(
            rule: "canonical with whitespace",
            json: #"{"resourceType":"Questionnaire","status":"draft","derivedFrom":["http://x/ q"]}"#, code: "value",
            expression: "Questionnaire.derivedFrom[0]"),
        Broken(
            rule: "code with double space", json: "{\(patient),\"gender\":\"ma  le\"}", code: "value",
            expression: "Patient.gender"),
        Broken(
            rule: "code with leading space", json: "{\(patient),\"gender\":\" male\"}", code: "value",
            expression: "Patient.gender"),
        Broken(
            rule: "base64Binary", json: "{\(patient),\"photo\":[{\"data\":\"abc!\"}]}", code: "value",
            expression: "Patient.photo[0].data"),
        Broken(
            rule: "base64Binary length", json: "{\(patient),\"photo\":[{\"data\":\"abcde\"}]}", code: "value",
            expression: "Patient.photo[0].data"),
        Broken(
            rule: "markdown empty", json: #"{"resourceType":"Questionnaire","status":"draft","description":""}"#,
            code: "value", expression: "Questionnaire.description"),
        Broken(
            rule: "string with control character", json: "{\(patient),\"name\":[{\"family\":\"A\\u0007B\"}]}",
            code: "value", expression: "Patient.name[0].family"),
        Broken(
            rule: "empty string", json: "{\(patient),\"name\":[{\"family\":\"\"}]}", code: "value",
            expression: "Patient.name[0].family"),
        Broken(
            rule: "narrative not a div", json: "{\(patient),\"text\":{\"status\":\"generated\",\"div\":\"<p>x</p>\"}}",
            code: "value", expression: "Patient.text.div"),
        // Choice types.
        Broken(
            rule: "two choices of one element",
            json: "{\(patient),\"deceasedBoolean\":true,\"deceasedDateTime\":\"2020\"}", code: "structure",
            expression: "Patient.deceased.ofType(dateTime)"),
        // One type's value, another's id and extensions (`_valueString`), in either order.
        Broken(
            rule: "a choice's value beside another type's extensions",
            json:
                "{\(observation),\"valueInteger\":3,\"_valueString\":{\"extension\":[{\"url\":\"http://x\",\"valueString\":\"y\"}]}}",
            code: "structure", expression: "Observation.value"),
        Broken(
            rule: "a choice's extensions beside another type's value",
            json:
                "{\(observation),\"_valueString\":{\"extension\":[{\"url\":\"http://x\",\"valueString\":\"y\"}]},\"valueInteger\":3}",
            code: "structure", expression: "Observation.value.ofType(integer)"),
        Broken(
            rule: "choice type not allowed", json: "{\(patient),\"deceasedString\":\"yes\"}", code: "structure",
            expression: "Patient.deceasedString"),
        // Required bindings.
        Broken(
            rule: "code not in required value set", json: "{\(patient),\"gender\":\"M\"}", code: "code-invalid",
            expression: "Patient.gender"),
        Broken(
            rule: "status not in required value set",
            json: #"{"resourceType":"Observation","status":"done","code":{"text":"t"}}"#, code: "code-invalid",
            expression: "Observation.status"),
        Broken(
            rule: "CodeableConcept not in required value set",
            json:
                #"{"resourceType":"AllergyIntolerance","patient":{"reference":"Patient/1"},"clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical","code":"current"}]}}"#,
            code: "code-invalid", expression: "AllergyIntolerance.clinicalStatus"),
        Broken(
            rule: "CodeableConcept with a required binding but only text",
            json:
                #"{"resourceType":"Condition","subject":{"reference":"Patient/1"},"clinicalStatus":{"text":"active"}}"#,
            code: "code-invalid", expression: "Condition.clinicalStatus"),
        Broken(
            rule: "CodeableConcept coding from the wrong system",
            json:
                #"{"resourceType":"Condition","subject":{"reference":"Patient/1"},"clinicalStatus":{"coding":[{"system":"http://snomed.info/sct","code":"active"}]}}"#,
            code: "code-invalid", expression: "Condition.clinicalStatus"),
        Broken(
            rule: "data type used as a resource", json: #"{"resourceType":"Timing","id":"x"}"#, code: "invalid",
            expression: "Timing"),
        Broken(
            rule: "mime type", json: "{\(patient),\"photo\":[{\"contentType\":\"png\"}]}", code: "code-invalid",
            expression: "Patient.photo[0].contentType"),
        // References.
        Broken(
            rule: "reference to unknown type", json: "{\(observation),\"subject\":{\"reference\":\"Patiant/1\"}}",
            code: "value", expression: "Observation.subject.reference"),
        Broken(
            rule: "reference of the wrong type", json: "{\(observation),\"subject\":{\"reference\":\"Observation/1\"}}",
            code: "invalid", expression: "Observation.subject.reference"),
        Broken(
            rule: "reference with a bad id", json: "{\(observation),\"subject\":{\"reference\":\"Patient/a_b\"}}",
            code: "value", expression: "Observation.subject.reference"),
        Broken(
            rule: "reference of another form", json: "{\(observation),\"subject\":{\"reference\":\"Patient/1/2\"}}",
            code: "value", expression: "Observation.subject.reference"),
        Broken(
            rule: "malformed urn:uuid reference",
            json: "{\(observation),\"subject\":{\"reference\":\"urn:uuid:1234\"}}", code: "value",
            expression: "Observation.subject.reference"),
        Broken(
            rule: "contained reference that does not resolve",
            json:
                "{\(observation),\"subject\":{\"reference\":\"#p\"},\"contained\":[{\"resourceType\":\"Patient\",\"id\":\"q\"}]}",
            code: "invariant", expression: "Observation.contained[0]", key: "dom-3"),
        // Extensions.
        Broken(
            rule: "extension with value and nested extensions",
            json:
                "{\(patient),\"extension\":[{\"url\":\"http://x\",\"valueString\":\"a\",\"extension\":[{\"url\":\"y\",\"valueString\":\"b\"}]}]}",
            code: "invariant", expression: "Patient.extension[0]", key: "ext-1"),
        Broken(
            rule: "extension with neither value nor nested",
            json: "{\(patient),\"extension\":[{\"url\":\"http://x\"}]}", code: "invariant",
            expression: "Patient.extension[0]", key: "ext-1"),
        Broken(
            rule: "primitive extension without url",
            json: "{\(patient),\"birthDate\":\"1970\",\"_birthDate\":{\"extension\":[{\"valueString\":\"x\"}]}}",
            code: "required", expression: "Patient.birthDate.extension[0].url"),
        Broken(
            rule: "modifierExtension with a bad value",
            json: "{\(patient),\"modifierExtension\":[{\"url\":\"http://x\",\"valueBoolean\":\"yes\"}]}",
            code: "structure", expression: "Patient.modifierExtension[0].value.ofType(boolean)"),
        // Contained resources.
        Broken(
            rule: "contained resource without id",
            json: "{\(observation),\"contained\":[{\"resourceType\":\"Patient\"}]}", code: "required",
            expression: "Observation.contained[0]"),
        Broken(
            rule: "nested contained resources",
            json:
                "{\(observation),\"subject\":{\"reference\":\"#p\"},\"contained\":[{\"resourceType\":\"Patient\",\"id\":\"p\",\"contained\":[{\"resourceType\":\"Patient\",\"id\":\"q\"}]}]}",
            code: "invariant", expression: "Observation.contained[0]", key: "dom-2"),
        Broken(
            rule: "contained resource with versionId",
            json:
                "{\(observation),\"subject\":{\"reference\":\"#p\"},\"contained\":[{\"resourceType\":\"Patient\",\"id\":\"p\",\"meta\":{\"versionId\":\"1\"}}]}",
            code: "invariant", expression: "Observation.contained[0]", key: "dom-4"),
        Broken(
            rule: "invalid contained resource",
            json:
                "{\(observation),\"subject\":{\"reference\":\"#p\"},\"contained\":[{\"resourceType\":\"Patient\",\"id\":\"p\",\"gender\":\"x\"}]}",
            code: "code-invalid", expression: "Observation.contained[0].gender"),
        // Bundles.
        Broken(
            rule: "transaction entry without request",
            json:
                #"{"resourceType":"Bundle","type":"transaction","entry":[{"fullUrl":"urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a","resource":{"resourceType":"Patient"}}]}"#,
            code: "invariant", expression: "Bundle.entry[0]", key: "bdl-3"),
        Broken(
            rule: "collection entry with request",
            json:
                #"{"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"Patient"},"request":{"method":"POST","url":"Patient"}}]}"#,
            code: "invariant", expression: "Bundle.entry[0]", key: "bdl-3"),
        Broken(
            rule: "batch-response entry without response",
            json:
                #"{"resourceType":"Bundle","type":"batch-response","entry":[{"resource":{"resourceType":"Patient"}}]}"#,
            code: "invariant", expression: "Bundle.entry[0]", key: "bdl-4"),
        Broken(
            rule: "total outside a searchset", json: #"{"resourceType":"Bundle","type":"collection","total":1}"#,
            code: "invariant", expression: "Bundle", key: "bdl-1"),
        Broken(
            rule: "search outside a searchset",
            json:
                #"{"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"Patient"},"search":{"mode":"match"}}]}"#,
            code: "invariant", expression: "Bundle.entry[0]", key: "bdl-2"),
        Broken(
            rule: "duplicate fullUrl",
            json:
                #"{"resourceType":"Bundle","type":"collection","entry":[{"fullUrl":"http://x/Patient/1","resource":{"resourceType":"Patient","id":"1"}},{"fullUrl":"http://x/Patient/1","resource":{"resourceType":"Patient","id":"1"}}]}"#,
            code: "invariant", expression: "Bundle.entry[1]", key: "bdl-7"),
        Broken(
            rule: "versioned fullUrl",
            json:
                #"{"resourceType":"Bundle","type":"collection","entry":[{"fullUrl":"http://x/Patient/1/_history/2","resource":{"resourceType":"Patient","id":"1"}}]}"#,
            code: "invariant", expression: "Bundle.entry[0]", key: "bdl-8"),
        Broken(
            rule: "fullUrl that does not match the resource",
            json:
                #"{"resourceType":"Bundle","type":"collection","entry":[{"fullUrl":"http://x/Patient/2","resource":{"resourceType":"Patient","id":"1"}}]}"#,
            code: "invalid", expression: "Bundle.entry[0].fullUrl"),
        Broken(
            rule: "document without Composition first",
            json:
                #"{"resourceType":"Bundle","type":"document","identifier":{"system":"urn:ietf:rfc:3986","value":"urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a"},"timestamp":"2020-01-01T00:00:00Z","entry":[{"resource":{"resourceType":"Patient"}}]}"#,
            code: "invariant", expression: "Bundle", key: "bdl-11"),
        Broken(
            rule: "document without identifier",
            json:
                #"{"resourceType":"Bundle","type":"document","timestamp":"2020-01-01T00:00:00Z","entry":[{"resource":{"resourceType":"Composition","status":"final","type":{"text":"x"},"date":"2020","author":[{"display":"x"}],"title":"t"}}]}"#,
            code: "invariant", expression: "Bundle", key: "bdl-9"),
        Broken(
            rule: "message without MessageHeader first",
            json: #"{"resourceType":"Bundle","type":"message","entry":[{"resource":{"resourceType":"Patient"}}]}"#,
            code: "invariant", expression: "Bundle", key: "bdl-12"),
        Broken(
            rule: "urn:uuid reference that resolves to no entry",
            json:
                #"{"resourceType":"Bundle","type":"transaction","entry":[{"fullUrl":"urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a","resource":{"resourceType":"Observation","status":"final","code":{"text":"t"},"subject":{"reference":"urn:uuid:00000000-0000-0000-0000-000000000000"}},"request":{"method":"POST","url":"Observation"}}]}"#,
            code: "not-found", expression: "Bundle.entry[0].resource.subject.reference"),
        Broken(
            rule: "urn:uuid reference that resolves to the wrong type",
            json:
                #"{"resourceType":"Bundle","type":"transaction","entry":[{"fullUrl":"urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a","resource":{"resourceType":"Observation","status":"final","code":{"text":"t"},"subject":{"reference":"urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a"}},"request":{"method":"POST","url":"Observation"}}]}"#,
            code: "invalid", expression: "Bundle.entry[0].resource.subject.reference"),
        Broken(
            rule: "urn:uuid reference to a later entry of the wrong type",
            json:
                #"{"resourceType":"Bundle","type":"transaction","entry":[{"fullUrl":"urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a","resource":{"resourceType":"Observation","status":"final","code":{"text":"t"},"subject":{"reference":"urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0b"}},"request":{"method":"POST","url":"Observation"}},{"fullUrl":"urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0b","resource":{"resourceType":"Medication"},"request":{"method":"POST","url":"Medication"}}]}"#,
            code: "invalid", expression: "Bundle.entry[0].resource.subject.reference"),
        Broken(
            rule: "transaction PUT url that does not match the resource",
            json:
                #"{"resourceType":"Bundle","type":"transaction","entry":[{"resource":{"resourceType":"Patient","id":"1"},"request":{"method":"PUT","url":"Patient/2"}}]}"#,
            code: "invalid", expression: "Bundle.entry[0].request"),
        Broken(
            rule: "transaction POST of the wrong type",
            json:
                #"{"resourceType":"Bundle","type":"transaction","entry":[{"resource":{"resourceType":"Patient"},"request":{"method":"POST","url":"Observation"}}]}"#,
            code: "invalid", expression: "Bundle.entry[0].request"),
        Broken(
            rule: "transaction POST without resource",
            json:
                #"{"resourceType":"Bundle","type":"transaction","entry":[{"request":{"method":"POST","url":"Patient"}}]}"#,
            code: "required", expression: "Bundle.entry[0].request"),
        Broken(
            rule: "invalid resource inside a Bundle",
            json:
                #"{"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"Patient","birthDate":"1970-02-30"}}]}"#,
            code: "value", expression: "Bundle.entry[0].resource.birthDate"),
        Broken(
            rule: "invalid resource in a nested Bundle",
            json:
                #"{"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"Patient","gender":"f"}}]}}]}"#,
            code: "code-invalid", expression: "Bundle.entry[0].resource.entry[0].resource.gender"),
        Broken(
            rule: "request method not in value set",
            json: #"{"resourceType":"Bundle","type":"batch","entry":[{"request":{"method":"FETCH","url":"Patient"}}]}"#,
            code: "code-invalid", expression: "Bundle.entry[0].request.method"),
        Broken(
            rule: "SimpleQuantity with comparator",
            json:
                #"{"resourceType":"MedicationRequest","status":"active","intent":"order","medicationCodeableConcept":{"text":"x"},"subject":{"reference":"Patient/1"},"dispenseRequest":{"quantity":{"value":1,"comparator":"<"}}}"#,
            code: "invariant", expression: "MedicationRequest.dispenseRequest.quantity", key: "sqty-1"),
        Broken(
            rule: "transaction POST with an empty url (a fuzzer finding that once crashed the validator)",
            json:
                #"{"resourceType":"Bundle","type":"transaction","entry":[{"fullUrl":"urn:uuid:0c4f4d8e-3f57-4a8e-9a51-2b9d0f7d4a11","resource":{"resourceType":"Observation","status":"final","code":{"text":"x"}},"request":{"method":"POST","url":""}}]}"#,
            code: "invalid", expression: "Bundle.entry[0].request"),
        Broken(
            rule: "an empty MIME type",
            json:
                #"{"resourceType":"DocumentReference","status":"current","content":[{"attachment":{"contentType":""}}]}"#,
            code: "value", expression: "DocumentReference.content[0].attachment.contentType"),
    ]

    @Test func thereAreAtLeastFortyCases() {
        #expect(Self.cases.count >= 40)
    }

    @Test(arguments: cases)
    func brokenResourceIsRejectedWithTheRightCodeAndLocation(_ example: Broken) throws {
        let outcome = TestSupport.validator.validate(try JSON(parsing: example.json))
        #expect(!outcome.isValid, "\(example.rule) was accepted")
        let match = outcome.errors.first { $0.code == example.code && $0.expression == example.expression }
        #expect(
            match != nil,
            "\(example.rule): expected \(example.code) at \(example.expression), got \(outcome.errors.map { "\($0.code) \($0.expression): \($0.diagnostics)" })"
        )
        if let key = example.key { #expect(match?.constraintKey == key) }
    }

    @Test func fixingTheBrokenPartMakesItValid() throws {
        let broken = try JSON(parsing: #"{"resourceType":"Patient","gender":"M","birthDate":"1970-02-30"}"#)
        #expect(TestSupport.validator.validate(broken).errors.count == 2)
        let fixed = try JSON(parsing: #"{"resourceType":"Patient","gender":"male","birthDate":"1970-02-28"}"#)
        #expect(TestSupport.validator.validate(fixed).errors.isEmpty)
    }

    @Test func bundleReferencesResolveByFullURL() throws {
        let bundle = try JSON(
            parsing: #"""
                {"resourceType":"Bundle","type":"transaction","entry":[
                 {"fullUrl":"urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a","resource":{"resourceType":"Patient"},"request":{"method":"POST","url":"Patient"}},
                 {"fullUrl":"http://x/fhir/Observation/o1","resource":{"resourceType":"Observation","id":"o1","status":"final","code":{"text":"t"},
                   "subject":{"reference":"urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a"},"hasMember":[{"reference":"Observation/o1"}]},
                  "request":{"method":"PUT","url":"Observation/o1"}}]}
                """#)
        #expect(TestSupport.validator.validate(bundle).errors.isEmpty)
    }

    @Test func syntaxErrorsAreFatalWithLineAndColumn() {
        let outcome = TestSupport.validator.validate(jsonBytes: Array("{\"resourceType\":\"Patient\",\n\"id\":}".utf8))
        #expect(outcome.issues.count == 1)
        #expect(outcome.issues.first?.severity == .fatal)
        #expect(outcome.issues.first?.line == 2)
        #expect(outcome.issues.first?.column == 6)
        #expect(outcome.issues.first?.expression == "$.id")
    }

    /// Extensions nested 60 deep (past the validation's first room for counts and path segments),
    /// the innermost without its url and with a value of the wrong JSON type: both found where they
    /// are; and after the nesting, the root's counts are still its own (two types of one choice).
    @Test func errorsDeepInsideAreCountedAndLocated() throws {
        let depth = 60
        var inner = #"{"valueBoolean":"yes"}"#
        for _ in 0..<depth { inner = #"{"url":"http://example.org/e","extension":["# + inner + "]}" }
        let patient = try JSON(
            parsing: #"{"resourceType":"Patient","deceasedBoolean":true,"extension":["# + inner
                + #"],"deceasedDateTime":"2020-01-01"}"#)
        let prefix = "Patient" + String(repeating: ".extension[0]", count: depth + 1)
        let errors = TestSupport.validator.validate(patient).errors.map { "\($0.code) \($0.expression)" }.sorted()
        #expect(
            errors == [
                "required \(prefix).url", "structure Patient.deceased.ofType(dateTime)",
                "structure \(prefix).value.ofType(boolean)",
            ])
    }
}

@Suite struct RequiredBindingTests {
    @Test func aCodeableConceptWithOneCodingFromTheValueSetIsAccepted() throws {
        let condition = try JSON(
            parsing: #"""
                {"resourceType":"Condition","subject":{"reference":"Patient/1"},"clinicalStatus":{"coding":[
                 {"system":"http://example.org/local","code":"A"},
                 {"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"active"}]}}
                """#)
        #expect(TestSupport.validator.validate(condition).errors.isEmpty)
    }
}
