import ArgumentParser
import FHIR
import Foundation

extension Ferry {
    struct FHIRPath: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "fhirpath",
            abstract: "Evaluates a FHIRPath expression against a FHIR resource (JSON or XML) and prints the result.",
            discussion: """
                Prints the result collection as a JSON array, or one JSON value per line with --lines. \
                Exits 1 when the expression is malformed or fails to evaluate, 2 when the file is unusable.
                """
        )

        @Argument(help: "The FHIRPath expression, e.g. \"Patient.name.where(use = 'official').given\".")
        var expression: String

        @Argument(help: "A FHIR resource file (.json or .xml); a Bundle file makes %rootResource the Bundle.")
        var file: String

        @Flag(help: "Print one JSON value per line instead of one JSON array.")
        var lines = false

        @Option(help: "Name the current time for now() and today(), as an ISO 8601 instant.")
        var now: String?

        @Flag(help: "Make names that the definitions do not give an element an error instead of an empty result.")
        var strict = false

        func run() async throws {
            let definitions = try FHIRDefinitions.r4()
            let compiled: FHIRPathExpression
            do {
                compiled = try FHIRPathExpression(expression)
            } catch {
                printError(error)
                throw ExitCode(1)
            }
            let resource: JSON
            do {
                let items = try ResourceInput(definitions: definitions).read(file: file)
                guard items.count == 1, let item = items.first else {
                    throw FHIRError(.io, "expected one resource in the file, found \(items.count)", file: file)
                }
                resource = try item.result.get()
            } catch let error as FHIRError {
                printError(error)
                throw ExitCode(2)
            }
            var environment = FHIRPathEnvironment(rootResource: resource, isStrict: strict)
            if let now {
                guard let instant = ISO8601DateFormatter().date(from: now) else {
                    throw ValidationError("--now must be an ISO 8601 instant such as 2026-01-31T12:00:00Z")
                }
                environment.now = instant
            }
            let result: [FHIRPathValue]
            do {
                result = try compiled.evaluate(on: resource, definitions: definitions, environment: environment)
            } catch {
                printError(error)
                throw ExitCode(1)
            }
            let writer = JSONWriter()
            if lines {
                for value in result { print(writer.string(value.json)) }
            } else {
                print(writer.string(.array(result.map(\.json))))
            }
        }

        private func printError(_ error: FHIRError) {
            var standardError = FileHandle.standardError
            print("ferry fhirpath: \(error)", to: &standardError)
        }
    }
}

extension FileHandle: @retroactive TextOutputStream {
    public func write(_ string: String) {
        write(Data(string.utf8))
    }
}
