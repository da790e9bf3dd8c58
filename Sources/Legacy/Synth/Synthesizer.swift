import Foundation
import GRDB
import Mapping

/// `ferry synth`: a legacy clinic to practise on. Writes, into one folder:
///
/// - `legacy.db` — a SQLite database shaped like OpenEMR's (`patient_data`, `form_encounter`,
///   `lists`, `prescriptions` with `drugs`, `procedure_order`/`_report`/`_result`, `users`,
///   `facility`, `documents`, `pnotes`), with the mess of a real one: local codes, several date
///   formats, two sites in two zones, nulls and blanks, free text, about 3% duplicate patients and
///   some of them merged;
/// - `csv/` — the same tables as CSV exports (UTF-8 with a byte-order mark, as spreadsheets write);
/// - `feed/` — the same events as HL7 v2 messages (ADT, ORM, ORU, RDE, MDM), one file per type;
/// - `documents/` — the files the `documents` table points to;
/// - `truth/` — what a tool should find: the PHI class of every column and the duplicate pairs.
///
/// The same seed makes the same files, and patients are made one at a time (each from its own
/// random stream), so a million need no more memory than a thousand.
public enum Synthesizer {
    public struct Options: Sendable {
        public var patients: Int
        public var seed: UInt64
        public var folder: String
        /// The share of patients registered twice.
        public var duplicateRate: Double

        public init(patients: Int, seed: UInt64 = 1, folder: String, duplicateRate: Double = 0.03) {
            self.patients = max(0, patients)
            self.seed = seed
            self.folder = folder
            self.duplicateRate = duplicateRate
        }
    }

    /// What was written.
    public struct Summary: Sendable, Codable, Hashable {
        public var people = 0
        public var duplicates = 0
        public var merged = 0
        public var rows: [String: Int] = [:]
        public var messages: [String: Int] = [:]
        public var documents = 0
    }

    /// Writes the clinic; `progress` hears how many people are done, every thousand.
    public static func run(_ options: Options, progress: (Int) -> Void = { _ in }) throws -> Summary {
        let fileManager = FileManager.default
        let root = options.folder
        for folder in ["", "csv", "feed", "documents", "truth"] {
            try fileManager.createDirectory(
                atPath: (root as NSString).appendingPathComponent(folder), withIntermediateDirectories: true)
        }
        let databasePath = (root as NSString).appendingPathComponent("legacy.db")
        for suffix in ["", "-wal", "-shm"] { try? fileManager.removeItem(atPath: databasePath + suffix) }
        // Someone looking into the database while it is written (a reader holds a shared lock) makes
        // a commit wait, not fail the run.
        var configuration = Configuration()
        configuration.busyMode = .timeout(60)
        let queue = try DatabaseQueue(path: databasePath, configuration: configuration)
        var summary = Summary()
        try queue.writeWithoutTransaction { db in
            for table in SynthSchema.tables { try db.execute(sql: table.createSQL) }
            var output = try SynthOutput(db: db, folder: root)
            try output.reference()
            var clinic = SynthClinic()
            var pid = 0
            try db.execute(sql: "BEGIN")
            // An error leaves no transaction open behind it (GRDB stops the process on one): the
            // error itself is what the caller hears.
            do {
                for person in 0..<options.patients {
                    var random = SynthRandom(seed: options.seed, stream: UInt64(person))
                    pid += 1
                    var original = SynthPerson.make(pid: pid, random: &random)
                    var copy: SynthPerson?
                    if random.chance(options.duplicateRate) {
                        pid += 1
                        var (duplicate, kinds) = original.duplicate(pid: pid, random: &random)
                        let merged = random.chance(0.2)
                        if merged { duplicate.mergedInto = original.pid }
                        try output.duplicate(original: original.pid, copy: duplicate.pid, kinds: kinds, merged: merged)
                        copy = duplicate
                        summary.duplicates += 1
                        if merged { summary.merged += 1 }
                    }
                    original.mergedInto = nil
                    try clinic.patient(original, random: &random, into: &output)
                    try clinic.history(original, short: false, random: &random, into: &output)
                    if let copy {
                        try clinic.patient(copy, random: &random, into: &output)
                        try clinic.history(copy, short: true, random: &random, into: &output)
                    }
                    summary.people += 1
                    if summary.people % 1000 == 0 {
                        try db.execute(sql: "COMMIT")
                        try output.flush()
                        progress(summary.people)
                        try db.execute(sql: "BEGIN")
                    }
                }
                try db.execute(sql: "COMMIT")
            } catch {
                if db.isInsideTransaction { try? db.execute(sql: "ROLLBACK") }
                throw error
            }
            try output.finish()
            summary.rows = output.rows
            summary.messages = output.messages
            summary.documents = output.documents
        }
        try truth(root: root)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(summary).write(
            to: URL(fileURLWithPath: (root as NSString).appendingPathComponent("truth/summary.json")))
        return summary
    }

    /// The PHI class of every column, as the generator meant it.
    static func truth(root: String) throws {
        var lines = ["table,column,phi_class"]
        for table in SynthSchema.tables {
            for column in table.columns { lines.append("\(table.name),\(column.name),\(column.phi.rawValue)") }
        }
        try (lines.joined(separator: "\n") + "\n").write(
            toFile: (root as NSString).appendingPathComponent("truth/phi-columns.csv"), atomically: true,
            encoding: .utf8)
    }

