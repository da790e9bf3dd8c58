import HL7v2
import Testing

@Suite struct HL7AcknowledgmentTests {
    static func message(
        _ header: String, version: String = "2.5.1", _ rest: String = "PID|||191919^^^GENHOSP^MR"
    ) throws
        -> HL7Message
    {
        try HL7Message(
            parsing: Array(
                "MSH|^~\\&|REGADT|MCM|IFENG|HUB|20240101||ADT^A04^ADT_A01|000001|P|\(version)\(header)\r\(rest)".utf8))
    }

    func text(_ message: HL7Message) -> String {
        String(decoding: message.encoded(), as: UTF8.self)
    }

    @Test func originalModeAnswersWithOneApplicationAcknowledgment() throws {
        let adt = try Self.message("")
        let policy = HL7AcknowledgmentPolicy(adt)
        #expect(!policy.isEnhancedMode)
        #expect(policy.acceptAcknowledgment(after: .success) == nil)
        #expect(policy.applicationAcknowledgment(after: .success) == .applicationAccept)
        #expect(policy.applicationAcknowledgment(after: .error) == .applicationError)
        #expect(policy.applicationAcknowledgment(after: .reject) == .applicationReject)
        let ack = adt.acknowledgment(.applicationAccept, controlID: "ACK1", timestamp: "20240101120000")
        #expect(text(ack) == "MSH|^~\\&|IFENG|HUB|REGADT|MCM|20240101120000||ACK^A04^ACK|ACK1|P|2.5.1\rMSA|AA|000001\r")
    }

