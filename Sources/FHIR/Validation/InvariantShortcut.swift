/// What a glance at a value's JSON settles about an invariant, without evaluating its FHIRPath: most
/// invariants are built from `exists()`, `empty()` and `hasValue()` of members joined by `or`, `and`
/// and `implies` (`low.exists() or high.exists() or text.exists()`), and a glance at which members
/// the object holds decides them in the common case. Whatever the glance cannot settle is evaluated
/// by its FHIRPath as before, so the outcome is the same either way (tested: every invariant, on the
/// official examples, the broken resources and probes aimed at the corners of each kind of glance).
///
/// The glance is a list of steps in prefix order over a table of member names (no tree of boxes to
/// retain while reading it); `or` and `and` stop at the first operand that settles them.
final class InvariantShortcut: Sendable {
    /// What a glance found.
    enum Verdict: Equatable {
        case holds, fails, unknown
    }

    /// A member name the glance looks for, with what the lookups need ready. A class, so that reading
    /// one from the table retains one reference rather than copying two strings and an array.
    final class Member: Sendable {
        let name: String
        /// `_name`: a primitive's id and extensions.
        let underscored: String
        /// Whether some element of the definitions is a choice of this name (`value` for `value[x]`),
        /// so that `valueQuantity` counts as `value` too.
        let isChoice: Bool
        /// The name's UTF-8 bytes, to tell a choice member (`valueQuantity`) by its spelling.
        let nameBytes: [UInt8]

        init(name: String, isChoice: Bool) {
            self.name = name
            self.underscored = "_" + name
            self.isChoice = isChoice
            self.nameBytes = Array(name.utf8)
        }
    }

    enum Step: Sendable {
        /// `a.b.c.exists()`: members `start..<start+count`, each holding one object, then a value.
        case exists(start: Int, count: Int)
        /// `name….empty()` through steps that keep an empty collection empty (`where`, `ofType`, members):
        /// true when the object has no `name` at all; otherwise unknown.
        case emptyFrom(Int)
        /// `name.hasValue()`: false when the object has no `name`; true when it holds one primitive.
        case hasValue(Int)
        /// `name.startsWith(prefixes[1])`, on a member holding a string.
        case startsWith(Int, prefix: Int)
        /// An operand no glance decides.
        case unknown
        /// The next operand negated.
        case not
        /// The next `count` operands joined; `size` steps in all, this one included.
        case or(count: Int, size: Int), and(count: Int, size: Int)
        /// The next two operands.
        case implies
    }

    let steps: [Step]
    let members: [Member]
    private let prefixes: [String]

    /// The glance for a compiled constraint; an empty one when its expression has no part a glance decides.
    /// `choiceNames`: the names of the definitions' choice elements, without `[x]`.
    init(_ expression: FHIRPathExpression?, choiceNames: Set<String>) {
        var builder = Builder(choiceNames: choiceNames)
        if let expression, builder.glance(expression.root) {
            steps = builder.steps
            members = builder.members
            prefixes = builder.prefixes
        } else {
            steps = []
            members = []
            prefixes = []
        }
    }

    /// The invariant's value on `object` when a glance settles it. `node` describes the object (its
    /// choice elements are the ones to look for under a type's name); `nil` assumes any name may be one.
    /// `presence`: which of the node's elements the object holds, when validation has just found out.
    func verdict(
        on object: JSONObject, node: ObjectNode?, presence: MemberPresence = .unknown, definitions: FHIRDefinitions
    ) -> Verdict {
        guard !steps.isEmpty else { return .unknown }
        return verdict(at: 0, object, node, presence, definitions).verdict
    }

