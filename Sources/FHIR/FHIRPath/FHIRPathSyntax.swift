/// A node of a parsed FHIRPath expression, with its source offset.
///
/// A final class with a kind and plain fields rather than an indirect enum: the evaluator reads the
/// fields of a node it holds without copying payloads out of enum boxes, which saves a retain and
/// release per field on every step of every evaluation.
final class FHIRPathNode: Sendable {
    enum Kind: UInt8, Sendable {
        /// `{}`.
        case empty
        /// A literal, kept as the one-item collection it evaluates to (`values`).
        case value
        /// `$this`, `$index`, `$total`.
        case this, index, total
        /// `%name`.
        case constant
        /// A member `name`; with no `target` it applies to the focus and may also name the focus's type.
        case member
        /// A call of `function` with `arguments`; with no `target` it applies to the focus.
        case function
        /// `target[other]`.
        case indexer
        /// `-target`.
        case negate
        /// `target op other`.
        case binary
        /// `target is type` or `target as type` (`isCast`).
        case typeTest
        /// The type argument of `is()`, `as()` and `ofType()`.
        case type
    }

    let kind: Kind
    let offset: Int
    let target: FHIRPathNode?
    let other: FHIRPathNode?
    let arguments: [FHIRPathNode]
    let name: String
    let function: FHIRPathFunction
    let op: FHIRPathOperator
    let values: [FHIRPathValue]
    let type: FHIRPathTypeSpecifier?
    let isCast: Bool

    private init(
        _ kind: Kind, offset: Int = 0, target: FHIRPathNode? = nil, other: FHIRPathNode? = nil,
        arguments: [FHIRPathNode] = [], name: String = "", function: FHIRPathFunction = .empty,
        op: FHIRPathOperator = .and, values: [FHIRPathValue] = [], type: FHIRPathTypeSpecifier? = nil,
        isCast: Bool = false
    ) {
        self.kind = kind
        self.offset = offset
        self.target = target
        self.other = other
        self.arguments = arguments
        self.name = name
        self.function = function
        self.op = op
        self.values = values
        self.type = type
        self.isCast = isCast
    }

    static let empty = FHIRPathNode(.empty)
    static let this = FHIRPathNode(.this)
    static let index = FHIRPathNode(.index)
    static let total = FHIRPathNode(.total)

    static func literal(_ value: FHIRPathValue) -> FHIRPathNode { FHIRPathNode(.value, values: [value]) }

    static func constant(_ name: String, offset: Int) -> FHIRPathNode {
        FHIRPathNode(.constant, offset: offset, name: name)
    }

    static func member(_ target: FHIRPathNode?, name: String, offset: Int) -> FHIRPathNode {
        FHIRPathNode(.member, offset: offset, target: target, name: name)
    }

    static func function(
        _ target: FHIRPathNode?, _ function: FHIRPathFunction, arguments: [FHIRPathNode], offset: Int
    ) -> FHIRPathNode {
        FHIRPathNode(.function, offset: offset, target: target, arguments: arguments, function: function)
    }

    static func indexer(_ target: FHIRPathNode, _ index: FHIRPathNode, offset: Int) -> FHIRPathNode {
        FHIRPathNode(.indexer, offset: offset, target: target, other: index)
    }

    static func negate(_ operand: FHIRPathNode, offset: Int) -> FHIRPathNode {
        FHIRPathNode(.negate, offset: offset, target: operand)
    }

    static func binary(
        _ op: FHIRPathOperator, _ left: FHIRPathNode, _ right: FHIRPathNode, offset: Int
    )
        -> FHIRPathNode
    {
        FHIRPathNode(.binary, offset: offset, target: left, other: right, op: op)
    }

    static func typeTest(
        isCast: Bool, _ operand: FHIRPathNode, _ type: FHIRPathTypeSpecifier, offset: Int
    )
        -> FHIRPathNode
    {
        FHIRPathNode(.typeTest, offset: offset, target: operand, type: type, isCast: isCast)
    }

    static func type(_ type: FHIRPathTypeSpecifier) -> FHIRPathNode {
        FHIRPathNode(.type, type: type)
    }

    /// The value of a literal node.
    var literalValue: FHIRPathValue? {
        kind == .value ? values.first : nil
    }

