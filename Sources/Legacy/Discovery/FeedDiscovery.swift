import Foundation
import HL7v2

/// What an HL7 v2 feed holds: message types and trigger events, versions, segment and Z-segment
/// frequencies, volume per hour, and senders.
public struct FeedProfile: Sendable, Codable, Hashable {
    public var files: Int = 0
    public var messages: Int = 0
    /// Messages that could not be parsed, with where.
    public var unreadable: [String] = []
    /// `ADT^A04` → count.
    public var events: [String: Int] = [:]
    public var versions: [String: Int] = [:]
    /// Segment id → how many messages carry it at least once.
    public var segments: [String: Int] = [:]
    /// Z-segments (local extensions) → count.
    public var zSegments: [String: Int] = [:]
    /// `MSH-3^MSH-4` → count.
    public var senders: [String: Int] = [:]
    /// `YYYY-MM-DD HH` (the sender's clock) → count.
    public var perHour: [String: Int] = [:]

    /// The busiest hour and its volume.
    public var peakHour: (String, Int)? { perHour.max { $0.value < $1.value }.map { ($0.key, $0.value) } }

    enum CodingKeys: String, CodingKey {
        case files, messages, unreadable, events, versions, segments, zSegments, senders, perHour
    }
}

public enum FeedDiscovery {
    /// Profiles a file or a folder of HL7 v2 files (`.hl7`, `.txt`, `.er7`).
    public static func run(path: String) throws -> FeedProfile {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
            throw LegacySourceError("\(path): no such file or folder")
        }
        let files =
            isFolder.boolValue
            ? try FileManager.default.contentsOfDirectory(atPath: path).filter {
                ["hl7", "txt", "er7"].contains(($0 as NSString).pathExtension.lowercased())
            }.sorted().map { (path as NSString).appendingPathComponent($0) } : [path]
        var profile = FeedProfile()
        for file in files {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw LegacySourceError("\(file): cannot be read")
            }
            profile.files += 1
            let bytes = Array(data)
            for (number, piece) in HL7Batch.messageRanges(bytes).enumerated() {
                profile.messages += 1
                guard let message = try? HL7Message(parsing: Array(bytes[piece.range])) else {
                    profile.unreadable.append(
                        "\((file as NSString).lastPathComponent)#\(number + 1) (line \(piece.line))")
                    continue
                }
                let event = [message.messageType, message.triggerEvent].compactMap { $0 }.joined(separator: "^")
                profile.events[event.isEmpty ? "(none)" : event, default: 0] += 1
                profile.versions[text(message, "MSH-12") ?? "(none)", default: 0] += 1
                let sender = [text(message, "MSH-3"), text(message, "MSH-4")].compactMap { $0 }.joined(separator: "^")
                profile.senders[sender.isEmpty ? "(none)" : sender, default: 0] += 1
                if let time = text(message, "MSH-7"), time.count >= 10 {
                    let d = Array(time)
                    let hour = "\(String(d[0..<4]))-\(String(d[4..<6]))-\(String(d[6..<8])) \(String(d[8..<10]))"
                    profile.perHour[hour, default: 0] += 1
                }
                var seen = Set<String>()
                for segment in message.segments {
                    if segment.id.hasPrefix("Z") { profile.zSegments[segment.id, default: 0] += 1 }
                    if seen.insert(segment.id).inserted { profile.segments[segment.id, default: 0] += 1 }
                }
            }
        }
        return profile
    }

    static func text(_ message: HL7Message, _ path: String) -> String? {
        guard case .text(let value)? = try? message.value(at: path) else { return nil }
        return value
    }
}
