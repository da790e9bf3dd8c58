import Foundation
import Mapping

/// The records a matcher compares: their ids, where each was read, and each field's normalized
/// values packed in one byte buffer per field (a million records stay a few dozen megabytes).
public struct LinkRecords: Sendable {
    public let fields: [LinkField]
    public private(set) var ids: [String] = []
    /// Where each record was read (`file:line`), for the decision log.
    public private(set) var origins: [String] = []
    var columns: [PackedColumn]

    public init(fields: [LinkField]) {
        self.fields = fields
        columns = fields.map { _ in PackedColumn() }
    }

    public var count: Int { ids.count }

    /// Adds a record; `values` are the fields' raw texts, in the order of `fields`.
    public mutating func append(id: String, origin: String, values: [String]) {
        ids.append(id)
        origins.append(origin)
        for (index, field) in fields.enumerated() {
            columns[index].append(field.normalize(index < values.count ? values[index] : ""))
        }
    }

    /// Another input's records after these (for linking two inputs: the first's records come first).
    public mutating func append(contentsOf other: LinkRecords) {
        for index in 0..<other.count {
            ids.append(other.ids[index])
            origins.append(other.origins[index])
            for field in fields.indices {
                let column = other.columns[field]
                columns[field].append(Array(column.bytes[column.range(index)]))
            }
        }
    }

    /// Reads a CSV file with a header row: `id` names the id column, the fields their columns.
    public static func csv(path: String, id: String, fields: [LinkField]) throws -> LinkRecords {
        guard let data = FileManager.default.contents(atPath: path) else { throw LinkError("\(path): cannot be read") }
        var reader = CSVReader(bytes: [UInt8](data), file: path)
        guard let header = try reader.next() else { throw LinkError("\(path): empty, no header row") }
        let names = header.fields.map { $0.trimmingCharacters(in: .whitespaces) }
        func position(_ column: String) throws -> Int {
            guard let index = names.firstIndex(of: column) else {
                throw LinkError(
                    "\(path):\(header.line): no column '\(column)' (columns: \(names.joined(separator: ", ")))")
            }
            return index
        }
        let idColumn = try position(id)
        let positions = try fields.map { try position($0.column) }
        var records = LinkRecords(fields: fields)
        var seen = Set<String>()
        while let record = try reader.next() {
            guard record.fields.count == names.count else {
                throw LinkError(
                    "\(path):\(record.line): \(record.fields.count) fields where the header has \(names.count)")
            }
            let identifier = record.fields[idColumn]
            guard !identifier.isEmpty, seen.insert(identifier).inserted else {
                throw LinkError("\(path):\(record.line): the id '\(identifier)' is empty or repeated")
            }
            records.append(
                id: identifier, origin: "\(path):\(record.line)", values: positions.map { record.fields[$0] })
        }
        return records
    }
}

/// Values of one field, one after another in a byte buffer.
struct PackedColumn: Sendable {
    var bytes: [UInt8] = []
    var starts: [Int32] = [0]

    mutating func append(_ value: [UInt8]) {
        bytes += value
        starts.append(Int32(bytes.count))
    }

    func range(_ index: Int) -> Range<Int> { Int(starts[index])..<Int(starts[index + 1]) }

    func isEmpty(_ index: Int) -> Bool { starts[index] == starts[index + 1] }

    /// The values of several columns, readable without copying while `body` runs.
    struct Values: @unchecked Sendable {
        let bytes: [UnsafeBufferPointer<UInt8>]
        let starts: [UnsafeBufferPointer<Int32>]

        func value(_ field: Int, _ record: Int) -> UnsafeBufferPointer<UInt8> {
            let starts = starts[field]
            return UnsafeBufferPointer(rebasing: bytes[field][Int(starts[record])..<Int(starts[record + 1])])
        }
    }

    /// Runs `body` with the columns' buffers held (each column's arrays pinned by a nested closure).
    static func withValues<R>(
        _ columns: ArraySlice<PackedColumn>, bytes: [UnsafeBufferPointer<UInt8>] = [],
        starts: [UnsafeBufferPointer<Int32>] = [], _ body: (Values) -> R
    ) -> R {
        guard let first = columns.first else { return body(Values(bytes: bytes, starts: starts)) }
        return first.bytes.withUnsafeBufferPointer { firstBytes in
            first.starts.withUnsafeBufferPointer { firstStarts in
                withValues(columns.dropFirst(), bytes: bytes + [firstBytes], starts: starts + [firstStarts], body)
            }
        }
    }
}
