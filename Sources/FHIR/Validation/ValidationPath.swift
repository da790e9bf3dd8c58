/// The location of the element being validated, kept as segments and rendered only when an issue is raised.
struct ValidationPath {
    enum Segment {
        case root(String)
        case member(String)
        case index(Int)
        case ofType(String)
    }

    var segments: [Segment] = []

    mutating func push(_ segment: Segment) { segments.append(segment) }
    mutating func pop() { segments.removeLast() }

    /// FHIRPath text such as `Bundle.entry[0].resource.name[1].given[0]`.
    var rendered: String {
        var text = ""
        for segment in segments {
            switch segment {
            case .root(let name): text += text.isEmpty ? name : ".\(name)"
            case .member(let name): text += ".\(name)"
            case .index(let index): text += "[\(index)]"
            case .ofType(let type): text += ".ofType(\(type))"
            }
        }
        return text
    }
}
