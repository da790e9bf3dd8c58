// Regenerates Sources/FHIR/Definitions/Resources/fhir-r4-definitions.json from the official package:
//   swift run generate-definitions ../shared/fhir/hl7.fhir.r4.core-4.0.1.tgz Sources/FHIR/Definitions/Resources/fhir-r4-definitions.json
import FHIR
import Foundation

let arguments = CommandLine.arguments
guard arguments.count == 3 else {
    FileHandle.standardError.write(Data("usage: generate-definitions PACKAGE.tgz OUTPUT.json\n".utf8))
    exit(2)
}
do {
    let output = try DefinitionsGeneration.run(packageArchive: arguments[1], output: arguments[2])
    print(
        "wrote \(output.bytes) bytes: \(output.types) types, \(output.valueSets) value sets, \(output.searchParameters) search parameters"
    )
} catch {
    FileHandle.standardError.write(Data("generate-definitions: \(error)\n".utf8))
    exit(1)
}