    /// The number of levels of the tree below and including this node.
    var height: Int {
        var deepest = 0
        var pending: [(FHIRPathNode, Int)] = [(self, 1)]
        while let (node, level) = pending.popLast() {
            deepest = max(deepest, level)
            for child in [node.target, node.other].compactMap({ $0 }) + node.arguments {
                pending.append((child, level + 1))
            }
        }
        return deepest
    }

    /// Every node below this one, depth first.
    var descendants: [FHIRPathNode] {
        var nodes: [FHIRPathNode] = []
        var pending = [target, other].compactMap { $0 } + arguments
        while let node = pending.popLast() {
            nodes.append(node)
            pending += [node.target, node.other].compactMap { $0 } + node.arguments
        }
        return nodes
    }
}

/// A type name as written in `is`, `as` and `ofType`: `Quantity`, `FHIR.Patient`, `System.String`.
struct FHIRPathTypeSpecifier: Sendable, Hashable {
    /// `FHIR`, `System`, or `nil` when not qualified.
    var namespace: String?
    var name: String
}

/// The binary operators, with their precedence (higher binds tighter).
enum FHIRPathOperator: String, Sendable {
    case multiply = "*", divide = "/", div, mod
    case add = "+", subtract = "-", concatenate = "&"
    case union = "|"
    case lessThan = "<", lessOrEqual = "<=", greaterThan = ">", greaterOrEqual = ">="
    case equal = "=", equivalent = "~", notEqual = "!=", notEquivalent = "!~"
    case `in`, contains
    case and
    case or, xor
    case implies

    var precedence: Int {
        switch self {
        case .multiply, .divide, .div, .mod: 10
        case .add, .subtract, .concatenate: 9
        case .union: 7
        case .lessThan, .lessOrEqual, .greaterThan, .greaterOrEqual: 6
        case .equal, .equivalent, .notEqual, .notEquivalent: 5
        case .in, .contains: 4
        case .and: 3
        case .or, .xor: 2
        case .implies: 1
        }
    }
}

/// The precedence of `is` and `as`, between union and additive operators.
private let typeOperatorPrecedence = 8

enum FHIRPathSyntax {
    /// A syntax error that names the offset and shows the expression around it.
    static func error(_ message: String, in text: String, at offset: Int) -> FHIRError {
        FHIRError(.fhirpathSyntax, message, column: offset + 1, path: text)
    }
}

/// A recursive-descent parser with precedence climbing for the operators.
struct FHIRPathParser {
    private let text: String
    private let tokens: [FHIRPathToken]
    private var position = 0
    private var depth = 0
    static let maximumDepth = 200

    init(_ text: String) throws(FHIRError) {
        self.text = text
        var lexer = FHIRPathLexer(text)
        self.tokens = try lexer.tokens()
    }

    /// Parses the whole expression.
    mutating func parse() throws(FHIRError) -> FHIRPathNode {
        guard tokens.first?.kind != .end else { throw error("the expression is empty", at: tokens[0]) }
        let node = try expression(minimumPrecedence: 0)
        guard current.kind == .end else {
            throw error("unexpected \(describe(current)) after a complete expression", at: current)
        }
        return node
    }

    private var current: FHIRPathToken { tokens[position] }

    private func error(_ message: String, at token: FHIRPathToken) -> FHIRError {
        FHIRPathSyntax.error(message, in: text, at: token.offset)
    }

    private func describe(_ token: FHIRPathToken) -> String {
        switch token.kind {
        case .identifier(let name, _): "'\(name)'"
        case .string(let value): "string '\(value)'"
        case .number(let value, _): "number \(value)"
        case .temporal(let value): value.literal
        case .constant(let name): "%\(name)"
        case .special(let name): "$\(name)"
        case .symbol(let symbol): "'\(symbol)'"
        case .end: "the end of the expression"
        }
    }

    private func isSymbol(_ symbol: String) -> Bool {
        if case .symbol(let found) = current.kind { return found == symbol }
        return false
    }

    private mutating func expect(_ symbol: String) throws(FHIRError) {
        guard isSymbol(symbol) else { throw error("expected '\(symbol)' but found \(describe(current))", at: current) }
        position += 1
    }

