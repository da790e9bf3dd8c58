import FHIR
import Foundation
import HL7v2
import Testing

@testable import Mapping

@Suite struct V2MapsTests {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    static let shared = packageRoot.deletingLastPathComponent().appendingPathComponent("shared")

    @Test func committedMapsAreWhatTheGeneratorWrites() throws {
        let tables = try V2MapCompiler.readTables(folder: Self.shared.appendingPathComponent("v2-to-fhir/mappings"))
        #expect(tables.count > 280)
        let generated = V2MapCompiler.compile(tables)
        let committed = try String(
            contentsOf: Self.packageRoot.appendingPathComponent("Sources/Mapping/Resources/v2-to-fhir-maps.json"),
            encoding: .utf8)
        #expect(generated == committed, "run scripts/generate-v2-maps and commit the result")
    }

    @Test func theShippedMapsHoldEveryMessageTheIssueNames() throws {
        let maps = try V2Maps.shipped()
        for name in [
            "ADT_A01", "ADT_A02", "ADT_A05", "ADT_A06", "ADT_A09", "ADT_A11", "ADT_A17", "ORU_R01", "ORM_O01",
            "OML_O21", "RDE_O11", "MDM_T02", "SIU_S12", "VXU_V04",
        ] {
            #expect(maps.messages[name]?.isEmpty == false, "\(name)")
        }
        #expect(maps.segmentMap("PID[Patient]")?.contains { $0.source == "PID-5" && $0.target == "name[1]" } == true)
        #expect(maps.dataTypeMap("xpn[humanname]") != nil, "names are looked up without regard to case")
        #expect(maps.concept("F", in: "AdministrativeSex")?.code == "female")
        // Ferry's additions: RXE for pharmacy orders, the result status vocabulary the IG names but lacks.
        #expect(maps.segmentMap("RXE[MedicationRequest]") != nil)
        #expect(maps.concept("F", in: "ResultStatus[Non-Queries]")?.code == "final")
        #expect(
            maps.messages["VXU_V04"]?.contains { $0.references?.contains("Immunization[1].patient") == true } == true)
    }

    /// The IG's conditions Ferry cannot read, pinned: a new one fails here instead of passing unseen.
    @Test func theConditionsFerryCannotReadAreKnown() throws {
        let maps = try V2Maps.shipped()
        #expect(
            maps.unreadableConditions == [
                "IF IAM-15 VALUED AND NOT \"SEL\"",
                "IF NOT EQUAL TO \"=\"",
                "IF NOT VALUED",
                "IF NOT VALUED AND RXA-21 NOT EQUALS \"D\"",
                "IF NOT VALUED OR NOT IN (\"ISO\", \"UUID\", \"DNS\", \"URI\")",
                "IF PID-11 LST.COUNT EQUALS 1 AND PID-11.9 IS VALUED NOT EQUAL PID-12",
                "IF PL.11 VALUED AND IF PL.8 VALUED AND PL.1 NOT VALUED AND PL.2 NOT VALUED AND PL3.NOT VALUED",
                "IF PL.8 VALUED AND PL.1 NOT VALUED AND PL.2 NOT VALUED AND PL3.NOT VALUED",
                "IF XCN.19 NOT VALUED XCN.20 NOT VALUED",
            ])
    }

    @Test(arguments: [
        ("IF PID-7 LENGTH GREATER THAN 8", ["PID-7": ["197104221530"]], true),
        ("IF PID-7 LENGTH GREATER THAN 8", ["PID-7": ["19710422"]], false),
        ("IF OBX-2 EQUALS \"SN\" AND OBX-5.1 NOT EQUALS \"<>\"", ["OBX-2": ["SN"], "OBX-5.1": ["<"]], true),
        ("IF OBX-2 EQUALS \"SN\" AND OBX-5.1 NOT EQUALS \"<>\"", ["OBX-2": ["SN"], "OBX-5.1": ["<>"]], false),
        ("IF XAD.7 IN (\"BA\",\"C\",\"RH\")", ["XAD-7": ["C"]], true),
        ("IF XAD.7 IN (\"BA\",\"C\",\"RH\")", ["XAD-7": ["H"]], false),
        ("IF PID-33 AND PID-34 VALUED", ["PID-33": ["x"], "PID-34": ["y"]], true),
        ("IF PID-33 AND PID-34 VALUED", ["PID-33": ["x"]], false),
        ("IF OBX-33 COUNT>1", ["OBX-33": ["a", "b"]], true),
        ("IF OBX-5 LST.count LESS THAN OR EQUALS 1 OR OBX-2 IS \"NA\"", ["OBX-5": ["a", "b"], "OBX-2": ["NA"]], true),
        (
            "IF OBX-5 LST.count LESS THAN OR EQUALS 1 OR OBX-2 IS \"NA\"", ["OBX-5": ["a", "b"], "OBX-2": ["NM"]], false
        ),
        ("IF TQ1-3.9 IS EMPTY", [:], true),
        ("IF XCN.19 DOES NOT EXIST AND IF XCN.20 DOES NOT EXIST", ["XCN-20": ["x"]], false),
        ("IF ORC VALUED", ["ORC-0": ["ORC"]], true),
        ("IF (OBX-2 EQUALS \"SN\"  AND OBX-5.1  EQUALS \"<>\"", ["OBX-2": ["SN"], "OBX-5.1": ["<>"]], true),
        ("IF HD-3 = \"ISO\"", ["HD-3": ["ISO"]], true),
    ])
    func conditionsReadAndHold(text: String, values: [String: [String]], expected: Bool) throws {
        /// The values by path as the test writes them (`OBX-5.1`).
        struct Values: V2ConditionValues {
            let byPath: [String: [String]]
            func values(at path: V2Condition.Path) -> [String] {
                byPath["\(path.owner)-\(path.position)" + (path.subPosition.map { ".\($0)" } ?? "")] ?? []
            }
        }
        let condition = try V2Condition(text)
        var reader = Values(byPath: values)
        #expect(condition.holds(&reader) == expected, "\(text) → \(condition)")
    }

    @Test func unreadableConditionsThrow() {
        #expect(throws: (any Error).self) { try V2Condition("IF WHATEVER HAPPENS") }
        #expect(throws: (any Error).self) { try V2Condition("IF PID-7 LENGTH GREATER THAN many") }
    }
}
