import HL7v2
import NIOCore
import NIOPosix
import NIOSSL

/// Sends HL7 v2 messages over MLLP, one at a time on one connection, waiting for each
/// acknowledgment before the next (the order a receiver expects).
///
/// A connection that fails, an acknowledgment that does not come within the timeout, or an
/// AE/CE (the receiver could not store it) lead to a resend of the same message after a backoff
/// that doubles up to a limit; a receiver that recognises duplicates (as `MLLPListener` does) makes
/// the resend safe. AR/CR is final: the message is refused as it stands.
public struct MLLPSender: Sendable {
    public struct Configuration: Sendable {
        public var host: String
        public var port: Int
        /// TLS, when set (see `MLLPTLS.client`); `serverHostname` is checked against the certificate.
        public var tls: NIOSSLContext?
        public var serverHostname: String?
        public var connectTimeout: TimeAmount
        /// How long to wait for each acknowledgment.
        public var acknowledgmentTimeout: TimeAmount
        /// How many times one message is tried before it is reported as failed.
        public var attempts: Int
        public var initialBackoff: TimeAmount
        public var maximumBackoff: TimeAmount
        /// The largest acknowledgment accepted, in bytes.
        public var maximumFrameLength: Int
        /// Told of every try that failed and will be retried: the message's control id, the try's
        /// number, why (to log retries as they happen, before the delivery's final outcome).
        public var onRetry: (@Sendable (_ controlID: String?, _ failedAttempt: Int, _ reason: String) -> Void)?

        public init(
            host: String, port: Int, tls: NIOSSLContext? = nil, serverHostname: String? = nil,
            connectTimeout: TimeAmount = .seconds(10), acknowledgmentTimeout: TimeAmount = .seconds(30),
            attempts: Int = 5, initialBackoff: TimeAmount = .milliseconds(200),
            maximumBackoff: TimeAmount = .seconds(10),
            maximumFrameLength: Int = 1024 * 1024
        ) {
            self.host = host
            self.port = port
            self.tls = tls
            self.serverHostname = serverHostname
            self.connectTimeout = connectTimeout
            self.acknowledgmentTimeout = acknowledgmentTimeout
            self.attempts = max(1, attempts)
            self.initialBackoff = initialBackoff
            self.maximumBackoff = maximumBackoff
            self.maximumFrameLength = maximumFrameLength
        }
    }

    /// How one message's delivery ended.
    public enum Outcome: Sendable, Hashable {
        /// AA or CA.
        case accepted(HL7AcknowledgmentCode)
        /// AR or CR (final), or AE/CE on the last attempt; with the receiver's ERR text when it gave one.
        case refused(HL7AcknowledgmentCode, reason: String?)
        /// The message asked for no accept acknowledgment (MSH-15 NE or ER): it was written and flushed.
        case sentWithoutAcknowledgment
        /// Every attempt failed: no connection, no acknowledgment in time, or an unreadable one.
        case failed(String)

        public var isAccepted: Bool {
            switch self {
            case .accepted, .sentWithoutAcknowledgment: true
            case .refused, .failed: false
            }
        }
    }

    /// One message's delivery: its control id, outcome, tries and the time from first write to the
    /// acknowledgment.
    public struct Delivery: Sendable, Hashable {
        public var controlID: String?
        public var outcome: Outcome
        public var attempts: Int
        public var latency: Duration
    }

    public let configuration: Configuration
    private let group: any EventLoopGroup

    public init(configuration: Configuration, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.configuration = configuration
        self.group = group
    }

