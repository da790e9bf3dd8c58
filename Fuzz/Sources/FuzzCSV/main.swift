// libFuzzer target: the CSV reader on arbitrary bytes. Every call must return a record, the end, or
// an error naming a line and column inside the input; reading must always move on (no record read
// twice, no endless loop); and what it reads must write back as CSV that reads the same.
import FuzzSupport
import Mapping

runFuzzer { data, count in
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: count)) } ?? []
    var reader = CSVReader(bytes: bytes, file: "fuzz.csv")
    var records: [CSVReader.Record] = []
    var lastLine = 0
    let lines = bytes.count(where: { $0 == 0x0A || $0 == 0x0D }) + 1
    for _ in 0...(bytes.count + 1) {
        do throws(CSVError) {
            guard let record = try reader.next() else { break }
            precondition(record.line > lastLine || records.isEmpty && record.line >= 1, "a record went backwards")
            precondition(record.line <= lines, "a record beyond the last line")
            lastLine = record.line
            records.append(record)
        } catch {
            precondition(error.line >= 1 && error.line <= lines && error.column >= 1, "an error outside the input")
            lastLine = max(lastLine, error.line)
        }
    }
    precondition((try? reader.next()) == nil, "the reader did not reach the end")
    // Written back with every field quoted, the records read the same.
    guard reader.encoding == .utf8 else { return 0 }
    let text = records.map { $0.fields.map { CSVWriter.field($0, quoteAlways: true) }.joined(separator: ",") }
        .joined(separator: "\n")
    var again = CSVReader(bytes: Array(text.utf8), file: "again.csv")
    let reread = (try? again.readAll())?.map(\.fields)
    precondition(reread == records.map(\.fields), "written back, the records read differently")
    return 0
}
