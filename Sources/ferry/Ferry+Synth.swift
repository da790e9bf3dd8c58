import ArgumentParser
import Foundation
import Legacy

extension Ferry {
    struct Synth: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Writes a synthetic legacy clinic to practise on: a SQLite database, CSV exports and an HL7 v2 feed.",
            discussion: """
                The database is shaped like OpenEMR's and has the mess of a real one (local codes, several \
                date formats, two sites in two time zones, nulls and blanks, free text, about 3% duplicate \
                patients). truth/ holds what a tool should find: each column's PHI class and the duplicate \
                pairs. The same seed writes the same files.
                """
        )

        @Option(help: "How many patients (people; duplicates come on top).")
        var patients = 1000

        @Option(help: "The random seed.")
        var seed: UInt64 = 1

        @Option(help: "The folder to write (created when missing; legacy.db in it is replaced).")
        var out: String

        func run() throws {
            let started = ContinuousClock.now
            let summary = try Synthesizer.run(Synthesizer.Options(patients: patients, seed: seed, folder: out)) {
                done in
                var standardError = FileHandle.standardError
                print("ferry synth: \(done) patients", to: &standardError)
            }
            let seconds =
                Double((ContinuousClock.now - started).components.attoseconds) / 1e18
                + Double((ContinuousClock.now - started).components.seconds)
            print(
                "Wrote \(out): \(summary.people) patients (\(summary.duplicates) registered twice, \(summary.merged) of them merged)"
            )
            print("  rows: " + summary.rows.keys.sorted().map { "\($0) \(summary.rows[$0]!)" }.joined(separator: ", "))
            print(
                "  HL7 v2 messages: "
                    + summary.messages.keys.sorted().map { "\($0) \(summary.messages[$0]!)" }.joined(separator: ", "))
            print("  documents: \(summary.documents); truth in \(out)/truth; \(String(format: "%.1f", seconds)) s")
        }
    }
}
