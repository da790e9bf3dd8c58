import FHIR
import Foundation
import HL7v2
import Legacy
import Mapping

/// What the legacy side is: relational and CSV sources with the mapping spec that maps them, and
/// HL7 v2 message files with the converter that converts them, as `ferry migrate` took them.
public struct LegacyInputs: Sendable {
    public var sources: [any LegacySource]
    public var mapper: SpecMapper?
    /// HL7 v2 files, in the order they were sent.
    public var feeds: [String]
    public var converter: V2Converter?

    public init(
        sources: [any LegacySource] = [], mapper: SpecMapper? = nil, feeds: [String] = [],
        converter: V2Converter? = nil
    ) {
        self.sources = sources
        self.mapper = mapper
        self.feeds = feeds
        self.converter = converter
    }

    /// Every message of every feed file in order: its file's position, its number in the file (from
    /// 1), its locator and its bytes.
    func messages(_ body: (Int, Int, String, [UInt8]) throws -> Void) throws {
        for (index, file) in feeds.enumerated() {
            let data: Data
            do { data = try Data(contentsOf: URL(fileURLWithPath: file), options: .alwaysMapped) } catch {
                throw LinkError("\(file): cannot be read")
            }
            let bytes = [UInt8](data)
            for (number, piece) in HL7Batch.messageRanges(bytes).enumerated() {
                let locator = V2FeedMessage.locator(file: file, number: number + 1, line: piece.line)
                try body(index, number + 1, locator, Array(bytes[piece.range]))
            }
        }
    }

    /// The resources of a transaction Bundle's entries, with their type and id.
    static func entries(_ bundle: JSON) -> [SpecMapper.Made] {
        (bundle["entry"]?.arrayValue ?? []).compactMap { entry in
            guard let resource = entry["resource"], let type = resource["resourceType"]?.stringValue,
                let id = resource["id"]?.stringValue
            else { return nil }
            return SpecMapper.Made(type: type, id: id, resource: resource)
        }
    }
}
