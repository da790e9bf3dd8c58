import Foundation

/// Walks a parsed expression over a collection; one evaluator per evaluation.
struct FHIRPathEvaluator {
    let definitions: FHIRDefinitions
    let expression: FHIRPathExpression
    let environment: FHIRPathEnvironment
    /// The resource the expression was evaluated on, as `%resource` and `%context` see it.
    let context: [FHIRPathValue]

    /// The one-item collections `true` and `false`, shared rather than allocated per result.
    private static let trueCollection: [FHIRPathValue] = [.boolean(true)]
    private static let falseCollection: [FHIRPathValue] = [.boolean(false)]

    @inline(__always)
    static func collection(_ flag: Bool) -> [FHIRPathValue] {
        flag ? trueCollection : falseCollection
    }

    /// `$this`, `$index` and `$total` where a function iterates. Where `this` is set, the focus is `[this]`.
    struct Scope {
        var this: FHIRPathValue?
        var index: Int?
        var total: [FHIRPathValue]?
    }

    func failure(_ message: String, at offset: Int) -> FHIRError {
        FHIRError(.fhirpathEvaluation, message, column: offset + 1, path: expression.text)
    }

    func evaluate(_ node: FHIRPathNode, _ focus: [FHIRPathValue], _ scope: Scope) throws(FHIRError) -> [FHIRPathValue] {
        switch node.kind {
        case .empty, .type:
            return []
        case .value:
            return node.values
        case .this:
            return focus
        case .index:
            return scope.index.map { [.integer($0)] } ?? []
        case .total:
            return scope.total ?? []
        case .constant:
            return try constant(node.name, at: node.offset)
        case .member:
            if environment.isStrict { try checkStrictMember(node.target, node.name, at: node.offset) }
            if let target = node.target {
                let items = try evaluate(target, focus, scope)
                return try children(of: items, named: node.name, isRoot: false, at: node.offset)
            }
            return try children(of: focus, named: node.name, isRoot: true, at: node.offset)
        case .function:
            if node.function == .exists || node.function == .empty, node.arguments.isEmpty, !environment.isStrict,
                let member = node.target, member.kind == .member,
                let exists = try memberExists(member, focus, scope)
            {
                return Self.collection(node.function == .exists ? exists : !exists)
            }
            var input = focus
            if let target = node.target { input = try evaluate(target, focus, scope) }
            let output: [FHIRPathValue]
            do {
                output = try call(
                    node.function, target: node.target, on: input, arguments: node.arguments, focus: focus,
                    scope: scope, at: node.offset)
            } catch {
                throw Self.naming(node, in: error)
            }
            if output.count > environment.maxItems {
                throw failure(
                    "\(node.function.rawValue)() produced \(output.count) items, more than the limit of \(environment.maxItems)",
                    at: node.offset)
            }
            return output
        case .indexer:
            guard let target = node.target, let indexNode = node.other else { return [] }
            let items = try evaluate(target, focus, scope)
            let indexValue = try evaluate(indexNode, focus, scope)
            guard !indexValue.isEmpty else { return [] }
            guard indexValue.count == 1, case .integer(let index) = indexValue[0].system else {
                throw failure("an index must be a single integer", at: node.offset)
            }
            return index >= 0 && index < items.count ? [items[index]] : []
        case .negate:
            guard let operand = node.target else { return [] }
            let items = try evaluate(operand, focus, scope)
            guard !items.isEmpty else { return [] }
            guard items.count == 1 else {
                throw failure("unary minus needs a single value, not \(items.count)", at: node.offset)
            }
            switch items[0].system {
            case .integer(let value): return value == .min ? [] : [.integer(-value)]
            case .decimal(let value): return [.decimal(FHIRPathDecimal(-value.value, scale: value.scale))]
            case .quantity(var quantity):
                quantity.value.value = -quantity.value.value
                return [.quantity(quantity)]
            default:
                throw failure(
                    "unary minus applies to numbers and quantities, not \(Self.describe(items[0]))", at: node.offset)
            }
        case .binary:
            guard let left = node.target, let right = node.other else { return [] }
            do {
                return try binary(node.op, left, right, focus: focus, scope: scope, at: node.offset)
            } catch {
                throw Self.naming(node, in: error)
            }
        case .typeTest:
            guard let operand = node.target, let type = node.type else { return [] }
            let isCast = node.isCast
            let offset = node.offset
            let items = try evaluate(operand, focus, scope)
            guard !items.isEmpty else { return [] }
            if isCast, environment.castsCollections, items.count > 1 {
                try checkKnown(type, at: offset)
                return items.filter { isType($0, type, exactPrimitive: true) }
            }
            guard items.count == 1 else {
                throw failure("'\(isCast ? "as" : "is")' needs a single value, not \(items.count)", at: offset)
            }
            try checkKnown(type, at: offset)
            if isCast { return isType(items[0], type, exactPrimitive: true) ? items : [] }
            return Self.collection(isType(items[0], type))
        }
    }