    /// The verdict of the operand starting at `position`, and the position after it. (The object, its
    /// node and the definitions are passed one by one: gathered in a struct, each glance retained and
    /// released all three.)
    private func verdict(
        at position: Int, _ object: JSONObject, _ node: ObjectNode?, _ presence: MemberPresence,
        _ definitions: FHIRDefinitions
    ) -> (verdict: Verdict, next: Int) {
        switch steps[position] {
        case .exists(let start, let count):
            return (exists(start..<(start + count), object, node, presence, definitions), position + 1)
        case .emptyFrom(let index):
            return (lacks(members[index], object, node, presence) ? .holds : .unknown, position + 1)
        case .hasValue(let index):
            return (hasValue(members[index], object, node), position + 1)
        case .startsWith(let index, let prefix):
            guard case .string(let text)? = object[members[index].name] else { return (.unknown, position + 1) }
            return (text.hasPrefix(prefixes[prefix]) ? .holds : .fails, position + 1)
        case .unknown:
            return (.unknown, position + 1)
        case .not:
            let (operand, next) = verdict(at: position + 1, object, node, presence, definitions)
            switch operand {
            case .holds: return (.fails, next)
            case .fails: return (.holds, next)
            case .unknown: return (.unknown, next)
            }
        case .or(let count, let size), .and(let count, let size):
            let isOr = if case .or = steps[position] { true } else { false }
            // `or` is settled by an operand that holds, `and` by one that fails.
            let settling: Verdict = isOr ? .holds : .fails
            var joined: Verdict = isOr ? .fails : .holds
            var next = position + 1
            for _ in 0..<count {
                let operand: Verdict
                (operand, next) = verdict(at: next, object, node, presence, definitions)
                if operand == settling { return (settling, position + size) }
                if operand == .unknown { joined = .unknown }
            }
            return (joined, next)
        case .implies:
            // `false implies x` and `x implies true` are true whatever x is, empty included.
            let (premise, middle) = verdict(at: position + 1, object, node, presence, definitions)
            let (conclusion, next) = verdict(at: middle, object, node, presence, definitions)
            if premise == .fails || conclusion == .holds { return (.holds, next) }
            return (premise == .holds && conclusion == .fails ? .fails : .unknown, next)
        }
    }

    // MARK: Glancing at the JSON

    private func exists(
        _ chain: Range<Int>, _ object: JSONObject, _ root: ObjectNode?, _ presence: MemberPresence,
        _ definitions: FHIRDefinitions
    ) -> Verdict {
        // The first member missing from the object by what validation found: no member to look for.
        if presence.lacks(members[chain.lowerBound], in: root) == true { return .fails }
        if chain.count == 1 { return exists(members[chain.lowerBound], object, root, presence) }
        var current = object
        var node = root
        for position in chain {
            let member = members[position]
            if position == chain.upperBound - 1 { return exists(member, current, node, .unknown) }
            switch current[member.name] {
            case nil:
                return lacks(member, current, node, position == chain.lowerBound ? presence : .unknown)
                    ? .fails : .unknown
            case .object(let child)?:
                current = child
                // The child's node, when the definitions describe it.
                if case .complex(let index)? = node?.slot(named: member.name)?.kind {
                    node = definitions.nodeList[index]
                } else {
                    node = nil
                }
            case .string?, .number?, .bool?, .array?, .null?:
                // Through a primitive or an array: the interpreter answers.
                return .unknown
            }
        }
        return .unknown
    }

    /// `exists()` of one member of `object`: only the value's shape matters, read in place rather
    /// than copied out of the object (a retain and a release of the object's members and of the value).
    private func exists(
        _ member: Member, _ object: JSONObject, _ node: ObjectNode?, _ presence: MemberPresence
    )
        -> Verdict
    {
        switch object.valueShape(forKey: member.name) {
        case nil: lacks(member, object, node, presence) ? .fails : .unknown
        case .object?, .primitive?, .filledArray?: .holds
        case .null?, .otherArray?: .unknown
        }
    }

