import FHIR
import Foundation
import GRDB

extension SQLiteStore {
    public func transaction(_ bundle: JSON) async throws(StoreError) -> JSON {
        let time = now()
        return try await writing { db in
            try TransactionBundle.run(bundle, in: Writer(store: self, db: db, time: time))
        }
    }

    /// The store's writes bound to one open SQLite transaction.
    struct Writer: StoreTransaction {
        let store: SQLiteStore
        let db: Database
        let time: Date

        func put(_ resource: JSON) throws -> WriteResult { try store.put(resource, in: db, at: time) }

        func create(_ resource: JSON, ifNoneExist query: SearchQuery?) throws -> WriteResult {
            guard let query else { return try store.put(SQLiteStore.withNewID(resource), in: db, at: time) }
            return try store.conditionalCreate(resource, query, in: db, at: time)
        }

        func update(_ resource: JSON, matching query: SearchQuery) throws -> WriteResult {
            try store.conditionalUpdate(resource, query, in: db, at: time)
        }

        func delete(type: String, id: String) throws -> WriteResult? {
            try store.delete(type: type, id: id, in: db, at: time)
        }

        func search(_ query: SearchQuery) throws -> SearchResult { try store.search(query, in: db) }
    }
}
