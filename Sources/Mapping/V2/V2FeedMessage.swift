import FHIR
import HL7v2

/// What becomes of one message of a feed when it is migrated (or projected for reconciliation):
/// a valid transaction Bundle, left out by a named rule, or dead-lettered with the reason. Migration
/// and reconciliation both decide by this, so they account for every message alike.
public enum V2FeedMessage {
    public enum Outcome: Sendable {
        case bundle(JSON)
        case filtered(rule: String)
        case deadLettered(reason: String)
    }

    /// The rule for messages that carry no data to migrate.
    public static let acknowledgmentRule = "acknowledgments (MSH-9 ACK) carry no clinical data"

    /// The message's outcome and its kind (`HL7 v2 ADT^A04`), for the accounts per kind.
    public static func outcome(_ bytes: [UInt8], converter: V2Converter) -> (outcome: Outcome, group: String) {
        let message: HL7Message
        do { message = try HL7Message(parsing: bytes) } catch {
            return (.deadLettered(reason: "unreadable: \(error)"), "HL7 v2 (unreadable)")
        }
        let type = [message.messageType, message.triggerEvent].compactMap { $0 }.joined(separator: "^")
        let group = "HL7 v2 " + (type.isEmpty ? "(unreadable)" : type)
        if message.messageType == "ACK" { return (.filtered(rule: acknowledgmentRule), group) }
        let conversion: V2Converter.Conversion
        do { conversion = try converter.convert(message) } catch {
            return (.deadLettered(reason: "not convertible: \(error)"), group)
        }
        guard conversion.outcome.isValid else {
            return (.deadLettered(reason: JSONWriter(layout: .compact).string(conversion.outcome.resource)), group)
        }
        return (.bundle(conversion.bundle), group)
    }

    /// The locator of the `number`th message (from 1) of a file, starting on `line`.
    public static func locator(file: String, number: Int, line: Int) -> String { "\(file)#\(number) (line \(line))" }
}
