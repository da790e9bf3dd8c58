import FHIR
import Foundation
import Testing

@testable import Store

/// The byte-level shortcuts a store's writes take agree with what they stand for.
@Suite struct SearchIndexRowsTests {
    /// `isTypeAndID` over bytes answers as `url == type + "/" + id` does, for near misses of every kind.
    @Test func typeAndIDIsTheSpeltOutComparison() {
        let types: [String?] = [nil, "", "Patient", "Pa", "Ωmega", "Observation"]
        let ids: [String?] = [nil, "", "1", "a/b", "é-1", "0000000000-1111-2222-3333-444444444444"]
        var urls = [
            "", "/", "Patient", "Patient/", "Patient/1", "Patient/1/", "Patient//1", "patient/1", "Pa/1", "Pa+1",
            "Patient/2",
        ]
        urls += ["Ωmega/é-1", "Ωmega/e-1", "http://x/Patient/1", "Patient/a/b", "Observation/a/b", "Pa//", "/1"]
        urls += ["Observation/0000000000-1111-2222-3333-444444444444"]
        var matches = 0
        for url in urls {
            for type in types {
                for id in ids {
                    let expected = type != nil && id != nil && url == type! + "/" + id!
                    #expect(
                        SearchIndexRows.isTypeAndID(url, type: type, id: id) == expected,
                        "\(url) \(type ?? "nil") \(id ?? "nil")")
                    if expected { matches += 1 }
                }
            }
        }
        #expect(matches == 9)
    }

    /// `isTypeSlashID` over bytes answers as the spelt-out test does: no `?`, one `/`, neither first nor last.
    @Test func aPlainPutURLIsTheSpeltOutTest() {
        let urls = [
            "", "/", "//", "?", "Patient", "Patient/", "/1", "Patient/1", "Patient/1/", "Patient//1", "a/b/c", "P/1",
            "Patient/1?x=2", "Patient?identifier=a|b", "?/", "/?", "Ωmega/é-1", "Ωmega/é?", "urn:uuid:1", "a/?",
        ]
        for url in urls {
            let expected =
                !url.utf8.contains(UInt8(ascii: "?")) && url.utf8.count(where: { $0 == UInt8(ascii: "/") }) == 1
                && url.utf8.first != UInt8(ascii: "/") && url.utf8.last != UInt8(ascii: "/")
            #expect(TransactionBundle.isTypeSlashID(url) == expected, "\(url)")
        }
        #expect(urls.filter(TransactionBundle.isTypeSlashID) == ["Patient/1", "P/1", "Ωmega/é-1"])
    }

    /// A prepared PUT's resource takes the id its URL names byte for byte: a canonically equivalent id
    /// in the resource is not the same id. The same id is kept as it is.
    @Test func aPreparedPutTakesTheIdOfItsURL() throws {
        let indexing = StoreIndexing(definitions: StoreTestSupport.definitions, dialect: .sqlite)
        for (inResource, inURL) in [("caf\u{E9}", "cafe\u{301}"), ("p-1", "p-2"), ("p-1", "p-1")] {
            let text =
                #"{"resourceType":"Bundle","type":"transaction","entry":[{"resource":{"resourceType":"Patient","#
                + #""id":"\#(inResource)"},"request":{"method":"PUT","url":"Patient/\#(inURL)"}}]}"#
            let prepared = TransactionBundle.prepare(
                try JSON(parsing: Array(text.utf8)), indexing: indexing, time: Date())
            let id = try #require(prepared[0]).resource["id"]?.stringValue
            #expect(id.map { Array($0.utf8) } == Array(inURL.utf8), "\(inResource) → \(inURL)")
        }
    }

    /// A resource key's name is `Type/id`.
    @Test func aKeysNameIsTypeSlashID() {
        #expect(ResourceKey(type: "Patient", id: "p-1").name == "Patient/p-1")
        #expect(
            ResourceKey(type: "MedicationRequest", id: String(repeating: "9", count: 64)).name
                == "MedicationRequest/" + String(repeating: "9", count: 64))
        #expect(ResourceKey(type: "", id: "").name == "/")
    }

    /// FNV-1a over a string's contiguous bytes equals FNV-1a byte by byte (small, large, non-ASCII,
    /// a substring, and a sequence with no contiguous storage).
    @Test func fnvOverContiguousBytesIsFNVByteByByte() {
        func byteByByte(_ bytes: [UInt8]) -> UInt64 {
            var hash = FNV1a()
            for byte in bytes { hash.add(byte) }
            return hash.value
        }
        let long = String(repeating: "Observation|code-value ", count: 20)
        for text in ["", "a", "Patient|name", "Ωmega|é", long] {
            #expect(FNV1a.hash(text.utf8) == byteByByte(Array(text.utf8)), "\(text)")
            let middle = text.dropFirst(text.count / 3)
            #expect(FNV1a.hash(middle.utf8) == byteByByte(Array(middle.utf8)), "\(middle)")
            #expect(FNV1a.hash(text.utf8.lazy.map { $0 }) == byteByByte(Array(text.utf8)))
        }
        #expect(
            StoreSchema.parameterKey(type: "Patient", code: "name")
                == Int64(byteByByte(Array("Patient|name".utf8)) & 0xFFFF_FFFF_FFFF))
    }
}