    /// The binary operator at the current token, if any.
    private var currentOperator: FHIRPathOperator? {
        switch current.kind {
        case .symbol(let symbol): FHIRPathOperator(rawValue: symbol)
        case .identifier(let name, isDelimited: false):
            switch name {
            case "div", "mod", "in", "contains", "and", "or", "xor", "implies": FHIRPathOperator(rawValue: name)
            default: nil
            }
        default: nil
        }
    }

    private var currentTypeOperator: Bool? {
        if case .identifier(let name, isDelimited: false) = current.kind, name == "is" || name == "as" {
            return name == "as"
        }
        return nil
    }

    private mutating func expression(minimumPrecedence: Int) throws(FHIRError) -> FHIRPathNode {
        depth += 1
        defer { depth -= 1 }
        guard depth < Self.maximumDepth else { throw error("the expression nests too deeply", at: current) }
        var left = try unary()
        while true {
            if let isCast = currentTypeOperator, typeOperatorPrecedence >= minimumPrecedence {
                let token = current
                position += 1
                left = .typeTest(isCast: isCast, left, try typeSpecifier(), offset: token.offset)
                continue
            }
            guard let op = currentOperator, op.precedence >= minimumPrecedence else { return left }
            let token = current
            position += 1
            let right = try expression(minimumPrecedence: op.precedence + 1)
            left = .binary(op, left, right, offset: token.offset)
        }
    }

    private mutating func unary() throws(FHIRError) -> FHIRPathNode {
        if isSymbol("+") || isSymbol("-") {
            let token = current
            position += 1
            let operand = try unary()
            if case .symbol("+") = token.kind { return operand }
            // A negative number literal stays a literal.
            if case .integer(let value)? = operand.literalValue { return .literal(.integer(-value)) }
            if case .decimal(let value)? = operand.literalValue {
                return .literal(.decimal(FHIRPathDecimal(-value.value, scale: value.scale)))
            }
            if case .quantity(var quantity)? = operand.literalValue {
                quantity.value.value = -quantity.value.value
                return .literal(.quantity(quantity))
            }
            return .negate(operand, offset: token.offset)
        }
        return try postfix(try term())
    }

    private mutating func postfix(_ start: FHIRPathNode) throws(FHIRError) -> FHIRPathNode {
        var node = start
        while true {
            if isSymbol(".") {
                position += 1
                node = try invocation(target: node)
            } else if isSymbol("[") {
                let token = current
                position += 1
                let index = try expression(minimumPrecedence: 0)
                try expect("]")
                node = .indexer(node, index, offset: token.offset)
            } else {
                return node
            }
        }
    }

    private mutating func term() throws(FHIRError) -> FHIRPathNode {
        let token = current
        switch token.kind {
        case .number(let text, let isLong):
            position += 1
            return try numberOrQuantity(text, isLong: isLong, token: token)
        case .string(let value):
            position += 1
            return .literal(.string(value))
        case .temporal(let value):
            position += 1
            return .literal(.temporal(value))
        case .constant(let name):
            position += 1
            return .constant(name, offset: token.offset)
        case .special(let name):
            position += 1
            switch name {
            case "this": return .this
            case "index": return .index
            default: return .total
            }
        case .symbol("("):
            position += 1
            let inner = try expression(minimumPrecedence: 0)
            try expect(")")
            return inner
        case .symbol("{"):
            position += 1
            try expect("}")
            return .empty
        case .identifier(let name, let isDelimited):
            if !isDelimited, name == "true" || name == "false" {
                position += 1
                return .literal(.boolean(name == "true"))
            }
            return try invocation(target: nil)
        default:
            throw error("expected an expression but found \(describe(token))", at: token)
        }
    }

    private mutating func numberOrQuantity(
        _ text: String, isLong: Bool, token: FHIRPathToken
    ) throws(FHIRError) -> FHIRPathNode {
        let isDecimal = text.contains(".")
        guard let decimal = FHIRPathDecimal(text: text) else { throw error("\(text) is not a number", at: token) }
        switch current.kind {
        case .string(let unit):
            position += 1
            return .literal(.quantity(FHIRPathQuantity(value: decimal, unit: unit)))
        case .identifier(let word, isDelimited: false):
            if let unit = FHIRPathQuantity.CalendarUnit(keyword: word) {
                position += 1
                return .literal(.quantity(FHIRPathQuantity(value: decimal, calendarUnit: unit)))
            }
        default:
            break
        }
        if isDecimal { return .literal(.decimal(decimal)) }
        guard let integer = Int(text) else {
            throw error("\(text) is beyond the range of an integer", at: token)
        }
        return .literal(.integer(integer))
    }

