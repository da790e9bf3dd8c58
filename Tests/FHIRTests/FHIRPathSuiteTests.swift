import Foundation
import Testing

@testable import FHIR

/// The official FHIRPath test suite (`tests-fhir-r4.xml`, 935 tests in 100 groups over the example resources beside it).
@Suite struct FHIRPathSuiteTests {
    static let folder = TestSupport.shared.appendingPathComponent("fhir/fhirpath")

    /// Tests Ferry does not pass, each with the reason; the suite test fails if one of these starts
    /// passing (so the list stays true) or if any other test fails.
    static let knownFailures: [String: String] = [:]

    struct Case {
        var name: String
        var group: String
        var inputFile: String?
        var expression: String
        var isInvalid: Bool
        var isStrict: Bool
        var isPredicate: Bool
        var outputs: [(type: String?, text: String)]
    }

    static func cases() throws -> [Case] {
        let bytes = Array(try Data(contentsOf: folder.appendingPathComponent("tests-fhir-r4.xml")))
        let root = try bytes.withUnsafeBufferPointer { try XMLParser().parse($0) }
        var cases: [Case] = []
        for group in root.elementChildren where group.name == "group" {
            for test in group.elementChildren where test.name == "test" {
                guard let expression = test.elementChildren.first(where: { $0.name == "expression" }) else { continue }
                cases.append(
                    Case(
                        name: test.attribute("name") ?? "?",
                        group: group.attribute("name") ?? "?",
                        inputFile: test.attribute("inputfile"),
                        expression: Self.text(of: expression),
                        isInvalid: expression.attribute("invalid") != nil,
                        isStrict: test.attribute("mode") == "strict" || expression.attribute("mode") == "strict",
                        isPredicate: test.attribute("predicate") == "true",
                        outputs: test.elementChildren.filter { $0.name == "output" }.map {
                            ($0.attribute("type"), Self.text(of: $0))
                        }
                    ))
            }
        }
        return cases
    }

    static func text(of element: XMLElement) -> String {
        element.children.compactMap { if case .text(let text) = $0 { text } else { nil } }.joined()
    }

    static func input(_ name: String) throws -> JSON {
        let data = try Data(contentsOf: folder.appendingPathComponent(name))
        if name.hasSuffix(".xml") { return try FHIRXML(definitions: TestSupport.definitions).read(Array(data)) }
        return try JSON(parsing: data)
    }

    /// The text an expected output is written in: `true`, `4`, `@1974-12-25`, `1 '1'`.
    static func display(_ value: FHIRPathValue) -> String {
        switch value.system {
        case .boolean(let flag): flag ? "true" : "false"
        case .integer(let number): String(number)
        case .decimal(let number): number.text
        case .string(let text): text
        case .temporal(let temporal): temporal.literal
        case .quantity(let quantity): quantity.literal
        case .element(let element): String(decoding: element.value.canonicalBytes, as: UTF8.self)
        }
    }

    /// Runs one case; `nil` when it passes, otherwise why not.
    static func run(_ test: Case, inputs: [String: JSON]) -> String? {
        let resource = test.inputFile.flatMap { inputs[$0] }
        let environment = FHIRPathEnvironment(isStrict: test.isStrict)
        let result: [FHIRPathValue]
        do {
            let expression = try FHIRPathExpression(test.expression)
            if let resource {
                result = try expression.evaluate(
                    on: resource, definitions: TestSupport.definitions, environment: environment)
            } else {
                result = try expression.evaluate(
                    focus: [], definitions: TestSupport.definitions, environment: environment)
            }
        } catch {
            return test.isInvalid ? nil : "error: \(error)"
        }
        if test.isInvalid { return "expected an error, got \(result.map(display))" }
        let actual = test.isPredicate ? [FHIRPathValue.boolean(!result.isEmpty)] : result
        guard actual.count == test.outputs.count else {
            return "expected \(test.outputs.map(\.text)), got \(actual.map(display))"
        }
        for (item, expected) in zip(actual, test.outputs) {
            let shown = display(item)
            if expected.type == "decimal", case .decimal(let number) = item.system,
                let wanted = FHIRPathDecimal(text: expected.text), wanted.value == number.value
            {
                continue
            }
            if shown != expected.text { return "expected \(test.outputs.map(\.text)), got \(actual.map(display))" }
            let kindMatches: Bool =
                switch (expected.type, item.system) {
                case ("boolean", .boolean), ("integer", .integer), ("decimal", .decimal), ("Quantity", .quantity): true
                case ("boolean", _), ("integer", _), ("decimal", _), ("Quantity", _): false
                default: true
                }
            if !kindMatches { return "expected a \(expected.type ?? "?"), got \(item.typeInfo.name)" }
        }
        return nil
    }

    @Test func officialSuitePassesAtLeast98Percent() throws {
        let cases = try Self.cases()
        #expect(cases.count >= 930)
        var inputs: [String: JSON] = [:]
        for name in Set(cases.compactMap(\.inputFile)) { inputs[name] = try Self.input(name) }
        var failures: [String: String] = [:]
        for test in cases {
            if let reason = Self.run(test, inputs: inputs) { failures[test.name] = reason }
        }
        let passed = cases.count - failures.count
        let rate = Double(passed) / Double(cases.count)
        print("FHIRPath suite: \(passed) of \(cases.count) passed (\(String(format: "%.1f", rate * 100))%)")
        for (name, reason) in failures.sorted(by: { $0.key < $1.key }) where Self.knownFailures[name] == nil {
            let test = cases.first { $0.name == name }
            Issue.record("\(name) [\(test?.group ?? "")]: \(test?.expression ?? "") — \(reason)")
        }
        for name in Self.knownFailures.keys.sorted() where failures[name] == nil {
            Issue.record("\(name) now passes: take it off the known failures")
        }
        #expect(rate >= 0.98)
    }
}
