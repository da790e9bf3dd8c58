import Foundation
import HL7v2
import NIOCore
import NIOPosix
import Testing

@testable import Interop

/// The sender's retries and timeouts, TLS, and a listener process killed mid-stream.
@Suite struct MLLPDeliveryTests {
    typealias Support = InteropTestSupport

    /// A port nothing listens on right now, below the range the system hands out to outgoing
    /// connections (32768 and up on Linux): a port from that range, released, can be taken by another
    /// test's client before the listener binds it.
    func freePort() async throws -> Int {
        for _ in 0..<100 {
            let port = Int.random(in: 20_000..<32_000)
            guard
                let channel = try? await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                    .bind(host: "127.0.0.1", port: port).get()
            else { continue }
            try await channel.close()
            return port
        }
        throw ChannelError.connectPending
    }

    @Test func theSenderRetriesUntilTheListenerComesUp() async throws {
        let port = try await freePort()
        var configuration = MLLPSender.Configuration(
            host: "127.0.0.1", port: port, attempts: 8, initialBackoff: .milliseconds(100))
        let retries = AsyncStream<String>.makeStream()
        configuration.onRetry = { controlID, _, reason in retries.continuation.yield("\(controlID ?? "-"): \(reason)") }
        let sender = MLLPSender(configuration: configuration)
        let sending = Task { await sender.send([Support.oru("R-1"), Support.oru("R-2")]) }
        // The listener comes up once the first try has failed (however long the test pool takes to
        // run the sender).
        var firstRetry = retries.stream.makeAsyncIterator()
        #expect(await firstRetry.next()?.hasPrefix("R-1: ") == true)
        try await Support.withListener({ $0.port = port }) { _, journal in
            let deliveries = await sending.value
            #expect(deliveries.map(\.outcome) == [.accepted(.applicationAccept), .accepted(.applicationAccept)])
            #expect(deliveries[0].attempts > 1, "the first tries found no listener")
            let stored = try journal.counts().stored
            #expect(stored == 2)
        }
    }

