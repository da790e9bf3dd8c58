import Foundation
import Reconciliation
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite struct VerdictTests {
    static func report(altered: Int = 0, unaccounted: Int = 0, deadLettered: Int = 0) -> ReconciliationReport {
        var report = ReconciliationReport()
        report.spec = "test 1"
        report.types = [
            .init(
                type: "Patient", legacy: 1000, target: 1000, matched: 1000 - altered, altered: altered, missing: 0,
                extra: 0)
        ]
        report.tables = [
            .init(
                table: "patient_data", read: 1000, loaded: 1000 - deadLettered - unaccounted,
                deadLettered: deadLettered,
                filtered: [:], unaccounted: unaccounted)
        ]
        report.unaccounted = (0..<unaccounted).map { .init(locator: "legacy:patient_data:\($0)", reason: "missing") }
        report.differences = (0..<altered).map {
            .init(
                type: "Patient", id: "p\($0)", kind: .altered, locator: "legacy:patient_data:\($0)",
                changedElements: ["name"])
        }
        return report
    }

    static func file(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("thresholds-\(UUID().uuidString).yaml")
            .path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func eachMeasurePassesWarnsOrEscalatesByItsLimits() throws {
        let limits = try Thresholds.load(
            path: Self.file("mismatchRate: { warn: 0, escalate: 0.002 }\nunaccounted: { warn: 0, escalate: 3 }\n"))
        #expect(limits.verdict(on: Self.report()).level == .pass)
        #expect(limits.verdict(on: Self.report(altered: 1)).level == .warn)
        #expect(limits.verdict(on: Self.report(altered: 3)).level == .escalate)
        #expect(limits.verdict(on: Self.report(unaccounted: 2)).level == .warn)
        let escalated = limits.verdict(on: Self.report(altered: 1, unaccounted: 4))
        #expect(escalated.level == .escalate && escalated.level.exitCode == 2)
        #expect(Set(escalated.findings.map(\.measure)) == ["mismatchRate", "unaccounted"])
        // Defaults: a dead-letter rate above 5% escalates.
        #expect(Thresholds().verdict(on: Self.report(deadLettered: 60)).level == .escalate)
    }

    @Test(arguments: [
        ("mismatchRate: { warn: 1 }\n", "mismatchRate needs numbers warn and escalate"),
        (
            "unaccounted: { warn: 0, escalate: 1 }\nmismatch: { warn: 0, escalate: 1 }\n",
            ":2: unknown measure 'mismatch'"
        ),
        ("deadLetterRate: { warn: 0.5, escalate: 0.1 }\n", "warn (0.5) is above escalate (0.1)"),
        ("webhook: ftp://example.org/x\n", "webhook must be an http or https URL"),
        ("mismatchRate: [1, 2\n", "not YAML"),
    ])
    func aBrokenThresholdsFileIsRefusedWithItsLine(text: String, message: String) throws {
        let path = try Self.file(text)
        #expect {
            try Thresholds.load(path: path)
        } throws: { error in
            String(describing: error).contains(message) && String(describing: error).contains(path)
        }
    }

    @Test func theDocumentsNameEveryDifferenceAndEndWithASignOff() throws {
        let report = Self.report(altered: 3, unaccounted: 1)
        let verdict = Thresholds().verdict(on: report)
        let documents = ReportDocuments(
            report: report, verdict: verdict, sources: ["sqlite:legacy.db"], target: "sqlite:store.sqlite",
            generated: Date(timeIntervalSince1970: 0))
        let markdown = documents.markdown()
        for number in 0..<3 {
            #expect(markdown.contains("| Patient/p\(number) | altered | legacy:patient_data:\(number) | name |"))
        }
        #expect(markdown.contains("## Verdict: ESCALATE") && markdown.contains("## Sign-off"))
        let html = documents.html()
        #expect(html.contains("<svg") && html.contains("<title>altered: 3</title>") && !html.contains("<!-- figure"))
        let decoded = try JSONSerialization.jsonObject(with: documents.json()) as? [String: Any]
        #expect((decoded?["verdict"] as? [String: Any])?["level"] as? String == "escalate")
    }

    @Test func anEscalationIsWrittenAndPostedWithCountsButNoRecordKeys() async throws {
        let server = try OneRequestServer()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("escalation-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let report = Self.report(altered: 2, unaccounted: 1)
        let notice = EscalationNotice(
            report: report, verdict: Thresholds().verdict(on: report), target: "sqlite:store.sqlite",
            folder: folder.path, generated: Date())
        let file = folder.appendingPathComponent("escalation.json").path
        let problems = try await notice.raise(file: file, webhook: URL(string: "http://127.0.0.1:\(server.port)/hook")!)
        #expect(problems.isEmpty)
        let posted = try #require(server.received())
        #expect(posted.hasPrefix("POST /hook "))
        let written = try String(contentsOfFile: file, encoding: .utf8)
        for text in [posted, written] {
            #expect(text.contains("\"differingRecords\" : 2") && text.contains("\"unaccountedRows\" : 1"))
            #expect(!text.contains("patient_data:") && !text.contains("p0"))
        }
        // A webhook that cannot be reached is reported, and the file is still written.
        let unreachable = try await notice.raise(file: file, webhook: URL(string: "http://127.0.0.1:1/hook")!)
        #expect(unreachable.count == 1 && unreachable[0].contains("could not be reached"))
    }
}

/// A loopback HTTP server that takes one request, answers 204, and keeps what it read.
final class OneRequestServer: @unchecked Sendable {
    let port: Int
    private let socketDescriptor: Int32
    private let done = DispatchSemaphore(value: 0)
    private var request: String?

    init() throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) }
        }
        guard bound == 0, listen(descriptor, 1) == 0 else { throw POSIXError(.EADDRINUSE) }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        socketDescriptor = descriptor
        port = Int(UInt16(bigEndian: address.sin_port))
        Thread.detachNewThread { [self] in serve() }
    }

    private func serve() {
        let connection = accept(socketDescriptor, nil, nil)
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = read(connection, &buffer, buffer.count)
            if count <= 0 { break }
            data += buffer[0..<count]
            let text = String(decoding: data, as: UTF8.self)
            if let split = text.range(of: "\r\n\r\n"),
                let lengthLine = text[..<split.lowerBound].split(separator: "\r\n").first(where: {
                    $0.lowercased().hasPrefix("content-length:")
                }),
                let length = Int(lengthLine.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)),
                text.utf8.count - text.utf8.distance(from: text.startIndex, to: split.upperBound) >= length
            {
                break
            }
        }
        request = String(decoding: data, as: UTF8.self)
        let answer = Array("HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".utf8)
        _ = write(connection, answer, answer.count)
        close(connection)
        close(socketDescriptor)
        done.signal()
    }

    /// What the one request was, once it has been answered.
    func received() -> String? {
        _ = done.wait(timeout: .now() + 20)
        return request
    }
}
