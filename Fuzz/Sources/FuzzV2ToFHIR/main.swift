// libFuzzer target: HL7 v2 to FHIR on arbitrary bytes. Whatever parses either converts to a Bundle that
// Ferry's validator accepts, or is refused with a ConversionError (no structure or map); never a trap.
import FHIR
import FuzzSupport
import HL7v2
import Mapping

let definitions = try! FHIRDefinitions.r4()
let converter = V2Converter(maps: try! V2Maps.shipped(), definitions: definitions)
let validator = Validator(definitions: definitions)

runFuzzer { data, count in
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: count)) } ?? []
    guard let message = try? HL7Message(parsing: bytes) else { return 0 }
    do {
        let conversion = try converter.convert(message)
        let outcome = validator.validate(conversion.bundle)
        precondition(outcome.isValid, "a converted Bundle does not validate: \(outcome.errors)")
    } catch is V2Converter.ConversionError {
        // No structure or no map for this message type: refused, with the reason.
    } catch {
        preconditionFailure("conversion failed with an unexpected error: \(error)")
    }
    return 0
}