    /// Whether `member` (`x.name`) selects anything, answered without building the collection — the
    /// shape of most invariants (`dataAbsentReason.empty() or value.empty()`). `nil` sends the rare
    /// shapes (primitives, `_name` extras, nulls in arrays, type names) to the general path.
    private func memberExists(
        _ member: FHIRPathNode, _ focus: [FHIRPathValue], _ scope: Scope
    ) throws(FHIRError)
        -> Bool?
    {
        let name = member.name
        var items = focus
        if let target = member.target {
            items = try evaluate(target, focus, scope)
        } else if let first = name.utf8.first, first >= UInt8(ascii: "A"), first <= UInt8(ascii: "Z") {
            return nil
        }
        for item in items {
            guard case .element(let element) = item, case .object(let object) = element.value, element.node >= 0
            else { return nil }
            let node = definitions.nodeList[element.node]
            if let index = object.index(forKey: name) {
                if let slot = node.slot(named: name), slot.isChoice, slot.element.name != name { return nil }
                switch object.value(at: index) {
                case .null: return nil
                case .array(let values):
                    if values.isEmpty || values.contains(.null) { return nil }
                    return true
                default: return true
                }
            }
            if Self.extrasMember(of: object, for: name) != nil { return nil }
            if !node.choiceNames.isEmpty, node.choiceNames.contains(name) { return nil }
        }
        return false
    }

    /// An error raised by `node` itself (not by its operands, which have columns of their own), with the
    /// sub-expression added, so that the message names the element: `… (in Patient.birthDate < 'x')`.
    static func naming(_ node: FHIRPathNode, in error: FHIRError) -> FHIRError {
        guard error.code == .fhirpathEvaluation, error.column == node.offset + 1 else { return error }
        var named = error
        named.message += " (in \(node))"
        return named
    }

    /// A word for an item in error messages: its type, never its content (which may be PHI).
    static func describe(_ value: FHIRPathValue) -> String {
        let info = value.typeInfo
        return info.namespace == "System" ? info.name : "\(info.name) element"
    }

    // MARK: - Constants

    private func constant(_ name: String, at offset: Int) throws(FHIRError) -> [FHIRPathValue] {
        if let value = environment.variables[name] { return value }
        switch name {
        case "resource", "context": return context
        case "rootResource": return environment.rootResource.map { [resourceElement($0)] } ?? context
        case "ucum": return [.string("http://unitsofmeasure.org")]
        case "sct": return [.string("http://snomed.info/sct")]
        case "loinc": return [.string("http://loinc.org")]
        default:
            if name.hasPrefix("vs-") { return [.string("http://hl7.org/fhir/ValueSet/" + name.dropFirst(3))] }
            if name.hasPrefix("ext-") {
                return [.string("http://hl7.org/fhir/StructureDefinition/" + name.dropFirst(4))]
            }
            throw failure("%\(name) is not defined", at: offset)
        }
    }

    // MARK: - Navigation

    /// A resource as an element typed by its `resourceType`.
    func resourceElement(_ json: JSON) -> FHIRPathValue {
        Self.resourceElement(json, definitions)
    }

    static func resourceElement(_ json: JSON, _ definitions: FHIRDefinitions) -> FHIRPathValue {
        let type = json["resourceType"]?.stringValue ?? "Resource"
        return .element(
            FHIRPathElement(value: json, typeName: type, node: definitions.nodeIndex[type] ?? -1, primitive: nil))
    }

    /// Members named `name` of every item; at the start of a path a type name selects the items of that type.
    func children(
        of items: [FHIRPathValue], named name: String, isRoot: Bool, at offset: Int
    ) throws(FHIRError)
        -> [FHIRPathValue]
    {
        var output: [FHIRPathValue] = []
        // Element names start in lower case, so a capitalised name at the start of a path is a type.
        if isRoot, let first = name.utf8.first, first >= UInt8(ascii: "A"), first <= UInt8(ascii: "Z") {
            let type = FHIRPathTypeSpecifier(namespace: "FHIR", name: name)
            let matching = items.reduce(0) { $0 + (isType($1, type) ? 1 : 0) }
            if matching == items.count, matching > 0 { return items }
            if matching > 0 { return items.filter { isType($0, type) } }
            if environment.isStrict, !items.isEmpty, definitions.types[name] != nil {
                throw failure("the context is \(Self.describe(items[0])), not \(name)", at: offset)
            }
        }
        for item in items {
            guard case .element(let element) = item else { continue }
            // No element of a FHIR type has a capitalised name: a type that did not match selects nothing.
            if isRoot, element.node >= 0, let first = name.utf8.first, first >= UInt8(ascii: "A"),
                first <= UInt8(ascii: "Z")
            {
                continue
            }
            try appendChildren(of: element, named: name, to: &output, at: offset)
        }
        return output
    }

