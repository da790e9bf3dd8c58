import FHIR
import Foundation

/// Realistic FHIR resources for benchmarks, the same for a seed on every run and every machine.
///
/// Patients carry what a migrated record carries (MRN and SSN identifiers, official and nickname names,
/// phones, an address with a period, marital status, language, a US Core race extension, a managing
/// organization); Observations are laboratory results with LOINC and local codings, a UCUM quantity,
/// an interpretation and a reference range; Bundles are 100-entry transactions linking them by `urn:uuid`.
public struct Corpus {
    var random: SplitMix64

    /// Creates a corpus generator.
    public init(seed: UInt64) {
        random = SplitMix64(seed: seed)
    }

    static let families = [
        "Rivera", "Okafor", "Nguyen", "Schmidt", "Haddad", "Kowalski", "Tanaka", "Oduya", "Larsen", "Moreau", "García",
        "O'Brien",
    ]
    static let givens = [
        "Ana", "Chidi", "Minh", "Greta", "Yusuf", "Zofia", "Haruki", "Amara", "Lars", "Élodie", "Mateo", "Siobhan",
    ]
    static let cities = [
        ("Portsmouth", "NH", "03801"), ("Dover", "NH", "03820"), ("Bangor", "ME", "04401"),
        ("Burlington", "VT", "05401"),
    ]
    static let labs: [(loinc: String, display: String, local: String, unit: String, low: Double, high: Double)] = [
        ("2345-7", "Glucose [Mass/volume] in Serum or Plasma", "GLU", "mg/dL", 70, 99),
        ("2160-0", "Creatinine [Mass/volume] in Serum or Plasma", "CREA", "mg/dL", 0.6, 1.3),
        ("718-7", "Hemoglobin [Mass/volume] in Blood", "HGB", "g/dL", 12, 17.5),
        ("2823-3", "Potassium [Moles/volume] in Serum or Plasma", "K", "mmol/L", 3.5, 5.1),
        ("4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood", "HBA1C", "%", 4, 5.6),
    ]

    mutating func pick<T>(_ values: [T]) -> T { values[Int(random.next() % UInt64(values.count))] }
    mutating func number(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(random.next() % UInt64(range.count))
    }

    /// A Patient.
    public mutating func patient(_ index: Int) -> JSON {
        let family = pick(Self.families)
        let given = pick(Self.givens)
        let (city, state, zip) = pick(Self.cities)
        let birth = String(format: "%04d-%02d-%02d", number(1930...2020), number(1...12), number(1...28))
        var object: JSON = [
            "resourceType": "Patient",
            "id": .string("pat-\(index)"),
            "meta": ["versionId": "1", "lastUpdated": "2024-03-01T08:15:00Z", "source": "urn:ferry:legacy:openemr"],
            "extension": [
                [
                    "url": "http://hl7.org/fhir/us/core/StructureDefinition/us-core-race",
                    "extension": [
                        [
                            "url": "ombCategory",
                            "valueCoding": [
                                "system": "urn:oid:2.16.840.1.113883.6.238", "code": "2106-3", "display": "White",
                            ],
                        ],
                        ["url": "text", "valueString": "White"],
                    ],
                ]
            ],
            "identifier": [
                [
                    "use": "usual",
                    "type": [
                        "coding": [["system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"]],
                        "text": "MRN",
                    ],
                    "system": "urn:oid:2.16.840.1.113883.19.5", "value": .string("MRN-\(100_000 + index)"),
                ],
                [
                    "system": "http://hl7.org/fhir/sid/us-ssn",
                    "value": .string(
                        String(format: "%03d-%02d-%04d", number(100...899), number(10...99), number(1000...9999))),
                ],
            ],
            "active": true,
            "name": [
                ["use": "official", "family": .string(family), "given": [.string(given), .string(pick(Self.givens))]],
                ["use": "nickname", "given": .array([.string(String(given.prefix(3)))])],
            ],
            "telecom": [
                ["system": "phone", "value": .string("603-555-\(number(1000...9999))"), "use": "home"],
                ["system": "email", "value": .string("\(given.lowercased()).\(index)@example.org")],
            ],
            "gender": .string(pick(["female", "male", "other", "unknown"])),
            "birthDate": .string(birth),
            "address": [
                [
                    "use": "home", "line": [.string("\(number(1...999)) Harbor Way"), "Apt 2"], "city": .string(city),
                    "state": .string(state), "postalCode": .string(zip), "country": "US",
                    "period": ["start": "2010-05-01"],
                ]
            ],
            "maritalStatus": [
                "coding": [
                    [
                        "system": "http://terminology.hl7.org/CodeSystem/v3-MaritalStatus", "code": "M",
                        "display": "Married",
                    ]
                ]
            ],
            "communication": [
                ["language": ["coding": [["system": "urn:ietf:bcp:47", "code": "en-US"]]], "preferred": true]
            ],
            "managingOrganization": ["reference": "Organization/org-north"],
        ]
        if index % 7 == 0 { object = set(object, "deceasedDateTime", "2023-11-02T10:30:00-05:00") }
        return object
    }

