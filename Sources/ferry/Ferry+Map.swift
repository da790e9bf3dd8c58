import ArgumentParser
import FHIR
import Foundation
import Legacy
import Mapping

extension Ferry {
    struct Map: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Runs, checks, documents and compares mapping specs (relational and CSV sources to FHIR).",
            subcommands: [Run.self, Lint.self, Doc.self, Diff.self]
        )

        static func printError(_ message: Any) {
            var standardError = FileHandle.standardError
            print("ferry map: \(message)", to: &standardError)
        }

        static func load(_ path: String, definitions: FHIRDefinitions) throws -> MappingSpec {
            do {
                return try MappingSpec.load(path: path, definitions: definitions)
            } catch {
                printError(error)
                throw ExitCode(2)
            }
        }
    }
}

extension Ferry.Map {
    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Maps a source by a spec and writes NDJSON per resource type and a dead-letter file.",
            discussion: """
                Every source record ends mapped (its resources, each valid, and a Provenance), dead-lettered \
                (dead-letters.ndjson: locator, reason, the record), or filtered by a named rule; report.json \
                has the accounts per table and the codes no map had. Exits 1 when anything was dead-lettered.
                """
        )

        @Argument(help: "The mapping spec (YAML).")
        var spec: String

        @Option(help: "The source: sqlite:PATH, postgres://…, or a folder of CSV files.")
        var source: String

        @Option(help: "The folder to write.")
        var out: String

        @Option(help: "The time the run is recorded at in Provenance (ISO 8601); now by default.")
        var recorded: String?

        func run() async throws {
            let definitions = try FHIRDefinitions.r4()
            let spec = try Ferry.Map.load(self.spec, definitions: definitions)
            let time =
                try recorded.map { text in
                    guard let date = ISO8601DateFormatter().date(from: text) else {
                        Ferry.Map.printError("--recorded \(text) is not an ISO 8601 time (2026-11-25T10:00:00Z)")
                        throw ExitCode(2)
                    }
                    return date
                } ?? Date()
            let source: any LegacySource
            do { source = try LegacySources.open(self.source) } catch {
                Ferry.Map.printError(error)
                throw ExitCode(2)
            }
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            let mapper = SpecMapper(spec: spec, definitions: definitions, recorded: time)
            let writer = try NDJSONFolder(folder: out)
            let report = try await MappingRun(source: source, mapper: mapper).run { items in
                for item in items {
                    switch item.result.outcome {
                    case .mapped(let made):
                        for resource in made { try writer.write(resource.resource, type: resource.type) }
                    case .deadLettered(let reason):
                        let record: JSON =
                            switch item.record {
                            case .row(let row): row.json
                            case .unreadable(let bad): .string(bad.content)
                            }
                        try writer.write(
                            ["locator": .string(item.record.locator), "reason": .string(reason), "record": record],
                            type: "dead-letters")
                    case .filtered: break
                    }
                }
            }
            try writer.close()
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(report).write(
                to: URL(fileURLWithPath: (out as NSString).appendingPathComponent("report.json")))
            Self.print(report)
            if report.tables.values.contains(where: { $0.deadLettered > 0 }) { throw ExitCode(1) }
        }

        static func print(_ report: MappingRun.Report) {
            Swift.print("\(report.specName) \(report.specVersion)")
            for table in report.tables.keys.sorted() {
                let t = report.tables[table]!
                let filtered = t.filtered.keys.sorted().map { "\(t.filtered[$0]!) \($0)" }.joined(separator: "; ")
                Swift.print(
                    "  \(table): read \(t.read) = mapped \(t.mapped) + dead-lettered \(t.deadLettered)"
                        + " + filtered \(t.filtered.values.reduce(0, +))\(filtered.isEmpty ? "" : " (\(filtered))")"
                        + (t.addsUp ? "" : "  DOES NOT ADD UP"))
            }
            Swift.print(
                "  resources: "
                    + report.resources.keys.sorted().map { "\($0) \(report.resources[$0]!)" }.joined(separator: ", "))
            if !report.unmapped.isEmpty {
                Swift.print(
                    "  codes no map had: "
                        + report.unmapped.keys.sorted().map { "\($0) ×\(report.unmapped[$0]!)" }.joined(separator: ", ")
                )
            }
        }
    }
}

/// NDJSON files in a folder, one per resource type, written through buffers.
final class NDJSONFolder {
    let folder: String
    var files: [String: FileHandle] = [:]
    var buffers: [String: [UInt8]] = [:]

    init(folder: String) throws { self.folder = folder }

    func write(_ json: JSON, type: String) throws {
        if files[type] == nil {
            let path = (folder as NSString).appendingPathComponent("\(type).ndjson")
            guard FileManager.default.createFile(atPath: path, contents: nil),
                let handle = FileHandle(forWritingAtPath: path)
            else { throw ValidationError("\(path) cannot be written") }
            files[type] = handle
        }
        JSONWriter(layout: .compact).write(json, into: &buffers[type, default: []])
        buffers[type]!.append(0x0A)
        if buffers[type]!.count > 1 << 16 {
            try files[type]!.write(contentsOf: buffers[type]!)
            buffers[type]!.removeAll(keepingCapacity: true)
        }
    }

    func close() throws {
        for (type, handle) in files {
            try handle.write(contentsOf: buffers[type] ?? [])
            try handle.close()
        }
    }
}