    private func hasValue(_ member: Member, _ object: JSONObject, _ node: ObjectNode?) -> Verdict {
        switch object.valueShape(forKey: member.name) {
        case .primitive?: return .holds
        case nil:
            // Its `_name` alone (an id and extensions) has no value either.
            return hasChoice(member, object, node) ? .unknown : .fails
        default: return .unknown
        }
    }

    /// Whether `object` holds nothing FHIRPath would find under the member: not the member, not its
    /// `_name`, and no choice member spelt with a type (`valueQuantity`).
    ///
    /// One pass over the members' bytes: `name` and `_name` by their length and bytes, a choice by its
    /// spelling first and only then through the node's slots.
    private func lacks(_ member: Member, _ object: JSONObject, _ node: ObjectNode?, _ presence: MemberPresence) -> Bool
    {
        if let known = presence.lacks(member, in: node) { return known }
        let choices = member.isChoice && (node?.choiceNames.contains(member.name) ?? true)
        if choices && node == nil { return false }  // Without a node, any member might be one.
        let name = member.nameBytes
        return object.members.withUnsafeBufferPointer { members in
            for index in members.indices {
                let key = members[index].key
                let look: Look =
                    key.utf8.withContiguousStorageIfAvailable { bytes in
                        let start = bytes.first == UInt8(ascii: "_") ? 1 : 0
                        if bytes.count - start == name.count {
                            for offset in name.indices where bytes[start + offset] != name[offset] { return .nothing }
                            return .found
                        }
                        return choices && Self.spellsChoice(bytes, from: start, name: name) ? .spelt : .nothing
                    } ?? (key == member.name || key == member.underscored ? .found : choices ? .spelt : .nothing)
                switch look {
                case .nothing: continue
                case .found: return false
                case .spelt:
                    // Safe: `.spelt` only when `choices`, which needs a node here.
                    if Self.isChoice(key, of: member, in: node!) { return false }
                }
            }
            return true
        }
    }

    /// What a member's key is to the member a glance looks for.
    private enum Look {
        /// Another element.
        case nothing
        /// The member itself, or its `_name`.
        case found
        /// Spelt as the member's choice with a type (`valueQuantity`): the node's slots decide.
        case spelt
    }

    /// Whether a member of `object` spells the choice `member` with a type (`valueQuantity` for
    /// `value`): found through the node's slots, as FHIRPath finds choice members. Without a node,
    /// any member might.
    private func hasChoice(_ member: Member, _ object: JSONObject, _ node: ObjectNode?) -> Bool {
        guard member.isChoice else { return false }
        guard let node else { return true }
        guard node.choiceNames.contains(member.name) else { return false }
        return object.members.withUnsafeBufferPointer { members in
            members.contains { entry in
                // Only a key spelt `name` + a capital can be one: the slot lookup runs for those alone.
                let spelt =
                    entry.key.utf8.withContiguousStorageIfAvailable {
                        Self.spellsChoice($0, from: 0, name: member.nameBytes)
                    } ?? true
                return spelt && Self.isChoice(entry.key, of: member, in: node)
            }
        }
    }

    /// Whether `key` (or, for `_key`, `key`) is a choice member of `member`'s element in `node`.
    private static func isChoice(_ key: String, of member: Member, in node: ObjectNode) -> Bool {
        let name = key.firstByte == UInt8(ascii: "_") ? String(key.dropFirst()) : key
        guard let slot = node.slot(named: name) else { return false }
        return slot.isChoice && slot.element.name == member.name
    }

    /// Whether `key` from `start` is `name` followed by a capital letter (`valueQuantity` for `value`).
    private static func spellsChoice(_ key: UnsafeBufferPointer<UInt8>, from start: Int, name: [UInt8]) -> Bool {
        guard key.count > start + name.count else { return false }
        let capital = key[start + name.count]
        guard capital >= UInt8(ascii: "A") && capital <= UInt8(ascii: "Z") else { return false }
        for index in name.indices where key[start + index] != name[index] { return false }
        return true
    }

