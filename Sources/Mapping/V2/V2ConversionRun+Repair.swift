import FHIR

/// A resource the message made, ready for the Bundle.
struct MadeResource {
    let label: String
    let type: String
    let id: String
    var resource: JSON
}

extension V2ConversionRun {
    /// The transaction Bundle, validated as a whole. Every element that keeps a resource from
    /// validating is taken out (an extension without its url, a telecom without a system, a diagnosis
    /// without its condition) and reported; a resource that cannot be valid from what the message holds
    /// (a required element no map fills) is left out and reported. A Bundle with nothing to repair is
    /// validated once. Returns the Bundle, the resources kept, and the Bundle's validation.
    func validatedBundle(
        _ made: [MadeResource], provenance: ([MadeResource]) -> MadeResource
    ) -> (JSON, [MadeResource], OperationOutcome) {
        var kept = made
        // Elements taken out of the Provenance, in order, applied again each time it is rebuilt.
        var provenanceRemovals: [[Step]] = []
        func record() -> MadeResource {
            var record = provenance(kept)
            for steps in provenanceRemovals {
                if let smaller = Self.removing(steps[...], from: record.resource) { record.resource = smaller }
            }
            return record
        }
        func assemble() -> JSON {
            let entries = (kept + [record()]).map { Self.entry($0.resource, type: $0.type, id: $0.id) }
            return .object(
                JSONObject([
                    ("resourceType", .string("Bundle")), ("type", .string("transaction")), ("entry", .array(entries)),
                ]))
        }
        var bundle = assemble()
        var outcome = converter.validator.validate(bundle)
        for _ in 0..<4 where !outcome.isValid {
            // The resources with errors are repaired one by one, each validated on its own.
            var firstErrors: [Int: (OperationOutcome.Issue, [Step])] = [:]
            for error in outcome.errors {
                guard let (entry, steps) = Self.entryLocation(error.expression), entry <= kept.count,
                    firstErrors[entry] == nil
                else { continue }
                firstErrors[entry] = (error, steps)
            }
            // Errors outside any resource (the Bundle's own rules) are not the message's to repair.
            guard !firstErrors.isEmpty else { break }
            var dropped: Set<Int> = []
            for (entry, (error, steps)) in firstErrors.sorted(by: { $0.key < $1.key }) {
                let current = entry == kept.count ? record() : kept[entry]
                var (repaired, removals) = repaired(current)
                if removals.isEmpty, repaired != nil {
                    // Valid on its own, not in the Bundle (a reference that resolves to nothing there).
                    let result = leavingOut(
                        steps, error: error, from: current.resource, label: current.label, type: current.type)
                    repaired = result?.resource
                    removals = result.map { [$0.removed] } ?? []
                }
                if entry == kept.count {
                    provenanceRemovals += removals
                } else if let repaired {
                    kept[entry].resource = repaired
                } else {
                    dropped.insert(entry)
                }
            }
            kept = kept.indices.filter { !dropped.contains($0) }.map { kept[$0] }
            bundle = assemble()
            outcome = converter.validator.validate(bundle)
        }
        return (bundle, kept, outcome)
    }

    typealias Step = (name: String, index: Int?)

    /// The resource validated on its own and every element that keeps it from validating taken out,
    /// with the steps to each one taken out; `nil` when the resource cannot be valid.
    func repaired(_ made: MadeResource) -> (JSON?, [[Step]]) {
        var resource = made.resource
        var removals: [[Step]] = []
        for _ in 0..<40 {
            guard let error = converter.validator.validate(resource).errors.first else { return (resource, removals) }
            guard
                let result = leavingOut(
                    Self.steps(error.expression), error: error, from: resource, label: made.label, type: made.type)
            else { return (nil, removals) }
            removals.append(result.removed)
            resource = result.resource
        }
        return (nil, removals)
    }

    /// The resource without what an error is about, reported; `nil` (the whole resource left out) when
    /// it is the resource itself or an element it requires. A missing required element: the element
    /// that lacks it goes; a wrong value: the value goes.
    func leavingOut(
        _ location: [Step], error: OperationOutcome.Issue, from resource: JSON, label: String, type: String
    ) -> (resource: JSON, removed: [Step])? {
        var steps = location
        let diagnostics = Self.inResource(error.diagnostics, type: type)
        if error.code == "required" || error.code == "invariant" && !error.expression.hasSuffix("]") {
            if error.code == "required", !steps.isEmpty { steps.removeLast() }
            while let last = steps.last, last.index == nil, steps.count > 1 { steps.removeLast() }
        }
        guard !steps.isEmpty, let smaller = Self.removing(steps[...], from: resource) else {
            issues.append("\(label) left out: \(diagnostics)")
            return nil
        }
        let place = steps.map { $0.name + ($0.index.map { "[\($0)]" } ?? "") }.joined(separator: ".")
        issues.append("\(label).\(place) left out: \(diagnostics)")
        return (smaller, steps)
    }

