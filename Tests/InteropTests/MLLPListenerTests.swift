import Foundation
import HL7v2
import NIOCore
import Testing

@testable import Interop

@Suite struct MLLPListenerTests {
    typealias Support = InteropTestSupport

    @Test func concurrentSendersAreAllAcknowledgedAndStoredOnce() async throws {
        try await Support.withListener(durability: .full) { port, journal in
            let senders = 8
            let perSender = 60
            let deliveries = await withTaskGroup(of: [MLLPSender.Delivery].self) { group in
                for lane in 0..<senders {
                    group.addTask {
                        let sender = MLLPSender(configuration: .init(host: "127.0.0.1", port: port))
                        return await sender.send((0..<perSender).map { Support.oru("S\(lane)-\($0)") })
                    }
                }
                return await group.reduce(into: []) { $0 += $1 }
            }
            #expect(deliveries.count == senders * perSender)
            #expect(deliveries.allSatisfy { $0.outcome == .accepted(.applicationAccept) && $0.attempts == 1 })
            let stored = try journal.messages(limit: 10_000)
            #expect(stored.count == senders * perSender)
            #expect(Set(stored.compactMap(\.controlID)).count == senders * perSender, "none twice")
            #expect(stored.allSatisfy { $0.sender == "LAB|HOSP" && $0.messageType == "ORU^R01^ORU_R01" })
        }
    }

    @Test func aResentMessageIsAcknowledgedAgainButStoredOnce() async throws {
        try await Support.withListener { port, journal in
            let sender = MLLPSender(configuration: .init(host: "127.0.0.1", port: port))
            let message = Support.oru("DUP-1")
            let deliveries = await sender.send([message, message, Support.oru("DUP-1", sender: "RAD")])
            #expect(deliveries.map(\.outcome) == Array(repeating: .accepted(.applicationAccept), count: 3))
            let counts = try journal.counts()
            #expect(counts.stored == 2 && counts.duplicates == 1, "same MSH-10 from another sender is another message")
            let ack = try Support.unframe(try await Support.exchange(port: port, MLLP.frame(message.encoded())))
            #expect(try ack.value(at: "MSA-1") == .text("AA") && ack.value(at: "MSA-2") == .text("DUP-1"))
            #expect(try ack.value(at: "MSH-10") == .text("FERRY-1"), "the first copy's acknowledgment id again")
        }
    }

    @Test func enhancedModeAnswersWithCommitAcknowledgmentsUnderMSH15() async throws {
        try await Support.withListener { port, journal in
            let sender = MLLPSender(configuration: .init(host: "127.0.0.1", port: port))
            let always = Support.oru("E-1", header: "|||AL|NE")
            let never = Support.oru("E-2", header: "|||NE|AL")
            let deliveries = await sender.send([always, never])
            #expect(deliveries.map(\.outcome) == [.accepted(.commitAccept), .sentWithoutAcknowledgment])
            // The NE message was still stored; wait for its commit.
            try await Support.eventually { try journal.counts().stored >= 2 }
            #expect(try journal.counts().stored == 2)
        }
    }

