import ArgumentParser
import FHIR
import Foundation
import Mapping
import Migration
import Store

extension Ferry {
    struct Migrate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Migrates legacy sources into a FHIR store, in checkpointed batches that resume after a crash.",
            discussion: """
                Sources: hl7:PATH (an HL7 v2 file or a folder of them; every message converted by the \
                v2-to-FHIR maps and validated). --retry-dead-letters converts the run's dead letters again \
                (after a fix to --maps) and loads those that now make valid Bundles. Each batch's Bundles, dead letters and checkpoint are \
                committed together, so running the same --run again after a kill resumes where it stopped \
                and ends with the same store. Progress: a bar on a terminal, JSON lines otherwise. Prints \
                the accounting (read = loaded + dead-lettered + filtered + done before) and exits 1 when \
                anything was dead-lettered.
                """
        )

        @Option(name: .customLong("source"), help: "A source: hl7:PATH (repeatable).")
        var sources: [String] = []

        @Flag(help: "Convert the run's dead letters again (after a fix to the maps) instead of reading sources.")
        var retryDeadLetters = false

        @Option(help: "The store: sqlite:PATH or postgres://user@host:port/database.")
        var target: String

        @Option(help: "The run's name; the same name resumes it.")
        var run = "migration"

        @Option(help: "Messages per committed batch.")
        var batch = 100

        @Option(help: "Partitions migrated at once.")
        var workers = 2

        @Option(
            help: """
                This process's name among the processes sharing a run (default: the host name); \
                a restart with the same name takes back its partitions at once.
                """)
        var worker = ProcessInfo.processInfo.hostName

        @OptionGroup(title: "HL7 v2 conversion") var conversion: Ferry.HL7.ConversionOptions

        @Option(help: "At most this many messages a second (to spare a busy legacy system or store).")
        var maximumRate: Double?

        @Option(help: "Write the run's manifest (JSON) to this file.")
        var manifest: String?

        func run() async throws {
            guard retryDeadLetters || !sources.isEmpty else { throw ValidationError("give at least one --source") }
            var files: [String] = []
            for source in sources {
                guard source.hasPrefix("hl7:") else {
                    throw ValidationError("'\(source)': only hl7:PATH sources can be migrated so far")
                }
                files += try Self.hl7Files(String(source.dropFirst(4)))
            }
            let definitions = try FHIRDefinitions.r4()
            let store = try await StoreTarget.open(target, definitions: definitions)
            let converter = try conversion.converter(definitions: definitions)
            let migration = HL7Migration(
                files: files, store: store, converter: converter,
                options: .init(run: run, batchSize: batch, workers: workers, worker: worker, maximumRate: maximumRate))
            if retryDeadLetters {
                let retry = try await migration.retryDeadLetters()
                print(
                    "retried \(retry.retried): loaded \(retry.loaded), filtered \(retry.filtered), "
                        + "still dead \(retry.stillDead)")
                if retry.stillDead > 0 { throw ExitCode(1) }
                return
            }
            let started = Date()
            let onTerminal = isatty(STDOUT_FILENO) != 0
            let report = try await migration.run { progress in
                let seconds = max(Date().timeIntervalSince(started), 0.001)
                let rate = Double(progress.done) / seconds
                if onTerminal {
                    let width = 30
                    let filled = progress.total == 0 ? width : width * progress.done / progress.total
                    let left = rate > 0 ? Double(progress.total - progress.done) / rate : 0
                    let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
                    let line = "\r[\(bar)] \(progress.done)/\(progress.total) \(Int(rate))/s ETA \(Int(left)) s "
                    FileHandle.standardOutput.write(Data(line.utf8))
                } else {
                    print(#"{"done":\#(progress.done),"total":\#(progress.total),"rate":\#(Int(rate))}"#)
                }
            }
            if onTerminal { print("") }
            let seconds = Date().timeIntervalSince(started)
            let counts = try await store.counts()
            let letters = try await store.deadLetters(run: run)
            print(
                "read \(report.read) = loaded \(report.loaded) + dead-lettered \(report.deadLettered)"
                    + " + filtered \(report.filtered.values.reduce(0, +)) + done before \(report.alreadyDone)"
                    + (report.addsUp ? "" : "  (DOES NOT ADD UP)"))
            for (rule, count) in report.filtered.sorted(by: { $0.key < $1.key }) {
                print("  filtered \(count): \(rule)")
            }
            print(
                "written: "
                    + report.resources.keys.sorted().map { "\($0) \(report.resources[$0]!)" }
                    .joined(separator: ", ") + "; unchanged \(report.unchanged)")
            print("the store holds " + Ferry.StoreCommand.describe(counts))
            for letter in letters.prefix(20) { print("  dead letter \(letter.locator): \(letter.reason.prefix(200))") }
            if letters.count > 20 { print("  … \(letters.count - 20) more dead letters in the store") }
            print(String(format: "%.1f s", seconds))
            if let manifest {
                try Self.writeManifest(manifest, run: run, report: report, counts: counts, seconds: seconds)
            }
            if !report.addsUp || report.deadLettered > 0 { throw ExitCode(1) }
        }

        static func hl7Files(_ path: String) throws -> [String] {
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
                throw ValidationError("\(path): no such file or folder")
            }
            guard isFolder.boolValue else { return [path] }
            let names = try FileManager.default.contentsOfDirectory(atPath: path)
            return names.filter { $0.hasSuffix(".hl7") || $0.hasSuffix(".txt") }.sorted()
                .map { (path as NSString).appendingPathComponent($0) }
        }

        static func writeManifest(
            _ path: String, run: String, report: HL7Migration.Report, counts: [String: Int], seconds: Double
        ) throws {
            func numbers(_ values: [String: Int]) -> JSON {
                .object(JSONObject(values.keys.sorted().map { ($0, .number(String(values[$0]!))) }))
            }
            let manifest = JSON.object(
                JSONObject([
                    ("run", .string(run)), ("read", .number(String(report.read))),
                    ("loaded", .number(String(report.loaded))), ("deadLettered", .number(String(report.deadLettered))),
                    ("filtered", numbers(report.filtered)), ("doneBefore", .number(String(report.alreadyDone))),
                    ("written", numbers(report.resources)), ("unchanged", .number(String(report.unchanged))),
                    ("storeCounts", numbers(counts)), ("seconds", .number(String(format: "%.3f", seconds))),
                    ("addsUp", .bool(report.addsUp)),
                ]))
            try Data(JSONWriter(layout: .pretty).bytes(manifest)).write(to: URL(fileURLWithPath: path))
        }
    }
}
