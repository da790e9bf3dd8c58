/// A stack that hands its top elements out as an exact-size array by moving them, so building a
/// container costs one allocation and no reference-count traffic. The parser's scratch space.
final class MoveStack<Element> {
    private var storage: UnsafeMutablePointer<Element>
    private(set) var capacity: Int
    private(set) var count = 0

    init(capacity: Int = 64) {
        self.capacity = capacity
        storage = .allocate(capacity: capacity)
    }

    deinit {
        storage.deinitialize(count: count)
        storage.deallocate()
    }

    func push(_ element: consuming Element) {
        if count == capacity {
            let grown = UnsafeMutablePointer<Element>.allocate(capacity: capacity * 2)
            grown.moveInitialize(from: storage, count: count)
            storage.deallocate()
            storage = grown
            capacity *= 2
        }
        (storage + count).initialize(to: element)
        count += 1
    }

    /// Whether any element from `base` up satisfies `predicate`.
    func contains(from base: Int, where predicate: (borrowing Element) -> Bool) -> Bool {
        for index in base..<count where predicate(storage[index]) { return true }
        return false
    }

    /// The elements from `base` up, moved out in order; the stack shrinks back to `base`.
    ///
    /// Reserved and appended rather than `Array(unsafeUninitializedCapacity:)`, whose buffer comes from
    /// an unspecialized initializer that looks the storage class's metadata up at run time on every
    /// call (10 % of parsing, Swift 6.3).
    func popArray(from base: Int) -> [Element] {
        var array: [Element] = []
        array.reserveCapacity(count - base)
        for index in base..<count { array.append((storage + index).move()) }
        count = base
        return array
    }

    /// Drops every element (what a failed parse left behind).
    func removeAll() {
        storage.deinitialize(count: count)
        count = 0
    }

    /// A copy of the elements from `base` up; the stack is unchanged.
    func copyArray(from base: Int) -> [Element] {
        Array(UnsafeBufferPointer(start: storage + base, count: count - base))
    }
}
