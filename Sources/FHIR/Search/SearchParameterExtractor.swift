import Foundation
import Synchronization

/// Computes the values a resource is indexed under, for one search parameter or for every search
/// parameter of its type, by evaluating the parameters' FHIRPath expressions.
///
/// Composite and special parameters have no values of their own (composites are searched through
/// their components' parameters); they extract nothing.
public struct SearchParameterExtractor: Sendable {
    /// The definitions whose search parameters are extracted.
    public let definitions: FHIRDefinitions
    private let cache = FHIRPathCache()
    /// Per resource type, its parameters with their expressions narrowed to the type, compiled.
    private let plans = Plans()

    private final class Plans: Sendable {
        let byType = Mutex<[String: Plan]>([:])
    }

    /// A type's parameters that extract values, each with its expression narrowed to the type: the
    /// branches of a shared expression (`AllergyIntolerance.code | Condition.code | …`) that start
    /// from another resource type can never match, so they are not evaluated.
    private final class Plan: Sendable {
        let steps: [Step]
        let selector: ExpressionSelector

        init(steps: [Step], selector: ExpressionSelector) {
            self.steps = steps
            self.selector = selector
        }
    }

    /// One parameter of a plan (a class: the loop over a type's parameters copies no definitions).
    private final class Step: Sendable {
        let parameter: SearchParameterDefinition
        let expression: FHIRPathExpression?
        /// Why the expression does not compile, when it does not.
        let failure: FHIRError?
        /// The resource's top-level elements the expression reads first (`ExpressionStart`): on a
        /// resource with none of them it yields nothing. `nil` when the expression does not show them.
        let members: [String]?
        /// The expression as a path walked without evaluating its syntax, when it is one.
        let path: SearchPath?

        init(
            _ parameter: SearchParameterDefinition, _ text: String, resourceType: String, definitions: FHIRDefinitions,
            walksPaths: Bool
        ) {
            self.parameter = parameter
            let compiled: FHIRPathExpression?
            do throws(FHIRError) {
                compiled = try FHIRPathExpression(text)
                failure = nil
            } catch {
                compiled = nil
                failure = error
            }
            expression = compiled
            if let compiled, case .members(let names)? = ExpressionStart(compiled.root, resourceType: resourceType) {
                members = names.sorted()
            } else {
                members = nil
            }
            path =
                walksPaths
                ? compiled.flatMap { SearchPath($0.root, resourceType: resourceType, definitions: definitions) } : nil
        }
    }

    /// The expression of the evaluator that walks paths.
    private static let walkedPath = FHIRPathExpression(empty: "a search parameter's path")

    /// Whether plans skip parameters whose expression cannot find anything in the resource (on
    /// unless a test compares the two).
    let skipsAbsentElements: Bool
    /// Whether expressions that are paths are walked as `SearchPath`s (on unless a test compares
    /// the walk with evaluating the expressions).
    let walksPaths: Bool

    /// Creates an extractor; expressions are compiled on first use and kept.
    public init(definitions: FHIRDefinitions) {
        self.init(definitions: definitions, skipsAbsentElements: true)
    }

    init(definitions: FHIRDefinitions, skipsAbsentElements: Bool, walksPaths: Bool = true) {
        self.definitions = definitions
        self.skipsAbsentElements = skipsAbsentElements
        self.walksPaths = walksPaths
    }

    /// The values of one parameter. `rootResource` is the Bundle around the resource, when there is one.
    public func values(
        of parameter: SearchParameterDefinition, in resource: JSON, rootResource: JSON? = nil
    ) throws(FHIRError) -> [SearchValue] {
        try values(
            of: parameter, focus: [.resource(resource, definitions: definitions)],
            rootResource: rootResource ?? resource)
    }

    private func values(
        of parameter: SearchParameterDefinition, focus: [FHIRPathValue], rootResource: JSON
    ) throws(FHIRError) -> [SearchValue] {
        guard let text = parameter.expression, !text.isEmpty,
            parameter.type != "composite", parameter.type != "special"
        else { return [] }
        let expression: FHIRPathExpression
        do {
            expression = try cache.expression(text)
        } catch {
            var located = error
            located.message = "search parameter \(parameter.code): \(error.message)"
            throw located
        }
        let environment = FHIRPathEnvironment(rootResource: rootResource, castsCollections: true)
        let items = try expression.evaluate(focus: focus, definitions: definitions, environment: environment)
        var values: [SearchValue] = []
        for item in items { append(item, as: parameter.type, to: &values) }
        return values
    }

