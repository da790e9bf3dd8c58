import FHIR

/// The high-risk attributes compared value by value when a record differs: FHIRPath expressions per
/// resource type (`*` for every type). By default identifiers everywhere, allergies (code,
/// criticality, status) and medications (medication, dose, status).
public struct FieldRules: Sendable, Hashable, Codable {
    /// Resource type (or `*`) → element expressions, evaluated on the resource.
    public var rules: [String: [String]]

    public init(_ rules: [String: [String]]) { self.rules = rules }

    public static let standard = FieldRules([
        "*": ["identifier"],
        "AllergyIntolerance": ["code", "criticality", "clinicalStatus", "verificationStatus", "type", "category"],
        "MedicationRequest": ["medication", "dosageInstruction", "status", "intent"],
        "MedicationStatement": ["medication", "dosage", "status"],
    ])

    /// The expressions for a type, most specific last, without repeats.
    public func expressions(for type: String) -> [String] {
        var seen = Set<String>()
        return ((rules["*"] ?? []) + (rules[type] ?? [])).filter { seen.insert($0).inserted }
    }
}

/// One attribute that differs: what the legacy side (through the mapping) makes of it, what the
/// target holds, and the legacy columns it comes from with their values.
public struct FieldDifference: Sendable, Hashable, Codable {
    public var element: String
    /// Canonical JSON of each value, in order.
    public var legacy: [String]
    public var target: [String]
    /// The source columns behind the element and their values in the legacy row.
    public var source: [String: String]

    public init(element: String, legacy: [String], target: [String], source: [String: String]) {
        self.element = element
        self.legacy = legacy
        self.target = target
        self.source = source
    }
}

extension FieldRules {
    /// The rules' attributes that differ between two versions of a resource. An expression that
    /// cannot be evaluated is reported as differing, with the error as its value, never skipped.
    func differences(
        type: String, legacy: JSON, target: JSON, definitions: FHIRDefinitions, cache: FHIRPathCache
    ) -> [(element: String, legacy: [String], target: [String])] {
        var found: [(String, [String], [String])] = []
        for text in expressions(for: type) {
            let legacyValues = Self.values(text, on: legacy, definitions: definitions, cache: cache)
            let targetValues = Self.values(text, on: target, definitions: definitions, cache: cache)
            if legacyValues != targetValues { found.append((text, legacyValues, targetValues)) }
        }
        return found
    }

    static func values(
        _ text: String, on resource: JSON, definitions: FHIRDefinitions, cache: FHIRPathCache
    )
        -> [String]
    {
        do {
            let expression = try cache.expression(text)
            return try expression.evaluate(on: resource, definitions: definitions).map {
                JSONWriter(layout: .canonical).string($0.json)
            }
        } catch {
            return ["(cannot evaluate \(text): \(error))"]
        }
    }

    /// The top-level elements whose values differ (`meta` left out: it is the store's).
    static func changedElements(legacy: JSON, target: JSON) -> [String] {
        let left = legacy.objectValue ?? JSONObject()
        let right = target.objectValue ?? JSONObject()
        let keys = Set(left.keys + right.keys).subtracting(["meta"])
        return keys.filter { key in
            left[key].map { JSONWriter(layout: .canonical).string($0) }
                != right[key].map { JSONWriter(layout: .canonical).string($0) }
        }.sorted()
    }
}
