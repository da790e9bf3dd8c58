import Crypto
import FHIR
import Foundation

/// The SHA-256 of a run of ids and their content hashes: one type whole, or one range of it.
public struct RangeDigest: Sendable, Codable, Hashable {
    /// The first and last id of the range (byte order).
    public var first: String
    public var last: String
    public var count: Int
    /// SHA-256 over `id|content hash\n` of each resource, in id order.
    public var sha256: String
}

/// What a store holds, summed up so that two stores (or a store and a snapshot, or a store and the
/// legacy side projected through a mapping) can be compared without reading everything twice:
/// counts and a digest per type, and digests of consecutive ranges of ids, so that equal ranges are
/// skipped and unequal ones looked into.
public struct StoreDigest: Sendable, Codable, Hashable {
    public var counts: [String: Int] = [:]
    public var types: [String: RangeDigest] = [:]
    public var ranges: [String: [RangeDigest]] = [:]
    /// How many ids a range holds (the last one may hold fewer).
    public var rangeSize: Int

    public init(rangeSize: Int) { self.rangeSize = max(1, rangeSize) }

    /// Reads a store's current resources type by type in keyset pages.
    public static func of(_ store: any FHIRStore, rangeSize: Int = 1000) async throws -> StoreDigest {
        var builder = Builder(rangeSize: rangeSize)
        for type in try await store.counts().keys.sorted() {
            var after: String?
            while true {
                let page = try await store.currentResources(type: type, after: after, limit: 1000)
                for stored in page { builder.add(stored) }
                guard let last = page.last, page.count == 1000 else { break }
                after = last.id
            }
        }
        return builder.finished
    }

    /// The ranges of `type` that differ from another digest's (by position and content): where to look.
    public func differingRanges(of type: String, from other: StoreDigest) -> [RangeDigest] {
        let mine = ranges[type] ?? []
        let theirs = other.ranges[type] ?? []
        return mine.enumerated().filter { index, range in index >= theirs.count || theirs[index] != range }.map(
            \.element)
            + (theirs.count > mine.count ? Array(theirs[mine.count...]) : [])
    }

    /// Adds resources in type and id order.
    struct Builder {
        private(set) var digest: StoreDigest
        private var type: String?
        private var whole = SHA256()
        private var range = SHA256()
        private var wholeFirst = ""
        private var rangeFirst = ""
        private var rangeCount = 0
        private var last = ""

        init(rangeSize: Int) { digest = StoreDigest(rangeSize: rangeSize) }

        mutating func add(_ stored: StoredResource) {
            if stored.type != type {
                finishType()
                type = stored.type
                wholeFirst = stored.id
            }
            if rangeCount == 0 { rangeFirst = stored.id }
            let line = Array("\(stored.id)|\(stored.contentHash)\n".utf8)
            whole.update(data: line)
            range.update(data: line)
            rangeCount += 1
            last = stored.id
            digest.counts[stored.type, default: 0] += 1
            if rangeCount == digest.rangeSize { finishRange() }
        }

        private mutating func finishRange() {
            guard let type, rangeCount > 0 else { return }
            digest.ranges[type, default: []].append(
                RangeDigest(first: rangeFirst, last: last, count: rangeCount, sha256: Self.hex(range.finalize())))
            range = SHA256()
            rangeCount = 0
        }

        private mutating func finishType() {
            finishRange()
            guard let type else { return }
            digest.types[type] = RangeDigest(
                first: wholeFirst, last: last, count: digest.counts[type] ?? 0, sha256: Self.hex(whole.finalize()))
            whole = SHA256()
        }

        /// The digest with the last type closed.
        var finished: StoreDigest {
            var copy = self
            copy.finishType()
            return copy.digest
        }

        static func hex(_ digest: SHA256.Digest) -> String { digest.map { String(format: "%02x", $0) }.joined() }
    }
}

/// A consistent point-in-time copy of a store's current resources: `resources.ndjson` (type by type,
/// id by id) and `manifest.json` (when, counts, digests per type and per id range). Restoring brings a
/// store back to it — resources written, those the snapshot lacks deleted, history kept — and checks
/// the digests.
public enum StoreSnapshot {
    public struct Manifest: Sendable, Codable, Hashable {
        public var created: String
        public var resources: Int
        public var digest: StoreDigest
    }

    public struct RestoreReport: Sendable, Hashable {
        public var written = 0
        public var unchanged = 0
        public var deleted = 0
        /// Whether the store's digest equals the snapshot's afterwards.
        public var verified = false
    }

