// libFuzzer target: the HL7 v2 parser on arbitrary bytes. Every input must parse or throw an error
// naming the segment; what parses must encode and reparse to the same message, reading any path must
// not trap, grouping must keep every segment in order, and the acknowledgment (or, for what does not parse, the rejection) must itself parse.
import FuzzSupport
import HL7v2

let paths = ["MSH-9.2", "PID-3[2].4.1", "PID-5.1", "OBX[3]-5", "ZPD-1.1.1", "MSH-2", "PID-11[3].6"].compactMap {
    try? HL7Path($0)
}

runFuzzer { data, count in
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: count)) } ?? []
    do throws(HL7Error) {
        let message = try HL7Message(parsing: bytes)
        guard let again = try? HL7Message(parsing: message.encoded()), again == message else {
            preconditionFailure("an encoded message did not reparse to itself")
        }
        for path in paths { _ = message.value(at: path) }
        // Grouping by the message's own structure, or by ORU_R01 whatever it says, keeps every segment
        // exactly once and in order.
        for structure in [HL7MessageStructure.for(message), HL7MessageStructure.named("ORU_R01")].compactMap({ $0 }) {
            let grouped = HL7GroupedMessage(message, structure: structure)
            precondition(
                grouped.root.allSegmentIndices == Array(message.segments.indices), "grouping lost or moved a segment")
        }
        let ack = message.acknowledgment(.applicationAccept, controlID: "F1", timestamp: "20240101")
        precondition((try? HL7Message(parsing: ack.encoded())) != nil, "an acknowledgment that does not parse")
    } catch {
        precondition(error.code == .syntax, "an unexpected error code")
        let rejection = HL7Message.rejection(of: bytes, error: error, controlID: "F2", timestamp: "20240101")
        precondition((try? HL7Message(parsing: rejection.encoded())) != nil, "a rejection that does not parse")
    }
    _ = try? HL7Batch(parsing: bytes)
    return 0
}
