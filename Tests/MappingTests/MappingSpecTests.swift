import Crypto
import FHIR
import Foundation
import Testing

@testable import Mapping

@Suite struct MappingSpecTests {
    static let definitions = try! FHIRDefinitions.r4()
    static let conceptMap = try! ConceptMapTable.load(
        path: URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Examples/openemr/conceptmaps/lab-loinc.csv").path,
        name: "lab")

    static let header = """
        ferry-mapping: 1
        name: test
        version: 1.0.0
        system: urn:test
        zone: America/Denver
        conceptMaps:
          lab: lab.csv
        valueMaps:
          sex: { M: male, F: female }

        """

    static let patients = """
          - name: patients
            table: people
            resource: Patient
            key: id
            filters:
              - { name: test patients, when: { column: last, equals: TEST } }
            elements:
              identifier[0].system: =urn:mrn
              identifier[0].value: { column: mrn, required: true }
              name[0].family: last
              gender: { column: sex, map: sex }
              birthDate: { column: dob, date: [MM/dd/yyyy] }

        """

    func parse(_ yaml: String) throws -> MappingSpec {
        try MappingSpec.parse(yaml: yaml, file: "spec.yaml", definitions: Self.definitions) { name, _ in
            var map = Self.conceptMap
            map.name = name
            return map
        }
    }

    func error(_ yaml: String) -> MappingSpecError? {
        do {
            _ = try parse(yaml)
            return nil
        } catch let error as MappingSpecError {
            return error
        } catch {
            Issue.record("not a MappingSpecError: \(error)")
            return nil
        }
    }

    func row(_ table: String, _ values: [(String, SourceValue)], key: String = "1") -> SourceRow {
        SourceRow(
            system: "test", table: table, key: key, columns: SourceColumns(values.map(\.0)), values: values.map(\.1))
    }

