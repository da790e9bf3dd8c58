import FHIR
import Foundation
import HL7v2

/// Converts HL7 v2 messages to FHIR R4 transaction Bundles, driven by the HL7 v2-to-FHIR IG's maps
/// (`V2Maps`): the message map says which segment becomes which resource, the segment and data type
/// maps which field becomes which element, the vocabulary maps how v2 codes become FHIR codes.
///
/// - Ids are deterministic: a resource with an identifier gets its id from the identifier (the same
///   patient in two messages is the same Patient), others from the sender, the control id and the
///   resource's place in the message. Entries are `PUT Type/id`, so converting again updates.
/// - Timestamps without an offset are read in the sender's zone, written in UTC, and keep the text
///   as sent in an extension.
/// - Every field that held a value no map used, and every segment no map used, is reported.
/// - A Provenance names the message (sender, control id, SHA-256) and targets every resource.
public final class V2Converter: Sendable {
    public struct Options: Sendable {
        /// The zone of the sender's timestamps that carry no offset.
        public var senderZone: TimeZone

        public init(senderZone: TimeZone = TimeZone(identifier: "UTC")!) {
            self.senderZone = senderZone
        }
    }

    /// One message's result.
    public struct Conversion: Sendable {
        /// A transaction Bundle.
        public var bundle: JSON
        /// Values that could not be converted, unmapped codes, targets the definitions do not have.
        public var issues: [String]
        /// Fields (`PID-10`) and segments (`ZPI`, `NTE[2]`) that held values no map used.
        public var unused: [String]
        /// How many resources of each type the bundle holds.
        public var counts: [String: Int]
        /// The Bundle's validation by Ferry's validator: valid unless the message held something that
        /// leaving elements out could not repair (each repair is among `issues`).
        public var outcome: OperationOutcome
    }

    /// Why a message could not be converted at all.
    public struct ConversionError: Error, CustomStringConvertible {
        public var description: String
    }

    let maps: V2Maps
    let definitions: FHIRDefinitions
    let options: Options
    let validator: Validator
    /// Resources made from values, kept across messages (`V2ExtraCache`).
    let extraCache: V2ExtraCache

    public convenience init(maps: V2Maps, definitions: FHIRDefinitions, options: Options = Options()) {
        self.init(maps: maps, definitions: definitions, options: options, extraCacheCapacity: 4096)
    }

    /// `extraCacheCapacity`: how many values' resources are kept across messages (0: none).
    init(maps: V2Maps, definitions: FHIRDefinitions, options: Options = Options(), extraCacheCapacity: Int) {
        self.maps = maps
        self.definitions = definitions
        self.options = options
        validator = Validator(definitions: definitions)
        extraCache = V2ExtraCache(capacity: extraCacheCapacity)
    }

    /// The structures the IG gives no message map for, and the map Ferry uses in its place.
    static let fallbackMaps = ["ADT_A03": "ADT_A01", "ADT_A39": "ADT_A06", "MDM_T01": "MDM_T02"]

    /// Converts one message.
    public func convert(_ message: HL7Message) throws -> Conversion {
        guard let grouped = HL7GroupedMessage(message) else {
            throw ConversionError(
                description: "no message structure for \(message.messageType ?? "?")^\(message.triggerEvent ?? "?")")
        }
        let name = grouped.structure.name
        guard let map = maps.messageMaps[name] ?? Self.fallbackMaps[name].flatMap({ maps.messageMaps[$0] }) else {
            throw ConversionError(description: "no v2-to-FHIR message map for \(name)")
        }
        let run = V2ConversionRun(converter: self, grouped: grouped, map: map)
        return try run.convert()
    }
}
