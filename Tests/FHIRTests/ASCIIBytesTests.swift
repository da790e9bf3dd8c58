import Testing

@testable import FHIR

/// The byte classes' literal masks against the predicates they stand for, every byte from 0 to 255.
@Suite struct ASCIIBytesTests {
    @Test func masksHoldExactlyTheirBytes() {
        for value in 0...255 {
            let byte = UInt8(value)
            let scalar = Unicode.Scalar(byte)
            let isLetter = byte < 0x80 && scalar.properties.isAlphabetic
            let isDigit = byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
            #expect(ASCIIBytes.letters.contains(byte) == isLetter, "byte \(value)")
            #expect(
                ASCIIBytes.idBytes.contains(byte) == (isLetter || isDigit || scalar == "-" || scalar == "."),
                "byte \(value)")
        }
    }

    @Test func containsAllLooksAtEveryByte() {
        func all(_ text: String) -> Bool {
            Array(text.utf8).withUnsafeBufferPointer { ASCIIBytes.idBytes.containsAll($0) }
        }
        #expect(all("example-1.v2"))
        #expect(all(""))
        #expect(!all("example_1"))
        #expect(!all("abc/"))
        #expect(!all("é"))
        #expect(!all(String(repeating: "a", count: 70) + " "))
    }

    @Test func plainReferencesAreTypeSlashID() {
        let plain = ["Patient/1", "Observation/a-b.c", "Patient/" + String(repeating: "x", count: 64)]
        let other = [
            "patient/1", "Patient/", "Patient/a_b", "Patient/1/_history/2", "Pat1ent/1", "#p1", "urn:uuid:1",
            "Patient/" + String(repeating: "x", count: 65), "Patient", "/1",
        ]
        for reference in plain { #expect(ValidationRun.plainRelativeSlash(reference) != nil, "\(reference)") }
        for reference in other { #expect(ValidationRun.plainRelativeSlash(reference) == nil, "\(reference)") }
    }
}
