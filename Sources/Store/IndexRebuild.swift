import FHIR
import Foundation

/// Rebuilds a store's search index from its current resources: every index row removed and the
/// search tables' own indexes dropped, then type by type in keyset pages, each page's rows worked
/// out by two tasks at once while the page before is inserted, and the indexes built again at the
/// end (one sort each instead of a B-tree insert per row).
enum IndexRebuild {
    static let page = 500

    static func run<T: StoreTransaction>(
        _ store: any FHIRStore, indexing: StoreIndexing,
        transact: @escaping @Sendable (@Sendable @escaping (T) async throws -> Int) async throws -> Int
    ) async throws -> Int {
        _ = try await transact { transaction in
            for table in SearchIndexRows.tables { try await transaction.execute("DELETE FROM \(table)", []) }
            try await transaction.searchIndexes(drop: true)
            return 0
        }
        var done = 0
        var inserting: Task<Int, any Error>?
        for type in try await store.counts().keys.sorted() {
            var after: String?
            while true {
                let resources = try await store.currentResources(type: type, after: after, limit: page)
                let rows = try await extract(resources, indexing: indexing)
                done += try await inserting?.value ?? 0
                inserting = Task {
                    try await transact { transaction in
                        try await transaction.insertIndex(rows)
                        return rows.count
                    }
                }
                guard let last = resources.last, resources.count == page else { break }
                after = last.id
            }
        }
        done += try await inserting?.value ?? 0
        _ = try await transact { transaction in
            try await transaction.searchIndexes(drop: false)
            return 0
        }
        return done
    }

    /// The index rows of a page of resources, by two tasks at once.
    static func extract(
        _ page: [StoredResource], indexing: StoreIndexing
    ) async throws -> [(type: String, id: String, rows: SearchIndexRows)] {
        let halves = [Array(page.prefix(page.count / 2)), Array(page.dropFirst(page.count / 2))]
        return try await withThrowingTaskGroup(of: (Int, [(type: String, id: String, rows: SearchIndexRows)]).self) {
            group in
            for (index, half) in halves.enumerated() {
                group.addTask {
                    let rows = try half.compactMap { stored -> (type: String, id: String, rows: SearchIndexRows)? in
                        guard let resource = stored.resource else { return nil }
                        return (stored.type, stored.id, try SearchIndexRows(resource, extractor: indexing.extractor))
                    }
                    return (index, rows)
                }
            }
            var parts: [Int: [(type: String, id: String, rows: SearchIndexRows)]] = [:]
            for try await (index, part) in group { parts[index] = part }
            return (parts[0] ?? []) + (parts[1] ?? [])
        }
    }
}
