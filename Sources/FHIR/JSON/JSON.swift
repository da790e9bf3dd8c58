/// A JSON value as Ferry keeps it: objects keep their key order, numbers keep their exact text.
///
/// FHIR gives meaning to the digits of a decimal (`1.50` is not `1.5`), so a number is never
/// converted to a binary floating-point value on the way through Ferry.
public enum JSON: Sendable, Hashable {
    case null
    case bool(Bool)
    /// A number, as the exact text that stood in the input (already checked against JSON's grammar).
    case number(String)
    case string(String)
    case array([JSON])
    case object(JSONObject)

    /// The member named `key` when this is an object.
    @inlinable
    public subscript(key: String) -> JSON? {
        guard case .object(let object) = self else { return nil }
        return object[key]
    }

    /// The string value, when this is a string.
    @inlinable
    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// The object, when this is an object.
    @inlinable
    public var objectValue: JSONObject? {
        if case .object(let value) = self { return value }
        return nil
    }

    /// The elements, when this is an array.
    @inlinable
    public var arrayValue: [JSON]? {
        if case .array(let value) = self { return value }
        return nil
    }

    /// The Boolean, when this is `true` or `false`.
    @inlinable
    public var boolValue: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    /// The number's text, when this is a number.
    @inlinable
    public var numberText: String? {
        if case .number(let value) = self { return value }
        return nil
    }

    /// The number as an `Int`, when this is a number written as an integer that fits.
    public var intValue: Int? {
        if case .number(let text) = self { return Int(text) }
        return nil
    }

    /// A word for the kind of value, as used in error messages (`object`, `array`, `string`, …).
    public var kindName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .number: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }
}

/// A JSON object whose members keep the order in which they were written.
///
/// FHIR objects are small (a few dozen members at most), so lookups scan a contiguous array of
/// keys, which is faster than hashing at these sizes and keeps the order for free.
public struct JSONObject: Sendable, Hashable, RandomAccessCollection {
    /// The member names, in order.
    public private(set) var keys: [String]
    /// The member values, in the same order as `keys`.
    public private(set) var values: [JSON]

    /// Creates an empty object.
    public init() {
        keys = []
        values = []
    }

    /// Creates an object from members in order; a later duplicate key replaces the earlier value.
    public init(_ members: [(String, JSON)]) {
        keys = []
        values = []
        keys.reserveCapacity(members.count)
        values.reserveCapacity(members.count)
        for (key, value) in members { self[key] = value }
    }

    init(uncheckedKeys keys: [String], values: [JSON]) {
        self.keys = keys
        self.values = values
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { keys.count }
    public subscript(position: Int) -> (key: String, value: JSON) { (keys[position], values[position]) }

    /// The position of the member named `key`.
    @inlinable
    public func index(forKey key: String) -> Int? {
        let length = key.utf8.count
        return keys.withUnsafeBufferPointer { keys in
            for index in keys.indices where keys[index].utf8.count == length && keys[index] == key { return index }
            return nil
        }
    }

    /// The value of the member named `key`; setting `nil` removes the member, setting a new key appends it.
    public subscript(key: String) -> JSON? {
        get {
            guard let index = index(forKey: key) else { return nil }
            return values[index]
        }
        set {
            if let index = index(forKey: key) {
                if let newValue {
                    values[index] = newValue
                } else {
                    keys.remove(at: index)
                    values.remove(at: index)
                }
            } else if let newValue {
                keys.append(key)
                values.append(newValue)
            }
        }
    }

    /// Appends a member without checking for an existing one with the same key.
    mutating func appendUnchecked(_ key: String, _ value: JSON) {
        keys.append(key)
        values.append(value)
    }
}

extension JSON: ExpressibleByStringLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int) { self = .number(String(value)) }
    public init(arrayLiteral elements: JSON...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSON)...) { self = .object(JSONObject(elements)) }
    public init(nilLiteral: ()) { self = .null }
}
