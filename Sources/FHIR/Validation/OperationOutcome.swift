/// The result of validating a resource: FHIR's OperationOutcome, as a Swift value.
public struct OperationOutcome: Sendable, Hashable {
    /// How serious an issue is (FHIR `IssueSeverity`).
    public enum Severity: String, Sendable, Hashable, Comparable {
        case fatal, error, warning, information

        private var rank: Int {
            switch self {
            case .fatal: 0
            case .error: 1
            case .warning: 2
            case .information: 3
            }
        }

        public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rank < rhs.rank }
    }

    /// One problem found (FHIR `OperationOutcome.issue`).
    public struct Issue: Sendable, Hashable {
        /// How serious it is.
        public var severity: Severity
        /// The FHIR `IssueType` code: `structure`, `required`, `value`, `code-invalid`, `invariant`, …
        public var code: String
        /// What is wrong, in words.
        public var diagnostics: String
        /// Where, as a FHIRPath location such as `Patient.name[0].given[1]`.
        public var expression: String
        /// The key of the rule broken, e.g. `bdl-3` or `dom-3`, when the rule has one.
        public var constraintKey: String?
        /// Line and column in the input, for syntax errors.
        public var line: Int?
        /// Column in the input, for syntax errors.
        public var column: Int?

        /// Creates an issue.
        public init(
            severity: Severity,
            code: String,
            diagnostics: String,
            expression: String,
            constraintKey: String? = nil,
            line: Int? = nil,
            column: Int? = nil
        ) {
            self.severity = severity
            self.code = code
            self.diagnostics = diagnostics
            self.expression = expression
            self.constraintKey = constraintKey
            self.line = line
            self.column = column
        }
    }

    /// Every issue found, in the order found.
    public var issues: [Issue]

    /// Creates an outcome.
    public init(issues: [Issue] = []) {
        self.issues = issues
    }

    /// Whether no issue is an error or fatal.
    public var isValid: Bool { !issues.contains { $0.severity <= .error } }

    /// The issues that are errors or fatal.
    public var errors: [Issue] { issues.filter { $0.severity <= .error } }

    /// The outcome as a FHIR R4 OperationOutcome resource.
    public var resource: JSON {
        let entries: [JSON] =
            issues.isEmpty
            ? [["severity": "information", "code": "informational", "diagnostics": "No issues found"]]
            : issues.map { issue in
                var object = JSONObject()
                object["severity"] = .string(issue.severity.rawValue)
                object["code"] = .string(issue.code)
                var diagnostics = issue.diagnostics
                if let key = issue.constraintKey { diagnostics = "\(key): \(diagnostics)" }
                if let line = issue.line {
                    diagnostics += " (line \(line)\(issue.column.map { ", column \($0)" } ?? ""))"
                }
                object["diagnostics"] = .string(diagnostics)
                if !issue.expression.isEmpty { object["expression"] = [.string(issue.expression)] }
                return .object(object)
            }
        return ["resourceType": "OperationOutcome", "issue": .array(entries)]
    }
}
