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
        // Two passes: the length, then the bytes written once into the string's own storage (a byte
        // array appended to and decoded into a string cost some 2,000 instructions a path, and every
        // entry of a converted Bundle has one, for its dom-6 warning).
        var counter = Renderer(buffer: nil)
        render(into: &counter)
        return String(unsafeUninitializedCapacity: counter.offset) { buffer in
            var writer = Renderer(buffer: buffer)
            render(into: &writer)
            return writer.offset
        }
    }

    private func render(into renderer: inout Renderer) {
        for segment in segments {
            switch segment {
            case .root(let node): renderer.name(node.takeUnretainedValue().key)
            case .member(let reference):
                let slot = reference.takeUnretainedValue()
                if slot.isChoice {
                    renderer.name(slot.element.name)
                    renderer.text(".ofType(")
                    renderer.text(slot.type.code)
                    renderer.byte(UInt8(ascii: ")"))
                } else {
                    renderer.name(slot.name)
                }
            case .raw(let text): renderer.name(text)
            case .index(let index):
                renderer.byte(UInt8(ascii: "["))
                renderer.number(index)
                renderer.byte(UInt8(ascii: "]"))
            }
        }
    }

    /// Counts the bytes of a path (no buffer) or writes them (a buffer as long as the count).
    private struct Renderer {
        let buffer: UnsafeMutableBufferPointer<UInt8>?
        var offset = 0

        mutating func byte(_ byte: UInt8) {
            buffer?[offset] = byte
            offset += 1
        }

        mutating func text(_ text: String) {
            text.withUTF8Bytes { bytes in
                if let buffer, let source = bytes.baseAddress, !bytes.isEmpty {
                    (buffer.baseAddress! + offset).initialize(from: source, count: bytes.count)
                }
                offset += bytes.count
            }
        }

        /// A name, after a `.` unless it is the first.
        mutating func name(_ name: String) {
            if offset > 0 { byte(UInt8(ascii: ".")) }
            text(name)
        }

        mutating func number(_ number: Int) {
            if number < 0 { byte(UInt8(ascii: "-")) }
            var digits = 1
            var rest = number.magnitude / 10
            while rest > 0 {
                digits += 1
                rest /= 10
            }
            if let buffer {
                var value = number.magnitude
                for position in stride(from: offset + digits - 1, through: offset, by: -1) {
                    buffer[position] = UInt8(ascii: "0") + UInt8(value % 10)
                    value /= 10
                }
            }
            offset += digits
        }
    }
}
