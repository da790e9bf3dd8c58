import ArgumentParser
import FHIR
import Foundation
import Legacy
import Mapping

extension Ferry.Map {
    struct Lint: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Checks a spec against its source and the FHIR definitions.",
            discussion: """
                Errors: tables or columns the source lacks, paths or types the definitions reject (line and \
                column in the spec), required elements no rule fills. Warnings: PHI columns no rule maps, \
                tables no mapping reads. Exits 1 on any error, 2 when the spec cannot be read.
                """
        )

        @Argument(help: "The mapping spec (YAML).")
        var spec: String

        @Option(help: "The source: sqlite:PATH, postgres://…, or a folder of CSV files.")
        var source: String

        func run() async throws {
            let definitions = try FHIRDefinitions.r4()
            let spec = try Ferry.Map.load(self.spec, definitions: definitions)
            let source: any LegacySource
            do { source = try LegacySources.open(self.source) } catch {
                Ferry.Map.printError(error)
                throw ExitCode(2)
            }
            let discovery = try await Discovery.run(source: source)
            let tables = try await source.tables()
            let findings = SpecLint.run(spec: spec, definitions: definitions, tables: tables, discovery: discovery)
            for finding in findings { print("\(self.spec): \(finding)") }
            let errors = findings.count { $0.severity == .error }
            print("\(errors) errors, \(findings.count - errors) warnings")
            if errors > 0 { throw ExitCode(1) }
        }
    }

    struct Doc: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Writes the mapping document auditors ask for: legacy field → FHIR element → transform.")

        @Argument(help: "The mapping spec (YAML).")
        var spec: String

        @Option(help: "The file to write: .html for HTML, anything else Markdown; standard output when absent.")
        var out: String?

        func run() async throws {
            let spec = try Ferry.Map.load(self.spec, definitions: try FHIRDefinitions.r4())
            guard let out else {
                print(SpecDocument.markdown(spec))
                return
            }
            let text = out.hasSuffix(".html") ? SpecDocument.html(spec) : SpecDocument.markdown(spec)
            try text.write(toFile: out, atomically: true, encoding: .utf8)
            print("Wrote \(out)")
        }
    }

    struct Diff: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Shows what changed between two versions of a spec (exit 1 when anything did).")

        @Argument(help: "The older spec.")
        var old: String

        @Argument(help: "The newer spec.")
        var new: String

        func run() async throws {
            let definitions = try FHIRDefinitions.r4()
            let lines = SpecDiff.lines(
                old: try Ferry.Map.load(old, definitions: definitions),
                new: try Ferry.Map.load(new, definitions: definitions))
            if lines.isEmpty {
                print("no differences")
                return
            }
            for line in lines { print(line) }
            throw ExitCode(1)
        }
    }
}
