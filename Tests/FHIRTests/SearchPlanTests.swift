import Foundation
import Testing

@testable import FHIR

/// The extractor skips a parameter whose expression reads only top-level elements the resource does
/// not have (`ExpressionStart`). Skipping must never change what is extracted.
@Suite struct SearchPlanTests {
    static let skipping = SearchParameterExtractor(definitions: TestSupport.definitions)
    static let evaluatingAll = SearchParameterExtractor(
        definitions: TestSupport.definitions, skipsAbsentElements: false)

    static func start(_ text: String, _ type: String) throws -> ExpressionStart? {
        ExpressionStart(try FHIRPathExpression(text).root, resourceType: type)
    }

    @Test func theStartOfAnExpressionIsReadFromItsSyntax() throws {
        #expect(try Self.start("Observation.code", "Observation") == .members(["code"]))
        #expect(try Self.start("Resource.meta.lastUpdated", "Patient") == .members(["meta"]))
        #expect(
            try Self.start("Observation.code | Observation.component.code", "Observation")
                == .members(["code", "component"]))
        #expect(try Self.start("(Observation.value as Quantity)", "Observation") == .members(["value"]))
        #expect(try Self.start("Patient.name.where(use = 'official').first()", "Patient") == .members(["name"]))
        #expect(try Self.start("Patient.extension('http://x')", "Patient") == .members(["extension"]))
        #expect(try Self.start("Patient.link.other.resolve()", "Patient") == .members(["link"]))
        #expect(try Self.start("name[0]", "Patient") == .members(["name"]))
        #expect(try Self.start("Patient", "Patient") == .resource)
        #expect(try Self.start("Patient.where(active = true)", "Patient") == .resource)
        // Unknown starts: the expression is always evaluated.
        #expect(try Self.start("Patient.name.exists()", "Patient") == nil)  // true or false, never empty
        #expect(try Self.start("Patient.name.count()", "Patient") == nil)
        #expect(try Self.start("Patient.name.empty()", "Patient") == nil)
        #expect(try Self.start("Patient.name | %resource.id", "Patient") == nil)
        #expect(try Self.start("Patient.name | Patient", "Patient") == nil)
        #expect(try Self.start("Patient.active and Patient.deceased", "Patient") == nil)
        #expect(try Self.start("Observation.code", "Patient") == nil)
        #expect(try Self.start("Patient.select(name)", "Patient") == nil)
        #expect(try Self.start("iif(Patient.active, 'a', 'b')", "Patient") == nil)
    }

    @Test func anElementIsFoundUnderEveryNameJSONGivesIt() throws {
        let selector = ExpressionSelector([["birthDate"], ["value"], ["multipleBirth"], ["code", "subject"], nil])
        func selected(_ text: String) throws -> [Bool] {
            selector.selected(in: try #require(JSON(parsing: Data(text.utf8)).objectValue))
        }
        #expect(try selected(#"{"birthDate":"2001"}"#) == [true, false, false, false, true])
        #expect(try selected(#"{"_birthDate":{"extension":[]}}"#) == [true, false, false, false, true])
        #expect(try selected(#"{"valueQuantity":{}}"#) == [false, true, false, false, true])
        #expect(try selected(#"{"_valueString":{}}"#) == [false, true, false, false, true])
        #expect(try selected(#"{"multipleBirthBoolean":true}"#) == [false, false, true, false, true])
        #expect(try selected(#"{"subject":{},"status":"final"}"#) == [false, false, false, true, true])
        #expect(try selected(#"{"birth":1,"valu":2,"subjects":[],"_":{}}"#) == [false, false, false, false, true])
        #expect(try selected(#"{}"#) == [false, false, false, false, true])
    }

    /// Members found through the type's slots select what their names select (less the names that are
    /// only a prefix of another element's), on every official example and members the type does not have.
    @Test func selectingThroughTheTypesSlotsAgreesWithSelectingByName() throws {
        let definitions = TestSupport.definitions
        var compared = 0
        for file in TestSupport.exampleFiles() {
            guard case .object(var object) = try JSON(parsing: Data(contentsOf: file)),
                let type = object["resourceType"]?.stringValue, let node = definitions.node(type)
            else { continue }
            object["valueNotAType"] = .string("x")
            object["_unknownThing"] = .object(JSONObject())
            let names: [[String]?] = node.elements.map { [$0.name] } + [nil]
            let bySlots = ExpressionSelector(names, node: node)
            let byName = ExpressionSelector(names)
            // The same, except that a name is no longer taken for a prefix of another element's
            // (`policy` of Consent's `policyRule`): what slots select, names select too.
            let slotted = bySlots.selected(in: object)
            let named = byName.selected(in: object)
            for index in named.indices where slotted[index] != named[index] {
                let name = names[index]?.first ?? ""
                #expect(!slotted[index] && object[name] == nil, "\(file.lastPathComponent): \(name)")
                #expect(
                    object.members.contains { $0.key.hasPrefix(name) && node.slot(named: $0.key) != nil },
                    "\(file.lastPathComponent): \(name)")
            }
            // A start that names no element of the type: the selector keeps to names.
            let foreign = ExpressionSelector([["valueNot"], ["unknown"], ["id"]], node: node)
            #expect(foreign.selected(in: object) == [true, true, object["id"] != nil])
            compared += 1
        }
        #expect(compared > 50)
    }

    /// Every official example indexed with skipping and without: the same parameters, the same values.
    @Test(arguments: TestSupport.exampleFiles().map(\.lastPathComponent))
    func skippingChangesNothingOnTheOfficialExamples(_ name: String) throws {
        let resource = try SearchParameterTests.example(name)
        let skipped = try Self.skipping.index(resource)
        let all = try Self.evaluatingAll.index(resource)
        #expect(skipped.map(\.parameter.url) == all.map(\.parameter.url), "\(name)")
        #expect(skipped.map(\.values) == all.map(\.values), "\(name)")
    }

    /// Each top-level element of an example removed in turn: what the skipping extractor finds must
    /// still be what evaluating every expression finds (a parameter wrongly skipped shows up here).
    @Test func skippingChangesNothingWithAnyOneElementRemoved() throws {
        var compared = 0
        for name in [
            "patient-example.json", "observation-example.json", "encounter-example.json",
            "allergyintolerance-example.json", "medicationrequest0301.json", "condition-example.json",
            "diagnosticreport-example.json",
        ] {
            guard case .object(let object) = try SearchParameterTests.example(name) else { continue }
            for (removed, resource) in Self.withEachMemberRemoved(object) where removed != nil {
                try Self.expectSameIndex(
                    Self.skipping, Self.evaluatingAll, resource, "\(name) without \(removed ?? "")")
                compared += 1
            }
        }
        #expect(compared > 40)
    }

    /// The resource whole, then without each of its top-level members but `resourceType` in turn.
    static func withEachMemberRemoved(_ object: JSONObject) -> [(removed: String?, resource: JSON)] {
        var variants: [(removed: String?, resource: JSON)] = [(nil, .object(object))]
        for key in object.keys where key != "resourceType" {
            var trimmed = object
            trimmed[key] = nil
            variants.append((key, .object(trimmed)))
        }
        return variants
    }

    /// Expects two extractors to index a resource alike: the same parameters, the same values, in order.
    static func expectSameIndex(
        _ first: SearchParameterExtractor, _ second: SearchParameterExtractor, _ resource: JSON, _ label: String
    ) throws {
        let one = try first.index(resource)
        let other = try second.index(resource)
        #expect(one.map(\.parameter.url) == other.map(\.parameter.url), "\(label)")
        #expect(one.map(\.values) == other.map(\.values), "\(label)")
    }

    @Test func referencesNameTheirTypeAndID() {
        let extractor = Self.skipping
        #expect(extractor.typeAndID(of: "Patient/1") == ("Patient", "1"))
        #expect(extractor.typeAndID(of: "http://example.org/fhir/Patient/1") == ("Patient", "1"))
        #expect(extractor.typeAndID(of: "Patient/1/_history/2") == ("Patient", "1"))
        #expect(extractor.typeAndID(of: "http://example.org/fhir/Observation/ä-1/_history/7") == ("Observation", "ä-1"))
        #expect(extractor.typeAndID(of: "Patient/") == ("Patient", ""))
        #expect(extractor.typeAndID(of: "Unknown/1") == (nil, nil))
        #expect(extractor.typeAndID(of: "urn:uuid:1f0e8a5c-6a0f-4f1c-9f4e-2f6b1b0c3d4e") == (nil, nil))
        #expect(extractor.typeAndID(of: "Patient") == (nil, nil))
        #expect(extractor.typeAndID(of: "") == (nil, nil))
        #expect(extractor.typeAndID(of: "/_history/2") == (nil, nil))
        #expect(extractor.typeAndID(of: "a/b/c/d/Encounter/e-1") == ("Encounter", "e-1"))
        #expect(extractor.typeAndID(of: "http://x/Patient/1/_history/2") == ("Patient", "1"))
        #expect(extractor.typeAndID(of: "Patient/_history/2") == (nil, nil))
        #expect(extractor.typeAndID(of: "/Patient/1") == ("Patient", "1"))
        #expect(extractor.typeAndID(of: "Patient//1") == (nil, nil))
        #expect(extractor.typeAndID(of: "_history/1/_history/2") == (nil, nil))
    }
}
