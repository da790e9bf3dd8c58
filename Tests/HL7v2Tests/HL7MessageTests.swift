import Foundation
import HL7v2
import Testing

@Suite struct HL7MessageTests {
    static let adt =
        [
            "MSH|^~\\&|REGADT|MCM|IFENG||199112311501||ADT^A04^ADT_A01|000001|P|2.5.1|||AL|NE",
            "EVN|A04|199112311501||",
            "PID|||191919^^^GENHOSP^MR~371-66-9256^^^USSSA^SS&2.16.840.1.113883.4.1&ISO||MASSIE^JAMES^A^^^^L||19560129|M|\"\"|||171 ZOBERLEIN^^ISHPEMING^MI^49849^\"\"^||(900)485-5344|(900)485-5344||S||10199925^^^GENHOSP^AN|371-66-9256||",
            "NK1|1|MASSIE^ELLEN|SPOUSE|171 ZOBERLEIN^^ISHPEMING^MI^49849^\"\"^|(900)485-5344|(900)545-1234~(900)545-1200|EC^EMERGENCY CONTACT",
            "PV1|1|O|O/R||||0148^ADDISON^JAMES|0148^ADDISON^JAMES|0148^ADDISON^JAMES|AMB|||||||0148^ADDISON^JAMES|S|1400|A|||||||||||||||||||GENHOSP|||||199501101410|",
            "OBX|1|NM|8302-2^Height^LN||172|cm",
            "OBX|2|NM|29463-7^Weight^LN||71|kg",
            "OBX|3|ST|8251-1^Note^LN||Lives alone\\.br\\uses a cane \\T\\ walker; 5\\S\\7 risk \\E\\ \\F\\ \\R\\ end",
            "ZPD|1|VIP^Very important person",
        ].joined(separator: "\r") + "\r"

    func parse(_ text: String) throws -> HL7Message {
        try HL7Message(parsing: Array(text.utf8))
    }

    @Test func fieldsComponentsRepetitionsAndSubcomponentsByPath() throws {
        let message = try parse(Self.adt)
        #expect(message.messageType == "ADT" && message.triggerEvent == "A04" && message.controlID == "000001")
        #expect(message.version == "2.5.1")
        #expect(try message.value(at: "MSH-1") == .text("|"))
        #expect(try message.value(at: "MSH-2") == .text("^~\\&"))
        #expect(try message.value(at: "PID-5") == .text("MASSIE^JAMES^A^^^^L"))
        #expect(try message.value(at: "PID-5.1") == .text("MASSIE"))
        #expect(try message.value(at: "PID-3[2].1") == .text("371-66-9256"))
        #expect(try message.value(at: "PID-3[2].4.1") == .text("USSSA"))
        #expect(try message.value(at: "PID-3[2].5.2") == .text("2.16.840.1.113883.4.1"))
        #expect(try message.value(at: "PID-3[3]") == .absent)
        #expect(try message.value(at: "OBX[2]-5") == .text("71"))
        #expect(try message.value(at: "OBX[3]-3.2") == .text("Note"))
        #expect(try message.value(at: "NK1-6[2]") == .text("(900)545-1200"))
        #expect(try message.values(at: "PID-3.4").map(\.text) == ["GENHOSP", "USSSA"])
        #expect(try message.value(at: "PID-99") == .absent)
        #expect(try message.value(at: "OBX[9]-5") == .absent)
    }

    @Test func explicitNullIsNotEmpty() throws {
        let message = try parse(Self.adt)
        #expect(try message.value(at: "PID-9") == .null)
        #expect(try message.value(at: "PID-12.6") == .null)
        #expect(try message.value(at: "PID-10") == .absent)
    }

