/// The outcome of validating many inputs, as `ferry validate` reports it.
public struct ValidationReport: Sendable {
    /// One resource's outcome.
    public struct Entry: Sendable {
        /// Where the resource came from (`file`, `file:line`).
        public var source: String
        /// The resource type, when the input could be read.
        public var resourceType: String?
        /// The resource id, when present.
        public var id: String?
        /// The issues found.
        public var outcome: OperationOutcome
        /// Whether the input could not be read or parsed at all.
        public var isUnusable: Bool
    }

    /// Every resource validated, in input order.
    public var entries: [Entry] = []

    /// Creates an empty report.
    public init() {}

    /// Reads and validates everything under `paths` (files or folders; JSON, NDJSON or XML).
    public static func validating(paths: [String], validator: Validator) -> ValidationReport {
        var report = ValidationReport()
        let input = ResourceInput(definitions: validator.definitions)
        for path in paths {
            let files: [String]
            do { files = try input.files(at: path) } catch {
                report.entries.append(.unusable(source: path, error: error))
                continue
            }
            for file in files {
                let items: [ResourceInput.Item]
                do { items = try input.read(file: file) } catch {
                    report.entries.append(.unusable(source: file, error: error))
                    continue
                }
                for item in items {
                    switch item.result {
                    case .success(let resource):
                        report.entries.append(
                            Entry(
                                source: item.source,
                                resourceType: resource["resourceType"]?.stringValue,
                                id: resource["id"]?.stringValue,
                                outcome: validator.validate(resource),
                                isUnusable: false
                            )
                        )
                    case .failure(let error):
                        report.entries.append(.unusable(source: item.source, error: error))
                    }
                }
            }
        }
        return report
    }

    /// Exit status: 0 all valid, 1 any resource invalid, 2 any input unusable (missing, unreadable, not parseable).
    public var exitCode: Int32 {
        if entries.isEmpty || entries.contains(where: \.isUnusable) { return 2 }
        return entries.allSatisfy(\.outcome.isValid) ? 0 : 1
    }

    /// A summary for people: each input with problems and its issues beneath it, then the totals.
    public var humanSummary: String {
        var lines: [String] = []
        var valid = 0
        var unusable = 0
        var warnings = 0
        for entry in entries {
            if entry.isUnusable {
                unusable += 1
            } else if entry.outcome.isValid {
                valid += 1
            }
            let problems = entry.outcome.issues.filter { $0.severity <= .warning }
            warnings += problems.filter { $0.severity == .warning }.count
            guard !problems.isEmpty else { continue }
            let name = [entry.resourceType, entry.id].compactMap { $0 }.joined(separator: "/")
            let verdict = entry.isUnusable ? "UNUSABLE" : entry.outcome.isValid ? "valid, with warnings" : "INVALID"
            lines.append("\(entry.source)\(name.isEmpty ? "" : " (\(name))"): \(verdict)")
            for issue in problems {
                var location: [String] = []
                if let line = issue.line { location.append("line \(line), column \(issue.column ?? 0)") }
                if !issue.expression.isEmpty { location.append(issue.expression) }
                let key = issue.constraintKey.map { "\($0): " } ?? ""
                let at = location.isEmpty ? "" : " " + location.joined(separator: " ")
                lines.append("  \(issue.severity.rawValue) [\(issue.code)]\(at): \(key)\(issue.diagnostics)")
            }
        }
        let invalid = entries.count - valid - unusable
        let noun = entries.count == 1 ? "input" : "inputs"
        lines.append(
            "\(entries.count) \(noun): \(valid) valid, \(invalid) invalid, \(unusable) unusable, \(warnings) "
                + (warnings == 1 ? "warning" : "warnings"))
        return lines.joined(separator: "\n")
    }

    /// One JSON line per resource: its source and its OperationOutcome.
    public var jsonLines: String {
        entries.map { entry in
            var object = JSONObject()
            object["source"] = .string(entry.source)
            if let type = entry.resourceType { object["resourceType"] = .string(type) }
            if let id = entry.id { object["id"] = .string(id) }
            object["valid"] = .bool(entry.outcome.isValid)
            object["outcome"] = entry.outcome.resource
            return JSONWriter().string(.object(object))
        }
        .joined(separator: "\n")
    }
}

extension ValidationReport.Entry {
    static func unusable(source: String, error: FHIRError) -> Self {
        var issue = Validator.syntaxIssue(error)
        if error.code == .io { issue.code = "not-found" }
        return Self(
            source: source, resourceType: nil, id: nil, outcome: OperationOutcome(issues: [issue]), isUnusable: true)
    }
}
