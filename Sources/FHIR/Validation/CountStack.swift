/// Per-element value counts of the objects a validation is walking, innermost last: a frame of
/// zeroes per object, over storage that only grows and is kept between runs.
///
/// Held by the run as plain fields (a pointer, a capacity, a top) over a `ScratchBuffer`: a count
/// added to after a member's validation is a store, where an `[Int]` in the run checked its buffer
/// for uniqueness at every member, and a class held by the run was retained for every object walked.
/// A copy shares the memory, not the frames: one copy at a time walks (the run is never copied while
/// it validates).
struct CountStack {
    private(set) var storage: ScratchBuffer<Int>
    private var pointer: UnsafeMutablePointer<Int>
    private var capacity: Int
    /// Counts below this position belong to the objects being walked.
    private var top = 0

    /// An empty stack over `storage`.
    init(storage: ScratchBuffer<Int>) {
        self.storage = storage
        pointer = storage.pointer
        capacity = storage.capacity
    }

    /// Starts a frame of `count` zeroes for an object; its first position.
    mutating func push(_ count: Int) -> Int {
        let base = top
        if base + count > capacity { grow(to: base + count) }
        (pointer + base).update(repeating: 0, count: count)
        top = base + count
        return base
    }

    private mutating func grow(to needed: Int) {
        storage = storage.grown(toHold: needed, keeping: top)
        pointer = storage.pointer
        capacity = storage.capacity
    }

    /// Ends the frame that starts at `base` (and any left above it).
    mutating func pop(to base: Int) {
        precondition(base >= 0 && base <= top, "count frames popped out of order")
        top = base
    }

    /// Adds `count` at `position`, inside a frame.
    func add(_ count: Int, at position: Int) {
        precondition(position >= 0 && position < top, "count outside the frames")
        pointer[position] += count
    }

    /// The count at `position`, inside a frame.
    subscript(position: Int) -> Int {
        precondition(position >= 0 && position < top, "count outside the frames")
        return pointer[position]
    }
}
