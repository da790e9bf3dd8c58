import ArgumentParser
import FHIR
import Foundation
import Legacy
import Mapping
import Migration
import Store

extension Ferry {
    struct Migrate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Migrates legacy sources into a FHIR store, in checkpointed batches that resume after a crash.",
            discussion: """
                Sources: hl7:PATH (an HL7 v2 file or a folder of them; every message converted by the \
                v2-to-FHIR maps and validated), and sqlite:PATH, postgres://…, csv:FOLDER mapped by --mapping \
                (every row mapped, validated, with its Provenance). --types, --only and --window take a \
                subset (a phase by module, site or time); the rest is counted as filtered under a named rule. \
                --retry-dead-letters maps or converts the run's dead letters again (after a fix to the spec \
                or --maps) and loads those that now make valid Bundles. Each batch's Bundles, dead letters and checkpoint are \
                committed together, so running the same --run again after a kill resumes where it stopped \
                and ends with the same store. Progress: a bar on a terminal, JSON lines otherwise. Prints \
                the accounting (read = loaded + dead-lettered + filtered + done before) and exits 1 when \
                anything was dead-lettered.
                """
        )

        @Option(
            name: .customLong("source"),
            help: "A source: hl7:PATH, sqlite:PATH, postgres://…, csv:FOLDER (repeatable).")
        var sources: [String] = []

        @Option(help: "The mapping spec (YAML) for relational and CSV sources.")
        var mapping: String?

        @Option(help: "Only rows mapped to these resource types (comma-separated): a phase by module.")
        var types: String?

        @Option(help: "Only rows whose COLUMN is one of the values, as COLUMN=V1,V2 (a phase by site: facility_id=1).")
        var only: String?

        @Option(help: "Only rows whose COLUMN falls in a date range, as COLUMN:FROM..TO (YYYY-MM-DD, either end open).")
        var window: String?

        @Option(
            help: "The time Provenance records for mapped rows (ISO 8601); fixed per run so a rerun writes the same.")
        var recorded: String?

        @Flag(help: "Convert the run's dead letters again (after a fix to the maps) instead of reading sources.")
        var retryDeadLetters = false

        @Option(help: "The store: sqlite:PATH or postgres://user@host:port/database.")
        var target: String

        @Option(help: "The run's name; the same name resumes it.")
        var run = "migration"

        @Option(help: "Messages per committed batch.")
        var batch = 100

        @Option(help: "Partitions migrated at once (default: one more than the processors).")
        var workers = MigrationOptions.defaultWorkers

        @Option(
            help: """
                This process's name among the processes sharing a run (default: the host name); \
                a restart with the same name takes back its partitions at once.
                """)
        var worker = ProcessInfo.processInfo.hostName

        @OptionGroup(title: "HL7 v2 conversion") var conversion: Ferry.HL7.ConversionOptions

        @Option(help: "At most this many messages a second (to spare a busy legacy system or store).")
        var maximumRate: Double?

        @Flag(
            help: """
                Bulk mode: drop the search tables' indexes for the load and build them once at the end \
                (each resource's index rows are still written with it; searches are slow, not wrong, until \
                then; with several worker processes the first to finish builds them and the others go on).
                """)
        var deferIndex = false

        @Option(help: "Write the run's manifest (JSON) to this file.")
        var manifest: String?

        func run() async throws {
            guard retryDeadLetters || !sources.isEmpty else { throw ValidationError("give at least one --source") }
            var files: [String] = []
            var relational: [any LegacySource] = []
            for source in sources {
                if source.hasPrefix("hl7:") {
                    files += try Self.hl7Files(String(source.dropFirst(4)))
                } else {
                    do { relational.append(try LegacySources.open(source)) } catch { throw ValidationError("\(error)") }
                }
            }
            let definitions = try FHIRDefinitions.r4()
            let store = try await StoreTarget.open(target, definitions: definitions)
            var options = MigrationOptions(
                run: run, batchSize: batch, workers: workers, worker: worker, maximumRate: maximumRate)
            options.deferIndex = deferIndex
            var migrations: [Migration] = []
            var specVersion: String?
            if !files.isEmpty {
                let migration = HL7Migration(
                    files: files, store: store, converter: try conversion.converter(definitions: definitions),
                    options: options)
                migrations.append(Migration(run: migration.run, retry: migration.retryDeadLetters))
            }
            if !relational.isEmpty {
                guard let mapping else { throw ValidationError("relational and CSV sources need --mapping SPEC") }
                let spec = try Ferry.Map.load(mapping, definitions: definitions)
                specVersion = "\(spec.name) \(spec.version)"
                let mapper = SpecMapper(spec: spec, definitions: definitions, recorded: try recordedTime())
                let subset = try self.subset()
                for source in relational {
                    let migration = RelationalMigration(
                        source: source, mapper: mapper, store: store, options: options, subset: subset)
                    migrations.append(Migration(run: migration.run, retry: migration.retryDeadLetters))
                }
            }
            if retryDeadLetters {
                var retry = RetryReport()
                for migration in migrations {
                    let one = try await migration.retry()
                    retry = RetryReport(
                        retried: retry.retried + one.retried, loaded: retry.loaded + one.loaded,
                        stillDead: retry.stillDead + one.stillDead, filtered: retry.filtered + one.filtered)
                }
                print(
                    "retried \(retry.retried): loaded \(retry.loaded), filtered \(retry.filtered), "
                        + "still dead \(retry.stillDead)")
                if retry.stillDead > 0 { throw ExitCode(1) }
                return
            }
            let started = Date()
            let onTerminal = isatty(STDOUT_FILENO) != 0
            let progress: @Sendable (MigrationProgress) -> Void = { progress in
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
                    // One line per committed batch, flushed: a log shipper (or a watcher) sees it at once.
                    print(#"{"done":\#(progress.done),"total":\#(progress.total),"rate":\#(Int(rate))}"#)
                    fflush(nil)
                }
            }
            var report = MigrationReport()
            for migration in migrations {
                report.add(try await migration.run(progress))
                if onTerminal { print("") }
            }
            // A bulk load (this one, or an interrupted one before it) dropped the search tables' indexes.
            let indexing = Date()
            try await store.buildSearchIndexes()
            if deferIndex {
                print("search indexes built in \(String(format: "%.1f", Date().timeIntervalSince(indexing))) s")
            }
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
            for (group, accounts) in report.groups.sorted(by: { $0.key < $1.key }) {
                print(
                    "  \(group): read \(accounts.read) = loaded \(accounts.loaded) + dead-lettered "
                        + "\(accounts.deadLettered) + filtered \(accounts.filtered)")
            }
            print(
                "written: "
                    + report.resources.keys.sorted().map { "\($0) \(report.resources[$0]!)" }
                    .joined(separator: ", ") + "; unchanged \(report.unchanged)")
            if !report.unmapped.isEmpty {
                print(
                    "codes no map had: "
                        + report.unmapped.keys.sorted().map { "\($0) ×\(report.unmapped[$0]!)" }.joined(separator: ", ")
                )
            }
            print("the store holds " + Ferry.StoreCommand.describe(counts))
            for letter in letters.prefix(20) { print("  dead letter \(letter.locator): \(letter.reason.prefix(200))") }
            if letters.count > 20 { print("  … \(letters.count - 20) more dead letters in the store") }
            print(String(format: "%.1f s", seconds))
            if let manifest {
                let digest = try await StoreDigest.of(store, rangeSize: 1_000_000)
                try Self.writeManifest(
                    manifest, run: run, report: report, counts: counts, seconds: seconds, mapping: specVersion,
                    digest: digest)
            }
            if !report.addsUp || report.deadLettered > 0 { throw ExitCode(1) }
        }

        /// One source's migration, as the command drives it.
        struct Migration {
            var run: (@escaping @Sendable (MigrationProgress) -> Void) async throws -> MigrationReport
            var retry: () async throws -> RetryReport
        }

        func recordedTime() throws -> Date {
            guard let recorded else { return Date() }
            guard let date = ISO8601DateFormatter().date(from: recorded) else {
                throw ValidationError("--recorded \(recorded) is not an ISO 8601 time (2026-11-25T10:00:00Z)")
            }
            return date
        }

        func subset() throws -> RelationalMigration.Subset? {
            guard types != nil || only != nil || window != nil else { return nil }
            var subset = RelationalMigration.Subset()
            if let types { subset.resourceTypes = Set(types.split(separator: ",").map(String.init)) }
            if let only {
                let parts = only.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2 else { throw ValidationError("--only is COLUMN=V1,V2") }
                subset.column = parts[0]
                subset.values = Set(parts[1].split(separator: ",").map(String.init))
            }
            if let window {
                let parts = window.split(separator: ":", maxSplits: 1).map(String.init)
                let range = parts.count == 2 ? parts[1].components(separatedBy: "..") : []
                guard range.count == 2 else { throw ValidationError("--window is COLUMN:FROM..TO") }
                subset.timeColumn = parts[0]
                subset.from = range[0].isEmpty ? nil : range[0]
                subset.to = range[1].isEmpty ? nil : range[1]
            }
            return subset
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
            _ path: String, run: String, report: MigrationReport, counts: [String: Int], seconds: Double,
            mapping: String?, digest: StoreDigest
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
                    ("addsUp", .bool(report.addsUp)), ("mapping", mapping.map { .string($0) } ?? .null),
                    (
                        "perKind",
                        .object(
                            JSONObject(
                                report.groups.keys.sorted().map { group in
                                    let a = report.groups[group]!
                                    return (
                                        group,
                                        numbers([
                                            "read": a.read, "loaded": a.loaded, "deadLettered": a.deadLettered,
                                            "filtered": a.filtered,
                                        ])
                                    )
                                }))
                    ),
                    (
                        "storeDigests",
                        .object(
                            JSONObject(digest.types.keys.sorted().map { ($0, .string(digest.types[$0]!.sha256)) }))
                    ),
                    ("unmappedCodes", numbers(report.unmapped)),
                ]))
            try Data(JSONWriter(layout: .pretty).bytes(manifest)).write(to: URL(fileURLWithPath: path))
        }
    }
}
