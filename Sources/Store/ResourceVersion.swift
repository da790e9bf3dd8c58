import FHIR
import Foundation

/// What versioning does to a resource's content, the same in every store.
enum ResourceVersion {
    /// SHA-256 of the canonical content without `meta.versionId` and `meta.lastUpdated`: equal
    /// content, equal hash, whatever version it was stored as.
    static func contentHash(_ resource: JSON) -> String {
        withoutVersionMeta(resource).canonicalSHA256
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
