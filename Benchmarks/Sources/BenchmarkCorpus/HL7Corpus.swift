/// A realistic mixed HL7 v2.5.1 feed for benchmarks, the same for a seed on every run: admissions
/// and updates (ADT A01/A04/A08/A03 with next of kin, allergies, diagnoses, insurance), lab results
/// (ORU with 4–14 OBX and notes), orders (ORM, OML), pharmacy (RDE), documents (MDM with a long
/// text), scheduling (SIU) and immunizations (VXU), with escape sequences where real feeds have them.
public struct HL7Corpus {
    var random: SplitMix64

    public init(seed: UInt64) {
        random = SplitMix64(seed: seed)
    }

    mutating func pick<T>(_ values: [T]) -> T { values[Int(random.next() % UInt64(values.count))] }
    mutating func number(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(random.next() % UInt64(range.count))
    }

    static let families = ["RIVERA", "OKAFOR", "NGUYEN", "SCHMIDT", "HADDAD", "KOWALSKI", "TANAKA", "O'BRIEN"]
    static let givens = ["ANA", "CHIDI", "MINH", "GRETA", "YUSUF", "ZOFIA", "HARUKI", "SIOBHAN"]
    static let labs = [
        ("2345-7", "Glucose", "mg/dL", "70-99"), ("2160-0", "Creatinine", "mg/dL", "0.6-1.3"),
        ("718-7", "Hemoglobin", "g/dL", "12.0-17.5"), ("2823-3", "Potassium", "mmol/L", "3.5-5.1"),
        ("6690-2", "Leukocytes", "10*3/uL", "4.0-10.5"), ("777-3", "Platelets", "10*3/uL", "150-400"),
        ("2951-2", "Sodium", "mmol/L", "136-145"), ("1742-6", "ALT", "U/L", "7-56"),
    ]

    /// Message `index` of the feed, segments ended by `\r`.
    public mutating func message(_ index: Int) -> String {
        let roll = number(0...99)
        let segments: [String] =
            switch roll {
            case 0..<30: adt(index)
            case 30..<65: oru(index)
            case 65..<75: order(index)
            case 75..<85: rde(index)
            case 85..<90: mdm(index)
            case 90..<95: siu(index)
            default: vxu(index)
            }
        return segments.joined(separator: "\r") + "\r"
    }

    /// `count` messages, one per line (segments inside a message end with `\r`).
    public mutating func feed(_ count: Int) -> String {
        (0..<count).map { message($0) }.joined(separator: "\n") + "\n"
    }

    mutating func msh(_ type: String, _ index: Int, sender: String = "EPIC") -> String {
        "MSH|^~\\&|\(sender)|GENHOSP|FERRY|CLOUD|202403\(two(number(1...28)))\(two(number(0...23)))\(two(number(0...59)))00"
            + "||\(type)|MSG\(index)|P|2.5.1|||AL|NE|||||"
    }

    /// PID with identifiers, name, birth date, sex, race, address, phone and e-mail, marital status (16),
    /// religion (17), account (18), ethnic group `N` (22) and death indicator `N` (30).
    mutating func pid(_ index: Int) -> String {
        let mrn = 100_000 + index % 4_000
        return "PID|1||\(mrn)^^^GENHOSP^MR~\(number(100...899))-\(number(10...99))-\(number(1000...9999))^^^USSSA^SS||"
            + "\(pick(Self.families))^\(pick(Self.givens))^\(pick(["A", "M", ""]))^^^^L||19\(number(30...99))\(two(number(1...12)))\(two(number(1...28)))"
            + "|\(pick(["F", "M"]))||2106-3^White^HL70005|\(number(1...999)) MAIN ST^APT \(number(1...20))^PORTSMOUTH^NH^03801^USA^H||"
            + "^PRN^PH^^1^603^\(number(2_000_000...9_999_999))~^NET^Internet^patient\(index)@example.org|||M|CHR|V\(index)||||N||||||||N"
    }