    @Test func escapeSequencesDecodeAndFormattingIsKept() throws {
        let message = try parse(Self.adt)
        #expect(
            try message.value(at: "OBX[3]-5")
                == .text("Lives alone\\.br\\uses a cane & walker; 5^7 risk \\ | ~ end"))
        let separators = message.separators
        #expect(HL7Escaping.decode("\\X0D0A\\", separators: separators) == "\r\n")
        #expect(HL7Escaping.decode("\\XC3A9\\", separators: separators) == "é")
        #expect(HL7Escaping.decode("half \\F", separators: separators) == "half \\F")
        let text = "a|b^c~d\\e&f"
        #expect(HL7Escaping.decode(HL7Escaping.encode(text, separators: separators), separators: separators) == text)
        #expect(HL7Escaping.encode(text, separators: separators) == "a\\F\\b\\S\\c\\R\\d\\E\\e\\T\\f")
    }

    @Test func zSegmentsAreKept() throws {
        let message = try parse(Self.adt)
        let z = try #require(message.segments("ZPD").first)
        #expect(z.isZSegment)
        #expect(try message.value(at: "ZPD-2.2") == .text("Very important person"))
    }

    @Test(arguments: ["\r", "\n", "\r\n"])
    func anySegmentTerminatorParsesAndEncodingRoundTrips(_ terminator: String) throws {
        let text = Self.adt.replacingOccurrences(of: "\r", with: terminator)
        let message = try parse(text)
        #expect(message.segments.count == 9)
        #expect(message.encoded() == Array(Self.adt.utf8))
        #expect(try HL7Message(parsing: message.encoded()) == message)
    }

    @Test func anyLegalSeparatorsAreHonoured() throws {
        let text =
            "MSH*@#!$*SEND*FAC*RECV*FAC*20240101**ORU@R01*42*P*2.3\rPID***123@@@MRN$9$ISO#456**DOE@JANE\rOBX*1*ST*X**a !F! b !S! c"
        let message = try parse(text)
        #expect(message.separators.field == UInt8(ascii: "*"))
        #expect(try message.value(at: "MSH-9.2") == .text("R01"))
        #expect(try message.value(at: "PID-3.4.2") == .text("9"))
        #expect(try message.value(at: "PID-3[2]") == .text("456"))
        #expect(try message.value(at: "PID-5.2") == .text("JANE"))
        #expect(try message.value(at: "OBX-5") == .text("a * b @ c"))
        #expect(message.encoded() == Array((text + "\r").utf8))
    }

    @Test(arguments: ["2.1", "2.2", "2.3", "2.3.1", "2.4", "2.5", "2.5.1", "2.6", "2.7", "2.7.1", "2.8"])
    func everyVersionFrom21To28Parses(_ version: String) throws {
        let encoding = version.hasPrefix("2.7") || version.hasPrefix("2.8") ? "^~\\&#" : "^~\\&"
        let message = try parse("MSH|\(encoding)|A|B|C|D|20240101||ADT^A01|1|P|\(version)\rPID|||1")
        #expect(message.version == version)
        #expect(try message.value(at: "PID-3") == .text("1"))
    }

    @Test func theImplementationGuidesSampleRoundTrips() throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent(
                "shared/v2-to-fhir/samples/messages")
        let file = folder.appendingPathComponent("Message.hl7_MDM_T02.txt")
        let bytes = Array(try Data(contentsOf: file))
        let message = try HL7Message(parsing: bytes)
        #expect(message.messageType == "MDM" && message.triggerEvent == "T02")
        #expect(try message.value(at: "PID-5.1") == .text("JOHN"))
        let normalized = String(decoding: bytes, as: UTF8.self).replacingOccurrences(of: "\r\n", with: "\r")
        #expect(
            String(decoding: message.encoded(), as: UTF8.self) == normalized + (normalized.hasSuffix("\r") ? "" : "\r"))
    }

    @Test func batchesSplitIntoMessagesWithTheirEnvelopes() throws {
        let text = [
            "FHS|^~\\&|LAB|H1|||20240101", "BHS|^~\\&|LAB|H1|||20240101",
            "MSH|^~\\&|LAB|H1|EHR|H1|20240101||ORU^R01|1|P|2.5.1", "PID|||1", "OBX|1|NM|GLU||98",
            "MSH|^~\\&|LAB|H1|EHR|H1|20240101||ORU^R01|2|P|2.5.1", "PID|||2",
            "BTS|2", "FTS|1",
        ].joined(separator: "\r")
        let batch = try HL7Batch(parsing: Array(text.utf8))
        #expect(batch.headers.map(\.id) == ["FHS", "BHS"])
        #expect(batch.trailers.map(\.id) == ["BTS", "FTS"])
        #expect(batch.messages.map(\.controlID) == ["1", "2"])
        #expect(try batch.messages[0].value(at: "OBX-5") == .text("98"))
    }
}

