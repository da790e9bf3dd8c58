import FHIR
import Foundation
import HL7v2
import Testing

@testable import Mapping

@Suite struct V2ConverterTests {
    static let definitions = try! FHIRDefinitions.r4()
    static let converter = V2Converter(maps: try! V2Maps.shipped(), definitions: definitions)
    static let validator = Validator(definitions: definitions)

    static let pid =
        "PID|1||100234^^^GENHOSP^MR||RIVERA^ANA^M^^^^L||19710422|F|||12 ELM ST^^SPRINGFIELD^IL^62701^US||^PRN^PH^^1^217^5550142"
    static let pv1 =
        "PV1|1|I|3N^301^A^GENHOSP||||1234^KOWALSKI^PIOTR^^^DR|||MED||||1|||1234^KOWALSKI^PIOTR^^^DR|IN|V0001"

    static func message(_ type: String, _ control: String, _ segments: [String], zone: String = "") -> HL7Message {
        let msh = "MSH|^~\\&|REG|GENHOSP|FERRY|CLOUD|20240315083000\(zone)||\(type)|\(control)|P|2.5.1"
        return try! HL7Message(parsing: Array(([msh] + segments).joined(separator: "\r").utf8))
    }

    /// One message of every type the issue names, each as a sending system would write it.
    static let messages: [(String, HL7Message)] = [
        (
            "ADT^A01",
            message(
                "ADT^A01^ADT_A01", "A01",
                [
                    "EVN|A01|20240315083000", pid, pv1,
                    "AL1|1|DA|70618^Penicillin^RXNORM|SV|Hives", "DG1|1||I10^Essential hypertension^I10||20240315|A",
                    "IN1|1|BCBS^Blue Cross|60054|BLUE CROSS||||||||20240101|20241231",
                ])
        ),
        ("ADT^A02", message("ADT^A02^ADT_A02", "A02", ["EVN|A02|20240315090000", pid, pv1])),
        ("ADT^A03", message("ADT^A03^ADT_A03", "A03", ["EVN|A03|20240316090000", pid, pv1])),
        ("ADT^A04", message("ADT^A04^ADT_A01", "A04", ["EVN|A04|20240315083000", pid, pv1])),
        ("ADT^A08", message("ADT^A08^ADT_A01", "A08", ["EVN|A08|20240315083000", pid, pv1])),
        ("ADT^A11", message("ADT^A11^ADT_A09", "A11", ["EVN|A11|20240315083000", pid, pv1])),
        ("ADT^A13", message("ADT^A13^ADT_A01", "A13", ["EVN|A13|20240315083000", pid, pv1])),
        ("ADT^A28", message("ADT^A28^ADT_A05", "A28", ["EVN|A28|20240315083000", pid, "PV1|1|N"])),
        ("ADT^A31", message("ADT^A31^ADT_A05", "A31", ["EVN|A31|20240315083000", pid, "PV1|1|N"])),
        ("ADT^A40", message("ADT^A40^ADT_A39", "A40", ["EVN|A40|20240315083000", pid, "MRG|100999^^^GENHOSP^MR"])),
        (
            "ORU^R01",
            message(
                "ORU^R01^ORU_R01", "R01",
                [
                    pid, pv1, "ORC|RE|ORD77|FIL77",
                    "OBR|1|ORD77|FIL77|57021-8^CBC panel^LN|||20240315093000|||||||||||||||20240315101500|||F",
                    "OBX|1|NM|6690-2^Leukocytes^LN||7.1|10*3/uL^^UCUM|4.0-10.5|N|||F|||20240315093000",
                    "NTE|1||Specimen slightly hemolyzed",
                ])
        ),
        (
            "ORM^O01",
            message(
                "ORM^O01^ORM_O01", "O01",
                [
                    pid, pv1, "ORC|NW|ORD88|||SC||||20240315093000",
                    "OBR|1|ORD88||80053^Metabolic panel^CPT|||20240316080000",
                ])
        ),
        (
            "OML^O21",
            message(
                "OML^O21^OML_O21", "O21",
                [
                    pid, pv1, "ORC|NW|ORD99|||SC||||20240315093000",
                    "OBR|1|ORD99||80053^Metabolic panel^CPT|||20240316080000",
                ])
        ),
        (
            "RDE^O11",
            message(
                "RDE^O11^RDE_O11", "RDE1",
                [
                    pid, pv1, "ORC|NW|RX1^EPIC|||||||20240315093000",
                    "RXE|^^^20240315100000^^R|197361^Amlodipine 5 MG Oral Tablet^RXNORM|5||mg^^UCUM|TAB^Tablet^HL70292|^Take one daily|||30|TAB|3|1234^KOWALSKI^PIOTR",
                    "TQ1|1||QD^Every day^HL70335", "RXR|PO^Oral^HL70162",
                ])
        ),
        (
            "MDM^T02",
            message(
                "MDM^T02^MDM_T02", "T02",
                [
                    "EVN|T02|20240315110000", pid, pv1,
                    "TXA|1|DS^Discharge summary|TX|20240315110000|1234^KOWALSKI^PIOTR|||||||DOC1|||||AU||AV",
                    "OBX|1|TX|18842-5^Discharge summary^LN||Patient stable, follow up in clinic.||||||F",
                ])
        ),
        (
            "SIU^S12",
            message(
                "SIU^S12^SIU_S12", "S12",
                [
                    "SCH|APT1|APT1|||||ROUTINE^Routine^HL70276|FOLLOWUP^Follow-up^HL70277|30|min|^^30^20240320140000^20240320143000||||||||||||||Booked",
                    pid, "PV1|1|O", "RGS|1|A", "AIS|1|A|99213^Office visit^CPT|20240320140000|0|min|30|min",
                ])
        ),
        (
            "VXU^V04",
            message(
                "VXU^V04^VXU_V04", "V04",
                [
                    pid, "ORC|RE|IMM1^EPIC",
                    "RXA|0|1|20240315093000|20240315093000|140^Influenza, seasonal^CVX|0.5|mL^^UCUM||00^New record^NIP001||||||LOT1|20250630|SKB^GlaxoSmithKline^MVX|||CP|A",
                    "RXR|IM^Intramuscular^HL70162|LD^Left deltoid^HL70163",
                ])
        ),
    ]

