import ArgumentParser
import Foundation
import Reconciliation

extension Ferry {
    struct Link: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Finds the same person among records: deduplicates one CSV file or links two.",
            discussion: """
                Candidate pairs come from the blocking rules (records that agree on a rule's key are \
                compared); deterministic rules (--rule) make a pair certain when all their fields agree \
                exactly; every pair is weighed by a Fellegi–Sunter model whose m and u are estimated by EM \
                from the data (no labels), with comparison levels per kind of field: name (exact with \
                term-frequency adjustment, Jaro–Winkler bands), date (exact, day and month transposed, one \
                edit), identifier (exact, one edit), text, exact, phone. Grades as FHIR $match: certain \
                (a rule, or probability ≥ 0.999), probable (≥ 0.95), possible (≥ 0.5). Nothing is merged: \
                certain pairs are proposed for a merge, the others for review. Writes every pair with its \
                weight breakdown and where each record was read (--out), and the model (--model).
                """)

        @Option(help: "The CSV file (with a header row) to deduplicate, or the first of two to link.")
        var input: String

        @Option(help: "A second CSV file: link the two instead of deduplicating one.")
        var other: String?

        @Option(help: "The id column.")
        var id: String

        @Option(
            help: """
                The compared fields, COLUMN:KIND comma-separated; kinds: name, date, identifier, text, exact, phone \
                (given_name:name,surname:name,date_of_birth:date,soc_sec_id:identifier).
                """)
        var fields: String

        @Option(name: .customLong("block"), help: "A blocking rule, COLUMN[:PREFIX]+COLUMN… (repeatable).")
        var blocking: [String] = []

        @Option(
            name: .customLong("rule"),
            help: "A deterministic rule, COLUMN+COLUMN…: exact agreement is certain (repeatable).")
        var rules: [String] = []

        @Option(help: "Leave out blocks larger than this (a common key is no key).")
        var largestBlock = 5_000

        @Option(help: "Where the linked pairs go (CSV).")
        var out = "pairs.csv"

        @Option(help: "Where the estimated model goes (JSON).")
        var model: String?

        @Option(help: "Known true pairs (CSV, the first two columns ids): print precision, recall and F1.")
        var truth: String?

        func run() async throws {
            let linkFields: [LinkField]
            var matcher: Matcher
            do {
                linkFields = try fields.split(separator: ",").map { try LinkField(parsing: String($0)) }
                matcher = Matcher(
                    fields: linkFields, blocking: try blocking.map(BlockingRule.init(parsing:)),
                    rules: try rules.map(DeterministicRule.init(parsing:)))
            } catch { throw ValidationError("\(error)") }
            guard !matcher.blocking.isEmpty || !matcher.rules.isEmpty else {
                throw ValidationError("give at least one --block rule (comparing every pair does not scale)")
            }
            matcher.largestBlock = largestBlock
            let started = Date()
            var records = try LinkRecords.csv(path: input, id: id, fields: linkFields)
            var split: Int?
            if let other {
                split = records.count
                records.append(contentsOf: try LinkRecords.csv(path: other, id: id, fields: linkFields))
            }
            let outcome = try matcher.run(records, split: split)
            try Data(LinkOutput.csv(outcome, records: records).utf8).write(to: URL(fileURLWithPath: out))
            if let model { try LinkOutput.modelJSON(outcome).write(to: URL(fileURLWithPath: model)) }
            let grades = Dictionary(grouping: outcome.pairs, by: \.grade).mapValues(\.count)
            print(
                "\(records.count) records, \(outcome.candidates) pairs compared; EM converged in "
                    + "\(outcome.model.iterations) iterations (λ = \(String(format: "%.4f", outcome.model.lambda)))")
            print(
                "certain \(grades[.certain] ?? 0), probable \(grades[.probable] ?? 0), possible \(grades[.possible] ?? 0) "
                    + "in \(String(format: "%.2f", Date().timeIntervalSince(started))) s; pairs in \(out)")
            for (rule, count) in outcome.skippedBlocks.sorted(by: { $0.key < $1.key }) {
                print("left out \(count) blocks of rule \(rule) larger than \(largestBlock) records")
            }
            if let truth {
                let known = try LinkEvaluation.truth(csv: truth)
                for grade in [MatchGrade.possible, .probable, .certain] {
                    let evaluation = LinkEvaluation(outcome, records: records, truth: known, at: grade)
                    print(
                        String(
                            format:
                                "at %@ or better: precision %.4f, recall %.4f, F1 %.4f (%d true, %d false, %d missed)",
                            grade.rawValue, evaluation.precision, evaluation.recall, evaluation.f1,
                            evaluation.truePositives, evaluation.falsePositives, evaluation.falseNegatives))
                }
            }
        }
    }
}
