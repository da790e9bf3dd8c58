import Foundation
import Testing

@testable import HL7v2

@Suite struct HL7StructureTests {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    static let shared = packageRoot.deletingLastPathComponent().appendingPathComponent("shared")

    func message(_ lines: [String]) throws -> HL7Message {
        try HL7Message(parsing: Array((lines.joined(separator: "\r") + "\r").utf8))
    }

    /// The segment ids of a group's own children, nested groups shown as `NAME(...)`.
    func outline(_ group: HL7Group, _ message: HL7Message) -> String {
        group.children.map { child in
            switch child {
            case .segment(let index): message.segments[index].id
            case .group(let nested): "\(nested.name)(\(outline(nested, message)))"
            }
        }.joined(separator: " ")
    }

    @Test func committedTableIsWhatTheGeneratorWrites() throws {
        let folder = Self.shared.appendingPathComponent("v2-to-fhir/mappings/messages")
        let tables = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".csv") }
            .sorted()
            .map {
                HL7StructureCompiler.Table(
                    fileName: $0, csv: try String(contentsOf: folder.appendingPathComponent($0), encoding: .utf8))
            }
        let supplement = try String(
            contentsOf: Self.packageRoot.appendingPathComponent("scripts/data/hl7v2-structures-supplement.txt"),
            encoding: .utf8)
        let generated = try HL7StructureCompiler.compile(tables: tables, supplement: supplement)
        let committed = try String(
            contentsOf: Self.packageRoot.appendingPathComponent("Sources/HL7v2/Structures/HL7StructureTable.swift"),
            encoding: .utf8)
        #expect(generated == committed, "run scripts/generate-hl7-structures and commit the result")
        #expect(tables.count == 13)
        #expect(HL7MessageStructure.shipped.count == HL7StructureTable.notations.count, "every entry parses")
    }

    @Test func theStructuresTheIssueNamesShipAndReadBackFromTheirNotation() throws {
        for name in [
            "ADT_A01", "ADT_A02", "ADT_A03", "ADT_A05", "ADT_A09", "ADT_A39", "ORU_R01", "ORM_O01", "OML_O21",
            "RDE_O11", "MDM_T02", "SIU_S12", "VXU_V04", "ACK",
        ] {
            let structure = try #require(HL7MessageStructure.named(name), "\(name)")
            #expect(try HL7MessageStructure(name: name, notation: structure.notation) == structure)
            #expect(structure.elements.first == .segment("MSH", .one))
        }
        let oru = try #require(HL7MessageStructure.named("ORU_R01"))
        guard case .group("PATIENT_RESULT", let result, .oneOrMore) = oru.elements[3] else {
            Issue.record("ORU_R01's fourth element should be PATIENT_RESULT, one or more")
            return
        }
        #expect(result.map(\.label) == ["PATIENT", "ORDER_OBSERVATION"])
        #expect(result[1].startingSegments == ["ORC", "OBR"])
    }

    /// The matcher asks an element whether a segment can begin it without building its set of
    /// starting ids: the same answer for every element of every shipped structure and every id.
    @Test func anElementTellsWhatCanStartItAsItsSetDoes() {
        func elements(_ list: [HL7StructureElement]) -> [HL7StructureElement] {
            list.flatMap { element -> [HL7StructureElement] in
                switch element {
                case .segment: [element]
                case .group(_, let nested, _), .choice(let nested, _): [element] + elements(nested)
                }
            }
        }
        var checked = 0
        for structure in HL7MessageStructure.shipped.values {
            let ids = structure.segmentIDs.union(["ZZ1", ""])
            for element in elements(structure.elements) {
                let starts = element.startingSegments
                for id in ids {
                    #expect(
                        element.canStart(with: id) == starts.contains(id), "\(structure.name) \(element.label) \(id)")
                    checked += 1
                }
            }
        }
        #expect(checked > 10_000)
    }

    /// The segment ids a structure names anywhere are worked out once and follow its elements.
    @Test func aStructureKnowsEverySegmentItNames() throws {
        var structure = try HL7MessageStructure(
            name: "ORU_R01",
            notation: "MSH PATIENT_RESULT(PATIENT(PID NTE*)? ORDER(<OBR|ORC> OBSERVATION(OBX NTE*)*)+)+")
        #expect(structure.segmentIDs == ["MSH", "PID", "NTE", "OBR", "ORC", "OBX"])
        structure.elements.append(.segment("ZPI", .optional))
        #expect(structure.segmentIDs.contains("ZPI"))
        #expect(HL7MessageStructure(name: "ORU_R01", elements: structure.elements) == structure)
    }

    @Test func triggerEventsFindTheStructureTheyShare() throws {
        let a04 = try message(["MSH|^~\\&|A|B|C|D|20240101||ADT^A04|1|P|2.3", "EVN|A04", "PID|||1", "PV1||O"])
        #expect(HL7MessageStructure.for(a04)?.name == "ADT_A01")
        let a40 = try message(["MSH|^~\\&|A|B|C|D|20240101||ADT^A40|1|P|2.5", "EVN|A40", "PID|||1", "MRG|2"])
        #expect(HL7MessageStructure.for(a40)?.name == "ADT_A39")
        let declared = try message(["MSH|^~\\&|A|B|C|D|20240101||ADT^A08^ADT_A05|1|P|2.5"])
        #expect(HL7MessageStructure.for(declared)?.name == "ADT_A05", "MSH-9.3 wins when Ferry knows it")
        let unknown = try message(["MSH|^~\\&|A|B|C|D|20240101||ZZZ^Z01|1|P|2.5"])
        #expect(HL7MessageStructure.for(unknown) == nil)
        #expect(HL7GroupedMessage(unknown) == nil)
    }

    @Test func observationsBelongToTheirOrderAndNotesToTheirParent() throws {
        let oru = try message([
            "MSH|^~\\&|LAB|HOSP|EHR|HOSP|20240101120000||ORU^R01|77|P|2.5.1",
            "PID|||555^^^HOSP^MR||DOE^JANE",
            "NTE|1||patient note",
            "PV1||O",
            "ORC|RE|A1",
            "OBR|1|A1||CBC",
            "NTE|1||order note",
            "OBX|1|NM|WBC||7.1",
            "NTE|1||wbc note",
            "OBX|2|NM|HGB||13.2",
            "ZLB|local",
            "OBR|2|A2||BMP",
            "OBX|1|NM|NA||140",
            "OBX|2|NM|K||4.1",
            "NTE|1||potassium note",
        ])
        let grouped = HL7GroupedMessage(oru, structure: try #require(HL7MessageStructure.for(oru)))
        #expect(grouped.issues.isEmpty, "\(grouped.issues)")
        #expect(
            outline(grouped.root, oru)
                == "MSH PATIENT_RESULT(PATIENT(PID NTE VISIT(PV1)) "
                + "ORDER_OBSERVATION(COMMON_ORDER(ORC) OBR NTE OBSERVATION(OBX NTE) OBSERVATION(OBX ZLB)) "
                + "ORDER_OBSERVATION(OBR OBSERVATION(OBX) OBSERVATION(OBX NTE)))")
        #expect(try grouped.value(at: "PATIENT_RESULT/ORDER_OBSERVATION[2]/OBSERVATION[2]/OBX-3") == .text("K"))
        #expect(
            try grouped.value(at: "PATIENT_RESULT/ORDER_OBSERVATION[2]/OBSERVATION[2]/NTE-3") == .text("potassium note")
        )
        #expect(try grouped.value(at: "PATIENT_RESULT/ORDER_OBSERVATION/NTE-3") == .text("order note"))
        #expect(try grouped.value(at: "PATIENT_RESULT/PATIENT/PID-5.2") == .text("JANE"))
        #expect(try grouped.value(at: "PATIENT_RESULT/ORDER_OBSERVATION[3]/OBR-4") == .absent)
        #expect(try grouped.value(at: "MSH-10") == .text("77"))
        // The potassium OBX (segment 14, index 13) sits in the second order's second observation.
        #expect(
            grouped.groups(containing: 13).map(\.name) == [
                "ORU_R01", "PATIENT_RESULT", "ORDER_OBSERVATION", "OBSERVATION",
            ])
        #expect(grouped.groups(containing: 12).dropLast().last?.segmentIndices("OBR", in: oru) == [11])
        #expect(Set(grouped.root.allSegmentIndices) == Set(0..<oru.segments.count), "nothing dropped")
        #expect(grouped.root.allSegmentIndices == Array(0..<oru.segments.count), "message order kept")
    }

    @Test func aSecondPatientStartsANewPatientResult() throws {
        let oru = try message([
            "MSH|^~\\&|LAB|HOSP|EHR|HOSP|20240101120000||ORU^R01^ORU_R01|78|P|2.5.1",
            "PID|||1", "OBR|1", "OBX|1|ST|X||a",
            "PID|||2", "OBR|1", "OBX|1|ST|X||b",
        ])
        let grouped = try #require(HL7GroupedMessage(oru))
        #expect(grouped.root.groups("PATIENT_RESULT").count == 2)
        #expect(try grouped.value(at: "PATIENT_RESULT[2]/ORDER_OBSERVATION/OBSERVATION/OBX-5") == .text("b"))
        #expect(grouped.issues.isEmpty)
    }

    @Test func departuresFromTheStructureAreReportedAndTheSegmentsKept() throws {
        let oru = try message([
            "MSH|^~\\&|LAB|HOSP|EHR|HOSP|20240101120000||ORU^R01|79|P|2.5.1",
            "PID|||1",
            "OBX|1|ST|X||orphan",
            "ORC|RE",
            "NTE|1||no OBR follows",
            "EVN|A01",
            "UAC|KERB",
            "ZXX|site",
        ])
        let grouped = try #require(HL7GroupedMessage(oru))
        #expect(
            grouped.issues.map(\.description) == [
                "segment 6 EVN: not expected here by ORU_R01/PATIENT_RESULT[1]/ORDER_OBSERVATION[1]",
                "ORU_R01/PATIENT_RESULT[1]/ORDER_OBSERVATION[1]: required OBR is missing",
                "segment 7 UAC: not expected here by ORU_R01",
            ])
        #expect(grouped.issues.contains { $0.kind == .missing && $0.element == "OBR" })
        #expect(grouped.root.allSegmentIndices == Array(0..<oru.segments.count), "every segment kept, in order")
        // The orphan OBX went to the patient's observations, where the structure allows one.
        #expect(try grouped.value(at: "PATIENT_RESULT/PATIENT/PATIENT_OBSERVATION/OBX-5") == .text("orphan"))
    }

    @Test func aChoiceTakesOneOfItsSegments() throws {
        let orm = try message([
            "MSH|^~\\&|RX|HOSP|PH|HOSP|20240101120000||ORM^O01|80|P|2.3",
            "PID|||1", "PV1||I",
            "ORC|NW|1", "RXO|RX1", "NTE|1||take with food",
            "ORC|NW|2", "OBR|1|2||XRAY",
        ])
        let grouped = try #require(HL7GroupedMessage(orm))
        #expect(grouped.issues.isEmpty, "\(grouped.issues)")
        #expect(
            outline(grouped.root, orm)
                == "MSH PATIENT(PID VISIT(PV1)) ORDER(ORC ORDER_DETAIL(RXO NTE)) ORDER(ORC ORDER_DETAIL(OBR))")
    }

    @Test func theIGSampleMessageGroupsWithoutIssues() throws {
        let folder = Self.shared.appendingPathComponent("v2-to-fhir/samples/messages")
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".txt") }
        #expect(!names.isEmpty)
        for name in names {
            let message = try HL7Message(parsing: try Data(contentsOf: folder.appendingPathComponent(name)))
            let grouped = try #require(HL7GroupedMessage(message), "\(name)")
            #expect(grouped.issues.isEmpty, "\(name): \(grouped.issues)")
            #expect(grouped.root.allSegmentIndices == Array(0..<message.segments.count), "\(name)")
        }
    }

    @Test func theShippedExampleMessagesGroupWithoutIssues() throws {
        let folder = Self.packageRoot.appendingPathComponent("Examples/hl7v2")
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".hl7") }
        #expect(names.count >= 2)
        for name in names {
            let batch = try HL7Batch(parsing: try Data(contentsOf: folder.appendingPathComponent(name)))
            for message in batch.messages {
                let grouped = try #require(HL7GroupedMessage(message), "\(name)")
                #expect(grouped.issues.isEmpty, "\(name): \(grouped.issues)")
            }
        }
    }

    @Test(arguments: [
        ("MSH PID(", "expected ')'"),
        ("MSH <PID|>", "a segment id or a group name"),
        ("MSH PI", "three-character segment id"),
        ("MSH G()", "an element in group G"),
        ("MSH ) PID", "a segment id or a group name"),
    ])
    func malformedNotationSaysWhere(notation: String, expected: String) {
        #expect {
            try HL7MessageStructure(name: "T", notation: notation)
        } throws: { error in
            "\(error)".contains(expected) && "\(error)".contains("structure T, character")
        }
    }

    @Test func badGroupPathsAreErrors() throws {
        let grouped = try #require(
            HL7GroupedMessage(try message(["MSH|^~\\&|A|B|C|D|20240101||ORU^R01|1|P|2.5", "PID|||1", "OBR|1"])))
        #expect(throws: HL7Error.self) { try grouped.value(at: "PATIENT_RESULT[0]/PID-3") }
        #expect(throws: HL7Error.self) { try grouped.value(at: "patient/PID-3") }
        #expect(throws: HL7Error.self) { try grouped.value(at: "PATIENT_RESULT/") }
    }
}
