/// MSA-1 acknowledgment codes (HL7 table 0008): `A*` for application acknowledgments, `C*` for the
/// accept (commit) acknowledgments of enhanced mode.
public enum HL7AcknowledgmentCode: String, Sendable, Hashable {
    /// Application accept, error, reject.
    case applicationAccept = "AA", applicationError = "AE", applicationReject = "AR"
    /// Commit accept, error, reject (enhanced mode).
    case commitAccept = "CA", commitError = "CE", commitReject = "CR"
}

/// How a step ended, for choosing the acknowledgment: done, failed (the sender may retry), or refused
/// (the sender must not resend as it is: unsupported type, version or processing id, malformed bytes).
public enum HL7Outcome: Sendable, Hashable {
    case success, error, reject
}

/// Which acknowledgments a message asks for (MSH-15 and MSH-16, HL7 table 0155).
///
/// With both fields empty the message is in original mode: one application acknowledgment (AA, AE or
/// AR) after processing. With either valued it is in enhanced mode: an accept acknowledgment (CA, CE
/// or CR) once the message is safely stored, and an application acknowledgment after processing, each
/// sent only under its condition. An enhanced-mode field left empty is read as "always": acknowledging
/// is the safe side.
public struct HL7AcknowledgmentPolicy: Sendable, Hashable {
    /// Table 0155.
    public enum Condition: String, Sendable, Hashable {
        case always = "AL", never = "NE", errorOnly = "ER", successOnly = "SU"

        func applies(to outcome: HL7Outcome) -> Bool {
            switch self {
            case .always: true
            case .never: false
            case .errorOnly: outcome != .success
            case .successOnly: outcome == .success
            }
        }
    }

    /// MSH-15 as sent.
    public var acceptCondition: Condition?
    /// MSH-16 as sent.
    public var applicationCondition: Condition?

    /// Reads MSH-15 and MSH-16; a value outside table 0155 counts as "always".
    public init(_ message: HL7Message) {
        func condition(_ path: String) -> Condition? {
            guard let text = (try? message.value(at: path))?.text else { return nil }
            return Condition(rawValue: text) ?? .always
        }
        acceptCondition = condition("MSH-15")
        applicationCondition = condition("MSH-16")
    }

    /// Whether the message uses enhanced acknowledgment mode.
    public var isEnhancedMode: Bool { acceptCondition != nil || applicationCondition != nil }

    /// The accept acknowledgment to send once storing ended with `outcome`, or `nil` for none (original
    /// mode has none; enhanced mode per MSH-15).
    public func acceptAcknowledgment(after outcome: HL7Outcome) -> HL7AcknowledgmentCode? {
        guard isEnhancedMode, (acceptCondition ?? .always).applies(to: outcome) else { return nil }
        switch outcome {
        case .success: return .commitAccept
        case .error: return .commitError
        case .reject: return .commitReject
        }
    }

    /// The application acknowledgment to send once processing ended with `outcome`, or `nil` for none
    /// (original mode always sends one; enhanced mode per MSH-16).
    public func applicationAcknowledgment(after outcome: HL7Outcome) -> HL7AcknowledgmentCode? {
        if isEnhancedMode, !(applicationCondition ?? .always).applies(to: outcome) { return nil }
        switch outcome {
        case .success: return .applicationAccept
        case .error: return .applicationError
        case .reject: return .applicationReject
        }
    }
}

/// One problem reported in an ERR segment: where, what (HL7 table 0357) and how serious.
public struct HL7AcknowledgmentIssue: Sendable, Hashable {
    /// HL7 table 0357 codes.
    public enum Code: String, Sendable, Hashable {
        case segmentSequenceError = "100", requiredFieldMissing = "101", dataTypeError = "102"
        case tableValueNotFound = "103", unsupportedMessageType = "200", unsupportedEventCode = "201"
        case unsupportedProcessingID = "202", unsupportedVersionID = "203", unknownKeyIdentifier = "204"
        case duplicateKeyIdentifier = "205", applicationRecordLocked = "206", applicationInternalError = "207"

        var text: String {
            switch self {
            case .segmentSequenceError: "Segment sequence error"
            case .requiredFieldMissing: "Required field missing"
            case .dataTypeError: "Data type error"
            case .tableValueNotFound: "Table value not found"
            case .unsupportedMessageType: "Unsupported message type"
            case .unsupportedEventCode: "Unsupported event code"
            case .unsupportedProcessingID: "Unsupported processing id"
            case .unsupportedVersionID: "Unsupported version id"
            case .unknownKeyIdentifier: "Unknown key identifier"
            case .duplicateKeyIdentifier: "Duplicate key identifier"
            case .applicationRecordLocked: "Application record locked"
            case .applicationInternalError: "Application internal error"
            }
        }
    }

    /// ERR-4 severity (table 0516).
    public enum Severity: String, Sendable, Hashable {
        case error = "E", warning = "W", information = "I", fatal = "F"
    }

    public var code: Code
    public var severity: Severity
    /// The segment id, its occurrence in the message (1-based), the field, and optionally component
    /// and subcomponent of the failing location.
    public var segment: String?
    public var segmentOccurrence: Int?
    public var field: Int?
    public var component: Int?
    /// What went wrong, for a person (ERR-8, or MSA-3 before v2.5). Never PHI: describe, do not quote.
    public var diagnostics: String

