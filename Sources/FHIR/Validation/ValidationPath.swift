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
        // Bytes appended to one buffer (interpolating each segment made and joined strings: some
        // 2,700 instructions a path, and a Bundle of resources without narrative renders one each).
        var bytes: [UInt8] = []
        bytes.reserveCapacity(64)
        func name(_ text: String) {
            if !bytes.isEmpty { bytes.append(UInt8(ascii: ".")) }
            bytes.append(contentsOf: text.utf8)
        }
        for segment in segments {
            switch segment {
            case .root(let node): name(node.takeUnretainedValue().key)
            case .member(let reference):
                let slot = reference.takeUnretainedValue()
                if slot.isChoice {
                    name(slot.element.name)
                    bytes.append(contentsOf: ".ofType(".utf8)
                    bytes.append(contentsOf: slot.type.code.utf8)
                    bytes.append(UInt8(ascii: ")"))
                } else {
                    name(slot.name)
                }
            case .raw(let text): name(text)
            case .index(let index):
                bytes.append(UInt8(ascii: "["))
                bytes.append(contentsOf: String(index).utf8)
                bytes.append(UInt8(ascii: "]"))
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