    /// A laboratory Observation about `patient`.
    public mutating func observation(_ index: Int, patient: String) -> JSON {
        let lab = pick(Self.labs)
        let value = lab.low + (lab.high - lab.low) * Double(number(0...140)) / 100
        let text = String(format: "%.1f", value)
        let interpretation = value > lab.high ? "H" : value < lab.low ? "L" : "N"
        return [
            "resourceType": "Observation",
            "id": .string("obs-\(index)"),
            "meta": ["versionId": "1", "lastUpdated": "2024-03-01T08:15:00Z"],
            "identifier": [["system": "urn:oid:2.16.840.1.113883.19.5.7", "value": .string("ACC-\(index)")]],
            "status": "final",
            "category": [
                [
                    "coding": [
                        [
                            "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                            "code": "laboratory", "display": "Laboratory",
                        ]
                    ]
                ]
            ],
            "code": [
                "coding": [
                    ["system": "http://loinc.org", "code": .string(lab.loinc), "display": .string(lab.display)],
                    ["system": "urn:oid:2.16.840.1.113883.19.5.99", "code": .string(lab.local)],
                ],
                "text": .string(lab.display),
            ],
            "subject": ["reference": .string(patient)],
            "encounter": ["reference": .string("Encounter/enc-\(index / 4)")],
            "effectiveDateTime": .string(
                String(
                    format: "2024-%02d-%02dT%02d:%02d:00-05:00", number(1...12), number(1...28), number(0...23),
                    number(0...59))),
            "issued": "2024-03-01T08:15:00.000Z",
            "performer": [["reference": "Organization/org-lab"]],
            "valueQuantity": [
                "value": .number(text), "unit": .string(lab.unit), "system": "http://unitsofmeasure.org",
                "code": .string(lab.unit),
            ],
            "interpretation": [
                [
                    "coding": [
                        [
                            "system": "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation",
                            "code": .string(interpretation),
                        ]
                    ]
                ]
            ],
            "referenceRange": [
                [
                    "low": [
                        "value": .number(String(lab.low)), "unit": .string(lab.unit),
                        "system": "http://unitsofmeasure.org", "code": .string(lab.unit),
                    ],
                    "high": [
                        "value": .number(String(lab.high)), "unit": .string(lab.unit),
                        "system": "http://unitsofmeasure.org", "code": .string(lab.unit),
                    ],
                ]
            ],
        ]
    }

    /// A transaction Bundle of `size` entries: patients, each followed by observations referring to it by urn:uuid.
    public mutating func bundle(_ index: Int, size: Int = 100) -> JSON {
        var entries: [JSON] = []
        var patientURL = ""
        for position in 0..<size {
            let uuid = uuidString(index * 1000 + position)
            let resource: JSON
            if position % 10 == 0 {
                resource = set(patient(index * 1000 + position), "id", nil)
                patientURL = "urn:uuid:\(uuid)"
            } else {
                resource = set(observation(index * 1000 + position, patient: patientURL), "id", nil)
            }
            let type = resource["resourceType"]?.stringValue ?? ""
            entries.append([
                "fullUrl": .string("urn:uuid:\(uuid)"), "resource": resource,
                "request": ["method": "POST", "url": .string(type)],
            ])
        }
        return [
            "resourceType": "Bundle", "id": .string("bundle-\(index)"), "type": "transaction", "entry": .array(entries),
        ]
    }

    mutating func uuidString(_ index: Int) -> String {
        let a = random.next(), b = random.next()
        let hex = String(format: "%016llx%016llx", a, b)
        let c = Array(hex)
        return
            "\(String(c[0..<8]))-\(String(c[8..<12]))-4\(String(c[13..<16]))-a\(String(c[17..<20]))-\(String(c[20..<32]))"
    }

    func set(_ value: JSON, _ key: String, _ newValue: JSON?) -> JSON {
        guard var object = value.objectValue else { return value }
        object[key] = newValue
        return .object(object)
    }

    /// Writes `count` resources, one compact JSON per line.
    public static func ndjson(_ resources: [JSON]) -> [UInt8] {
        var output: [UInt8] = []
        for resource in resources {
            JSONWriter().write(resource, into: &output)
            output.append(UInt8(ascii: "\n"))
        }
        return output
    }

    /// The lines of an NDJSON file.
    public static func lines(of data: [UInt8]) -> [[UInt8]] {
        data.split(separator: UInt8(ascii: "\n")).map(Array.init)
    }
}

/// A small, fast, well-distributed deterministic generator (Steele, Lea and Flood's SplitMix64).
public struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    /// Creates a generator from a seed.
    public init(seed: UInt64) { state = seed }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Where the corpus files live: `.build-bench/corpus` beside the Benchmarks package, or `$FERRY_CORPUS`.
public enum CorpusFiles {
    public static var folder: URL {
        if let path = ProcessInfo.processInfo.environment["FERRY_CORPUS"] { return URL(fileURLWithPath: path) }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(".build-bench/corpus")
    }

    /// Reads one corpus file.
    public static func read(_ name: String) -> [UInt8] {
        let url = folder.appendingPathComponent(name)
        guard let data = try? Data(contentsOf: url) else {
            FileHandle.standardError.write(
                Data("missing \(url.path): run `swift run -c release make-corpus` in Benchmarks/\n".utf8))
            return []
        }
        return [UInt8](data)
    }
}
