import ArgumentParser
import FHIR
import Foundation
import Store

extension Ferry {
    struct StoreCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "store",
            abstract: "Loads, searches and reads a FHIR store (sqlite:PATH or postgres://…).",
            subcommands: [Load.self, Search.self, Read.self, Hashes.self, Snapshot.self, Restore.self, Reindex.self]
        )
    }
}

extension Ferry.StoreCommand {
    /// `Patient 3, Observation 12`, or `nothing`.
    static func describe(_ counts: [String: Int]) -> String {
        counts.isEmpty ? "nothing" : counts.keys.sorted().map { "\($0) \(counts[$0]!)" }.joined(separator: ", ")
    }

    static func printError(_ message: Any) {
        var standardError = FileHandle.standardError
        print("ferry store: \(message)", to: &standardError)
    }

    struct Load: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Loads FHIR resources and Bundles into a store.",
            discussion: """
                A transaction Bundle runs as one transaction (all or nothing); any other resource is written \
                under its id as a new version, or not at all when its content is unchanged. Prints what \
                happened per outcome and per type. Exits 1 when anything was refused, 2 when an input \
                cannot be read.
                """
        )

        @Argument(help: "Files or folders of FHIR resources (JSON, NDJSON, XML).")
        var paths: [String]

        @Option(help: "The store: sqlite:PATH or postgres://user@host:port/database.")
        var target: String

        func run() async throws {
            let definitions = try FHIRDefinitions.r4()
            let store = try await StoreTarget.open(target, definitions: definitions)
            let input = ResourceInput(definitions: definitions)
            var outcomes: [String: Int] = [:]
            var refused = 0
            var unreadable = 0
            for path in paths {
                for file in try input.files(at: path) {
                    for item in try input.read(file: file) {
                        let resource: JSON
                        switch item.result {
                        case .success(let read): resource = read
                        case .failure(let error):
                            print("\(item.source): UNREADABLE: \(error)")
                            unreadable += 1
                            continue
                        }
                        do {
                            if resource["resourceType"]?.stringValue == "Bundle",
                                resource["type"]?.stringValue == "transaction"
                            {
                                let response = try await store.transaction(resource)
                                for entry in response["entry"]?.arrayValue ?? [] {
                                    let status = entry["response"]?["status"]?.stringValue ?? "?"
                                    let note = entry["response"]?["outcome"]?["issue"]?[0]?["diagnostics"]?
                                        .stringValue?.prefix { $0 != ":" }
                                    outcomes[
                                        "transaction entry \(status)\(note.map { " (\($0))" } ?? "")", default: 0] += 1
                                }
                            } else {
                                let result = try await store.update(resource)
                                outcomes["\(result.stored.type) \(result.outcome.rawValue)", default: 0] += 1
                            }
                        } catch {
                            print("\(item.source): REFUSED: \(error)")
                            refused += 1
                        }
                    }
                }
            }
            for key in outcomes.keys.sorted() { print("\(key): \(outcomes[key]!)") }
            let counts = try await store.counts()
            print("the store holds " + Ferry.StoreCommand.describe(counts))
            if unreadable > 0 { throw ExitCode(2) }
            if refused > 0 { throw ExitCode(1) }
        }
    }

    struct Search: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Searches a store the FHIR way and prints the matches as NDJSON.",
            discussion: """
                QUERY is a FHIR search: Patient?family=mul&birthdate=ge1970, Observation?code=http://loinc.org|2339-0, \
                Observation?subject=Patient/123&_count=10. Prints one resource a line, then the total on \
                standard error. Exits 1 when the query cannot be read.
                """
        )

        @Argument(help: "TYPE?name=value&…")
        var query: String

        @Option(help: "The store: sqlite:PATH or postgres://user@host:port/database.")
        var target: String

        func run() async throws {
            let store = try await StoreTarget.open(target, definitions: try FHIRDefinitions.r4())
            let result: SearchResult
            do { result = try await store.search(try SearchQuery(query)) } catch {
                Ferry.StoreCommand.printError(error)
                throw ExitCode(1)
            }
            let writer = JSONWriter(layout: .compact)
            for found in result.resources {
                if let resource = found.resource { print(writer.string(resource)) }
            }
            Ferry.StoreCommand.printError("\(result.resources.count) shown of \(result.total)")
        }
    }

    struct Read: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Prints a resource from a store, or with --history every version of it.",
            discussion: "Exits 1 when there is no such resource."
        )

        @Argument(help: "Type/id, e.g. Patient/123.")
        var reference: String

        @Option(help: "The store: sqlite:PATH or postgres://user@host:port/database.")
        var target: String

        @Flag(help: "Every version, newest first.")
        var history = false

        func run() async throws {
            let parts = reference.split(separator: "/").map(String.init)
            guard parts.count == 2 else { throw ValidationError("expected Type/id, e.g. Patient/123") }
            let store = try await StoreTarget.open(target, definitions: try FHIRDefinitions.r4())
            let writer = JSONWriter(layout: .pretty)
            let versions =
                history
                ? try await store.history(type: parts[0], id: parts[1])
                : [try await store.read(type: parts[0], id: parts[1])].compactMap { $0 }
            guard !versions.isEmpty else {
                Ferry.StoreCommand.printError("no \(reference) in the store")
                throw ExitCode(1)
            }
            for version in versions {
                print("# version \(version.version), \(version.lastUpdated), sha256:\(version.contentHash)")
                print(version.resource.map { writer.string($0) } ?? "(deleted)")
            }
        }
    }
}
