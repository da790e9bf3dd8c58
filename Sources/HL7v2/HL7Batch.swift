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
}
