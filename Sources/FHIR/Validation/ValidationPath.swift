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

    /// A segment as the stack keeps it: a `raw` name by its position in `rawNames`, so that a segment
    /// holds nothing counted and pushing or popping one is a store (an array of `Segment`s copied and
    /// destroyed each, and checked its buffer for uniqueness at every push).
    enum Stored {
        case root(Unmanaged<ObjectNode>)
        case member(Unmanaged<ObjectNode.Slot>)
        case index(Int)
        case raw(Int)
    }

    /// The segments, outermost first, as plain fields over the storage's memory: a push or a pop
    /// is a store and a count, touching no reference count. A copy shares the memory, so only one
    /// copy pushes (a location kept for later is `segments`, a copy of its own).
    private(set) var storage: ScratchBuffer<Stored>
    private var pointer: UnsafeMutablePointer<Stored>
    private var capacity: Int
    private var count = 0
    /// The names of the `raw` segments on the path, in order.
    private var rawNames: [String] = []

    /// An empty path over `storage`.
    init(storage: ScratchBuffer<Stored> = ScratchBuffer(capacity: 32)) {
        self.storage = storage
        pointer = storage.pointer
        capacity = storage.capacity
    }

    /// A path of these segments (a location kept for a later issue).
    init(segments: [Segment]) {
        self.init(storage: ScratchBuffer(capacity: max(segments.count, 1)))
        for segment in segments { push(segment) }
    }

    @inline(__always)
    mutating func push(_ segment: Segment) {
        if count == capacity { grow() }
        switch segment {
        case .root(let node): pointer[count] = .root(node)
        case .member(let slot): pointer[count] = .member(slot)
        case .index(let index): pointer[count] = .index(index)
        case .raw(let name):
            pointer[count] = .raw(rawNames.count)
            rawNames.append(name)
        }
        count += 1
    }

    private mutating func grow() {
        storage = storage.grown(toHold: count + 1, keeping: count)
        pointer = storage.pointer
        capacity = storage.capacity
    }

    @inline(__always)
    mutating func pop() {
        precondition(count > 0, "path popped past its root")
        count -= 1
        if case .raw = pointer[count] { rawNames.removeLast() }
    }

    /// The segments as they stand (a copy, for a location kept for later).
    var segments: [Segment] {
        (0..<count).map { position in
            switch pointer[position] {
            case .root(let node): .root(node)
            case .member(let slot): .member(slot)
            case .index(let index): .index(index)
            case .raw(let name): .raw(rawNames[name])
            }
        }
    }

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
        for position in 0..<count {
            switch pointer[position] {
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
            case .raw(let name): renderer.name(rawNames[name])
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
