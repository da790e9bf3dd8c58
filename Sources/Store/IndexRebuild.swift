import FHIR
import Foundation

/// Rebuilds a store's search index from its current resources: every index row removed, then type by
/// type in keyset pages, each page's rows worked out by two tasks at once and inserted by `write`.
enum IndexRebuild {
    static func run<T: StoreTransaction>(
        _ store: any FHIRStore, indexing: StoreIndexing,
        transact: @escaping @Sendable (@Sendable @escaping (T) async throws -> Int) async throws -> Int
    ) async throws -> Int {
        _ = try await transact { transaction in
            for table in SearchIndexRows.tables { try await transaction.execute("DELETE FROM \(table)", []) }
            return 0
        }
        var done = 0
        for type in try await store.counts().keys.sorted() {
            var after: String?
            while true {
                let page = try await store.currentResources(type: type, after: after, limit: 500)
                let halves = [Array(page.prefix(page.count / 2)), Array(page.dropFirst(page.count / 2))]
                let rows = try await withThrowingTaskGroup(
                    of: [(type: String, id: String, rows: SearchIndexRows)].self
                ) { group in
                    for half in halves {
                        group.addTask {
                            try half.compactMap { stored in
                                guard let resource = stored.resource else { return nil }
                                return (
                                    stored.type, stored.id, try SearchIndexRows(resource, extractor: indexing.extractor)
                                )
                            }
                        }
                    }
                    var all: [(type: String, id: String, rows: SearchIndexRows)] = []
                    for try await part in group { all += part }
                    return all
                }
                done += try await transact { transaction in
                    try await transaction.insertIndex(rows)
                    return rows.count
                }
                guard let last = page.last, page.count == 500 else { break }
                after = last.id
            }
        }
        return done
    }
}