@Suite struct HL7MalformedTests {
    @Test(arguments: [
        ("", nil as Int?, "empty"),
        ("PID|||1", 1, "must start with an MSH"),
        ("MSH|^|A", 1, "2 to 5 encoding characters"),
        ("MSH|^^~\\|A", 1, "distinct"),
        ("MSH|^~\\&|A\rpid|1", 2, "is not a segment id"),
        ("MSH|^~\\&|A\rPID1", 2, "followed by the field separator"),
        ("MSH|^~\\&|A\rPI", 2, "three-character id"),
    ])
    func malformedMessagesNameTheSegment(_ text: String, _ segment: Int?, _ message: String) {
        #expect {
            _ = try HL7Message(parsing: Array(text.utf8))
        } throws: { error in
            guard let error = error as? HL7Error else { return false }
            return error.code == .syntax && error.segmentNumber == segment && error.message.contains(message)
        }
    }

    @Test func invalidUTF8NamesTheField() {
        var bytes = Array("MSH|^~\\&|A\rPID|||".utf8)
        bytes += [0xFF, 0xFE]
        #expect {
            _ = try HL7Message(parsing: bytes)
        } throws: { error in
            guard let error = error as? HL7Error else { return false }
            return error.segmentNumber == 2 && error.segment == "PID" && error.field == 3
        }
    }

    @Test(arguments: ["PID", "PID-", "PID-0", "PID-3[0]", "PID-3.", "pid-3", "PID-3.1.2.3", "PID-3[2", "PID[x]-3"])
    func malformedPathsAreRefused(_ path: String) {
        #expect(throws: HL7Error.self) { _ = try HL7Path(path) }
    }

    @Test func pathsPrintAsTheyParse() throws {
        for text in ["PID-5", "PID-5.1", "PID-3[2].4.1", "OBX[3]-5"] {
            #expect(try HL7Path(text).description == text)
        }
    }
}

@Suite struct HL7CharacterSetTests {
    @Test func latin1DeclaredInMSH18IsRead() throws {
        // "MÜLLER^JOSÉ" in ISO 8859-1: Ü is 0xDC, É is 0xC9.
        var bytes = Array("MSH|^~\\&|A|B|C|D|20240101||ADT^A08|1|P|2.5||||||8859/1\rPID|||1||M".utf8)
        bytes += [0xDC] + Array("LLER^JOS".utf8) + [0xC9] + [0x0D]
        let message = try HL7Message(parsing: bytes)
        #expect(try message.value(at: "PID-5.1") == .text("MÜLLER"))
        #expect(try message.value(at: "PID-5.2") == .text("JOSÉ"))
        // Written back in ISO 8859-1, byte for byte, and read again to the same message.
        #expect(message.encoded() == bytes)
        #expect(try HL7Message(parsing: message.encoded()) == message)
    }

    /// Found by FuzzHL7v2: MSH-18 with repetitions (`8859/1~…`) was read as Latin-1 but written as
    /// UTF-8, because reading and writing looked at the field differently. Other separators too.
    @Test(arguments: [
        "MSH|^~\\&|A|B|C|D|20240101||ADT^A08|1|P|2.5||||||8859/1~UNICODE UTF-8|",
        "MSH#:*\\$#A#B#C#D#20240101##ADT:A08#1#P#2.5######8859/1:x*y#",
    ])
    func latin1DeclaredFirstAmongRepetitionsIsWrittenBackAsRead(header: String) throws {
        let field = header.utf8[header.utf8.index(header.utf8.startIndex, offsetBy: 3)]
        let fieldSeparator = String(UnicodeScalar(field))
        var bytes = Array(
            "\(header)\rPID\(fieldSeparator)\(fieldSeparator)\(fieldSeparator)1\(fieldSeparator)\(fieldSeparator)M".utf8
        )
        bytes += [0xDC] + Array("LLER".utf8) + [0x0D]
        let message = try HL7Message(parsing: bytes)
        #expect(try message.value(at: "PID-5.1") == .text("MÜLLER"))
        #expect(message.encoded() == bytes)
        #expect(try HL7Message(parsing: message.encoded()) == message)
    }

    @Test func undeclaredNonUTF8IsAnErrorNamingTheField() throws {
        var bytes = Array("MSH|^~\\&|A|B|C|D|20240101||ADT^A08|1|P|2.5\rPID|||1||M".utf8)
        bytes += [0xDC] + Array("LLER".utf8) + [0x0D]
        #expect {
            try HL7Message(parsing: bytes)
        } throws: { error in
            "\(error)".contains("segment 2 PID-5") && "\(error)".contains("MSH-18")
        }
    }
}
