import Foundation
import HL7v2
import NIOCore
import NIOPosix
import NIOSSL
import Testing

@testable import Interop

enum InteropTestSupport {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// A fresh folder under the system's temporary folder.
    static func temporaryFolder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-interop-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }

    /// An ORU with a given control id and sender; `extra` segments are appended.
    static func oru(
        _ controlID: String, sender: String = "LAB", extra: [String] = [], header: String = ""
    ) -> HL7Message {
        let lines =
            ["MSH|^~\\&|\(sender)|HOSP|FERRY|CLOUD|20240101120000||ORU^R01^ORU_R01|\(controlID)|P|2.5.1\(header)"]
            + ["PID|||555^^^HOSP^MR||DOE^JANE", "OBR|1|A1||CBC", "OBX|1|NM|WBC||7.1"] + extra
        // The lines are well-formed by construction.
        return try! HL7Message(parsing: Array((lines.joined(separator: "\r") + "\r").utf8))
    }

    /// Polls `condition` until it holds or `timeout` passes (a loaded CI machine can be slow to commit).
    static func eventually(
        timeout: Duration = .seconds(60), _ condition: () throws -> Bool
    ) async throws {
        let deadline = ContinuousClock.now + timeout
        while try !condition(), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
    }

    /// Runs a listener on a free loopback port with a new journal while `body` runs.
    static func withListener<T>(
        _ adjust: (inout MLLPListener.Configuration) -> Void = { _ in },
        durability: MessageJournal.Durability = .normal,
        _ body: (_ port: Int, _ journal: MessageJournal) async throws -> T
    ) async throws -> T {
        try await withListener(adjust, durability: durability) { port, journal, _ in try await body(port, journal) }
    }

    /// Runs a listener as above; `body` also gets the listener itself.
    static func withListener<T>(
        _ adjust: (inout MLLPListener.Configuration) -> Void = { _ in },
        durability: MessageJournal.Durability = .normal,
        _ body: (_ port: Int, _ journal: MessageJournal, _ listener: MLLPListener) async throws -> T
    ) async throws -> T {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let journal = try MessageJournal(
            path: folder.appendingPathComponent("journal.sqlite").path, durability: durability)
        var configuration = MLLPListener.Configuration(host: "127.0.0.1", port: 0)
        adjust(&configuration)
        let listener = MLLPListener(configuration: configuration, journal: journal)
        let port = try #require(try await listener.bind().port)
        let serving = Task { try await listener.run() }
        defer { serving.cancel() }
        let result = try await body(port, journal, listener)
        serving.cancel()
        _ = await serving.result
        return result
    }

    /// Writes raw bytes to a port and collects what comes back until a complete MLLP frame arrived,
    /// the connection closed, or `timeout` passed. `closeAfterWrite` ends the connection right away.
    ///
    /// The timeout only guards against a hang: the whole suite runs at once on two cores, where the
    /// tests' processes and CPU-bound work can keep the listener's tasks waiting for tens of seconds
    /// (a rejection test failed once after 50 seconds in a full run beside a fuzzer, and passes alone;
    /// its reply waiting out the old 30-second timeout is the one cause found that fits).
    static func exchange(
        port: Int, _ bytes: [UInt8], closeAfterWrite: Bool = false, timeout: TimeAmount = .seconds(180)
    ) async throws -> [UInt8] {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        let timer = channel.channel.eventLoop.scheduleTask(in: timeout) { channel.channel.close(promise: nil) }
        defer { timer.cancel() }
        return try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(ByteBuffer(bytes: bytes))
            if closeAfterWrite {
                outbound.finish()
                return []
            }
            var received: [UInt8] = []
            do {
                for try await chunk in inbound {
                    received += chunk.readableBytesView
                    if received.count >= 2, received.suffix(2) == [0x1C, 0x0D] { break }
                }
            } catch {
                // The listener closed the connection; what arrived before is the answer.
            }
            return received
        }
    }

    /// The message inside an MLLP frame.
    static func unframe(_ bytes: [UInt8]) throws -> HL7Message {
        let start = try #require(bytes.firstIndex(of: 0x0B), "no MLLP frame in \(bytes.count) bytes")
        let end = try #require(bytes.lastIndex(of: 0x1C))
        return try HL7Message(parsing: bytes[(start + 1)..<end])
    }
}
