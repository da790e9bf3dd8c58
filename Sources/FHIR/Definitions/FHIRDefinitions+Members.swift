/// An object a resource is made of — a resource, a complex data type, or a backbone element — as far
/// as its JSON members go.
public struct FHIRObjectType: Sendable, Hashable {
    let index: Int
}

/// One JSON member an object may hold, with what a writer needs: array or single, primitive or
/// object, and the member's type.
public struct FHIRMember: Sendable {
    /// The JSON name, choice types spelled out (`valueQuantity`).
    public let name: String
    public let isArray: Bool
    /// Primitive members carry their id and extensions in a `_name` sibling.
    public let isPrimitive: Bool
    /// Whether the member holds a whole resource (`contained`, `Bundle.entry.resource`).
    public let isResource: Bool
    /// The FHIR type code (`HumanName`, `dateTime`, `BackboneElement`).
    public let typeCode: String
    /// For an object member, the object it holds.
    public let objectType: FHIRObjectType?
}

extension FHIRDefinitions {
    /// The object of a resource or data type by name (`Patient`, `HumanName`), or a backbone element
    /// by path (`Patient.contact`).
    public func objectType(named name: String) -> FHIRObjectType? {
        nodeIndex[name].map(FHIRObjectType.init)
    }

    /// A member of an object by its JSON name, or `nil` when the object has no such member.
    public func member(_ name: String, of object: FHIRObjectType) -> FHIRMember? {
        guard let slot = nodeList[object.index].slot(named: name) else { return nil }
        let (isResource, objectType): (Bool, FHIRObjectType?) =
            switch slot.kind {
            case .complex(let index): (false, FHIRObjectType(index: index))
            case .resource: (true, nil)
            case .primitive, .unknown: (false, nil)
            }
        return FHIRMember(
            name: slot.name, isArray: slot.isArray, isPrimitive: slot.isPrimitive, isResource: isResource,
            typeCode: slot.typeCode, objectType: objectType)
    }
}
