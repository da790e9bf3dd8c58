import FHIR
import Foundation

/// A FHIR search: a resource type and parameters (`identifier=http://hosp|123`, `birthdate=ge1970`,
/// `name:exact=Doe`), every parameter a condition that must hold (AND), the comma-separated values
/// of one parameter alternatives (OR). `_count` and `_offset` page; `_sort` orders by `_id` or
/// `_lastUpdated` (`-` for descending).
public struct SearchQuery: Sendable, Hashable {
    public struct Parameter: Sendable, Hashable {
        /// The search parameter's code (`birthdate`) or `_id` / `_lastUpdated`.
        public var name: String
        /// `exact`, `contains`, `missing`, `text`, `not`, or a resource type for a reference.
        public var modifier: String?
        /// Alternatives, any of which may match.
        public var values: [String]

        public init(name: String, modifier: String? = nil, values: [String]) {
            self.name = name
            self.modifier = modifier
            self.values = values
        }
    }

    public var type: String
    public var parameters: [Parameter]
    public var count: Int
    public var offset: Int
    /// `_id`, `_lastUpdated`, `-_lastUpdated`, …; by id when empty.
    public var sort: [String]

    public init(type: String, parameters: [Parameter] = [], count: Int = 50, offset: Int = 0, sort: [String] = []) {
        self.type = type
        self.parameters = parameters
        self.count = count
        self.offset = offset
        self.sort = sort
    }

    /// Reads `Patient?identifier=x|1&_count=10` (the form of a conditional reference or request URL),
    /// or a type and a query string.
    public init(_ url: String) throws(StoreError) {
        let parts = url.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        try self.init(type: String(parts[0]), query: parts.count > 1 ? String(parts[1]) : "")
    }

    /// Reads a type and a query string (`identifier=x%7C1&birthdate=ge1970`).
    public init(type: String, query: String) throws(StoreError) {
        var pairs: [(String, String)] = []
        for pair in query.split(separator: "&") where !pair.isEmpty {
            let sides = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = Self.decoded(sides[0])
            let value = sides.count > 1 ? Self.decoded(sides[1]) : ""
            pairs.append((name, value))
        }
        try self.init(type: type, pairs: pairs)
    }

    /// Reads name and value pairs as a query string holds them (`name:modifier`, comma alternatives).
    public init(type: String, pairs: [(String, String)]) throws(StoreError) {
        guard !type.isEmpty, type.allSatisfy({ $0.isLetter }) else {
            throw StoreError(.badQuery, "'\(type)' is not a resource type")
        }
        self.init(type: type)
        for (key, value) in pairs {
            switch key {
            case "_count":
                guard let number = Int(value), number >= 0 else { throw StoreError(.badQuery, "_count=\(value)") }
                count = number
            case "_offset":
                guard let number = Int(value), number >= 0 else { throw StoreError(.badQuery, "_offset=\(value)") }
                offset = number
            case "_sort":
                sort = value.split(separator: ",").map(String.init)
                for key in sort where !["_id", "-_id", "_lastUpdated", "-_lastUpdated"].contains(key) {
                    throw StoreError(.badQuery, "_sort=\(key): only _id and _lastUpdated can be sorted by")
                }
            default:
                let nameParts = key.split(separator: ":", maxSplits: 1)
                guard let name = nameParts.first.map(String.init), !name.isEmpty else {
                    throw StoreError(.badQuery, "a parameter without a name")
                }
                parameters.append(
                    Parameter(
                        name: name, modifier: nameParts.count > 1 ? String(nameParts[1]) : nil,
                        values: Self.alternatives(value)))
            }
        }
    }

    /// `a,b\,c` → `a`, `b,c`.
    static func alternatives(_ value: String) -> [String] {
        var result: [String] = []
        var current = ""
        var escaped = false
        for character in value {
            if escaped {
                // `\,` is a comma inside a value; other escapes (`\|`, `\$`) are for the value's own reading.
                if character != "," { current.append("\\") }
                current.append(character)
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else if character == "," {
                result.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        result.append(current)
        return result
    }

    static func decoded(_ text: Substring) -> String {
        String(text).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(text)
    }
}
