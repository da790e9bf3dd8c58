import FHIR
import HL7v2
import Synchronization

/// The resources values made (`assigner(Organization)`, a PL's Locations), kept across messages by
/// the value that made them. A feed names the same facilities, wards and assigning authorities in
/// message after message, and making one — its data type map applied, its content written out and
/// hashed for its id — cost a tenth of a conversion.
///
/// A making is kept only when it read nothing but the value: no condition read a field of the
/// message, no issue was reported, and no reference to a segment's resource was left to resolve. The
/// same value under the same map then makes the same resources, with the same ids, in any message.
final class V2ExtraCache: Sendable {
    /// A value and the map it was made under.
    struct Key: Hashable, Sendable {
        /// The data type map as the row names it (`XON[Organization]`): conditions compare its owner.
        let map: String
        /// The resource type the row's target names.
        let type: String
        let raw: String
        let level: Int
        let separators: HL7Separators
    }

    /// What a value made: the id of its resource, and every resource the making named (its own and
    /// those its parts made, an identifier's assigner), with their content.
    struct Made: Sendable {
        let id: String
        let resources: [(id: String, type: String, content: JSON)]
    }

    private struct State {
        var entries: [Key: Made] = [:]
        var hits = 0
    }

    private let state = Mutex(State())
    /// At most this many values are kept; the cache starts again empty when it is full (none: 0).
    let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    func made(_ key: Key) -> Made? {
        state.withLock { state in
            let made = state.entries[key]
            if made != nil { state.hits += 1 }
            return made
        }
    }

    func keep(_ made: Made, for key: Key) {
        guard capacity > 0 else { return }
        state.withLock { state in
            if state.entries.count >= capacity { state.entries.removeAll(keepingCapacity: true) }
            state.entries[key] = made
        }
    }

    /// Values kept, and how many times one was taken instead of made.
    var counts: (kept: Int, hits: Int) { state.withLock { ($0.entries.count, $0.hits) } }
}

extension V2ConversionRun {
    /// The id of the resource a value makes under a data type map (a PL's: the most specific of the
    /// Locations it makes), the resources added to the message's; `nil` when the value makes none.
    func extraID(
        _ map: [V2Maps.Row], name: String, type: String, objectType: FHIRObjectType, piece: V2Piece, segment: Int,
        location: @autoclosure () -> String
    ) -> String? {
        let key = V2ExtraCache.Key(
            map: name, type: type, raw: String(piece.raw), level: piece.level, separators: message.separators)
        if let made = converter.extraCache.made(key) {
            for resource in made.resources where extras[resource.id] == nil {
                guard let resourceType = converter.definitions.objectType(named: resource.type) else { continue }
                let extra = Instance(
                    type: resource.type, label: resource.type, scope: "", node: ResourceNode(type: resourceType))
                extra.id = resource.id
                extra.content = resource.content
                extras[resource.id] = extra
            }
            if !namedExtras.isEmpty { namedExtras[namedExtras.count - 1] += made.resources.map(\.id) }
            return made.id
        }
        let issuesBefore = issues.count
        let pendingBefore = pendingSegmentReferences.count
        let readsBefore = messageReads
        namedExtras.append([])
        let id: String?
        if map.contains(where: \.isFurtherInstance) {
            // A PL: a Location per level it names (bed, room, floor, point of care, building,
            // facility), each part of the next one there is; the value is the most specific.
            id = makeInstances(
                map, name: name, type: type, objectType: objectType, piece: piece, segment: segment,
                location: location())
        } else {
            let made = ResourceNode(type: objectType)
            mapDataType(
                map, name: name, piece: piece, segment: segment, into: made, suffix: .first, location: location())
            id = made.json().map { keepExtra(made, type: type, json: $0) }
        }
        let named = namedExtras.removeLast()
        if !namedExtras.isEmpty { namedExtras[namedExtras.count - 1] += named }
        if let id, issues.count == issuesBefore, pendingSegmentReferences.count == pendingBefore,
            messageReads == readsBefore
        {
            var seen: Set<String> = []
            let resources = named.compactMap { id -> (id: String, type: String, content: JSON)? in
                guard seen.insert(id).inserted, let extra = extras[id], let content = extra.content else { return nil }
                return (id, extra.type, content)
            }
            converter.extraCache.keep(V2ExtraCache.Made(id: id, resources: resources), for: key)
        }
        return id
    }
}