    /// A name, optionally called as a function: `given`, `` `div` ``, `where(use = 'official')`.
    private mutating func invocation(target: FHIRPathNode?) throws(FHIRError) -> FHIRPathNode {
        let token = current
        let name: String
        switch token.kind {
        case .identifier(let identifier, _): name = identifier
        case .special("this") where target == nil:
            position += 1
            return .this
        default: throw error("expected a name after '.' but found \(describe(token))", at: token)
        }
        position += 1
        guard isSymbol("(") else { return .member(target, name: name, offset: token.offset) }
        position += 1
        guard let function = FHIRPathFunction(rawValue: name) else {
            throw error("unknown function \(name)()", at: token)
        }
        var arguments: [FHIRPathNode] = []
        if !isSymbol(")") {
            repeat {
                if !arguments.isEmpty { position += 1 }
                if function.takesTypeArgument {
                    arguments.append(.type(try typeSpecifier()))
                } else {
                    arguments.append(try expression(minimumPrecedence: 0))
                }
            } while isSymbol(",")
        }
        try expect(")")
        guard function.arity.contains(arguments.count) else {
            let expected =
                function.arity.lowerBound == function.arity.upperBound
                ? "\(function.arity.lowerBound)" : "\(function.arity.lowerBound) to \(function.arity.upperBound)"
            throw error(
                "\(name)() takes \(expected) argument\(function.arity.upperBound == 1 ? "" : "s"), not \(arguments.count)",
                at: token)
        }
        return .function(target, function, arguments: arguments, offset: token.offset)
    }

    private mutating func typeSpecifier() throws(FHIRError) -> FHIRPathTypeSpecifier {
        guard case .identifier(let first, _) = current.kind else {
            throw error("expected a type name but found \(describe(current))", at: current)
        }
        position += 1
        if isSymbol("."), case .identifier(let second, _) = tokens[position + 1].kind {
            position += 2
            return FHIRPathTypeSpecifier(namespace: first, name: second)
        }
        return FHIRPathTypeSpecifier(namespace: nil, name: first)
    }
}

extension FHIRPathNode: CustomStringConvertible {
    /// The node written back as FHIRPath (normalised spacing, operands of operators in parentheses), for
    /// error messages that name the sub-expression that failed.
    var description: String {
        func operand(_ node: FHIRPathNode?) -> String {
            guard let node else { return "" }
            return node.kind == .binary || node.kind == .typeTest ? "(\(node))" : "\(node)"
        }
        func name(_ text: String) -> String {
            let isPlain =
                text.utf8.first.map { !($0 >= 0x30 && $0 <= 0x39) } ?? false
                && text.utf8.allSatisfy {
                    ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5F
                }
            return isPlain ? text : "`\(text)`"
        }
        switch kind {
        case .empty: return "{}"
        case .value:
            guard let value = values.first else { return "{}" }
            switch value {
            case .string(let text):
                return "'"
                    + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "'"
            case .boolean(let flag): return flag ? "true" : "false"
            case .integer(let number): return String(number)
            case .decimal(let number): return number.text
            case .temporal(let temporal): return temporal.literal
            case .quantity(let quantity): return quantity.literal
            case .element: return "{}"
            }
        case .this: return "$this"
        case .index: return "$index"
        case .total: return "$total"
        case .constant: return "%" + name(self.name)
        case .member: return (target.map { "\(operand($0))." } ?? "") + name(self.name)
        case .function:
            return (target.map { "\(operand($0))." } ?? "") + function.rawValue + "("
                + arguments.map(\.description).joined(separator: ", ") + ")"
        case .indexer: return "\(operand(target))[\(other.map(\.description) ?? "")]"
        case .negate: return "-\(operand(target))"
        case .binary: return "\(operand(target)) \(op.rawValue) \(operand(other))"
        case .typeTest: return "\(operand(target)) \(isCast ? "as" : "is") \(type.map(Self.typeText) ?? "")"
        case .type: return type.map(Self.typeText) ?? ""
        }
    }

    private static func typeText(_ type: FHIRPathTypeSpecifier) -> String {
        (type.namespace.map { $0 + "." } ?? "") + type.name
    }
}