    /// Ids are the first 32 hexadecimal digits of SHA-256("Type|name") shaped as a UUID: the same in
    /// every run and every release (a changed id would duplicate every resource on a rerun).
    @Test func idsAreNameBasedAndStable() {
        #expect(
            ResourceID.make(type: "Patient", content: "ferry|patient_data|17") == "abc14271-5692-06c4-36b0-bf6d8742ddb7"
        )
        // Parts hashed as if joined by `|`: the ids HL7 v2 conversion makes without the joined string.
        #expect(
            ResourceID.make(type: "Patient", parts: ["ferry", "patient_data", "17"])
                == "abc14271-5692-06c4-36b0-bf6d8742ddb7")
        for parts in [[""], ["", ""], ["a|b", "ü"], ["REG|GENHOSP", "MSG1", "Patient[1]", "/PATIENT[1]"]] {
            #expect(
                ResourceID.make(type: "Encounter", parts: parts)
                    == ResourceID.make(type: "Encounter", content: parts.joined(separator: "|")))
        }
    }

    /// Strings joined by copying their bytes are the strings joined.
    @Test func joinedStringsAreTheirConcatenation() {
        for (a, b, c) in [("", "", ""), ("Patient", "/", "1"), ("ä", "", "ß/"), ("urn:uuid:", "x", ""), ("a", "", "c")]
        {
            #expect(String.concatenating(a, b, c) == a + b + c)
        }
        #expect(ResourceID.path("Observation", "o-1") == "Observation/o-1")
    }

    /// A row's hash is the SHA-256 of its canonical JSON, written straight from the row: the same
    /// bytes as the tree's canonical form, whatever the column names, their order and the values.
    @Test func aRowsHashIsTheHashOfItsCanonicalJSON() {
        let names = ["pid", "Zeta", "lname", "é_accent", "a\"quote", "ab", "a", "b\u{7}", "z", "Ω", "dob", "pid"]
        let values: [SourceValue] = [
            .integer(17), .real(2.5), .text("O'Brien \"Jr\"\n"), .text("Zoë"), .null, .blob([1, 2, 3]),
            .real(.infinity), .text(""), .text("   "), .real(-0.0), .integer(-3),
        ]
        for count in [0, 1, 5, values.count] {
            let row = SourceRow(
                system: "ferry", table: "t", key: "1", columns: SourceColumns(names),
                values: Array(values.prefix(count)))
            #expect(row.sha256 == row.json.canonicalSHA256, "with \(count) values")
        }
        // Pinned: hashes already recorded in Provenance must not change between releases.
        let row = SourceRow(
            system: "ferry", table: "patient_data", key: "17", columns: SourceColumns(["pid", "lname", "fname"]),
            values: [.integer(17), .text("Moss"), .text("Ana")])
        #expect(row.sha256 == sha256Reference(#"{"fname":"Ana","lname":"Moss","pid":17}"#))
    }

    /// Leading or trailing spaces of any kind are trimmed; values without them are kept as they are.
    @Test func sourceTextIsTrimmedOfWhitespaceOnly() {
        #expect(SourceValue.text(" a b ").text == "a b")
        #expect(SourceValue.text("\u{00A0}José\u{2003}").text == "José")
        #expect(SourceValue.text("José").text == "José")
        #expect(SourceValue.text("\t\n").text == nil)
        #expect(SourceValue.text("x").text == "x")
    }

    @Test func theExampleSpecLoads() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Examples/openemr/mapping.yaml").path
        let spec = try MappingSpec.load(path: path, definitions: Self.definitions)
        #expect(spec.mappings.count == 14)
        #expect(spec.conceptMaps["allergens"]?.count == 8)
        #expect(spec.changelog.last?.approver.isEmpty == false)
    }

    @Test func mistakesNameTheLineAndColumn() throws {
        let broken = Self.header + "mappings:\n  - name: x\n    table: t\n      resource: Patient\n"
        let yaml = error(broken)
        #expect(yaml?.line == 13)
        #expect(yaml?.description.hasPrefix("spec.yaml:13:") == true)

        let path = error(
            Self.header + "mappings:\n"
                + Self.patients.replacingOccurrences(of: "name[0].family", with: "name[0].surname"))
        #expect(path?.line == 20)
        #expect(path?.column == 7)
        #expect(path?.message.contains("surname is not an element") == true)

        let key = error(
            Self.header + "mappings:\n" + Self.patients.replacingOccurrences(of: "key: id", with: "kye: id"))
        #expect(key?.message.contains("unknown key 'kye'") == true)
        #expect(key?.line == 14)

        let map = error(
            Self.header + "mappings:\n" + Self.patients.replacingOccurrences(of: "map: sex", with: "map: gender"))
        #expect(map?.message.contains("no value map named 'gender'") == true)
        #expect(map?.line == 21)

        let version = error(Self.header.replacingOccurrences(of: "1.0.0", with: "one") + "mappings: []\n")
        #expect(version?.message.contains("not a semantic version") == true)
        #expect(version?.line == 3)

        let type = error(
            Self.header + "mappings:\n"
                + Self.patients.replacingOccurrences(of: "resource: Patient", with: "resource: Patients"))
        #expect(type?.message == "Patients is not a FHIR R4 resource type")
    }

    @Test func aReferenceToATypeTwoMappingsMakeMustNameOne() throws {
        let yaml =
            Self.header + "mappings:\n" + Self.patients
            + Self.patients.replacingOccurrences(of: "name: patients", with: "name: others")
                + """
                  - name: visits
                    table: visits
                    resource: Encounter
                    key: id
                    elements:
                      status: =finished
                      class.code: =AMB
                      subject: Patient/{person}

                """
        let ambiguous = error(yaml)
        #expect(ambiguous?.message.contains("several mappings make Patient (patients, others)") == true)
    }

    @Test func rowsMapToValidResourcesWithReferencesAndProvenance() throws {
        let yaml =
            Self.header + "mappings:\n" + Self.patients + """
                  - name: results
                    table: results
                    resource: Observation
                    key: id
                    elements:
                      status: =final
                      code: { column: code, concept: lab, display: name }
                      subject: Patient/{person}
                      effectiveDateTime: { column: at, date: [yyyy-MM-dd HH:mm] }
                      valueQuantity: { column: value, unit: unit }

                """
        let spec = try parse(yaml)
        let mapper = SpecMapper(
            spec: spec, definitions: Self.definitions, recorded: Date(timeIntervalSince1970: 1_700_000_000))
        let person = mapper.map(
            row(
                "people",
                [
                    ("id", .integer(7)), ("mrn", .text("A-7")), ("last", .text("Okafor")), ("sex", .text("F")),
                    ("dob", .text("03/07/1984")),
                ],
                key: "id=7"))
        guard case .mapped(let made) = person.outcome else { Issue.record("not mapped: \(person.outcome)"); return }
        #expect(made.map(\.type) == ["Patient", "Provenance"])
        let patient = made[0].resource
        #expect(patient["gender"]?.stringValue == "female")
        #expect(patient["birthDate"]?.stringValue == "1984-03-07")
        #expect(made[1].resource["target"]?[0]?["reference"]?.stringValue == "Patient/\(made[0].id)")
        #expect(made[1].resource["recorded"]?.stringValue == "2023-11-14T22:13:20Z")

        let result = mapper.map(
            row(
                "results",
                [
                    ("id", .integer(1)), ("person", .integer(7)), ("code", .text("GLU")), ("name", .text("Glucose")),
                    ("at", .text("2024-03-10 09:30")), ("value", .text("105")), ("unit", .text("mg/dL")),
                ]))
        guard case .mapped(let observations) = result.outcome else {
            Issue.record("not mapped: \(result.outcome)"); return
        }
        let observation = observations[0].resource
        #expect(observation["subject"]?["reference"]?.stringValue == "Patient/\(made[0].id)")
        // 09:30 in Denver on the day clocks went forward (MDT, UTC−6).
        #expect(observation["effectiveDateTime"]?.stringValue == "2024-03-10T15:30:00Z")
        #expect(observation["_effectiveDateTime"]?["extension"]?[0]?["valueCode"]?.stringValue == "America/Denver")
        #expect(observation["code"]?["coding"]?[0]?["code"]?.stringValue == "2345-7")
        #expect(observation["code"]?["coding"]?[1]?["code"]?.stringValue == "GLU")
        #expect(observation["valueQuantity"]?["code"]?.stringValue == "mg/dL")

        // The same row maps to the same bytes again.
        let again = mapper.map(
            row(
                "people",
                [
                    ("id", .integer(7)), ("mrn", .text("A-7")), ("last", .text("Okafor")), ("sex", .text("F")),
                    ("dob", .text("03/07/1984")),
                ],
                key: "id=7"))
        guard case .mapped(let second) = again.outcome else { return }
        #expect(second.map(\.resource) == made.map(\.resource))
    }

    @Test func rowsThatCannotBeMappedSayWhyAndFiltersSayWhich() throws {
        let spec = try parse(Self.header + "mappings:\n" + Self.patients)
        let mapper = SpecMapper(spec: spec, definitions: Self.definitions, recorded: Date())
        func outcome(_ values: [(String, SourceValue)]) -> SpecMapper.RowResult {
            mapper.map(row("people", [("id", .integer(1))] + values))
        }
        let noMRN = outcome([("mrn", .text("  ")), ("last", .text("A")), ("sex", .null), ("dob", .null)])
        guard case .deadLettered(let reason) = noMRN.outcome else { Issue.record("\(noMRN.outcome)"); return }
        #expect(
            reason.contains("identifier[0].value (spec line 19): column mrn has no value, and the element is required"))

        let badDate = outcome([("mrn", .text("1")), ("last", .text("A")), ("sex", .null), ("dob", .text("31/02/1990"))])
        guard case .deadLettered(let dateReason) = badDate.outcome else { Issue.record("\(badDate.outcome)"); return }
        #expect(dateReason.contains("'31/02/1990' matches none of the formats MM/dd/yyyy"))

        let test = outcome([("mrn", .text("1")), ("last", .text("TEST")), ("sex", .null), ("dob", .null)])
        guard case .filtered(let rule) = test.outcome else { Issue.record("\(test.outcome)"); return }
        #expect(rule == "test patients")

        let unknownSex = outcome([("mrn", .text("1")), ("last", .text("A")), ("sex", .text("X")), ("dob", .null)])
        guard case .mapped(let made) = unknownSex.outcome else { Issue.record("\(unknownSex.outcome)"); return }
        #expect(made[0].resource["gender"] == nil)
        #expect(unknownSex.unmapped == ["sex|X": 1])

        let otherTable = mapper.map(row("elsewhere", [("id", .integer(1))]))
        guard case .filtered(let none) = otherTable.outcome else { return }
        #expect(none == "no mapping for table elsewhere")
    }

    @Test func localTimeFormats() throws {
        let us = LocalTimeFormat("MM/dd/yyyy hh:mm a")
        #expect(us.parse("03/07/2024 12:05 AM")?.hour == 0)
        #expect(us.parse("03/07/2024 12:05 PM")?.hour == 12)
        #expect(us.parse("03/07/2024 13:05 PM") == nil)
        #expect(LocalTimeFormat("yyyy-MM-dd").parse("2023-02-29") == nil)
        #expect(LocalTimeFormat("yyyy-MM-dd").parse("2024-02-29")?.dateText == "2024-02-29")
        #expect(LocalTimeFormat("dd-MMM-yyyy").parse("07-mar-1984")?.dateText == "1984-03-07")
        #expect(LocalTimeFormat("yyyyMMdd").parse("1984030") == nil)
        let value = try #require(LocalTimeFormat("yyyy-MM-dd HH:mm:ss.SSS").parse("2024-11-03 01:30:00.25"))
        #expect(value.milliseconds == 250)
        // 01:30 happens twice in New York that night; the first (EDT) is taken, as Foundation does.
        #expect(value.utcText(zone: TimeZone(identifier: "America/New_York")!) == "2024-11-03T05:30:00.250Z")
    }

    @Test func documentAndDiffDescribeTheSpec() throws {
        let old = try parse(Self.header + "mappings:\n" + Self.patients)
        let newer = try parse(
            Self.header.replacingOccurrences(of: "version: 1.0.0", with: "version: 1.1.0")
                .replacingOccurrences(of: "F: female }", with: "F: female, U: unknown }")
                + "mappings:\n"
                + Self.patients.replacingOccurrences(
                    of: "name[0].family: last", with: "name[0].family: { column: last, upper: true }"))
        let document = SpecDocument.markdown(old)
        #expect(document.contains("| last | `Patient.name[0].family` |"))
        #expect(document.contains("| test patients | last = TEST |") == false)
        #expect(document.contains("Leaves out the rows where last = TEST (rule \"test patients\")"))
        #expect(SpecDocument.html(old).contains("<td><code>Patient.birthDate</code></td>"))
        let diff = SpecDiff.lines(old: old, new: newer)
        #expect(
            diff == [
                "version: 1.0.0 → 1.1.0", "~ patients.name[0].family: last → last via upper case",
                "+ value map sex: U: unknown",
            ])
        #expect(SpecDiff.lines(old: old, new: old).isEmpty)
    }

    @Test func theJSONSchemaNamesTheKeysTheLoaderReads() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let schema = try JSON(parsing: Data(contentsOf: root.appendingPathComponent("docs/mapping-spec.schema.json")))
        func properties(_ json: JSON?) -> Set<String> { Set(json?["properties"]?.objectValue?.map(\.key) ?? []) }
        let definitions = schema["$defs"]
        #expect(properties(schema) == SpecReader.keys["spec"])
        #expect(properties(schema["properties"]?["changelog"]?["items"]) == SpecReader.keys["change"])
        #expect(properties(schema["properties"]?["filters"]?["items"]) == SpecReader.keys["filter"])
        #expect(properties(schema["properties"]?["lookups"]?["additionalProperties"]) == SpecReader.keys["lookup"])
        #expect(properties(definitions?["rule"]) == SpecReader.keys["rule"])
        #expect(properties(definitions?["condition"]) == SpecReader.keys["condition"])
        #expect(properties(definitions?["mapping"]) == SpecReader.keys["mapping"])
        #expect(properties(definitions?["value"]) == SpecReader.keys["value"])
    }

    @Test func namesAndAddressesInOneTextAreSplit() throws {
        let yaml =
            Self.header + """
                mappings:
                  - table: people
                    resource: Patient
                    key: id
                    elements:
                      name[0]: { column: name, humanName: true }
                      address[0]: { column: address, address: true }
                      telecom[0].system: =phone
                      telecom[0].value: { column: phone, digits: true }

                """
        let mapper = SpecMapper(spec: try parse(yaml), definitions: Self.definitions, recorded: Date())
        func patient(_ name: String, _ address: String) throws -> JSON {
            let result = mapper.map(
                row(
                    "people",
                    [
                        ("id", .integer(1)), ("name", .text(name)), ("address", .text(address)),
                        ("phone", .text("(303) 555-0142")),
                    ]))
            guard case .mapped(let made) = result.outcome else {
                throw MappingSpecError(file: "", line: nil, column: nil, message: "\(result.outcome)")
            }
            return made[0].resource
        }
        let a = try patient("Okafor, Ada Nkem", "12 Main St, Apt 4, Denver, CO 80202")
        #expect(a["name"]?[0]?["family"]?.stringValue == "Okafor")
        #expect(a["name"]?[0]?["given"] == ["Ada", "Nkem"])
        #expect(a["address"]?[0]?["line"] == ["12 Main St", "Apt 4"])
        #expect(a["address"]?[0]?["city"]?.stringValue == "Denver")
        #expect(a["address"]?[0]?["postalCode"]?.stringValue == "80202")
        #expect(a["telecom"]?[0]?["value"]?.stringValue == "3035550142")
        let b = try patient("José María García", "somewhere unknown")
        #expect(b["name"]?[0]?["family"]?.stringValue == "García")
        #expect(b["name"]?[0]?["given"] == ["José", "María"])
        #expect(b["address"]?[0]?["text"]?.stringValue == "somewhere unknown")
        #expect(b["address"]?[0]?["city"] == nil)
    }
}

/// SHA-256 of `text` by Foundation-free swift-crypto, as lowercase hexadecimal: the reference the row
/// hash is checked against.
private func sha256Reference(_ text: String) -> String {
    SHA256.hash(data: Array(text.utf8)).map { String(format: "%02x", $0) }.joined()
}
