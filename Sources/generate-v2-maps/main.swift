// Regenerates Sources/Mapping/Resources/v2-to-fhir-maps.json from the HL7 v2-to-FHIR IG's mapping tables:
//   swift run generate-v2-maps ../shared/v2-to-fhir/mappings Sources/Mapping/Resources/v2-to-fhir-maps.json
import Foundation
import Mapping

let arguments = CommandLine.arguments
guard arguments.count == 3 else {
    FileHandle.standardError.write(Data("usage: generate-v2-maps MAPPINGS-FOLDER OUTPUT.json\n".utf8))
    exit(2)
}
do {
    let tables = try V2MapCompiler.readTables(folder: URL(fileURLWithPath: arguments[1]))
    let text = V2MapCompiler.compile(tables)
    try Data(text.utf8).write(to: URL(fileURLWithPath: arguments[2]))
    print("wrote \(text.utf8.count) bytes from \(tables.count) IG tables")
} catch {
    FileHandle.standardError.write(Data("generate-v2-maps: \(error)\n".utf8))
    exit(1)
}
