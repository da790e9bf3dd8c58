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

    /// Element `index` of an array; `nil` for other values and positions past the end.
    @inlinable
    public subscript(index: Int) -> JSON? {
        guard case .array(let elements) = self, index >= 0, index < elements.count else { return nil }
        return elements[index]
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

/// One member of a JSON object.
public struct JSONMember: Sendable, Hashable {
    public var key: String
    public var value: JSON

    public init(key: String, value: JSON) {
        self.key = key
        self.value = value
    }
}

/// A JSON object whose members keep the order in which they were written.
///
/// FHIR objects are small (a few dozen members at most), so lookups scan one contiguous array of
/// members, which is faster than hashing at these sizes, keeps the order for free, and costs one
/// allocation and one reference per object.
public struct JSONObject: Sendable, Hashable, RandomAccessCollection {
    /// The members, in order.
    public private(set) var members: [JSONMember]
    /// Whether a member's name starts with `_` (a primitive's id and extensions): kept with the
    /// members, so validation knows without reading every name again.
    package private(set) var hasUnderscoredKey: Bool

    /// Creates an empty object.
    public init() {
        members = []
        hasUnderscoredKey = false
    }

    /// Creates an object from members in order; a later duplicate key replaces the earlier value.
    public init(_ members: [(String, JSON)]) {
        var list: [JSONMember] = []
        list.reserveCapacity(members.count)
        next: for (key, value) in members {
            let length = key.utf8.count
            for index in list.indices where list[index].key.utf8.count == length && list[index].key == key {
                list[index].value = value
                continue next
            }
            list.append(JSONMember(key: key, value: value))
        }
        self.members = list
        self.hasUnderscoredKey = Self.anyUnderscored(list)
    }

    /// Creates an object from members whose keys the caller knows to be distinct (not checked).
    package init(uncheckedMembers members: [JSONMember]) {
        self.members = members
        self.hasUnderscoredKey = Self.anyUnderscored(members)
    }

    /// Creates an object from members whose keys the caller knows to be distinct, and knows whether
    /// one starts with `_` (the parser, which reads every key's first byte anyway). Neither is checked.
    init(uncheckedMembers members: [JSONMember], hasUnderscoredKey: Bool) {
        self.members = members
        self.hasUnderscoredKey = hasUnderscoredKey
    }

    /// Whether a member's name starts with `_`, read through the members' buffer without copying them.
    private static func anyUnderscored(_ members: [JSONMember]) -> Bool {
        members.withUnsafeBufferPointer { members in
            for index in members.indices where members[index].key.firstByte == UInt8(ascii: "_") { return true }
            return false
        }
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { members.count }
    public subscript(position: Int) -> (key: String, value: JSON) { (members[position].key, members[position].value) }

    /// The member names, in order (a new array: in loops, prefer `key(at:)` or `members`).
    public var keys: [String] { members.map(\.key) }
    /// The member values, in order (a new array: in loops, prefer `value(at:)` or `members`).
    public var values: [JSON] { members.map(\.value) }

    /// The name of the member at `position`.
    @inlinable
    public func key(at position: Int) -> String { members[position].key }

    /// The value of the member at `position`.
    @inlinable
    public func value(at position: Int) -> JSON { members[position].value }

    /// The position of the member named `key`.
    @inlinable
    public func index(forKey key: String) -> Int? {
        let length = key.utf8.count
        return members.withUnsafeBufferPointer { members in
            for index in members.indices where members[index].key.utf8.count == length && members[index].key == key {
                return index
            }
            return nil
        }
    }

    /// The value of the member named `key`; setting `nil` removes the member, setting a new key appends it.
    public subscript(key: String) -> JSON? {
        get {
            guard let index = index(forKey: key) else { return nil }
            return members[index].value
        }
        set {
            if let index = index(forKey: key) {
                if let newValue {
                    members[index].value = newValue
                } else {
                    members.remove(at: index)
                    if hasUnderscoredKey && key.firstByte == UInt8(ascii: "_") {
                        hasUnderscoredKey = Self.anyUnderscored(members)
                    }
                }
            } else if let newValue {
                appendUnchecked(key, newValue)
            }
        }
    }

    /// How a member's value is written, as a glance at whether FHIRPath finds it needs to know.
    enum ValueShape {
        case object, primitive, null
        /// An array with items, none of them `null`.
        case filledArray
        /// An empty array, or one holding a `null`.
        case otherArray
    }

    /// The shape of the value of the member named `key`, read in place (no copy of the value).
    func valueShape(forKey key: String) -> ValueShape? {
        guard let index = index(forKey: key) else { return nil }
        return members.withUnsafeBufferPointer { members in
            switch members[index].value {
            case .object: .object
            case .string, .number, .bool: .primitive
            case .null: .null
            case .array(let items):
                !items.isEmpty && !items.contains { if case .null = $0 { true } else { false } }
                    ? .filledArray : .otherArray
            }
        }
    }

    /// Appends a member without checking for an existing one with the same key.
    mutating func appendUnchecked(_ key: String, _ value: JSON) {
        members.append(JSONMember(key: key, value: value))
        if key.firstByte == UInt8(ascii: "_") { hasUnderscoredKey = true }
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

extension String {
    /// The first UTF-8 byte, read from the contiguous bytes (`utf8.first` steps a generic index:
    /// about 25 instructions, on every member of every object validated).
    @inline(__always)
    var firstByte: UInt8? {
        utf8.withContiguousStorageIfAvailable { $0.first } ?? utf8.first
    }

    /// Two or three strings one after the other, their bytes copied once into one new string (`+`,
    /// `append` and interpolation go through the standard library's general appending, some 350
    /// instructions a part): `Type/id` keys, `urn:uuid:` full URLs, dotted prefixes.
    package static func concatenating(_ first: String, _ second: String, _ third: String = "") -> String {
        let count = first.utf8.count + second.utf8.count + third.utf8.count
        return String(unsafeUninitializedCapacity: count) { buffer in
            var offset = 0
            func copy(_ part: String) {
                part.withUTF8Bytes { bytes in
                    guard let source = bytes.baseAddress, !bytes.isEmpty else { return }
                    (buffer.baseAddress! + offset).initialize(from: source, count: bytes.count)
                    offset += bytes.count
                }
            }
            copy(first)
            copy(second)
            copy(third)
            return offset
        }
    }

    /// `body` over the UTF-8 bytes where they are, borrowed: `withUTF8` needs a mutable copy, a retain
    /// and a release on every call (on every primitive and reference validated). A string whose bytes
    /// are not contiguous (bridged) is copied first.
    ///
    /// Inlinable: called from other modules (Mapping, Store) without it, it ran unspecialized, some
    /// 700 instructions a call.
    @inlinable @inline(__always)
    package func withUTF8Bytes<Result>(_ body: (UnsafeBufferPointer<UInt8>) -> Result) -> Result {
        if let result = utf8.withContiguousStorageIfAvailable(body) { return result }
        var copy = self
        return copy.withUTF8(body)
    }

    /// Whether the UTF-8 bytes start with `prefix` (ASCII), compared over the contiguous bytes
    /// (`utf8.starts(with:)` steps generic indices: 60 instructions on a short key).
    @inline(__always)
    func startsWithBytes(_ prefix: StaticString) -> Bool {
        let count = prefix.utf8CodeUnitCount
        let head = prefix.utf8Start
        return utf8.withContiguousStorageIfAvailable { bytes in
            guard bytes.count >= count else { return false }
            for index in 0..<count where bytes[index] != head[index] { return false }
            return true
        } ?? utf8.starts(with: UnsafeBufferPointer(start: head, count: count))
    }
}

extension Substring {
    /// `String.withUTF8Bytes` for a substring: `body` over its bytes where they lie in its base string,
    /// borrowed (copied only when they are not contiguous). Inlinable for the same reason.
    @inlinable @inline(__always)
    package func withUTF8Bytes<Result>(_ body: (UnsafeBufferPointer<UInt8>) -> Result) -> Result {
        if let result = utf8.withContiguousStorageIfAvailable(body) { return result }
        return Array(utf8).withUnsafeBufferPointer(body)
    }
}
