/// Reads CSV as legacy exports write it (RFC 4180 and its common departures): a UTF-8 byte-order
/// mark, Latin-1 files (a file that is not valid UTF-8 is read as Latin-1), quoted fields with
/// embedded separators, quotes (`""`) and line breaks, `\r\n`, `\n` or `\r` line ends, and a last
/// line without one. A quote left open, or a quote inside an unquoted field, is an error naming the
/// file, line and column; rows with the wrong number of fields are the caller's to judge (each
/// record carries its line).
public struct CSVReader: Sendable {
    /// The text encoding the reader settled on.
    public enum Encoding: String, Sendable {
        case utf8 = "UTF-8"
        case latin1 = "ISO-8859-1"
    }

    /// One record: its fields and the line it starts on (1-based).
    public struct Record: Sendable, Hashable {
        public var line: Int
        public var fields: [String]
    }

    public let file: String
    public let encoding: Encoding
    let bytes: [UInt8]
    let separator: UInt8
    private var position: Int
    private var line = 1

    /// A reader over a file's bytes; `file` names it in errors.
    public init(bytes: [UInt8], file: String, separator: UInt8 = UInt8(ascii: ",")) {
        self.file = file
        self.bytes = bytes
        self.separator = separator
        let hasBOM = bytes.starts(with: [0xEF, 0xBB, 0xBF])
        position = hasBOM ? 3 : 0
        let isUTF8 = hasBOM || String(validating: bytes[...], as: UTF8.self) != nil
        encoding = isUTF8 ? .utf8 : .latin1
    }

    /// The text of the last record that could not be read, from its start to where reading went on
    /// (the next line, or the end for a quote never closed).
    public private(set) var skipped = ""

    /// The next record, or `nil` at the end. Blank lines between records are skipped. After an
    /// error, the next call goes on with the line after the bad one (``skipped`` holds what was passed).
    public mutating func next() throws(CSVError) -> Record? {
        while position < bytes.count, bytes[position] == 0x0A || bytes[position] == 0x0D {
            consumeLineEnd()
        }
        guard position < bytes.count else { return nil }
        let recordStart = position
        do {
            return try record()
        } catch {
            // Go on after the bad line; a quote never closed swallowed the rest of the file.
            if error.message.hasPrefix("the quoted field") {
                position = bytes.count
            } else {
                while position < bytes.count, bytes[position] != 0x0A, bytes[position] != 0x0D { position += 1 }
            }
            skipped = text(bytes[recordStart..<position])
            throw error
        }
    }

    private mutating func record() throws(CSVError) -> Record {
        let start = line
        var fields: [String] = []
        while true {
            let field = try readField()
            fields.append(field)
            guard position < bytes.count else { break }
            let byte = bytes[position]
            if byte == separator {
                // A separator at the very end makes one more, empty, field (read next time round).
                position += 1
                continue
            }
            consumeLineEnd()
            break
        }
        return Record(line: start, fields: fields)
    }

    /// Every remaining record.
    public mutating func readAll() throws(CSVError) -> [Record] {
        var records: [Record] = []
        while let record = try next() { records.append(record) }
        return records
    }

    private mutating func consumeLineEnd() {
        if bytes[position] == 0x0D, position + 1 < bytes.count, bytes[position + 1] == 0x0A { position += 1 }
        position += 1
        line += 1
    }

    private func text(_ slice: ArraySlice<UInt8>) -> String {
        switch encoding {
        case .utf8: String(decoding: slice, as: UTF8.self)
        case .latin1: String(String.UnicodeScalarView(slice.map { Unicode.Scalar($0) }))
        }
    }

    private func column(at index: Int) -> Int {
        var start = index
        while start > 0, bytes[start - 1] != 0x0A, bytes[start - 1] != 0x0D { start -= 1 }
        return index - start + 1
    }

    private mutating func readField() throws(CSVError) -> String {
        let quote = UInt8(ascii: "\"")
        guard position < bytes.count, bytes[position] == quote else {
            let start = position
            while position < bytes.count {
                let byte = bytes[position]
                if byte == separator || byte == 0x0A || byte == 0x0D { break }
                if byte == quote {
                    throw CSVError(
                        file: file, line: line, column: column(at: position),
                        message: "a quote inside an unquoted field (quote the whole field and double the quote)")
                }
                position += 1
            }
            return text(bytes[start..<position])
        }
        let openLine = line
        let openColumn = column(at: position)
        position += 1
        var value: [UInt8] = []
        var segmentStart = position
        while true {
            guard position < bytes.count else {
                throw CSVError(
                    file: file, line: openLine, column: openColumn,
                    message: "the quoted field opened here is never closed")
            }
            let byte = bytes[position]
            if byte == quote {
                value += bytes[segmentStart..<position]
                if position + 1 < bytes.count, bytes[position + 1] == quote {
                    value.append(quote)
                    position += 2
                    segmentStart = position
                    continue
                }
                position += 1
                break
            }
            if byte == 0x0A || (byte == 0x0D && !(position + 1 < bytes.count && bytes[position + 1] == 0x0A)) {
                line += 1
            }
            position += 1
        }
        if position < bytes.count, bytes[position] != separator, bytes[position] != 0x0A, bytes[position] != 0x0D {
            throw CSVError(
                file: file, line: line, column: column(at: position),
                message: "text after a closing quote (a quote inside a quoted field is written twice)")
        }
        return text(value[...])
    }
}

/// A CSV file that cannot be read, with where.
public struct CSVError: Error, Sendable, Hashable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int
    public var message: String

    public init(file: String, line: Int, column: Int, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
    }

    public var description: String { "\(file):\(line):\(column): \(message)" }
}

/// Writes CSV fields the way ``CSVReader`` reads them back.
public enum CSVWriter {
    /// A field, quoted when it holds a separator, a quote or a line break, with quotes doubled. The test
    /// is on Unicode scalars, not characters: a quote followed by a combining mark is one character
    /// but still a quote byte to a CSV reader.
    public static func field(_ text: String, quoteAlways: Bool = false) -> String {
        let special = text.unicodeScalars.contains { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }
        guard quoteAlways || special else { return text }
        var scalars = String.UnicodeScalarView()
        scalars.append("\"")
        for scalar in text.unicodeScalars {
            if scalar == "\"" { scalars.append("\"") }
            scalars.append(scalar)
        }
        scalars.append("\"")
        return String(scalars)
    }
}
