import FHIR
import Foundation

/// A value bound to a `?` placeholder.
enum SQLArgument: Sendable, Hashable {
    case text(String)
    case real(Double)
    case integer(Int)
    case bytes([UInt8])
}

/// SQL text with `?` placeholders and their values, in order.
struct SQLFragment {
    var text: String
    var arguments: [SQLArgument]

    init(_ text: String, _ arguments: [SQLArgument] = []) {
        self.text = text
        self.arguments = arguments
    }
}

/// Turns a `SearchQuery` into conditions on the `resource` table (alias `r`) over the search index
/// tables that `SearchIndexRows` fills. The SQL is plain enough for SQLite and PostgreSQL alike.
///
/// Each parameter is a set of resources read from its table's value index, `r.owner IN (SELECT
/// i.owner FROM search_token i WHERE i.param = ? AND …)`, so that the database can look a selective
/// search up instead of probing every resource of the type. Index rows name their resource by
/// `owner` and their parameter by `StoreSchema.parameterKey` in SQLite, and by `id` and the
/// parameter's type and code in PostgreSQL.
struct SearchSQL {
    let definitions: FHIRDefinitions
    let dialect: StoreSchema.Dialect

    init(definitions: FHIRDefinitions, dialect: StoreSchema.Dialect) {
        self.definitions = definitions
        self.dialect = dialect
    }

    /// The column of `resource` and of the index tables that names a resource within its type.
    var owner: String {
        switch dialect {
        case .sqlite: "owner"
        case .postgres: "id"
        }
    }

    /// The index rows of one parameter: `i.param = ?` by its key in SQLite, by type and code in PostgreSQL.
    private func parameter(_ code: String, of type: String) -> SQLFragment {
        switch dialect {
        case .sqlite: SQLFragment("i.param = ?", [.integer(Int(StoreSchema.parameterKey(type: type, code: code)))])
        case .postgres: SQLFragment("i.type = ? AND i.param = ?", [.text(type), .text(code)])
        }
    }

    /// The conditions every match meets, joined by AND.
    func conditions(_ query: SearchQuery) throws(StoreError) -> SQLFragment {
        guard definitions.isResourceType(query.type) else {
            throw StoreError(.badQuery, "unknown resource type \(query.type)")
        }
        var parts = [SQLFragment("r.type = ? AND r.deleted = 0", [.text(query.type)])]
        for parameter in query.parameters {
            parts.append(try condition(parameter, type: query.type))
        }
        return SQLFragment(parts.map(\.text).joined(separator: " AND "), parts.flatMap(\.arguments))
    }

    /// `ORDER BY` text for the query's sort keys (by id when none).
    static func order(_ query: SearchQuery) -> String {
        let keys = query.sort.isEmpty ? ["_id"] : query.sort
        let columns = keys.map { key in
            let descending = key.hasPrefix("-")
            let column = key.hasSuffix("_lastUpdated") ? "r.last_updated" : "r.id"
            return column + (descending ? " DESC" : " ASC")
        }
        return (columns + (keys.contains { $0.hasSuffix("_id") } ? [] : ["r.id ASC"])).joined(separator: ", ")
    }

    private func condition(_ parameter: SearchQuery.Parameter, type: String) throws(StoreError) -> SQLFragment {
        let name = parameter.name
        guard !parameter.values.isEmpty, !parameter.values.contains(where: \.isEmpty) else {
            throw StoreError(.badQuery, "\(name): no value")
        }
        switch name {
        case "_id":
            let marks = parameter.values.map { _ in "?" }.joined(separator: ", ")
            return SQLFragment("r.id IN (\(marks))", parameter.values.map { .text($0) })
        case "_lastUpdated":
            let alternatives = try anyOf(parameter.values) { (value) throws(StoreError) in
                try dateCondition(value, name: name, low: "r.last_updated", high: "r.last_updated")
            }
            return SQLFragment("(\(alternatives.text))", alternatives.arguments)
        default: break
        }
        guard let definition = definitions.searchParameters(for: type).first(where: { $0.code == name }) else {
            throw StoreError(.badQuery, "\(type) has no search parameter \(name)")
        }
        guard let table = Self.table(for: definition.type) else {
            throw StoreError(.badQuery, "\(name) is a \(definition.type) parameter, which Ferry does not search")
        }
        let rows = self.parameter(name, of: type)
        func member(negated: Bool) -> String {
            "r.\(owner) \(negated ? "NOT " : "")IN (SELECT i.\(owner) FROM \(table) i WHERE \(rows.text)"
        }
        if parameter.modifier == "missing" {
            guard let missing = Bool(parameter.values[0]) else {
                throw StoreError(.badQuery, "\(name):missing takes true or false")
            }
            return SQLFragment("\(member(negated: missing)))", rows.arguments)
        }
        let alternatives = try anyOf(parameter.values) { (value) throws(StoreError) in
            try valueCondition(value, definition: definition, modifier: parameter.modifier)
        }
        let negated = parameter.modifier == "not" && definition.type == "token"
        return SQLFragment(
            "\(member(negated: negated)) AND (\(alternatives.text)))", rows.arguments + alternatives.arguments)
    }

