import ArgumentParser
import FHIR
import Foundation
import Store

extension Ferry.StoreCommand {
    struct Hashes: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Prints counts and SHA-256 digests per resource type and per range of ids (JSON).",
            discussion: """
                Each digest is the SHA-256 over `id|content hash` of the resources in id order; two stores \
                with equal digests hold the same content, and unequal ranges say where to look.
                """
        )

        @Option(help: "The store: sqlite:PATH or postgres://user@host:port/database.")
        var target: String

        @Option(help: "Ids per range.")
        var rangeSize = 1000

        func run() async throws {
            let store = try await StoreTarget.open(target, definitions: try FHIRDefinitions.r4())
            let digest = try await StoreDigest.of(store, rangeSize: rangeSize)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(digest), as: UTF8.self))
        }
    }

    struct Reindex: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Rebuilds the search index from every current resource (each one's rows extracted again).")

        @Option(help: "The store: sqlite:PATH or postgres://user@host:port/database.")
        var target: String

        func run() async throws {
            let store = try await StoreTarget.open(target, definitions: try FHIRDefinitions.r4())
            let started = ContinuousClock.now
            let count = try await store.rebuildIndex()
            print("indexed \(count) resources in \(ContinuousClock.now - started)")
        }
    }

    struct Snapshot: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Writes a consistent point-in-time copy of the store: resources.ndjson and manifest.json.")

        @Option(help: "The store: sqlite:PATH or postgres://user@host:port/database.")
        var target: String

        @Option(help: "The folder to write.")
        var out: String

        func run() async throws {
            let store = try await StoreTarget.open(target, definitions: try FHIRDefinitions.r4())
            let manifest = try await StoreSnapshot.write(store, to: out)
            print(
                "snapshot of \(manifest.resources) resources at \(manifest.created) in \(out): "
                    + Ferry.StoreCommand.describe(manifest.digest.counts))
        }
    }

    struct Restore: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Brings a store back to a snapshot (history kept) and checks its digests.",
            discussion: "Exit 1 when the store's digests do not equal the snapshot's afterwards."
        )

        @Argument(help: "The snapshot folder.")
        var snapshot: String

        @Option(help: "The store: sqlite:PATH or postgres://user@host:port/database.")
        var target: String

        func run() async throws {
            let store = try await StoreTarget.open(target, definitions: try FHIRDefinitions.r4())
            let report = try await StoreSnapshot.restore(from: snapshot, into: store)
            print(
                "restored: \(report.written) written, \(report.unchanged) unchanged, \(report.deleted) deleted; "
                    + (report.verified ? "digests equal the snapshot's" : "DIGESTS DIFFER from the snapshot's"))
            if !report.verified { throw ExitCode(1) }
        }
    }
}
