import FHIR
import Foundation
import HL7v2

/// The reverse path: FHIR resources back to HL7 v2, for replaying cloud-side changes to a legacy
/// system during a rollback. A Patient (with its Encounter, when there is one) becomes an ADT^A08
/// update; a DiagnosticReport with its Observations, or Observations alone, becomes an ORU^R01.
///
/// The fields written are the ones the v2-to-FHIR direction reads, so that a message converted to
/// FHIR and back keeps its identifiers, names, birth date, sex, addresses, phones, visit, order codes,
/// results, units, ranges, flags, statuses and times.
public struct FHIRToV2: Sendable {
    /// Who the messages come from and go to (MSH-3 to MSH-6), and the version they declare.
    public struct Options: Sendable {
        public var sendingApplication = "FERRY"
        public var sendingFacility = "CLOUD"
        public var receivingApplication = ""
        public var receivingFacility = ""
        public var version = "2.5.1"

        public init() {}
    }

    public let options: Options
    let separators = HL7Separators.standard

    public init(options: Options = Options()) {
        self.options = options
    }

    /// Every message a Bundle's resources replay as: one ADT^A08 per Patient, one ORU^R01 per
    /// DiagnosticReport (its results found by reference), and one for Observations no report holds.
    public func messages(from bundle: JSON, controlPrefix: String, at time: Date = Date()) -> [HL7Message] {
        let resources = (bundle["entry"]?.arrayValue ?? []).compactMap { $0["resource"] }
        func byReference(_ reference: String?) -> JSON? {
            guard let reference else { return nil }
            return resources.first {
                "\($0["resourceType"]?.stringValue ?? "")/\($0["id"]?.stringValue ?? "")" == reference
            }
        }
        var messages: [HL7Message] = []
        func control() -> String { "\(controlPrefix)-\(messages.count + 1)" }
        for patient in resources where patient["resourceType"]?.stringValue == "Patient" {
            let reference = "Patient/\(patient["id"]?.stringValue ?? "")"
            let encounter = resources.first {
                $0["resourceType"]?.stringValue == "Encounter" && $0["subject"]?["reference"]?.stringValue == reference
            }
            messages.append(
                patientUpdate(patient, encounter: encounter, controlID: control(), at: time, resolve: byReference))
        }
        var reported: Set<String> = []
        for report in resources where report["resourceType"]?.stringValue == "DiagnosticReport" {
            let members = (report["result"]?.arrayValue ?? []).compactMap { byReference($0["reference"]?.stringValue) }
            for member in members { reported.insert(member["id"]?.stringValue ?? "") }
            guard
                let patient = byReference(report["subject"]?["reference"]?.stringValue)
                    ?? members.lazy.compactMap({ byReference($0["subject"]?["reference"]?.stringValue) }).first
            else { continue }
            messages.append(
                results(
                    report: report, observations: members, patient: patient, controlID: control(), at: time,
                    resolve: byReference))
        }
        let loose = resources.filter {
            $0["resourceType"]?.stringValue == "Observation" && !reported.contains($0["id"]?.stringValue ?? "")
        }
        if let patient = loose.lazy.compactMap({ byReference($0["subject"]?["reference"]?.stringValue) }).first {
            messages.append(
                results(
                    report: nil, observations: loose, patient: patient, controlID: control(), at: time,
                    resolve: byReference))
        }
        return messages
    }

    /// ADT^A08 (update patient information) for a Patient and, when known, its Encounter.
    ///
    /// `resolve` finds a referenced resource (an identifier's assigning Organization) by `Type/id`.
    public func patientUpdate(
        _ patient: JSON, encounter: JSON?, controlID: String, at time: Date = Date(),
        resolve: (String?) -> JSON? = { _ in nil }
    ) -> HL7Message {
        var segments = [header("ADT^A08^ADT_A01", controlID: controlID, at: time)]
        segments.append(HL7Segment(id: "EVN", fields: ["A08", Self.timestamp(time)]))
        segments.append(pid(patient, resolve: resolve))
        segments.append(pv1(encounter))
        return HL7Message(separators: separators, segments: segments)
    }

    /// ORU^R01 for a report (OBR) and its observations (OBX), or observations alone under one OBR.
    public func results(
        report: JSON?, observations: [JSON], patient: JSON, controlID: String, at time: Date = Date(),
        resolve: (String?) -> JSON? = { _ in nil }
    ) -> HL7Message {
        var segments = [header("ORU^R01^ORU_R01", controlID: controlID, at: time), pid(patient, resolve: resolve)]
        var obr = Fields()
        obr[1] = "1"
        if let report {
            for identifier in report["identifier"]?.arrayValue ?? [] {
                let type = identifier["type"]?["coding"]?[0]?["code"]?.stringValue
                obr[type == "FILL" ? 3 : 2] = escape(identifier["value"]?.stringValue)
            }
            obr[4] = coded(report["code"])
            obr[7] = Self.dtm(report["effectiveDateTime"]?.stringValue)
            obr[22] = Self.dtm(report["issued"]?.stringValue)
            obr[25] = Self.resultStatus[report["status"]?.stringValue ?? ""] ?? ""
        } else {
            obr[4] = coded(observations.first?["code"])
        }
        segments.append(HL7Segment(id: "OBR", fields: obr.values))
        for (index, observation) in observations.enumerated() {
            segments.append(obx(observation, setID: index + 1))
            for note in observation["note"]?.arrayValue ?? [] {
                if let text = note["text"]?.stringValue {
                    segments.append(HL7Segment(id: "NTE", fields: ["1", "", escape(text)]))
                }
            }
        }
        return HL7Message(separators: separators, segments: segments)
    }

