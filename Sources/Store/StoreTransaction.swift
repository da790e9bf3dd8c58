import FHIR
import Foundation

/// What a store's backend does inside one of its database transactions: the row operations that
/// versioning, conditional writes and transaction Bundles are built from, the same for every store.
protocol StoreTransaction: Sendable {
    /// The definitions and extractor the store indexes with.
    var indexing: StoreIndexing { get }
    /// The time this transaction's writes are stamped with.
    var time: Date { get }
    /// The current row of a resource, deleted or not.
    func current(type: String, id: String) async throws -> StoredResource?
    /// Stores a version as current and in history.
    func save(_ stored: StoredResource) async throws
    /// Replaces a resource's search index rows (`nil`: removes them); `clearing: false` when it has none yet.
    func replaceIndex(type: String, id: String, with rows: SearchIndexRows?, clearing: Bool) async throws
    /// Stores a version and replaces its index rows in one go (a backend may do both in one round trip).
    func saveIndexed(_ stored: StoredResource, rows: SearchIndexRows?, clearing: Bool) async throws
    /// The current rows of many resources at once, by `Type/id`.
    func currents(_ keys: [ResourceKey]) async throws -> [String: StoredResource]
    /// Many versions with their index rows, in order.
    func saveAll(_ writes: [VersionWrite]) async throws
    /// Index rows of many resources that have none (an index rebuild), at once.
    func insertIndex(_ entries: [(type: String, id: String, rows: SearchIndexRows)]) async throws
    func search(_ query: SearchQuery) async throws -> SearchResult
    /// Runs a statement written with `?` placeholders.
    func execute(_ sql: String, _ arguments: [SQLArgument?]) async throws
}

/// The definitions a store checks types against and the extractor that makes its index rows.
struct StoreIndexing: Sendable {
    let definitions: FHIRDefinitions
    let extractor: SearchParameterExtractor
    let sql: SearchSQL
    /// The database's SQL, which decides how index rows name their resource.
    let dialect: StoreSchema.Dialect

    init(definitions: FHIRDefinitions, dialect: StoreSchema.Dialect) {
        self.definitions = definitions
        self.dialect = dialect
        extractor = SearchParameterExtractor(definitions: definitions)
        sql = SearchSQL(definitions: definitions, dialect: dialect)
    }
}

/// A resource's type and id with its name `Type/id`, which a write's lookups are keyed by: made once,
/// before the write lock (a migration's writer made each resource's name seven times, two percent of
/// its instructions).
struct ResourceKey: Sendable {
    let type: String
    let id: String
    let name: String

    init(type: String, id: String) {
        self.type = type
        self.id = id
        var name = type
        name += "/"
        name += id
        self.name = name
    }

    /// When the name is at hand already.
    init(type: String, id: String, name: String) {
        self.type = type
        self.id = id
        self.name = name
    }
}

/// A version to store with its index rows: `clearing` when the resource had rows before, `content`
/// the stored resource's canonical bytes when they were worked out ahead (outside the write lock).
struct VersionWrite: Sendable {
    var stored: StoredResource
    /// The stored resource's `Type/id`.
    var name: String
    var rows: SearchIndexRows?
    var clearing: Bool
    var content: [UInt8]?
}

/// What a write can work out before it takes the store's write lock: the content hash, the first
/// version as it will be stored (stamped with the transaction's time, and its canonical bytes), and
/// the index rows (which do not depend on the version). Workers prepare their batches in parallel;
/// only the writes themselves take turns. A class: a batch's writes pass through dictionaries and
/// arrays on their way to the writer, and a struct of five references was copied at every step.
final class PreparedWrite: Sendable {
    let resource: JSON
    /// The resource's type and id (empty when it has none).
    let key: ResourceKey
    let contentHash: String
    /// Version 1 stamped with the transaction's time, and its canonical bytes.
    let firstVersion: JSON
    let firstContent: [UInt8]
    let time: Date
    /// `nil` when the index is deferred (a bulk load rebuilds it afterwards).
    let rows: SearchIndexRows?

    init(_ resource: JSON, indexing: StoreIndexing, time: Date, index: Bool = true) throws {
        self.resource = resource
        self.time = time
        key = ResourceKey(type: resource["resourceType"]?.stringValue ?? "", id: resource["id"]?.stringValue ?? "")
        firstVersion = ResourceVersion.stamped(resource, version: 1, lastUpdated: time)
        (contentHash, firstContent) = ResourceVersion.hashAndBytes(of: resource, stamped: firstVersion)
        rows = index ? try SearchIndexRows(firstVersion, extractor: indexing.extractor) : nil
    }
}

extension StoreTransaction {
    func currents(_ keys: [ResourceKey]) async throws -> [String: StoredResource] {
        var found: [String: StoredResource] = [:]
        for key in keys {
            if let stored = try await current(type: key.type, id: key.id) { found[key.name] = stored }
        }
        return found
    }

