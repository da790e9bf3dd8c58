// libFuzzer target: the JSON parser, the writer and the validator on arbitrary bytes.
// Every input must either parse or throw a located error; whatever parses must write and reparse identically.
import FHIR
import FuzzSupport

nonisolated(unsafe) let validator = try? Validator()

runFuzzer { data, count in
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: count)) } ?? []
    do throws(FHIRError) {
        let value = try JSONParser(maxDepth: 64).parse(bytes)
        let canonical = value.canonicalBytes
        guard let reparsed = try? JSONParser(maxDepth: 64).parse(canonical), reparsed.canonicalBytes == canonical else {
            preconditionFailure("canonical JSON did not reparse to itself")
        }
        _ = validator?.validate(value)
    } catch {
        precondition(error.line != nil && error.column != nil, "a JSON error without a location")
    }
    return 0
}
