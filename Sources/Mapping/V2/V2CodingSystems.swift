/// HL7 table 0396 coding system names, as v2 writes them in CWE.3 (`LN`, `SCT`, `I10`), and the FHIR
/// system URIs they stand for. The IG's maps copy the v2 name into `Coding.system`; Ferry writes the
/// URI, and leaves out (and reports) a system it does not know, since FHIR requires a URI there.
enum V2CodingSystems {
    static func uri(for name: String) -> String? {
        if name.utf8.contains(UInt8(ascii: ":")) { return name }
        let upper = name.uppercased()
        if let known = table[upper] { return known }
        // HL7 tables: `HL70203` → v2-0203.
        if upper.hasPrefix("HL7"), upper.count >= 7, upper.dropFirst(3).allSatisfy(\.isNumber) {
            return "http://terminology.hl7.org/CodeSystem/v2-" + upper.dropFirst(3)
        }
        return nil
    }

    static let table: [String: String] = [
        "LN": "http://loinc.org", "LOINC": "http://loinc.org",
        "SCT": "http://snomed.info/sct", "SNM": "http://snomed.info/sct", "SNOMED": "http://snomed.info/sct",
        "SNM3": "http://snomed.info/sct",
        "I10": "http://hl7.org/fhir/sid/icd-10-cm", "I10C": "http://hl7.org/fhir/sid/icd-10-cm",
        "ICD10CM": "http://hl7.org/fhir/sid/icd-10-cm", "I10P": "http://www.cms.gov/Medicare/Coding/ICD10",
        "I9": "http://hl7.org/fhir/sid/icd-9-cm", "I9C": "http://hl7.org/fhir/sid/icd-9-cm",
        "I9CM": "http://hl7.org/fhir/sid/icd-9-cm",
        "RXNORM": "http://www.nlm.nih.gov/research/umls/rxnorm", "RXN": "http://www.nlm.nih.gov/research/umls/rxnorm",
        "CVX": "http://hl7.org/fhir/sid/cvx", "MVX": "http://terminology.hl7.org/CodeSystem/MVX",
        "NDC": "http://hl7.org/fhir/sid/ndc", "UCUM": "http://unitsofmeasure.org",
        "CPT": "http://www.ama-assn.org/go/cpt", "C4": "http://www.ama-assn.org/go/cpt",
        "HCPCS": "urn:oid:2.16.840.1.113883.6.285", "HCPT": "urn:oid:2.16.840.1.113883.6.285",
        "NUCC": "http://nucc.org/provider-taxonomy", "NPI": "http://hl7.org/fhir/sid/us-npi",
        "CDCREC": "urn:oid:2.16.840.1.113883.6.238", "ISO3166": "urn:iso:std:iso:3166",
        "ISO+": "urn:iso:std:iso:11073:10101", "NCIT": "http://ncithesaurus-stage.nci.nih.gov",
        "UMLS": "http://www.nlm.nih.gov/research/umls", "MDC": "urn:iso:std:iso:11073:10101",
    ]
}
