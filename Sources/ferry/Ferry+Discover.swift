import ArgumentParser
import Foundation
import Legacy

extension Ferry {
    struct Discover: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Inventories a legacy source: tables, keys, column profiles, PHI classes, HL7 v2 feeds.",
            discussion: """
                Writes assessment.md, assessment.html, assessment.json and a draft mapping spec \
                (draft-mapping.yaml) into --out. Sources: sqlite:PATH, postgres://…, a folder of CSV files; \
                --feed adds a file or folder of HL7 v2 messages.
                """
        )

        @Option(help: "The legacy database or CSV folder.")
        var source: String?

        @Option(help: "A file or folder of HL7 v2 messages.")
        var feed: String?

        @Option(help: "The folder to write the reports to.")
        var out: String

        func run() async throws {
            guard source != nil || feed != nil else { throw ValidationError("give --source, --feed, or both") }
            var discovery = Discovery(source: source ?? feed ?? "", tables: [], feed: nil)
            do {
                if let source { discovery = try await Discovery.run(source: try LegacySources.open(source)) }
                if let feed { discovery.feed = try FeedDiscovery.run(path: feed) }
            } catch {
                var standardError = FileHandle.standardError
                print("ferry discover: \(error)", to: &standardError)
                throw ExitCode(2)
            }
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            func path(_ name: String) -> String { (out as NSString).appendingPathComponent(name) }
            try DiscoveryReport.markdown(discovery).write(
                toFile: path("assessment.md"), atomically: true, encoding: .utf8)
            try DiscoveryReport.html(discovery).write(
                toFile: path("assessment.html"), atomically: true, encoding: .utf8)
            try DiscoveryReport.json(discovery).write(to: URL(fileURLWithPath: path("assessment.json")))
            if !discovery.tables.isEmpty {
                try DraftSpec.yaml(discovery, name: "draft").write(
                    toFile: path("draft-mapping.yaml"), atomically: true, encoding: .utf8)
            }
            let phi = discovery.tables.reduce(0) { $0 + $1.columns.count(where: \.phi.isPHI) }
            print(
                "\(discovery.tables.count) tables, \(discovery.tables.reduce(0) { $0 + $1.rows }) rows, \(phi) PHI columns"
            )
            if let feed = discovery.feed {
                print(
                    "\(feed.messages) HL7 v2 messages (\(feed.unreadable.count) unreadable): "
                        + feed.events.keys.sorted().map { "\($0) \(feed.events[$0]!)" }.joined(separator: ", "))
            }
            print(
                "Reports in \(out): assessment.md, assessment.html, assessment.json\(discovery.tables.isEmpty ? "" : ", draft-mapping.yaml")"
            )
        }
    }
}
