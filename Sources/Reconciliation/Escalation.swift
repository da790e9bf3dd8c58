import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// What an escalation tells: the verdict and the counts, never a record's content or key (a webhook
/// goes to a chat or paging system, outside the PHI boundary). The report it points to has the detail.
public struct EscalationNotice: Sendable, Codable, Hashable {
    public var generated: String
    public var level: Verdict.Level
    public var findings: [Verdict.Finding]
    public var differingRecords: Int
    public var unaccountedRows: Int
    public var target: String
    /// Where the full report is.
    public var report: String

    public init(report: ReconciliationReport, verdict: Verdict, target: String, folder: String, generated: Date) {
        self.generated = ReportDocuments.timestamp(generated)
        level = verdict.level
        findings = verdict.findings
        differingRecords = report.differences.count
        unaccountedRows = report.unaccounted.count
        self.target = target
        self.report = folder
    }

    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }

    /// Writes the notice to `file` and, when given, posts it to `webhook`. Returns what went wrong (a
    /// webhook that refused or did not answer), so the caller can say so; the file is written first.
    public func raise(file: String, webhook: URL?) async throws -> [String] {
        let body = try json()
        try body.write(to: URL(fileURLWithPath: file))
        guard let webhook else { return [] }
        var request = URLRequest(url: webhook, timeoutInterval: 15)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = body
        do {
            let (_, response) = try await URLSession.shared.data(for: request)
            let status = (response as? HTTPURLResponse)?.statusCode ?? 0
            return (200..<300).contains(status) ? [] : ["the webhook \(webhook.absoluteString) answered \(status)"]
        } catch {
            return ["the webhook \(webhook.absoluteString) could not be reached: \(error.localizedDescription)"]
        }
    }
}
