/// Per-element value counts of the objects a validation is walking, innermost last: a frame of
/// zeroes per object, over storage that only grows and is kept between runs.
///
/// Held by the run as plain fields (a pointer, a capacity, a top), with a class behind them only to
/// own the memory: a count added to after a member's validation is a store, where an `[Int]` in the
/// run checked its buffer for uniqueness at every member, and a class held by the run was retained
/// for every object walked.
struct CountStack {
    /// Owns the memory the stack's pointer addresses; replaced when the stack grows.
    final class Storage: @unchecked Sendable {
        // `@unchecked`: one run uses it at a time (a run takes it from a pool and gives it back).
        let pointer: UnsafeMutablePointer<Int>
        let capacity: Int

        init(capacity: Int) {
            self.capacity = capacity
            pointer = .allocate(capacity: capacity)
        }

        deinit { pointer.deallocate() }
    }

    private(set) var storage: Storage
    private var pointer: UnsafeMutablePointer<Int>
    private var capacity: Int
    /// Counts below this position belong to the objects being walked.
    private var top = 0

    /// An empty stack over `storage`.
    init(storage: Storage) {
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
        var grown = capacity * 2
        while grown < needed { grown *= 2 }
        let larger = Storage(capacity: grown)
        larger.pointer.update(from: pointer, count: top)
        storage = larger
        pointer = larger.pointer
        capacity = grown
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
