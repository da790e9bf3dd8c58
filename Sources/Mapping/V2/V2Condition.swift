/// A condition of the HL7 v2-to-FHIR IG's maps (the "Computable ANTLR" column), read into a tree:
/// `IF PID-7 LENGTH GREATER THAN 8`, `IF OBX-2 EQUALS "SN" AND OBX-5.1 NOT EQUALS "<>"`,
/// `IF XAD.7 IN ("BA","C","RH")`, `IF PID-33 AND PID-34 VALUED`, `IF OBX-33 COUNT>1`.
///
/// The IG writes them by hand, so the reader is lenient (`IS` and `EQUALS` and `=` alike, `IF` repeated
/// inside); what it cannot read throws, and `V2Maps` keeps such rows as never applying and lists them.
public indirect enum V2Condition: Sendable, Hashable {
    /// A field or component: the segment or data type (`PID`, `CX`), the position and sub-position.
    public struct Path: Sendable, Hashable {
        public var owner: String
        public var position: Int
        public var subPosition: Int?
    }

    case valued(Path)
    case equals(Path, [Operand])
    case length(Path, greaterThan: Int)
    case count(Path, Comparison, Int)
    case not(V2Condition)
    case and(V2Condition, V2Condition)
    case or(V2Condition, V2Condition)
    /// A condition Ferry could not read: never true.
    case never(String)

    public enum Operand: Sendable, Hashable {
        case literal(String)
        case path(Path)
    }

    public enum Comparison: Sendable, Hashable {
        case equal, greater, less, greaterOrEqual, lessOrEqual
    }

    /// Reads a condition; throws when it cannot.
    public init(_ text: String) throws {
        var reader = Reader(tokens: Self.tokens(text), text: text)
        reader.skip("IF")
        self = try reader.expression()
        guard reader.isAtEnd else { throw reader.fail() }
    }

    /// Evaluates the condition on what `values` reads: the non-empty values (one per repetition) at a
    /// path (one reader for the whole tree: a closure's context was made again at each level).
    func holds<Values: V2ConditionValues>(_ values: inout Values) -> Bool {
        switch self {
        case .valued(let path): return !values.values(at: path).isEmpty
        case .equals(let path, let operands):
            guard let value = values.values(at: path).first else { return false }
            for operand in operands {
                switch operand {
                case .literal(let literal): if value == literal { return true }
                case .path(let other): if values.values(at: other).first == value { return true }
                }
            }
            return false
        case .length(let path, let limit): return (values.values(at: path).first?.count ?? 0) > limit
        case .count(let path, let comparison, let number):
            let count = values.values(at: path).count
            switch comparison {
            case .equal: return count == number
            case .greater: return count > number
            case .less: return count < number
            case .greaterOrEqual: return count >= number
            case .lessOrEqual: return count <= number
            }
        case .not(let inner): return !inner.holds(&values)
        case .and(let left, let right): return left.holds(&values) && right.holds(&values)
        case .or(let left, let right): return left.holds(&values) || right.holds(&values)
        case .never: return false
        }
    }

    // MARK: - Reading

    struct ReadError: Error, CustomStringConvertible {
        var text: String
        var description: String { "cannot read the condition '\(text)'" }
    }

    static func tokens(_ text: String) -> [String] {
        var tokens: [String] = []
        var current = ""
        var quote: Character?
        func flush() {
            if !current.isEmpty { tokens.append(current) }
            current = ""
        }
        for character in text {
            if let open = quote {
                if character == open {
                    tokens.append("\"" + current)
                    current = ""
                    quote = nil
                } else {
                    current.append(character)
                }
                continue
            }
            switch character {
            case "\"", "“", "”", "'":
                flush()
                quote = character == "“" ? "”" : character
            case " ", "\t", "\n": flush()
            case "(", ")", ",", "=", ">", "<":
                flush()
                tokens.append(String(character))
            case "!":
                flush()
                tokens.append("!")
            default: current.append(character)
            }
        }
        if let _ = quote { tokens.append("\"" + current) } else { flush() }
        return tokens
    }

    struct Reader {
        var tokens: [String]
        let text: String
        var index = 0

        var isAtEnd: Bool { index >= tokens.count }
        var peek: String? { index < tokens.count ? tokens[index].uppercased() : nil }

        func fail() -> ReadError { ReadError(text: text) }

        mutating func skip(_ word: String) {
            if peek == word { index += 1 }
        }

        mutating func take(_ word: String) -> Bool {
            guard peek == word else { return false }
            index += 1
            return true
        }

        mutating func expression() throws -> V2Condition {
            var left = try conjunction()
            while take("OR") {
                skip("IF")
                left = try combine(left, try conjunction(), V2Condition.or)
            }
            return left
        }

        mutating func conjunction() throws -> V2Condition {
            var left = try unary()
            while take("AND") {
                skip("IF")
                left = try combine(left, try unary(), V2Condition.and)
            }
            return left
        }

        /// `PID-33 AND PID-34 VALUED`: a bare path takes the test of the path after it.
        func combine(
            _ left: V2Condition, _ right: V2Condition, _ join: (V2Condition, V2Condition) -> V2Condition
        ) throws -> V2Condition {
            if case .never(let marker) = left, marker.hasPrefix("path:"),
                let path = Self.path(String(marker.dropFirst(5)))
            {
                return join(right.replacingPath(with: path), right)
            }
            return join(left, right)
        }

        mutating func unary() throws -> V2Condition {
            if take("(") {
                skip("IF")
                let inner = try expression()
                _ = take(")")
                return inner
            }
            if take("NOT") { return .not(try unary()) }
            guard let word = index < tokens.count ? tokens[index] : nil, let path = Self.path(word) else {
                throw fail()
            }
            index += 1
            return try test(path)
        }

        /// What follows a path.
        mutating func test(_ path: Path) throws -> V2Condition {
            if take("LST.COUNT") || take("COUNT") {
                let comparison: Comparison
                if take("EQUALS") || take("=") || take("IS") {
                    comparison = .equal
                } else if take(">") || (take("GREATER") && take("THAN")) {
                    comparison = take("OR") && (take("EQUALS") || take("EQUAL")) ? .greaterOrEqual : .greater
                } else if take("<") || (take("LESS") && take("THAN")) {
                    comparison = take("OR") && (take("EQUALS") || take("EQUAL")) ? .lessOrEqual : .less
                } else {
                    throw fail()
                }
                return .count(path, comparison, try number())
            }
            if take("LENGTH") {
                guard take("GREATER"), take("THAN") else { throw fail() }
                return .length(path, greaterThan: try number())
            }
            var negated = false
            _ = take("IS") || take("ARE") || take("AREA")
            if take("NOT") || take("!") { negated = true }
            if take("VALUED") || take("EXISTS") || take("EXIST") {
                return negated ? .not(.valued(path)) : .valued(path)
            }
            if take("EMPTY") { return negated ? .valued(path) : .not(.valued(path)) }
            if take("DOES") {
                guard take("NOT"), take("EXIST") || take("EXISTS") else { throw fail() }
                return .not(.valued(path))
            }
            _ = take("EQUALS") || take("EQUAL") || take("=")
            skip("TO")
            if take("IN") {
                let operands = try list()
                return negated ? .not(.equals(path, operands)) : .equals(path, operands)
            }
            if isAtEnd || peek == "AND" || peek == "OR" || peek == ")" {
                // A bare path, completed by the test after the next AND or OR.
                guard !negated else { throw fail() }
                return .never("path:" + "\(path.owner)-\(path.position)" + (path.subPosition.map { ".\($0)" } ?? ""))
            }
            let operand = try self.operand()
            return negated ? .not(.equals(path, [operand])) : .equals(path, [operand])
        }

        mutating func list() throws -> [Operand] {
            guard take("(") else {
                // `IN http://…`: a registry Ferry does not hold; the test cannot hold.
                guard !isAtEnd else { throw fail() }
                index += 1
                return []
            }
            var operands: [Operand] = []
            while !isAtEnd, !take(")") {
                if take(",") { continue }
                operands.append(try operand())
            }
            return operands
        }

        mutating func operand() throws -> Operand {
            guard index < tokens.count else { throw fail() }
            let token = tokens[index]
            index += 1
            if token.hasPrefix("\"") { return .literal(String(token.dropFirst())) }
            if let path = Self.path(token) { return .path(path) }
            // An unquoted word or number, or a quote left open (`X")`).
            return .literal(token.filter { $0 != "\"" })
        }

        mutating func number() throws -> Int {
            guard index < tokens.count, let value = Int(tokens[index]) else { throw fail() }
            index += 1
            return value
        }

        /// `PID-11.9`, `CX.4`, `HD-3`, `OBX-5.1`.
        static func path(_ word: String) -> Path? {
            let characters = Array(word)
            // A segment by itself (`IF ORC VALUED`): position 0 stands for "the segment is there".
            if characters.count == 3, characters.allSatisfy({ $0.isUppercase || $0.isNumber }), characters[0].isLetter {
                return Path(owner: word, position: 0, subPosition: nil)
            }
            guard characters.count >= 4 else { return nil }
            var ownerEnd = 0
            while ownerEnd < characters.count, characters[ownerEnd].isUppercase || characters[ownerEnd].isNumber {
                ownerEnd += 1
            }
            guard ownerEnd >= 2, ownerEnd <= 3, ownerEnd < characters.count,
                characters[ownerEnd] == "-" || characters[ownerEnd] == "."
            else { return nil }
            let numbers = String(characters[(ownerEnd + 1)...]).split(separator: ".").map { Int($0) }
            guard let position = numbers.first ?? nil, numbers.allSatisfy({ $0 != nil }) else { return nil }
            return Path(
                owner: String(characters[..<ownerEnd]), position: position,
                subPosition: numbers.count > 1 ? numbers[1] : nil)
        }
    }

    /// Every path the condition reads.
    var paths: [Path] {
        switch self {
        case .valued(let path), .length(let path, _), .count(let path, _, _): [path]
        case .equals(let path, let operands):
            [path] + operands.compactMap { if case .path(let other) = $0 { other } else { nil } }
        case .not(let inner): inner.paths
        case .and(let left, let right), .or(let left, let right): left.paths + right.paths
        case .never: []
        }
    }

    /// The same test on another path (for `A AND B VALUED`).
    func replacingPath(with path: Path) -> V2Condition {
        switch self {
        case .valued: .valued(path)
        case .equals(_, let operands): .equals(path, operands)
        case .length(_, let limit): .length(path, greaterThan: limit)
        case .count(_, let comparison, let number): .count(path, comparison, number)
        case .not(let inner): .not(inner.replacingPath(with: path))
        default: self
        }
    }
}

/// What a condition reads: the non-empty values (one per repetition) at a path.
protocol V2ConditionValues {
    mutating func values(at path: V2Condition.Path) -> [String]
}
