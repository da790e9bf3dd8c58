import Foundation

/// References: their literal form, their target types, contained `#id` and Bundle-internal resolution.
extension ValidationRun {
    /// What a Bundle holds, for resolving the references made inside it.
    struct BundleScope {
        /// Resource type of each entry by its `fullUrl`.
        var typesByFullURL: [String: String] = [:]
        /// Resource type of each entry by `Type/id`.
        var typesByRelativeURL: [String: String] = [:]
        /// The `fullUrl` of the entry being walked.
        var currentFullURL: String?

        init(bundle: JSONObject) {
            let entries = bundle["entry"]?.arrayValue ?? []
            typesByFullURL.reserveCapacity(entries.count)
            typesByRelativeURL.reserveCapacity(entries.count)
            for entry in entries {
                guard let type = entry["resource"]?["resourceType"]?.stringValue else { continue }
                if let fullURL = entry["fullUrl"]?.stringValue { typesByFullURL[fullURL] = type }
                if let id = entry["resource"]?["id"]?.stringValue {
                    typesByRelativeURL[String.concatenating(type, "/", id)] = type
                }
            }
        }
    }

    mutating func noteLocalReference(_ reference: String) {
        guard !resourceScopes.isEmpty else { return }
        if reference == "#" {
            resourceScopes[resourceScopes.count - 1].refersToContainer = true
        } else {
            resourceScopes[resourceScopes.count - 1].localReferences.insert(String(reference.dropFirst()))
        }
    }

    /// Records a contained resource's id in the resource that contains it (called before walking it).
    mutating func noteContainedResource(_ value: JSON) {
        guard !resourceScopes.isEmpty else { return }
        if let id = value["id"]?.stringValue {
            resourceScopes[resourceScopes.count - 1].containedIDs.append((id, path.segments, false))
        } else if value.objectValue != nil {
            report(.error, "required", "a contained resource must have an id")
        }
    }

    /// Rules for a contained resource itself (dom-2, dom-4).
    mutating func checkContainedResource(_ object: JSONObject) {
        if object["contained"] != nil {
            report(.error, "invariant", "a contained resource must not contain resources itself", key: "dom-2")
        }
        if let meta = object["meta"], meta["versionId"] != nil || meta["lastUpdated"] != nil {
            report(
                .error, "invariant", "a contained resource must not have meta.versionId or meta.lastUpdated",
                key: "dom-4")
        }
    }

    /// Every contained resource must be referenced from its container or refer to it (dom-3).
    mutating func checkContainedReferences(_ scope: ResourceScope) {
        for contained in scope.containedIDs
        where !contained.refersToContainer && !scope.localReferences.contains(contained.id) {
            report(
                .error, "invariant",
                "the contained resource '\(contained.id)' is not referenced from the resource that contains it (#\(contained.id))",
                key: "dom-3", at: contained.path)
        }
    }