    static func table(for type: String) -> String? {
        switch type {
        case "token": "search_token"
        case "string": "search_string"
        case "date": "search_date"
        case "reference": "search_reference"
        case "number": "search_number"
        case "quantity": "search_quantity"
        case "uri": "search_uri"
        default: nil
        }
    }

    private func anyOf(
        _ values: [String], _ make: (String) throws(StoreError) -> SQLFragment
    ) throws(StoreError) -> SQLFragment {
        var parts: [SQLFragment] = []
        for value in values { parts.append(try make(value)) }
        return SQLFragment(
            parts.map { "(\($0.text))" }.joined(separator: " OR "), parts.flatMap(\.arguments))
    }

    private func valueCondition(
        _ value: String, definition: SearchParameterDefinition, modifier: String?
    ) throws(StoreError) -> SQLFragment {
        let name = definition.code
        switch definition.type {
        case "token":
            if modifier == "text" {
                return SQLFragment("i.text LIKE ?", [.text(Self.like(SearchValue.normalize(value)) + "%")])
            }
            guard let bar = Self.unescapedBar(in: value) else {
                return SQLFragment("i.code = ?", [.text(Self.unescaped(value))])
            }
            let system = Self.unescaped(String(value[..<bar]))
            let code = Self.unescaped(String(value[value.index(after: bar)...]))
            switch (system.isEmpty, code.isEmpty) {
            case (true, true): throw StoreError(.badQuery, "\(name)=|: neither system nor code")
            case (true, false): return SQLFragment("i.system IS NULL AND i.code = ?", [.text(code)])
            case (false, true): return SQLFragment("i.system = ?", [.text(system)])
            case (false, false): return SQLFragment("i.system = ? AND i.code = ?", [.text(system), .text(code)])
            }
        case "string":
            switch modifier {
            case "exact": return SQLFragment("i.exact = ?", [.text(value)])
            case "contains":
                return SQLFragment(
                    "i.normalized LIKE ? ESCAPE '\\'", [.text("%" + Self.like(SearchValue.normalize(value)) + "%")])
            case nil:
                return SQLFragment(
                    "i.normalized LIKE ? ESCAPE '\\'", [.text(Self.like(SearchValue.normalize(value)) + "%")])
            case let other?: throw StoreError(.badQuery, "\(name):\(other) is not a string modifier Ferry reads")
            }
        case "date":
            return try dateCondition(value, name: name, low: "i.low", high: "i.high")
        case "reference":
            let parts = value.split(separator: "/").map(String.init)
            if value.hasPrefix("http://") || value.hasPrefix("https://") || value.hasPrefix("urn:") {
                return SQLFragment("i.url = ?", [.text(value)])
            }
            if parts.count >= 2 {
                return SQLFragment(
                    "i.target_type = ? AND i.target_id = ?",
                    [.text(parts[parts.count - 2]), .text(parts[parts.count - 1])])
            }
            if let type = modifier {
                guard definitions.isResourceType(type) else {
                    throw StoreError(.badQuery, "\(name):\(type): not a resource type")
                }
                return SQLFragment("i.target_type = ? AND i.target_id = ?", [.text(type), .text(value)])
            }
            return SQLFragment("i.target_id = ?", [.text(value)])
        case "number":
            return try numberCondition(value, name: name, column: "i.value")
        case "quantity":
            let parts = value.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            var condition = try numberCondition(parts[0], name: name, column: "i.value")
            if parts.count > 1, !parts[1].isEmpty {
                condition.text += " AND i.system = ?"
                condition.arguments.append(.text(parts[1]))
            }
            if parts.count > 2, !parts[2].isEmpty {
                condition.text += " AND i.code = ?"
                condition.arguments.append(.text(parts[2]))
            }
            return condition
        case "uri":
            if modifier == "below" { return SQLFragment("i.value LIKE ? ESCAPE '\\'", [.text(Self.like(value) + "%")]) }
            return SQLFragment("i.value = ?", [.text(value)])
        default:
            throw StoreError(.badQuery, "\(name): \(definition.type) parameters are not searched")
        }
    }

