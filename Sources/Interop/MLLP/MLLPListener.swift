import Foundation
import HL7v2
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import ServiceLifecycle

/// An MLLP listener for live HL7 v2 feeds: it frames messages off TCP (or TLS), stores each one in
/// the `MessageJournal`, and only then acknowledges it (commit, then ACK).
///
/// - Original mode (MSH-15 and MSH-16 empty): AA once stored; AE when storing failed, so the sender
///   resends; AR with an ERR naming the location for bytes that are not a message.
/// - Enhanced mode: CA, CE or CR under MSH-15's condition. (The application acknowledgment belongs to
///   whatever processes the message downstream.)
/// - A message resent after a lost ACK (same MSH-3, MSH-4 and MSH-10) is acknowledged again and
///   counted, not stored twice.
/// - What cannot be parsed, and the start of a frame beyond the size limit, go to the dead-letter
///   table; the sender gets a rejection.
///
/// Run it as a swift-service-lifecycle `Service`; a graceful shutdown stops accepting, closes the
/// connections, and returns. Logs carry addresses, control ids and counts, never message content.
public final class MLLPListener: Service, Sendable {
    public struct Configuration: Sendable {
        public var host: String
        /// 0 picks a free port; `bind()` returns it.
        public var port: Int
        /// The largest message accepted, in bytes.
        public var maximumFrameLength: Int
        /// Connections beyond this are closed as they arrive.
        public var maximumConnections: Int
        /// A connection that sends nothing for this long is closed.
        public var idleTimeout: TimeAmount
        /// TLS, when set (see `MLLPTLS`).
        public var tls: NIOSSLContext?

        public init(
            host: String = "0.0.0.0", port: Int, maximumFrameLength: Int = 16 * 1024 * 1024,
            maximumConnections: Int = 128, idleTimeout: TimeAmount = .minutes(10), tls: NIOSSLContext? = nil
        ) {
            self.host = host
            self.port = port
            self.maximumFrameLength = maximumFrameLength
            self.maximumConnections = maximumConnections
            self.idleTimeout = idleTimeout
            self.tls = tls
        }
    }

    typealias Connection = NIOAsyncChannel<ByteBuffer, ByteBuffer>
    typealias Server = NIOAsyncChannel<Connection, Never>

    public let configuration: Configuration
    public let journal: MessageJournal
    private let logger: Logger
    private let group: any EventLoopGroup
    private let server = NIOLockedValueBox<Server?>(nil)
    private let open = NIOLockedValueBox<[ObjectIdentifier: any Channel]>([:])
    private let ackNumber = ManagedCounter()

    /// The connections being served now (refused ones are not counted).
    public var openConnections: Int { open.withLockedValue { $0.count } }

    public init(
        configuration: Configuration, journal: MessageJournal, logger: Logger = Logger(label: "ferry.mllp"),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.configuration = configuration
        self.journal = journal
        self.logger = logger
        self.group = group
    }

    /// Binds the port (once) and returns the address listened on; `run()` binds by itself when not yet
    /// bound. Useful with port 0 to learn the port before serving.
    @discardableResult
    public func bind() async throws -> SocketAddress {
        let channel = try await boundServer()
        // A bound server channel always has a local address.
        return channel.channel.localAddress!
    }

