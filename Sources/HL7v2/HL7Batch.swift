/// A batch file: optional FHS/BHS headers, messages each starting at an MSH, BTS/FTS trailers.
public struct HL7Batch: Sendable, Hashable {
    /// FHS and BHS segments, in order.
    public var headers: [HL7Segment]
    /// The messages of the batch.
    public var messages: [HL7Message]
    /// BTS and FTS segments, in order.
    public var trailers: [HL7Segment]

    /// Parses a file of messages, with or without batch envelopes.
    public init(parsing bytes: some Collection<UInt8>) throws(HL7Error) {
        let all = Array(bytes)
        let lines = HL7Message.segmentLines(all)
        guard let first = lines.first else { throw HL7Error(.syntax, "the file is empty") }
        // The separators of the envelope (FHS or BHS) or of the first message.
        let separators = try HL7Separators(header: first, segmentNumber: 1)
        headers = []
        messages = []
        trailers = []
        var current: [HL7Segment] = []
        var currentSeparators = separators
        func finish() {
            if !current.isEmpty { messages.append(HL7Message(separators: currentSeparators, segments: current)) }
            current = []
        }
        for (index, line) in lines.enumerated() {
            let id = String(decoding: line.prefix(3), as: UTF8.self)
            switch id {
            case "FHS", "BHS":
                finish()
                headers.append(
                    try HL7Message.segment(
                        line, separators: try HL7Separators(header: line, segmentNumber: index + 1), number: index + 1))
            case "BTS", "FTS":
                finish()
                trailers.append(try HL7Message.segment(line, separators: separators, number: index + 1))
            case "MSH":
                finish()
                currentSeparators = try HL7Separators(header: line, segmentNumber: index + 1)
                current.append(try HL7Message.segment(line, separators: currentSeparators, number: index + 1))
            default:
                guard !current.isEmpty else {
                    throw HL7Error(
                        .syntax, "the segment \(id) comes before any MSH", segmentNumber: index + 1, segment: id)
                }
                current.append(try HL7Message.segment(line, separators: currentSeparators, number: index + 1))
            }
        }
        finish()
    }

    /// The messages of a file as byte ranges, each from its MSH to the next MSH or envelope segment,
    /// with the line it starts on; nothing is parsed, so one broken message never hides the others.
    /// Lines before the first MSH that are not an envelope come back as a range of their own (a
    /// message without its MSH), so that they are reported, not dropped.
    public static func messageRanges(_ bytes: [UInt8]) -> [(range: Range<Int>, line: Int)] {
        var ranges: [(Range<Int>, Int)] = []
        var start: Int?
        var startLine = 0
        var line = 0
        var lineStart = 0
        func close(at end: Int) {
            if let begin = start, end > begin { ranges.append((begin..<end, startLine)) }
            start = nil
        }
        var index = 0
        while index <= bytes.count {
            if index == bytes.count || bytes[index] == 0x0D || bytes[index] == 0x0A {
                if index > lineStart {
                    line += 1
                    let id = bytes[lineStart..<min(lineStart + 3, index)]
                    if id.elementsEqual("MSH".utf8) {
                        close(at: lineStart)
                        start = lineStart
                        startLine = line
                    } else if ["FHS", "BHS", "BTS", "FTS"].contains(where: { id.elementsEqual($0.utf8) }) {
                        close(at: lineStart)
                    } else if start == nil {
                        start = lineStart
                        startLine = line
                    }
                }
                lineStart = index + 1
            }
            index += 1
        }
        close(at: bytes.count)
        return ranges
    }
}
