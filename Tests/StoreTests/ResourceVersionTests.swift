import FHIR
import Foundation
import Testing

@testable import Store

/// The content hash and the first version's bytes, written in one pass, are those of the two
/// canonical writes they replace.
@Suite struct ResourceVersionTests {
    typealias Support = StoreTestSupport

    static func check(_ resource: JSON, _ name: String) {
        let time = Date(timeIntervalSince1970: 1_764_000_000.123)
        let stamped = ResourceVersion.stamped(resource, version: 1, lastUpdated: time)
        let (hash, bytes) = ResourceVersion.hashAndBytes(of: resource, stamped: stamped)
        #expect(hash == ResourceVersion.contentHash(resource), "\(name)")
        #expect(bytes == stamped.canonicalBytes, "\(name)")
    }

    /// Every official example, as it is and without its `meta` (the one-pass case), and resources whose
    /// keys all sort before `meta`, all after it, or that hold nothing else.
    @Test func oneWriteGivesTheHashAndTheStampedBytesOfTwo() throws {
        let files = try FileManager.default.contentsOfDirectory(at: Support.examples, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "json" }
        #expect(files.count > 50)
        for file in files {
            let resource = try JSON(parsing: Array(try Data(contentsOf: file)))
            Self.check(resource, file.lastPathComponent)
            guard case .object(var object) = resource else { continue }
            object["meta"] = nil
            Self.check(.object(object), file.lastPathComponent + " without meta")
        }
        for text in [
            #"{"resourceType":"Basic"}"#, #"{"active":true,"id":"a","language":"en"}"#,
            #"{"resourceType":"Patient","name":[{"family":"Ω"}],"zz":1}"#, #"{"m":1,"me":2,"metaa":3,"mf":4}"#,
            #"{}"#, #"{"text":"x","id":"1"}"#,
        ] {
            Self.check(Support.json(text), text)
        }
    }
}
