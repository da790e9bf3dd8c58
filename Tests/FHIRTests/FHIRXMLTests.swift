import FHIR
import Foundation
import Testing

@Suite struct FHIRXMLTests {
    let xml = FHIRXML(definitions: TestSupport.definitions)

    @Test(arguments: TestSupport.exampleFiles().map(\.lastPathComponent))
    func officialExampleRoundTripsThroughXML(_ name: String) throws {
        let original = try JSON(parsing: Data(contentsOf: TestSupport.examplesFolder.appendingPathComponent(name)))
        let written = try xml.write(original)
        let read = try xml.read(written)
        #expect(read.canonicalBytes == original.canonicalBytes, "\(name) changed on the way through XML")
        #expect(try xml.write(read) == written, "\(name): writing is not stable")
    }

    @Test func readsPrimitivesExtensionsRepeatsAndContainedResources() throws {
        let text = """
            <?xml version="1.0" encoding="UTF-8"?>
            <!-- a comment -->
            <Patient xmlns="http://hl7.org/fhir">
              <id value="p1"/>
              <text><status value="generated"/><div xmlns="http://www.w3.org/1999/xhtml"><p>A &amp; B</p></div></text>
              <contained><Organization><id value="o1"/><name value="Clinic"/></Organization></contained>
              <active value="true"/>
              <name id="n1">
                <given value="Ann"/>
                <given><extension url="http://x/absent"><valueCode value="unknown"/></extension></given>
              </name>
              <name><family value="Line&#10;Two"/></name>
              <birthDate value="1970-01-01">
                <extension url="http://hl7.org/fhir/StructureDefinition/patient-birthTime"><valueDateTime value="1970-01-01T10:00:00Z"/></extension>
              </birthDate>
              <multipleBirthInteger value="2"/>
              <managingOrganization><reference value="#o1"/></managingOrganization>
            </Patient>
            """
        let patient = try xml.read(Array(text.utf8))
        let expected = try JSON(
            parsing: #"""
                {"resourceType":"Patient","id":"p1",
                 "text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>A &amp; B</p></div>"},
                 "contained":[{"resourceType":"Organization","id":"o1","name":"Clinic"}],
                 "active":true,
                 "name":[{"id":"n1","given":["Ann",null],"_given":[null,{"extension":[{"url":"http://x/absent","valueCode":"unknown"}]}]},
                         {"family":"Line\nTwo"}],
                 "birthDate":"1970-01-01",
                 "_birthDate":{"extension":[{"url":"http://hl7.org/fhir/StructureDefinition/patient-birthTime","valueDateTime":"1970-01-01T10:00:00Z"}]},
                 "multipleBirthInteger":2,
                 "managingOrganization":{"reference":"#o1"}}
                """#)
        #expect(patient == expected)
        #expect(TestSupport.validator.validate(patient).errors.isEmpty)
    }

    struct HostileXML: Sendable, CustomTestStringConvertible {
        var text: String
        var message: String
        var line: Int?
        var testDescription: String { message }
    }

    static let hostile: [HostileXML] = [
        HostileXML(
            text: "<!DOCTYPE x [<!ENTITY a \"aaaa\">]><Patient xmlns=\"http://hl7.org/fhir\"/>",
            message: "DOCTYPE is not allowed", line: 1),
        HostileXML(
            text: "<Patient xmlns=\"http://hl7.org/fhir\"><id value=\"&xxe;\"/></Patient>",
            message: "predefined entities", line: 1),
        HostileXML(
            text: "<Patient xmlns=\"http://hl7.org/fhir\">\n<id value=\"1\">\n</Patient>", message: "does not close",
            line: 3),
        HostileXML(
            text: "<Patient xmlns=\"http://hl7.org/fhir\"><id value=\"1/></Patient>",
            message: "'<' is not allowed in an attribute value", line: 1),
        HostileXML(text: "<Patient xmlns=\"http://hl7.org/fhir\">", message: "is not closed", line: 1),
        HostileXML(
            text: "<Patient xmlns=\"http://hl7.org/fhir\" id=\"1\" id=\"2\"/>", message: "duplicate attribute", line: 1),
        HostileXML(text: "<x:Patient xmlns=\"http://hl7.org/fhir\"/>", message: "undeclared namespace prefix", line: 1),
        HostileXML(text: "", message: "no root element", line: 1),
        HostileXML(text: "<a/><b/>", message: "only one root element", line: 1),
        HostileXML(
            text: "<Patient xmlns=\"http://hl7.org/fhir\"><id value=\"&#0;\"/></Patient>",
            message: "invalid character reference", line: 1),
        HostileXML(
            text: "<Patient xmlns=\"http://hl7.org/fhir\">\n  <nickname value=\"x\"/>\n</Patient>",
            message: "unknown element <nickname>", line: 2),
        HostileXML(
            text: "<Patient xmlns=\"http://hl7.org/fhir\"><active value=\"yes\"/></Patient>", message: "not a boolean",
            line: 1),
        HostileXML(
            text: "<Patient xmlns=\"http://hl7.org/fhir\"><gender value=\"male\"/><gender value=\"female\"/></Patient>",
            message: "does not repeat", line: 1),
        HostileXML(text: "<Patient><id value=\"1\"/></Patient>", message: "not in the FHIR namespace", line: 1),
        HostileXML(text: "<Patientt xmlns=\"http://hl7.org/fhir\"/>", message: "not a FHIR R4 resource type", line: 1),
        HostileXML(
            text: "<Patient xmlns=\"http://hl7.org/fhir\"><multipleBirthInteger value=\"two\"/></Patient>",
            message: "not a number", line: 1),
        HostileXML(
            text: "<Patient xmlns=\"http://hl7.org/fhir\">text</Patient>", message: "text is not allowed", line: 1),
        HostileXML(
            text: String(repeating: "<a>", count: 300) + String(repeating: "</a>", count: 300), message: "deeper than",
            line: 1),
    ]

    @Test(arguments: hostile)
    func hostileOrBrokenXMLGetsALocatedError(_ example: HostileXML) {
        #expect {
            try xml.read(Array(example.text.utf8))
        } throws: { error in
            guard let error = error as? FHIRError else { return false }
            #expect(error.message.contains(example.message), "\(error.message)")
            if let line = example.line { #expect(error.line == line) }
            return true
        }
    }

    /// Inputs the fuzzer found, each of which once broke the promise that what Ferry writes reads back the same.
    func regression(_ name: String) throws -> [UInt8] {
        [UInt8](
            try Data(contentsOf: TestSupport.packageRoot.appendingPathComponent("Tests/FHIRTests/Regressions/\(name)")))
    }

    @Test func fuzzerFindingNarrativeNamespaceSpacingRoundTrips() throws {
        let resource = try xml.read(regression("xml-narrative-namespace-spacing.xml"))
        #expect(try xml.read(xml.write(resource)) == resource)
    }

    @Test func fuzzerFindingElementsOutOfOrderRoundTripInDefinitionOrder() throws {
        let resource = try xml.read(regression("xml-elements-out-of-order.xml"))
        let again = try xml.read(xml.write(resource))
        #expect(again.canonicalBytes == resource.canonicalBytes)
        // Read in document order (`id` after `birthDate`), written in the definition's (`id` first).
        #expect(
            resource.objectValue?.keys.first == "resourceType"
                && resource.objectValue?.keys.dropFirst().first == "active")
        #expect(again.objectValue?.keys.dropFirst().first == "id")
    }

    @Test func fuzzerFindingQualifiedNameWithColonsIsRejectedWithItsLocation() throws {
        let bytes = try regression("xml-qualified-name-colons.xml")
        #expect {
            try xml.read(bytes)
        } throws: { error in
            guard let error = error as? FHIRError else { return false }
            // The file also holds bytes that are not UTF-8; the reader now refuses those first, as located.
            return (error.message.contains("not a valid qualified name") || error.message.contains("invalid UTF-8"))
                && error.line != nil
        }
    }

    @Test func anEmptyPrimitiveElementIsAnErrorNotADroppedElement() {
        let text = "<Patient xmlns=\"http://hl7.org/fhir\"><active/><birthDate value=\"1970-01-01\"/></Patient>"
        #expect {
            try xml.read(Array(text.utf8))
        } throws: { error in
            (error as? FHIRError)?.message.contains("<active> has neither a value attribute nor extensions") == true
        }
    }

    @Test func aDuplicatedNamespaceDeclarationIsAnError() {
        let text = "<Patient xmlns=\"http://hl7.org/fhir\" xmlns=\"http://hl7.org/fhir\"/>"
        #expect(throws: FHIRError.self) { try xml.read(Array(text.utf8)) }
    }

    @Test func refusesDocumentsOverTheSizeLimit() {
        var limited = xml
        limited.maxBytes = 100
        let text =
            "<Patient xmlns=\"http://hl7.org/fhir\"><id value=\"\(String(repeating: "a", count: 200))\"/></Patient>"
        #expect(throws: FHIRError.self) { try limited.read(Array(text.utf8)) }
    }

    @Test func writingRejectsWhatXMLCannotCarry() throws {
        let unknown = try JSON(parsing: #"{"resourceType":"Patient","nickname":"x"}"#)
        #expect(throws: FHIRError.self) { try xml.write(unknown) }
        let badNarrative = try JSON(
            parsing:
                #"{"resourceType":"Patient","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>x</div>"}}"#
        )
        #expect(throws: FHIRError.self) { try xml.write(badNarrative) }
    }
}