    public init(
        code: Code, severity: Severity = .error, segment: String? = nil, segmentOccurrence: Int? = nil,
        field: Int? = nil, component: Int? = nil, diagnostics: String
    ) {
        self.code = code
        self.severity = severity
        self.segment = segment
        self.segmentOccurrence = segmentOccurrence
        self.field = field
        self.component = component
        self.diagnostics = diagnostics
    }

    /// The issue for a message that could not be parsed.
    public init(_ error: HL7Error) {
        // ERR-2.2 counts occurrences of the segment id; a parse error knows the line, which goes in the text.
        self.init(
            code: error.field == nil ? .segmentSequenceError : .dataTypeError, severity: .error,
            segment: error.segment, field: error.field,
            diagnostics: (error.segmentNumber.map { "segment \($0): " } ?? "") + error.message)
    }
}

extension HL7Message {
    /// The acknowledgment of this message: MSH with sender and receiver swapped, `ACK^<event>^ACK`,
    /// the version and processing id of the original; MSA with the code and the original's control id;
    /// an ERR segment per issue (ERR-2 location, ERR-3 code, ERR-4 severity, ERR-8 text from v2.5 on;
    /// ERR-1 before it).
    public func acknowledgment(
        _ code: HL7AcknowledgmentCode, controlID: String, timestamp: String, issues: [HL7AcknowledgmentIssue] = []
    ) -> HL7Message {
        let escape = { (text: String) in HL7Escaping.encode(text, separators: self.separators) }
        func raw(_ path: String) -> String {
            (try? HL7Path(path)).flatMap { rawValue(at: $0) } ?? ""
        }
        let version = (try? value(at: "MSH-12.1"))?.text ?? "2.5.1"
        let isModernERR = Self.versionAtLeast(version, major: 2, minor: 5)
        let policy = HL7AcknowledgmentPolicy(self)
        let component = String(Character(Unicode.Scalar(separators.component)))
        let trigger = raw("MSH-9.2")
        var msh = [
            String(Character(Unicode.Scalar(separators.field))),
            String(decoding: separators.encodingCharacters, as: UTF8.self),
            raw("MSH-5"), raw("MSH-6"), raw("MSH-3"), raw("MSH-4"), timestamp, "",
            // Before v2.3.1 MSH-9 may hold the type alone; its ACK is then plain `ACK`.
            trigger.isEmpty ? "ACK" : ["ACK", trigger, "ACK"].joined(separator: component), escape(controlID),
            raw("MSH-11"),
            raw("MSH-12"),
        ]
        if policy.isEnhancedMode { msh += ["", "", "NE", "NE"] }
        var msa = [code.rawValue, raw("MSH-10")]
        if !isModernERR, let first = issues.first { msa.append(escape(first.diagnostics)) }
        var segments = [HL7Segment(id: "MSH", fields: msh), HL7Segment(id: "MSA", fields: msa)]
        for issue in issues {
            let location = [
                issue.segment ?? "", issue.segmentOccurrence.map(String.init) ?? "", issue.field.map(String.init) ?? "",
                "", issue.component.map(String.init) ?? "",
            ]
            let locationText = Self.trimmed(location).joined(separator: component)
            if isModernERR {
                let codeText = [issue.code.rawValue, escape(issue.code.text), "HL70357"].joined(separator: component)
                segments.append(
                    HL7Segment(
                        id: "ERR",
                        fields: [
                            "", locationText, codeText, issue.severity.rawValue, "", "", "", escape(issue.diagnostics),
                        ]))
            } else {
                let subcomponent = String(Character(Unicode.Scalar(separators.subcomponent ?? UInt8(ascii: "&"))))
                let codeText = [issue.code.rawValue, escape(issue.code.text), "HL70357"].joined(separator: subcomponent)
                let fields = Self.trimmed([
                    issue.segment ?? "", issue.segmentOccurrence.map(String.init) ?? "",
                    issue.field.map(String.init) ?? "", codeText,
                ])
                segments.append(HL7Segment(id: "ERR", fields: [fields.joined(separator: component)]))
            }
        }
        return HL7Message(separators: separators, segments: segments)
    }

    /// The rejection of bytes that did not parse: built from their MSH when it can be read (so the
    /// sender learns which message failed), else from a bare header. CR in enhanced mode, AR otherwise.
    public static func rejection(
        of bytes: some Collection<UInt8>, error: HL7Error, controlID: String, timestamp: String
    ) -> HL7Message {
        let lines = segmentLines(Array(bytes))
        let header =
            lines.first.flatMap { line in try? HL7Message(parsing: line) }
            ?? HL7Message(segments: [
                HL7Segment(id: "MSH", fields: ["|", "^~\\&", "", "", "", "", "", "", "", "", "P", "2.5.1"])
            ])
        let code: HL7AcknowledgmentCode =
            HL7AcknowledgmentPolicy(header).isEnhancedMode ? .commitReject : .applicationReject
        return header.acknowledgment(
            code, controlID: controlID, timestamp: timestamp, issues: [HL7AcknowledgmentIssue(error)])
    }

    private static func trimmed(_ parts: [String]) -> [String] {
        var parts = parts
        while parts.count > 1, parts.last == "" { parts.removeLast() }
        return parts
    }

    static func versionAtLeast(_ version: String, major: Int, minor: Int) -> Bool {
        let parts = version.split(separator: ".").compactMap { Int($0) }
        guard parts.count >= 2 else { return false }
        return parts[0] > major || (parts[0] == major && parts[1] >= minor)
    }
}