    mutating func pv1(_ index: Int) -> String {
        "PV1|1|\(pick(["I", "O", "E"]))|3N^\(number(300...340))^A^GENHOSP^^^^^3 NORTH||||\(number(1000...1999))^KOWALSKI^PIOTR^^^DR^^^NPI"
            + "|\(number(1000...1999))^ADDISON^JAMES^^^DR^^^NPI||MED|||||1||\(number(1000...1999))^KOWALSKI^PIOTR^^^DR|IN|V\(index)|||||||||||||||||||GENHOSP||||||202403150830"
    }

    mutating func adt(_ index: Int) -> [String] {
        let event = pick(["A01", "A04", "A08", "A03"])
        var segments = [
            msh("ADT^\(event)^\(event == "A03" ? "ADT_A03" : "ADT_A01")", index),
            "EVN|\(event)|20240315083000|||\(number(1000...1999))^CLERK^PAT",
            pid(index), "PD1|||GENHOSP^^1001|\(number(1000...1999))^ADDISON^JAMES",
            "NK1|1|\(pick(Self.families))^\(pick(Self.givens))|SPO^Spouse^HL70063|12 ELM ST^^PORTSMOUTH^NH^03801|^PRN^PH^^1^603^5550142||EC^Emergency Contact^HL70131",
            pv1(index), "PV2|||^Chest pain \\T\\ shortness of breath",
        ]
        let vitals = [
            "OBX|1|NM|8302-2^Body height^LN||\(number(150...195))|cm^centimeter^UCUM|||||F",
            "OBX|2|NM|29463-7^Body weight^LN||\(number(45...120))|kg^kilogram^UCUM|||||F",
        ]
        let clinical = [
            "AL1|1|DA|70618^Penicillin^RXNORM|SV|Hives~Wheezing|20100101",
            "AL1|2|FA|256349002^Peanut^SCT|MO|Rash",
            "DG1|1||I10^Essential (primary) hypertension^I10||20240315|A",
            "DG1|2||E11.9^Type 2 diabetes mellitus without complications^I10||20240315|A",
        ]
        // ADT_A03 puts observations after allergies and diagnoses; ADT_A01 before them.
        segments += event == "A03" ? clinical + vitals : vitals + clinical
        segments.append(
            "IN1|1|BCBS^Blue Cross PPO|60054|BLUE CROSS BLUE SHIELD|PO BOX 1000^^MANCHESTER^NH^03101||||GRP\(number(100...999))|||20240101|20241231|||\(pick(Self.families))^\(pick(Self.givens))|SEL|19700101"
        )
        return segments
    }

    mutating func oru(_ index: Int) -> [String] {
        var segments = [
            msh("ORU^R01^ORU_R01", index, sender: "LAB"), pid(index), pv1(index),
            "ORC|RE|ORD\(index)^EPIC|FIL\(index)^LAB||CM||||20240315093000|||\(number(1000...1999))^ADDISON^JAMES^^^DR",
            "OBR|1|ORD\(index)^EPIC|FIL\(index)^LAB|24323-8^Comprehensive metabolic panel^LN|||20240315093000|||||||20240315094500||\(number(1000...1999))^ADDISON^JAMES^^^DR||||||20240315101500|||F",
        ]
        for number in 1...self.number(4...14) {
            let lab = pick(Self.labs)
            let value = "\(self.number(1...300)).\(self.number(0...9))"
            segments.append(
                "OBX|\(number)|NM|\(lab.0)^\(lab.1)^LN^\(lab.1.uppercased())^\(lab.1)^L||\(value)|\(lab.2)^\(lab.2)^UCUM|\(lab.3)|\(pick(["N", "H", "L", "N"]))|||F|||20240315093000|||||20240315101500||||GENHOSP LAB^^^^^CLIA^XX^^^22D0000000"
            )
            if self.number(0...4) == 0 {
                segments.append("NTE|1|L|Verified by repeat analysis\\.br\\Specimen slightly hemolyzed")
            }
        }
        return segments
    }

