import Foundation
import Synchronization

/// A FHIRPath expression compiled once: parsed, with its function calls resolved and the regular
/// expressions of literal patterns built, ready to evaluate against any number of resources.
public final class FHIRPathExpression: Sendable {
    /// The expression as written.
    public let text: String
    let root: FHIRPathNode
    /// Regular expressions of `matches`, `matchesFull` and `replaceMatches` whose pattern is a literal.
    let regularExpressions: [String: NSRegularExpression]
    /// Whether every type name in the expression was checked against the definitions when compiling.
    let hasVerifiedTypes: Bool

    /// Parses an expression; a malformed one throws an error naming the column. With `definitions`,
    /// type names (`ofType(Quantity)`) are checked now rather than on every evaluation.
    public convenience init(_ text: String, definitions: FHIRDefinitions? = nil) throws(FHIRError) {
        try self.init(text, types: definitions?.types)
    }

    /// The empty expression `{}` under another name: what an evaluator used for its steps alone (a
    /// search parameter's walked path) names in errors.
    init(empty text: String) {
        self.text = text
        root = .empty
        regularExpressions = [:]
        hasVerifiedTypes = true
    }

    init(_ text: String, types: [String: TypeDefinition]?) throws(FHIRError) {
        self.text = text
        var parser = try FHIRPathParser(text)
        root = try parser.parse()
        // Long chains (`a.b.c…`, `1+1+1…`) nest without recursion in the parser; the evaluator recurses.
        if root.height > FHIRPathParser.maximumDepth {
            throw FHIRPathSyntax.error(
                "the expression nests deeper than \(FHIRPathParser.maximumDepth) levels", in: text, at: 0)
        }
        var patterns: [String: NSRegularExpression] = [:]
        Self.collectPatterns(root, into: &patterns)
        regularExpressions = patterns
        if let types {
            for node in [root] + root.descendants {
                guard let type = node.type, !FHIRPathEvaluator.isKnown(type, types: types) else { continue }
                let qualified = (type.namespace.map { $0 + "." } ?? "") + type.name
                throw FHIRPathSyntax.error("\(qualified) is not a FHIR or System type", in: text, at: node.offset)
            }
        }
        hasVerifiedTypes = types != nil
    }

    private static func collectPatterns(_ root: FHIRPathNode, into patterns: inout [String: NSRegularExpression]) {
        for node in [root] + root.descendants where node.kind == .function {
            let function = node.function
            guard function == .matches || function == .matchesFull || function == .replaceMatches,
                case .string(let pattern)? = node.arguments.first?.literalValue
            else { continue }
            let source = function == .matchesFull ? "^(?:" + pattern + ")$" : pattern
            patterns[source] = try? NSRegularExpression(pattern: source, options: [.dotMatchesLineSeparators])
        }
    }

    /// Evaluates the expression with `resource` as `%resource`, `%context` and the initial focus.
    public func evaluate(
        on resource: JSON,
        definitions: FHIRDefinitions,
        environment: FHIRPathEnvironment = FHIRPathEnvironment()
    ) throws(FHIRError) -> [FHIRPathValue] {
        let evaluator = FHIRPathEvaluator(
            definitions: definitions, expression: self, environment: environment, context: [])
        let focus = [evaluator.resourceElement(resource)]
        return try evaluate(focus: focus, definitions: definitions, environment: environment)
    }

    /// Evaluates the expression on a collection (an element inside a resource, for an invariant).
    public func evaluate(
        focus: [FHIRPathValue],
        resource: [FHIRPathValue]? = nil,
        definitions: FHIRDefinitions,
        environment: FHIRPathEnvironment = FHIRPathEnvironment()
    ) throws(FHIRError) -> [FHIRPathValue] {
        let evaluator = FHIRPathEvaluator(
            definitions: definitions, expression: self, environment: environment, context: resource ?? focus)
        return try evaluator.evaluate(root, focus, FHIRPathEvaluator.Scope())
    }
}

/// What an evaluation may use besides the resource: variables, the root resource, the clock, a trace sink.
public struct FHIRPathEnvironment: Sendable {
    /// User variables, read as `%name`.
    public var variables: [String: [FHIRPathValue]]
    /// The outermost resource (a Bundle around the resource), read as `%rootResource` and used by `resolve()`.
    public var rootResource: JSON?
    /// The instant `now()`, `today()` and `timeOfDay()` report.
    public var now: Date
    /// In strict mode, a name that the definitions do not give the element is an error, not an empty result.
    public var isStrict: Bool
    /// Lets `as(type)` filter a collection like `ofType(type)` instead of failing on more than one item.
    /// The R4 core invariants rely on it (`dom-3` applies `descendants().as(canonical)`), so the validator
    /// sets it; the FHIRPath specification, and so the default, makes it an error.
    public var castsCollections: Bool
    /// The most items a collection may hold during evaluation; beyond it evaluation fails rather than
    /// exhausting memory (`descendants().descendants().descendants()…` grows fast).
    public var maxItems: Int
    /// Receives what `trace(name)` reports. Traced values can hold PHI: never send them to a log.
    public var trace: (@Sendable (String, [FHIRPathValue]) -> Void)?

    /// Creates an environment; every part is optional.
    public init(
        variables: [String: [FHIRPathValue]] = [:],
        rootResource: JSON? = nil,
        now: Date = Date(),
        isStrict: Bool = false,
        castsCollections: Bool = false,
        maxItems: Int = 1_000_000,
        trace: (@Sendable (String, [FHIRPathValue]) -> Void)? = nil
    ) {
        self.variables = variables
        self.rootResource = rootResource
        self.now = now
        self.isStrict = isStrict
        self.castsCollections = castsCollections
        self.maxItems = maxItems
        self.trace = trace
    }
}

/// Compiles expressions once and keeps them: the validator's invariants and the store's search
/// parameters are evaluated thousands of times per second from a few hundred distinct texts.
public final class FHIRPathCache: Sendable {
    private let compiled = Mutex<[String: Result<FHIRPathExpression, FHIRError>]>([:])
    private let definitions: FHIRDefinitions?

    /// Creates an empty cache; with `definitions`, type names are checked when an expression compiles.
    public init(definitions: FHIRDefinitions? = nil) {
        self.definitions = definitions
    }

    /// The compiled expression for `text`, compiling it on first use.
    public func expression(_ text: String) throws(FHIRError) -> FHIRPathExpression {
        if let cached = compiled.withLock({ $0[text] }) { return try cached.get() }
        let result = Result { () throws(FHIRError) in try FHIRPathExpression(text, definitions: definitions) }
        compiled.withLock { $0[text] = result }
        return try result.get()
    }
}