    /// Every parameter of the resource's type with the values it extracts (parameters with none are
    /// left out), except the parameters named in `excluding`.
    public func index(
        _ resource: JSON, rootResource: JSON? = nil, excluding: Set<String> = []
    ) throws(FHIRError) -> [(
        parameter: SearchParameterDefinition, values: [SearchValue]
    )] {
        guard case .object(let object) = resource, let type = object["resourceType"]?.stringValue else {
            throw FHIRError(.structure, "the resource has no resourceType")
        }
        var entries: [(parameter: SearchParameterDefinition, values: [SearchValue])] = []
        let focus = [FHIRPathValue.resource(resource, definitions: definitions)]
        let environment = FHIRPathEnvironment(rootResource: rootResource ?? resource, castsCollections: true)
        let plan = plan(for: type)
        let selected = skipsAbsentElements ? plan.selector.selected(in: object) : []
        // One evaluator walks every path. It names its expression only in errors, and an error sends
        // the walk back to evaluating the parameter's own expression.
        let walker = FHIRPathEvaluator(
            definitions: definitions, expression: Self.walkedPath, environment: environment, context: focus)
        for index in plan.steps.indices {
            if skipsAbsentElements, !selected[index] { continue }
            let step = plan.steps[index]
            // A few names, compared rather than hashed (a hash per parameter per resource cost 1 %).
            if !excluding.isEmpty, excluding.contains(where: { $0 == step.parameter.code }) { continue }
            guard let expression = step.expression else {
                var located = step.failure ?? FHIRError(.fhirpathSyntax, "the expression does not compile")
                located.message = "search parameter \(step.parameter.code): \(located.message)"
                throw located
            }
            var walked: [FHIRPathValue]?
            if let path = step.path { walked = path.evaluate(walker, focus: focus) }
            let items: [FHIRPathValue]
            if let walked {
                items = walked
            } else {
                items = try expression.evaluate(focus: focus, definitions: definitions, environment: environment)
            }
            guard !items.isEmpty else { continue }
            var values: [SearchValue] = []
            for item in items { append(item, as: step.parameter.type, to: &values) }
            if !values.isEmpty { entries.append((step.parameter, values)) }
        }
        return entries
    }

    private func plan(for type: String) -> Plan {
        if let plan = plans.byType.withLock({ $0[type] }) { return plan }
        var steps: [Step] = []
        for parameter in definitions.searchParameters(for: type) {
            guard let text = parameter.expression, !text.isEmpty, parameter.type != "composite",
                parameter.type != "special"
            else { continue }
            let narrowed = Self.narrowed(text, to: type, definitions: definitions)
            guard !narrowed.isEmpty else { continue }
            steps.append(
                Step(parameter, narrowed, resourceType: type, definitions: definitions, walksPaths: walksPaths))
        }
        let plan = Plan(
            steps: steps, selector: ExpressionSelector(steps.map(\.members), node: definitions.node(type)))
        plans.byType.withLock { $0[type] = plan }
        return plan
    }