    mutating func checkReference(_ object: JSONObject, type: ElementType) {
        guard let reference = object["reference"]?.stringValue, !reference.isEmpty else { return }
        path.push(.raw("reference"))
        defer { path.pop() }
        let targets = type.targetProfiles
        // Nearly every reference is `Type/id`: recognised in one pass, it needs none of the checks below
        // but the type's name and the target.
        if let slash = Self.plainRelativeSlash(reference) {
            // The type found by its bytes: no string made, none hashed.
            let length = reference.utf8.distance(from: reference.utf8.startIndex, to: slash)
            let typeName = reference.withUTF8Bytes { bytes in
                definitions.resourceTypeName(bytes: UnsafeBufferPointer(rebasing: bytes[..<length]))
            }
            if let typeName {
                checkTarget(typeName, targets: targets, reference: reference)
                resolveInBundle(reference, targets: targets, isPlainRelative: true)
                return
            }
        }
        if reference.hasPrefix("#") {
            noteLocalReference(reference)
            return
        }
        let isUUID = reference.startsWithBytes("urn:uuid:")
        if isUUID || reference.startsWithBytes("urn:oid:") {
            if let problem = PrimitiveFormat.problem(isUUID ? .uuid : .oid, text: reference) {
                report(
                    .error, "value",
                    "the reference '\(reference)' is not a valid \(isUUID ? "uuid" : "oid"): it \(problem)")
                return
            }
            resolveInBundle(reference, targets: targets)
            return
        }
        if Self.isAbsoluteURL(reference) {
            if let type = resourceType(inAbsoluteURL: reference) {
                checkTarget(type, targets: targets, reference: reference)
            }
            resolveInBundle(reference, targets: targets)
            return
        }
        if reference.utf8.contains(where: PrimitiveFormat.isWhitespace) {
            report(.error, "value", "the reference '\(reference)' must not contain whitespace")
            return
        }
        // Relative: Type/id, Type/id/_history/vid, or a conditional Type?search (transactions only).
        if let question = reference.utf8.firstIndex(of: UInt8(ascii: "?")) {
            let type = String(reference[..<question])
            if !definitions.isResourceType(type) {
                report(.error, "value", "the conditional reference '\(reference)' names no known resource type")
            }
            return
        }
        let parts = Self.relativeParts(of: reference)
        guard parts.count == 2 || (parts.count == 4 && parts[2] == "_history") else {
            report(
                .error, "value",
                "the reference '\(reference)' is neither Type/id, Type/id/_history/version, an absolute URL nor #id")
            return
        }
        let typeName = String(parts[0])
        guard definitions.isResourceType(typeName) else {
            report(.error, "value", "the reference '\(reference)' names '\(typeName)', which is not a resource type")
            return
        }
        for part in parts.count == 4 ? [parts[1], parts[3]] : [parts[1]] {
            if let problem = PrimitiveFormat.problem(type: "id", text: String(part)) {
                report(.error, "value", "the reference '\(reference)' has an invalid id: it \(problem)")
                return
            }
        }
        checkTarget(typeName, targets: targets, reference: reference)
        resolveInBundle(reference, targets: targets)
    }

    mutating func checkTarget(_ type: String, targets: [String], reference: String) {
        guard !targets.isEmpty, !targets.contains("Resource"), !targets.contains(type) else { return }
        report(
            .error, "invalid",
            "the reference '\(reference)' points to a \(type), but this element may point to \(targets.joined(separator: ", ")) only"
        )
    }

    /// The resource type named by an absolute URL ending in `Type/id` or `Type/id/_history/vid`.
    func resourceType(inAbsoluteURL url: String) -> String? {
        var parts = Self.segments(of: url, omittingEmpty: true)
        if parts.count >= 4 && parts[parts.count - 2] == "_history" { parts.removeLast(2) }
        guard parts.count >= 2 else { return nil }
        let type = String(parts[parts.count - 2])
        return definitions.isResourceType(type) ? type : nil
    }

    /// Resolves a reference made inside a Bundle against the entries of the innermost one, where it
    /// stands: the Bundle's full URLs and `Type/id`s are known before its entries are walked.
    /// `isPlainRelative`: the reference is exactly `Type/id` (found when it was checked).
    private mutating func resolveInBundle(_ reference: String, targets: [String], isPlainRelative: Bool = false) {
        guard let last = bundleScopes.indices.last else { return }
        let resolved: String?
        if !isPlainRelative && (reference.startsWithBytes("urn:") || Self.isAbsoluteURL(reference)) {
            resolved = bundleScopes[last].typesByFullURL[reference]
            if resolved == nil && reference.startsWithBytes("urn:") {
                report(
                    .error, "not-found",
                    "the reference '\(reference)' does not resolve to any entry's fullUrl in the Bundle")
                return
            }
        } else {
            let relative =
                isPlainRelative || Self.plainRelativeSlash(reference) != nil
                ? reference : Self.segments(of: reference, omittingEmpty: true).prefix(2).joined(separator: "/")
            if let fullURL = bundleScopes[last].currentFullURL, Self.isAbsoluteURL(fullURL),
                let base = Self.serviceBase(of: fullURL)
            {
                resolved =
                    bundleScopes[last].typesByFullURL[base + relative]
                    ?? bundleScopes[last].typesByRelativeURL[relative]
            } else {
                resolved = bundleScopes[last].typesByRelativeURL[relative]
            }
        }
        if let resolved { checkTarget(resolved, targets: targets, reference: reference) }
    }

