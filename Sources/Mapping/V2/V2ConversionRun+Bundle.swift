import Crypto
import FHIR
import Foundation
import HL7v2

extension V2ConversionRun {
    mutating func finish() -> V2Converter.Conversion {
        // MSH-3 and MSH-4 as written: who sent the message.
        let header = message.segments.first
        let sender = [header?.rawField(3), header?.rawField(4)].map { $0 ?? "" }.joined(separator: "|")
        let control = Self.printable(message.controlID ?? "")
        let built = instances.filter { $0.node.json() != nil }
        for instance in built {
            instance.id = Self.id(for: instance, sender: sender, control: control)
        }
        for reference in pendingReferences {
            guard let from = nearest(reference.from, scope: reference.scope), !from.id.isEmpty,
                let to = nearest(reference.to, scope: reference.scope), !to.id.isEmpty, from !== to,
                let steps = V2TargetStep.parse(reference.path)
            else { continue }
            // Some message maps name a backbone element (`Encounter.diagnosis.reference`) where the
            // segment map already set the reference inside it; such a row adds nothing.
            // The element the target's own segment fills in the source (the patient's participant in an
            // Appointment), so that the reference joins it instead of starting another.
            let suffix = "\(to.segment == from.segment ? 0 : to.segment)#1"
            if case .object(let holder)? = try? walker.place(steps[...], from: from.node, suffix: suffix),
                converter.definitions.member("reference", of: holder.type) == nil
            {
                continue
            }
            _ = write(
                .string("\(to.type)/\(to.id)"), at: steps + [V2TargetStep(name: "reference")], in: from.node,
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
                .string("\(target.type)/\(target.id)"), at: steps + [V2TargetStep(name: "reference")], in: pending.node,
                suffix: pending.suffix, location: target.label)
        }
        var entries: [JSON] = []
        var seen: Set<String> = []
        var counts: [String: Int] = [:]
        var targets: [JSON] = []
        for instance in built + extras.keys.sorted().compactMap({ extras[$0] }) {
            let key = "\(instance.type)/\(instance.id)"
            guard !seen.contains(key), case .object(var object)? = instance.node.json() else { continue }
            seen.insert(key)
            object = JSONObject(
                [("resourceType", .string(instance.type)), ("id", .string(instance.id))]
                    + object.map { ($0.key, $0.value) })
            guard let valid = repaired(.object(object), label: instance.label) else { continue }
            entries.append(Self.entry(valid, type: instance.type, id: instance.id))
            targets.append(.object(JSONObject([("reference", .string(key))])))
            counts[instance.type, default: 0] += 1
        }
        let bytes = message.encoded()
        let digest = SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
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
        let record = object(
            ("resourceType", .string("Provenance")), ("id", .string(provenanceID)),
            ("target", .array(targets.isEmpty ? [object(("display", .string("no resources")))] : targets)),
            ("recorded", recorded),
            ("activity", object(("coding", .array([activity])))),
            (
                "agent",
                .array([object(("who", object(("display", .string("HL7 v2 sender \(Self.printable(sender))")))))])
            ),
            (
                "entity",
                .array([
                    object(
                        ("role", .string("source")),
                        (
                            "what",
                            object(
                                ("identifier", identifier),
                                ("display", .string("\(label) \(control) sha256:\(digest)")))
                        ))
                ])
            ))
        // Built from the message's own header: anything there that FHIR refuses is left out and reported.
        let provenance = repaired(record, label: "Provenance") ?? record
        entries.append(Self.entry(provenance, type: "Provenance", id: provenanceID))
        counts["Provenance", default: 0] += 1
        let bundle = JSON.object(
            JSONObject([
                ("resourceType", .string("Bundle")), ("type", .string("transaction")), ("entry", .array(entries)),
            ]))
        return V2Converter.Conversion(bundle: bundle, issues: issues, unused: unusedReport(), counts: counts)
    }