    // MARK: Reading the expression

    /// Turns an expression into steps; `glance` answers whether the part read decides anything.
    private struct Builder {
        let choiceNames: Set<String>
        var steps: [Step] = []
        var members: [Member] = []
        var prefixes: [String] = []

        /// Appends the steps of `node`, or nothing (and false) when no part of it can be glanced at.
        mutating func glance(_ node: FHIRPathNode) -> Bool {
            switch node.kind {
            case .binary:
                guard let left = node.target, let right = node.other else { return false }
                switch node.op {
                case .or, .and:
                    var operands: [FHIRPathNode] = []
                    Self.collect(node, node.op, into: &operands)
                    let mark = (steps.count, members.count, prefixes.count)
                    steps.append(.unknown)  // the join, written once its size is known
                    var decided = false
                    for operand in operands {
                        if glance(operand) { decided = true } else { steps.append(.unknown) }
                    }
                    guard decided else { return rollback(to: mark) }
                    let size = steps.count - mark.0
                    steps[mark.0] =
                        node.op == .or
                        ? .or(count: operands.count, size: size) : .and(count: operands.count, size: size)
                    return true
                case .greaterThan:
                    // `(identifier.count() + name.count()) > 0` (org-1, ipn-1, cpb-2): counts are never
                    // negative, so their sum is above zero exactly when one of them is, that is when
                    // `identifier.exists() or name.exists()`.
                    guard case .integer(0)? = right.literalValue?.system else { return false }
                    var terms: [FHIRPathNode] = []
                    Self.collect(left, .add, into: &terms)
                    let chains = terms.map { term -> [String]? in
                        guard term.kind == .function, term.function == .count, term.arguments.isEmpty,
                            let target = term.target
                        else { return nil }
                        return Self.memberChain(target)
                    }
                    guard !chains.isEmpty, chains.allSatisfy({ $0 != nil }) else { return false }
                    let start = steps.count
                    if chains.count > 1 { steps.append(.unknown) }  // the `or`, written below
                    for names in chains.compactMap({ $0 }) {
                        steps.append(.exists(start: members.count, count: names.count))
                        names.forEach { add($0) }
                    }
                    if chains.count > 1 { steps[start] = .or(count: chains.count, size: steps.count - start) }
                    return true
                case .implies:
                    let mark = (steps.count, members.count, prefixes.count)
                    steps.append(.implies)
                    let condition = glance(left)
                    if !condition { steps.append(.unknown) }
                    let consequence = glance(right)
                    if !consequence { steps.append(.unknown) }
                    guard condition || consequence else { return rollback(to: mark) }
                    return true
                default: return false
                }
            case .function:
                guard let target = node.target, node.function == .startsWith || node.arguments.isEmpty else {
                    return false
                }
                switch node.function {
                case .not:
                    let mark = (steps.count, members.count, prefixes.count)
                    steps.append(.not)
                    guard glance(target) else { return rollback(to: mark) }
                    return true
                case .exists:
                    guard let names = Self.memberChain(target) else { return false }
                    steps.append(.exists(start: members.count, count: names.count))
                    names.forEach { add($0) }
                    return true
                case .empty:
                    if let names = Self.memberChain(target) {
                        steps.append(.not)
                        steps.append(.exists(start: members.count, count: names.count))
                        names.forEach { add($0) }
                        return true
                    }
                    guard let name = Self.emptyKeepingRoot(target) else { return false }
                    steps.append(.emptyFrom(add(name)))
                    return true
                case .hasValue:
                    guard let names = Self.memberChain(target), names.count == 1 else { return false }
                    steps.append(.hasValue(add(names[0])))
                    return true
                case .startsWith:
                    guard let names = Self.memberChain(target), names.count == 1, node.arguments.count == 1,
                        case .string(let prefix)? = node.arguments[0].literalValue?.system
                    else { return false }
                    prefixes.append(prefix)
                    steps.append(.startsWith(add(names[0]), prefix: prefixes.count - 1))
                    return true
                default: return false
                }
            default: return false
            }
        }

