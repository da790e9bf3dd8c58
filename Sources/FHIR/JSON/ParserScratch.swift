/// What a parse works in, kept between parses: the two stacks, whose first storage (1–2 KB) cost
/// about 1,300 instructions to allocate and free (`posix_memalign`, which `UnsafeMutablePointer.allocate`
/// uses on Linux), 2 % of parsing an Observation; and the strings met before, so a key or value read
/// again is not made into a new `String`. Parsers on several threads each take one of their own.
final class ParserScratch: @unchecked Sendable {  // Unchecked: used by one parse at a time, handed over through `pool`.
    let members = MoveStack<JSONMember>()
    let values = MoveStack<JSON>()
    let strings = StringCache()

    private static let pool = ScratchPool { ParserScratch() }
    /// Scratches grown past this many elements by a big document are freed, not kept.
    private static let largest = 4096

    /// A scratch for one parse: a kept one when there is one.
    static func take() -> ParserScratch {
        pool.take()
    }

    /// Gives the scratch back once the parse is over, its stacks emptied.
    static func give(_ scratch: ParserScratch) {
        scratch.members.removeAll()
        scratch.values.removeAll()
        guard scratch.members.capacity <= largest, scratch.values.capacity <= largest else { return }
        pool.give(scratch)
    }
}
