// MLLP end to end over loopback: a listener with its durable journal, N concurrent senders each on its
// own connection, every message acknowledged only after its commit. Prints messages/s, p50/p99
// acknowledgment latency, and checks that every message was stored exactly once.
//   swift run -c release mllp-load [SENDERS] [MESSAGES-PER-SENDER] [full|normal]
import BenchmarkCorpus
import Foundation
import HL7v2
import Interop

let arguments = CommandLine.arguments
let senders = arguments.count > 1 ? Int(arguments[1]) ?? 8 : 8
let perSender = arguments.count > 2 ? Int(arguments[2]) ?? 2_000 : 2_000
let durability = MessageJournal.Durability(rawValue: arguments.count > 3 ? arguments[3] : "full") ?? .full

let feed = CorpusFiles.read("hl7-mixed.txt").split(separator: UInt8(ascii: "\n")).map {
    try! HL7Message(parsing: $0)
}
guard !feed.isEmpty else { exit(1) }
// Each sender sends its own slice of the feed, with control ids made unique per run.
let lanes: [[HL7Message]] = (0..<senders).map { lane in
    (0..<perSender).map { number in
        var message = feed[(lane * perSender + number) % feed.count]
        message.segments[0].fields[9] = "L\(lane)-\(number)"
        return message
    }
}

let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-mllp-load-\(UUID().uuidString)")
try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(at: folder) }
let journal = try MessageJournal(path: folder.appendingPathComponent("journal.sqlite").path, durability: durability)
let listener = MLLPListener(configuration: .init(host: "127.0.0.1", port: 0), journal: journal)
let port = try await listener.bind().port!
let serving = Task { try await listener.run() }

let started = ContinuousClock.now
let deliveries = await withTaskGroup(of: [MLLPSender.Delivery].self) { group in
    for lane in lanes {
        group.addTask { await MLLPSender(configuration: .init(host: "127.0.0.1", port: port)).send(lane) }
    }
    var all: [MLLPSender.Delivery] = []
    for await part in group { all += part }
    return all
}
let elapsed = ContinuousClock.now - started
serving.cancel()
_ = await serving.result

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}
let latencies = deliveries.map { seconds($0.latency) * 1000 }.sorted()
let total = senders * perSender
let accepted = deliveries.filter { $0.outcome.isAccepted }.count
let counts = try journal.counts()
let bytes = lanes.joined().reduce(0) { $0 + $1.encoded().count }
print(
    String(
        format: "mllp-load: %d senders x %d messages (%.1f MB), durability %@: %.0f messages/s, "
            + "ACK latency p50 %.2f ms, p99 %.2f ms; accepted %d of %d, stored %d, duplicates %d",
        senders, perSender, Double(bytes) / 1e6, durability.rawValue, Double(total) / seconds(elapsed),
        latencies[latencies.count / 2], latencies[min(latencies.count - 1, latencies.count * 99 / 100)],
        accepted, total, counts.stored, counts.duplicates))
guard accepted == total, counts.stored == total, counts.duplicates == 0 else {
    print("mllp-load: messages were lost or doubled")
    exit(1)
}
