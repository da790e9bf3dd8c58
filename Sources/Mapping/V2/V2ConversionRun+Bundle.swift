import Crypto
import FHIR
import Foundation
import HL7v2

extension V2ConversionRun {
    func finish() -> V2Converter.Conversion {
        // MSH-3 and MSH-4 as written: who sent the message.
        let header = message.segments.first
        let sender = [header?.rawField(3), header?.rawField(4)].map { $0 ?? "" }.joined(separator: "|")
        let control = Self.printable(message.controlID ?? "")
        let built = instances.filter { $0.node.hasContent }
        for instance in built {
            instance.id = Self.id(for: instance, sender: sender, control: control)
        }
        for reference in pendingReferences {
            guard let from = nearest(reference.from, scope: reference.scope), !from.id.isEmpty,
                let to = nearest(reference.to, scope: reference.scope), !to.id.isEmpty, from !== to
            else { continue }
            let steps = reference.steps
            // Some message maps name a backbone element (`Encounter.diagnosis.reference`) where the
            // segment map already set the reference inside it; such a row adds nothing.
            // The element the target's own segment fills in the source (the patient's participant in an
            // Appointment), so that the reference joins it instead of starting another.
            let suffix = SlotSuffix.repetition(1, segment: to.segment == from.segment ? 0 : to.segment)
            if case .object(let holder)? = try? walker.place(steps[...], from: from.node, suffix: suffix),
                converter.definitions.member("reference", of: holder.type) == nil
            {
                continue
            }
            _ = write(
                .string(ResourceID.path(to.type, to.id)), at: steps + [TargetStep(name: "reference")], in: from.node,
                suffix: suffix, location: from.label)
        }
        for pending in pendingSegmentReferences {
            guard let target = built.first(where: { $0.segment == pending.segment && $0.type == pending.type }) else {
                let segment = message.segments[pending.segment].id
                issues.append(
                    "\(segment) (segment \(pending.segment + 1)): no \(pending.type) was made from it to refer to")
                continue
            }
            var steps = pending.steps
            steps[steps.count - 1].referenceType = nil
            _ = write(
                .string(ResourceID.path(target.type, target.id)), at: steps + [TargetStep(name: "reference")],
                in: pending.node,
                suffix: pending.suffix, location: target.label)
        }
        var made: [MadeResource] = []
        var seen: Set<String> = []
        for instance in built + extras.keys.sorted().compactMap({ extras[$0] }) {
            let key = ResourceID.path(instance.type, instance.id)
            guard !seen.contains(key) else { continue }
            // An extra's content was written out for its id already.
            let members: [JSONMember]
            if case .object(let object)? = instance.content {
                members = object.members
            } else {
                members = instance.node.jsonMembers()
            }
            guard !members.isEmpty else { continue }
            seen.insert(key)
            let resource = ResourceNode.resource(type: instance.type, id: instance.id, members: members)
            made.append(MadeResource(label: instance.label, type: instance.type, id: instance.id, resource: resource))
        }
        let record = provenance(sender: sender, control: control)
        let (bundle, kept, outcome) = validatedBundle(made, provenance: record)
        var counts: [String: Int] = [:]
        for resource in kept { counts[resource.type, default: 0] += 1 }
        counts["Provenance", default: 0] += 1
        return V2Converter.Conversion(
            bundle: bundle, issues: issues, unused: unusedReport(), counts: counts, outcome: outcome)
    }