    @Test func aReceiverThatNeverAnswersTimesOutAndIsReportedAfterTheLastTry() async throws {
        let silent = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).get()
        defer { silent.close(promise: nil) }
        let port = try #require(silent.localAddress?.port)
        let sender = MLLPSender(
            configuration: .init(
                host: "127.0.0.1", port: port, acknowledgmentTimeout: .milliseconds(200), attempts: 2,
                initialBackoff: .milliseconds(10)))
        let deliveries = await sender.send([Support.oru("T-1")])
        #expect(deliveries.count == 1 && deliveries[0].attempts == 2)
        #expect(deliveries[0].outcome == .failed("no acknowledgment within 200 ms"))
    }

    @Test func anAcknowledgmentForAnotherMessageIsNotTakenForThisOne() throws {
        let message = Support.oru("MINE")
        let other = Support.oru("OTHER").acknowledgment(.applicationAccept, controlID: "A1", timestamp: "20240101")
        #expect(throws: SendFailure.self) { try MLLPSender.read(ByteBuffer(bytes: other.encoded()), for: message) }
        let mine = message.acknowledgment(.applicationReject, controlID: "A2", timestamp: "20240101")
        #expect(try MLLPSender.read(ByteBuffer(bytes: mine.encoded()), for: message).0 == .applicationReject)
    }

    @Test func tlsWithACertificateFromTheSitesCA() async throws {
        let folder = try Support.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try Self.makeCertificates(in: folder)
        let path = { folder.appendingPathComponent($0).path }
        let serverTLS = try MLLPTLS.server(certificate: path("server.pem"), privateKey: path("server.key"))
        try await Support.withListener({ $0.tls = serverTLS }) { port, journal in
            let clientTLS = try MLLPTLS.client(trustedCA: path("ca.pem"))
            let secure = MLLPSender(
                configuration: .init(host: "127.0.0.1", port: port, tls: clientTLS, serverHostname: "localhost"))
            #expect(await secure.send([Support.oru("TLS-1")]).map(\.outcome) == [.accepted(.applicationAccept)])
            // A plain-text sender gets nowhere, and a sender that does not trust the CA neither.
            let plain = MLLPSender(
                configuration: .init(host: "127.0.0.1", port: port, acknowledgmentTimeout: .seconds(2), attempts: 1))
            #expect(await plain.send([Support.oru("TLS-2")]).first?.outcome.isAccepted == false)
            let untrusting = MLLPSender(
                configuration: .init(
                    host: "127.0.0.1", port: port, tls: try MLLPTLS.client(trustedCA: path("server.pem")),
                    serverHostname: "localhost", attempts: 1))
            #expect(await untrusting.send([Support.oru("TLS-3")]).first?.outcome.isAccepted == false)
            #expect(try journal.messages().compactMap(\.controlID) == ["TLS-1"])
        }
    }

    /// A CA and a server certificate for localhost signed by it, made with openssl.
    static func makeCertificates(in folder: URL) throws {
        try "subjectAltName=DNS:localhost,IP:127.0.0.1\n".write(
            to: folder.appendingPathComponent("san.ext"), atomically: true, encoding: .utf8)
        let steps = [
            "req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=Ferry-Test-CA",
            "req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout server.key -out server.csr -subj /CN=localhost",
            "x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 -extfile san.ext",
        ]
        for step in steps {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["openssl"] + step.split(separator: " ").map(String.init)
            process.currentDirectoryURL = folder
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
            try #require(process.terminationStatus == 0, "openssl \(step) failed (is openssl installed?)")
        }
    }

    @Test func aListenerKilledMidStreamLosesNoAcknowledgedMessage() async throws {
        let folder = try Support.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = folder.appendingPathComponent("journal.sqlite").path
        let lanes = 4
        let perLane = 300
        let messages = (0..<lanes).map { lane in (0..<perLane).map { Support.oru("K\(lane)-\($0)") } }

        // First run: killed with SIGKILL while four senders are busy, once a fifth of the messages is in.
        let first = try ListenerProcess(store: store)
        let killer = Task {
            let watcher = try MessageJournal(path: store)
            while try watcher.counts().stored < lanes * perLane / 5 { try await Task.sleep(for: .milliseconds(5)) }
            first.kill()
        }
        let firstDeliveries = await Self.send(messages, to: first.port, attempts: 1)
        try await killer.value
        let acknowledged = Set(firstDeliveries.filter { $0.outcome.isAccepted }.compactMap(\.controlID))
        #expect(!acknowledged.isEmpty, "some messages were acknowledged before the kill")
        #expect(acknowledged.count < lanes * perLane, "the kill came before the end")
        let afterKill = Set(try MessageJournal(path: store).messages(limit: 10_000).compactMap(\.controlID))
        #expect(acknowledged.isSubset(of: afterKill), "every acknowledged message survived the kill")

        // Second run on the same journal: everything is sent again; each message ends up stored once.
        let second = try ListenerProcess(store: store)
        let secondDeliveries = await Self.send(messages, to: second.port, attempts: 3)
        #expect(secondDeliveries.allSatisfy { $0.outcome == .accepted(.applicationAccept) })
        let summary = try second.terminate()
        let journal = try MessageJournal(path: store)
        let counts = try journal.counts()
        #expect(counts.stored == lanes * perLane)
        #expect(counts.duplicates == afterKill.count, "what was stored before the kill was recognised when resent")
        #expect(Set(try journal.messages(limit: 10_000).compactMap(\.controlID)).count == lanes * perLane)
        #expect(summary.contains("stored \(lanes * perLane), duplicates \(afterKill.count), dead letters 0"))
    }

    static func send(_ lanes: [[HL7Message]], to port: Int, attempts: Int) async -> [MLLPSender.Delivery] {
        await withTaskGroup(of: [MLLPSender.Delivery].self) { group in
            for lane in lanes {
                group.addTask {
                    let sender = MLLPSender(
                        configuration: .init(
                            host: "127.0.0.1", port: port, acknowledgmentTimeout: .seconds(5), attempts: attempts,
                            initialBackoff: .milliseconds(50)))
                    return await sender.send(lane)
                }
            }
            return await group.reduce(into: []) { $0 += $1 }
        }
    }
}

/// `ferry hl7 listen` as a separate process, so that it can be killed.
final class ListenerProcess: @unchecked Sendable {
    let process = Process()
    let output = Pipe()
    let port: Int

    init(store: String) throws {
        let folder =
            Bundle.main.bundleURL.hasDirectoryPath
            ? Bundle.main.bundleURL : Bundle.main.bundleURL.deletingLastPathComponent()
        let binary = try #require(
            [folder, folder.deletingLastPathComponent()].map { $0.appendingPathComponent("ferry") }
                .first { FileManager.default.isExecutableFile(atPath: $0.path) },
            "ferry was not built beside the tests")
        process.executableURL = binary
        process.arguments = ["hl7", "listen", "--port", "0", "--host", "127.0.0.1", "--store", store]
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        // The first line says where it listens.
        var line: [UInt8] = []
        while line.last != UInt8(ascii: "\n") {
            let byte = output.fileHandleForReading.readData(ofLength: 1)
            try #require(!byte.isEmpty, "the listener ended before saying where it listens")
            line += byte
        }
        let text = String(decoding: line, as: UTF8.self)
        port = try #require(Int(text.split(separator: ":").last?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""))
    }

    func kill() {
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// Stops it with SIGTERM and returns what it printed after the first line.
    func terminate() throws -> String {
        process.terminate()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        return String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    }
}
