import FHIR
import Foundation

/// Runs a FHIR transaction Bundle against a store transaction: DELETE, then POST, then PUT, then GET
/// entries (the order FHIR gives); `urn:uuid:` full URLs of created resources and conditional
/// references (`Patient?identifier=…`) are replaced by the ids they resolve to. Any failing entry
/// throws, and the caller's database transaction rolls everything back.
enum TransactionBundle {
    /// The writes of a Bundle worked out ahead, by entry: only for Bundles of plain `PUT Type/id`
    /// entries (a migration's), whose references resolve without the store. Others get none.
    static func prepare(
        _ bundle: JSON, indexing: StoreIndexing, time: Date, indexed: Bool = true
    ) -> [Int: PreparedWrite] {
        guard bundle["type"]?.stringValue == "transaction", let entries = bundle["entry"]?.arrayValue else {
            return [:]
        }
        var resolved: [String: String] = [:]
        for entry in entries {
            guard entry["request"]?["method"]?.stringValue == "PUT", let url = entry["request"]?["url"]?.stringValue,
                isTypeSlashID(url)
            else { return [:] }
            if let fullURL = entry["fullUrl"]?.stringValue { resolved[fullURL] = url }
        }
        var prepared: [Int: PreparedWrite] = [:]
        for (index, entry) in entries.enumerated() {
            guard let url = entry["request"]?["url"]?.stringValue,
                case .object(var object)? = entry["resource"].map({ rewritingReferences($0, resolved) })
            else { continue }
            // `Type/id`, checked above: the id follows the one slash. Most resources carry it already
            // (setting it anyway copied the resource's members, each retained).
            let slash = url.utf8.firstIndex(of: UInt8(ascii: "/"))!
            let id = url[url.utf8.index(after: slash)...]
            // Compared byte by byte: `==` on strings takes canonically equivalent text for the same.
            if object["id"]?.stringValue?.utf8.elementsEqual(id.utf8) != true { object["id"] = .string(String(id)) }
            prepared[index] = try? PreparedWrite(.object(object), indexing: indexing, time: time, index: indexed)
        }
        return prepared
    }

    /// Whether a request URL is `Type/id`: one slash with text either side, no query.
    static func isTypeSlashID(_ url: String) -> Bool {
        return url.withUTF8Bytes { bytes in
            guard let first = bytes.first, let last = bytes.last, first != UInt8(ascii: "/"), last != UInt8(ascii: "/")
            else { return false }
            var slashes = 0
            for byte in bytes {
                if byte == UInt8(ascii: "/") { slashes += 1 } else if byte == UInt8(ascii: "?") { return false }
            }
            return slashes == 1
        }
    }

    /// Bundles of plain PUTs, every entry prepared, written together: the current versions read at
    /// once, the new versions and their index rows saved at once. The same outcome, version by
    /// version, as running each Bundle in turn; `nil` when a Bundle does not qualify.
    static func runPrepared(
        _ bundles: [JSON], prepared: [[Int: PreparedWrite]], in store: some StoreTransaction
    ) async throws -> BatchOutcome? {
        var plan: [[PreparedWrite]] = []
        for (index, bundle) in bundles.enumerated() {
            let entries = bundle["entry"]?.arrayValue ?? []
            let writes = prepared[index]
            guard !entries.isEmpty, writes.count == entries.count else { return nil }
            var ordered: [PreparedWrite] = []
            for entry in 0..<entries.count {
                guard let write = writes[entry], let type = write.resource["resourceType"]?.stringValue,
                    store.indexing.definitions.isResourceType(type)
                else { return nil }
                ordered.append(write)
            }
            plan.append(ordered)
        }
        var latest = try await store.currents(plan.flatMap { $0.map(\.key) })
        var saves: [VersionWrite] = []
        var outcome = BatchOutcome()
        for writes in plan {
            for write in writes {
                let (type, id, name) = (write.key.type, write.key.id, write.key.name)
                let current = latest[name]
                if let current, current.resource != nil, current.contentHash == write.contentHash {
                    outcome.unchanged += 1
                    continue
                }
                let version = (current?.version ?? 0) + 1
                let first = version == 1 && write.time == store.time
                let stamped =
                    first
                    ? write.firstVersion
                    : ResourceVersion.stamped(write.resource, version: version, lastUpdated: store.time)
                let stored = StoredResource(
                    type: type, id: id, version: version, lastUpdated: store.time, resource: stamped,
                    contentHash: write.contentHash)
                saves.append(
                    VersionWrite(
                        stored: stored, name: name, rows: write.rows, clearing: current != nil,
                        content: first ? write.firstContent : nil))
                latest[name] = stored
                outcome.written[type, default: 0] += 1
            }
        }
        try await store.saveAll(saves)
        return outcome
    }

