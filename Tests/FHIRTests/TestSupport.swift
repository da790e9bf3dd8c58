import FHIR
import Foundation
import Testing

/// Paths and shared fixtures for the FHIR tests.
enum TestSupport {
    /// The package's root folder.
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// `../shared`, read-only material every developer and CI has beside the repository.
    static let shared = packageRoot.deletingLastPathComponent().appendingPathComponent("shared")

    /// The official R4 examples.
    static let examplesFolder = shared.appendingPathComponent("fhir/examples-r4")

    /// The shipped definitions, loaded once.
    static let definitions: FHIRDefinitions = {
        do { return try FHIRDefinitions.r4() } catch { preconditionFailure("definitions failed to load: \(error)") }
    }()

    static let validator = Validator(definitions: definitions)

    /// Every official example file, sorted.
    static func exampleFiles() -> [URL] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: examplesFolder.path)) ?? []
        return names.filter { $0.hasSuffix(".json") }.sorted().map { examplesFolder.appendingPathComponent($0) }
    }

    static func parse(_ text: String) throws -> JSON {
        try JSON(parsing: text)
    }

    /// Runs the `ferry` binary built beside the test bundle.
    static func ferry(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let folder =
            Bundle.main.bundleURL.hasDirectoryPath
            ? Bundle.main.bundleURL : Bundle.main.bundleURL.deletingLastPathComponent()
        let candidates = [folder, folder.deletingLastPathComponent()].map { $0.appendingPathComponent("ferry") }
        let binary = try #require(
            candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) },
            "ferry was not built beside the tests")
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        process.currentDirectoryURL = TestSupport.packageRoot
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