    func appendChildren(
        of element: FHIRPathElement, named name: String, to output: inout [FHIRPathValue], at offset: Int
    )
        throws(FHIRError)
    {
        guard case .object(let object) = element.value else {
            // A primitive's id and extensions live in its `_name` object.
            if let extras = element.extras, name == "extension" || name == "id", let member = extras[name] {
                append(member, extras: nil, slot: nil, typeName: name == "id" ? "string" : "Extension", to: &output)
            } else if environment.isStrict, element.primitive != nil, name != "extension", name != "id" {
                throw failure("\(element.typeName) has no element \(name)", at: offset)
            }
            return
        }
        let node = element.node >= 0 ? definitions.nodeList[element.node] : nil
        if let index = object.index(forKey: name) {
            let slot = node?.slot(named: name)
            if let slot, slot.isChoice, slot.element.name != name {
                throw failure(
                    "\(name) is not an element name; write \(slot.element.name).ofType(\(slot.type.code))", at: offset)
            }
            let value = object.value(at: index)
            var extras: JSON?
            if slot?.isPrimitive ?? !Self.isContainer(value) { extras = Self.extrasMember(of: object, for: name) }
            append(value, extras: extras, slot: slot, typeName: nil, to: &output)
            return
        }
        guard let node else { return }
        // A primitive with only an id or extensions: `_name` without `name` (the key scan is cheaper than the slot's).
        if let extras = Self.extrasMember(of: object, for: name), let slot = node.slot(named: name), slot.isPrimitive {
            append(.null, extras: extras, slot: slot, typeName: nil, to: &output)
            return
        }
        if !node.choiceNames.isEmpty, node.choiceNames.contains(name) {
            let length = name.utf8.count
            let first = name.firstByte
            for position in object.indices {
                let key = object.key(at: position)
                guard key.utf8.count > length, key.firstByte == first, Self.hasPrefix(key, name),
                    let slot = node.slot(named: key), slot.element.name == name
                else { continue }
                let extras = slot.isPrimitive ? Self.extrasMember(of: object, for: key) : nil
                append(object.value(at: position), extras: extras, slot: slot, typeName: nil, to: &output)
            }
            return
        }
        if environment.isStrict, node.slot(named: name) == nil {
            throw failure("\(element.typeName) has no element \(name)", at: offset)
        }
    }

    private static func isContainer(_ value: JSON) -> Bool {
        switch value {
        case .object: true
        case .array(let items): items.first.map(isContainer) ?? false
        default: false
        }
    }

    /// The `_name` member of an object, found without building the string `"_" + name` (and through
    /// the members' buffer: a loop over `members` copied each member, its value retained).
    static func extrasMember(of object: JSONObject, for name: String) -> JSON? {
        let length = name.utf8.count + 1
        return object.members.withUnsafeBufferPointer { members in
            for index in members.indices
            where members[index].key.utf8.count == length && members[index].key.firstByte == 0x5F {
                let key = members[index].key
                if key.utf8.dropFirst().elementsEqual(name.utf8) { return members[index].value }
            }
            return nil
        }
    }

    /// Whether `text` starts with `prefix`, compared over their contiguous UTF-8 (comparing the
    /// views' prefixes stepped generic indices: some 700 instructions a choice member).
    static func hasPrefix(_ text: String, _ prefix: String) -> Bool {
        return text.withUTF8Bytes { text in
            prefix.withUTF8Bytes { prefix in
                guard text.count >= prefix.count else { return false }
                for index in prefix.indices where text[index] != prefix[index] { return false }
                return true
            }
        }
    }

    /// Appends a member's value or values, typed by its slot.
    func append(
        _ value: JSON, extras: JSON?, slot: ObjectNode.Slot?, typeName: String?, to output: inout [FHIRPathValue]
    ) {
        if case .array(let items) = value {
            let extrasItems = extras?.arrayValue
            for (position, item) in items.enumerated() {
                let itemExtras = extrasItems.flatMap { position < $0.count ? $0[position].objectValue : nil }
                if case .null = item, itemExtras == nil { continue }
                output.append(wrap(item, extras: itemExtras, slot: slot, typeName: typeName))
            }
        } else if case .null = value, case .array(let extrasItems) = extras {
            for item in extrasItems {
                guard let itemExtras = item.objectValue else { continue }
                output.append(wrap(.null, extras: itemExtras, slot: slot, typeName: typeName))
            }
        } else {
            output.append(wrap(value, extras: extras?.objectValue, slot: slot, typeName: typeName))
        }
    }

