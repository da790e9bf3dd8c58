import Foundation
import Mapping

/// A folder of CSV exports, one table per `.csv` file (the file name without `.csv`), the first
/// record the header. A record with more or fewer fields than the header, or one the CSV reader
/// cannot read, is yielded as ``LegacyRecord/unreadable(_:)`` with its file and line, and reading
/// goes on with the next line.
public final class CSVSource: LegacySource {
    public let system: String
    let folder: String
    /// Key columns per table; a table without is keyed by line.
    let keys: [String: [String]]

    public init(folder: String, keys: [String: [String]] = [:]) throws {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue else {
            throw LegacySourceError("csv:\(folder): no such folder")
        }
        self.folder = folder
        self.keys = keys
        system = "csv:\((folder as NSString).lastPathComponent)"
    }

    /// The same folder with key columns for its tables (from a mapping spec's `key`s).
    public func keyed(by keys: [String: [String]]) throws -> CSVSource {
        try CSVSource(folder: folder, keys: keys)
    }

    func path(_ table: String) -> String { (folder as NSString).appendingPathComponent(table + ".csv") }

    func reader(_ table: String) throws -> CSVReader {
        guard let data = FileManager.default.contents(atPath: path(table)) else {
            throw LegacySourceError("\(system): \(table).csv cannot be read")
        }
        return CSVReader(bytes: Array(data), file: "\(table).csv")
    }

    public func tables() async throws -> [LegacyTable] {
        let files = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".csv") }.sorted()
        return try files.map { file in
            let name = String(file.dropLast(4))
            var reader = try reader(name)
            let header = (try? reader.next())?.fields ?? []
            var count = 0
            while true {
                do {
                    guard try reader.next() != nil else { break }
                } catch {}
                count += 1
            }
            return LegacyTable(
                name: name, columns: header.map { LegacyColumn(name: $0, declaredType: "") },
                primaryKey: keys[name] ?? [], foreignKeys: [], rowCount: count)
        }
    }

    public func scan(table: String, batchSize: Int, _ body: ([LegacyRecord]) async throws -> Void) async throws {
        var reader = try reader(table)
        let header: CSVReader.Record
        do {
            guard let first = try reader.next() else { return }
            header = first
        } catch {
            throw LegacySourceError("\(system): the header of \(table).csv cannot be read: \(error)")
        }
        let columns = SourceColumns(header.fields)
        let keyPositions = (keys[table] ?? []).compactMap { columns.position(of: $0) }
        var batch: [LegacyRecord] = []
        func locator(_ line: Int) -> String { "\(system) \(table).csv line \(line)" }
        while true {
            let record: CSVReader.Record
            do {
                guard let next = try reader.next() else { break }
                record = next
            } catch {
                batch.append(
                    .unreadable(
                        .init(
                            table: table, locator: locator(error.line), reason: error.description,
                            content: reader.skipped)))
                if batch.count >= batchSize {
                    try await body(batch)
                    batch.removeAll(keepingCapacity: true)
                }
                continue
            }
            if record.fields.count != header.fields.count {
                batch.append(
                    .unreadable(
                        .init(
                            table: table, locator: locator(record.line),
                            reason:
                                "\(table).csv:\(record.line): \(record.fields.count) fields where the header has \(header.fields.count)",
                            content: record.fields.joined(separator: ","))))
            } else {
                let values = record.fields.map { SourceValue.text($0) }
                let key =
                    keyPositions.isEmpty
                    ? "line=\(record.line)"
                    : keyPositions.map { "\(header.fields[$0])=\(record.fields[$0])" }.joined(separator: ",")
                batch.append(
                    .row(
                        SourceRow(
                            system: system, table: table, key: key, columns: columns, values: values,
                            line: record.line)))
            }
            if batch.count >= batchSize {
                try await body(batch)
                batch.removeAll(keepingCapacity: true)
            }
        }
        if !batch.isEmpty { try await body(batch) }
    }
}