    /// An ADT^A01 with the usual EVN, PID and PV1 and `segments` after them, converted; its Bundle is
    /// expected valid.
    static func admission(_ control: String, _ segments: [String]) throws -> (HL7Message, V2Converter.Conversion) {
        let message = Self.message("ADT^A01^ADT_A01", control, ["EVN|A01|20240315083000", pid, pv1] + segments)
        let conversion = try converter.convert(message)
        #expect(validator.validate(conversion.bundle).isValid)
        return (message, conversion)
    }

    static func resources(_ bundle: JSON, _ type: String) -> [JSON] {
        (bundle["entry"]?.arrayValue ?? []).compactMap { $0["resource"] }.filter {
            $0["resourceType"]?.stringValue == type
        }
    }

    @Test func everyMessageTypeBecomesAValidTransactionBundle() throws {
        for (name, message) in Self.messages {
            let conversion = try Self.converter.convert(message)
            let outcome = Self.validator.validate(conversion.bundle)
            #expect(outcome.isValid, "\(name): \(outcome.errors)")
            // The converter's own validation of the Bundle is the validator's.
            #expect(conversion.outcome == outcome, "\(name)")
            // Repairs are reported about the resource, not about the Bundle entry that holds it.
            #expect(!conversion.issues.contains { $0.contains("Bundle.entry[") }, "\(name): \(conversion.issues)")
            #expect(conversion.bundle["type"]?.stringValue == "transaction")
            #expect(conversion.counts["Patient"] == 1, "\(name): \(conversion.counts)")
            #expect(conversion.counts["Provenance"] == 1, "\(name)")
            for entry in conversion.bundle["entry"]?.arrayValue ?? [] {
                let resource = try #require(entry["resource"])
                let url = "\(resource["resourceType"]?.stringValue ?? "")/\(resource["id"]?.stringValue ?? "")"
                #expect(
                    entry["request"]?["method"]?.stringValue == "PUT" && entry["request"]?["url"]?.stringValue == url)
            }
        }
    }

    @Test func eachMessageMakesTheResourcesItCarries() throws {
        let expected: [String: [String]] = [
            "ADT^A01": ["Patient", "Encounter", "Practitioner", "AllergyIntolerance", "Condition", "Location"],
            "ORU^R01": ["Patient", "Encounter", "DiagnosticReport", "Observation", "Specimen"],
            "ORM^O01": ["Patient", "ServiceRequest"],
            "OML^O21": ["Patient", "ServiceRequest"],
            "RDE^O11": ["Patient", "MedicationRequest"],
            "MDM^T02": ["Patient", "DocumentReference"],
            "SIU^S12": ["Patient", "Appointment"],
            "VXU^V04": ["Patient", "Immunization"],
        ]
        for (name, message) in Self.messages {
            guard let types = expected[name] else { continue }
            let conversion = try Self.converter.convert(message)
            for type in types {
                #expect(conversion.counts[type, default: 0] >= 1, "\(name) makes no \(type): \(conversion.issues)")
            }
        }
    }

    /// The IG's ORU_R01 map gives the order's ServiceRequest no subject; Ferry's additions link it to the
    /// patient, so that it is kept (FHIR requires a subject) instead of left out.
    @Test func anORUOrderIsAServiceRequestForThePatient() throws {
        let conversion = try Self.converter.convert(try #require(Self.messages.first { $0.0 == "ORU^R01" }).1)
        let patient = try #require(Self.resources(conversion.bundle, "Patient").first)
        #expect(conversion.counts["ServiceRequest"] == 1, "\(conversion.issues)")
        let order = try #require(Self.resources(conversion.bundle, "ServiceRequest").first)
        #expect(order["subject"]?["reference"]?.stringValue == "Patient/\(patient["id"]?.stringValue ?? "")")
        let report = try #require(Self.resources(conversion.bundle, "DiagnosticReport").first)
        #expect(
            report["basedOn"]?[0]?["reference"]?.stringValue == "ServiceRequest/\(order["id"]?.stringValue ?? "")")
    }

    @Test func thePatientCarriesWhatPIDSays() throws {
        let bundle = try Self.converter.convert(Self.messages[0].1).bundle
        let patient = try #require(Self.resources(bundle, "Patient").first)
        #expect(patient["identifier"]?[0]?["value"]?.stringValue == "100234")
        #expect(patient["identifier"]?[0]?["type"]?["coding"]?[0]?["code"]?.stringValue == "MR")
        #expect(patient["name"]?[0]?["family"]?.stringValue == "RIVERA")
        #expect(patient["name"]?[0]?["given"]?.arrayValue?.compactMap(\.stringValue) == ["ANA", "M"])
        #expect(patient["gender"]?.stringValue == "female")
        #expect(patient["birthDate"]?.stringValue == "1971-04-22")
        #expect(patient["address"]?[0]?["city"]?.stringValue == "SPRINGFIELD")
        let encounter = try #require(Self.resources(bundle, "Encounter").first)
        #expect(encounter["class"]?["code"]?.stringValue == "IMP", "PV1-2 I through the PatientClass vocabulary")
        #expect(encounter["subject"]?["reference"]?.stringValue == "Patient/\(patient["id"]?.stringValue ?? "")")
        let allergy = try #require(Self.resources(bundle, "AllergyIntolerance").first)
        #expect(allergy["code"]?["coding"]?[0]?["system"]?.stringValue == "http://www.nlm.nih.gov/research/umls/rxnorm")
        #expect(allergy["clinicalStatus"]?["coding"]?[0]?["code"]?.stringValue == "active")
        let condition = try #require(Self.resources(bundle, "Condition").first)
        #expect(condition["code"]?["coding"]?[0]?["system"]?.stringValue == "http://hl7.org/fhir/sid/icd-10-cm")
        #expect(
            encounter["diagnosis"]?[0]?["condition"]?["reference"]?.stringValue
                == "Condition/\(condition["id"]?.stringValue ?? "")")
    }

    @Test func idsAreDeterministicAndTheSamePatientIsTheSameAcrossMessages() throws {
        let first = try Self.converter.convert(Self.messages[0].1).bundle
        let again = try Self.converter.convert(Self.messages[0].1).bundle
        #expect(JSONWriter().bytes(first) == JSONWriter().bytes(again))
        let fromResult = try Self.converter.convert(Self.messages[10].1).bundle
        let admitted = Self.resources(first, "Patient").first?["id"]
        #expect(admitted != nil && admitted == Self.resources(fromResult, "Patient").first?["id"])
    }

    @Test func timestampsWithoutAnOffsetTakeTheSendersZoneAndKeepTheOriginal() throws {
        let chicago = V2Converter(
            maps: try V2Maps.shipped(), definitions: Self.definitions,
            options: .init(senderZone: TimeZone(identifier: "America/Chicago")!))
        let bundle = try chicago.convert(Self.messages[10].1).bundle
        let report = try #require(Self.resources(bundle, "DiagnosticReport").first)
        // 09:30 in Chicago on 15 March 2024 (daylight time, UTC-5) is 14:30 UTC.
        #expect(report["effectiveDateTime"]?.stringValue == "2024-03-15T14:30:00Z")
        #expect(report["_effectiveDateTime"]?["extension"]?[0]?["valueString"]?.stringValue == "20240315093000")
        #expect(report["status"]?.stringValue == "final")
        // With an offset, the offset counts and nothing is kept beside the UTC value.
        let offset = Self.message(
            "ORU^R01^ORU_R01", "R02",
            [Self.pid, "OBR|1|ORD1|FIL1|57021-8^CBC^LN|||20240315093000-0700|||||||||||||||20240315101500|||F"])
        let other = try #require(Self.resources(try chicago.convert(offset).bundle, "DiagnosticReport").first)
        #expect(other["effectiveDateTime"]?.stringValue == "2024-03-15T16:30:00Z")
        #expect(other["_effectiveDateTime"] == nil)
    }

    @Test func unmappedCodesAndUnusedFieldsAndSegmentsAreReported() throws {
        let message = Self.message(
            "ADT^A04^ADT_A01", "U1",
            [
                "EVN|A04|20240315083000",
                Self.pid.replacingOccurrences(of: "|19710422|F|", with: "|19710422|Q|") + "|||||||||||||||||Y",
                Self.pv1, "ZPI|1|VIP",
            ])
        let conversion = try Self.converter.convert(message)
        #expect(Self.validator.validate(conversion.bundle).isValid)
        #expect(conversion.issues.contains { $0.hasPrefix("PID-8: code 'Q' has no mapping in AdministrativeSex") })
        #expect(Self.resources(conversion.bundle, "Patient").first?["gender"] == nil)
        #expect(conversion.unused.contains("ZPI"), "\(conversion.unused)")
        #expect(
            conversion.unused.contains("EVN"), "EVN makes only the Provenance the IG wants, which Ferry writes itself")
    }

    @Test func theProvenanceNamesTheMessage() throws {
        let message = Self.messages[0].1
        let bundle = try Self.converter.convert(message).bundle
        let provenance = try #require(Self.resources(bundle, "Provenance").first)
        let digest = try #require(provenance["entity"]?[0]?["what"]?["display"]?.stringValue)
        #expect(digest.hasPrefix("ADT^A01 A01 sha256:") && digest.count == "ADT^A01 A01 sha256:".count + 64)
        #expect(provenance["entity"]?[0]?["what"]?["identifier"]?["value"]?.stringValue == "A01")
        #expect(provenance["recorded"]?.stringValue == "2024-03-15T08:30:00Z")
        let targets = provenance["target"]?.arrayValue?.count ?? 0
        #expect(targets == (bundle["entry"]?.arrayValue?.count ?? 0) - 1, "every other entry is a target")
    }

    /// Found by FuzzV2ToFHIR: control characters in MSH-4 and MSH-10 reached the Provenance's strings.
    @Test func controlCharactersInTheHeaderStillMakeAValidBundle() throws {
        let message = try HL7Message(
            parsing: Array(
                "MSH|^~\\&|REG|GEN\u{01}\u{00}HOSP|FERRY|CLOUD|20240315083000||ADT^A04^ADT_A01|C\u{02}1|P|2.5.1\r".utf8)
                + Array("EVN|A04\r\(Self.pid)\r\(Self.pv1)\r".utf8))
        let conversion = try Self.converter.convert(message)
        #expect(
            Self.validator.validate(conversion.bundle).isValid, "\(Self.validator.validate(conversion.bundle).errors)")
    }

    @Test func aMessageWithoutAStructureOrMapIsAnError() throws {
        let unknown = Self.message("ZZZ^Z01", "Z1", [Self.pid])
        #expect(throws: V2Converter.ConversionError.self) { try Self.converter.convert(unknown) }
    }

    /// A converter with the shipped maps and a site's own (`maps`, a maps document as JSON text).
    static func siteConverter(_ maps: String) throws -> V2Converter {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-maps-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("site.json")
        try maps.write(to: file, atomically: true, encoding: .utf8)
        return V2Converter(maps: try V2Maps.shipped(adding: file.path), definitions: definitions)
    }

    @Test func aSitesOwnMapsAddAZSegment() throws {
        let site = try Self.siteConverter(
            """
            {"messages": {"ADT_A01+": [["ADT_A01.ZPI","ZPI",null,"Patient[1]","ZPI[Patient]",null]]},
             "segments": {"ZPI[Patient]": [["ZPI-2",null,"extension[9].url","uri",null,null,"https://example.org/vip"],
                                           ["ZPI-2",null,"extension[9].valueString","string",null,null,null]]}}
            """)
        let message = Self.message(
            "ADT^A04^ADT_A01", "Z2", ["EVN|A04|20240315083000", Self.pid, Self.pv1, "ZPI|1|VIP"])
        let conversion = try site.convert(message)
        let patient = try #require(Self.resources(conversion.bundle, "Patient").first)
        #expect(patient["extension"]?[0]?["valueString"]?.stringValue == "VIP")
        #expect(!conversion.unused.contains("ZPI"))
    }
}

