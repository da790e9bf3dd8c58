// libFuzzer target: the FHIR XML reader on arbitrary bytes. Whatever it reads must validate without
// crashing and write back to XML that reads to the same content (canonical form: the reader keeps
// elements in document order, the writer puts them in definition order).
import FHIR
import FuzzSupport

nonisolated(unsafe) let definitions = try? FHIRDefinitions.r4()

runFuzzer { data, count in
    guard let definitions else { preconditionFailure("definitions did not load") }
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: count)) } ?? []
    var xml = FHIRXML(definitions: definitions)
    xml.maxDepth = 64
    guard let resource = try? xml.read(bytes) else { return 0 }
    _ = Validator(definitions: definitions).validate(resource)
    if let written = try? xml.write(resource) {
        guard let again = try? xml.read(written), again.canonicalBytes == resource.canonicalBytes else {
            preconditionFailure("XML written by Ferry did not read back to the same resource")
        }
    }
    return 0
}