    /// The PHI class the generator gave each column: `table.column` → class.
    public static var phiTruth: [String: PHIClass] {
        var truth: [String: PHIClass] = [:]
        for table in SynthSchema.tables {
            for column in table.columns { truth["\(table.name).\(column.name)"] = column.phi }
        }
        return truth
    }
}

/// Writes rows to the database and the CSV files, messages to the feed, documents to their files.
struct SynthOutput: SynthSink {
    let db: Database
    let folder: String
    var statements: [String: Statement] = [:]
    var csv: [String: BufferedFile] = [:]
    var feed: [String: BufferedFile] = [:]
    var duplicates: BufferedFile
    var rows: [String: Int] = [:]
    var messages: [String: Int] = [:]
    var documents = 0

    init(db: Database, folder: String) throws {
        self.db = db
        self.folder = folder
        for table in SynthSchema.tables {
            let marks = Array(repeating: "?", count: table.columns.count).joined(separator: ", ")
            statements[table.name] = try db.makeStatement(sql: "INSERT INTO \"\(table.name)\" VALUES (\(marks))")
            let file = try BufferedFile(path: (folder as NSString).appendingPathComponent("csv/\(table.name).csv"))
            file.write([0xEF, 0xBB, 0xBF])
            file.write(table.columns.map(\.name).joined(separator: ",") + "\r\n")
            csv[table.name] = file
        }
        duplicates = try BufferedFile(path: (folder as NSString).appendingPathComponent("truth/duplicates.csv"))
        duplicates.write("pid_a,pid_b,kinds,merged\n")
    }

    /// The sites, providers and drugs.
    mutating func reference() throws {
        for site in SynthCatalog.sites {
            try row(
                "facility",
                [
                    .integer(Int64(site.id)), .text(site.name), .text(site.phone), .text(site.street), .text(site.city),
                    .text(site.state), .text(site.postalCode), .text("04-\(3_000_000 + site.id)"),
                    .text("19000000\(site.id)0"), .text(site.zone),
                ])
        }
        for p in SynthCatalog.providers {
            try row(
                "users",
                [
                    .integer(Int64(p.id)), .text(p.username), .text(p.first), .text(p.last), .text(p.npi),
                    .text(p.specialty), .integer(Int64(p.site)), .integer(1),
                ])
        }
        for d in SynthCatalog.drugs {
            try row(
                "drugs",
                [
                    .integer(Int64(d.id)), .text(d.name), .text(d.ndc), .text(d.form), .text(d.size), .text(d.unit),
                    .text(d.route), .integer(1),
                ])
        }
    }

    mutating func row(_ table: String, _ values: [SourceValue]) throws {
        let arguments = StatementArguments(
            values.map { value -> (any DatabaseValueConvertible)? in
                switch value {
                case .null: nil
                case .integer(let number): number
                case .real(let number): number
                case .text(let text): text
                case .blob(let bytes): Data(bytes)
                }
            })
        try statements[table]!.execute(arguments: arguments)
        csv[table]!.write(values.map(Self.csvField).joined(separator: ",") + "\r\n")
        rows[table, default: 0] += 1
    }

    static func csvField(_ value: SourceValue) -> String {
        guard case .text(let text) = value else { return value.text ?? "" }
        return CSVWriter.field(text)
    }

    mutating func message(_ kind: String, _ text: String) throws {
        if feed[kind] == nil {
            feed[kind] = try BufferedFile(path: (folder as NSString).appendingPathComponent("feed/\(kind).hl7"))
        }
        feed[kind]!.write(text + "\n")
        messages[kind, default: 0] += 1
    }

    mutating func document(_ path: String, _ text: String) throws {
        try text.write(toFile: (folder as NSString).appendingPathComponent(path), atomically: false, encoding: .utf8)
        documents += 1
    }

    mutating func duplicate(original: Int, copy: Int, kinds: String, merged: Bool) throws {
        duplicates.write("\(original),\(copy),\(kinds),\(merged)\n")
    }

    func flush() throws {
        for file in Array(csv.values) + Array(feed.values) + [duplicates] { try file.flush() }
    }

    func finish() throws {
        for file in Array(csv.values) + Array(feed.values) + [duplicates] { try file.close() }
    }
}

/// A file written through a buffer (64 KiB at a time).
final class BufferedFile {
    let handle: FileHandle
    var buffer: [UInt8] = []

    init(path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil),
            let handle = FileHandle(forWritingAtPath: path)
        else { throw LegacySourceError("\(path): cannot be written") }
        self.handle = handle
        buffer.reserveCapacity(1 << 16)
    }

    func write(_ text: String) { write(Array(text.utf8)) }

    func write(_ bytes: [UInt8]) {
        buffer += bytes
        if buffer.count >= 1 << 16 { try? flush() }
    }

    func flush() throws {
        guard !buffer.isEmpty else { return }
        try handle.write(contentsOf: buffer)
        buffer.removeAll(keepingCapacity: true)
    }

    func close() throws {
        try flush()
        try handle.close()
    }
}

extension Synthesizer {
    /// The mapping spec shipped for the synthetic clinic (also at `Examples/openemr` in the repository).
    public static var exampleSpecPath: String? {
        Bundle.module.path(forResource: "openemr", ofType: nil).map {
            ($0 as NSString).appendingPathComponent("mapping.yaml")
        }
    }
}