/// Ferry's corrections of the IG's maps (`NAME-` rows out, `NAME+` rows in).
@Suite struct V2MapCorrectionTests {
    typealias Support = V2ConverterTests

    @Test func theAddressTypeIsKeptInAnExtensionWithAURL() throws {
        let pid = "PID|1||100234^^^GENHOSP^MR||RIVERA^ANA||19710422|F|||12 ELM ST^^SPRINGFIELD^IL^62701^US^H"
        let conversion = try Support.converter.convert(
            Support.message("ADT^A04^ADT_A01", "X1", ["EVN|A04|20240315083000", pid, Support.pv1]))
        let address = try #require(Support.resources(conversion.bundle, "Patient").first?["address"]?[0])
        #expect(address["use"]?.stringValue == "home")
        let type = try #require(address["extension"]?[0])
        #expect(type["url"]?.stringValue == "https://ferry.health/fhir/StructureDefinition/hl7v2-address-type")
        #expect(type["valueCodeableConcept"]?["coding"]?[0]?["code"]?.stringValue == "H")
        #expect(
            type["valueCodeableConcept"]?["coding"]?[0]?["system"]?.stringValue
                == "http://terminology.hl7.org/CodeSystem/v2-0190")
        #expect(!conversion.issues.contains { $0.contains("address") || $0.contains("PID-11") }, "\(conversion.issues)")
    }

    @Test func theOrderDateIsKeptInTheBusinessEvent() throws {
        let conversion = try Support.converter.convert(
            Support.message(
                "ORU^R01^ORU_R01", "X2",
                [
                    Support.pid, "ORC|RE|ORD77|FIL77||CM||||20240315093000",
                    "OBR|1|ORD77|FIL77|57021-8^CBC panel^LN|||20240315093000|||||||||||||||20240315101500|||F",
                    "OBX|1|NM|6690-2^Leukocytes^LN||7.1|10*3/uL^^UCUM|4.0-10.5|N|||F",
                ]))
        let order = try #require(Support.resources(conversion.bundle, "ServiceRequest").first)
        let events = order["extension"]?.arrayValue ?? []
        let dated = events.first { $0["extension"]?[0]?["url"]?.stringValue == "date" }
        #expect(dated?["url"]?.stringValue == "http://hl7.org/fhir/StructureDefinition/businessEvent")
        #expect(dated?["extension"]?[0]?["valueDateTime"]?.stringValue?.hasPrefix("2024-03-15") == true)
        #expect(
            !conversion.issues.contains { $0.contains("ORC-9") || $0.contains("ServiceRequest") },
            "\(conversion.issues)")
    }

    @Test(arguments: ["ADT^A01^ADT_A01", "ADT^A28^ADT_A05"])
    func theInsuranceIsAnActiveCoverageOfThePatientAndADiagnosisNoEpisode(_ type: String) throws {
        let conversion = try Support.converter.convert(
            Support.message(
                type, "X3",
                [
                    "EVN|A01|20240315083000", Support.pid, Support.pv1,
                    "DG1|1||I10^Essential hypertension^I10||20240315|A",
                    "IN1|1|BCBS^Blue Cross|60054|BLUE CROSS||||||||20240101|20241231",
                ]))
        #expect(Support.validator.validate(conversion.bundle).isValid)
        let coverage = try #require(Support.resources(conversion.bundle, "Coverage").first)
        #expect(coverage["status"]?.stringValue == "active")
        let patient = try #require(Support.resources(conversion.bundle, "Patient").first?["id"]?.stringValue)
        #expect(coverage["beneficiary"]?["reference"]?.stringValue == "Patient/\(patient)")
        #expect(Support.resources(conversion.bundle, "EpisodeOfCare").isEmpty)
        #expect(Support.resources(conversion.bundle, "Condition").count == 1)
        #expect(!conversion.issues.contains { $0.contains("left out") }, "\(conversion.issues)")
    }

    @Test(arguments: [("AU", "final"), ("LA", "final"), ("IP", "preliminary"), ("DI", "preliminary")])
    func aDocumentsCompletionStatusBecomesItsDocStatus(_ completion: String, _ status: String) throws {
        let conversion = try Support.converter.convert(
            Support.message(
                "MDM^T02^MDM_T02", "X4",
                [
                    "EVN|T02|20240315110000", Support.pid, Support.pv1,
                    "TXA|1|DS^Discharge summary|TX|20240315110000|1234^KOWALSKI^PIOTR|||||||DOC1|||||\(completion)||AV",
                    "OBX|1|TX|18842-5^Discharge summary^LN||Patient stable.~Second line.||||||F",
                ]))
        let document = try #require(Support.resources(conversion.bundle, "DocumentReference").first)
        #expect(document["docStatus"]?.stringValue == status)
        // One attachment: the text with its type (TXA-3 `TX` is a table 0191 code, not a MIME type).
        let contents = document["content"]?.arrayValue ?? []
        #expect(contents.count == 1)
        #expect(contents.first?["attachment"]?["contentType"]?.stringValue == "text/plain")
        #expect(
            contents.first?["attachment"]?["data"]?.stringValue
                == Data("Patient stable.\nSecond line.".utf8).base64EncodedString())
        #expect(!conversion.issues.contains { $0.contains("docStatus") }, "\(conversion.issues)")
    }

    @Test func aCorrectionNamingARowThatIsNotThereIsAnError() throws {
        func maps(_ correction: String) throws -> V2Maps {
            let ig = try JSONParser().parse(
                Data(#"{"datatypes": {"XAD[Address]": [["XAD.3",null,"city","string",null,null,null]]}}"#.utf8))
            return try V2Maps(documents: [ig, try JSONParser().parse(Data(correction.utf8))])
        }
        _ = try maps(#"{"datatypes": {"XAD[Address]-": [["XAD.3",null,"city","string",null,null,null]]}}"#)
        #expect {
            try maps(#"{"datatypes": {"XAD[Address]-": [["XAD.3",null,"town","string",null,null,null]]}}"#)
        } throws: { "\($0)".contains("is not a row of XAD[Address]") }
        #expect {
            try maps(#"{"datatypes": {"XPN[HumanName]-": [["XPN.1",null,"family","string",null,null,null]]}}"#)
        } throws: { "\($0)".contains("there is no map XPN[HumanName]") }
    }
}

/// The sender in a Provenance's identifier system is percent-encoded on bytes, as Foundation would.
@Suite struct V2URISafeTests {
    @Test func senderTextIsEncodedAsFoundationEncodesIt() {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        var samples = [
            "REG|GENHOSP", "", "a-b.c_d~e", "Größe|Ärzte", "東京|病院", "tab\there", "😀|x", "e\u{301}", "100%",
            "a b+c/d?e#f",
            "\u{7F}\u{80}\u{A0}", "١٢٣", "Ⅻ", "ﬁ",
        ]
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("aZ09-._~|^&%/ \u{0}\u{1F}é東😀\u{301}١".unicodeScalars)
        for _ in 0..<500 {
            let length = Int.random(in: 0..<12, using: &generator)
            samples.append(
                String(String.UnicodeScalarView((0..<length).map { _ in alphabet.randomElement(using: &generator)! })))
        }
        for text in samples {
            #expect(
                V2ConversionRun.uriSafe(text) == text.addingPercentEncoding(withAllowedCharacters: allowed),
                "\(text.debugDescription)")
        }
    }
}

/// Repetitions of a segment in one group make a resource each.
@Suite struct V2RepeatedSegmentTests {
    typealias Support = V2ConverterTests

    @Test func twoAllergiesAndTwoDiagnosesAreFourResources() throws {
        let (message, conversion) = try Support.admission(
            "R1",
            [
                "AL1|1|DA|70618^Penicillin^RXNORM|SV|Hives", "AL1|2|FA|256349002^Peanut^SCT|MO|Swelling",
                "DG1|1||I10^Essential hypertension^I10||20240315|A", "DG1|2||E11.9^Type 2 diabetes^I10||20240315|A",
            ])
        let allergies = Support.resources(conversion.bundle, "AllergyIntolerance")
        #expect(
            allergies.compactMap { $0["code"]?["coding"]?[0]?["code"]?.stringValue }.sorted() == ["256349002", "70618"])
        let conditions = Support.resources(conversion.bundle, "Condition")
        #expect(conditions.compactMap { $0["code"]?["coding"]?[0]?["code"]?.stringValue }.sorted() == ["E11.9", "I10"])
        #expect(Set(conditions.compactMap { $0["id"]?.stringValue }).count == 2)
        // The visit names each diagnosis's own Condition.
        let encounter = try #require(Support.resources(conversion.bundle, "Encounter").first)
        let named = (encounter["diagnosis"]?.arrayValue ?? []).compactMap { $0["condition"]?["reference"]?.stringValue }
        #expect(Set(named) == Set(conditions.compactMap { $0["id"]?.stringValue }.map { "Condition/\($0)" }))
        // Each allergy and each diagnosis is the patient's.
        let patient = try #require(Support.resources(conversion.bundle, "Patient").first?["id"]?.stringValue)
        #expect(allergies.allSatisfy { $0["patient"]?["reference"]?.stringValue == "Patient/\(patient)" })
        #expect(conditions.allSatisfy { $0["subject"]?["reference"]?.stringValue == "Patient/\(patient)" })
        // The same message again gives the same ids.
        let again = try Support.converter.convert(message)
        #expect(
            Support.resources(again.bundle, "Condition").compactMap { $0["id"]?.stringValue }
                == conditions.compactMap { $0["id"]?.stringValue })
    }
}

