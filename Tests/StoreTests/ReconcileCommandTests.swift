import FHIR
import Foundation
import Store
import Testing

/// `ferry reconcile` and `ferry link` as a user runs them: the exit code follows the verdict, the
/// reports and the escalation land where they should, a broken thresholds file is refused by line.
struct ReconcileCommandTests {
    struct Run {
        var status: Int32
        var output: String
    }

    static func ferry(_ arguments: [String], in folder: URL) async throws -> Run {
        let output = folder.appendingPathComponent("output-\(UUID().uuidString).txt")
        FileManager.default.createFile(atPath: output.path, contents: nil)
        let handle = try FileHandle(forWritingTo: output)
        let process = Process()
        process.executableURL = try MigrationKillTests.ferry
        process.arguments = arguments
        process.currentDirectoryURL = folder
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        await MigrationKillTests.ended(process)
        try handle.close()
        return Run(status: process.terminationStatus, output: try String(contentsOf: output, encoding: .utf8))
    }

    @Test func theExitCodeFollowsTheVerdictAndAnEscalationIsWritten() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "ferry-reconcile-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let spec = MigrationKillTests.packageRoot.appendingPathComponent("Examples/openemr/mapping.yaml").path
        #expect(
            try await Self.ferry(["synth", "--patients", "30", "--seed", "4", "--out", "clinic"], in: folder).status
                == 0)
        let migrate = try await Self.ferry(
            [
                "migrate", "--source", "sqlite:clinic/legacy.db", "--mapping", spec, "--target", "sqlite:store.sqlite",
                "--run", "m",
            ],
            in: folder)
        #expect(migrate.status <= 1, "\(migrate.output)")
        // Lenient on everything but differing records, which escalate at the first.
        try """
        mismatchRate: { warn: 0, escalate: 0 }
        unaccounted: { warn: 0, escalate: 0 }
        deadLetterRate: { warn: 1, escalate: 1 }
        unmappedCodes: { warn: 1000000, escalate: 1000000 }
        unresolvedDuplicates: { warn: 1000000, escalate: 1000000 }
        """.write(to: folder.appendingPathComponent("thresholds.yaml"), atomically: true, encoding: .utf8)
        let arguments = [
            "reconcile", "--source", "sqlite:clinic/legacy.db", "--mapping", spec, "--target", "sqlite:store.sqlite",
            "--run", "m", "--thresholds", "thresholds.yaml", "--review", "2",
        ]
        let clean = try await Self.ferry(arguments + ["--out", "clean"], in: folder)
        #expect(clean.status == 0, "\(clean.output)")
        #expect(clean.output.contains("verdict: pass") && clean.output.contains("unaccounted 0"))
        for file in [
            "reconciliation.json", "reconciliation.md", "reconciliation.html", "duplicates.csv", "review.html",
        ] {
            #expect(
                FileManager.default.fileExists(atPath: folder.appendingPathComponent("clean/\(file)").path), "\(file)")
        }
        // One Condition deleted behind the migration's back.
        let store = try SQLiteStore(
            path: folder.appendingPathComponent("store.sqlite").path, definitions: try FHIRDefinitions.r4())
        let condition = try #require(try await store.currentResources(type: "Condition", after: nil, limit: 1).first)
        _ = try await store.delete(type: "Condition", id: condition.id)
        let escalated = try await Self.ferry(arguments + ["--out", "escalated"], in: folder)
        #expect(escalated.status == 2, "\(escalated.output)")
        #expect(escalated.output.contains("verdict: escalate"))
        let notice = try String(contentsOf: folder.appendingPathComponent("escalated/escalation.json"), encoding: .utf8)
        #expect(notice.contains("\"differingRecords\" : 1") && !notice.contains(condition.id))
        let report = try String(
            contentsOf: folder.appendingPathComponent("escalated/reconciliation.md"), encoding: .utf8)
        #expect(report.contains("| Condition/\(condition.id) | missing |"))
        // The output on the terminal holds counts, not record ids.
        #expect(!escalated.output.contains(condition.id))
    }

    @Test func aBrokenThresholdsFileIsRefusedWithItsLine() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "ferry-reconcile-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try "mismatchRate: { warn: 0, escalate: 0.1 }\nmismatchRat: { warn: 0, escalate: 1 }\n".write(
            to: folder.appendingPathComponent("t.yaml"), atomically: true, encoding: .utf8)
        let run = try await Self.ferry(
            ["reconcile", "--source", "hl7:none", "--target", "sqlite:s.sqlite", "--thresholds", "t.yaml"], in: folder)
        #expect(run.status == 64 && run.output.contains("t.yaml:2: unknown measure 'mismatchRat'"), "\(run.output)")
    }

    @Test func linkFindsTheClinicsDuplicatesAndWritesEveryDecision() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-link-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        #expect(
            try await Self.ferry(["synth", "--patients", "400", "--seed", "8", "--out", "clinic"], in: folder).status
                == 0)
        let run = try await Self.ferry(
            [
                "link", "--input", "clinic/csv/patient_data.csv", "--id", "pid", "--fields",
                "fname:name,lname:name,DOB:date,sex:exact,ss:identifier,street:text,postal_code:exact,phone_home:phone",
                "--block", "lname", "--block", "fname+DOB", "--block", "ss", "--out", "pairs.csv", "--model",
                "model.json",
                "--truth", "clinic/truth/duplicates.csv",
            ], in: folder)
        #expect(run.status == 0, "\(run.output)")
        let line = try #require(run.output.split(separator: "\n").first { $0.hasPrefix("at possible or better") })
        let f1 = try #require(Double(line.split(separator: " ").drop { $0 != "F1" }.dropFirst().first ?? ""))
        #expect(f1 >= 0.95, "\(line)")
        let pairs = try String(contentsOf: folder.appendingPathComponent("pairs.csv"), encoding: .utf8)
        #expect(pairs.hasPrefix("id_l,id_r,grade,probability,match_weight,rule,action,source_l,source_r,fname_level"))
        #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("model.json").path))
        let refused = try await Self.ferry(
            [
                "link", "--input", "clinic/csv/patient_data.csv", "--id", "pid", "--fields", "fname:fuzzy", "--block",
                "fname",
            ],
            in: folder)
        #expect(refused.status != 0 && refused.output.contains("'fuzzy'"))
    }
}
