import FHIR
import Foundation

/// Opens a store named the way the command line names one: `sqlite:PATH` (the file is created when
/// absent) or `postgres://user[:password]@host[:port]/database`.
public enum StoreTarget {
    public static func open(_ target: String, definitions: FHIRDefinitions) async throws(StoreError) -> any FHIRStore {
        if target.hasPrefix("sqlite:") {
            let path = String(target.dropFirst("sqlite:".count))
            guard !path.isEmpty else { throw StoreError(.invalid, "sqlite: needs a file path (sqlite:store.sqlite)") }
            return try SQLiteStore(path: path, definitions: definitions)
        }
        if target.hasPrefix("postgres://") || target.hasPrefix("postgresql://") {
            return try await PostgresStore(url: target, definitions: definitions)
        }
        throw StoreError(.invalid, "'\(target)': a store is sqlite:PATH or postgres://user@host:port/database")
    }
}