    /// Sends the messages in order and reports each one's delivery; never throws, every message is
    /// accounted for.
    public func send(_ messages: [HL7Message]) async -> [Delivery] {
        var deliveries: [Delivery] = []
        var index = 0
        var attempt = 1
        var started = ContinuousClock.now
        var lastError = ""
        func finish(_ outcome: Outcome) {
            deliveries.append(
                Delivery(
                    controlID: messages[index].controlID, outcome: outcome, attempts: attempt,
                    latency: ContinuousClock.now - started))
            index += 1
            attempt = 1
            started = ContinuousClock.now
        }
        while index < messages.count {
            do {
                let connection = try await connect()
                try await connection.executeThenClose { inbound, outbound in
                    var replies = inbound.makeAsyncIterator()
                    while index < messages.count {
                        let message = messages[index]
                        try await outbound.write(ByteBuffer(bytes: message.encoded()))
                        guard Self.expectsAcknowledgment(message) else {
                            finish(.sentWithoutAcknowledgment)
                            continue
                        }
                        let deadline =
                            ContinuousClock.now + .nanoseconds(configuration.acknowledgmentTimeout.nanoseconds)
                        let timer = connection.channel.eventLoop.scheduleTask(in: configuration.acknowledgmentTimeout) {
                            connection.channel.close(promise: nil)
                        }
                        let frame = try await replies.next()
                        timer.cancel()
                        guard let frame else {
                            throw SendFailure(
                                ContinuousClock.now >= deadline
                                    ? "no acknowledgment within \(configuration.acknowledgmentTimeout)"
                                    : "the receiver closed the connection before acknowledging")
                        }
                        let (code, reason) = try Self.read(frame, for: message)
                        switch code {
                        case .applicationAccept, .commitAccept:
                            finish(.accepted(code))
                        case .applicationReject, .commitReject:
                            finish(.refused(code, reason: reason))
                        case .applicationError, .commitError:
                            guard attempt < configuration.attempts else {
                                finish(.refused(code, reason: reason))
                                continue
                            }
                            configuration.onRetry?(message.controlID, attempt, reason ?? "\(code)")
                            attempt += 1
                            try await Task.sleep(for: backoff(attempt))
                        }
                    }
                }
            } catch {
                lastError = (error as? SendFailure)?.reason ?? "\(error)"
                if attempt >= configuration.attempts || Task.isCancelled {
                    finish(.failed(lastError))
                } else {
                    configuration.onRetry?(messages[index].controlID, attempt, lastError)
                    attempt += 1
                    try? await Task.sleep(for: backoff(attempt))
                }
            }
        }
        return deliveries
    }

    private func connect() async throws -> NIOAsyncChannel<ByteBuffer, ByteBuffer> {
        let configuration = configuration
        return try await ClientBootstrap(group: group)
            .connectTimeout(configuration.connectTimeout)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .connect(host: configuration.host, port: configuration.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    if let tls = configuration.tls {
                        try pipeline.addHandler(
                            NIOSSLClientHandler(context: tls, serverHostname: configuration.serverHostname))
                    }
                    try pipeline.addHandler(
                        ByteToMessageHandler(MLLPFrameDecoder(maximumFrameLength: configuration.maximumFrameLength)))
                    try pipeline.addHandler(MessageToByteHandler(MLLPFrameEncoder()))
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
    }

    /// The wait before try number `attempt` (2 and up): the initial backoff doubled per try, capped.
    private func backoff(_ attempt: Int) -> Duration {
        let doubled = configuration.initialBackoff.nanoseconds << min(attempt - 2, 20)
        return .nanoseconds(min(doubled, configuration.maximumBackoff.nanoseconds))
    }

    /// Whether the receiver will answer a successful delivery: always in original mode; in enhanced
    /// mode when MSH-15 asks for accept acknowledgments on success.
    static func expectsAcknowledgment(_ message: HL7Message) -> Bool {
        let policy = HL7AcknowledgmentPolicy(message)
        return !policy.isEnhancedMode || policy.acceptAcknowledgment(after: .success) != nil
    }

    /// The acknowledgment code and the receiver's reason, checked to answer this message.
    static func read(_ frame: ByteBuffer, for message: HL7Message) throws -> (HL7AcknowledgmentCode, String?) {
        let ack: HL7Message
        do { ack = try HL7Message(parsing: frame.readableBytesView) } catch {
            throw SendFailure("the acknowledgment is not an HL7 message: \(error)")
        }
        guard let text = try ack.value(at: "MSA-1").text, let code = HL7AcknowledgmentCode(rawValue: text) else {
            throw SendFailure("the acknowledgment has no MSA-1 code")
        }
        let answered = try ack.value(at: "MSA-2").text
        guard answered == message.controlID else {
            throw SendFailure(
                "the acknowledgment answers control id \(answered ?? "(none)"), not \(message.controlID ?? "(none)")")
        }
        let reason = try ack.value(at: "ERR-8").text ?? ack.value(at: "MSA-3").text
        return (code, reason)
    }
}

/// Why one try of a delivery failed, in words for the report.
struct SendFailure: Error, CustomStringConvertible {
    var reason: String
    init(_ reason: String) { self.reason = reason }
    var description: String { reason }
}