    func wrap(_ value: JSON, extras: JSONObject?, slot: ObjectNode.Slot?, typeName: String?) -> FHIRPathValue {
        if let slot {
            switch slot.kind {
            case .primitive(let primitive):
                return .element(
                    FHIRPathElement(
                        value: value, extras: extras, typeName: slot.typeCode, node: -1, primitive: primitive))
            case .complex(let node):
                return .element(FHIRPathElement(value: value, typeName: slot.typeCode, node: node, primitive: nil))
            case .resource:
                return resourceElement(value)
            case .unknown:
                break
            }
        }
        if let typeName, let node = definitions.nodeIndex[typeName] {
            return .element(FHIRPathElement(value: value, typeName: typeName, node: node, primitive: nil))
        }
        switch value {
        case .object(let object):
            if object["resourceType"] != nil { return resourceElement(value) }
            return .element(FHIRPathElement(value: value, typeName: typeName ?? "Element", node: -1, primitive: nil))
        case .bool:
            return .element(
                FHIRPathElement(value: value, extras: extras, typeName: "boolean", node: -1, primitive: .boolean))
        case .number(let text):
            let isInteger = !text.contains(".")
            return .element(
                FHIRPathElement(
                    value: value, extras: extras, typeName: isInteger ? "integer" : "decimal", node: -1,
                    primitive: isInteger ? .integer : .decimal))
        default:
            return .element(
                FHIRPathElement(
                    value: value, extras: extras, typeName: typeName ?? "string", node: -1, primitive: .string))
        }
    }

    // MARK: - Types

    /// Whether an item is of the type or derives from it (`Age` is a `Quantity`, `Patient` a `DomainResource`).
    ///
    /// With `exactPrimitive` (for `as` and `ofType`), a FHIR primitive matches its own type only: a
    /// `code` is a `string` for `is`, but `as(string)` does not select it, as the official tests expect.
    func isType(_ item: FHIRPathValue, _ type: FHIRPathTypeSpecifier, exactPrimitive: Bool = false) -> Bool {
        // One binding of the element: each binding of an enum payload copies (and retains) its fields.
        guard case .element(let element) = item else {
            guard type.namespace != "FHIR" else { return false }
            return item.typeInfo.name == type.name
        }
        let typeName = element.typeName
        if typeName.utf8.first == UInt8(ascii: "S"), typeName.utf8.starts(with: "System.".utf8) {
            guard type.namespace != "FHIR" else { return false }
            return typeName.utf8.dropFirst(7).elementsEqual(type.name.utf8)
        }
        if type.namespace == "System" { return false }
        if exactPrimitive, element.primitive != nil { return typeName == type.name }
        if element.node >= 0 {
            let ancestry = definitions.nodeList[element.node].ancestry
            if !ancestry.isEmpty { return typeName == type.name || ancestry.contains(type.name) }
        }
        var current: String? = typeName
        while let name = current {
            if name == type.name { return true }
            current = definitions.types[name]?.base
        }
        return false
    }

    static let systemTypes: Set<String> = [
        "Boolean", "Integer", "Decimal", "String", "Date", "DateTime", "Time", "Quantity",
    ]

    /// Throws for a type name that is neither a FHIR type nor a System type.
    func checkKnown(_ type: FHIRPathTypeSpecifier, at offset: Int) throws(FHIRError) {
        if expression.hasVerifiedTypes || Self.isKnown(type, types: definitions.types) { return }
        let qualified = (type.namespace.map { $0 + "." } ?? "") + type.name
        throw failure("\(qualified) is not a FHIR or System type", at: offset)
    }

    /// Whether a type name names a FHIR or System type; an unknown System name is no type's name, not an error.
    static func isKnown(_ type: FHIRPathTypeSpecifier, types: [String: TypeDefinition]) -> Bool {
        switch type.namespace {
        case "System": true
        case "FHIR": types[type.name] != nil
        case nil: types[type.name] != nil || systemTypes.contains(type.name)
        default: false
        }
    }

    /// Strict mode's static check of a member after a cast: `(value as Period).unit` names no element of Period.
    private func checkStrictMember(_ target: FHIRPathNode?, _ name: String, at offset: Int) throws(FHIRError) {
        guard let target else { return }
        let typeName: String
        if target.kind == .typeTest, target.isCast, let type = target.type {
            typeName = type.name
        } else if target.kind == .function, target.function == .as || target.function == .ofType,
            let argument = target.arguments.first
        {
            typeName = Self.typeSpecifier(argument).name
        } else {
            return
        }
        guard let node = definitions.node(typeName) else { return }
        if node.slot(named: name) == nil, !node.choiceNames.contains(name) {
            throw failure("\(typeName) has no element \(name)", at: offset)
        }
    }
}