    /// The `/`-separated parts of a URL, split on bytes rather than Characters (this runs for every reference).
    static func segments(of text: String, omittingEmpty: Bool) -> [Substring] {
        text.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: omittingEmpty).map { Substring($0) }
    }

    /// Where the `/` of a `Type/id` reference is, when the reference is exactly that: a type made of
    /// ASCII letters starting upper case, and a valid id (1 to 64 of letters, digits, `-` and `.`).
    /// `nil` for every other form (those get the general checks).
    static func plainRelativeSlash(_ reference: String) -> String.UTF8View.Index? {
        // Over the contiguous bytes, the type and the id each in a loop of their own (stepping
        // `String.UTF8View` indices cost some 40 instructions a byte, one loop with a state 15).
        // The id's bytes are the id format's own class (`ASCIIBytes.idBytes`).
        let offset = reference.withUTF8Bytes { bytes -> Int? in
            guard let first = bytes.first, first &- UInt8(ascii: "A") < 26 else { return nil }
            var index = 1
            while index < bytes.count, ASCIIBytes.letters.contains(bytes[index]) { index += 1 }
            guard index < bytes.count, bytes[index] == UInt8(ascii: "/") else { return nil }
            let slash = index
            let idLength = bytes.count - slash - 1
            guard idLength >= 1 && idLength <= 64 else { return nil }
            return ASCIIBytes.idBytes.containsAll(UnsafeBufferPointer(rebasing: bytes[(slash + 1)...])) ? slash : nil
        }
        return offset.map { reference.utf8.index(reference.utf8.startIndex, offsetBy: $0) }
    }

    /// The `/`-separated parts of a relative reference, up to five (more than four is malformed
    /// anyway): `Type/id` costs no array of every part.
    static func relativeParts(of reference: String) -> [Substring] {
        var parts: [Substring] = []
        parts.reserveCapacity(4)
        let utf8 = reference.utf8
        var start = utf8.startIndex
        var index = utf8.startIndex
        while index < utf8.endIndex, parts.count < 4 {
            if utf8[index] == UInt8(ascii: "/") {
                parts.append(reference[start..<index])
                start = utf8.index(after: index)
            }
            index = utf8.index(after: index)
        }
        parts.append(reference[start...])
        return parts
    }

    /// Whether `reference` has a scheme followed by `://` (checked on bytes: this runs for every reference).
    static func isAbsoluteURL(_ reference: String) -> Bool {
        // `://` before any `?` or `#`: the colons found with `memchr` (most references have none, a
        // `urn:uuid:` two), then the bytes before the one that starts `://` looked through the same way.
        return reference.withUTF8Bytes { bytes in
            guard let base = bytes.baseAddress else { return false }
            var start = 0
            while start < bytes.count, let found = memchr(base + start, Int32(UInt8(ascii: ":")), bytes.count - start) {
                let colon = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
                if colon + 2 < bytes.count, bytes[colon + 1] == UInt8(ascii: "/"), bytes[colon + 2] == UInt8(ascii: "/")
                {
                    return memchr(base, Int32(UInt8(ascii: "?")), colon) == nil
                        && memchr(base, Int32(UInt8(ascii: "#")), colon) == nil
                }
                start = colon + 1
            }
            return false
        }
    }

    /// `http://server/fhir/` from `http://server/fhir/Patient/1`.
    static func serviceBase(of fullURL: String) -> String? {
        var parts = Self.segments(of: fullURL, omittingEmpty: false)
        if parts.count >= 4 && parts[parts.count - 2] == "_history" { parts.removeLast(2) }
        guard parts.count >= 3 else { return nil }
        return parts.dropLast(2).joined(separator: "/") + "/"
    }
}