    mutating func order(_ index: Int) -> [String] {
        let oml = number(0...1) == 0
        return [
            msh(oml ? "OML^O21^OML_O21" : "ORM^O01^ORM_O01", index), pid(index), pv1(index),
            "ORC|NW|ORD\(index)^EPIC|||SC||^^^20240316080000^^R||20240315093000|\(number(1000...1999))^CLERK^PAT||\(number(1000...1999))^ADDISON^JAMES^^^DR",
            "OBR|1|ORD\(index)^EPIC||80053^Comprehensive metabolic panel^CPT|R||20240316080000|||||||||\(number(1000...1999))^ADDISON^JAMES^^^DR",
            "NTE|1||Fasting specimen required",
            "DG1|1||R73.9^Hyperglycemia, unspecified^I10",
        ]
    }

    mutating func rde(_ index: Int) -> [String] {
        [
            msh("RDE^O11^RDE_O11", index, sender: "PHARM"), pid(index), pv1(index),
            "ORC|NW|RX\(index)^EPIC|||||||20240315093000|||\(number(1000...1999))^ADDISON^JAMES^^^DR",
            "RXE|^^^20240315100000^^R|197361^Amlodipine 5 MG Oral Tablet^RXNORM|5||mg^milligram^UCUM|TAB^Tablet^HL70292|^Take one tablet by mouth daily|||30|TAB|3|\(number(1000...1999))^ADDISON^JAMES",
            "TQ1|1||QD^Every day^HL70335|||30^d|20240315|20240414",
            "RXR|PO^Oral^HL70162",
        ]
    }

    mutating func mdm(_ index: Int) -> [String] {
        let text = (1...number(20...60)).map {
            "Line \($0) of the discharge summary: patient stable, follow up in clinic."
        }
        .joined(separator: "~")
        return [
            msh("MDM^T02^MDM_T02", index, sender: "DICT"), "EVN|T02|20240315110000", pid(index), pv1(index),
            "TXA|1|DS^Discharge summary|TX|20240315110000|\(number(1000...1999))^ADDISON^JAMES|||||||DOC\(index)|||||AU||AV",
            "OBX|1|TX|18842-5^Discharge summary^LN||\(text)||||||F",
        ]
    }

    mutating func siu(_ index: Int) -> [String] {
        [
            msh("SIU^S12^SIU_S12", index, sender: "SCHED"),
            "SCH|APT\(index)|APT\(index)|||||ROUTINE^Routine^HL70276|FOLLOWUP^Follow-up^HL70277|30|min|^^30^20240320140000^20240320143000||||||||||||||Booked",
            pid(index), "PV1|1|O", "RGS|1|A",
            "AIS|1|A|99213^Office visit^CPT|20240320140000|0|min|30|min",
            "AIL|1|A|CLINIC2^^^GENHOSP",
            "AIP|1|A|\(number(1000...1999))^ADDISON^JAMES^^^DR|ATT^Attending",
        ]
    }

    mutating func vxu(_ index: Int) -> [String] {
        [
            msh("VXU^V04^VXU_V04", index, sender: "IMMS"), pid(index),
            "ORC|RE|IMM\(index)^EPIC|||||||20240315093000",
            "RXA|0|1|20240315093000|20240315093000|140^Influenza, seasonal, injectable^CVX|0.5|mL^milliliter^UCUM||00^New immunization record^NIP001|\(number(1000...1999))^NURSE^NANCY|||||LOT\(number(1000...9999))|20250630|SKB^GlaxoSmithKline^MVX|||CP|A",
            "RXR|IM^Intramuscular^HL70162|LD^Left deltoid^HL70163",
            "OBX|1|CE|64994-7^Vaccine funding program eligibility^LN|1|V01^Not VFC eligible^HL70064||||||F",
        ]
    }

    private func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
}
