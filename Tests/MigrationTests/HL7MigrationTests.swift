import FHIR
import Foundation
import Mapping
import Migration
import Store
import Testing

struct HL7MigrationTests {
    typealias Support = MigrationTestSupport

    static func sqliteStore(_ folder: URL, _ name: String = "store") throws -> SQLiteStore {
        try SQLiteStore(path: folder.appendingPathComponent("\(name).sqlite").path, definitions: Support.definitions)
    }

    @Test func everyMessageIsLoadedDeadLetteredOrFilteredByANamedRule() async throws {
        let folder = try Support.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let feed = Support.feed(patients: 12, results: 3)
        let file = folder.appendingPathComponent("feed.hl7")
        try Data(feed.text.utf8).write(to: file)
        let store = try Self.sqliteStore(folder)
        let report = try await HL7Migration(
            files: [file.path], store: store, converter: Support.converter,
            options: .init(run: "r1", batchSize: 7, workers: 2, partitions: 4)
        ).run()
        #expect(report.addsUp)
        #expect(report.read == feed.good + feed.broken + feed.acknowledgments)
        #expect(report.loaded == feed.good && report.deadLettered == feed.broken)
        #expect(report.filtered == [HL7Migration.acknowledgmentRule: feed.acknowledgments])
        #expect(report.groups["HL7 v2 ACK^A01"]?.filtered == 1 && report.groups["HL7 v2 ACK^R01"]?.filtered == 1)
        #expect(report.groups.values.reduce(0) { $0 + $1.read } == report.read)
        let counts = try await store.counts()
        #expect(counts["Patient"] == 12 && counts["Observation"] == 36 && counts["Provenance"] == feed.good)
        // The dead letters keep the bytes and say where and why.
        let letters = try await store.deadLetters(run: "r1")
        #expect(letters.count == 3)
        #expect(letters.contains { $0.locator == "\(file.path)#1 (line 1)" && $0.reason.contains("MSH") })
        #expect(letters.contains { $0.reason.contains("segment 2") && $0.content.starts(with: Array("MSH|".utf8)) })
        #expect(letters.contains { $0.reason.contains("QBP") })
    }

    @Test func migratingAgainWritesNoNewVersions() async throws {
        let folder = try Support.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("feed.hl7")
        try Data(Support.feed(patients: 6, results: 2).text.utf8).write(to: file)
        let store = try Self.sqliteStore(folder)
        let migration = { (run: String) in
            try await HL7Migration(
                files: [file.path], store: store, converter: Support.converter, options: .init(run: run, batchSize: 5)
            ).run()
        }
        _ = try await migration("first")
        let before = try await Support.contents(of: store)
        let again = try await migration("second")
        #expect(again.resources.isEmpty, "nothing written: \(again.resources)")
        #expect(again.unchanged > 0)
        #expect(try await Support.contents(of: store) == before)
        // The same run again: every partition is done already.
        let resumed = try await migration("first")
        #expect(resumed.alreadyDone == resumed.read && resumed.loaded == 0 && resumed.addsUp)
    }

    /// After a fix, the dead letters that now convert are loaded and leave the dead-letter table; the
    /// others stay with their reason brought up to date; the checkpoints do not move.
    @Test func retryingDeadLettersLoadsThoseThatNowConvert() async throws {
        let folder = try Support.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("feed.hl7")
        try Data(Support.feed(patients: 6, results: 1).text.utf8).write(to: file)
        let store = try Self.sqliteStore(folder)
        let migration = HL7Migration(
            files: [file.path], store: store, converter: Support.converter, options: .init(run: "r", partitions: 2))
        _ = try await migration.run()
        let checkpoints = [
            try await store.checkpoint(run: "r", partition: "hl7-0"),
            try await store.checkpoint(run: "r", partition: "hl7-1"),
        ]
        // A message that failed under an earlier mapping, kept as a dead letter.
        let fixed =
            "MSH|^~\\&|LAB|GENHOSP|FERRY|CLOUD|20240315101500||ADT^A04^ADT_A01|LATE1|P|2.5.1\r"
            + "EVN|A04|20240315083000\rPID|1||999001^^^GENHOSP^MR||LATECOMER^ZOE||19800101|F\r"
        _ = try await store.commit(
            MigrationBatch(
                run: "r", partition: "hl7-0", position: nil, bundles: [],
                deadLetters: [
                    DeadLetter(
                        locator: "old.hl7#1 (line 1)", partition: "hl7-0", reason: "no map then",
                        content: Array(fixed.utf8))
                ]))
        #expect(try await store.deadLetters(run: "r").count == 4)
        let retry = try await migration.retryDeadLetters()
        #expect(retry == HL7Migration.RetryReport(retried: 4, loaded: 1, stillDead: 3, filtered: 0))
        let letters = try await store.deadLetters(run: "r")
        #expect(letters.count == 3 && !letters.contains { $0.locator.hasPrefix("old.hl7") })
        let found = try await store.search(SearchQuery("Patient?family=latecomer"))
        #expect(found.total == 1)
        #expect(
            [
                try await store.checkpoint(run: "r", partition: "hl7-0"),
                try await store.checkpoint(run: "r", partition: "hl7-1"),
            ]
                == checkpoints)
    }
}
