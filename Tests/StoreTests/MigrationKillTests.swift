import FHIR
import Foundation
import Mapping
import Migration
import Store
import TestPostgres
import Testing

/// `ferry migrate` killed with SIGKILL in the middle of a run, then run again: the store ends the same
/// as after a run that was never interrupted — same resources, same versions, same content hashes,
/// same dead letters — on each store kind.
struct MigrationKillTests {
    typealias Support = StoreTestSupport

    static var ferry: URL {
        get throws {
            let folder =
                Bundle.main.bundleURL.hasDirectoryPath
                ? Bundle.main.bundleURL : Bundle.main.bundleURL.deletingLastPathComponent()
            return try #require(
                [folder, folder.deletingLastPathComponent()].map { $0.appendingPathComponent("ferry") }
                    .first { FileManager.default.isExecutableFile(atPath: $0.path) },
                "ferry was not built beside the tests")
        }
    }

    /// A feed of 60 patients, each admitted and then with 5 results (360 messages), and three broken messages.
    static func feed() -> String {
        var lines: [String] = ["PID|||1", "PV1||I"]
        var control = 0
        for round in 0...5 {
            for number in 0..<60 {
                control += 1
                let header =
                    "MSH|^~\\&|LAB|GENHOSP|FERRY|CLOUD|20240315101500||"
                    + (round == 0 ? "ADT^A01^ADT_A01" : "ORU^R01^ORU_R01") + "|K\(control)|P|2.5.1"
                let pid =
                    "PID|1||\(200_000 + number)^^^GENHOSP^MR||KILLTEST\(number)^ANA||1960\(String(format: "%02d", number % 12 + 1))01|F"
                if round == 0 {
                    lines += [header, "EVN|A01|20240315083000", pid, "PV1|1|I|3N^308^A^GENHOSP"]
                } else {
                    lines += [
                        header, pid, "ORC|RE|O\(number)-\(round)|F\(number)-\(round)",
                        "OBR|1|O\(number)-\(round)|F\(number)-\(round)|718-7^Hemoglobin^LN|||20240315093000",
                        "OBX|1|NM|718-7^Hemoglobin^LN||1\(round).\(number % 10)|g/dL^^UCUM|12-16|N|||F",
                    ]
                }
                if control == 100 {
                    lines += ["MSH|^~\\&|LAB|GENHOSP|FERRY|CLOUD|2024||ADT^A01^ADT_A01|BAD1|P|2.5.1", "pid|x"]
                }
                if control == 250 { lines += ["MSH|^~\\&|LAB|GENHOSP|FERRY|CLOUD|2024||QBP^Q11^QBP_Q11|BAD2|P|2.5.1"] }
            }
        }
        return lines.joined(separator: "\r") + "\r"
    }

    static func target(_ kind: StoreKind, _ folder: URL, _ name: String) throws -> String {
        switch kind {
        case .sqlite: "sqlite:" + folder.appendingPathComponent("\(name).sqlite").path
        case .postgres: try PostgresServer.shared.get().newDatabase()
        }
    }

    /// What a migration under test reads: the HL7 v2 feed above, or a synthetic clinic's database
    /// mapped by the shipped spec.
    enum Source: String, CaseIterable, Sendable {
        case hl7
        case database

        /// Writes the source into `folder`; the `ferry migrate` arguments that read it.
        func prepare(in folder: URL) async throws -> [String] {
            switch self {
            case .hl7:
                let file = folder.appendingPathComponent("feed.hl7")
                try Data(MigrationKillTests.feed().utf8).write(to: file)
                return ["--source", "hl7:\(file.path)"]
            case .database:
                let clinic = folder.appendingPathComponent("clinic")
                let synth = Process()
                synth.executableURL = try MigrationKillTests.ferry
                synth.arguments = ["synth", "--patients", "40", "--seed", "5", "--out", clinic.path]
                synth.standardOutput = FileHandle.nullDevice
                synth.standardError = FileHandle.nullDevice
                try synth.run()
                await MigrationKillTests.ended(synth)
                let spec = MigrationKillTests.packageRoot.appendingPathComponent("Examples/openemr/mapping.yaml")
                return [
                    "--source", "sqlite:" + clinic.appendingPathComponent("legacy.db").path, "--mapping", spec.path,
                    "--recorded", "2026-11-25T12:00:00Z",
                ]
            }
        }
    }

    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static func migrate(
        _ source: [String], into target: String, extra: [String] = [], output: URL? = nil
    ) throws
        -> Process
    {
        let process = Process()
        process.executableURL = try ferry
        process.arguments = ["migrate"] + source + ["--target", target, "--run", "kill-test", "--batch", "5"] + extra
        if let output {
            FileManager.default.createFile(atPath: output.path, contents: nil)
            process.standardOutput = try FileHandle(forWritingTo: output)
        } else {
            process.standardOutput = FileHandle.nullDevice
        }
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    // One store kind after the other: each case runs four migrations, which load 2 cores by themselves.
    // The killed and resumed runs of the SQLite database case are bulk loads (`--defer-index`), which
    // keep current rows back in memory until the load ends: the reference run is not.
    @Test(
        .serialized,
        arguments: [
            (StoreKind.sqlite, Source.hl7, false), (.postgres, .hl7, false), (.sqlite, .database, true),
            (.postgres, .database, false),
        ])
    func aKilledMigrationResumesToTheSameStore(kind: StoreKind, source: Source, bulk: Bool) async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-kill-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = try await source.prepare(in: folder)

        // Uninterrupted.
        let reference = try Self.target(kind, folder, "reference")
        let whole = try Self.migrate(file, into: reference)
        await Self.ended(whole)
        if source == .hl7 { #expect(whole.terminationStatus == 1, "dead letters make the exit status 1") }

        // Killed once some batches are in, then run again to the end.
        let resumed = try Self.target(kind, folder, "resumed")
        // Held to 60 messages/s, so that it is surely still running when its first batch is in.
        let watcher = try await StoreTarget.open(resumed, definitions: Support.definitions)
        let lines = folder.appendingPathComponent("first.jsonl")
        let bulkLoad = bulk ? ["--defer-index"] : []
        let first = try Self.migrate(file, into: resumed, extra: ["--maximum-rate", "60"] + bulkLoad, output: lines)
        // Killed as soon as a progress line says a batch is committed, from a thread of its own: the
        // tests' shared pool can be busy for seconds with other suites' work.
        let killedRunning = await Self.killOnceProgressShows(first, lines: lines)
        #expect(killedRunning, "the migration ended before it could be killed; make the feed longer")
        await Self.ended(first)
        let partial = try await watcher.counts()["Provenance"] ?? 0
        let second = try Self.migrate(file, into: resumed, extra: bulkLoad)
        await Self.ended(second)
        // 1 when the dead letters fell to this run, 0 when the killed one had committed them already.
        #expect([0, 1].contains(second.terminationStatus))

        let expected = try await StoreTarget.open(reference, definitions: Support.definitions)
        let wholeContents = try await Self.contents(of: expected)
        let resumedContents = try await Self.contents(of: watcher)
        let all = try await expected.counts()["Provenance"] ?? 0
        #expect(partial > 0 && partial < all, "killed midway: \(partial) of \(all) units were in")
        #expect(wholeContents.count > 500)
        #expect(resumedContents == wholeContents)
        #expect(try await watcher.deadLetters(run: "kill-test") == expected.deadLetters(run: "kill-test"))
        if source == .hl7 { #expect(try await watcher.deadLetters(run: "kill-test").count == 3) }
    }

    /// Two `ferry migrate` processes sharing one run through PostgreSQL (claims that skip locked rows)
    /// make the same store as one process alone.
    @Test func twoWorkerProcessesMakeTheSameStoreAsOne() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-workers-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = try await Source.hl7.prepare(in: folder)
        let alone = try Self.target(.postgres, folder, "alone")
        let single = try Self.migrate(file, into: alone, extra: ["--workers", "1"])
        await Self.ended(single)
        let shared = try Self.target(.postgres, folder, "shared")
        let workers = try ["a", "b"].map {
            try Self.migrate(file, into: shared, extra: ["--workers", "1", "--worker", $0])
        }
        for worker in workers { await Self.ended(worker) }
        #expect(workers.map(\.terminationStatus).contains(1), "the dead letters were met by one of them")
        let one = try await StoreTarget.open(alone, definitions: Support.definitions)
        let two = try await StoreTarget.open(shared, definitions: Support.definitions)
        let expected = try await Self.contents(of: one)
        #expect(expected.count > 500)
        #expect(try await Self.contents(of: two) == expected)
        #expect(try await two.deadLetters(run: "kill-test") == one.deadLetters(run: "kill-test"))
    }

    /// Sends SIGKILL to `process` as soon as its progress lines (`{"done":N,…}`, one per committed
    /// batch) show a batch committed; watched from a dedicated thread, not the test pool. True when
    /// the process was still running then.
    static func killOnceProgressShows(_ process: Process, lines: URL) async -> Bool {
        await withCheckedContinuation { continuation in
            let thread = Thread {
                let deadline = Date().addingTimeInterval(120)
                while process.isRunning, Date() < deadline {
                    let text = (try? String(contentsOf: lines, encoding: .utf8)) ?? ""
                    let committed = text.split(separator: "\n").contains { line in
                        line.hasPrefix(#"{"done":"#) && !line.hasPrefix(#"{"done":0,"#)
                    }
                    if committed {
                        kill(process.processIdentifier, SIGKILL)
                        continuation.resume(returning: true)
                        return
                    }
                    usleep(1000)
                }
                continuation.resume(returning: false)
            }
            thread.start()
        }
    }

    /// Waits for a process without blocking a thread of the test's pool (the other tests need them).
    static func ended(_ process: Process) async {
        while process.isRunning { try? await Task.sleep(for: .milliseconds(20)) }
    }

    /// Every resource: `Type/id` → version → content hash.
    static func contents(of store: any FHIRStore) async throws -> [String: [Int: String]] {
        var result: [String: [Int: String]] = [:]
        for type in try await store.counts().keys {
            for resource in try await store.search(SearchQuery(type: type, count: 100_000)).resources {
                let versions = try await store.history(type: type, id: resource.id)
                result["\(type)/\(resource.id)"] = Dictionary(
                    uniqueKeysWithValues: versions.map { ($0.version, $0.contentHash) })
            }
        }
        return result
    }
}
