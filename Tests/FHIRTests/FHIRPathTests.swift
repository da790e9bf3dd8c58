import FHIR
import Foundation
import Synchronization
import Testing

/// The engine beyond the official suite: error locations, the environment, UCUM, FHIR functions, the CLI.
@Suite struct FHIRPathTests {
    static let patient: JSON = [
        "resourceType": "Patient", "id": "p1", "birthDate": "1980-05-17",
        "name": [["use": "official", "family": "Lee", "given": ["Ann", "Marie"]]],
        "contained": [["resourceType": "Organization", "id": "o1", "name": "Clinic"]],
        "managingOrganization": ["reference": "#o1"],
    ]

    func evaluate(
        _ text: String, on resource: JSON = patient, _ environment: FHIRPathEnvironment = .init()
    ) throws
        -> [FHIRPathValue]
    {
        try FHIRPathExpression(text).evaluate(
            on: resource, definitions: TestSupport.definitions, environment: environment)
    }

    @Test(arguments: [
        ("Patient.name.where(", 20, "expected an expression"),
        ("Patient.name.frobnicate()", 14, "unknown function frobnicate()"),
        ("Patient.name.substring()", 14, "substring() takes 1 to 2 arguments, not 0"),
        ("Patient.name[0", 15, "expected ']'"),
        ("'unterminated", 1, "the string is not closed"),
        ("@2020-13-01", 1, "is not a valid date"),
        ("1 + * 2", 5, "expected an expression"),
        ("name /* open", 6, "the comment is not closed"),
        ("$that", 1, "unknown special variable"),
    ])
    func malformedExpressionsNameTheColumn(_ text: String, _ column: Int, _ message: String) {
        #expect {
            _ = try FHIRPathExpression(text)
        } throws: { error in
            guard let error = error as? FHIRError else { return false }
            return error.code == .fhirpathSyntax && error.column == column && error.message.contains(message)
                && error.path == text
        }
    }

    /// Dates, times and dateTimes written back as FHIR writes them, every precision and offset.
    @Test(arguments: [
        "2015", "2015-02", "2015-02-04", "0001-01-01", "0987-06-05T04:03:02Z", "2015-02-04T14:34:28.123+10:00",
        "2024-03-15T09:30:00-05:30", "2024-03-15T09:30:00.005Z", "2024-12-31T23:59:59.999+14:00", "T14:34",
        "T14:34:28", "T00:00:00.010",
    ])
    func temporalValuesAreWrittenAsFHIRWritesThem(_ text: String) throws {
        let result = try FHIRPathExpression("@\(text).toString()").evaluate(
            on: Self.patient, definitions: TestSupport.definitions)
        #expect(result == [.string(text.hasPrefix("T") ? String(text.dropFirst()) : text)])
    }

    @Test func typeErrorsNameTheExpressionAndTheElement() {
        #expect {
            _ = try evaluate("Patient.birthDate < 'yesterday'")
        } throws: { error in
            guard let error = error as? FHIRError else { return false }
            return error.code == .fhirpathEvaluation && error.column == 19
                && error.message.contains(
                    "cannot compare date element with String (in Patient.birthDate < 'yesterday')")
                && error.path == "Patient.birthDate < 'yesterday'"
        }
        #expect {
            _ = try evaluate("Patient.name.where(use = 'official').given.single().startsWith('A')")
        } throws: { error in
            (error as? FHIRError)?.message
                == "single() found 2 items where one was expected (in Patient.name.where(use = 'official').given.single())"
        }
        #expect {
            _ = try evaluate("Patient.name.startsWith('L')")
        } throws: { error in
            (error as? FHIRError)?.message
                == "startsWith() applies to a string, not HumanName element (in Patient.name.startsWith('L'))"
        }
        #expect(throws: FHIRError.self) { try evaluate("%unknown") }
    }

    @Test func environmentSuppliesVariablesResourceAndClock() throws {
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        let environment = FHIRPathEnvironment(variables: ["limit": [.integer(2)]], now: now)
        #expect(try evaluate("Patient.name.given.count() = %limit", environment) == [.boolean(true)])
        #expect(try evaluate("%resource.id").map(\.json) == ["p1"])
        #expect(try evaluate("%ucum") == [.string("http://unitsofmeasure.org")])
        #expect(try evaluate("today() > Patient.birthDate", environment) == [.boolean(true)])
        #expect(try evaluate("now().toString().substring(0, 4)", environment) == [.string("2023")])
    }

    @Test func traceReportsToTheSinkAndPassesItsInputOn() throws {
        let seen = Mutex<[String]>([])
        let environment = FHIRPathEnvironment(trace: { name, values in
            seen.withLock { $0.append("\(name):\(values.count)") }
        })
        #expect(try evaluate("Patient.name.given.trace('given').count()", environment) == [.integer(2)])
        #expect(seen.withLock { $0 } == ["given:2"])
    }

    @Test(arguments: [
        "1 'kg' = 1000 'g'", "1500 'mg' > 1 'g'", "100 'cm' = 1 'm'", "12 '[in_i]' = 1 '[ft_i]'",
        "60 'min' = 1 'h'", "2 days = 48 'h'", "1 'L' = 1000 'mL'", "1 'g/dL' = 10 'g/L'",
        "5 'mmol/L' > 4000 'umol/L'", "1 'mg/mL' = 1 'g/L'", "(1 'kg' = 1 'm').empty()",
        "10 'mg' + 1 'g' = 1010 'mg'", "1 '[lb_av]' > 453 'g'", "1 'm2' = 10000 'cm2'", "1 'mL' = 1 'cm3'",
    ])
    func ucumQuantitiesCompareAcrossUnits(_ expression: String) throws {
        #expect(try evaluate(expression) == [.boolean(true)], "\(expression)")
    }

    @Test func resolveFindsContainedResourcesAndBundleEntries() throws {
        #expect(try evaluate("managingOrganization.resolve().name").map(\.json) == ["Clinic"])
        let bundle: JSON = [
            "resourceType": "Bundle", "type": "collection",
            "entry": [
                ["fullUrl": "http://x/Patient/p1", "resource": Self.patient],
                [
                    "fullUrl": "http://x/Observation/o1",
                    "resource": [
                        "resourceType": "Observation", "status": "final", "code": ["text": "t"],
                        "subject": ["reference": "Patient/p1"],
                    ],
                ],
            ],
        ]
        let observation = try #require(bundle["entry"]?.arrayValue?[1]["resource"])
        let environment = FHIRPathEnvironment(rootResource: bundle)
        #expect(try evaluate("subject.resolve().birthDate", on: observation, environment).map(\.json) == ["1980-05-17"])
        #expect(try evaluate("subject.resolve() is Patient", on: observation) == [.boolean(true)])
    }

    @Test func memberOfUsesTheExpandedRequiredValueSets() throws {
        #expect(
            try evaluate(
                "Patient.gender.memberOf('http://hl7.org/fhir/ValueSet/administrative-gender')",
                on: ["resourceType": "Patient", "gender": "other"]) == [.boolean(true)])
        #expect(
            try evaluate("'sideways'.memberOf('http://hl7.org/fhir/ValueSet/administrative-gender')") == [
                .boolean(false)
            ])
    }

    @Test func choiceElementsAreReachedByTheirElementName() throws {
        let observation: JSON = [
            "resourceType": "Observation", "status": "final", "code": ["text": "t"],
            "valueQuantity": [
                "value": .number("7.20"), "unit": "mmol/L", "system": "http://unitsofmeasure.org", "code": "mmol/L",
            ],
        ]
        #expect(
            try evaluate("Observation.value.ofType(Quantity).value", on: observation).map(\.json) == [.number("7.20")])
        #expect(try evaluate("Observation.value > 7 'mmol/L'", on: observation) == [.boolean(true)])
        #expect(throws: FHIRError.self) { try evaluate("Observation.valueQuantity", on: observation) }
    }

    @Test func cachedCompilationIsSharedAndErrorsAreKept() throws {
        let cache = FHIRPathCache()
        #expect(try cache.expression("name.given") === cache.expression("name.given"))
        #expect(throws: FHIRError.self) { try cache.expression("name.(") }
    }

    @Test func commandPrintsTheResultCollection() throws {
        let example = TestSupport.examplesFolder.appendingPathComponent("patient-example.json").path
        let array = try TestSupport.ferry(["fhirpath", "Patient.name.where(use = 'official').given", example])
        #expect(array.status == 0)
        #expect(array.output.trimmingCharacters(in: .whitespacesAndNewlines) == #"["Peter","James"]"#)
        let lines = try TestSupport.ferry(["fhirpath", "--lines", "Patient.name.given.count() | birthDate", example])
        #expect(lines.output.split(separator: "\n") == ["5", "\"1974-12-25\""])
        let broken = try TestSupport.ferry(["fhirpath", "Patient.name.where(", example])
        #expect(broken.status == 1)
        #expect(broken.output.contains("column 20"))
        let failing = try TestSupport.ferry(["fhirpath", "Patient.name.given.single()", example])
        #expect(failing.status == 1)
        let missing = try TestSupport.ferry(["fhirpath", "name", "no-such-file.json"])
        #expect(missing.status == 2)
    }

    /// The string functions match their pattern literally, U+0000 included. Foundation's replacement
    /// stopped the process on a pattern ending in U+0000 that matched in part at the end of the text
    /// (the first case is the fuzzer's input), and its searches took U+0000 for the pattern's end.
    @Test func stringFunctionsTakeAnyPatternLiterally() throws {
        let nuls = String(repeating: "\u{0}", count: 160)
        let telephone: JSON = ["resourceType": "Patient", "telecom": [["system": "phone", "value": "555-0100"]]]
        let fuzzed = "telecom.where(system = 'phone').value.replace('0\(nuls)', '').toInteger().power(4) mod 7"
        #expect(try evaluate(fuzzed, on: telephone).isEmpty)
        let cases: [(String, String)] = [
            ("'555-0100'.replace('0\(nuls)', '')", "555-0100"), (#"'10'.replace('0\u0000', '+')"#, "10"),
            (#"'a0\u0000b0\u0000'.replace('0\u0000', '+')"#, "a+b+"), ("'abc'.replace('', 'x')", "xaxbxcx"),
            ("'555-0100'.replace('0', '')", "555-1"), ("'aaa'.replace('aa', 'b')", "ba"),
        ]
        for (expression, expected) in cases {
            #expect(try evaluate(expression) == [.string(expected)], "\(expression)")
        }
        let searches: [(String, FHIRPathValue)] = [
            (#"'10'.contains('0\u0000')"#, .boolean(false)), (#"'a0\u0000'.contains('0\u0000')"#, .boolean(true)),
            (#"'10'.indexOf('0\u0000')"#, .integer(-1)), (#"'10'.lastIndexOf('0\u0000')"#, .integer(-1)),
            (#"'a0\u0000b0\u0000'.indexOf('0\u0000')"#, .integer(1)),
            (#"'a0\u0000b0\u0000'.lastIndexOf('0\u0000')"#, .integer(4)), ("'aaa'.lastIndexOf('aa')", .integer(1)),
            ("'abc'.lastIndexOf('d')", .integer(-1)), ("'abc'.lastIndexOf('')", .integer(3)),
        ]
        for (expression, expected) in searches {
            #expect(try evaluate(expression) == [expected], "\(expression)")
        }
        #expect(try evaluate(#"'10'.split('0\u0000')"#) == [.string("10")])
        #expect(try evaluate("'a,b,,c,'.split(',')") == ["a", "b", "", "c", ""].map { .string($0) })
    }

    @Test func theReadmeWalkThroughHolds() throws {
        let given = try TestSupport.ferry([
            "fhirpath", "Patient.name.where(use = 'official').given", "Examples/fhir/patient.json",
        ])
        #expect(given.output.trimmingCharacters(in: .whitespacesAndNewlines) == #"["Ana","Lucia"]"#)
        let above = try TestSupport.ferry([
            "fhirpath", "--lines", "Observation.value > 6 '%'", "Examples/fhir/observation.xml",
        ])
        #expect(above.status == 0)
        #expect(above.output.trimmingCharacters(in: .whitespacesAndNewlines) == "true")
    }
}

/// Expressions aimed at the engine's limits: every one ends in a result or an error, never a trap or a hang.
@Suite struct FHIRPathLimitTests {
    @Test(arguments: [
        "(-9223372036854775807 - 1).abs()",
        "-(-9223372036854775807 - 1)",
        "(-9223372036854775807 - 1) div -1",
        "(-9223372036854775807 - 1) mod -1",
        "9223372036854775807 + 1",
        "2.power(9223372036854775807)",
        "1.power(9223372036854775807)",
        "(-1).power(9223372036854775807)",
        "@2020-01-01 + 100000000000000 days",
        "@2020-01-01T00:00:00Z + 9999999999999999999 'ms'",
        "@9999-12-31 + 1 day",
        "1 'm999999999999' = 1 'm'",
        "1 '10*-9223372036854775808' = 1 '1'",
        "1.5.round(1000000000)",
    ])
    func extremeArithmeticEndsInEmptyOrAnError(_ text: String) throws {
        do {
            let result = try FHIRPathExpression(text).evaluate(focus: [], definitions: TestSupport.definitions)
            #expect(result.count <= 1)
        } catch {
            #expect(error.column != nil)
        }
    }

    @Test func collectionsBeyondTheLimitFail() throws {
        let patient = try JSON(
            parsing: Data(contentsOf: TestSupport.examplesFolder.appendingPathComponent("patient-example.json")))
        let environment = FHIRPathEnvironment(maxItems: 50)
        let expression = try FHIRPathExpression("descendants().select(descendants()).select(descendants())")
        #expect {
            _ = try expression.evaluate(on: patient, definitions: TestSupport.definitions, environment: environment)
        } throws: { error in
            (error as? FHIRError)?.message.contains("more than the limit of 50") == true
        }
    }

    @Test func longChainsAreRefusedBeforeTheyReachTheStack() {
        let chain = Array(repeating: "1", count: 5000).joined(separator: " + ")
        #expect {
            _ = try FHIRPathExpression(chain)
        } throws: { error in
            (error as? FHIRError)?.message.contains("nests deeper") == true
        }
        #expect(throws: FHIRError.self) { try FHIRPathExpression(String(repeating: "(", count: 10_000)) }
    }

    /// Decimals of up to 18 digits are made from their digits, longer ones by Foundation: both read
    /// every text, and its random variants, to the value and scale Foundation's reading gives.
    @Test func decimalsReadAsFoundationReadsThem() throws {
        let seeds = [
            "0", "-0", "0.00", "-0.0", "1", "+7", "86.8", "-5.20", "0.001", "123456789012345678", "-999999999999999999",
            "1234567890123456789", "12345678901234567.8", "0.000000000000000001", "99.99999999999999999", "1.5e3",
            "1.", ".5", "--1", "1.2.3",
        ]
        var compared = 0
        for text in PrimitiveFormatTests.mutations(of: seeds, alphabet: Array("0123456789.-+e"), each: 30) {
            let parsed = FHIRPathDecimal(text: text)
            let foundation = Decimal(string: text, locale: Locale(identifier: "en_US_POSIX"))
            guard let parsed else { continue }
            let expected = try #require(foundation, "\(text)")
            #expect(parsed.value == expected, "\(text)")
            #expect(parsed.value.hashValue == expected.hashValue, "\(text)")
            #expect(parsed.text == FHIRPathDecimal(expected, scale: parsed.scale).text, "\(text)")
            let point = text.firstIndex(of: ".")
            if !text.contains("e") {
                #expect(parsed.scale == point.map { text.distance(from: $0, to: text.endIndex) - 1 } ?? 0, "\(text)")
            }
            compared += 1
        }
        #expect(compared > 200)
    }

    /// Decimal results beyond what Foundation's `Decimal` holds once stopped the process (its
    /// arithmetic traps on an exponent beyond -128…127); each now gives what the test names: nothing,
    /// a zero too small to tell, or a quantity whose unit converts to nothing. The first is the
    /// fuzzer's input.
    @Test(
        arguments: [
            ("(1 'kg9``9' * 500 ']') > 1200 'g' and 2 days = 67 'u6'", nil),
            ("1 'u6' > 1 'g'", nil), ("1 'u6' = 1 'g'", nil), ("(1 'u6').toString()", #""1 'u6'""#),
            (
                "0.00000000000000000000000000000001 * 0.00000000000000000000000000000001 * 0.00000000000000000000000000000001"
                    + " * 0.00000000000000000000000000000001 * 0.00000000000000000000000000000001", nil
            ),
            (
                "99999999999999999999999999999999999.0 * 99999999999999999999999999999999999.0"
                    + " * 99999999999999999999999999999999999.0 * 99999999999999999999999999999999999.0", nil
            ),
            (
                "0.0000000000000000000000000000000000001 / 99999999999999999999999999999999999.0"
                    + " / 99999999999999999999999999999999999.0", "0"
            ),
            (
                "(0.00000000000000000000000000000001 'g' * 0.00000000000000000000000000000001) * 0.00000000000000000000000000000001"
                    + " * 0.00000000000000000000000000000001 * 0.00000000000000000000000000000001", nil
            ),
        ] as [(String, String?)])
    func decimalsBeyondFoundationsRangeGiveNothingNotACrash(_ text: String, _ expected: String?) throws {
        let patient = try TestSupport.parse(#"{"resourceType":"Patient","id":"p"}"#)
        let result = try FHIRPathExpression(text).evaluate(on: patient, definitions: TestSupport.definitions)
        #expect(result.map { JSONWriter().string($0.json) } == (expected.map { [$0] } ?? []), "\(text)")
    }

    /// `FHIRPathDecimal.calculate` computes what stays inside the range it keeps, and answers `nil`
    /// beyond it (and for a division by zero).
    @Test func decimalArithmeticInsideItsRangeComputesAndBeyondItIsNil() throws {
        #expect(FHIRPathDecimal.calculate(2.5, .multiply, 4) == 10)
        #expect(FHIRPathDecimal.calculate(7, .subtract, 9.5) == -2.5)
        #expect(FHIRPathDecimal.calculate(1, .divide, 8) == 0.125)
        #expect(FHIRPathDecimal.calculate(1, .divide, 0) == nil)
        let tiny = try #require(Decimal(string: "1e-70"))
        let small = try #require(Decimal(string: "1e-50"))
        let huge = try #require(Decimal(string: "1e100"))
        #expect(FHIRPathDecimal.calculate(small, .multiply, small) == Decimal(string: "1e-100"))
        #expect(FHIRPathDecimal.calculate(tiny, .multiply, tiny) == nil)
        #expect(FHIRPathDecimal.calculate(huge, .multiply, huge) == nil)
        #expect(FHIRPathDecimal.calculate(huge, .add, 1) != nil)
    }
}
