import Crypto
import FHIR

/// Deterministic resource ids and the transaction entries that write resources under them.
public enum ResourceID {
    /// A UUID-shaped id from a SHA-256 of the type and a name (name-based, deterministic): the same
    /// source unit gives the same id in every run, so a rerun updates instead of duplicating.
    public static func make(type: String, content: String) -> String {
        make(type: type, parts: [content])
    }

    /// `make(type:content:)` of the parts joined by `|`, without the joined string.
    static func make(type: String, parts: [String]) -> String {
        var input: [UInt8] = []
        input.reserveCapacity(type.utf8.count + parts.reduce(0) { $0 + $1.utf8.count + 1 })
        input += type.utf8
        for part in parts {
            input.append(UInt8(ascii: "|"))
            input += part.utf8
        }
        // 8-4-4-4-12 of the first 32 hexadecimal digits.
        return SHA256.hash(data: input).withUnsafeBytes { hexadecimal($0, digits: 32, dashes: [8, 12, 16, 20]) }
    }

    /// A transaction Bundle entry that writes `resource` as `PUT type/id`.
    public static func putEntry(_ resource: JSON, type: String, id: String) -> JSON {
        // Members written straight (the keys are distinct): a list of pairs to check cost two more
        // allocations an object, and a Bundle has an entry for every resource.
        let request = JSONObject(uncheckedMembers: [
            JSONMember(key: "method", value: .string("PUT")), JSONMember(key: "url", value: .string(path(type, id))),
        ])
        return .object(
            JSONObject(uncheckedMembers: [
                JSONMember(key: "fullUrl", value: .string(String.concatenating("urn:uuid:", id))),
                JSONMember(key: "resource", value: resource),
                JSONMember(key: "request", value: .object(request)),
            ]))
    }

    /// `Type/id`, made in one allocation.
    public static func path(_ type: String, _ id: String) -> String { String.concatenating(type, "/", id) }
}
