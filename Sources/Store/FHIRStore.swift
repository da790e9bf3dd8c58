import FHIR
import Foundation

/// A FHIR canonical store: versioned resources, history, search, and transaction Bundles that are
/// all-or-nothing. Every write keeps the version it replaces; a write whose canonical content equals
/// the current version's is a no-op (same version, nothing written), so loading the same data twice
/// changes nothing.
///
/// Implementations pass one test suite (`StoreConformanceTests`): `SQLiteStore` is the embedded
/// default.
public protocol FHIRStore: Sendable {
    /// Writes a resource under its own `id` (FHIR update, or create with a client id).
    func update(_ resource: JSON) async throws(StoreError) -> WriteResult
    /// Creates a resource with a new server-assigned id.
    func create(_ resource: JSON) async throws(StoreError) -> WriteResult
    /// Creates the resource unless a search finds one already (`If-None-Exist`); finds more than one: an error.
    func create(_ resource: JSON, ifNoneExist query: SearchQuery) async throws(StoreError) -> WriteResult
    /// Updates the one resource a search finds, or creates it when none matches; more than one: an error.
    func update(_ resource: JSON, matching query: SearchQuery) async throws(StoreError) -> WriteResult
    /// Deletes a resource; its history is kept. Deleting what is absent or deleted is a no-op.
    func delete(type: String, id: String) async throws(StoreError) -> WriteResult?
    /// The current version; `StoreError.gone` when deleted, `nil` when never stored.
    func read(type: String, id: String) async throws(StoreError) -> StoredResource?
    /// One version, deleted ones included (with `resource == nil`).
    func read(type: String, id: String, version: Int) async throws(StoreError) -> StoredResource?
    /// Every version, newest first.
    func history(type: String, id: String) async throws(StoreError) -> [StoredResource]
    /// The resources a search finds, with the total.
    func search(_ query: SearchQuery) async throws(StoreError) -> SearchResult
    /// Runs a transaction Bundle all-or-nothing and returns the transaction-response Bundle.
    func transaction(_ bundle: JSON) async throws(StoreError) -> JSON
    /// Current (not deleted) resources per type.
    func counts() async throws(StoreError) -> [String: Int]
    /// Current resources of a type in id order (byte order), after `after`, at most `limit`: keyset
    /// pages, for digests and reconciliation.
    func currentResources(type: String, after: String?, limit: Int) async throws(StoreError) -> [StoredResource]
    /// How many current resources of `type` have an id in `range`, and the sum of their fingerprints
    /// (`Fingerprint.of`; of the id alone with `idOnly`), computed by the database: two numbers cross
    /// the wire, whatever the range holds. Reconciliation compares these before it reads any record.
    func summary(type: String, in range: IDRange, idOnly: Bool) async throws(StoreError) -> RangeSummary
    /// The ids and content hashes of the current resources of `type` in `range`, in id order, at most
    /// `limit` (page on by narrowing the range to after the last id).
    func contentHashes(type: String, in range: IDRange, limit: Int) async throws(StoreError) -> [IDHash]
    /// Rebuilds the search index of every current resource (after a bulk load that deferred it);
    /// returns how many resources were indexed.
    func rebuildIndex() async throws(StoreError) -> Int
    /// Bulk loading: drops the search tables' own indexes, so that the index rows written with each
    /// resource are appended instead of inserted into B-trees; `buildSearchIndexes()` makes
    /// them again, one sort each. Searches stay correct in between, only slower.
    func dropSearchIndexes() async throws(StoreError)
    /// Builds whichever of the search tables' indexes are missing (a no-op when none is).
    func buildSearchIndexes() async throws(StoreError)
    /// Every current resource, type by type and id by id, as of one moment (one read transaction).
    func exportCurrent(_ body: @escaping @Sendable (StoredResource) throws -> Void) async throws(StoreError)
    /// Commits a migration batch in one database transaction: its transaction Bundles, its dead
    /// letters and its partition's checkpoint; all of it lands or none. Returns what its Bundles wrote.
    func commit(_ batch: MigrationBatch) async throws(StoreError) -> BatchOutcome
    /// Where a partition of a run stands: the position after its last committed batch.
    func checkpoint(run: String, partition: String) async throws(StoreError) -> Int?
    /// The dead letters of a run, by locator.
    func deadLetters(run: String) async throws(StoreError) -> [DeadLetter]
    /// Registers a run's partitions (once; known ones keep their state) and claims one for `worker`:
    /// one nobody holds, or whose worker's lease ran out. `nil` when every partition is done or held.
    func claimPartition(run: String, partitions: [String], worker: String) async throws(StoreError) -> String?
    /// Marks a claimed partition done.
    func finishPartition(run: String, partition: String) async throws(StoreError)
}

/// One stored version of a resource.
public struct StoredResource: Sendable, Hashable {
    public var type: String
    public var id: String
    public var version: Int
    public var lastUpdated: Date
    /// The resource with `meta.versionId` and `meta.lastUpdated` set; `nil` for a deletion.
    public var resource: JSON?
    /// SHA-256 of the canonical content without `meta.versionId` and `meta.lastUpdated`.
    public var contentHash: String

    public init(type: String, id: String, version: Int, lastUpdated: Date, resource: JSON?, contentHash: String) {
        self.type = type
        self.id = id
        self.version = version
        self.lastUpdated = lastUpdated
        self.resource = resource
        self.contentHash = contentHash
    }
}

/// What a write did.
public struct WriteResult: Sendable, Hashable {
    public enum Outcome: String, Sendable, Hashable {
        /// A new resource (version 1, or a deleted one written again).
        case created
        /// A new version of an existing resource.
        case updated
        /// The content equals the current version's: nothing was written.
        case unchanged
        /// A conditional create found the resource already there.
        case found
        case deleted
    }

    public var outcome: Outcome
    /// The version now current (for `.deleted`, the deletion's version).
    public var stored: StoredResource
}

/// The resources a search found.
public struct SearchResult: Sendable {
    /// The matches on this page, in the order asked for.
    public var resources: [StoredResource]
    /// How many match in all.
    public var total: Int
}

/// Why a store operation failed.
public struct StoreError: Error, Sendable, CustomStringConvertible, Hashable {
    public enum Kind: String, Sendable, Hashable {
        /// The resource cannot be stored as it is (no resourceType, no id, an unknown type).
        case invalid
        /// A search parameter or value the store cannot read.
        case badQuery
        /// A conditional write matched more than one resource.
        case preconditionFailed
        /// The resource was deleted.
        case gone
        /// A transaction entry that cannot be run; nothing of the transaction was written.
        case transactionFailed
        /// The database refused or failed.
        case database
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { "\(kind.rawValue): \(message)" }
}