    /// Serves connections until the task is cancelled or a graceful shutdown is requested.
    public func run() async throws {
        let server = try await boundServer()
        logger.info("listening", metadata: ["address": "\(server.channel.localAddress.map { "\($0)" } ?? "?")"])
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { tasks in
                try await server.executeThenClose { connections in
                    for try await connection in connections {
                        let channel = connection.channel
                        let admitted = open.withLockedValue { open in
                            guard open.count < configuration.maximumConnections else { return false }
                            open[ObjectIdentifier(channel)] = channel
                            return true
                        }
                        guard admitted else {
                            logger.warning(
                                "connection refused: limit reached",
                                metadata: [
                                    "peer": "\(Self.peer(of: channel))", "limit": "\(configuration.maximumConnections)",
                                ])
                            // Closed through the async channel, which must finish its writer.
                            tasks.addTask { try? await connection.executeThenClose { _, _ in } }
                            continue
                        }
                        tasks.addTask {
                            await self.serve(connection)
                            _ = self.open.withLockedValue { $0.removeValue(forKey: ObjectIdentifier(channel)) }
                        }
                    }
                }
            }
        } onGracefulShutdown: {
            self.server.withLockedValue { $0 }?.channel.close(promise: nil)
            for channel in self.open.withLockedValue({ Array($0.values) }) { channel.close(promise: nil) }
        }
        logger.info("stopped")
    }

    private func boundServer() async throws -> Server {
        if let server = server.withLockedValue({ $0 }) { return server }
        let configuration = configuration
        let bound = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .bind(host: configuration.host, port: configuration.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    if let tls = configuration.tls { try pipeline.addHandler(NIOSSLServerHandler(context: tls)) }
                    try pipeline.addHandler(IdleStateHandler(readTimeout: configuration.idleTimeout))
                    try pipeline.addHandler(IdleCloser())
                    try pipeline.addHandler(
                        ByteToMessageHandler(MLLPFrameDecoder(maximumFrameLength: configuration.maximumFrameLength)))
                    try pipeline.addHandler(MessageToByteHandler(MLLPFrameEncoder()))
                    return try Connection(wrappingChannelSynchronously: channel)
                }
            }
        return server.withLockedValue { server in
            if let existing = server {
                bound.channel.close(promise: nil)
                return existing
            }
            server = bound
            return bound
        }
    }

    /// Reads frames off one connection, in order, answering each before reading the next.
    private func serve(_ connection: Connection) async {
        let peer = Self.peer(of: connection.channel)
        logger.debug("connection opened", metadata: ["peer": "\(peer)"])
        do {
            try await connection.executeThenClose { inbound, outbound in
                do {
                    for try await frame in inbound {
                        if let reply = await self.receive(Array(frame.readableBytesView), peer: peer) {
                            try await outbound.write(ByteBuffer(bytes: reply))
                        }
                    }
                } catch let error as MLLPError {
                    // The frame never ended (too large, or the sender went away inside it): keep its start.
                    let reply = await self.refuse(error, peer: peer)
                    if error.code == .frameTooLarge {
                        try? await outbound.write(ByteBuffer(bytes: reply))
                        // The sender is still sending the rest of the frame. Closing now, with its bytes
                        // unread, would reset the connection and could destroy the rejection before the
                        // sender reads it; so the rest is read and dropped (the decoder no longer decodes)
                        // until the sender closes, for at most the drain time.
                        let channel = connection.channel
                        let drain = channel.eventLoop.scheduleTask(in: .seconds(10)) { channel.close(promise: nil) }
                        try? await channel.closeFuture.get()
                        drain.cancel()
                    }
                }
            }
        } catch {
            logger.info("connection ended by an error", metadata: ["peer": "\(peer)", "error": "\(error)"])
        }
        logger.debug("connection closed", metadata: ["peer": "\(peer)"])
    }

    /// Stores one message and returns its acknowledgment (or `nil` when none is asked for).
    func receive(_ bytes: [UInt8], peer: String) async -> [UInt8]? {
        let received = Date()
        let message: HL7Message
        do throws(HL7Error) {
            message = try HL7Message(parsing: bytes)
        } catch {
            let header = Self.header(of: bytes)
            let entry = MessageJournal.Entry(
                content: bytes, peer: peer, sender: header.map(Self.sender), controlID: header?.controlID,
                messageType: nil, receivedAt: received)
            let sequence = try? await journal.deadLetter(entry, error: error.description).sequence
            logger.warning(
                "message refused and dead-lettered",
                metadata: [
                    "peer": "\(peer)", "error": "\(error)",
                    "deadLetter": "\(sequence.map(String.init) ?? "not stored")",
                ])
            return HL7Message.rejection(
                of: bytes, error: error, controlID: "FERRY-D\(sequence ?? ackNumber.next())",
                timestamp: Self.timestamp(received)
            ).encoded()
        }
        let policy = HL7AcknowledgmentPolicy(message)
        let entry = MessageJournal.Entry(
            content: bytes, peer: peer, sender: Self.sender(of: message), controlID: message.controlID,
            messageType: (try? HL7Path("MSH-9")).flatMap { message.rawValue(at: $0) }, receivedAt: received)
        do {
            let receipt = try await journal.store(entry)
            if case .duplicate(let sequence) = receipt {
                logger.info(
                    "duplicate acknowledged again",
                    metadata: ["peer": "\(peer)", "controlID": "\(message.controlID ?? "")", "sequence": "\(sequence)"])
            }
            let code = policy.isEnhancedMode ? policy.acceptAcknowledgment(after: .success) : .applicationAccept
            return code.map {
                message.acknowledgment($0, controlID: "FERRY-\(receipt.sequence)", timestamp: Self.timestamp(received))
                    .encoded()
            }
        } catch {
            logger.error(
                "message not stored; answered with an error so the sender resends",
                metadata: ["peer": "\(peer)", "controlID": "\(message.controlID ?? "")", "error": "\(error)"])
            let code = policy.isEnhancedMode ? policy.acceptAcknowledgment(after: .error) : .applicationError
            let issue = HL7AcknowledgmentIssue(
                code: .applicationInternalError, diagnostics: "the message could not be stored; send it again")
            return code.map {
                message.acknowledgment(
                    $0, controlID: "FERRY-E\(ackNumber.next())", timestamp: Self.timestamp(received), issues: [issue]
                ).encoded()
            }
        }
    }

    /// Dead-letters the start of a frame that never ended and builds the rejection for it.
    private func refuse(_ error: MLLPError, peer: String) async -> [UInt8] {
        let header = Self.header(of: error.prefix)
        let entry = MessageJournal.Entry(
            content: error.prefix, peer: peer, sender: header.map(Self.sender), controlID: header?.controlID,
            messageType: nil)
        let sequence = try? await journal.deadLetter(entry, error: error.description, byteCount: error.byteCount)
            .sequence
        logger.warning(
            "frame refused and its start dead-lettered",
            metadata: [
                "peer": "\(peer)", "error": "\(error)", "deadLetter": "\(sequence.map(String.init) ?? "not stored")",
            ])
        let reason = HL7Error(
            .syntax,
            error.code == .frameTooLarge
                ? "the message exceeds the listener's limit of \(configuration.maximumFrameLength) bytes"
                : "the connection ended inside the message")
        return HL7Message.rejection(
            of: error.prefix, error: reason, controlID: "FERRY-D\(sequence ?? ackNumber.next())",
            timestamp: Self.timestamp(Date())
        ).encoded()
    }

    /// The MSH of bytes that did not parse as a whole, when their first line does.
    private static func header(of bytes: [UInt8]) -> HL7Message? {
        let end = bytes.firstIndex { $0 == 0x0D || $0 == 0x0A } ?? bytes.endIndex
        return try? HL7Message(parsing: bytes[..<end])
    }

    /// MSH-3 and MSH-4 as written: who sent the message, for duplicate detection.
    static func sender(of message: HL7Message) -> String {
        let application = (try? HL7Path("MSH-3")).flatMap { message.rawValue(at: $0) } ?? ""
        let facility = (try? HL7Path("MSH-4")).flatMap { message.rawValue(at: $0) } ?? ""
        return application + "|" + facility
    }

    private static func peer(of channel: any Channel) -> String {
        guard let address = channel.remoteAddress else { return "unknown" }
        return "\(address.ipAddress ?? "?"):\(address.port ?? 0)"
    }

    /// An HL7 DTM timestamp in UTC: `20241125143000.123+0000`.
    static func timestamp(_ date: Date) -> String {
        let millis = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        let seconds = millis / 1000
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents(
            [.year, .month, .day, .hour, .minute, .second], from: Date(timeIntervalSince1970: TimeInterval(seconds)))
        func two(_ value: Int?) -> String { value.map { $0 < 10 ? "0\($0)" : "\($0)" } ?? "00" }
        let fraction = String(millis % 1000 + 1000).dropFirst()
        return "\(parts.year ?? 1970)\(two(parts.month))\(two(parts.day))\(two(parts.hour))\(two(parts.minute))"
            + "\(two(parts.second)).\(fraction)+0000"
    }
}

/// Closes a connection when `IdleStateHandler` reports it idle.
final class IdleCloser: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }
}

/// A thread-safe counter for acknowledgment control ids that have no journal sequence.
final class ManagedCounter: Sendable {
    private let value = NIOLockedValueBox<Int64>(0)

    func next() -> Int64 {
        value.withLockedValue {
            $0 += 1
            return $0
        }
    }
}