/// A repeating primitive with an extension on an item (AL1-2 as `category` and, as the IG maps it,
/// the code as sent in an `alternate-codes` extension on that item, `_category`).
@Suite struct V2RepeatingPrimitiveExtensionTests {
    typealias Support = V2ConverterTests

    @Test func anAllergysCategoryKeepsItsCodeAsSentBesideIt() throws {
        let (_, conversion) = try Support.admission("X1", ["AL1|1|DA^Drug allergy^HL70127|70618^Penicillin^RXNORM"])
        #expect(!conversion.issues.contains { $0.contains("category") }, "\(conversion.issues)")
        let allergy = try #require(Support.resources(conversion.bundle, "AllergyIntolerance").first)
        #expect(allergy["category"] == ["medication"])
        let extras = try #require(allergy["_category"]?.arrayValue)
        #expect(extras.count == 1, "one item of _category for each item of category")
        let extensionItem = try #require(extras.first?["extension"]?[0])
        #expect(extensionItem["url"] == "http://hl7.org/fhir/StructureDefinition/alternate-codes")
        let codes = (extensionItem["valueCodeableConcept"]?["coding"]?.arrayValue ?? []).compactMap {
            $0["code"]?.stringValue
        }
        #expect(codes.contains("DA"))
    }

    /// Items with a value and no extension, and with an extension and no value, line up in the two
    /// arrays with nulls where one side has nothing.
    @Test func valuesAndTheirExtrasLineUpItemForItem() throws {
        let definitions = Support.definitions
        let walker = TargetPathWalker(definitions: definitions)
        let node = ResourceNode(type: try #require(definitions.objectType(named: "AllergyIntolerance")))
        func write(_ path: String, _ value: JSON, repetition: Int) throws {
            let steps = try #require(TargetStep.parse(path))
            guard
                case .primitive(let holder, let member, let slot) = try walker.place(
                    steps[...], from: node, suffix: .repetition(repetition, segment: 0))
            else {
                Issue.record("\(path) is not a primitive")
                return
            }
            if let slot { slot.primitive = value } else { holder.set(member.name, .primitive(value)) }
        }
        try write("category", "food", repetition: 1)
        try write("category.extension[1].url", "http://x/a", repetition: 2)
        try write("category.extension[1].valueString", "second, no value", repetition: 2)
        try write("category", "medication", repetition: 3)
        try write("category.extension[1].url", "http://x/b", repetition: 3)
        try write("category.extension[1].valueString", "third", repetition: 3)
        let json = try #require(node.json())
        #expect(json["category"] == ["food", nil, "medication"])
        #expect(
            json["_category"]
                == [
                    nil, ["extension": [["url": "http://x/a", "valueString": "second, no value"]]],
                    ["extension": [["url": "http://x/b", "valueString": "third"]]],
                ])
        let resource = ResourceNode.resource(type: "AllergyIntolerance", id: "a1", members: node.jsonMembers())
        let outcome = Support.validator.validate(resource)
        #expect(
            !outcome.issues.contains { $0.expression.contains("category") && $0.severity == .error },
            "\(outcome.issues)")
    }
}

