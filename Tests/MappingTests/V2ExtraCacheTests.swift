import FHIR
import Foundation
import HL7v2
import Testing

@testable import Mapping

/// The resources values make, kept across messages (`V2ExtraCache`): a conversion with the cache
/// warm is the conversion made from nothing.
@Suite struct V2ExtraCacheTests {
    typealias Support = V2ConverterTests

    /// Every message of the converter tests, the shipped examples and the IG's sample, each also
    /// under another control id (the same values again).
    static func messages() throws -> [HL7Message] {
        var messages = Support.messages.map(\.1)
        let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Examples/hl7v2")
        for name in ["adt-a01.hl7", "oru-r01.hl7"] {
            messages.append(try HL7Message(parsing: try Data(contentsOf: examples.appendingPathComponent(name))))
        }
        let sample = V2MapsTests.shared.appendingPathComponent("v2-to-fhir/samples/messages/Message.hl7_MDM_T02.txt")
        messages.append(try HL7Message(parsing: try Data(contentsOf: sample)))
        return try messages
            + messages.map { message in
                // MSH-10, the control id, with `-again` after it.
                var lines = String(decoding: message.encoded(), as: UTF8.self).split(separator: "\r").map(String.init)
                var header = lines[0].split(separator: "|", omittingEmptySubsequences: false).map(String.init)
                header[9] += "-again"
                lines[0] = header.joined(separator: "|")
                return try HL7Message(parsing: Array(lines.joined(separator: "\r").utf8))
            }
    }

    /// Bundle bytes, issues and unused fields of one conversion.
    static func result(_ conversion: V2Converter.Conversion) -> String {
        JSONWriter().string(conversion.bundle) + "\n" + conversion.issues.joined(separator: "\n") + "\n"
            + conversion.unused.joined(separator: "\n")
    }

    @Test func aConversionWithTheCacheWarmIsTheConversionMadeFromNothing() throws {
        let maps = try V2Maps.shipped()
        let messages = try Self.messages()
        let warm = V2Converter(maps: maps, definitions: Support.definitions)
        for message in messages { _ = try warm.convert(message) }
        let before = warm.extraCache.counts
        #expect(before.kept >= 5)
        // Without a cache: every value made where it stands.
        let cold = V2Converter(maps: maps, definitions: Support.definitions, extraCacheCapacity: 0)
        for message in messages {
            let made = try cold.convert(message)
            #expect(Self.result(try warm.convert(message)) == Self.result(made), "\(message.controlID ?? "")")
        }
        #expect(cold.extraCache.counts == (kept: 0, hits: 0))
        // Every value the second pass met was taken from the cache.
        #expect(warm.extraCache.counts.hits > before.hits + messages.count)
        #expect(warm.extraCache.counts.kept == before.kept)
    }

    /// A converter whose site maps make ZPI-2 the Patient's managing Organization through a data type
    /// map `ZHD`: its first component the identifier, and `secondRow` (a map row as JSON text).
    static func organizationFromZPI(_ secondRow: String) throws -> V2Converter {
        try Support.siteConverter(
            """
            {"messages": {"ADT_A01+": [["ADT_A01.ZPI","ZPI",null,"Patient[1]","ZPI[Patient]",null]]},
             "segments": {"ZPI[Patient]": [["ZPI-2",null,"managingOrganization(Organization)","Reference",
                                            "ZHD[Organization]",null,null]]},
             "datatypes": {"ZHD[Organization]": [["ZHD.1",null,"identifier[1].value","string",null,null,null],
                                                 \(secondRow)]}}
            """)
    }

    /// A making whose condition read a field of the message is not kept: the same value in another
    /// message with another field makes another resource.
    @Test func aMakingThatReadTheMessageIsNotKept() throws {
        let site = try Self.organizationFromZPI(
            #"["ZHD.2","IF PID-8 EQUALS \"F\"","name","string",null,null,null]"#)
        func organization(sex: String, control: String) throws -> JSON? {
            let pid = "PID|1||100234^^^GENHOSP^MR||RIVERA^ANA||19710422|\(sex)"
            let conversion = try site.convert(
                Support.message("ADT^A04^ADT_A01", control, ["EVN|A04|20240315083000", pid, "ZPI|1|ORG1^North Clinic"]))
            return Support.resources(conversion.bundle, "Organization").first {
                $0["identifier"]?[0]?["value"]?.stringValue == "ORG1"
            }
        }
        let female = try #require(try organization(sex: "F", control: "Z1"))
        let male = try #require(try organization(sex: "M", control: "Z2"))
        #expect(female["name"]?.stringValue == "North Clinic")
        #expect(male["name"] == nil)
        #expect(female["id"] != male["id"])
        // And the making that read nothing but the value is kept.
        let again = try #require(try organization(sex: "M", control: "Z3"))
        #expect(again["id"] == male["id"])
    }

    /// A making that left a reference to a segment's resource to resolve is not kept: the reference
    /// is resolved (here: reported as unresolvable) in every message.
    @Test func aMakingThatLeftAReferenceToResolveIsNotKept() throws {
        let site = try Self.organizationFromZPI(
            #"["ZHD.2",null,"partOf(Organization.name)","Reference",null,null,null]"#)
        func issues(_ control: String) throws -> [String] {
            let pid = "PID|1||100234^^^GENHOSP^MR||RIVERA^ANA||19710422|F"
            return try site.convert(
                Support.message("ADT^A04^ADT_A01", control, ["EVN|A04|20240315083000", pid, "ZPI|1|ORG1^North Clinic"])
            ).issues.filter { $0.contains("no Organization was made from it") }
        }
        let first = try issues("R1")
        #expect(first.count == 1, "\(first)")
        #expect(try issues("R2") == first)
    }

    @Test func aFullCacheStartsAgainEmpty() {
        let cache = V2ExtraCache(capacity: 2)
        func key(_ raw: String) -> V2ExtraCache.Key {
            V2ExtraCache.Key(map: "HD[Organization]", type: "Organization", raw: raw, level: 1, separators: .standard)
        }
        let made = V2ExtraCache.Made(id: "x", resources: [])
        cache.keep(made, for: key("a"))
        cache.keep(made, for: key("b"))
        #expect(cache.counts.kept == 2)
        cache.keep(made, for: key("c"))
        #expect(cache.counts.kept == 1)
        #expect(cache.made(key("c"))?.id == "x")
        #expect(cache.made(key("a")) == nil)
    }
}
