import FHIR
import Foundation

/// What versioning does to a resource's content, the same in every store.
enum ResourceVersion {
    /// SHA-256 of the canonical content without `meta.versionId` and `meta.lastUpdated`: equal
    /// content, equal hash, whatever version it was stored as.
    static func contentHash(_ resource: JSON) -> String {
        withoutVersionMeta(resource).canonicalSHA256
    }

    /// The content hash of `resource` and the canonical bytes of `stamped` (the resource with its
    /// version in `meta`): equal to `contentHash(resource)` and `stamped.canonicalBytes` (tested), from
    /// one canonical write of the resource when it carries no `meta` of its own (a migration's never
    /// does), the stamped `meta` spliced in where its key sorts.
    static func hashAndBytes(of resource: JSON, stamped: JSON) -> (hash: String, bytes: [UInt8]) {
        guard case .object(let object) = resource, object["meta"] == nil, case .object(let version) = stamped,
            let meta = version["meta"]
        else { return (contentHash(resource), stamped.canonicalBytes) }
        let writer = JSONWriter(layout: .canonical)
        let members = object.members
        let order = members.indices.sorted { JSONWriter.keyPrecedes(members[$0].key, members[$1].key) }
        var plain: [UInt8] = [UInt8(ascii: "{")]
        plain.reserveCapacity(2048)
        // Where `meta` goes: before the first member whose key sorts after it, or before the `}`.
        var split: (offset: Int, membersBefore: Int)?
        for (position, index) in order.enumerated() {
            if split == nil, JSONWriter.keyPrecedes("meta", members[index].key) { split = (plain.count, position) }
            if position > 0 { plain.append(UInt8(ascii: ",")) }
            JSONWriter.writeString(members[index].key, into: &plain)
            plain.append(UInt8(ascii: ":"))
            writer.write(members[index].value, into: &plain)
        }
        plain.append(UInt8(ascii: "}"))
        let (offset, before) = split ?? (plain.count - 1, order.count)
        var member: [UInt8] = Array(#""meta":"#.utf8)
        writer.write(meta, into: &member)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(plain.count + member.count + 1)
        bytes += plain[..<offset]
        if before > 0 { bytes.append(UInt8(ascii: ",")) }
        bytes += member
        // After it: `,next…` when members came before (the comma is already there), `next…` when none did.
        if before == 0 && before < order.count { bytes.append(UInt8(ascii: ",")) }
        bytes += plain[offset...]
        return (sha256Hex(plain), bytes)
    }

    static func withoutVersionMeta(_ resource: JSON) -> JSON {
        guard case .object(var object) = resource, case .object(var meta)? = object["meta"] else { return resource }
        meta["versionId"] = nil
        meta["lastUpdated"] = nil
        object["meta"] = meta.isEmpty ? nil : .object(meta)
        return .object(object)
    }

    /// The resource with its version and time in `meta`.
    static func stamped(_ resource: JSON, version: Int, lastUpdated: Date) -> JSON {
        guard case .object(var object) = resource else { return resource }
        var meta = object["meta"]?.objectValue ?? JSONObject()
        meta["versionId"] = .string(String(version))
        meta["lastUpdated"] = .string(instant(lastUpdated))
        object["meta"] = .object(meta)
        return .object(object)
    }

    /// `2024-03-15T09:30:00.123Z`.
    static func instant(_ date: Date) -> String {
        FHIRPathTemporal(
            utcMilliseconds: Int((date.timeIntervalSince1970 * 1000).rounded(.down)), precision: .millisecond
        ).text
    }

    /// The type and id a resource is stored under.
    static func key(_ resource: JSON) throws(StoreError) -> (type: String, id: String) {
        guard let type = resource["resourceType"]?.stringValue, !type.isEmpty else {
            throw StoreError(.invalid, "the resource has no resourceType")
        }
        guard let id = resource["id"]?.stringValue, !id.isEmpty else {
            throw StoreError(.invalid, "the \(type) has no id")
        }
        guard id.count <= 64, id.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == ".") })
        else {
            throw StoreError(.invalid, "'\(id)' is not a FHIR id")
        }
        return (type, id)
    }

    static func withNewID(_ resource: JSON) -> JSON {
        with(id: UUID().uuidString.lowercased(), resource)
    }

    static func with(id: String, _ resource: JSON) -> JSON {
        guard case .object(var object) = resource else { return resource }
        object["id"] = .string(id)
        return .object(object)
    }
}

/// The content hash the store keeps for a resource: SHA-256 of its canonical content without
/// `meta.versionId` and `meta.lastUpdated`. Reconciliation projects the legacy side to the same.
public enum ContentHash {
    public static func of(_ resource: JSON) -> String { ResourceVersion.contentHash(resource) }
}
