import Foundation

/// The rules of Bundles (bdl-1 to bdl-12 and the transaction and batch rules), checked entry by entry.
extension ValidationRun {
    mutating func checkBundle(_ bundle: JSONObject) {
        let type = bundle["type"]?.stringValue ?? ""
        let entries = bundle["entry"]?.arrayValue ?? []
        let isSearchOrHistory = type == "searchset" || type == "history"
        if bundle["total"] != nil && !isSearchOrHistory {
            report(.error, "invariant", "total is only for search or history Bundles", key: "bdl-1")
        }
        // bdl-7 by (fullUrl, versionId) pairs: a key joined into one string allocated it per entry.
        var seenFullURLs: Set<FullURLVersion> = []
        seenFullURLs.reserveCapacity(entries.count)
        for (index, entry) in entries.enumerated() {
            guard case .object(let object) = entry else { continue }
            path.push(.raw("entry"))
            path.push(.index(index))
            defer {
                path.pop()
                path.pop()
            }
            let resource = object["resource"]
            if object["search"] != nil && type != "searchset" {
                report(.error, "invariant", "entry.search is only for searchset Bundles", key: "bdl-2")
            }
            let needsRequest = type == "batch" || type == "transaction" || type == "history"
            if needsRequest != (object["request"] != nil) {
                report(
                    .error, "invariant",
                    needsRequest
                        ? "every entry of a \(type) Bundle needs a request"
                        : "entry.request is only for batch, transaction or history Bundles",
                    key: "bdl-3")
            }
            let needsResponse = type == "batch-response" || type == "transaction-response" || type == "history"
            if needsResponse != (object["response"] != nil) {
                report(
                    .error, "invariant",
                    needsResponse
                        ? "every entry of a \(type) Bundle needs a response"
                        : "entry.response is only for response or history Bundles",
                    key: "bdl-4")
            }
            if resource == nil && object["request"] == nil && object["response"] == nil {
                report(.error, "invariant", "an entry must have a resource, a request or a response", key: "bdl-5")
            }
            if let fullURL = object["fullUrl"]?.stringValue {
                let version = resource?["meta"]?["versionId"]?.stringValue ?? ""
                if !seenFullURLs.insert(FullURLVersion(fullURL: fullURL, version: version)).inserted {
                    report(.error, "invariant", "the fullUrl '\(fullURL)' appears in more than one entry", key: "bdl-7")
                }
                if Self.containsHistorySegment(fullURL) {
                    report(.error, "invariant", "a fullUrl must not be a version-specific reference", key: "bdl-8")
                }
                checkFullURL(fullURL, matches: resource)
            }
            if type == "transaction" || type == "batch", let request = object["request"]?.objectValue {
                checkRequest(request, resource: resource, bundleType: type)
            }
        }
        switch type {
        case "document":
            let identifier = bundle["identifier"]
            if identifier?["system"] == nil || identifier?["value"] == nil {
                report(
                    .error, "invariant", "a document Bundle needs an identifier with a system and a value", key: "bdl-9"
                )
            }
            if bundle["timestamp"] == nil {
                report(.error, "invariant", "a document Bundle needs a timestamp", key: "bdl-10")
            }
            if entries.first?["resource"]?["resourceType"]?.stringValue != "Composition" {
                report(
                    .error, "invariant", "the first resource of a document Bundle must be a Composition", key: "bdl-11")
            }
        case "message":
            if entries.first?["resource"]?["resourceType"]?.stringValue != "MessageHeader" {
                report(
                    .error, "invariant", "the first resource of a message Bundle must be a MessageHeader", key: "bdl-12"
                )
            }
        default: break
        }
    }

    /// The non-empty `/`-separated segments of a request url before any `?`, by bytes (the standard
    /// library's generic `split` showed in HL7 v2 conversion profiles).
    static func pathSegments(_ url: String) -> [Substring] {
        // The byte offsets found over the contiguous bytes (stepping `Substring.UTF8View` indices cost
        // some 8,000 instructions a url), then cut.
        let ranges = url.withUTF8Bytes { bytes in
            var ranges: [Range<Int>] = []
            var start = 0
            var position = 0
            while position < bytes.count, bytes[position] != UInt8(ascii: "?") {
                if bytes[position] == UInt8(ascii: "/") {
                    if start < position { ranges.append(start..<position) }
                    start = position + 1
                }
                position += 1
            }
            if start < position { ranges.append(start..<position) }
            return ranges
        }
        let utf8 = url.utf8
        return ranges.map { range in
            let lower = utf8.index(utf8.startIndex, offsetBy: range.lowerBound)
            return url[lower..<utf8.index(lower, offsetBy: range.count)]
        }
    }

