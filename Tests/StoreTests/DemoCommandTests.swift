import Foundation
import Testing

/// `ferry demo` as a user runs it: a small clinic through every step, the store read back and valid,
/// the accounts adding up, the reports where it says.
struct DemoCommandTests {
    @Test func theDemoRunsEveryStepAndItsAccountsAddUp() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-demo-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let output = FileManager.default.temporaryDirectory.appendingPathComponent(
            "ferry-demo-\(UUID().uuidString).txt")
        defer { try? FileManager.default.removeItem(at: output) }
        FileManager.default.createFile(atPath: output.path, contents: nil)
        let process = Process()
        process.executableURL = try MigrationKillTests.ferry
        process.arguments = ["demo", "--patients", "40", "--seed", "3", "--folder", folder.path]
        process.standardOutput = try FileHandle(forWritingTo: output)
        process.standardError = FileHandle.nullDevice
        try process.run()
        await MigrationKillTests.ended(process)
        let text = try String(contentsOf: output, encoding: .utf8)
        #expect(process.terminationStatus == 0, "\(text)")
        #expect(text.contains("synthesized 40 patients"))
        #expect(text.contains("lint clean"))
        #expect(text.contains("all valid"))
        #expect(!text.contains("DOES NOT ADD UP"))
        #expect(text.contains(": 0 differ, 0 rows unaccounted for"))
        #expect(text.contains("duplicate patients: "))
        for line in text.split(separator: "\n") where line.contains("migrated the") {
            // read N = loaded L + dead-lettered D + filtered F
            let numbers = line.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }.suffix(5)
            let values = Array(numbers)
            #expect(values.count == 5 && values[0] == values[1] + values[2] + values[3], "\(line)")
        }
        for report in [
            "reports/assessment.html", "reports/assessment.json", "reports/mapping.html", "reports/reconciliation.html",
            "reports/reconciliation.json", "reports/duplicates.csv", "reports/review.html", "store.sqlite",
        ] {
            #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent(report).path), "\(report)")
        }
    }
}