    // MARK: - Segments

    func header(_ type: String, controlID: String, at time: Date) -> HL7Segment {
        HL7Segment(
            id: "MSH",
            fields: [
                "|", "^~\\&", escape(options.sendingApplication), escape(options.sendingFacility),
                escape(options.receivingApplication), escape(options.receivingFacility), Self.timestamp(time), "", type,
                escape(controlID), "P", options.version,
            ])
    }

    func pid(_ patient: JSON, resolve: (String?) -> JSON?) -> HL7Segment {
        var pid = Fields()
        pid[1] = "1"
        pid[3] = repeated(patient["identifier"]) { identifier in
            let assigner = resolve(identifier["assigner"]?["reference"]?.stringValue)
            let authority =
                assigner?["identifier"]?[0]?["value"]?.stringValue ?? assigner?["name"]?.stringValue
                ?? identifier["assigner"]?["display"]?.stringValue ?? identifier["system"]?.stringValue
            return components([
                identifier["value"]?.stringValue, nil, nil, authority,
                identifier["type"]?["coding"]?[0]?["code"]?.stringValue,
            ])
        }
        pid[5] = repeated(patient["name"]) { name in
            let given = name["given"]?.arrayValue?.compactMap(\.stringValue) ?? []
            return components([
                name["family"]?.stringValue, given.first, given.dropFirst().first,
                name["suffix"]?[0]?.stringValue, name["prefix"]?[0]?.stringValue, nil,
                Self.nameUse[name["use"]?.stringValue ?? ""],
            ])
        }
        pid[7] = (patient["birthDate"]?.stringValue).map { $0.filter(\.isNumber) } ?? ""
        pid[8] = Self.sex[patient["gender"]?.stringValue ?? ""] ?? ""
        pid[11] = repeated(patient["address"]) { address in
            let lines = address["line"]?.arrayValue?.compactMap(\.stringValue) ?? []
            return components([
                lines.first, lines.dropFirst().first, address["city"]?.stringValue, address["state"]?.stringValue,
                address["postalCode"]?.stringValue, address["country"]?.stringValue,
                Self.addressUse[address["use"]?.stringValue ?? ""],
            ])
        }
        pid[13] = repeated(patient["telecom"]) { telecom in
            let system = telecom["system"]?.stringValue
            let use = telecom["use"]?.stringValue == "work" ? "WPN" : (system == "email" ? "NET" : "PRN")
            let equipment =
                system == "email" ? "Internet" : (system == "fax" ? "FX" : (system == "pager" ? "BP" : "PH"))
            return system == "email"
                ? components([nil, use, equipment, telecom["value"]?.stringValue])
                : components([telecom["value"]?.stringValue, use, equipment])
        }
        if let deceased = patient["deceasedDateTime"]?.stringValue {
            pid[29] = Self.dtm(deceased)
            pid[30] = "Y"
        } else if let deceased = patient["deceasedBoolean"]?.boolValue {
            pid[30] = deceased ? "Y" : "N"
        }
        return HL7Segment(id: "PID", fields: pid.values)
    }

    func pv1(_ encounter: JSON?) -> HL7Segment {
        var pv1 = Fields()
        pv1[1] = "1"
        guard let encounter else {
            pv1[2] = "N"
            return HL7Segment(id: "PV1", fields: pv1.values)
        }
        pv1[2] = Self.patientClass[encounter["class"]?["code"]?.stringValue ?? ""] ?? "U"
        pv1[19] = escape(encounter["identifier"]?[0]?["value"]?.stringValue)
        pv1[44] = Self.dtm(encounter["period"]?["start"]?.stringValue)
        pv1[45] = Self.dtm(encounter["period"]?["end"]?.stringValue)
        return HL7Segment(id: "PV1", fields: pv1.values)
    }

