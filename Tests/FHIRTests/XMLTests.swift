import FHIR
import Testing

/// Found by FuzzXML: invalid UTF-8 inside a narrative was read with replacement characters and did not
/// survive a write and read; FHIR XML is UTF-8, so such bytes are refused where they stand.
@Suite struct XMLInvalidUTF8Tests {
    @Test func invalidUTF8InANarrativeIsRefusedWithItsPlace() throws {
        let definitions = try FHIRDefinitions.r4()
        let bytes =
            Array(
                #"<Patient xmlns="http://hl7.org/fhir"><text><status value="generated"/><div xmlns="http://www.w3.org/1999/xhtml"><p>A"#
                    .utf8)
            + [0xE0, 0xD9] + Array("</p></div></text></Patient>".utf8)
        #expect {
            try FHIRXML(definitions: definitions).read(bytes)
        } throws: { error in
            "\(error)".contains("invalid UTF-8") && "\(error)".contains("column 117")
        }
    }
}
