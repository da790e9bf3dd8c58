/// The common invariants of R4 that a glance at the value shows to hold: a `Reference` whose reference
/// does not start with `#` (ref-1), a resource with nothing contained (dom-5) or with a narrative
/// (dom-6), a `Quantity` without a code (qty-3), a `ContactPoint` without a value (cpt-2), a `Period`
/// missing a bound (per-1). Only the verdict "holds" is taken from the glance; every other value is
/// evaluated by its FHIRPath as before, so the outcome is the same either way (tested on the
/// official examples and probes aimed at each case).
enum InvariantShortcut: Sendable {
    case none
    /// ref-1: `reference.startsWith('#').not() or …`
    case localReferenceOnly
    /// dom-5: `contained.meta.security.empty()`
    case containedOnly
    /// dom-6: `text.`div`.exists()`
    case narrative
    /// qty-3 and cpt-2: `code.empty() or system.exists()` (`value` for cpt-2)
    case systemWith(String)
    /// per-1: `start.hasValue().not() or end.hasValue().not() or (start <= end)`
    case bothBounds

    /// The shortcut for a constraint: by key, and only while its expression is the one R4 gives.
    init(_ constraint: Constraint) {
        switch (constraint.key, constraint.expression) {
        case (
            "ref-1",
            "reference.startsWith('#').not() or (reference.substring(1).trace('url') in %rootResource.contained.id.trace('ids'))"
        ):
            self = .localReferenceOnly
        case ("dom-5", "contained.meta.security.empty()"): self = .containedOnly
        case ("dom-6", "text.`div`.exists()"): self = .narrative
        case ("qty-3", "code.empty() or system.exists()"): self = .systemWith("code")
        case ("cpt-2", "value.empty() or system.exists()"): self = .systemWith("value")
        case ("per-1", "start.hasValue().not() or end.hasValue().not() or (start <= end)"): self = .bothBounds
        default: self = .none
        }
    }

    /// Whether the invariant plainly holds on `object` (false: evaluate it).
    func holds(on object: JSONObject) -> Bool {
        switch self {
        case .none: return false
        case .localReferenceOnly:
            guard let reference = object["reference"] else { return object["_reference"] == nil }
            guard case .string(let text) = reference else { return false }
            return text.utf8.first != UInt8(ascii: "#")
        case .containedOnly: return object["contained"] == nil
        case .narrative:
            guard case .object(let text)? = object["text"], case .string? = text["div"] else { return false }
            return true
        case .systemWith(let member):
            if object[member] == nil && object["_" + member] == nil { return true }
            guard case .string? = object["system"] else { return false }
            return true
        case .bothBounds:
            return object["start"] == nil || object["end"] == nil
        }
    }
}