    /// The resource with every element that keeps it from validating taken out (an extension without
    /// its url, a telecom without a system, a diagnosis without its condition), each one reported;
    /// `nil` when the resource itself cannot be valid from what the message holds (a required element
    /// that no map fills).
    mutating func repaired(_ resource: JSON, label: String) -> JSON? {
        var resource = resource
        for _ in 0..<40 {
            guard let error = converter.validator.validate(resource).errors.first else { return resource }
            var steps = Self.steps(error.expression)
            // A missing required element: the element that lacks it goes; a wrong value: the value goes.
            if error.code == "required" || error.code == "invariant" && !error.expression.hasSuffix("]") {
                if error.code == "required" { steps.removeLast() }
                while let last = steps.last, last.index == nil, steps.count > 1 { steps.removeLast() }
            }
            guard !steps.isEmpty, let smaller = Self.removing(steps[...], from: resource) else {
                issues.append("\(label) left out: \(error.diagnostics)")
                return nil
            }
            let place = steps.map { $0.name + ($0.index.map { "[\($0)]" } ?? "") }.joined(separator: ".")
            issues.append("\(label).\(place) left out: \(error.diagnostics)")
            resource = smaller
        }
        return nil
    }

    /// `Bundle.entry[0].resource.a[1].b` → the steps after the resource type: (a, 1), (b, nil).
    static func steps(_ expression: String) -> [(name: String, index: Int?)] {
        expression.split(separator: ".").dropFirst().map { part in
            guard let open = part.firstIndex(of: "["), part.last == "]" else { return (String(part), nil) }
            return (String(part[..<open]), Int(part[part.index(after: open)..<part.index(before: part.endIndex)]))
        }
    }

    /// The JSON without the element at the steps; `nil` when there is nothing there to take out.
    static func removing(_ steps: ArraySlice<(name: String, index: Int?)>, from json: JSON) -> JSON? {
        guard let step = steps.first, case .object(let object) = json, let value = object[step.name] else { return nil }
        var members = object.map { ($0.key, $0.value) }
        let position = members.firstIndex { $0.0 == step.name }!
        let rest = steps.dropFirst()
        if let index = step.index {
            guard case .array(var items) = value, index < items.count else { return nil }
            if rest.isEmpty {
                items.remove(at: index)
            } else {
                guard let changed = removing(rest, from: items[index]) else { return nil }
                items[index] = changed
            }
            if items.isEmpty { members.remove(at: position) } else { members[position].1 = .array(items) }
        } else if rest.isEmpty {
            members.remove(at: position)
        } else {
            guard let changed = removing(rest, from: value) else { return nil }
            members[position].1 = changed
        }
        return .object(JSONObject(members))
    }

    static func entry(_ resource: JSON, type: String, id: String) -> JSON {
        .object(
            JSONObject([
                ("fullUrl", .string("urn:uuid:\(id)")), ("resource", resource),
                ("request", .object(JSONObject([("method", .string("PUT")), ("url", .string("\(type)/\(id)"))]))),
            ]))
    }

    /// Message text for a FHIR string: control characters (which FHIR strings may not hold) as spaces.
    static func printable(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.map { $0.value < 0x20 ? " " : $0 }))
    }

    /// Text made safe for a URI: everything but letters, digits and `-._~` percent-encoded.
    static func uriSafe(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }

    /// An id from a resource's first identifier when it has one, else from its place in the message.
    static func id(for instance: Instance, sender: String, control: String) -> String {
        if case .object(let object)? = instance.node.json(), let first = object["identifier"]?.arrayValue?.first,
            let value = first["value"]?.stringValue
        {
            let system = first["system"]?.stringValue ?? first["assigner"]?["reference"]?.stringValue ?? sender
            return id(type: instance.type, content: "\(system)|\(value)")
        }
        return id(type: instance.type, content: "\(sender)|\(control)|\(instance.label)|\(instance.scope)")
    }

    /// A UUID-shaped id from a SHA-256 (name-based, deterministic).
    static func id(type: String, content: String) -> String {
        let hex = Array(SHA256.hash(data: Array("\(type)|\(content)".utf8)).map { String(format: "%02x", $0) }.joined())
        return
            "\(String(hex[0..<8]))-\(String(hex[8..<12]))-\(String(hex[12..<16]))-\(String(hex[16..<20]))-\(String(hex[20..<32]))"
    }

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
                if !used.contains([index, number]) { unused.append("\(name)-\(number)") }
            }
        }
        return unused
    }
}
