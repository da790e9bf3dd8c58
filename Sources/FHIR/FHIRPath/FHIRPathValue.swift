/// One item of a FHIRPath collection: a System value, or an element of a FHIR resource.
public enum FHIRPathValue: Sendable, Hashable {
    case boolean(Bool)
    case integer(Int)
    case decimal(FHIRPathDecimal)
    case string(String)
    case temporal(FHIRPathTemporal)
    case quantity(FHIRPathQuantity)
    /// A node of a resource, typed by the FHIR definitions.
    case element(FHIRPathElement)

    /// The item as JSON: elements as they stand in the resource, System values as FHIR writes them.
    public var json: JSON {
        switch self {
        case .boolean(let value): .bool(value)
        case .integer(let value): .number(String(value))
        case .decimal(let value): .number(value.text)
        case .string(let value): .string(value)
        case .temporal(let value): .string(value.text)
        case .quantity(let value):
            if let calendarUnit = value.calendarUnit {
                ["value": .number(value.value.text), "unit": .string(calendarUnit.rawValue)]
            } else {
                [
                    "value": .number(value.value.text), "unit": .string(value.unit),
                    "system": "http://unitsofmeasure.org", "code": .string(value.unit),
                ]
            }
        case .element(let element):
            if case .null = element.value, let extras = element.extras { .object(extras) } else { element.value }
        }
    }

    /// The type's namespace and name, as `type()` reports them: `System.Integer`, `FHIR.HumanName`.
    var typeInfo: (namespace: String, name: String) {
        switch self {
        case .boolean: ("System", "Boolean")
        case .integer: ("System", "Integer")
        case .decimal: ("System", "Decimal")
        case .string: ("System", "String")
        case .temporal(let value):
            switch value.kind {
            case .date: ("System", "Date")
            case .dateTime: ("System", "DateTime")
            case .time: ("System", "Time")
            }
        case .quantity: ("System", "Quantity")
        case .element(let element):
            (
                element.typeName.utf8.first == UInt8(ascii: "S") && element.typeName.utf8.starts(with: "System.".utf8)
                    ? "System" : "FHIR", element.typeName
            )
        }
    }
}

/// A node of a FHIR resource as FHIRPath sees it: the JSON value, the `_name` sibling of a primitive
/// (its id and extensions) and the FHIR type the definitions give it.
public struct FHIRPathElement: Sendable, Hashable {
    /// The value: an object for complex types and resources, a JSON primitive for primitives, `null`
    /// for a primitive that only has extensions.
    public var value: JSON
    /// The `_name` object of a primitive, when present.
    public var extras: JSONObject?
    /// The FHIR type name: `HumanName`, `string`, `Patient`, `BackboneElement`.
    public var typeName: String
    /// The index of the definitions' object node describing `value`, or -1.
    var node: Int
    /// The primitive type, for primitives.
    var primitive: PrimitiveType?

    init(value: JSON, extras: JSONObject? = nil, typeName: String, node: Int, primitive: PrimitiveType?) {
        self.value = value
        self.extras = extras
        self.typeName = typeName
        self.node = node
        self.primitive = primitive
    }

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.value == rhs.value && lhs.extras == rhs.extras && lhs.typeName == rhs.typeName
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(value)
        hasher.combine(typeName)
    }

    /// The System value of a primitive (`Boolean`, `Integer`, `Decimal`, `String`, `Date`, `DateTime`,
    /// `Time`); `nil` for complex elements and for primitives without a value.
    var systemValue: FHIRPathValue? {
        switch value {
        case .bool(let flag): return .boolean(flag)
        case .number(let text):
            if primitive == .decimal || text.contains(".") || text.contains("e") || text.contains("E") {
                return FHIRPathDecimal(text: text).map { .decimal($0) }
            }
            return Int(text).map { .integer($0) } ?? FHIRPathDecimal(text: text).map { .decimal($0) }
        case .string(let text):
            switch primitive {
            case .date: return FHIRPathTemporal(fhirDateTime: text, kind: .date).map { .temporal($0) } ?? .string(text)
            case .dateTime, .instant:
                return FHIRPathTemporal(fhirDateTime: text, kind: .dateTime).map { .temporal($0) } ?? .string(text)
            case .time: return FHIRPathTemporal(fhirTime: text).map { .temporal($0) } ?? .string(text)
            case .integer, .positiveInt, .unsignedInt: return Int(text).map { .integer($0) } ?? .string(text)
            case .decimal: return FHIRPathDecimal(text: text).map { .decimal($0) } ?? .string(text)
            default: return .string(text)
            }
        default:
            return nil
        }
    }

    /// The System Quantity of a FHIR `Quantity` (and its specialisations `Age`, `Duration`, …).
    var quantityValue: FHIRPathQuantity? {
        guard case .object(let object) = value, let text = object["value"]?.numberText,
            let decimal = FHIRPathDecimal(text: text)
        else { return nil }
        if object["system"]?.stringValue == "http://unitsofmeasure.org", let code = object["code"]?.stringValue {
            return FHIRPathQuantity(value: decimal, unit: code)
        }
        if let unit = object["unit"]?.stringValue ?? object["code"]?.stringValue {
            if let calendar = FHIRPathQuantity.CalendarUnit(keyword: unit) {
                return FHIRPathQuantity(value: decimal, calendarUnit: calendar)
            }
            return FHIRPathQuantity(value: decimal, unit: unit)
        }
        return FHIRPathQuantity(value: decimal, unit: "1")
    }
}

extension FHIRPathValue {
    /// A resource as an item typed by its `resourceType`. Wrap a resource once to evaluate many
    /// expressions on it with `FHIRPathExpression.evaluate(focus:)`: it saves a type lookup per evaluation.
    public static func resource(_ json: JSON, definitions: FHIRDefinitions) -> FHIRPathValue {
        FHIRPathEvaluator.resourceElement(json, definitions)
    }

    /// The item with FHIR primitives turned into their System values, for operators and functions
    /// that work on values; complex elements stay as they are.
    @inline(__always)
    var system: FHIRPathValue {
        if case .element(let element) = self, let value = element.systemValue { return value }
        return self
    }

    /// The string, when the item is a String or a FHIR string-like primitive.
    var stringValue: String? {
        switch self {
        case .string(let value): value
        case .element(let element):
            if case .string(let value) = element.value, element.primitive != nil || element.node < 0 {
                value
            } else {
                nil
            }
        default: nil
        }
    }

    /// Whether the item is a FHIR `Quantity` or one of its specialisations.
    var isFHIRQuantity: Bool {
        if case .element(let element) = self {
            switch element.typeName {
            case "Quantity", "Age", "Distance", "Duration", "Count", "SimpleQuantity", "MoneyQuantity": return true
            default: return false
            }
        }
        return false
    }
}