    /// Whether `url` is exactly `type/id`, byte for byte.
    static func isPath(_ url: String, of type: String, _ id: String) -> Bool {
        let typeCount = type.utf8.count
        guard url.utf8.count == typeCount + 1 + id.utf8.count else { return false }
        return url.withUTF8Bytes { url in
            type.withUTF8Bytes { type in
                id.withUTF8Bytes { id in
                    url[typeCount] == UInt8(ascii: "/") && memcmp(url.baseAddress!, type.baseAddress!, typeCount) == 0
                        && memcmp(url.baseAddress! + typeCount + 1, id.baseAddress!, id.count) == 0
                }
            }
        }
    }

    private static let historySegment: [UInt8] = Array("/_history/".utf8)

    /// Whether a full URL names a version (`…/_history/2`), by bytes: the standard library's
    /// `firstRange(of:)` searches through a generic matcher that cost a tenth of HL7 v2 conversion.
    static func containsHistorySegment(_ url: String) -> Bool {
        let segment = historySegment
        return url.withUTF8Bytes { bytes in
            guard bytes.count >= segment.count else { return false }
            for start in 0...(bytes.count - segment.count) where bytes[start] == UInt8(ascii: "/") {
                var index = 1
                while index < segment.count, bytes[start + index] == segment[index] { index += 1 }
                if index == segment.count { return true }
            }
            return false
        }
    }

    /// An absolute `fullUrl` ending in `Type/id` must name the entry's resource.
    private mutating func checkFullURL(_ fullURL: String, matches resource: JSON?) {
        guard fullURL.hasPrefix("http://") || fullURL.hasPrefix("https://"),
            let type = resource?["resourceType"]?.stringValue, let id = resource?["id"]?.stringValue
        else { return }
        let parts = Self.segments(of: fullURL, omittingEmpty: true)
        guard parts.count >= 2, definitions.isResourceType(String(parts[parts.count - 2])) else { return }
        if parts[parts.count - 2] != type || parts[parts.count - 1] != id {
            path.push(.raw("fullUrl"))
            report(.error, "invalid", "the fullUrl '\(fullURL)' does not match the entry's resource \(type)/\(id)")
            path.pop()
        }
    }

    private mutating func checkRequest(_ request: JSONObject, resource: JSON?, bundleType: String) {
        guard let method = request["method"]?.stringValue, let url = request["url"]?.stringValue else { return }
        path.push(.raw("request"))
        defer { path.pop() }
        switch method {
        case "POST", "PUT":
            guard let resource else {
                report(.error, "required", "a \(method) entry of a \(bundleType) needs a resource")
                return
            }
            let type = resource["resourceType"]?.stringValue ?? ""
            // The usual create: the url is the type alone, nothing to cut.
            if url == type, !type.isEmpty { return }
            // The usual update: `Type/id` naming the entry's resource, compared in place.
            if method == "PUT", !type.isEmpty, let id = resource["id"]?.stringValue, !id.isEmpty,
                Self.isPath(url, of: type, id)
            {
                return
            }
            // Fuzzer finding: an empty url (or one that starts with `?`) once crashed here.
            let parts = Self.pathSegments(url)
            if parts.first != type[...] {
                report(.error, "invalid", "request.url '\(url)' does not name the entry's resource type \(type)")
            } else if method == "PUT", parts.count == 2, let id = resource["id"]?.stringValue, parts[1] != id {
                report(.error, "invalid", "request.url '\(url)' does not match the entry's resource id '\(id)'")
            }
        case "GET", "HEAD", "DELETE":
            if resource != nil {
                report(.warning, "business-rule", "a \(method) entry carries a resource that the server will ignore")
            }
        default:
            break
        }
    }
}

/// An entry's `fullUrl` and its resource's `meta.versionId` (empty when absent), which bdl-7 wants unique.
private struct FullURLVersion: Hashable {
    let fullURL: String
    let version: String
}
