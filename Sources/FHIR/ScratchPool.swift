import Synchronization

/// Working storage kept between uses, so that a parse or a validation does not allocate its stacks
/// anew: up to `limit` scratches, one handed out per use (threads working at once each take their own).
final class ScratchPool<Scratch: Sendable>: Sendable {
    private let kept = Mutex<[Scratch]>([])
    private let limit: Int
    private let make: @Sendable () -> Scratch

    /// A pool keeping up to `limit` scratches, making new ones with `make`.
    init(limit: Int = 16, make: @escaping @Sendable () -> Scratch) {
        self.limit = limit
        self.make = make
    }

    /// A kept scratch, or a new one.
    func take() -> Scratch {
        kept.withLock { $0.popLast() } ?? make()
    }

    /// Keeps `scratch` for a later use, unless the pool holds `limit` already (then it is freed).
    func give(_ scratch: consuming Scratch) {
        let scratch = scratch
        kept.withLock { kept in
            if kept.count < limit { kept.append(scratch) }
        }
    }
}