    /// The message's Provenance for the resources that are kept (`targets`), as its header names it.
    func provenance(sender: String, control: String) -> ([MadeResource]) -> MadeResource {
        let digest = sha256Hex(message.encoded())
        let provenanceID = Self.id(type: "Provenance", content: "\(sender)|\(control)|\(digest)")
        let recorded =
            (try? message.value(at: "MSH-7").text).flatMap { primitives.dateTime($0, instant: true)?.0 }
            ?? .string("1970-01-01T00:00:00Z")
        func object(_ members: (String, JSON?)...) -> JSON {
            .object(JSONObject(members.compactMap { name, value in value.map { (name, $0) } }))
        }
        let label = Self.printable("\(message.messageType ?? "")^\(message.triggerEvent ?? "")")
        let identifier: JSON? =
            control.isEmpty
            ? nil
            : object(
                ("system", .string("urn:ferry:hl7v2:sender:\(Self.uriSafe(sender))")), ("value", .string(control)))
        let activity = object(
            ("system", .string("http://terminology.hl7.org/CodeSystem/v3-DataOperation")), ("code", .string("CREATE")))
        let agent = object(("who", object(("display", .string("HL7 v2 sender \(Self.printable(sender))")))))
        let entity = object(
            ("role", .string("source")),
            (
                "what",
                object(("identifier", identifier), ("display", .string("\(label) \(control) sha256:\(digest)")))
            ))
        return { kept in
            let targets = kept.map { made in
                JSON.object(
                    JSONObject(uncheckedMembers: [
                        JSONMember(key: "reference", value: .string(ResourceID.path(made.type, made.id)))
                    ]))
            }
            let record = object(
                ("resourceType", .string("Provenance")), ("id", .string(provenanceID)),
                ("target", .array(targets.isEmpty ? [object(("display", .string("no resources")))] : targets)),
                ("recorded", recorded), ("activity", object(("coding", .array([activity])))),
                ("agent", .array([agent])), ("entity", .array([entity])))
            return MadeResource(label: "Provenance", type: "Provenance", id: provenanceID, resource: record)
        }
    }

    static func entry(_ resource: JSON, type: String, id: String) -> JSON {
        ResourceID.putEntry(resource, type: type, id: id)
    }

    /// Message text for a FHIR string: control characters (which FHIR strings may not hold) as spaces.
    static func printable(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.map { $0.value < 0x20 ? " " : $0 }))
    }

    /// Text made safe for a URI: everything but letters, digits and `-._~` percent-encoded.
    /// (What Foundation's `addingPercentEncoding` with those characters gives — it encodes every byte
    /// outside ASCII — without building the character set for every message; tested against it.)
    static func uriSafe(_ text: String) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                bytes.append(byte)
            default:
                bytes += [UInt8(ascii: "%"), hexDigits[Int(byte >> 4)], hexDigits[Int(byte & 0x0F)]]
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static let hexDigits = Array("0123456789ABCDEF".utf8)

    /// An id from a resource's first identifier when it has one, else from its place in the message.
    static func id(for instance: Instance, sender: String, control: String) -> String {
        // The first identifier the resource will have (empty ones are left out of it).
        if case .array(let slots)? = instance.node.member("identifier"),
            let first = slots.lazy.compactMap(\.node).first(where: \.hasContent), let value = first.string("value")
        {
            var assigner: String?
            if case .object(let node)? = first.member("assigner") { assigner = node.string("reference") }
            let system = first.string("system") ?? assigner ?? sender
            return ResourceID.make(type: instance.type, parts: [system, value])
        }
        return ResourceID.make(type: instance.type, parts: [sender, control, instance.label, instance.scope])
    }

    static func id(type: String, content: String) -> String { ResourceID.make(type: type, content: content) }

    /// Segments whose field 1 is a Set ID, a counter within the message that carries no data.
    static let setIDSegments: Set<String> = [
        "PID", "PV1", "OBR", "OBX", "AL1", "DG1", "NK1", "IN1", "NTE", "PR1", "SPM", "TQ1", "TXA", "GT1", "IAM", "AIS",
        "AIG", "AIL", "AIP", "RGS",
    ]

    /// Fields with a value no map read, and segments no map used.
    func unusedReport() -> [String] {
        var unused: [String] = []
        var occurrences: [String: Int] = [:]
        for (index, segment) in message.segments.enumerated() {
            occurrences[segment.id, default: 0] += 1
            let name = occurrences[segment.id]! > 1 ? "\(segment.id)[\(occurrences[segment.id]!)]" : segment.id
            guard usedSegments.contains(index) else {
                if segment.id != "MSH" { unused.append(name) }
                continue
            }
            for (offset, field) in segment.fields.enumerated() where !field.isEmpty {
                let number = offset + 1
                if HL7Segment.isHeader(segment.id), number <= 2 { continue }
                if number == 1, Self.setIDSegments.contains(segment.id) { continue }
                if !used.contains(Self.usedField(segment: index, field: number)) { unused.append("\(name)-\(number)") }
            }
        }
        return unused
    }
}
