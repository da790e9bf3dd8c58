/// Memory for a stack of plain values that a run keeps in its own fields (a pointer, a capacity, a
/// top) so that pushing and popping touch no reference count: this object only owns the memory,
/// which is kept in a scratch pool between runs and replaced when a run outgrows it.
final class ScratchBuffer<Element: BitwiseCopyable>: @unchecked Sendable {
    // `@unchecked`: one run uses it at a time (it takes the buffer from a pool and gives it back).
    let pointer: UnsafeMutablePointer<Element>
    let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
        pointer = .allocate(capacity: capacity)
    }

    /// A buffer of at least `needed` elements (doubling this one's capacity), holding this one's
    /// first `count`.
    func grown(toHold needed: Int, keeping count: Int) -> ScratchBuffer {
        var capacity = max(self.capacity * 2, 1)
        while capacity < needed { capacity *= 2 }
        let larger = ScratchBuffer(capacity: capacity)
        larger.pointer.update(from: pointer, count: count)
        return larger
    }

    deinit { pointer.deallocate() }
}
