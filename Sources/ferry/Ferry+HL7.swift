import ArgumentParser
import FHIR
import Foundation
import HL7v2
import Interop
import Logging
import Mapping
import NIOCore
import ServiceLifecycle

extension Ferry {
    struct HL7: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "hl7",
            abstract: "Receives and sends HL7 v2 messages over MLLP.",
            subcommands: [Listen.self, Send.self, Convert.self, FromFHIR.self]
        )
    }
}

extension Ferry.HL7 {
    /// A message read from a file by the hl7 commands, with where it came from.
    struct MessageInFile {
        let file: String
        /// Its position in the file and how many the file holds.
        let index: Int
        let count: Int
        let message: HL7Message

        /// `file`, or `file#2` when the file holds several.
        var label: String { count > 1 ? "\(file)#\(index + 1)" : file }
    }

    /// Every message of the files (one message, several, or a batch each); a file that cannot be read
    /// or parsed is reported with the location and ends the command with exit code 2.
    static func readMessages(_ files: [String]) throws -> [MessageInFile] {
        var standardError = FileHandle.standardError
        var messages: [MessageInFile] = []
        for file in files {
            guard let data = FileManager.default.contents(atPath: file) else {
                print("\(file): cannot be read", to: &standardError)
                throw ExitCode(2)
            }
            do {
                let batch = try HL7Batch(parsing: data)
                for (index, message) in batch.messages.enumerated() {
                    messages.append(
                        MessageInFile(file: file, index: index, count: batch.messages.count, message: message))
                }
            } catch {
                print("\(file): \(error)", to: &standardError)
                throw ExitCode(2)
            }
        }
        return messages
    }

