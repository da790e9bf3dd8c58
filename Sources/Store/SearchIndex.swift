import FHIR
import Foundation

/// The rows one resource is indexed under, table by table, from the search parameters of its type
/// (the definitions' FHIRPath expressions). Every store writes these same rows.
struct SearchIndexRows {
    var tokens: [(param: String, system: String?, code: String?, text: String?)] = []
    var strings: [(param: String, normalized: String, exact: String)] = []
    var dates: [(param: String, low: Double, high: Double)] = []
    /// `url` only when the reference is not `targetType/targetID` (searched by `url` only when absolute).
    var references: [(param: String, targetType: String?, targetID: String?, url: String?)] = []
    var numbers: [(param: String, value: Double)] = []
    var quantities: [(param: String, value: Double, system: String?, code: String?)] = []
    var uris: [(param: String, value: String)] = []

    /// Parameters searched on the resource's own row (`SearchSQL`): index rows for them would be
    /// written for every resource and never read.
    static let answeredByResourceRow: Set<String> = ["_id", "_lastUpdated"]

    /// Stand-ins for an open end of a period, in seconds since 1970 (beyond any real date).
    static let distantPast = -1e15
    static let distantFuture = 1e15

    init(_ resource: JSON, extractor: SearchParameterExtractor) throws(StoreError) {
        let index: [(parameter: SearchParameterDefinition, values: [SearchValue])]
        do { index = try extractor.index(resource, excluding: Self.answeredByResourceRow) } catch {
            throw StoreError(.invalid, "indexing: \(error)")
        }
        for (parameter, values) in index {
            let param = parameter.code
            for value in values {
                switch value {
                case .token(let system, let code, let text):
                    tokens.append((param, system, code, text.map(SearchValue.normalize)))
                case .string(let exact, let normalized):
                    strings.append((param, normalized, exact))
                case .date(let low, let high):
                    dates.append(
                        (
                            param, low?.timeIntervalSince1970 ?? Self.distantPast,
                            high?.timeIntervalSince1970 ?? Self.distantFuture
                        ))
                case .reference(let url, let type, let id):
                    references.append((param, type, id, Self.isTypeAndID(url, type: type, id: id) ? nil : url))
                case .quantity(let number, let system, let code, let unit, _):
                    quantities.append((param, Self.double(number), system, code ?? unit))
                case .number(let number, _):
                    numbers.append((param, Self.double(number)))
                case .uri(let text):
                    uris.append((param, text))
                }
            }
        }
    }

    /// Every row as (table, values after `type` and `id`), for a backend to insert.
    var rows: [(table: String, values: [SQLArgument?])] {
        func text(_ value: String?) -> SQLArgument? { value.map { .text($0) } }
        var rows: [(String, [SQLArgument?])] = []
        for row in tokens {
            rows.append(("search_token", [.text(row.param), text(row.system), text(row.code), text(row.text)]))
        }
        for row in strings {
            rows.append(("search_string", [.text(row.param), .text(row.normalized), .text(row.exact)]))
        }
        for row in dates { rows.append(("search_date", [.text(row.param), .real(row.low), .real(row.high)])) }
        for row in references {
            rows.append(
                ("search_reference", [.text(row.param), text(row.targetType), text(row.targetID), text(row.url)]))
        }
        for row in numbers { rows.append(("search_number", [.text(row.param), .real(row.value)])) }
        for row in quantities {
            rows.append(("search_quantity", [.text(row.param), .real(row.value), text(row.system), text(row.code)]))
        }
        for row in uris { rows.append(("search_uri", [.text(row.param), .text(row.value)])) }
        return rows
    }

    /// Whether `url` is `type/id` exactly, compared over the strings' bytes (`elementsEqual` on their
    /// UTF-8 views stepped generic indices: 4,000 instructions a reference).
    static func isTypeAndID(_ url: String, type: String?, id: String?) -> Bool {
        guard let type, let id else { return false }
        return url.withUTF8Bytes { url in
            type.withUTF8Bytes { type in
                id.withUTF8Bytes { id in
                    url.count == type.count + 1 + id.count && url[type.count] == UInt8(ascii: "/")
                        && url.prefix(type.count).elementsEqual(type) && url.suffix(id.count).elementsEqual(id)
                }
            }
        }
    }

    static func double(_ decimal: Decimal) -> Double { NSDecimalNumber(decimal: decimal).doubleValue }

    /// The tables, in the order stores create and clear them.
    static let tables = [
        "search_token", "search_string", "search_date", "search_reference", "search_number", "search_quantity",
        "search_uri",
    ]
}
