import FHIR
import Foundation

/// The FHIRPath expressions the benchmarks evaluate, written to a file so that Ferry and the Python peer
/// (fhirpathpy) evaluate exactly the same texts on the same resources.
public enum FHIRPathWorkload {
    /// Every invariant of a resource type, each made a root expression: the constraints of every element
    /// of the type (`ele-1` on each, `pat-1` on `Patient.contact`, …) and of the data types the elements
    /// use directly (`qty-3` on `Observation.value.ofType(Quantity)`), evaluated as `path.all(constraint)`.
    public static func invariants(of typeName: String, definitions: FHIRDefinitions) -> [String] {
        guard let type = definitions.types[typeName] else { return [] }
        var expressions: [String] = []
        var seen: Set<String> = []
        func add(_ expression: String) {
            if seen.insert(expression).inserted { expressions.append(expression) }
        }
        for element in type.elements {
            let path = element.path.hasSuffix("[x]") ? String(element.path.dropLast(3)) : element.path
            let isRoot = element.path == typeName
            for index in element.constraintIndices {
                let constraint = definitions.constraints[index].expression
                add(isRoot ? constraint : "\(path).all(\(constraint))")
            }
            guard !isRoot else { continue }
            for elementType in element.types {
                guard let dataType = definitions.types[elementType.code], dataType.kind == .complexType,
                    elementType.code != "BackboneElement", elementType.code != "Element",
                    let root = dataType.elements.first
                else { continue }
                let typed = element.types.count > 1 ? "\(path).ofType(\(elementType.code))" : path
                for index in root.constraintIndices {
                    add("\(typed).all(\(definitions.constraints[index].expression))")
                }
            }
        }
        return expressions
    }

    /// Ten search parameters a FHIR server indexes on every write of a Patient or an Observation.
    public static let searchParameterURLs = [
        "http://hl7.org/fhir/SearchParameter/individual-family",
        "http://hl7.org/fhir/SearchParameter/Patient-name",
        "http://hl7.org/fhir/SearchParameter/individual-birthdate",
        "http://hl7.org/fhir/SearchParameter/individual-gender",
        "http://hl7.org/fhir/SearchParameter/Patient-identifier",
        "http://hl7.org/fhir/SearchParameter/individual-phone",
        "http://hl7.org/fhir/SearchParameter/clinical-code",
        "http://hl7.org/fhir/SearchParameter/Observation-value-quantity",
        "http://hl7.org/fhir/SearchParameter/clinical-date",
        "http://hl7.org/fhir/SearchParameter/Observation-subject",
    ]

    /// The expressions of `searchParameterURLs`.
    public static func searchExpressions(definitions: FHIRDefinitions) -> [String] {
        searchParameterURLs.compactMap { url in definitions.searchParameters.first { $0.url == url }?.expression }
    }

    /// The workload document: `{"Patient": [...], "Observation": [...], "search": [...]}`.
    public static func document(definitions: FHIRDefinitions) -> JSON {
        [
            "Patient": .array(invariants(of: "Patient", definitions: definitions).map { .string($0) }),
            "Observation": .array(invariants(of: "Observation", definitions: definitions).map { .string($0) }),
            "search": .array(searchExpressions(definitions: definitions).map { .string($0) }),
        ]
    }

    /// The workload the benchmarks run: the common one (expressions both engines support) when the
    /// peer has written it and `full` is false, else the full one.
    public static func read(full: Bool = false) -> (patient: [String], observation: [String], search: [String]) {
        let common = CorpusFiles.folder.appendingPathComponent("fhirpath-workload-common.json")
        let bytes = CorpusFiles.read(
            !full && FileManager.default.fileExists(atPath: common.path)
                ? common.lastPathComponent : "fhirpath-workload.json")
        guard let document = try? JSON(parsing: bytes) else { return ([], [], []) }
        func list(_ key: String) -> [String] { document[key]?.arrayValue?.compactMap(\.stringValue) ?? [] }
        return (list("Patient"), list("Observation"), list("search"))
    }
}
