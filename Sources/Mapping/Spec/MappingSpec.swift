import Foundation

/// A declarative mapping from relational or CSV sources to FHIR: per source table, the resource it
/// becomes, the id rule, the elements by FHIR path, transforms, value maps, ConceptMaps, conditions,
/// lookups into other tables, and references to resources made from other tables.
///
/// Specs are written in YAML (`docs/mapping-specs.md`) and loaded with ``MappingSpec/load(path:)``,
/// which names the file, line and column of every mistake it finds.
public struct MappingSpec: Sendable {
    /// The spec's name (`openemr-synthetic`).
    public var name: String
    /// Semantic version; resources and Provenance name it.
    public var version: String
    /// A URI naming the legacy system: part of every id and of every Provenance.
    public var system: String
    /// The zone of local times when a mapping names none.
    public var zone: TimeZone
    public var changelog: [Change]
    public var conceptMaps: [String: ConceptMapTable]
    public var valueMaps: [String: ValueMap]
    public var lookups: [String: Lookup]
    public var mappings: [TableMapping]
    /// Rows of a table left out before any mapping sees them, by table.
    public var filters: [String: [Rule]] = [:]
    /// The spec file, for messages.
    public var file: String

    /// One entry of the change log: who changed the spec and who approved it.
    public struct Change: Sendable, Hashable {
        public var version: String
        public var date: String
        public var author: String
        public var approver: String
        public var summary: String
    }

    /// Source codes to target codes, with what to do with a code the map lacks.
    public struct ValueMap: Sendable {
        public var name: String
        public var entries: [String: String]
        /// Keys compared without regard to case.
        public var caseInsensitive: Bool

        func target(_ source: String) -> String? {
            entries[source] ?? (caseInsensitive ? entries[source.lowercased()] : nil)
        }
    }

    /// A table read whole and kept by a key column, for values joined from it (`facility.timezone`).
    public struct Lookup: Sendable, Hashable {
        public var name: String
        public var table: String
        public var key: String
    }

    /// A condition on a row, named so that rows it leaves out are counted under its name.
    public struct Rule: Sendable {
        public var name: String
        public var condition: Condition
    }

    /// A test of a row's values.
    public indirect enum Condition: Sendable {
        /// The column's value (trimmed) is one of these.
        case oneOf(column: String, values: [String])
        /// The column has a value (not null, not blank).
        case present(column: String)
        case not(Condition)
        case all([Condition])
        case any([Condition])
    }

    /// One source table (or a part of it, by a `where` rule) mapped to one resource type.
    public struct TableMapping: Sendable {
        public var name: String
        public var table: String
        public var resource: String
        /// Columns whose values make the record's key (and, by default, the resource's id).
        public var key: [String]
        /// The id rule; by default the key.
        public var id: Template?
        /// The column that says which patient a row belongs to (a migration keeps a patient's rows
        /// in one partition); by default the key.
        public var partition: String?
        /// Rows this mapping takes (a table may feed several mappings, `lists` by type).
        public var selection: Rule?
        /// Rows left out on purpose, by name.
        public var filters: [Rule]
        /// The zone of this table's local times.
        public var zone: ZoneRule?
        public var elements: [ElementRule]
        /// Where the mapping stands in the spec file.
        public var line: Int
    }

    /// Where a table's local times are: a fixed zone, or a zone named by the row (or a lookup).
    public enum ZoneRule: Sendable {
        case fixed(TimeZone)
        case value(ValueSource)
    }

    /// One element assignment: a FHIR path in the resource and where its value comes from.
    public struct ElementRule: Sendable {
        /// `name[0].given[1]`, as written.
        public var path: String
        let steps: [TargetStep]
        public var value: ValueRule
        public var line: Int
        /// Whether the path leads to a Reference (or its `reference`): `Type/{key}` templates there
        /// name the resource another mapping makes.
        var isReference = false
    }

    /// Where a value comes from and what is done to it.
    public struct ValueRule: Sendable {
        public var source: ValueSource
        public var transform: Transform?
        /// Assign only when this holds.
        public var condition: Condition?
        /// A row without this value is dead-lettered rather than mapped without it.
        public var required: Bool
    }

    /// The origin of a value.
    public enum ValueSource: Sendable {
        case column(String)
        case template(Template)
        case constant(String)
        /// A column of another table's row, found by this row's `key` column.
        case lookup(name: String, key: String, column: String)
        /// A reference to the resource another mapping makes from the row with this key.
        case reference(mapping: String, key: Template)
    }

    /// What a value goes through before it is written.
    public enum Transform: Sendable {
        /// Local date or date-time text in one of these formats (`yyyy-MM-dd`, `MM/dd/yyyy hh:mm a`).
        case temporal(formats: [String])
        /// Through a value map.
        case valueMap(String)
        /// A local code through a ConceptMap, the original coding kept beside the standard one.
        case concept(map: String, display: ValueSource?)
        /// A person's name in one text (`Last, First Middle` or `First Middle Last`) into a HumanName.
        case humanName
        /// An address in one text (`street, city, ST 12345`) into an Address.
        case address
        /// A number with its unit (a column) into a Quantity, UCUM code when the unit is known.
        case quantity(unit: ValueSource?)
        /// Letters and digits as they are, upper case.
        case upper
        /// Digits only (phone numbers, SSNs).
        case digits
        /// The text's UTF-8 bytes in base64 (an Attachment's `data`).
        case base64
    }
}

/// Text with `{column}` placeholders: `Patient/{pid}`, `{fname} {lname}`.
public struct Template: Sendable, Hashable {
    public enum Part: Sendable, Hashable {
        case literal(String)
        case column(String)
    }

    public var parts: [Part]

    /// Reads `{name}` placeholders; `nil` when a brace is left open.
    public init?(_ text: String) {
        var parts: [Part] = []
        var rest = Substring(text)
        while let open = rest.firstIndex(of: "{") {
            if open > rest.startIndex { parts.append(.literal(String(rest[..<open]))) }
            guard let close = rest[open...].firstIndex(of: "}") else { return nil }
            let name = rest[rest.index(after: open)..<close].trimmingCharacters(in: .whitespaces)
            guard !name.isEmpty else { return nil }
            parts.append(.column(name))
            rest = rest[rest.index(after: close)...]
        }
        if !rest.isEmpty { parts.append(.literal(String(rest))) }
        self.parts = parts
    }

    public init(column: String) { parts = [.column(column)] }

    /// The columns the template reads.
    public var columns: [String] {
        parts.compactMap { if case .column(let name) = $0 { name } else { nil } }
    }

    /// The text for a row; `nil` when a column it names has no value.
    public func render(_ row: SourceRow) -> String? {
        var result = ""
        for part in parts {
            switch part {
            case .literal(let text): result += text
            case .column(let name):
                guard let value = row[name]?.text else { return nil }
                result += value
            }
        }
        return result
    }
}
