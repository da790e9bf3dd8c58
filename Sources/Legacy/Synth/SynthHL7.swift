/// The synthetic clinic's HL7 v2.5.1 feed: the same events as its database, as the sites' interface
/// engines send them (site 1 local times without offset, site 2 with; a Z-segment on registrations).
enum SynthHL7 {
    struct Result {
        let test: SynthCatalog.LabTest
        let value: String
        let flag: String
        let range: String
    }

    /// Text made safe for a field: the separators escaped.
    static func escape(_ text: String) -> String {
        var result = ""
        for character in text {
            switch character {
            case "\\": result += "\\E\\"
            case "|": result += "\\F\\"
            case "^": result += "\\S\\"
            case "&": result += "\\T\\"
            case "~": result += "\\R\\"
            case "\n": result += "\\.br\\"
            default: result.append(character)
            }
        }
        return result
    }

    static func msh(_ p: SynthPerson, type: String, at: LocalMoment, control: Int) -> String {
        let format = SiteFormat(site: p.site)
        return
            "MSH|^~\\&|OPENEMR|\(p.site.sender)|FERRY|FERRY|\(format.hl7(at))||\(type)|\(p.site.sender)\(control)|P|2.5.1"
    }

    static func pid(_ p: SynthPerson) -> String {
        let format = SiteFormat(site: p.site)
        var identifiers = "\(p.mrn)^^^\(p.site.sender)^MR"
        if let ssn = p.ssn { identifiers += "~\(ssn)^^^SSA^SS" }
        let name = "\(escape(p.last))^\(escape(p.first))^\(p.middle ?? "")"
        let address = "\(escape(p.street))^^\(p.city)^\(p.site.state)^\(p.postalCode)^USA^H"
        let phones = [p.phoneHome.map { "\($0)^PRN^PH" }, p.phoneCell.map { "\($0)^PRN^CP" }].compactMap { $0 }
            .joined(separator: "~")
        // PID-29 and PID-30: the date of death and the indicator, 16 fields after PID-13.
        let death = p.deceased.map { String(repeating: "|", count: 16) + format.hl7($0, time: false) + "|Y" } ?? ""
        return
            "PID|1||\(identifiers)||\(name)||\(format.hl7(p.birth, time: false))|\(p.female ? "F" : "M")|||\(address)||\(phones)"
            + death
    }

    static func pv1(_ p: SynthPerson) -> String {
        "PV1|1|O|\(p.site.sender)^^^\(p.site.sender)||||\(p.provider.npi)^\(p.provider.last)^\(p.provider.first)^^^^^^NPI"
    }

    static func join(_ segments: [String]) -> String { segments.joined(separator: "\r") + "\r" }

    static func adt(_ p: SynthPerson, control: Int) -> String {
        join([
            msh(p, type: "ADT^A04^ADT_A01", at: p.registered, control: control),
            "EVN|A04|\(SiteFormat(site: p.site).hl7(p.registered))", pid(p), pv1(p),
            "ZPI|1|\(p.language)|\(p.email.map(escape) ?? "")",
        ])
    }

    static func orm(_ p: SynthPerson, panel: SynthCatalog.Panel, order: Int, at: LocalMoment, control: Int) -> String {
        let format = SiteFormat(site: p.site)
        return join([
            msh(p, type: "ORM^O01^ORM_O01", at: at, control: control), pid(p), pv1(p),
            "ORC|NW|\(order)^OPENEMR||||||||||\(p.provider.npi)^\(p.provider.last)^\(p.provider.first)^^^^^^NPI",
            "OBR|1|\(order)^OPENEMR||\(panel.code)^\(escape(panel.name))^L|||\(format.hl7(at))",
        ])
    }

    static func oru(
        _ p: SynthPerson, panel: SynthCatalog.Panel, order: Int, report: Int, collected: LocalMoment,
        reported: LocalMoment, results: [Result], control: Int
    ) -> String {
        let format = SiteFormat(site: p.site)
        var segments = [
            msh(p, type: "ORU^R01^ORU_R01", at: reported, control: control), pid(p), pv1(p),
            "ORC|RE|\(order)^OPENEMR|\(report)^LAB",
            "OBR|1|\(order)^OPENEMR|\(report)^LAB|\(panel.code)^\(escape(panel.name))^L|||\(format.hl7(collected))|||||||||||||||\(format.hl7(reported))|||F",
        ]
        for (index, result) in results.enumerated() {
            let numeric = Double(result.value) != nil
            segments.append(
                "OBX|\(index + 1)|\(numeric ? "NM" : "ST")|\(result.test.code)^\(escape(result.test.name))^L||\(escape(result.value))|\(result.test.unit)|\(result.range)|\(result.flag)|||F|||\(format.hl7(reported))"
            )
        }
        return join(segments)
    }

    static func rde(_ p: SynthPerson, drug: SynthCatalog.Drug, id: Int, at: LocalMoment, control: Int) -> String {
        let format = SiteFormat(site: p.site)
        return join([
            msh(p, type: "RDE^O11^RDE_O11", at: at, control: control), pid(p), pv1(p),
            "ORC|NW|\(id)^OPENEMR||||||||||\(p.provider.npi)^\(p.provider.last)^\(p.provider.first)^^^^^^NPI",
            "RXE|^^^\(format.hl7(at))|\(drug.ndc)^\(escape(drug.name))^NDC|\(drug.size)||\(drug.unit)^^UCUM|\(drug.form)",
        ])
    }

    static func mdm(_ p: SynthPerson, id: Int, text: String, at: LocalMoment, control: Int) -> String {
        let format = SiteFormat(site: p.site)
        return join([
            msh(p, type: "MDM^T02^MDM_T02", at: at, control: control),
            "EVN|T02|\(format.hl7(at))", pid(p), pv1(p),
            "TXA|1|CN|TX|\(format.hl7(at))|||||||\(id)^OPENEMR||||||AU",
            "OBX|1|TX|18842-5^Discharge summary^LN||\(escape(text))||||||F",
        ])
    }
}