/// The repair that takes an invalid element out of a converted resource finds a primitive's
/// extensions in its `_name` sibling and keeps a repeating primitive's two arrays in step.
@Suite struct V2RepairOfPrimitiveExtrasTests {
    static let allergy: JSON = [
        "resourceType": "AllergyIntolerance", "category": ["food", "medication"],
        "_category": [nil, ["extension": [["url": "http://x/a", "valueString": "v"]]]],
        "onsetDateTime": "2020-01-01", "_onsetDateTime": ["extension": [["url": "http://x/o", "valueString": "o"]]],
    ]

    func removing(_ expression: String) -> JSON? {
        V2ConversionRun.removing(V2ConversionRun.steps(expression)[...], from: Self.allergy)
    }

    @Test func anItemTakenOutTakesItsExtrasWithIt() throws {
        let smaller = try #require(removing("AllergyIntolerance.category[1]"))
        #expect(smaller["category"] == ["food"])
        #expect(smaller["_category"] == nil, "a _category of nulls alone is not kept")
        let first = try #require(removing("AllergyIntolerance.category[0]"))
        #expect(first["category"] == ["medication"])
        #expect(first["_category"] == [["extension": [["url": "http://x/a", "valueString": "v"]]]])
    }

    @Test func anExtensionTakenOutOfAnItemLeavesTheValue() throws {
        let smaller = try #require(removing("AllergyIntolerance.category[1].extension[0]"))
        #expect(smaller["category"] == ["food", "medication"])
        #expect(smaller["_category"] == nil)
        let single = try #require(removing("AllergyIntolerance.onsetDateTime.extension[0]"))
        #expect(single["onsetDateTime"] == "2020-01-01")
        #expect(single["_onsetDateTime"] == nil)
    }

