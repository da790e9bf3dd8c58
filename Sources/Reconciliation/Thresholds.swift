import Foundation
import Yams

/// What decides a reconciliation's verdict: for each measure a level above which it warns and one
/// above which it escalates. Read from YAML:
///
/// ```yaml
/// mismatchRate: { warn: 0, escalate: 0.001 }   # differing records per record, per resource type
/// unaccounted: { warn: 0, escalate: 0 }         # source rows neither loaded, dead-lettered nor filtered
/// deadLetterRate: { warn: 0.01, escalate: 0.05 } # dead-lettered rows per row read, per table
/// unmappedCodes: { warn: 0, escalate: 1000 }    # codes no map had, all maps together
/// unresolvedDuplicates: { warn: 0, escalate: 100 } # probable or certain duplicate patients not linked
/// webhook: https://alerts.example.org/ferry     # told of an escalation (counts only, no PHI)
/// ```
public struct Thresholds: Sendable, Hashable {
    public struct Limits: Sendable, Hashable {
        public var warn: Double
        public var escalate: Double

        public init(warn: Double, escalate: Double) {
            self.warn = warn
            self.escalate = escalate
        }

        func level(_ value: Double) -> Verdict.Level {
            value > escalate ? .escalate : value > warn ? .warn : .pass
        }
    }

    public var mismatchRate = Limits(warn: 0, escalate: 0.001)
    public var unaccounted = Limits(warn: 0, escalate: 0)
    public var deadLetterRate = Limits(warn: 0.01, escalate: 0.05)
    public var unmappedCodes = Limits(warn: 0, escalate: 1000)
    public var unresolvedDuplicates = Limits(warn: 0, escalate: 100)
    public var webhook: URL?

    public init() {}

    static let measures = ["mismatchRate", "unaccounted", "deadLetterRate", "unmappedCodes", "unresolvedDuplicates"]

    /// Reads a thresholds file; an unknown key or a malformed value is an error naming its line.
    public static func load(path: String) throws -> Thresholds {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw ThresholdsError("\(path): cannot be read")
        }
        let root: Node?
        do { root = try Yams.compose(yaml: text) } catch { throw ThresholdsError("\(path): not YAML: \(error)") }
        var thresholds = Thresholds()
        guard let root else { return thresholds }
        guard let mapping = root.mapping else { throw ThresholdsError("\(path): expected a mapping of measures") }
        for (key, value) in mapping {
            let line = key.mark?.line ?? 0
            guard let name = key.string else { throw ThresholdsError("\(path):\(line): a key must be text") }
            if name == "webhook" {
                guard let text = value.string, let url = URL(string: text), ["http", "https"].contains(url.scheme)
                else { throw ThresholdsError("\(path):\(line): webhook must be an http or https URL") }
                thresholds.webhook = url
                continue
            }
            guard measures.contains(name) else {
                throw ThresholdsError(
                    "\(path):\(line): unknown measure '\(name)' (known: \(measures.joined(separator: ", ")), webhook)")
            }
            guard let limits = value.mapping,
                let warn = limits["warn"]?.string.flatMap(Double.init),
                let escalate = limits["escalate"]?.string.flatMap(Double.init), limits.count == 2
            else { throw ThresholdsError("\(path):\(line): \(name) needs numbers warn and escalate, and nothing else") }
            guard warn <= escalate else {
                throw ThresholdsError("\(path):\(line): \(name): warn (\(warn)) is above escalate (\(escalate))")
            }
            let parsed = Limits(warn: warn, escalate: escalate)
            switch name {
            case "mismatchRate": thresholds.mismatchRate = parsed
            case "unaccounted": thresholds.unaccounted = parsed
            case "deadLetterRate": thresholds.deadLetterRate = parsed
            case "unresolvedDuplicates": thresholds.unresolvedDuplicates = parsed
            default: thresholds.unmappedCodes = parsed
            }
        }
        return thresholds
    }

    /// The verdict on a report: the worst level any measure reaches, with every measure that is not a pass.
    public func verdict(on report: ReconciliationReport) -> Verdict {
        var findings: [Verdict.Finding] = []
        func check(_ measure: String, _ subject: String, _ value: Double, _ limits: Limits) {
            let level = limits.level(value)
            if level != .pass {
                findings.append(
                    .init(
                        measure: measure, subject: subject, value: value, level: level, warn: limits.warn,
                        escalate: limits.escalate))
            }
        }
        for row in report.types { check("mismatchRate", row.type, row.mismatchRate, mismatchRate) }
        check("unaccounted", "source rows", Double(report.unaccounted.count), unaccounted)
        for table in report.tables where table.read > 0 {
            check("deadLetterRate", table.table, Double(table.deadLettered) / Double(table.read), deadLetterRate)
        }
        check("unmappedCodes", "all maps", Double(report.unmappedCodes.values.reduce(0, +)), unmappedCodes)
        if let duplicates = report.duplicates {
            check("unresolvedDuplicates", "patients", Double(duplicates.unresolved), unresolvedDuplicates)
        }
        let level = findings.map(\.level).max() ?? .pass
        return Verdict(level: level, findings: findings)
    }
}

/// Pass, warn or escalate, and why.
public struct Verdict: Sendable, Hashable, Codable {
    public enum Level: String, Sendable, Hashable, Codable, Comparable {
        case pass, warn, escalate

        var rank: Int { self == .pass ? 0 : self == .warn ? 1 : 2 }
        public static func < (a: Level, b: Level) -> Bool { a.rank < b.rank }

        /// The exit code a command ends with: 0 pass, 1 warn, 2 escalate.
        public var exitCode: Int32 { Int32(rank) }
    }

    public struct Finding: Sendable, Hashable, Codable {
        public var measure: String
        /// What was measured: a resource type, a table, all rows.
        public var subject: String
        public var value: Double
        public var level: Level
        public var warn: Double
        public var escalate: Double
    }

    public var level: Level
    public var findings: [Finding]
}

public struct ThresholdsError: Error, CustomStringConvertible, Sendable {
    public var description: String
    init(_ description: String) { self.description = description }
}
