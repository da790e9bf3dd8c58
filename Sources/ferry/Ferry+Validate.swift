import ArgumentParser
import FHIR
import Foundation

extension Ferry {
    struct Validate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Validates FHIR R4 resources (JSON, NDJSON, XML, Bundles; files or folders) against the core definitions.",
            discussion: "Exits 0 when every resource is valid, 1 when any is invalid, 2 when any input is unusable."
        )

        enum Format: String, ExpressibleByArgument {
            case text, json
        }

        @Argument(help: "Files or folders to validate.")
        var paths: [String]

        @Option(help: "Output: text for people, json for one OperationOutcome per line.")
        var format: Format = .text

        func run() async throws {
            let validator = try Validator()
            let report = ValidationReport.validating(paths: paths, validator: validator)
            print(format == .json ? report.jsonLines : report.humanSummary)
            throw ExitCode(report.exitCode)
        }
    }
}