    /// The comparison prefixes of dates, numbers and quantities.
    static let prefixes = ["eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap"]

    static func prefixed(_ value: String) -> (String, String) {
        let head = String(value.prefix(2))
        if prefixes.contains(head), value.count > 2, let next = value.dropFirst(2).first, next.isNumber || next == "-" {
            return (head, String(value.dropFirst(2)))
        }
        return ("eq", value)
    }

    /// A date search: the target's range `[low, high]` against the value's range `[sl, sh]`.
    private func dateCondition(
        _ value: String, name: String, low: String, high: String
    ) throws(StoreError) -> SQLFragment {
        let (prefix, text) = Self.prefixed(value)
        guard let range = SearchValue.dateRange(text) else {
            throw StoreError(.badQuery, "\(name)=\(value): not a FHIR date")
        }
        let sl = SQLArgument.real(range.low.timeIntervalSince1970)
        let sh = SQLArgument.real(range.high.timeIntervalSince1970)
        let within = ("\(low) >= ? AND \(high) <= ?", [sl, sh])
        switch prefix {
        case "eq": return SQLFragment(within.0, within.1)
        case "ne": return SQLFragment("NOT (\(within.0))", within.1)
        case "gt": return SQLFragment("\(high) > ?", [sh])
        case "lt": return SQLFragment("\(low) < ?", [sl])
        case "ge": return SQLFragment("\(high) > ? OR (\(within.0))", [sh] + within.1)
        case "le": return SQLFragment("\(low) < ? OR (\(within.0))", [sl] + within.1)
        case "sa": return SQLFragment("\(low) > ?", [sh])
        case "eb": return SQLFragment("\(high) < ?", [sl])
        default: return SQLFragment("\(low) <= ? AND \(high) >= ?", [sh, sl])
        }
    }

    /// A number search with the value's implied precision (`100` is 99.5 to 100.5).
    private func numberCondition(_ value: String, name: String, column: String) throws(StoreError) -> SQLFragment {
        let (prefix, text) = Self.prefixed(value)
        guard let number = Double(text), number.isFinite else {
            throw StoreError(.badQuery, "\(name)=\(value): not a number")
        }
        let decimals = text.split(separator: ".", maxSplits: 1).dropFirst().first?.prefix { $0.isNumber }.count ?? 0
        let half = 0.5 * pow(10, -Double(decimals))
        switch prefix {
        case "eq": return SQLFragment("\(column) >= ? AND \(column) < ?", [.real(number - half), .real(number + half)])
        case "ne":
            return SQLFragment("NOT (\(column) >= ? AND \(column) < ?)", [.real(number - half), .real(number + half)])
        case "gt", "sa": return SQLFragment("\(column) > ?", [.real(number)])
        case "lt", "eb": return SQLFragment("\(column) < ?", [.real(number)])
        case "ge": return SQLFragment("\(column) >= ?", [.real(number)])
        case "le": return SQLFragment("\(column) <= ?", [.real(number)])
        default:
            let tenth = abs(number) * 0.1
            return SQLFragment("\(column) >= ? AND \(column) <= ?", [.real(number - tenth), .real(number + tenth)])
        }
    }

    /// The first `|` not escaped by a backslash.
    static func unescapedBar(in value: String) -> String.Index? {
        var previous: Character?
        for index in value.indices {
            if value[index] == "|", previous != "\\" { return index }
            previous = value[index]
        }
        return nil
    }

    static func unescaped(_ value: String) -> String {
        value.replacingOccurrences(of: "\\|", with: "|").replacingOccurrences(of: "\\$", with: "$")
            .replacingOccurrences(of: "\\\\", with: "\\")
    }

    /// Text for a LIKE pattern, its own `%`, `_` and `\` taken literally.
    static func like(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
            .replacingOccurrences(of: "_", with: "\\_")
    }
}
