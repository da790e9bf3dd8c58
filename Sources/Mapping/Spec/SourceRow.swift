import FHIR

/// One value of a legacy record, as the source holds it.
public enum SourceValue: Sendable, Hashable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])

    /// The value as text, `nil` for null, blank text and blobs: legacy systems write "nothing" both
    /// ways, and a mapping treats them alike.
    public var text: String? {
        switch self {
        case .null, .blob: return nil
        case .integer(let value): return String(value)
        case .real(let value):
            return value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
        case .text(let value):
            let trimmed = Self.trimmed(value)
            return trimmed.isEmpty ? nil : trimmed
        }
    }

    /// The value as JSON, for dead letters and row hashes (blobs as their length: rows are named by
    /// their data, not copied whole).
    public var json: JSON {
        switch self {
        case .null: .null
        case .integer(let value): .number(String(value))
        case .real(let value): value.isFinite ? .number(String(value)) : .string(String(value))
        case .text(let value): .string(value)
        case .blob(let bytes): .string("blob:\(bytes.count) bytes")
        }
    }

    static func trimmed(_ text: String) -> String {
        // Most values start and end with a visible ASCII character: nothing to trim, no Unicode lookup.
        if let first = text.utf8.first, let last = text.utf8.last, first > 0x20, first < 0x7F, last > 0x20,
            last < 0x7F
        {
            return text
        }
        guard let first = text.unicodeScalars.first, let last = text.unicodeScalars.last,
            first.properties.isWhitespace || last.properties.isWhitespace
        else { return text }
        let scalars = text.unicodeScalars
        let start = scalars.firstIndex { !$0.properties.isWhitespace } ?? scalars.endIndex
        let end = scalars.lastIndex { !$0.properties.isWhitespace }.map { scalars.index(after: $0) } ?? start
        return String(scalars[start..<end])
    }
}

/// The column names of one table, shared by all of its rows.
public final class SourceColumns: Sendable {
    public let names: [String]
    let positions: [String: Int]
    /// The columns in canonical JSON key order (by UTF-8 bytes), each with its key written out
    /// (`"name":`): a row's hash writes its canonical JSON without sorting or building it.
    let canonical: [(position: Int, key: [UInt8])]

    public init(_ names: [String]) {
        self.names = names
        // A repeated name keeps its last column, as the row's JSON object does.
        var last: [String: Int] = [:]
        for (position, name) in names.enumerated() { last[name] = position }
        canonical = last.values.sorted { JSONWriter.keyPrecedes(names[$0], names[$1]) }.map { position in
            var key: [UInt8] = []
            JSONWriter.writeString(names[position], into: &key)
            key.append(UInt8(ascii: ":"))
            return (position, key)
        }
        var positions: [String: Int] = [:]
        for (index, name) in names.enumerated() where positions[name] == nil {
            positions[name] = index
            // Column names are matched without regard to case, as SQL does.
            positions[name.lowercased()] = positions[name.lowercased()] ?? index
        }
        self.positions = positions
    }

    /// The position of a column, by exact name or else regardless of case.
    public func position(of name: String) -> Int? { positions[name] ?? positions[name.lowercased()] }
}

/// One record of a legacy source with where it came from: the system, the table (or file) and its key.
public struct SourceRow: Sendable {
    /// The source system (`sqlite:legacy.db`, `csv:exports/`).
    public var system: String
    /// The table, or the CSV file's name without `.csv`.
    public var table: String
    /// The record's key: its primary key values (joined by `|` when composite), or its line number.
    public var key: String
    public var columns: SourceColumns
    public var values: [SourceValue]
    /// Where in a file the record started (CSV), for messages.
    public var line: Int?

    public init(
        system: String, table: String, key: String, columns: SourceColumns, values: [SourceValue], line: Int? = nil
    ) {
        self.system = system
        self.table = table
        self.key = key
        self.columns = columns
        self.values = values
        self.line = line
    }

    /// The value of a column; `nil` when the table has no such column.
    public subscript(column: String) -> SourceValue? {
        guard let position = columns.position(of: column), position < values.count else { return nil }
        return values[position]
    }

    /// `sqlite:legacy.db patient_data pid=17` (and the line, for files).
    public var locator: String {
        "\(system) \(table) \(key)" + (line.map { " (line \($0))" } ?? "")
    }

    /// The record as a JSON object (columns in source order), for dead letters and hashes.
    public var json: JSON {
        .object(
            JSONObject(
                columns.names.enumerated().map { index, name in
                    (name, index < values.count ? values[index].json : .null)
                }))
    }

    /// SHA-256 of the record's canonical JSON: the same record, the same hash, in every run.
    public var sha256: String {
        var bytes: [UInt8] = [UInt8(ascii: "{")]
        bytes.reserveCapacity(512)
        let writer = JSONWriter(layout: .canonical)
        for (index, column) in columns.canonical.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            bytes += column.key
            let value = column.position < values.count ? values[column.position] : .null
            if case .text(let text) = value {
                JSONWriter.writeString(text, into: &bytes)
            } else {
                writer.write(value.json, into: &bytes)
            }
        }
        bytes.append(UInt8(ascii: "}"))
        // The same bytes as `json.canonicalBytes` (tested), written without building or sorting the tree.
        return sha256Hex(bytes)
    }
}