    /// `text` without the top-level `|` branches that start from a resource type other than `type`
    /// (or than the abstract types it specializes); the expression unchanged when it has one branch,
    /// and a branch left alone made `distinct()`, as the union it came from was.
    public static func narrowed(_ text: String, to type: String, definitions: FHIRDefinitions) -> String {
        var branches: [Substring] = []
        var depth = 0
        var quoted = false
        var start = text.startIndex
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            if character == "'" {
                quoted.toggle()
            } else if character == "\\" && quoted {
                index = text.index(after: index)
                if index == text.endIndex { break }
            } else if !quoted {
                switch character {
                case "(", "[", "{": depth += 1
                case ")", "]", "}": depth -= 1
                case "|" where depth == 0:
                    branches.append(text[start..<index])
                    start = text.index(after: index)
                default: break
                }
            }
            index = text.index(after: index)
        }
        branches.append(text[start...])
        guard branches.count > 1 else { return text }
        let kept = branches.filter { branch in
            let head = branch.drop { $0 == " " || $0 == "(" }.prefix { $0.isLetter || $0.isNumber }
            guard !head.isEmpty, head != type, head != "Resource", head != "DomainResource",
                definitions.isResourceType(String(head))
            else { return true }
            return false
        }
        let texts = kept.map { $0.trimmingCharacters(in: .whitespaces) }
        // `|` removes duplicates; a branch left on its own keeps doing so.
        return texts.count == 1 ? "(\(texts[0])).distinct()" : texts.joined(separator: " | ")
    }

    // MARK: - Typing

    private func append(_ item: FHIRPathValue, as type: String, to values: inout [SearchValue]) {
        switch type {
        case "token": appendToken(item, to: &values)
        case "string": appendString(item, to: &values)
        case "date": appendDate(item, to: &values)
        case "reference": appendReference(item, to: &values)
        case "quantity": appendQuantity(item, to: &values)
        case "number":
            switch item.system {
            case .integer(let number): values.append(.number(Decimal(number), scale: 0))
            case .decimal(let number): values.append(.number(number.value, scale: number.scale))
            default: break
            }
        case "uri":
            if let text = item.stringValue { values.append(.uri(text)) }
        default:
            break
        }
    }

    private func appendToken(_ item: FHIRPathValue, to values: inout [SearchValue]) {
        guard case .element(let element) = item else {
            switch item {
            case .boolean(let flag): values.append(.token(system: nil, code: flag ? "true" : "false", text: nil))
            case .string(let text): values.append(.token(system: nil, code: text, text: nil))
            default: break
            }
            return
        }
        let object = element.value.objectValue
        switch element.typeName {
        case "Coding":
            values.append(Self.coding(element.value, text: nil))
        case "CodeableConcept":
            let text = object?["text"]?.stringValue
            let codings = object?["coding"]?.arrayValue ?? []
            for coding in codings { values.append(Self.coding(coding, text: text)) }
            if codings.isEmpty, let text { values.append(.token(system: nil, code: nil, text: text)) }
        case "Identifier":
            values.append(
                .token(
                    system: object?["system"]?.stringValue, code: object?["value"]?.stringValue,
                    text: object?["type"]?["text"]?.stringValue))
        case "ContactPoint":
            values.append(
                .token(system: object?["system"]?.stringValue, code: object?["value"]?.stringValue, text: nil))
        default:
            switch element.value {
            case .bool(let flag): values.append(.token(system: nil, code: flag ? "true" : "false", text: nil))
            case .string(let text): values.append(.token(system: nil, code: text, text: nil))
            case .number(let text): values.append(.token(system: nil, code: text, text: nil))
            default: break
            }
        }
    }

    private static func coding(_ coding: JSON, text: String?) -> SearchValue {
        .token(
            system: coding["system"]?.stringValue, code: coding["code"]?.stringValue,
            text: coding["display"]?.stringValue ?? text)
    }

    private func appendString(_ item: FHIRPathValue, to values: inout [SearchValue]) {
        func add(_ text: String?) {
            guard let text, !text.isEmpty else { return }
            values.append(.string(text, normalized: SearchValue.normalize(text)))
        }
        guard case .element(let element) = item, case .object(let object) = element.value else {
            add(item.stringValue)
            return
        }
        let parts: [String]
        switch element.typeName {
        case "HumanName": parts = ["family", "given", "prefix", "suffix", "text"]
        case "Address": parts = ["line", "city", "district", "state", "postalCode", "country", "text"]
        default: parts = object.members.filter { $0.value.stringValue != nil }.map(\.key)
        }
        for part in parts {
            switch object[part] {
            case .string(let text)?: add(text)
            case .array(let items)?: items.forEach { add($0.stringValue) }
            default: break
            }
        }
    }

    private func appendDate(_ item: FHIRPathValue, to values: inout [SearchValue]) {
        if case .element(let element) = item, case .object(let object) = element.value {
            switch element.typeName {
            case "Period":
                let start = object["start"]?.stringValue.flatMap { Self.range(of: $0)?.low }
                let end = object["end"]?.stringValue.flatMap { Self.range(of: $0)?.high }
                if start != nil || end != nil { values.append(.date(low: start, high: end)) }
            case "Timing":
                for event in object["event"]?.arrayValue ?? [] {
                    if let range = event.stringValue.flatMap(Self.range(of:)) {
                        values.append(.date(low: range.low, high: range.high))
                    }
                }
                if let bounds = object["repeat"]?["boundsPeriod"]?.objectValue {
                    let start = bounds["start"]?.stringValue.flatMap { Self.range(of: $0)?.low }
                    let end = bounds["end"]?.stringValue.flatMap { Self.range(of: $0)?.high }
                    if start != nil || end != nil { values.append(.date(low: start, high: end)) }
                }
            default:
                break
            }
            return
        }
        if case .temporal(let temporal) = item.system, let range = Self.range(of: temporal) {
            values.append(.date(low: range.low, high: range.high))
        }
    }

    /// The first and last instant a date, dateTime or instant text stands for, in UTC.
    static func range(of text: String) -> (low: Date, high: Date)? {
        FHIRPathTemporal(fhirDateTime: text, kind: .dateTime).flatMap(range(of:))
    }

    static func range(of temporal: FHIRPathTemporal) -> (low: Date, high: Date)? {
        guard temporal.kind != .time,
            case .temporal(let low)? = FHIRPathEvaluator.boundary(
                of: .temporal(Self.asDateTime(temporal)), precision: 17, isHigh: false),
            case .temporal(let high)? = FHIRPathEvaluator.boundary(
                of: .temporal(Self.asDateTime(temporal)), precision: 17, isHigh: true)
        else { return nil }
        // A value without a zone is read as UTC (the migration writes every instant in UTC).
        return (instant(low), instant(high))
    }

    private static func asDateTime(_ temporal: FHIRPathTemporal) -> FHIRPathTemporal {
        var value = temporal
        value.kind = .dateTime
        if value.timeZoneOffset == nil { value.timeZoneOffset = 0 }
        return value
    }

    private static func instant(_ value: FHIRPathTemporal) -> Date {
        let days = FHIRPathTemporal.days(year: value.year, month: value.month, day: value.day)
        let milliseconds =
            ((days * 24 + value.hour) * 60 + value.minute - (value.timeZoneOffset ?? 0)) * 60_000 + value.second * 1000
            + value.millisecond
        return Date(timeIntervalSince1970: Double(milliseconds) / 1000)
    }

    private func appendReference(_ item: FHIRPathValue, to values: inout [SearchValue]) {
        let text: String?
        if case .element(let element) = item, case .object(let object) = element.value {
            text = object["reference"]?.stringValue
        } else {
            text = item.stringValue
        }
        guard let text, !text.isEmpty else { return }
        let (type, id) = text.hasPrefix("#") ? (nil, nil) : typeAndID(of: text)
        values.append(.reference(text, type: type, id: id))
    }

    /// The type and id a reference names: `Patient/1`, `http://x/fhir/Patient/1`, `Patient/1/_history/2`.
    func typeAndID(of text: String) -> (String?, String?) {
        return text.withUTF8Bytes { bytes in
            // The last four `/` from the end (-1 for those missing): the id follows the last, the type
            // the one before — or, after `…/_history/version`, the third and fourth.
            var slashes = (-1, -1, -1, -1)
            var found = 0
            var index = bytes.count - 1
            while index >= 0, found < 4 {
                if bytes[index] == UInt8(ascii: "/") {
                    switch found {
                    case 0: slashes.0 = index
                    case 1: slashes.1 = index
                    case 2: slashes.2 = index
                    default: slashes.3 = index
                    }
                    found += 1
                }
                index -= 1
            }
            guard found > 0 else { return (nil, nil) }
            var type = (slashes.1 + 1)..<slashes.0
            var id = (slashes.0 + 1)..<bytes.count
            if found >= 3, UnsafeBufferPointer(rebasing: bytes[type]).elementsEqual("_history".utf8) {
                type = (slashes.3 + 1)..<slashes.2
                id = (slashes.2 + 1)..<slashes.1
            }
            guard let name = definitions.resourceTypeName(bytes: UnsafeBufferPointer(rebasing: bytes[type])) else {
                return (nil, nil)
            }
            return (name, String(decoding: UnsafeBufferPointer(rebasing: bytes[id]), as: UTF8.self))
        }
    }

    private func appendQuantity(_ item: FHIRPathValue, to values: inout [SearchValue]) {
        guard case .element(let element) = item, case .object(let object) = element.value else {
            if case .quantity(let quantity) = item.system {
                values.append(
                    .quantity(
                        value: quantity.value.value, system: "http://unitsofmeasure.org", code: quantity.unit,
                        unit: quantity.unit, canonical: Self.canonical(quantity.value.value, code: quantity.unit)))
            }
            return
        }
        guard let text = object["value"]?.numberText, let number = FHIRPathDecimal(text: text) else { return }
        let system = object["system"]?.stringValue
        let code = object["code"]?.stringValue
        let canonical =
            system == "http://unitsofmeasure.org" ? code.flatMap { Self.canonical(number.value, code: $0) } : nil
        values.append(
            .quantity(
                value: number.value, system: system, code: code, unit: object["unit"]?.stringValue,
                canonical: canonical))
    }

    private static func canonical(_ value: Decimal, code: String) -> SearchValue.CanonicalQuantity? {
        guard let unit = UCUMUnit.parse(code), unit.special == nil else { return nil }
        guard let canonical = FHIRPathDecimal.calculate(value, .multiply, unit.factor) else { return nil }
        return SearchValue.CanonicalQuantity(value: canonical, unit: unit.baseUnitText)
    }
}
