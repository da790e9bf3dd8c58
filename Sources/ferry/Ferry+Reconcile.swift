import ArgumentParser
import FHIR
import Foundation
import Legacy
import Mapping
import Reconciliation
import Store

extension Ferry {
    struct Reconcile: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Proves a migration: compares the target with the legacy sources, record by record.",
            discussion: """
                The sources are mapped again by the same spec and HL7 v2 maps (as `ferry migrate` did) and every resource \
                they make is compared with the target by its content hash, range by range: a range whose \
                count and fingerprint sum agree is skipped, one that differs is cut down to the records that \
                differ. Each differing record is named (altered, missing, extra) with its legacy row, and an \
                altered one's high-risk attributes (identifiers, allergies, medications) are shown side by \
                side with the source columns. Every source row is accounted for: loaded, dead-lettered (found \
                among the run's dead letters with --run), filtered by a named rule, or listed as unaccounted. \
                Provenance is compared by id (its recording time is the migration's). With --snapshot, the \
                drift of the target since that snapshot is reported too. Duplicate patients in the target are \
                found (see `ferry link`) and written to duplicates.csv. A stratified sample of notes and problem \
                lists (--review per stratum of site, type and five-year band) is drawn for clinical review: \
                review.html and review.csv, legacy row beside FHIR resource with sign-off fields (they hold PHI). \
                Writes reconciliation.json, .md and .html to --out; the thresholds decide the verdict and the exit code: 0 pass, 1 warn, 2 \
                escalate (escalation.json is written and the thresholds' webhook told).
                """)

        @Option(
            name: .customLong("source"),
            help: "A source as `ferry migrate` took it: hl7:PATH, sqlite:PATH, postgres://…, csv:FOLDER (repeatable).")
        var sources: [String] = []

        @Option(help: "The mapping spec (YAML) the migration used, for relational and CSV sources.")
        var mapping: String?

        @OptionGroup(title: "HL7 v2 conversion") var conversion: Ferry.HL7.ConversionOptions

        @Option(help: "The store: sqlite:PATH or postgres://user@host:port/database.")
        var target: String

        @Option(help: "The migration run whose dead letters account for the rows the mapping refuses.")
        var run: String?

        @Option(help: "Only these resource types (comma-separated); default: every type either side holds.")
        var types: String?

        @Option(
            name: .customLong("field"),
            help: """
                A high-risk attribute to show side by side when a record differs, TYPE:FHIRPATH (repeatable; \
                `*` for every type), added to the defaults (identifiers, allergies, medications).
                """)
        var fields: [String] = []

        @Option(help: "A thresholds file (YAML: mismatchRate, unaccounted, deadLetterRate, unmappedCodes, webhook).")
        var thresholds: String?

        @Option(help: "A snapshot folder (`ferry store snapshot`) to measure the target's drift since.")
        var snapshot: String?

        @Option(
            help:
                "Notes and problem-list entries drawn per stratum (site, type, date band) for clinical review; 0 for none."
        )
        var review = 5

        @Option(help: "The seed of the review draw (the same seed draws the same records).")
        var seed: UInt64 = 1

        @Option(help: "Where the reports go.")
        var out = "reconciliation"

        func run() async throws {
            guard !sources.isEmpty else { throw ValidationError("give at least one --source") }
            let definitions = try FHIRDefinitions.r4()
            var limits = Thresholds()
            if let thresholds {
                do { limits = try Thresholds.load(path: thresholds) } catch {
                    Self.printError(error)
                    throw ExitCode(64)
                }
            }
            var inputs = LegacyInputs()
            for source in sources {
                if source.hasPrefix("hl7:") {
                    inputs.feeds += try Ferry.Migrate.hl7Files(String(source.dropFirst(4)))
                } else {
                    do { inputs.sources.append(try LegacySources.open(source)) } catch {
                        throw ValidationError("\(error)")
                    }
                }
            }
            if !inputs.sources.isEmpty {
                guard let mapping else { throw ValidationError("relational and CSV sources need --mapping SPEC") }
                let spec = try Ferry.Map.load(mapping, definitions: definitions)
                inputs.mapper = SpecMapper(spec: spec, definitions: definitions, recorded: Date())
            }
            if !inputs.feeds.isEmpty { inputs.converter = try conversion.converter(definitions: definitions) }
            let store = try await StoreTarget.open(target, definitions: definitions)
            var reconciliation = Reconciliation(inputs: inputs, target: store, definitions: definitions, run: run)
            reconciliation.types = types.map { Set($0.split(separator: ",").map(String.init)) }
            reconciliation.reviewPerStratum = max(0, review)
            for field in fields {
                guard let colon = field.firstIndex(of: ":"), colon != field.startIndex,
                    field.index(after: colon) != field.endIndex
                else { throw ValidationError("--field \(field): expected TYPE:FHIRPATH (Observation:value)") }
                let expression = String(field[field.index(after: colon)...])
                do { _ = try FHIRPathExpression(expression, definitions: definitions) } catch {
                    throw ValidationError("--field \(field): \(error)")
                }
                reconciliation.fieldRules.rules[String(field[..<colon]), default: []].append(expression)
            }
            reconciliation.reviewSeed = seed
            var report = try await reconciliation.reconcile()
            if let snapshot { report.drift = try await Drift.measure(snapshot: snapshot, store: store) }
            let verdict = limits.verdict(on: report)
            let named = sources.map(Self.withoutPassword)
            let documents = ReportDocuments(
                report: report, verdict: verdict, sources: named, target: Self.withoutPassword(target),
                generated: Date())
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            let folder = URL(fileURLWithPath: out)
            try documents.json().write(to: folder.appendingPathComponent("reconciliation.json"))
            try Data(documents.markdown().utf8).write(to: folder.appendingPathComponent("reconciliation.md"))
            try Data(documents.html().utf8).write(to: folder.appendingPathComponent("reconciliation.html"))
            try Data(documents.duplicatesCSV().utf8).write(to: folder.appendingPathComponent("duplicates.csv"))
            if let sample = report.review {
                try Data(sample.html(generated: Date()).utf8).write(to: folder.appendingPathComponent("review.html"))
                try Data(sample.csv().utf8).write(to: folder.appendingPathComponent("review.csv"))
                print(
                    "clinical review: \(sample.items.count) records from \(sample.strata.count) strata in \(out)/review.{html,csv}"
                )
            }
            Self.summarize(report, verdict: verdict, folder: out)
            if verdict.level == .escalate {
                let notice = EscalationNotice(
                    report: report, verdict: verdict, target: Self.withoutPassword(target), folder: out,
                    generated: Date())
                let file = folder.appendingPathComponent("escalation.json").path
                for problem in try await notice.raise(file: file, webhook: limits.webhook) { Self.printError(problem) }
                print("escalated: \(file)\(limits.webhook.map { " and \($0.host ?? "the webhook")" } ?? "")")
            }
            if verdict.level != .pass { throw ExitCode(verdict.level.exitCode) }
        }

        /// The counts on the terminal (no record content: ids and locators stay in the reports).
        static func summarize(_ report: ReconciliationReport, verdict: Verdict, folder: String) {
            let width = max(4, report.types.map(\.type.count).max() ?? 4)
            func pad(_ text: String) -> String { text.padding(toLength: width, withPad: " ", startingAt: 0) }
            print("\(pad("type"))    legacy    target   matched   altered   missing     extra")
            for row in report.types {
                let numbers = [row.legacy, row.target, row.matched, row.altered, row.missing, row.extra].map {
                    String($0).leftPadded(to: 10)
                }
                print(pad(row.type) + numbers.joined())
            }
            let rows = report.tables.reduce(0) { $0 + $1.read }
            print(
                "source rows \(rows): loaded \(report.tables.reduce(0) { $0 + $1.loaded }), dead-lettered "
                    + "\(report.tables.reduce(0) { $0 + $1.deadLettered }), filtered "
                    + "\(report.tables.reduce(0) { $0 + $1.filtered.values.reduce(0, +) }), unaccounted \(report.unaccounted.count)"
            )
            if let duplicates = report.duplicates {
                print(
                    "duplicate patients: certain \(duplicates.certain), probable \(duplicates.probable), possible "
                        + "\(duplicates.possible); \(duplicates.resolved) already linked, \(duplicates.unresolved) to resolve"
                )
            }
            if let drift = report.drift {
                print("drift since \(drift.snapshot): \(drift.differences.count) records changed, deleted or created")
            }
            print("verdict: \(verdict.level.rawValue); reports in \(folder)/reconciliation.{json,md,html}")
        }

        static func printError(_ message: Any) {
            var standardError = FileHandle.standardError
            print("ferry reconcile: \(message)", to: &standardError)
        }

        static func withoutPassword(_ text: String) -> String {
            guard var components = URLComponents(string: text), components.password != nil else { return text }
            components.password = "***"
            return components.string ?? text
        }
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