    func obx(_ observation: JSON, setID: Int) -> HL7Segment {
        var obx = Fields()
        obx[1] = String(setID)
        obx[3] = coded(observation["code"])
        if let quantity = observation["valueQuantity"] {
            obx[2] = "NM"
            obx[5] = quantity["value"]?.numberText ?? ""
            obx[6] = components([
                quantity["code"]?.stringValue ?? quantity["unit"]?.stringValue, quantity["unit"]?.stringValue,
                quantity["system"]?.stringValue == "http://unitsofmeasure.org" ? "UCUM" : nil,
            ])
        } else if let text = observation["valueString"]?.stringValue {
            obx[2] = text.count > 200 ? "TX" : "ST"
            obx[5] = escape(text)
        } else if let concept = observation["valueCodeableConcept"] {
            obx[2] = "CWE"
            obx[5] = coded(concept)
        } else if let moment = observation["valueDateTime"]?.stringValue {
            obx[2] = "DTM"
            obx[5] = Self.dtm(moment)
        }
        obx[7] = escape(observation["referenceRange"]?[0]?["text"]?.stringValue)
        obx[8] = repeated(observation["interpretation"]) { concept in
            escape(concept["coding"]?[0]?["code"]?.stringValue)
        }
        obx[11] = Self.resultStatus[observation["status"]?.stringValue ?? ""] ?? ""
        obx[14] = Self.dtm(observation["effectiveDateTime"]?.stringValue)
        return HL7Segment(id: "OBX", fields: obx.values)
    }

    // MARK: - Values

    /// A CWE from a CodeableConcept's first coding: code, display, coding system name (table 0396).
    func coded(_ concept: JSON?) -> String {
        guard let concept else { return "" }
        let coding = concept["coding"]?[0]
        let system = coding?["system"]?.stringValue.map { V2CodingSystems.name(for: $0) }
        return components([
            coding?["code"]?.stringValue, coding?["display"]?.stringValue ?? concept["text"]?.stringValue,
            system ?? nil,
        ])
    }

    func components(_ values: [String?]) -> String {
        var parts = values.map { escape($0) }
        while parts.last == "" { parts.removeLast() }
        return parts.joined(separator: "^")
    }

    func repeated(_ array: JSON?, _ encode: (JSON) -> String) -> String {
        (array?.arrayValue ?? []).map(encode).filter { !$0.isEmpty }.joined(separator: "~")
    }

    func escape(_ text: String?) -> String {
        text.map { HL7Escaping.encode($0, separators: separators) } ?? ""
    }

    /// A FHIR date, dateTime or instant as a v2 DTM: `2024-03-15T14:30:00Z` → `20240315143000+0000`.
    static func dtm(_ text: String?) -> String {
        guard let text, !text.isEmpty else { return "" }
        guard let t = text.firstIndex(of: "T") else { return text.filter(\.isNumber) }
        let date = text[..<t].filter(\.isNumber)
        var time = text[text.index(after: t)...]
        var zone = ""
        if time.hasSuffix("Z") {
            zone = "+0000"
            time = time.dropLast()
        } else if let sign = time.lastIndex(where: { $0 == "+" || $0 == "-" }) {
            zone = String(time[sign...]).filter { $0 != ":" }
            time = time[..<sign]
        }
        let clock = time.split(separator: ".", maxSplits: 1)
        let fraction = clock.count > 1 ? "." + clock[1] : ""
        return date + (clock.first ?? "").filter(\.isNumber) + fraction + zone
    }

    static func timestamp(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMddHHmmss"
        return formatter.string(from: date) + "+0000"
    }

    static let sex = ["female": "F", "male": "M", "other": "O", "unknown": "U"]
    static let nameUse = [
        "official": "L", "usual": "D", "nickname": "N", "maiden": "M", "anonymous": "S", "old": "BAD",
    ]
    static let addressUse = ["home": "H", "work": "B", "temp": "C", "old": "BA", "billing": "BI"]
    static let patientClass = ["IMP": "I", "AMB": "O", "EMER": "E", "PRENC": "P", "OBSENC": "O", "SS": "O"]
    static let resultStatus = [
        "final": "F", "preliminary": "P", "corrected": "C", "amended": "C", "cancelled": "X", "entered-in-error": "W",
        "registered": "I", "partial": "R",
    ]
}

/// Field values by number, for building a segment.
struct Fields {
    private(set) var values: [String] = []

    subscript(number: Int) -> String {
        get { number <= values.count ? values[number - 1] : "" }
        set {
            if values.count < number { values += Array(repeating: "", count: number - values.count) }
            values[number - 1] = newValue
            while values.last == "" { values.removeLast() }
        }
    }
}

extension V2CodingSystems {
    /// The table 0396 name for a system URI (`http://loinc.org` → `LN`), or the URI when none.
    static func name(for uri: String) -> String {
        if uri.hasPrefix("http://terminology.hl7.org/CodeSystem/v2-") { return "HL7" + uri.dropFirst(41) }
        return preferredNames[uri] ?? uri
    }

    static let preferredNames: [String: String] = [
        "http://loinc.org": "LN", "http://snomed.info/sct": "SCT", "http://hl7.org/fhir/sid/icd-10-cm": "I10",
        "http://hl7.org/fhir/sid/icd-9-cm": "I9CM", "http://www.nlm.nih.gov/research/umls/rxnorm": "RXNORM",
        "http://hl7.org/fhir/sid/cvx": "CVX", "http://hl7.org/fhir/sid/ndc": "NDC", "http://unitsofmeasure.org": "UCUM",
        "http://www.ama-assn.org/go/cpt": "CPT",
    ]
}
