import FHIR
import Foundation
import Legacy
import Mapping
import Synchronization

/// The folders `LegacyFixtures.temporaryFolder` made.
private let removedAtExit = Mutex<[String]>([])

/// Shared fixtures: a synthetic clinic of 1,000 patients written once per test process.
enum LegacyFixtures {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let exampleSpec = packageRoot.appendingPathComponent("Examples/openemr/mapping.yaml").path
    static let definitions = try! FHIRDefinitions.r4()

    /// A new folder, removed with everything in it when the test process exits.
    static func temporaryFolder(_ name: String) -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-\(name)-\(UUID().uuidString)")
            .path
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        removedAtExit.withLock { folders in
            if folders.isEmpty {
                atexit {
                    for folder in removedAtExit.withLock({ $0 }) { try? FileManager.default.removeItem(atPath: folder) }
                }
            }
            folders.append(folder)
        }
        return folder
    }

    /// The clinic every test may read (and none may change).
    static let clinic: (folder: String, summary: Synthesizer.Summary) = {
        let folder = temporaryFolder("clinic")
        let summary = try! Synthesizer.run(Synthesizer.Options(patients: 1000, seed: 7, folder: folder))
        return (folder, summary)
    }()

    static var database: String { (clinic.folder as NSString).appendingPathComponent("legacy.db") }
    static var csvFolder: String { (clinic.folder as NSString).appendingPathComponent("csv") }

    static func truth() throws -> [String: String] {
        let text = try String(
            contentsOfFile: (clinic.folder as NSString).appendingPathComponent("truth/phi-columns.csv"), encoding: .utf8
        )
        var truth: [String: String] = [:]
        for line in text.split(separator: "\n").dropFirst() {
            let parts = line.split(separator: ",").map(String.init)
            truth["\(parts[0]).\(parts[1])"] = parts[2]
        }
        return truth
    }
}