        private mutating func rollback(to mark: (Int, Int, Int)) -> Bool {
            steps.removeSubrange(mark.0...)
            members.removeSubrange(mark.1...)
            prefixes.removeSubrange(mark.2...)
            return false
        }

        @discardableResult
        private mutating func add(_ name: String) -> Int {
            members.append(Member(name: name, isChoice: choiceNames.contains(name)))
            return members.count - 1
        }

        /// The operands of a run of one operator (`a or b or c` parses as `(a or b) or c`).
        private static func collect(_ node: FHIRPathNode, _ op: FHIRPathOperator, into operands: inout [FHIRPathNode]) {
            guard node.kind == .binary, node.op == op, let left = node.target, let right = node.other else {
                operands.append(node)
                return
            }
            collect(left, op, into: &operands)
            collect(right, op, into: &operands)
        }

        /// `a.b.c` from the focus: the member names, or `nil` for anything else (a type name, a function).
        static func memberChain(_ node: FHIRPathNode) -> [String]? {
            guard node.kind == .member, isMemberName(node.name) else { return nil }
            guard let target = node.target else { return [node.name] }
            return memberChain(target).map { $0 + [node.name] }
        }

        /// The first member of a path whose steps all give nothing from nothing, or `nil`.
        static func emptyKeepingRoot(_ node: FHIRPathNode) -> String? {
            switch node.kind {
            case .member:
                guard isMemberName(node.name) else { return nil }
                guard let target = node.target else { return node.name }
                return emptyKeepingRoot(target)
            case .function:
                guard keepsEmpty.contains(node.function), let target = node.target else { return nil }
                return emptyKeepingRoot(target)
            case .indexer:
                return node.target.flatMap(emptyKeepingRoot)
            case .typeTest where node.isCast:
                return node.target.flatMap(emptyKeepingRoot)
            default:
                return nil
            }
        }

        /// Functions that give nothing from nothing, whatever their arguments.
        static let keepsEmpty: Set<FHIRPathFunction> = [
            .where, .select, .ofType, .as, .first, .last, .tail, .skip, .take, .single, .distinct,
            .resolve, .extension, .children, .descendants, .trace, .repeat,
        ]

        /// A lowercase first letter: an element's name (a capital may name the focus's type instead).
        static func isMemberName(_ name: String) -> Bool {
            guard let first = name.utf8.first else { return false }
            return first >= UInt8(ascii: "a") && first <= UInt8(ascii: "z")
        }
    }
}

/// Which of its node's elements an object holds, as validating its members found them: a bit for each
/// element (`value[x]` whatever its type, `given` for `_given` too), so a glance need not look for a
/// member among the keys again.
struct MemberPresence: Sendable {
    /// The most elements a node may have for its object's presence to be kept.
    static let capacity = 64
    /// What is known when validation did not look: nothing.
    static let unknown = MemberPresence(elements: 0, isComplete: false)

    /// Bit `i` for `node.elements[i]`.
    var elements: UInt64
    /// Whether `elements` tells every member: each was one of the node's elements (none unknown, no
    /// stray `_name`) and the node has at most `capacity` elements.
    var isComplete: Bool

    mutating func insert(_ element: Int) {
        if element < Self.capacity { elements |= 1 << element }
    }

    /// Whether the object lacks the member's element of `node` (no `name`, no `_name`, no `name` spelt
    /// with a type); `nil` when the presence cannot tell (incomplete, no node, not one of its elements).
    @inline(__always)
    func lacks(_ member: InvariantShortcut.Member, in node: ObjectNode?) -> Bool? {
        guard isComplete, let node, let element = node.elementIndex(named: member.name) else { return nil }
        return elements & (1 << element) == 0
    }
}
