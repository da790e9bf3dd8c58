import FHIR
import Foundation
import HL7v2
import Testing

@testable import Mapping

/// FHIR back to v2: what the v2-to-FHIR direction made comes back in the fields it came from.
@Suite struct FHIRToV2Tests {
    let reverse = FHIRToV2()
    let time = Date(timeIntervalSince1970: 1_710_513_000)  // 2024-03-15T14:30:00Z

    @Test func anADTRoundTripKeepsWhoThePatientIs() throws {
        let original = V2ConverterTests.messages[0].1
        let bundle = try V2ConverterTests.converter.convert(original).bundle
        let messages = reverse.messages(from: bundle, controlPrefix: "RB", at: time)
        let adt = try #require(messages.first { $0.messageType == "ADT" })
        #expect(try adt.value(at: "MSH-9") == .text("ADT^A08^ADT_A01"))
        #expect(try adt.value(at: "MSH-7") == .text("20240315143000+0000"))
        #expect(try adt.value(at: "MSH-10") == .text("RB-1"))
        for path in [
            "PID-3.1", "PID-3.4", "PID-3.5", "PID-5.1", "PID-5.2", "PID-5.3", "PID-7", "PID-8", "PID-11.1", "PID-11.3",
            "PID-11.4", "PID-11.5",
        ] {
            #expect(try adt.value(at: path) == original.value(at: path), "\(path)")
        }
        #expect(try adt.value(at: "PV1-2") == .text("I"), "IMP back to I")
        // What goes back parses, follows its structure, and converts to FHIR again.
        let reparsed = try HL7Message(parsing: adt.encoded())
        #expect(HL7GroupedMessage(reparsed)?.issues.isEmpty == true)
        let again = try V2ConverterTests.converter.convert(reparsed)
        #expect(V2ConverterTests.validator.validate(again.bundle).isValid)
        let first = V2ConverterTests.resources(bundle, "Patient").first
        #expect(V2ConverterTests.resources(again.bundle, "Patient").first?["name"] == first?["name"])
    }

    @Test func anORURoundTripKeepsTheResults() throws {
        let original = V2ConverterTests.messages[10].1
        let bundle = try V2ConverterTests.converter.convert(original).bundle
        let oru = try #require(
            reverse.messages(from: bundle, controlPrefix: "RB", at: time).first { $0.messageType == "ORU" })
        for path in [
            "OBR-2", "OBR-3", "OBR-4.1", "OBR-25", "OBX-3.1", "OBX-3.3", "OBX-5", "OBX-6.1", "OBX-7", "OBX-8",
            "OBX-11", "NTE-3", "PID-3.1",
        ] {
            #expect(try oru.value(at: path) == original.value(at: path), "\(path)")
        }
        #expect(try oru.value(at: "OBX-2") == .text("NM"))
        #expect(try oru.value(at: "OBR-7") == .text("20240315093000+0000"), "UTC, with its offset")
        let again = try V2ConverterTests.converter.convert(try HL7Message(parsing: oru.encoded()))
        #expect(V2ConverterTests.validator.validate(again.bundle).isValid)
    }

    @Test func textIsEscapedOnTheWayBack() throws {
        let patient = try JSONParser().parse(
            #"{"resourceType":"Patient","id":"p1","name":[{"family":"O|BRIEN^&","given":["ANA~M"]}],"gender":"female"}"#
        )
        let message = reverse.patientUpdate(patient, encounter: nil, controlID: "E1", at: time)
        let reparsed = try HL7Message(parsing: message.encoded())
        #expect(try reparsed.value(at: "PID-5.1") == .text("O|BRIEN^&"))
        #expect(try reparsed.value(at: "PID-5.2") == .text("ANA~M"))
        #expect(try reparsed.value(at: "PV1-2") == .text("N"), "no encounter: not applicable")
    }

    @Test(arguments: [
        ("2024-03-15T14:30:00Z", "20240315143000+0000"), ("2024-03-15T09:30:00.250-05:00", "20240315093000.250-0500"),
        ("2024-03-15", "20240315"), ("2024-03", "202403"),
    ])
    func fhirTimesBecomeDTM(fhir: String, v2: String) {
        #expect(FHIRToV2.dtm(fhir) == v2)
    }
}
