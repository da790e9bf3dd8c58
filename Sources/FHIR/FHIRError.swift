/// The one error type of the FHIR module: what went wrong and where.
///
/// Every error that comes from outside bytes names its location: the line and column in the
/// input, and the JSON path or FHIRPath of the element, so an operator can find and fix it.
public struct FHIRError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of failure this is.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        let rawValue: String
        /// Bytes that are not well-formed JSON.
        public static let jsonSyntax = Code(rawValue: "json-syntax")
        /// Bytes that are not well-formed XML, or XML outside the limits.
        public static let xmlSyntax = Code(rawValue: "xml-syntax")
        /// Well-formed input that does not have the structure the FHIR definitions give it.
        public static let structure = Code(rawValue: "structure")
        /// The generated FHIR definitions could not be read.
        public static let definitions = Code(rawValue: "definitions")
        /// A FHIRPath expression that is not well-formed.
        public static let fhirpathSyntax = Code(rawValue: "fhirpath-syntax")
        /// A FHIRPath expression that failed while evaluating (a type error, a collection where one item was needed).
        public static let fhirpathEvaluation = Code(rawValue: "fhirpath-evaluation")
        /// A file could not be read.
        public static let io = Code(rawValue: "io")
        public var description: String { rawValue }
    }

    /// What kind of failure this is.
    public var code: Code
    /// A sentence saying what is wrong.
    public var message: String
    /// The 1-based line in the input, when known.
    public var line: Int?
    /// The 1-based column (in bytes) in the input, when known.
    public var column: Int?
    /// The path of the element inside the document, e.g. `$.name[0].given` or `Patient.name[0]`.
    public var path: String?
    /// The file the input came from, when known.
    public var file: String?

    /// Creates an error.
    public init(
        _ code: Code,
        _ message: String,
        line: Int? = nil,
        column: Int? = nil,
        path: String? = nil,
        file: String? = nil
    ) {
        self.code = code
        self.message = message
        self.line = line
        self.column = column
        self.path = path
        self.file = file
    }

    public var description: String {
        var location: [String] = []
        if let file { location.append(file) }
        if let line {
            location.append("line \(line)" + (column.map { ", column \($0)" } ?? ""))
        } else if let column {
            location.append("column \(column)")
        }
        if let path { location.append(path) }
        let prefix = location.isEmpty ? "" : location.joined(separator: ": ") + ": "
        return "\(prefix)\(message) [\(code)]"
    }
}