    static func run(
        _ bundle: JSON, in store: some StoreTransaction, prepared: [Int: PreparedWrite] = [:]
    ) async throws -> JSON {
        guard bundle["resourceType"]?.stringValue == "Bundle" else {
            throw StoreError(.transactionFailed, "not a Bundle")
        }
        guard bundle["type"]?.stringValue == "transaction" else {
            throw StoreError(
                .transactionFailed, "Bundle.type is \(bundle["type"]?.stringValue ?? "missing"), not transaction")
        }
        let entries = bundle["entry"]?.arrayValue ?? []
        var requests: [(index: Int, method: String, url: String, entry: JSON)] = []
        for (index, entry) in entries.enumerated() {
            guard let method = entry["request"]?["method"]?.stringValue,
                let url = entry["request"]?["url"]?.stringValue, !url.isEmpty
            else {
                throw StoreError(.transactionFailed, "Bundle.entry[\(index)].request: method and url are required")
            }
            requests.append((index, method, url, entry))
        }
        let order = ["DELETE": 0, "POST": 1, "PUT": 2, "GET": 3]
        for request in requests where order[request.method] == nil {
            throw StoreError(
                .transactionFailed, "Bundle.entry[\(request.index)].request.method \(request.method) is not supported")
        }
        // Where each created or conditionally named resource ends up, before any write: references to
        // them are rewritten in every entry.
        var resolved: [String: String] = [:]
        var assignedIDs: [Int: String] = [:]
        var existingMatches: [Int: StoredResource] = [:]
        for request in requests where request.method == "POST" || request.method == "PUT" {
            let type = String(request.url.prefix { $0 != "/" && $0 != "?" })
            var id: String?
            if request.method == "POST" {
                if let condition = request.entry["request"]?["ifNoneExist"]?.stringValue {
                    let found = try await store.search(try SearchQuery(type: type, query: condition))
                    if found.total > 1 {
                        throw StoreError(
                            .preconditionFailed, "Bundle.entry[\(request.index)]: ifNoneExist matches \(found.total)")
                    }
                    id = found.resources.first?.id
                    // A conditional create that finds its resource writes nothing.
                    if let existing = found.resources.first { existingMatches[request.index] = existing }
                }
                id = id ?? UUID().uuidString.lowercased()
            } else if request.url.contains("?") {
                let found = try await store.search(try SearchQuery(request.url))
                if found.total > 1 {
                    throw StoreError(
                        .preconditionFailed, "Bundle.entry[\(request.index)]: \(request.url) matches \(found.total)")
                }
                id =
                    found.resources.first?.id ?? request.entry["resource"]?["id"]?.stringValue
                    ?? UUID().uuidString.lowercased()
            } else {
                id = request.url.split(separator: "/").dropFirst().first.map(String.init)
            }
            guard let id else {
                throw StoreError(
                    .transactionFailed, "Bundle.entry[\(request.index)].request.url \(request.url) names no id")
            }
            assignedIDs[request.index] = id
            if let fullURL = request.entry["fullUrl"]?.stringValue { resolved[fullURL] = "\(type)/\(id)" }
        }
        var responses: [Int: JSON] = [:]
        for request in requests.sorted(by: { (order[$0.method]!, $0.index) < (order[$1.method]!, $1.index) }) {
            let place = "Bundle.entry[\(request.index)]"
            switch request.method {
            case "DELETE":
                let parts = request.url.split(separator: "/").map(String.init)
                guard parts.count == 2 else { throw StoreError(.transactionFailed, "\(place): DELETE needs Type/id") }
                _ = try await store.delete(type: parts[0], id: parts[1])
                responses[request.index] = response("204 No Content", nil)
            case "GET":
                let found = try await store.search(try SearchQuery(request.url))
                responses[request.index] = response("200 OK", nil, total: found.total)
            case "POST" where existingMatches[request.index] != nil:
                let existing = existingMatches[request.index]!
                responses[request.index] = response(
                    "200 OK", existing,
                    note: "found: \(existing.type)/\(existing.id) matches ifNoneExist; nothing written")
            default:
                guard var resource = request.entry["resource"] else {
                    throw StoreError(.transactionFailed, "\(place): \(request.method) without a resource")
                }
                resource = rewritingReferences(resource, resolved)
                guard case .object(var object) = resource else {
                    throw StoreError(.transactionFailed, "\(place).resource is not an object")
                }
                object["id"] = .string(assignedIDs[request.index]!)
                let written: WriteResult
                do {
                    written = try await store.put(.object(object), prepared: prepared[request.index])
                } catch let error as StoreError {
                    throw StoreError(
                        error.kind == .invalid ? .transactionFailed : error.kind, "\(place): \(error.message)")
                }
                let status = written.outcome == .created ? "201 Created" : "200 OK"
                responses[request.index] = response(
                    status, written.stored,
                    note: written.outcome == .unchanged || written.outcome == .found
                        ? "\(written.outcome.rawValue): version \(written.stored.version) stays current" : nil)
            }
        }
        return .object(
            JSONObject([
                ("resourceType", .string("Bundle")), ("type", .string("transaction-response")),
                ("entry", .array(requests.map { responses[$0.index]! })),
            ]))
    }