    /// Writes a snapshot of the store into `folder`.
    public static func write(_ store: any FHIRStore, to folder: String, rangeSize: Int = 1000) async throws -> Manifest
    {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let path = (folder as NSString).appendingPathComponent("resources.ndjson")
        guard FileManager.default.createFile(atPath: path, contents: nil),
            let handle = FileHandle(forWritingAtPath: path)
        else { throw StoreError(.database, "\(path) cannot be written") }
        let sink = Sink(handle: handle, rangeSize: rangeSize)
        try await store.exportCurrent { stored in try sink.add(stored) }
        let digest = try sink.close()
        let manifest = Manifest(
            created: ResourceVersion.instant(Date()), resources: digest.counts.values.reduce(0, +), digest: digest)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(manifest).write(
            to: URL(fileURLWithPath: (folder as NSString).appendingPathComponent("manifest.json")))
        return manifest
    }

    /// Reads a snapshot's manifest.
    public static func manifest(in folder: String) throws -> Manifest {
        let data = try Data(
            contentsOf: URL(fileURLWithPath: (folder as NSString).appendingPathComponent("manifest.json")))
        return try JSONDecoder().decode(Manifest.self, from: data)
    }

    /// Brings `store` back to the snapshot in `folder`.
    public static func restore(from folder: String, into store: any FHIRStore) async throws -> RestoreReport {
        let manifest = try manifest(in: folder)
        guard
            let data = FileManager.default.contents(
                atPath: (folder as NSString).appendingPathComponent("resources.ndjson"))
        else { throw StoreError(.database, "\(folder)/resources.ndjson cannot be read") }
        var report = RestoreReport()
        var kept: [String: Set<String>] = [:]
        var entries: [JSON] = []
        func flush() async throws {
            guard !entries.isEmpty else { return }
            let bundle: JSON = ["resourceType": "Bundle", "type": "transaction", "entry": .array(entries)]
            let response = try await store.transaction(bundle)
            for entry in response["entry"]?.arrayValue ?? [] {
                let note = entry["response"]?["outcome"]?["issue"]?[0]?["diagnostics"]?.stringValue ?? ""
                if note.hasPrefix("unchanged") { report.unchanged += 1 } else { report.written += 1 }
            }
            entries.removeAll(keepingCapacity: true)
        }
        for (number, line) in data.split(separator: 0x0A).enumerated() where !line.isEmpty {
            let resource: JSON
            do { resource = try JSON(parsing: line) } catch {
                throw StoreError(.invalid, "resources.ndjson line \(number + 1): \(error)")
            }
            let (type, id) = try ResourceVersion.key(resource)
            kept[type, default: []].insert(id)
            entries.append(
                ["resource": resource, "request": ["method": "PUT", "url": .string("\(type)/\(id)")]])
            if entries.count == 200 { try await flush() }
        }
        try await flush()
        for type in try await store.counts().keys.sorted() {
            var after: String?
            var extra: [String] = []
            while true {
                let page = try await store.currentResources(type: type, after: after, limit: 1000)
                extra += page.map(\.id).filter { !(kept[type]?.contains($0) ?? false) }
                guard let last = page.last, page.count == 1000 else { break }
                after = last.id
            }
            for id in extra where try await store.delete(type: type, id: id) != nil { report.deleted += 1 }
        }
        let now = try await StoreDigest.of(store, rangeSize: manifest.digest.rangeSize)
        report.verified = now.counts == manifest.digest.counts && now.types == manifest.digest.types
        return report
    }

    /// Writes resources as NDJSON and digests them, from whichever thread the store reads on.
    final class Sink: @unchecked Sendable {
        private let lock = NSLock()
        private let handle: FileHandle
        private var buffer: [UInt8] = []
        private var builder: StoreDigest.Builder

        init(handle: FileHandle, rangeSize: Int) {
            self.handle = handle
            builder = StoreDigest.Builder(rangeSize: rangeSize)
        }

        func add(_ stored: StoredResource) throws {
            guard let resource = stored.resource else { return }
            try lock.withLock {
                builder.add(stored)
                JSONWriter(layout: .compact).write(resource, into: &buffer)
                buffer.append(0x0A)
                if buffer.count > 1 << 20 {
                    try handle.write(contentsOf: buffer)
                    buffer.removeAll(keepingCapacity: true)
                }
            }
        }

        func close() throws -> StoreDigest {
            try lock.withLock {
                try handle.write(contentsOf: buffer)
                try handle.close()
                return builder.finished
            }
        }
    }
}