    @Test(arguments: [
        (
            "AL", "NE",
            [HL7Outcome.success: HL7AcknowledgmentCode.commitAccept, .error: .commitError, .reject: .commitReject],
            [HL7Outcome: HL7AcknowledgmentCode]()
        ),
        ("ER", "SU", [.error: .commitError, .reject: .commitReject], [.success: .applicationAccept]),
        ("SU", "ER", [.success: .commitAccept], [.error: .applicationError, .reject: .applicationReject]),
        ("NE", "AL", [:], [.success: .applicationAccept, .error: .applicationError, .reject: .applicationReject]),
        (
            "", "AL", [.success: .commitAccept, .error: .commitError, .reject: .commitReject],
            [.success: .applicationAccept, .error: .applicationError, .reject: .applicationReject]
        ),
    ])
    func enhancedModeFollowsMSH15AndMSH16(
        _ accept: String, _ application: String, _ accepts: [HL7Outcome: HL7AcknowledgmentCode],
        _ applications: [HL7Outcome: HL7AcknowledgmentCode]
    ) throws {
        let policy = HL7AcknowledgmentPolicy(try Self.message("|||\(accept)|\(application)"))
        #expect(policy.isEnhancedMode)
        for outcome in [HL7Outcome.success, .error, .reject] {
            #expect(policy.acceptAcknowledgment(after: outcome) == accepts[outcome], "\(accept) \(outcome)")
            #expect(
                policy.applicationAcknowledgment(after: outcome) == applications[outcome], "\(application) \(outcome)")
        }
    }

    @Test func aTypeWithoutTriggerEventIsAcknowledgedAsPlainACK() throws {
        let old = try HL7Message(parsing: Array("MSH|^~\\&|A|B|C|D|199001011200||ADT|9|P|2.1\rEVN|A01".utf8))
        let ack = old.acknowledgment(.applicationAccept, controlID: "X", timestamp: "199001011201")
        #expect(try ack.value(at: "MSH-9") == .text("ACK"))
        #expect(try ack.value(at: "MSA-2") == .text("9"))
    }

    @Test func enhancedModeAcknowledgmentsAskForNoAcknowledgment() throws {
        let ack = try Self.message("|||AL|AL").acknowledgment(.commitAccept, controlID: "C1", timestamp: "20240101")
        #expect(try ack.value(at: "MSH-15") == .text("NE"))
        #expect(try ack.value(at: "MSH-16") == .text("NE"))
        #expect(try ack.value(at: "MSA-1") == .text("CA"))
    }

    @Test func errorsNameTheFailingLocationInERR() throws {
        let issue = HL7AcknowledgmentIssue(
            code: .requiredFieldMissing, segment: "PID", segmentOccurrence: 1, field: 3,
            diagnostics: "PID-3 holds no identifier with an assigning authority")
        let modern = try Self.message("").acknowledgment(
            .applicationError, controlID: "A2", timestamp: "20240101", issues: [issue])
        #expect(try modern.value(at: "MSA-1") == .text("AE"))
        #expect(try modern.value(at: "ERR-2") == .text("PID^1^3"))
        #expect(try modern.value(at: "ERR-3.1") == .text("101"))
        #expect(try modern.value(at: "ERR-3.3") == .text("HL70357"))
        #expect(try modern.value(at: "ERR-4") == .text("E"))
        #expect(try modern.value(at: "ERR-8") == .text("PID-3 holds no identifier with an assigning authority"))
        // Before v2.5 the location and code share ERR-1, and the text goes in MSA-3.
        let old = try Self.message("", version: "2.3").acknowledgment(
            .applicationError, controlID: "A3", timestamp: "20240101", issues: [issue])
        #expect(try old.value(at: "ERR-1") == .text("PID^1^3^101&Required field missing&HL70357"))
        #expect(try old.value(at: "ERR-1.4.1") == .text("101"))
        #expect(try old.value(at: "MSA-3") == .text("PID-3 holds no identifier with an assigning authority"))
    }

    @Test func unparsableMessagesAreRejectedWithTheirControlID() {
        let bytes = Array("MSH|^~\\&|LAB|H1|EHR|H1|20240101||ORU^R01|77|P|2.5.1\rPID|||1\rob x|1".utf8)
        var caught: HL7Error?
        do { _ = try HL7Message(parsing: bytes) } catch { caught = error }
        guard let error = caught else {
            Issue.record("the message parsed")
            return
        }
        let ack = HL7Message.rejection(of: bytes, error: error, controlID: "R1", timestamp: "20240101")
        #expect((try? ack.value(at: "MSA-1")) == .text("AR"))
        #expect((try? ack.value(at: "MSA-2")) == .text("77"))
        #expect((try? ack.value(at: "MSH-9")) == .text("ACK^R01^ACK"))
        #expect((try? ack.value(at: "ERR-3.1")) == .text("100"))
        #expect((try? ack.value(at: "ERR-8"))?.text?.hasPrefix("segment 3: ") == true)
        let garbage = HL7Message.rejection(
            of: Array("not hl7 at all".utf8), error: HL7Error(.syntax, "no MSH"), controlID: "R2", timestamp: "20240101"
        )
        #expect((try? garbage.value(at: "MSA-1")) == .text("AR"))
        #expect((try? HL7Message(parsing: garbage.encoded())) == garbage)
    }
}

/// Found by FuzzHL7v2: an error text quoting the input's control characters broke the rejection's ERR
/// segment in two, so the sender got an acknowledgment that did not parse.
@Suite struct HL7ControlCharacterTests {
    @Test(arguments: [[UInt8](), [0x00, 0x0D], [0x0B, 0x0A, 0x4D], Array("PID|1\r\n".utf8)])
    func rejectionsOfAnyBytesParse(bytes: [UInt8]) throws {
        do throws(HL7Error) {
            _ = try HL7Message(parsing: bytes)
            Issue.record("these bytes are not a message")
        } catch {
            let rejection = HL7Message.rejection(of: bytes, error: error, controlID: "R1", timestamp: "20240101")
            let reparsed = try HL7Message(parsing: rejection.encoded())
            #expect(try reparsed.value(at: "MSA-1") == .text("AR"))
            // The sender reads the whole reason, control characters and all.
            #expect(try reparsed.value(at: "ERR-8").text?.contains(error.message) == true, "\(error)")
        }
    }

    @Test func controlCharactersAreEscapedAndComeBack() throws {
        let text = "line one\rline two\n\u{0}end"
        let encoded = HL7Escaping.encode(text, separators: .standard)
        #expect(!encoded.contains("\r") && !encoded.contains("\n"))
        #expect(encoded == "line one\\X0D\\line two\\X0A\\\\X00\\end")
        #expect(HL7Escaping.decode(encoded, separators: .standard) == text)
    }
}