    struct Listen: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Listens for HL7 v2 messages over MLLP and stores each one durably before acknowledging it.",
            discussion: """
                Every message is committed to the journal (a SQLite file) before its ACK is sent; a message \
                resent with the same MSH-3, MSH-4 and MSH-10 is acknowledged again, not stored twice; bytes \
                that are not a message are kept as dead letters and answered with AR (CR in enhanced mode). \
                Prints "listening on HOST:PORT" once bound; stops on SIGINT or SIGTERM.
                """
        )

        @Option(help: "The TCP port; 0 picks a free one.")
        var port: Int

        @Option(help: "The address to listen on.")
        var host = "0.0.0.0"

        @Option(help: "The journal file (SQLite) the messages are stored in.")
        var store = "ferry-hl7.sqlite"

        @Option(help: "full: sync every commit to disk; normal: survive a process crash, not a power cut.")
        var durability = "full"

        @Option(help: "Connections beyond this many are closed as they arrive.")
        var maxConnections = 128

        @Option(help: "The largest message accepted, in bytes.")
        var maxMessageBytes = 16 * 1024 * 1024

        @Option(help: "Close a connection idle for this many seconds.")
        var idleTimeout = 600

        @Option(help: "TLS: the listener's certificate chain (PEM).")
        var tlsCert: String?

        @Option(help: "TLS: the listener's private key (PEM).")
        var tlsKey: String?

        @Option(help: "TLS: require client certificates signed by this CA (PEM).")
        var tlsClientCa: String?

        func validate() throws {
            guard MessageJournal.Durability(rawValue: durability) != nil else {
                throw ValidationError("--durability must be full or normal")
            }
            guard (tlsCert == nil) == (tlsKey == nil) else {
                throw ValidationError("--tls-cert and --tls-key go together")
            }
            guard tlsClientCa == nil || tlsCert != nil else {
                throw ValidationError("--tls-client-ca needs --tls-cert and --tls-key")
            }
        }

        func run() async throws {
            LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
            let logger = Logger(label: "ferry.hl7.listen")
            let journal = try MessageJournal(path: store, durability: MessageJournal.Durability(rawValue: durability)!)
            let tls = try tlsCert.map {
                try MLLPTLS.server(certificate: $0, privateKey: tlsKey!, clientCA: tlsClientCa)
            }
            let listener = MLLPListener(
                configuration: .init(
                    host: host, port: port, maximumFrameLength: maxMessageBytes, maximumConnections: maxConnections,
                    idleTimeout: .seconds(Int64(idleTimeout)), tls: tls),
                journal: journal, logger: logger)
            let address = try await listener.bind()
            // Written unbuffered: a script or test waits for this line to learn the port.
            FileHandle.standardOutput.write(
                "listening on \(host):\(address.port ?? port)\(tls == nil ? "" : " (TLS)")\n")
            let services = ServiceGroup(
                configuration: .init(
                    services: [listener], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
            try await services.run()
            let counts = try journal.counts()
            print("stored \(counts.stored), duplicates \(counts.duplicates), dead letters \(counts.deadLetters)")
        }
    }

    struct Send: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Sends HL7 v2 message files over MLLP and reports each acknowledgment.",
            discussion: """
                A file may hold one message or many (a batch, or messages one after another). Each message \
                waits for its ACK; a lost connection, a timeout or AE/CE resends it with backoff. Prints one \
                line per message and a summary; exits 0 when every message was accepted, 1 otherwise, 2 when \
                a file cannot be read as HL7 v2.
                """
        )

        @Argument(help: "HL7 v2 files.")
        var files: [String]

        @Option(help: "The receiver, HOST:PORT.")
        var to: String

        @Option(help: "Send over this many connections at once (each keeps its messages in order).")
        var connections = 1

        @Option(help: "Seconds to wait for each acknowledgment.")
        var timeout = 30

        @Option(help: "Tries per message before it is reported as failed.")
        var attempts = 5

        @Flag(help: "Use TLS.")
        var tls = false

        @Option(help: "TLS: trust the receiver's certificate if signed by this CA (PEM); default the system's roots.")
        var tlsCa: String?

        @Option(help: "TLS: the sender's certificate (PEM), for receivers that require one.")
        var tlsCert: String?

        @Option(help: "TLS: the sender's private key (PEM).")
        var tlsKey: String?

        @Option(help: "TLS: the name the receiver's certificate must carry (default: the host).")
        var serverName: String?

        func run() async throws {
            guard let colon = to.lastIndex(of: ":"), let port = Int(to[to.index(after: colon)...]) else {
                throw ValidationError("--to must be HOST:PORT")
            }
            let host = String(to[..<colon])
            let messages = try Ferry.HL7.readMessages(files)
            let context =
                tls || tlsCa != nil
                ? try MLLPTLS.client(trustedCA: tlsCa, certificate: tlsCert, privateKey: tlsKey) : nil
            var configuration = MLLPSender.Configuration(
                host: host, port: port, tls: context, serverHostname: context == nil ? nil : (serverName ?? host),
                acknowledgmentTimeout: .seconds(Int64(timeout)), attempts: attempts)
            // Retries as they happen, on standard error (the control id and the reason: no PHI).
            configuration.onRetry = { controlID, attempt, reason in
                FileHandle.standardError.write(
                    Data("\(controlID ?? "(no MSH-10)"): try \(attempt) failed (\(reason)), trying again\n".utf8))
            }
            let sender = MLLPSender(configuration: configuration)
            let lanes = max(1, min(connections, messages.count))
            let started = ContinuousClock.now
            let results = await withTaskGroup(of: [(Int, MLLPSender.Delivery)].self) { group in
                for lane in 0..<lanes {
                    let indices = Array(stride(from: lane, to: messages.count, by: lanes))
                    let batch = indices.map { messages[$0].message }
                    group.addTask { Array(zip(indices, await sender.send(batch))) }
                }
                var all: [(Int, MLLPSender.Delivery)] = []
                for await part in group { all += part }
                return all.sorted { $0.0 < $1.0 }
            }
            let elapsed = ContinuousClock.now - started
            for (index, delivery) in results {
                let tries = delivery.attempts == 1 ? "1 try" : "\(delivery.attempts) tries"
                print(
                    "\(messages[index].label) \(delivery.controlID ?? "(no MSH-10)") \(Self.describe(delivery.outcome)) (\(tries), \(Self.milliseconds(delivery.latency)) ms)"
                )
            }
            let accepted = results.filter { $0.1.outcome.isAccepted }.count
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            print(
                "\(accepted) of \(results.count) accepted in \(String(format: "%.2f", seconds)) s"
                    + (seconds > 0 ? String(format: " (%.0f messages/s)", Double(results.count) / seconds) : ""))
            if accepted < results.count { throw ExitCode(1) }
        }

        static func describe(_ outcome: MLLPSender.Outcome) -> String {
            switch outcome {
            case .accepted(let code): code.rawValue
            case .refused(let code, let reason): code.rawValue + (reason.map { ": \($0)" } ?? "")
            case .sentWithoutAcknowledgment: "sent (no accept acknowledgment asked for)"
            case .failed(let reason): "FAILED: \(reason)"
            }
        }

        static func milliseconds(_ duration: Duration) -> Int {
            Int(duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000)
        }
    }
}
