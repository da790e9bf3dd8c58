import FHIR
import Foundation
import Mapping
import Migration
import Store

enum MigrationTestSupport {
    static let definitions = try! FHIRDefinitions.r4()
    static let converter = V2Converter(maps: try! V2Maps.shipped(), definitions: definitions)

    /// A feed of `patients` patients, each admitted and then with `results` lab results, interleaved
    /// as a real feed is; plus three messages that cannot be migrated and two acknowledgments.
    static func feed(patients: Int, results: Int) -> (text: String, good: Int, broken: Int, acknowledgments: Int) {
        var messages: [String] = []
        var control = 0
        func header(_ type: String) -> String {
            control += 1
            let minute = String(format: "%02d", control % 60)
            return "MSH|^~\\&|LAB|GENHOSP|FERRY|CLOUD|202403151\(control % 10)\(minute)00||\(type)|M\(control)|P|2.5.1"
        }
        func pid(_ number: Int) -> String {
            "PID|1||\(100_000 + number)^^^GENHOSP^MR||PATIENT\(number)^ANA^M||19\(50 + number % 50)0412|F|||\(number) MAIN ST^^SPRINGFIELD^IL^62701"
        }
        for round in 0...results {
            for number in 0..<patients {
                if round == 0 {
                    messages.append(
                        [
                            header("ADT^A01^ADT_A01"), "EVN|A01|20240315083000", pid(number),
                            "PV1|1|I|3N^308^A^GENHOSP||||1352^KOWALSKI^PIOTR^^^DR^^^NPI",
                        ].joined(separator: "\r"))
                } else {
                    messages.append(
                        [
                            header("ORU^R01^ORU_R01"), pid(number),
                            "ORC|RE|ORD\(number)-\(round)|FIL\(number)-\(round)",
                            "OBR|1|ORD\(number)-\(round)|FIL\(number)-\(round)|718-7^Hemoglobin^LN|||20240315093000|||||||||||||||20240315101500|||F",
                            "OBX|1|NM|718-7^Hemoglobin^LN||\(10 + round).\(number % 10)|g/dL^^UCUM|12-16|N|||F",
                        ].joined(separator: "\r"))
                }
            }
        }
        let good = messages.count
        // Broken: lines before any MSH (a message without its MSH), a segment id that is not one, a
        // message type with no map.
        messages.insert("PID|||1\rPV1||I", at: 0)
        messages.insert(header("ADT^A01^ADT_A01") + "\rpid|||1", at: 7)
        messages.insert(header("QBP^Q11^QBP_Q11") + "\rQPD|x", at: 11)
        messages.insert(header("ACK^A01^ACK") + "\rMSA|AA|M1", at: 5)
        messages.append(header("ACK^R01^ACK") + "\rMSA|AA|M2")
        return (messages.joined(separator: "\r") + "\r", good, 3, 2)
    }

    static func temporaryFolder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "ferry-migration-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }

    /// Every current resource of a store: `Type/id` → (version, content hash).
    static func contents(of store: any FHIRStore) async throws -> [String: [Int: String]] {
        var result: [String: [Int: String]] = [:]
        for type in try await store.counts().keys {
            let found = try await store.search(SearchQuery(type: type, count: 100_000))
            for resource in found.resources {
                let versions = try await store.history(type: type, id: resource.id)
                result["\(type)/\(resource.id)"] = Dictionary(
                    uniqueKeysWithValues: versions.map { ($0.version, $0.contentHash) })
            }
        }
        return result
    }
}
