import Foundation

/// One value a resource is indexed under for a search parameter, typed by the parameter's type.
public enum SearchValue: Sendable, Hashable {
    /// A code with its system (`Coding`, `CodeableConcept`, `Identifier`, `ContactPoint`, `code`,
    /// `boolean`, …); `text` holds the display or text that `:text` searches.
    case token(system: String?, code: String?, text: String?)
    /// A string as written and in the form searches compare (lower case, accents removed, spaces collapsed).
    case string(String, normalized: String)
    /// The instants a date stands for, both in UTC: `2020-03` is 2020-03-01T00:00:00.000Z to
    /// 2020-03-31T23:59:59.999Z; a Period's open end is `nil`.
    case date(low: Date?, high: Date?)
    /// A reference as written, with the resource type and id when it names them.
    case reference(String, type: String?, id: String?)
    /// A quantity with its unit; `canonical` is the value in UCUM base units, for unit-aware searches.
    case quantity(value: Decimal, system: String?, code: String?, unit: String?, canonical: CanonicalQuantity?)
    /// A number with the precision it was written with (`1.50` searches as 1.495 to 1.505).
    case number(Decimal, scale: Int)
    case uri(String)

    /// A quantity in UCUM base units: `5 mg` is 0.005 with unit `g`.
    public struct CanonicalQuantity: Sendable, Hashable {
        /// The value in base units.
        public var value: Decimal
        /// The base units, e.g. `g.m-3`.
        public var unit: String
    }

    /// The folded form strings are searched by: lower case, diacritics removed, whitespace collapsed.
    public static func normalize(_ text: String) -> String {
        // Most text is ASCII: lower-cased and its spaces collapsed byte by byte, the same as folding does.
        var ascii: [UInt8] = []
        ascii.reserveCapacity(text.utf8.count)
        var pendingSpace = false
        for byte in text.utf8 {
            guard byte < 0x80 else { return folded(text) }
            switch byte {
            case 0x09...0x0D, 0x20:
                pendingSpace = !ascii.isEmpty
            default:
                if pendingSpace {
                    ascii.append(0x20)
                    pendingSpace = false
                }
                ascii.append(byte >= 0x41 && byte <= 0x5A ? byte + 0x20 : byte)
            }
        }
        return String(decoding: ascii, as: UTF8.self)
    }

    private static func folded(_ text: String) -> String {
        text.folding(options: [.caseInsensitive, .diacriticInsensitive], locale: Locale(identifier: "en_US_POSIX"))
            .split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }
}

extension SearchValue {
    /// The first and last instant a FHIR date, dateTime or instant stands for, in UTC (`2020-03` is
    /// 2020-03-01T00:00:00.000Z to 2020-03-31T23:59:59.999Z); a value without a zone is read as UTC.
    public static func dateRange(_ text: String) -> (low: Date, high: Date)? {
        SearchParameterExtractor.range(of: text)
    }
}
