import ArgumentParser
import FHIR
import Foundation
import Legacy
import Mapping
import Migration
import Reconciliation
import Store

extension Ferry {
    struct Demo: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "The whole journey on a synthetic clinic, embedded: synthesize, discover, map, migrate, validate, reconcile.",
            discussion: """
                Writes a legacy clinic (a SQLite database shaped like OpenEMR's, CSV exports, an HL7 v2 feed), \
                inventories it (reports/assessment.*), checks the shipped mapping spec against it, migrates the \
                database by the spec and the feed by the HL7 v2-to-FHIR maps into one SQLite FHIR store, reads \
                every stored resource back through the validator, reconciles the store against both sources \
                (reports/reconciliation.*, duplicate patients, a clinical review sample), and prints the accounts. \
                Nothing to install or start. Exits 1 when the accounts do not add up, a stored resource is not \
                valid, or reconciliation finds a record that differs or a row not accounted for.
                """
        )

        @Option(help: "The folder to work in (replaced).")
        var folder = "ferry-demo"

        @Option(help: "How many patients the clinic has.")
        var patients = 1000

        @Option(help: "The clinic's random seed.")
        var seed: UInt64 = 1

        func run() async throws {
            let started = ContinuousClock.now
            func elapsed() -> String {
                let duration = ContinuousClock.now - started
                return String(
                    format: "%5.1f s",
                    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18)
            }
            func path(_ name: String) -> String { (folder as NSString).appendingPathComponent(name) }
            try? FileManager.default.removeItem(atPath: folder)
            try FileManager.default.createDirectory(atPath: path("reports"), withIntermediateDirectories: true)

            let clinic = try Synthesizer.run(
                Synthesizer.Options(patients: patients, seed: seed, folder: path("clinic")))
            let rows = clinic.rows.values.reduce(0, +)
            let messages = clinic.messages.values.reduce(0, +)
            print(
                "\(elapsed())  synthesized \(clinic.people) patients (\(clinic.duplicates) registered twice): \(rows) rows, \(messages) HL7 v2 messages, \(clinic.documents) documents"
            )

            let database = try SQLiteSource(path: path("clinic/legacy.db"))
            var discovery = try await Discovery.run(source: database)
            discovery.feed = try FeedDiscovery.run(path: path("clinic/feed"))
            try DiscoveryReport.markdown(discovery).write(
                toFile: path("reports/assessment.md"), atomically: true, encoding: .utf8)
            try DiscoveryReport.html(discovery).write(
                toFile: path("reports/assessment.html"), atomically: true, encoding: .utf8)
            try DiscoveryReport.json(discovery).write(to: URL(fileURLWithPath: path("reports/assessment.json")))
            let phi = discovery.tables.reduce(0) { $0 + $1.columns.count(where: \.phi.isPHI) }
            print(
                "\(elapsed())  discovered \(discovery.tables.count) tables, \(phi) columns holding PHI, \(discovery.feed?.events.count ?? 0) HL7 v2 message types"
            )

            let definitions = try FHIRDefinitions.r4()
            guard let specPath = Synthesizer.exampleSpecPath else {
                throw ValidationError("the shipped mapping spec is missing")
            }
            let spec = try MappingSpec.load(path: specPath, definitions: definitions)
            let findings = SpecLint.run(
                spec: spec, definitions: definitions, tables: try await database.tables(), discovery: discovery)
            try SpecDocument.html(spec).write(toFile: path("reports/mapping.html"), atomically: true, encoding: .utf8)
            print(
                "\(elapsed())  mapping spec \(spec.name) \(spec.version): \(spec.mappings.count) mappings, lint \(findings.isEmpty ? "clean" : findings.map(\.description).joined(separator: "; "))"
            )

            let store = try SQLiteStore(path: path("store.sqlite"), definitions: definitions)
            let mapper = SpecMapper(spec: spec, definitions: definitions, recorded: Date())
            // Bulk mode: a new store, so the search tables' indexes are built once both sources are in.
            var options = MigrationOptions(run: "demo", batchSize: 200)
            options.deferIndex = true
            let fromDatabase = try await RelationalMigration(
                source: database, mapper: mapper, store: store, options: options
            ).run()
            print("\(elapsed())  migrated the database: \(Self.accounts(fromDatabase))")

            let converter = V2Converter(
                maps: try V2Maps.shipped(), definitions: definitions,
                options: .init(senderZone: TimeZone(identifier: "America/New_York")!))
            let files = try FileManager.default.contentsOfDirectory(atPath: path("clinic/feed")).sorted().map {
                path("clinic/feed/\($0)")
            }
            let fromFeed = try await HL7Migration(files: files, store: store, converter: converter, options: options)
                .run()
            print("\(elapsed())  migrated the HL7 v2 feed: \(Self.accounts(fromFeed))")
            try await store.buildSearchIndexes()
            print("\(elapsed())  built the search indexes")

            let (checked, invalid) = try await Self.validateAll(store, definitions: definitions)
            print(
                "\(elapsed())  read back and validated \(checked) resources: \(invalid.isEmpty ? "all valid" : "\(invalid.count) not valid: \(invalid.prefix(5).joined(separator: ", "))")"
            )

            var reconciliation = Reconciliation(
                inputs: LegacyInputs(sources: [database], mapper: mapper, feeds: files, converter: converter),
                target: store, definitions: definitions, run: "demo")
            reconciliation.reviewPerStratum = 3
            let reconciled = try await reconciliation.reconcile()
            let verdict = Thresholds().verdict(on: reconciled)
            let documents = ReportDocuments(
                report: reconciled, verdict: verdict, sources: ["sqlite:clinic/legacy.db", "hl7:clinic/feed"],
                target: "sqlite:store.sqlite", generated: Date())
            try documents.json().write(to: URL(fileURLWithPath: path("reports/reconciliation.json")))
            try documents.markdown().write(toFile: path("reports/reconciliation.md"), atomically: true, encoding: .utf8)
            try documents.html().write(toFile: path("reports/reconciliation.html"), atomically: true, encoding: .utf8)
            try documents.duplicatesCSV().write(
                toFile: path("reports/duplicates.csv"), atomically: true, encoding: .utf8)
            if let review = reconciled.review {
                try review.html(generated: Date()).write(
                    toFile: path("reports/review.html"), atomically: true, encoding: .utf8)
            }
            let compared = reconciled.types.reduce(0) { $0 + $1.legacy }
            print(
                "\(elapsed())  reconciled \(compared) records against the sources: \(reconciled.differences.count) differ, "
                    + "\(reconciled.unaccounted.count) rows unaccounted for; verdict \(verdict.level.rawValue)"
                    + (verdict.findings.isEmpty
                        ? ""
                        : " ("
                            + verdict.findings.map { "\($0.measure) \($0.subject) \(Int($0.value))" }.joined(
                                separator: ", ")
                            + ")"))
            if let duplicates = reconciled.duplicates {
                print(
                    "\(elapsed())  duplicate patients: \(duplicates.certain) certain, \(duplicates.probable) probable, "
                        + "\(duplicates.possible) possible pairs (\(duplicates.resolved) already merged in the legacy system)"
                )
            }

            let counts = try await store.counts()
            print("\nThe store (\(path("store.sqlite"))) holds:")
            for type in counts.keys.sorted() {
                print("  \(type.padding(toLength: 22, withPad: " ", startingAt: 0)) \(counts[type]!)")
            }
            let letters = try await store.deadLetters(run: "demo")
            print("\nDead letters (\(letters.count)), kept in the store with the record and the reason:")
            var reasons: [String: Int] = [:]
            for letter in letters { reasons[Self.reasonKind(letter.reason), default: 0] += 1 }
            for (reason, count) in reasons.sorted(by: { $0.value > $1.value }) { print("  \(count) × \(reason)") }
            var unmapped = fromDatabase.unmapped
            unmapped.merge(fromFeed.unmapped, uniquingKeysWith: +)
            if !unmapped.isEmpty {
                print("\nLocal codes no ConceptMap or value map had (kept as the original coding, counted):")
                for (code, count) in unmapped.sorted(by: { $0.key < $1.key }) { print("  \(code) × \(count)") }
            }
            print(
                """

                The feed repeats the database's events, as a live interface does: each person appears once from \
                each source, and the duplicate patients above are those pairs (and the clinic's own duplicates) for \
                a data steward to merge.
                Reports: \(path("reports/assessment.html")), \(path("reports/mapping.html")), \
                \(path("reports/reconciliation.html")), \(path("reports/review.html")); \
                the clinic: \(path("clinic")) (truth in clinic/truth).
                Done in \(elapsed().trimmingCharacters(in: .whitespaces)).
                """)
            if !fromDatabase.addsUp || !fromFeed.addsUp || !invalid.isEmpty || !reconciled.isClean { throw ExitCode(1) }
        }

        static func accounts(_ report: MigrationReport) -> String {
            "read \(report.read) = loaded \(report.loaded) + dead-lettered \(report.deadLettered) + filtered \(report.filtered.values.reduce(0, +))"
                + (report.addsUp ? "" : " (DOES NOT ADD UP)")
                + "; \(report.resources.values.reduce(0, +)) resources written"
        }

        /// The kind of a dead letter's reason, without the row's own values.
        static func reasonKind(_ reason: String) -> String {
            if let quote = reason.firstIndex(of: "'"),
                let end = reason[reason.index(after: quote)...].firstIndex(of: "'")
            {
                return String(reason[..<quote]) + "'…'" + String(reason[reason.index(after: end)...])
            }
            return String(reason.prefix(160))
        }

        /// Every current resource read back from the store and validated.
        static func validateAll(_ store: any FHIRStore, definitions: FHIRDefinitions) async throws -> (Int, [String]) {
            let validator = Validator(definitions: definitions)
            var checked = 0
            var invalid: [String] = []
            for type in try await store.counts().keys.sorted() {
                var offset = 0
                while true {
                    let page = try await store.search(
                        SearchQuery(type: type, parameters: [], count: 1000, offset: offset))
                    for stored in page.resources {
                        guard let resource = stored.resource else { continue }
                        checked += 1
                        if !validator.validate(resource).isValid { invalid.append("\(type)/\(stored.id)") }
                    }
                    offset += page.resources.count
                    if page.resources.isEmpty || offset >= page.total { break }
                }
            }
            return (checked, invalid)
        }
    }
}