    @Test(arguments: [
        ("random bytes", [UInt8]((0..<200).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }), "segment 1"),
        ("no MSH", Array("PID|||1\rPV1||I\r".utf8), "must start with an MSH segment"),
        ("wrong separators", Array("MSH|^~\\&|A|B\rPID^1^2\r".utf8), "segment 2"),
        ("bad segment id", Array("MSH|^~\\&|A|B|C|D|2024||ADT^A01|9|P|2.5\rpid|||1\r".utf8), "segment 2"),
    ])
    func unreadableMessagesAreRejectedWithTheLocationAndDeadLettered(
        name: String, bytes: [UInt8], location: String
    ) async throws {
        try await Support.withListener { port, journal in
            let reply = try Support.unframe(try await Support.exchange(port: port, MLLP.frame(bytes)))
            #expect(try reply.value(at: "MSA-1") == .text("AR"), "\(name)")
            let text = try reply.value(at: "ERR-8").text ?? ""
            #expect(text.contains(location), "\(name): \(text)")
            let letters = try journal.deadLetters()
            try #require(letters.count == 1, "\(name)")
            #expect(letters[0].content == bytes, "\(name): the bytes are kept")
            #expect(letters[0].error.contains(location))
            #expect(try journal.counts().stored == 0)
        }
    }

    @Test func aFrameCutOffByTheSenderIsDeadLetteredAndNeverAcknowledged() async throws {
        try await Support.withListener { port, journal in
            let partial = [MLLP.startBlock] + Support.oru("CUT-1").encoded().prefix(60)
            let reply = try await Support.exchange(port: port, Array(partial), closeAfterWrite: true)
            #expect(reply.isEmpty)
            try await Support.eventually { try !journal.deadLetters().isEmpty }
            let letters = try journal.deadLetters()
            try #require(letters.count == 1)
            #expect(letters[0].error.contains("ended inside an MLLP frame"))
            #expect(letters[0].content == Array(partial.dropFirst()))
            #expect(try journal.counts().stored == 0)
        }
    }

    @Test func largeMessagesAreAcceptedUpToTheLimitAndRefusedBeyondIt() async throws {
        try await Support.withListener({ $0.maximumFrameLength = 8 * 1024 * 1024 }) { port, journal in
            // A 5 MB OBX-5 (an embedded document) and a message with 10,000 segments are fine.
            let document = String(repeating: "QUJD", count: 5 * 1024 * 1024 / 4)
            let big = Support.oru("BIG-1", extra: ["OBX|2|ED|PDF||^application^pdf^Base64^\(document)"])
            let many = Support.oru("MANY-1", extra: (1...10_000).map { "NTE|\($0)||line \($0)" })
            let sender = MLLPSender(configuration: .init(host: "127.0.0.1", port: port))
            let deliveries = await sender.send([big, many])
            #expect(deliveries.map(\.outcome) == [.accepted(.applicationAccept), .accepted(.applicationAccept)])
            let stored = try journal.messages()
            #expect(stored.map(\.content) == [big.encoded(), many.encoded()])

            // 9 MB is over the limit: the sender is told why, and the start of the frame is kept.
            let huge = Support.oru("HUGE-1", extra: ["OBX|2|ED|PDF||^application^pdf^Base64^" + document + document])
            let reply = try Support.unframe(
                try await Support.exchange(port: port, MLLP.frame(huge.encoded())))
            #expect(try reply.value(at: "MSA-1") == .text("AR") && reply.value(at: "MSA-2") == .text("HUGE-1"))
            #expect(
                try reply.value(at: "ERR-8").text?.contains("exceeds the listener's limit of 8388608 bytes") == true)
            let letters = try journal.deadLetters()
            try #require(letters.count == 1)
            #expect(letters[0].byteCount > 8 * 1024 * 1024)
            #expect(letters[0].content.count == MLLPError.prefixLength)
            #expect(letters[0].content.starts(with: huge.encoded().prefix(100)))
        }
    }

    @Test func connectionsBeyondTheLimitAreClosed() async throws {
        try await Support.withListener({ $0.maximumConnections = 1 }) { port, journal, listener in
            // Hold one connection open mid-frame, then a second one is closed without an answer.
            let holder = Task {
                try await Support.exchange(port: port, [MLLP.startBlock], timeout: .seconds(60))
            }
            // Wait until the listener serves the first (a loaded machine may take a while to accept it).
            try await Support.eventually { listener.openConnections >= 1 }
            #expect(listener.openConnections == 1)
            // Closed on arrival: the write fails or nothing comes back, and nothing is stored.
            let second = try? await Support.exchange(port: port, MLLP.frame(Support.oru("L-1").encoded()))
            #expect(second?.isEmpty ?? true)
            #expect(try journal.counts().stored == 0)
            #expect(listener.openConnections == 1)
            holder.cancel()
            _ = await holder.result
        }
    }

    @Test func idleConnectionsAreClosed() async throws {
        try await Support.withListener({ $0.idleTimeout = .milliseconds(300) }) { port, _ in
            let started = ContinuousClock.now
            // Closed by the listener: nothing comes back, or (on a slow machine) the connection is already
            // gone when the client writes.
            // The client's own timer would close it only after 120 s: ending well before says the listener did
            // (a loaded CI machine can take many seconds to get to it).
            let reply = try? await Support.exchange(port: port, [], timeout: .seconds(120))
            #expect(reply?.isEmpty ?? true)
            #expect(ContinuousClock.now - started < .seconds(100), "closed by the listener, not by the test's timeout")
        }
    }
}
