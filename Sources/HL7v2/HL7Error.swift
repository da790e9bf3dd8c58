/// The one error type of the HL7v2 module: what is wrong with a message and where.
public struct HL7Error: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of failure this is.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        let rawValue: String
        /// The bytes are not an HL7 v2 message: no MSH, bad separators, a malformed segment.
        public static let syntax = Code(rawValue: "hl7-syntax")
        /// A path such as `PID-3[2].4.1` that is not well-formed.
        public static let path = Code(rawValue: "hl7-path")
        /// A message structure that is malformed, or a message that does not follow its structure.
        public static let structure = Code(rawValue: "hl7-structure")
        public var description: String { rawValue }
    }

    /// What kind of failure this is.
    public var code: Code
    /// A sentence saying what is wrong.
    public var message: String
    /// The 1-based position of the segment in the message (its line), when known.
    public var segmentNumber: Int?
    /// The segment's id (`PID`), when known.
    public var segment: String?
    /// The 1-based field number, when known.
    public var field: Int?

    /// Creates an error.
    public init(_ code: Code, _ message: String, segmentNumber: Int? = nil, segment: String? = nil, field: Int? = nil) {
        self.code = code
        self.message = message
        self.segmentNumber = segmentNumber
        self.segment = segment
        self.field = field
    }

    public var description: String {
        var location: [String] = []
        if let segmentNumber { location.append("segment \(segmentNumber)") }
        if let segment { location.append(field.map { "\(segment)-\($0)" } ?? segment) }
        let prefix = location.isEmpty ? "" : location.joined(separator: " ") + ": "
        return "\(prefix)\(message) [\(code)]"
    }
}
