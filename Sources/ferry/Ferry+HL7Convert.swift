import ArgumentParser
import FHIR
import Foundation
import HL7v2
import Mapping

extension Ferry.HL7 {
    struct Convert: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Converts HL7 v2 message files to FHIR R4 transaction Bundles by the HL7 v2-to-FHIR IG's maps.",
            discussion: """
                Writes one Bundle per message (FILE-N.json in --out), or one NDJSON stream with --ndjson, \
                validates every Bundle, and prints per message the resources made, the fields and segments \
                no map used, and the values that could not be converted. Exits 0 when every message became \
                a valid Bundle, 1 otherwise, 2 when a file cannot be read as HL7 v2.
                """
        )

        @Argument(help: "HL7 v2 files (one message or many each).")
        var files: [String]

        @Option(help: "The folder the Bundles are written to.")
        var out: String

        @Flag(help: "Write one bundles.ndjson instead of a file per message.")
        var ndjson = false

        @OptionGroup var conversion: Ferry.HL7.ConversionOptions

        func run() async throws {
            let definitions = try FHIRDefinitions.r4()
            let converter = try conversion.converter(definitions: definitions)
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            var stream: [UInt8] = []
            var failed = 0
            var total = 0
            let writer = JSONWriter(layout: ndjson ? .compact : .pretty)
            for item in try Ferry.HL7.readMessages(files) {
                total += 1
                let message = item.message
                let conversion: V2Converter.Conversion
                do { conversion = try converter.convert(message) } catch {
                    print("\(item.label): NOT CONVERTED: \(error)")
                    failed += 1
                    continue
                }
                // The converter validated the Bundle as a whole.
                let outcome = conversion.outcome
                let counts = conversion.counts.keys.sorted().map { "\($0) \(conversion.counts[$0]!)" }
                print(
                    "\(item.label) \(message.controlID ?? "") → \(counts.joined(separator: ", "))\(outcome.isValid ? "" : " INVALID")"
                )
                for error in outcome.errors { print("  invalid: \(error)") }
                for issue in conversion.issues { print("  not converted: \(issue)") }
                if !conversion.unused.isEmpty { print("  unused: \(conversion.unused.joined(separator: " "))") }
                if !outcome.isValid { failed += 1 }
                if ndjson {
                    stream += writer.bytes(conversion.bundle) + [0x0A]
                } else {
                    let base = URL(fileURLWithPath: item.file).deletingPathExtension().lastPathComponent
                    let name = item.count > 1 ? "\(base)-\(item.index + 1).json" : "\(base).json"
                    try Data(writer.bytes(conversion.bundle)).write(
                        to: URL(fileURLWithPath: out).appendingPathComponent(name))
                }
            }
            if ndjson { try Data(stream).write(to: URL(fileURLWithPath: out).appendingPathComponent("bundles.ndjson")) }
            print("\(total - failed) of \(total) messages became valid Bundles in \(out)")
            if failed > 0 { throw ExitCode(1) }
        }
    }
}

extension Ferry.HL7 {
    /// How HL7 v2 is converted, for every command that converts it.
    struct ConversionOptions: ParsableArguments {
        @Option(help: "The sender's time zone for timestamps without an offset (e.g. America/New_York).")
        var zone = "UTC"

        @Option(help: "A maps file of the site's own (Z-segments, local practice) that extends or overrides the IG's.")
        var maps: String?

        func converter(definitions: FHIRDefinitions) throws -> V2Converter {
            guard let senderZone = TimeZone(identifier: zone) else {
                throw ValidationError("unknown time zone \(zone)")
            }
            return V2Converter(
                maps: try maps.map { try V2Maps.shipped(adding: $0) } ?? V2Maps.shipped(), definitions: definitions,
                options: .init(senderZone: senderZone))
        }
    }

    struct FromFHIR: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "from-fhir",
            abstract:
                "Turns FHIR Bundles back into HL7 v2 (ADT^A08 per Patient, ORU^R01 per report) for replay to a legacy system.",
            discussion: """
                Reads Bundles (JSON or XML) such as `ferry hl7 convert` writes or a FHIR server returns, and \
                writes one .hl7 file per message in --out, control ids PREFIX-1, PREFIX-2, … Exits 2 when a \
                file cannot be read as a FHIR Bundle.
                """
        )

        @Argument(help: "FHIR Bundle files.")
        var files: [String]

        @Option(help: "The folder the messages are written to.")
        var out: String

        @Option(help: "The start of each message's control id (MSH-10).")
        var controlPrefix = "FERRY"

        @Option(help: "MSH-3, the sending application.")
        var sendingApplication = "FERRY"

        @Option(help: "MSH-5, the receiving application.")
        var receivingApplication = ""

        func run() async throws {
            var standardError = FileHandle.standardError
            let definitions = try FHIRDefinitions.r4()
            var options = FHIRToV2.Options()
            options.sendingApplication = sendingApplication
            options.receivingApplication = receivingApplication
            let reverse = FHIRToV2(options: options)
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            var count = 0
            for (index, file) in files.enumerated() {
                guard let data = FileManager.default.contents(atPath: file) else {
                    print("\(file): cannot be read", to: &standardError)
                    throw ExitCode(2)
                }
                let bundle: JSON
                do {
                    bundle =
                        file.hasSuffix(".xml")
                        ? try FHIRXML(definitions: definitions).read([UInt8](data)) : try JSONParser().parse(data)
                } catch {
                    print("\(file): \(error)", to: &standardError)
                    throw ExitCode(2)
                }
                guard bundle["resourceType"]?.stringValue == "Bundle" else {
                    print("\(file): not a Bundle", to: &standardError)
                    throw ExitCode(2)
                }
                let prefix = files.count > 1 ? "\(controlPrefix)\(index + 1)" : controlPrefix
                for message in reverse.messages(from: bundle, controlPrefix: prefix) {
                    let name = "\(message.controlID ?? "message-\(count + 1)").hl7"
                    try Data(message.encoded()).write(to: URL(fileURLWithPath: out).appendingPathComponent(name))
                    print("\(file) → \(out)/\(name) \(message.messageType ?? "")^\(message.triggerEvent ?? "")")
                    count += 1
                }
            }
            print("\(count) messages written to \(out)")
        }
    }
}