    func saveAll(_ writes: [VersionWrite]) async throws {
        for write in writes { try await saveIndexed(write.stored, rows: write.rows, clearing: write.clearing) }
    }

    func insertIndex(_ entries: [(type: String, id: String, rows: SearchIndexRows)]) async throws {
        for entry in entries {
            try await replaceIndex(type: entry.type, id: entry.id, with: entry.rows, clearing: false)
        }
    }

    func saveIndexed(_ stored: StoredResource, rows: SearchIndexRows?, clearing: Bool) async throws {
        try await save(stored)
        try await replaceIndex(type: stored.type, id: stored.id, with: rows, clearing: clearing)
    }

    /// Drops (`true`) or builds the search tables' own indexes (a build under the settings
    /// `StoreSchema.indexBuild` gives, put back after it).
    func searchIndexes(drop: Bool) async throws {
        let settings = drop ? (before: [], after: []) : StoreSchema.indexBuild(indexing.dialect)
        for statement in settings.before { try await execute(statement, []) }
        do {
            for statement in StoreSchema.searchIndexes(indexing.dialect) {
                try await execute(drop ? statement.drop : statement.create, [])
            }
        } catch {
            for statement in settings.after { try? await execute(statement, []) }
            throw error
        }
        for statement in settings.after { try await execute(statement, []) }
    }

    /// Writes a resource under its id: a new version unless the content is unchanged. `prepared`,
    /// when it was made from this same resource at this transaction's time, saves the work again.
    func put(_ resource: JSON, prepared: PreparedWrite? = nil) async throws -> WriteResult {
        let (type, id) = try ResourceVersion.key(resource)
        guard indexing.definitions.isResourceType(type) else {
            throw StoreError(.invalid, "unknown resource type \(type)")
        }
        let usable = prepared.flatMap { $0.resource == resource ? $0 : nil }
        let hash = usable?.contentHash ?? ResourceVersion.contentHash(resource)
        let current = try await current(type: type, id: id)
        if let current, current.resource != nil, current.contentHash == hash {
            return WriteResult(outcome: .unchanged, stored: current)
        }
        let version = (current?.version ?? 0) + 1
        let stamped = ResourceVersion.stamped(resource, version: version, lastUpdated: time)
        let stored = StoredResource(
            type: type, id: id, version: version, lastUpdated: time, resource: stamped, contentHash: hash)
        let rows = try usable.map { $0.rows } ?? SearchIndexRows(stamped, extractor: indexing.extractor)
        try await saveIndexed(stored, rows: rows, clearing: current != nil)
        return WriteResult(outcome: current?.resource == nil ? .created : .updated, stored: stored)
    }

    func delete(type: String, id: String) async throws -> WriteResult? {
        guard let current = try await current(type: type, id: id), current.resource != nil else { return nil }
        let stored = StoredResource(
            type: type, id: id, version: current.version + 1, lastUpdated: time, resource: nil,
            contentHash: current.contentHash)
        try await saveIndexed(stored, rows: nil, clearing: true)
        return WriteResult(outcome: .deleted, stored: stored)
    }

    func create(_ resource: JSON, ifNoneExist query: SearchQuery?) async throws -> WriteResult {
        guard let query else { return try await put(ResourceVersion.withNewID(resource)) }
        let found = try await search(SearchQuery(type: query.type, parameters: query.parameters, count: 2))
        switch found.total {
        case 0: return try await put(ResourceVersion.withNewID(resource))
        case 1: return WriteResult(outcome: .found, stored: found.resources[0])
        default: throw StoreError(.preconditionFailed, "If-None-Exist matches \(found.total) \(query.type) resources")
        }
    }

    func update(_ resource: JSON, matching query: SearchQuery) async throws -> WriteResult {
        let found = try await search(SearchQuery(type: query.type, parameters: query.parameters, count: 2))
        switch found.total {
        case 0:
            let hasID = resource["id"]?.stringValue != nil
            return try await put(hasID ? resource : ResourceVersion.withNewID(resource))
        case 1:
            let id = found.resources[0].id
            if let given = resource["id"]?.stringValue, given != id {
                throw StoreError(.invalid, "the resource's id \(given) is not the matched \(query.type)/\(id)")
            }
            return try await put(ResourceVersion.with(id: id, resource))
        default:
            throw StoreError(
                .preconditionFailed, "the conditional update matches \(found.total) \(query.type) resources")
        }
    }
}

/// Turns whatever a backend throws into a `StoreError`.
func storeErrors<T>(_ body: () async throws -> T) async throws(StoreError) -> T {
    do {
        return try await body()
    } catch let error as StoreError {
        throw error
    } catch {
        throw StoreError(.database, "\(error)")
    }
}
