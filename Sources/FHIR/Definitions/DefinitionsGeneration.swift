import Foundation

/// Unpacks the official package archive and compiles it: the entry point of `generate-definitions`.
public enum DefinitionsGeneration {
    /// What one generation wrote.
    public struct Summary: Sendable {
        /// Size of the written file.
        public var bytes: Int
        /// Resource and data types written.
        public var types: Int
        /// Value sets of required bindings written.
        public var valueSets: Int
        /// Search parameters written.
        public var searchParameters: Int
    }

    /// Compiles `packageArchive` (a `.tgz` FHIR package) into the compact document's bytes.
    public static func compile(packageArchive: String) throws -> [UInt8] {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("ferry-definitions-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let tar = Process()
        tar.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        tar.arguments = ["tar", "-xzf", packageArchive, "-C", directory.path]
        try tar.run()
        tar.waitUntilExit()
        guard tar.terminationStatus == 0 else {
            throw FHIRError(.io, "tar could not unpack the package", file: packageArchive)
        }
        let compiler = try DefinitionsCompiler(packageDirectory: directory.appendingPathComponent("package").path)
        return DefinitionsCompiler.serialize(try compiler.compile())
    }

    /// Compiles `packageArchive` and writes the result to `output`.
    public static func run(packageArchive: String, output: String) throws -> Summary {
        let bytes = try compile(packageArchive: packageArchive)
        try Data(bytes).write(to: URL(fileURLWithPath: output))
        let document = try JSON(parsing: bytes)
        return Summary(
            bytes: bytes.count,
            types: document["types"]?.arrayValue?.count ?? 0,
            valueSets: document["valueSets"]?.objectValue?.count ?? 0,
            searchParameters: document["searchParameters"]?.arrayValue?.count ?? 0
        )
    }
}
