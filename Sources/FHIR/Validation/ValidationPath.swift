/// The location of the element being validated, kept as segments and rendered only when an issue is raised.
///
/// Segments refer to the definitions' slots without retaining them (the run holds the definitions), so
/// walking a resource moves no reference counts.
struct ValidationPath {
    enum Segment {
        /// A resource type at the root.
        case root(Unmanaged<ObjectNode>)
        /// A member; a choice member renders as `name.ofType(Type)`.
        case member(Unmanaged<ObjectNode.Slot>)
        case index(Int)
        /// A name with no slot: unknown members, the root of an unknown type, members named by rules.
        case raw(String)
    }

    var segments: [Segment] = []

    mutating func push(_ segment: Segment) { segments.append(segment) }
    mutating func pop() { segments.removeLast() }

    /// FHIRPath text such as `Bundle.entry[0].resource.name[1].given[0]`.
    var rendered: String {
        var text = ""
        for segment in segments {
            switch segment {
            case .root(let node):
                let name = node.takeUnretainedValue().key
                text += text.isEmpty ? name : ".\(name)"
            case .member(let reference):
                let slot = reference.takeUnretainedValue()
                let name = slot.isChoice ? "\(slot.element.name).ofType(\(slot.type.code))" : slot.name
                text += text.isEmpty ? name : ".\(name)"
            case .raw(let name): text += text.isEmpty ? name : ".\(name)"
            case .index(let index): text += "[\(index)]"
            }
        }
        return text
    }
}