    /// Where the validator places an error in an item's extension is where the repair looks for it.
    @Test func theValidatorsLocationLeadsTheRepairToTheItemsExtras() throws {
        let broken: JSON = [
            "resourceType": "AllergyIntolerance", "patient": ["reference": "Patient/1"],
            "clinicalStatus": [
                "coding": [
                    ["system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", "code": "active"]
                ]
            ],
            "category": ["food", "medication"], "_category": [nil, ["extension": [["url": "http://x/a"]]]],
        ]
        let validator = V2ConverterTests.validator
        let errors = validator.validate(broken).errors
        #expect(errors.count == 1, "\(errors)")
        let error = try #require(errors.first)
        let smaller = try #require(V2ConversionRun.removing(V2ConversionRun.steps(error.expression)[...], from: broken))
        #expect(validator.validate(smaller).isValid, "\(error.expression)")
        #expect(smaller["category"] == ["food", "medication"])
    }

    @Test func nothingThereIsNothingTakenOut() {
        #expect(removing("AllergyIntolerance.category[0].extension[0]") == nil)
        #expect(removing("AllergyIntolerance.category[5]") == nil)
    }
}

/// Ferry's output for the IG's sample message against the IG's own bundle, element by element.
@Suite struct V2ImplementationGuideSampleTests {
    @Test func theMDMSampleAgreesWithTheIGBundleOnTheMappedElements() throws {
        let samples = V2MapsTests.shared.appendingPathComponent("v2-to-fhir/samples")
        let message = try HL7Message(
            parsing: try Data(contentsOf: samples.appendingPathComponent("messages/Message.hl7_MDM_T02.txt")))
        let conversion = try V2ConverterTests.converter.convert(message)
        #expect(V2ConverterTests.validator.validate(conversion.bundle).isValid)
        // The IG's "json" file for this sample is FHIR XML; Ferry reads both.
        let igBytes = [UInt8](
            try Data(contentsOf: samples.appendingPathComponent("fhir-bundles/FHIR_bundle.hl7_MDM_T02.json")))
        let ig = try FHIRXML(definitions: V2ConverterTests.definitions).read(igBytes)
        func first(_ bundle: JSON, _ type: String) -> JSON? { V2ConverterTests.resources(bundle, type).first }
        let ours = try #require(first(conversion.bundle, "Patient"))
        let theirs = try #require(first(ig, "Patient"))
        // Agreement on what PID maps.
        for path in [
            ["identifier", "0", "value"], ["name", "0", "family"], ["name", "0", "given", "0"], ["gender"],
            ["birthDate"], ["address", "0", "city"], ["address", "0", "state"], ["address", "0", "postalCode"],
        ] {
            #expect(Self.value(ours, path) == Self.value(theirs, path), "Patient.\(path.joined(separator: "."))")
            #expect(Self.value(ours, path) != nil, "Patient.\(path.joined(separator: ".")) is there")
        }
        let encounter = try #require(first(conversion.bundle, "Encounter"))
        let igEncounter = try #require(first(ig, "Encounter"))
        #expect(Self.value(encounter, ["status"]) == Self.value(igEncounter, ["status"]))
        // - Encounter.class: the IG's bundle keeps PV1-2 as sent (`I`); its own PatientClass vocabulary,
        //   which Ferry applies, makes it the v3 ActCode `IMP` the element's binding asks for.
        #expect(Self.value(igEncounter, ["class", "code"]) == .string("I"))
        #expect(Self.value(encounter, ["class", "code"]) == .string("IMP"))
        // Differences, each for a reason:
        // - The IG's sample bundle has no DocumentReference; its MDM_T02 message map makes one from TXA and
        //   OBX, and so does Ferry.
        #expect(first(ig, "DocumentReference") == nil && first(conversion.bundle, "DocumentReference") != nil)
        // - The IG's Patient keeps telecom without a system; FHIR's cpt-2 requires one, so Ferry leaves it
        //   out and reports it.
        #expect(conversion.issues.contains { $0.contains("Patient[1].telecom[0] left out") })
        // - The IG writes CWE.3 coding system names (`LN`) into Coding.system; Ferry writes their URIs.
        // - Ids differ: the IG's are random UUIDs, Ferry's are derived from identifiers and the message.
        #expect(Self.value(ours, ["id"]) != Self.value(theirs, ["id"]))
    }