    /// Diagnostics about an entry of the Bundle told as about the resource (`Patient.name…`).
    static func inResource(_ diagnostics: String, type: String) -> String {
        guard diagnostics.hasPrefix("Bundle.entry["), let range = diagnostics.range(of: "].resource") else {
            return diagnostics
        }
        return type + diagnostics[range.upperBound...]
    }

    /// `Bundle.entry[3].resource.a[1].b` → (3, [(a, 1), (b, nil)]); `nil` outside an entry's resource.
    static func entryLocation(_ expression: String) -> (Int, [(name: String, index: Int?)])? {
        let prefix = "Bundle.entry["
        guard expression.hasPrefix(prefix) else { return nil }
        let rest = expression.dropFirst(prefix.count)
        guard let close = rest.firstIndex(of: "]"), let entry = Int(rest[..<close]) else { return nil }
        let after = rest[rest.index(after: close)...]
        guard after.hasPrefix(".resource") else { return nil }
        let path = after.dropFirst(".resource".count)
        guard path.isEmpty || path.hasPrefix(".") else { return nil }
        return (entry, path.isEmpty ? [] : steps("Resource" + path))
    }
}

extension V2ConversionRun {
    /// `Patient.a[1].b` → the steps after the resource type: (a, 1), (b, nil).
    static func steps(_ expression: String) -> [(name: String, index: Int?)] {
        expression.split(separator: ".").dropFirst().map { part in
            guard let open = part.firstIndex(of: "["), part.last == "]" else { return (String(part), nil) }
            return (String(part[..<open]), Int(part[part.index(after: open)..<part.index(before: part.endIndex)]))
        }
    }

    /// The JSON without the element at the steps; `nil` when there is nothing there to take out.
    ///
    /// A primitive's own id and extensions live in its `_name` sibling, item for item when it repeats:
    /// a step below a primitive goes there (an object emptied there becomes `null`, and a `_name` left
    /// with nothing goes), and taking out an item of a repeating primitive takes out its `_name` item too.
    static func removing(_ steps: ArraySlice<(name: String, index: Int?)>, from json: JSON) -> JSON? {
        guard let step = steps.first, case .object(let object) = json, let value = object[step.name] else { return nil }
        let rest = steps.dropFirst()
        let extrasName = "_" + step.name
        if !rest.isEmpty, isPrimitive(value, at: step.index), object[extrasName] != nil {
            return removing(ArraySlice([(extrasName, step.index)] + rest), from: json)
        }
        var members = object.map { ($0.key, $0.value) }
        let position = members.firstIndex { $0.0 == step.name }!
        if let index = step.index {
            guard case .array(var items) = value, index < items.count else { return nil }
            if rest.isEmpty {
                items.remove(at: index)
                // The repeating primitive's `_name` keeps the same length as its values.
                if let at = members.firstIndex(where: { $0.0 == extrasName }), case .array(var extras) = members[at].1,
                    index < extras.count
                {
                    extras.remove(at: index)
                    members[at].1 = .array(extras)
                }
            } else {
                guard let changed = removing(rest, from: items[index]) else { return nil }
                items[index] = step.name.hasPrefix("_") && changed == .object(JSONObject()) ? .null : changed
            }
            if items.isEmpty { members.remove(at: position) } else { members[position].1 = .array(items) }
        } else if rest.isEmpty {
            members.remove(at: position)
        } else {
            guard let changed = removing(rest, from: value) else { return nil }
            if step.name.hasPrefix("_") && changed == .object(JSONObject()) {
                members.remove(at: position)
            } else {
                members[position].1 = changed
            }
        }
        // `_name` items all null, or a `_name` array left beside a value that went: not kept.
        members.removeAll { member in
            guard member.0.hasPrefix("_"), case .array(let items) = member.1 else { return false }
            return items.isEmpty || items.allSatisfy { $0 == .null }
        }
        return .object(JSONObject(members))
    }

    /// Whether `value` (or its item at `index`) is a primitive, which holds no elements of its own.
    static func isPrimitive(_ value: JSON, at index: Int?) -> Bool {
        var item = value
        if let index {
            guard case .array(let items) = value, index < items.count else { return false }
            item = items[index]
        }
        switch item {
        case .object, .array: return false
        default: return true
        }
    }

}
