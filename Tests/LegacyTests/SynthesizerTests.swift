import Foundation
import GRDB
import HL7v2
import Legacy
import Synchronization
import Testing

@Suite struct SynthesizerTests {
    func files(_ folder: String) throws -> [String: Data] {
        var result: [String: Data] = [:]
        for sub in ["csv", "feed", "truth"] {
            let path = (folder as NSString).appendingPathComponent(sub)
            for name in try FileManager.default.contentsOfDirectory(atPath: path) {
                result["\(sub)/\(name)"] = FileManager.default.contents(
                    atPath: (path as NSString).appendingPathComponent(name))
            }
        }
        return result
    }

    @Test func theSameSeedWritesTheSameClinicAndAnotherSeedAnother() throws {
        let a = LegacyFixtures.temporaryFolder("synth-a")
        let b = LegacyFixtures.temporaryFolder("synth-b")
        let c = LegacyFixtures.temporaryFolder("synth-c")
        _ = try Synthesizer.run(Synthesizer.Options(patients: 120, seed: 3, folder: a))
        _ = try Synthesizer.run(Synthesizer.Options(patients: 120, seed: 3, folder: b))
        _ = try Synthesizer.run(Synthesizer.Options(patients: 120, seed: 4, folder: c))
        let first = try files(a)
        #expect(first.count == 12 + 5 + 3)
        #expect(first == (try files(b)))
        #expect(first["csv/patient_data.csv"] != (try files(c))["csv/patient_data.csv"])
    }

    /// Someone reading the database while it is written (a shared lock held across a commit) makes
    /// the writer wait, not fail: a run of a million patients must not end for a peek at its tables.
    @Test func aReaderHoldingTheDatabaseDelaysTheRunButDoesNotEndIt() throws {
        let folder = LegacyFixtures.temporaryFolder("synth-reader")
        let released = Mutex<Date?>(nil)
        var secondCommit: Date?
        let summary = try Synthesizer.run(Synthesizer.Options(patients: 3000, seed: 5, folder: folder)) { people in
            if people == 1000 {
                let reading = DispatchSemaphore(value: 0)
                let path = folder + "/legacy.db"
                Thread {
                    do {
                        try DatabaseQueue(path: path).read { db in
                            _ = try Int.fetchOne(db, sql: "SELECT count(*) FROM patient_data")
                            reading.signal()
                            Thread.sleep(forTimeInterval: 4)
                            released.withLock { $0 = Date() }
                        }
                    } catch {
                        Issue.record("the reader failed: \(error)")
                        reading.signal()
                    }
                }.start()
                reading.wait()
            }
            if people == 2000 { secondCommit = Date() }
        }
        #expect(summary.people == 3000)
        let release = try #require(released.withLock { $0 })
        #expect(try #require(secondCommit) >= release, "the commit waited for the reader")
    }

    @Test func aPatientIsTheSameHoweverManyAreMade() throws {
        // Patients come from their own random streams, so the first 50 of 50 are the first 50 of 200.
        let small = LegacyFixtures.temporaryFolder("synth-small")
        let large = LegacyFixtures.temporaryFolder("synth-large")
        _ = try Synthesizer.run(Synthesizer.Options(patients: 50, seed: 9, folder: small))
        _ = try Synthesizer.run(Synthesizer.Options(patients: 200, seed: 9, folder: large))
        let a = try String(contentsOfFile: small + "/csv/patient_data.csv", encoding: .utf8)
        let b = try String(contentsOfFile: large + "/csv/patient_data.csv", encoding: .utf8)
        #expect(b.hasPrefix(a))
    }

    @Test func theDatabaseHasTheMessOfARealOne() throws {
        let queue = try DatabaseQueue(path: LegacyFixtures.database)
        let summary = LegacyFixtures.clinic.summary
        try queue.read { db in
            let patients = try Int.fetchOne(db, sql: "SELECT count(*) FROM patient_data")!
            #expect(patients == summary.people + summary.duplicates)
            // About 3% registered twice, some of those merged.
            #expect((15...50).contains(summary.duplicates))
            #expect(
                try Int.fetchOne(db, sql: "SELECT count(*) FROM patient_data WHERE merged_into IS NOT NULL")!
                    == summary.merged)
            // Two sites, two date styles, nulls and blanks both.
            #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM patient_data WHERE DOB LIKE '__/__/____'")! > 100)
            #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM patient_data WHERE DOB LIKE '____-__-__'")! > 100)
            #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM patient_data WHERE email IS NULL")! > 0)
            #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM patient_data WHERE email = ''")! > 0)
            #expect(
                try Set(String.fetchAll(db, sql: "SELECT timezone FROM facility")) == [
                    "America/New_York", "America/Denver",
                ])
            // Local codes without a standard mapping, and free text with line breaks.
            #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM lists WHERE diagnosis = 'LOC:OLDDX'")! > 0)
            #expect(
                try Int.fetchOne(db, sql: "SELECT count(*) FROM pnotes WHERE body LIKE '%' || char(10) || '%'")! > 0)
            // Every document row points at a file that is there, with its hash.
            for path in try String.fetchAll(db, sql: "SELECT url FROM documents LIMIT 20") {
                #expect(FileManager.default.fileExists(atPath: LegacyFixtures.clinic.folder + "/" + path))
            }
        }
        let truth = try String(contentsOfFile: LegacyFixtures.clinic.folder + "/truth/duplicates.csv", encoding: .utf8)
        #expect(truth.split(separator: "\n").count == summary.duplicates + 1)
    }

    @Test func theFeedIsParseableAndMatchesTheDatabase() throws {
        let feed = try FeedDiscovery.run(path: LegacyFixtures.clinic.folder + "/feed")
        let summary = LegacyFixtures.clinic.summary
        #expect(feed.unreadable.isEmpty)
        #expect(feed.events["ADT^A04"] == summary.rows["patient_data"])
        #expect(feed.events["ORU^R01"] == summary.rows["procedure_report"])
        #expect(feed.events["RDE^O11"] == summary.rows["prescriptions"])
        #expect(feed.events["MDM^T02"] == summary.rows["documents"])
        #expect(feed.zSegments["ZPI"] == summary.rows["patient_data"])
        #expect(Set(feed.senders.keys) == ["OPENEMR^NORTHSIDE", "OPENEMR^MESAVALLEY"])
        #expect(feed.versions == ["2.5.1": feed.messages])
    }
}