    /// A value at a path of member names and array positions.
    static func value(_ json: JSON, _ path: [String]) -> JSON? {
        var current: JSON? = json
        for step in path {
            if let index = Int(step) { current = current?[index] } else { current = current?[step] }
        }
        return current
    }
}

/// SIU: the IG's AIP/AIL rows wrote the practitioner's name into the Reference itself and gave the
/// participation no valid status, its AIS rows made a participant with only a period, and its PID rows
/// made one subject extension per identifier repetition — each left out again by a repair.
@Suite struct V2AppointmentTests {
    typealias Support = V2ConverterTests

    @Test(arguments: [("Booked", "", "accepted"), ("Pending", "", "tentative"), ("Booked", "Cancelled", "declined")])
    func theAppointmentNamesItsPractitionerAndThePatientOnce(
        _ filler: String, _ practitionerFiller: String, _ status: String
    ) throws {
        let conversion = try Support.converter.convert(
            Support.message(
                "SIU^S12^SIU_S12", "S1",
                [
                    "SCH|APT1|APT1|||||ROUTINE^Routine^HL70276|FOLLOWUP^Follow-up^HL70277|30|min|^^30^20240320140000^20240320143000||||||||||||||\(filler)",
                    "PID|1||100009^^^GENHOSP^MR~683-89-5391^^^USSSA^SS||NGUYEN^SIOBHAN||19930714|M",
                    "PV1|1|O", "RGS|1|A", "AIS|1|A|99213^Office visit^CPT|20240320140000|0|min|30|min",
                    "AIP|1|A|1898^ADDISON^JAMES^^^DR|ATT^Attending||||||||\(practitionerFiller)",
                ]))
        let appointment = try #require(Support.resources(conversion.bundle, "Appointment").first)
        let practitioner = try #require(Support.resources(conversion.bundle, "Practitioner").first)
        #expect(practitioner["name"]?[0]?["family"]?.stringValue == "ADDISON")
        let patient = try #require(Support.resources(conversion.bundle, "Patient").first?["id"]?.stringValue)
        let participants = appointment["participant"]?.arrayValue ?? []
        #expect(participants.count == 2)
        let byPractitioner = participants.first {
            $0["actor"]?["reference"]?.stringValue == "Practitioner/\(practitioner["id"]?.stringValue ?? "")"
        }
        #expect(byPractitioner?["status"]?.stringValue == status)
        #expect(byPractitioner?["type"]?[0]?["coding"]?[0]?["code"]?.stringValue == "ATT")
        #expect(participants.contains { $0["actor"]?["reference"]?.stringValue == "Patient/\(patient)" })
        let subjects = (appointment["extension"]?.arrayValue ?? []).filter {
            $0["url"]?.stringValue == "http://hl7.org/fhir/5.0/StructureDefinition/extension-Appointment.subject"
        }
        #expect(subjects.map { $0["valueReference"]?["reference"]?.stringValue } == ["Patient/\(patient)"])
        #expect(!conversion.issues.contains { $0.contains("left out") || $0.contains("AIP-3") }, "\(conversion.issues)")
    }
}

/// A data type map's further instances: a PL's room, unit and facility beside its bed (each a
/// Location), a name's second form beside the first (a second element of the target).
@Suite struct V2FurtherInstanceTests {
    typealias Support = V2ConverterTests

