// Regenerates Sources/HL7v2/Structures/HL7StructureTable.swift from the HL7 v2-to-FHIR IG's message
// tables and Ferry's supplement:
//   swift run generate-hl7-structures ../shared/v2-to-fhir/mappings/messages scripts/data/hl7v2-structures-supplement.txt OUTPUT.swift
import Foundation
import HL7v2

let arguments = CommandLine.arguments
guard arguments.count == 4 else {
    FileHandle.standardError.write(Data("usage: generate-hl7-structures TABLES-FOLDER SUPPLEMENT OUTPUT.swift\n".utf8))
    exit(2)
}
do {
    let folder = URL(fileURLWithPath: arguments[1])
    let tables = try FileManager.default.contentsOfDirectory(atPath: folder.path)
        .filter { $0.hasSuffix(".csv") }
        .sorted()
        .map { name in
            HL7StructureCompiler.Table(
                fileName: name, csv: try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8))
        }
    let supplement = try String(contentsOfFile: arguments[2], encoding: .utf8)
    let source = try HL7StructureCompiler.compile(tables: tables, supplement: supplement)
    try Data(source.utf8).write(to: URL(fileURLWithPath: arguments[3]))
    print("wrote \(source.utf8.count) bytes from \(tables.count) IG tables and the supplement")
} catch {
    FileHandle.standardError.write(Data("generate-hl7-structures: \(error)\n".utf8))
    exit(1)
}
