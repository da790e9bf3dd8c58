import FHIR

/// Deterministic resource ids and the transaction entries that write resources under them.
public enum ResourceID {
    /// A UUID-shaped id from a SHA-256 of the type and a name (name-based, deterministic): the same
    /// source unit gives the same id in every run, so a rerun updates instead of duplicating.
    public static func make(type: String, content: String) -> String {
        var hex = Array(sha256Hex("\(type)|\(content)".utf8).utf8.prefix(32))
        for dash in [20, 16, 12, 8] { hex.insert(UInt8(ascii: "-"), at: dash) }
        return String(decoding: hex, as: UTF8.self)
    }

    /// A transaction Bundle entry that writes `resource` as `PUT type/id`.
    public static func putEntry(_ resource: JSON, type: String, id: String) -> JSON {
        .object(
            JSONObject([
                ("fullUrl", .string("urn:uuid:\(id)")), ("resource", resource),
                ("request", .object(JSONObject([("method", .string("PUT")), ("url", .string("\(type)/\(id)"))]))),
            ]))
    }
}