    /// The Locations of a bundle by their identifier's value, and where each one's `partOf` leads.
    static func places(_ bundle: JSON) -> (byValue: [String: JSON], parent: [String: String]) {
        var byID: [String: JSON] = [:]
        var byValue: [String: JSON] = [:]
        for location in Support.resources(bundle, "Location") {
            if let id = location["id"]?.stringValue { byID[id] = location }
            if let value = location["identifier"]?[0]?["value"]?.stringValue { byValue[value] = location }
        }
        var parent: [String: String] = [:]
        for (value, location) in byValue {
            guard let reference = location["partOf"]?["reference"]?.stringValue,
                let target = byID[String(reference.dropFirst("Location/".count))],
                let targetValue = target["identifier"]?[0]?["value"]?.stringValue
            else { continue }
            parent[value] = targetValue
        }
        return (byValue, parent)
    }

    /// PV1-3 `3N^308^A^GENHOSP^^^B1^2`: a Location per level (bed, room, floor, point of care,
    /// building, facility), each part of the next there is, and the Encounter at the bed.
    @Test func aPlaceBecomesALocationPerLevelEachPartOfTheNext() throws {
        let conversion = try Support.converter.convert(
            Support.message(
                "ADT^A01^ADT_A01", "F1",
                ["EVN|A01|20240315083000", Support.pid, "PV1|1|I|3N^308^A^GENHOSP^^^B1^2^3 NORTH"]))
        let (places, parent) = Self.places(conversion.bundle)
        #expect(Set(places.keys) == ["A", "308", "2", "3N", "B1", "GENHOSP"])
        let types = places.mapValues { $0["physicalType"]?["coding"]?[0]?["code"]?.stringValue ?? "" }
        #expect(types == ["A": "bd", "308": "ro", "2": "lvl", "3N": "wa", "B1": "bu", "GENHOSP": "si"])
        #expect(parent == ["A": "308", "308": "2", "2": "3N", "3N": "GENHOSP", "B1": "GENHOSP"])
        #expect(places["A"]?["description"]?.stringValue == "3 NORTH")
        let encounter = try #require(Support.resources(conversion.bundle, "Encounter").first)
        #expect(
            encounter["location"]?[0]?["location"]?["reference"]?.stringValue
                == "Location/\(places["A"]?["id"]?.stringValue ?? "")")
        #expect(!conversion.issues.contains { $0.hasPrefix("PV1-3") }, "\(conversion.issues)")
        #expect(Support.validator.validate(conversion.bundle).isValid)
    }

    /// Levels the value leaves out are skipped: a room in a facility is part of the facility, and a
    /// place with no bed puts the Encounter at its most specific level.
    @Test func missingLevelsAreSkippedAndTheMostSpecificIsTheEncountersPlace() throws {
        let conversion = try Support.converter.convert(
            Support.message(
                "ADT^A01^ADT_A01", "F2", ["EVN|A01|20240315083000", Support.pid, "PV1|1|I|^308^^GENHOSP"]))
        let (places, parent) = Self.places(conversion.bundle)
        #expect(Set(places.keys) == ["308", "GENHOSP"])
        #expect(parent == ["308": "GENHOSP"])
        let encounter = try #require(Support.resources(conversion.bundle, "Encounter").first)
        #expect(
            encounter["location"]?[0]?["location"]?["reference"]?.stringValue
                == "Location/\(places["308"]?["id"]?.stringValue ?? "")")
    }

    /// The same place in two messages is the same Locations (ids from their content, links included).
    @Test func theSamePlaceIsTheSameLocations() throws {
        func ids(_ control: String) throws -> Set<String> {
            let conversion = try Support.converter.convert(
                Support.message(
                    "ADT^A01^ADT_A01", control, ["EVN|A01|20240315083000", Support.pid, "PV1|1|I|3N^308^A^GENHOSP"]))
            return Set(Support.resources(conversion.bundle, "Location").compactMap { $0["id"]?.stringValue })
        }
        let first = try ids("F3")
        #expect(first.count == 4)
        #expect(try ids("F4") == first)
    }

    /// A name's nickname (XPN.15, `[2].given` and `[2].use`) is a second HumanName beside the first
    /// where the target repeats (`Patient.name`, `RelatedPerson.name`); where it does not (a
    /// contact's one `name`) it cannot be held and is reported.
    @Test func aFurtherInstanceIsAnElementBesideTheFirstWhereTheTargetRepeats() throws {
        let conversion = try Support.converter.convert(
            Support.message(
                "ADT^A01^ADT_A01", "F5",
                [
                    "EVN|A01|20240315083000",
                    "PID|1||100001^^^GENHOSP^MR||DOE^JANE^^^^^L^^^^^^^^JJ||19800101|F",
                    "NK1|1|DOE^JOHN^^^^^L^^^^^^^^JD|SPO^Spouse^HL70063",
                ]))
        #expect(Support.validator.validate(conversion.bundle).isValid)
        let patient = try #require(Support.resources(conversion.bundle, "Patient").first)
        let names = patient["name"]?.arrayValue ?? []
        #expect(names.count == 2, "\(names)")
        #expect(names.first?["family"] == "DOE" && names.first?["given"] == ["JANE"])
        #expect(names.last?["given"] == ["JJ"] && names.last?["use"] == "nickname")
        #expect(!conversion.issues.contains { $0.hasPrefix("PID-5.15: ") }, "\(conversion.issues)")
        let related = try #require(Support.resources(conversion.bundle, "RelatedPerson").first)
        #expect(related["name"]?.arrayValue?.contains { $0["given"] == ["JD"] && $0["use"] == "nickname" } == true)
        // The contact's one name cannot hold a second: reported, never dropped unsaid.
        #expect(patient["contact"]?[0]?["name"]?["family"] == "DOE")
        #expect(
            conversion.issues.contains { $0.hasPrefix("NK1-2.15: ") && $0.contains("not made yet") },
            "\(conversion.issues)")
    }
}
