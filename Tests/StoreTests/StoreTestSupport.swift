import FHIR
import Foundation
import Store
import TestPostgres

/// Stores under test: every conformance test runs against each.
enum StoreKind: String, CaseIterable, Sendable, CustomStringConvertible {
    case sqlite
    case postgres

    var description: String { rawValue }
}

enum StoreTestSupport {
    static let definitions = try! FHIRDefinitions.r4()
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    static let examples = packageRoot.deletingLastPathComponent().appendingPathComponent("shared/fhir/examples-r4")

    /// A fresh, empty store of a kind in a temporary folder (removed when `body` returns).
    static func withStore<T>(
        _ kind: StoreKind, now: @escaping @Sendable () -> Date = { Date() }, _ body: (any FHIRStore) async throws -> T
    ) async throws -> T {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-store-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        switch kind {
        case .sqlite:
            let store = try SQLiteStore(
                path: folder.appendingPathComponent("store.sqlite").path, definitions: definitions, now: now)
            return try await body(store)
        case .postgres:
            let server = try PostgresServer.shared.get()
            let store = try await PostgresStore(url: try server.newDatabase(), definitions: definitions, now: now)
            return try await body(store)
        }
    }

    static func json(_ text: String) -> JSON { try! JSON(parsing: Array(text.utf8)) }

    /// A folder removed at the end of the test.
    static func withFolder(_ body: (URL) async throws -> Void) async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-store-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try await body(folder)
    }

    static func patient(
        _ id: String, family: String = "Doe", given: String = "Jane", birthDate: String = "1970-05-12"
    )
        -> JSON
    {
        json(
            """
            {"resourceType":"Patient","id":"\(id)","identifier":[{"system":"urn:oid:1.2.3","value":"MRN-\(id)"}],
             "name":[{"family":"\(family)","given":["\(given)"]}],"gender":"female","birthDate":"\(birthDate)"}
            """)
    }
}