    static func response(
        _ status: String, _ stored: StoredResource?, total: Int? = nil, note: String? = nil
    )
        -> JSON
    {
        var members: [(String, JSON)] = [("status", .string(status))]
        if let stored {
            members.append(("location", .string("\(stored.type)/\(stored.id)/_history/\(stored.version)")))
            members.append(("etag", .string("W/\"\(stored.version)\"")))
            members.append(("lastModified", .string(ResourceVersion.instant(stored.lastUpdated))))
        }
        // What the status cannot say (nothing written; how many a GET found) as an informational outcome.
        if let text = note ?? total.map({ "\($0) found" }) {
            let issue = JSON.object(
                JSONObject([
                    ("severity", .string("information")), ("code", .string("informational")),
                    ("diagnostics", .string(text)),
                ]))
            members.append(
                ("outcome", .object(JSONObject([("resourceType", "OperationOutcome"), ("issue", .array([issue]))]))))
        }
        return .object(JSONObject([("response", .object(JSONObject(members)))]))
    }

    /// Every `reference` that names a resolved full URL, rewritten to `Type/id`.
    static func rewritingReferences(_ json: JSON, _ resolved: [String: String]) -> JSON {
        // Most resources name their references as `Type/id` already: nothing to rebuild.
        guard !resolved.isEmpty, namesResolved(json, resolved) else { return json }
        switch json {
        case .object(let object):
            return .object(
                JSONObject(
                    object.map { member in
                        if member.key == "reference", let text = member.value.stringValue, let target = resolved[text] {
                            return (member.key, .string(target))
                        }
                        return (member.key, rewritingReferences(member.value, resolved))
                    }))
        case .array(let items):
            return .array(items.map { rewritingReferences($0, resolved) })
        default:
            return json
        }
    }

    /// Whether any `reference` in `json` names one of the resolved full URLs.
    static func namesResolved(_ json: JSON, _ resolved: [String: String]) -> Bool {
        switch json {
        case .object(let object):
            object.members.contains { member in
                if member.key == "reference", let text = member.value.stringValue { return resolved[text] != nil }
                return namesResolved(member.value, resolved)
            }
        case .array(let items):
            items.contains { namesResolved($0, resolved) }
        default:
            false
        }
    }
}
