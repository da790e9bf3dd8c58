// Reconciliation at scale, as issue 6 measures it: a legacy table of RECORDS (id, content hash) and a
// Ferry store holding the same records but for DIFFERENCES of them (a third altered, a third deleted,
// a third added). In one run:
//   1. Ferry: the legacy side read once into sorted ranges, then compared with the store range by
//      range (count and fingerprint sum computed by the store's database), bisected to the records.
//   2. The floor: a plain scan of both sides (every id and hash read, nothing compared).
//   3. SQLite only: SQLite's own EXCEPT in both directions across the two attached files.
// Every difference must be found and nothing else.
//   swift run -c release reconcile-load RECORDS DIFFERENCES sqlite FOLDER
//   swift run -c release reconcile-load RECORDS DIFFERENCES postgres://user@host:port/ LEGACY_DB STORE_DB
// FOLDER (or, for PostgreSQL, the databases) keeps the data for the peers (`peers/reconcile_datadiff.py`).
import BenchmarkSupport
import FHIR
import Foundation
import GRDB
import Legacy
import Reconciliation
import Store

let arguments = CommandLine.arguments
guard arguments.count >= 5, let count = Int(arguments[1]), let differences = Int(arguments[2]) else {
    print("usage: reconcile-load RECORDS DIFFERENCES sqlite FOLDER | … postgres://user@host:port/ LEGACY_DB STORE_DB")
    exit(2)
}
let onPostgres = arguments[3].hasPrefix("postgres")
let type = "Observation"

/// Deterministic ids shaped like Ferry's (UUID-like) and content hashes (64 hex digits).
var state: UInt64 = 20_261_125
@MainActor func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
}
func hex(_ value: UInt64) -> String {
    let text = String(value, radix: 16)
    return String(repeating: "0", count: 16 - text.count) + text
}
@MainActor func identifier() -> String {
    let a = hex(next())
    let b = hex(next())
    let all = Array(a + b)
    return String(all[0..<8]) + "-" + String(all[8..<12]) + "-" + String(all[12..<16]) + "-" + String(all[16..<20])
        + "-" + String(all[20..<32])
}
@MainActor func contentHash() -> String { hex(next()) + hex(next()) + hex(next()) + hex(next()) }

var legacy: [(String, String)] = []
legacy.reserveCapacity(count)
for _ in 0..<count { legacy.append((identifier(), contentHash())) }
let third = differences / 3
var stride = count / max(1, differences)
var altered = Set<String>()
var missing = Set<String>()
var target: [(String, String)] = []
target.reserveCapacity(count + third)
for (index, record) in legacy.enumerated() {
    let slot = index / max(1, stride)
    if index % stride == stride / 2 && slot < third {
        altered.insert(record.0)
        target.append((record.0, contentHash()))
    } else if index % stride == stride / 2 && slot < 2 * third {
        missing.insert(record.0)
    } else {
        target.append(record)
    }
}
var extra = Set<String>()
while extra.count < differences - 2 * third { extra.insert(identifier()) }
target += extra.map { ($0, contentHash()) }

let definitions = try FHIRDefinitions.r4()
let source: any LegacySource
let store: any FHIRStore
let started = ContinuousClock.now
if onPostgres {
    let server = arguments[3]
    func psql(_ database: String, _ command: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/lib/postgresql/15/bin/psql")
        process.arguments = [server + database, "-q", "-v", "ON_ERROR_STOP=1", "-c", command]
        try process.run()
        process.waitUntilExit()
        precondition(process.terminationStatus == 0, "psql failed: \(command)")
    }
    func csv(_ rows: [(String, String)], _ line: ((String, String)) -> String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("\(UUID().uuidString).csv").path
        try rows.map(line).joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
    try psql(
        arguments[4], "DROP TABLE IF EXISTS records; CREATE TABLE records (id TEXT PRIMARY KEY, hash TEXT NOT NULL)")
    try psql(arguments[4], "\\copy records FROM '\(try csv(legacy) { "\($0.0),\($0.1)" })' WITH (FORMAT csv)")
    store = try await PostgresStore(url: server + arguments[5], definitions: definitions)
    try psql(arguments[5], "TRUNCATE resource")
    try psql(
        arguments[5],
        "\\copy resource (type, id, version, last_updated, deleted, hash) FROM '"
            + "\(try csv(target) { "\(type),\($0.0),1,0,0,\($0.1)" })' WITH (FORMAT csv)")
    try psql(arguments[5], "VACUUM ANALYZE resource")
    try psql(arguments[4], "VACUUM ANALYZE records")
    source = try PostgresSource(url: server + arguments[4])
} else {
    let folder = URL(fileURLWithPath: arguments[4])
    try? FileManager.default.removeItem(at: folder)
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let legacyPath = folder.appendingPathComponent("legacy.db").path
    let database = try DatabaseQueue(path: legacyPath)
    try database.write { db in
        try db.execute(sql: "CREATE TABLE records (id TEXT PRIMARY KEY, hash TEXT NOT NULL)")
        let insert = try db.makeStatement(sql: "INSERT INTO records VALUES (?, ?)")
        for (id, hash) in legacy { try insert.execute(arguments: [id, hash]) }
    }
    let storePath = folder.appendingPathComponent("store.sqlite").path
    store = try SQLiteStore(path: storePath, definitions: definitions)
    let raw = try DatabaseQueue(path: storePath)
    try raw.write { db in
        let insert = try db.makeStatement(sql: "INSERT INTO resource VALUES (?, ?, 1, 0, 0, ?, NULL)")
        for (id, hash) in target { try insert.execute(arguments: [type, id, hash]) }
    }
    source = try SQLiteSource(path: legacyPath)
}
print(
    "\(count) legacy records, \(target.count) in the store (\(altered.count) altered, \(missing.count) deleted, "
        + "\(extra.count) added), written in \(String(format: "%.1f", seconds(ContinuousClock.now - started))) s")

/// The legacy side's (id, hash) rows, read once by the source's own scan.
func readLegacy(_ body: (String, String) -> Void) async throws {
    try await source.scan(table: "records", batchSize: 10_000) { records in
        for case .row(let row) in records { body(row["id"]?.text ?? "", row["hash"]?.text ?? "") }
    }
}

// 1. Ferry.
let ferryStart = ContinuousClock.now
var pairs: [IDHash] = []
pairs.reserveCapacity(count)
try await readLegacy { pairs.append(IDHash(id: $0, hash: $1)) }
let readSeconds = seconds(ContinuousClock.now - ferryStart)
let sorted = SortedRecords(pairs)
pairs = []
let sortSeconds = seconds(ContinuousClock.now - ferryStart) - readSeconds
let outcome = try await RangeReconciler().compare(type: type, legacy: sorted, target: StoreSide(store))
let ferrySeconds = seconds(ContinuousClock.now - ferryStart)
let found = Dictionary(grouping: outcome.differences, by: \.kind).mapValues { Set($0.map(\.id)) }
let exact = found[.altered] ?? [] == altered && found[.missing] ?? [] == missing && found[.extra] ?? [] == extra
print(
    String(
        format:
            "Ferry: %.2f s (legacy read %.2f s, sorted and fingerprinted %.2f s, compared %.2f s); %d differences found (%d altered, %d missing, %d extra), %@; %d range summaries, "
            + "%d id-and-hash rows read from the store, peak %d MB",
        ferrySeconds, readSeconds, sortSeconds, ferrySeconds - readSeconds - sortSeconds, outcome.differences.count,
        found[.altered]?.count ?? 0, found[.missing]?.count ?? 0,
        found[.extra]?.count ?? 0, exact ? "exactly the injected ones" : "NOT the injected ones", outcome.summaries,
        outcome.hashesRead, peakMegabytes()))

// 2. The floor: every id and hash of both sides read, nothing compared.
let floorStart = ContinuousClock.now
var scanned = 0
try await readLegacy { _, _ in scanned += 1 }
var after: String?
while true {
    let page = try await store.contentHashes(type: type, in: IDRange(after: after, through: nil), limit: 10_000)
    scanned += page.count
    guard let last = page.last, page.count == 10_000 else { break }
    after = last.id
}
let floorSeconds = seconds(ContinuousClock.now - floorStart)
print(
    String(
        format: "floor (plain scan of both sides, %d rows): %.2f s; Ferry ÷ floor = %.2f×", scanned, floorSeconds,
        ferrySeconds / floorSeconds))

// 3. SQLite's EXCEPT, both directions.
if !onPostgres {
    let folder = URL(fileURLWithPath: arguments[4])
    let exceptStart = ContinuousClock.now
    let database = try DatabaseQueue(path: folder.appendingPathComponent("store.sqlite").path)
    let rows = try await database.read { db -> Int in
        try db.execute(sql: "ATTACH DATABASE ? AS legacy", arguments: [folder.appendingPathComponent("legacy.db").path])
        let left =
            try Int.fetchOne(
                db,
                sql: "SELECT COUNT(*) FROM (SELECT id, hash FROM legacy.records EXCEPT "
                    + "SELECT id, hash FROM resource WHERE type = ? AND deleted = 0)", arguments: [type]) ?? 0
        let right =
            try Int.fetchOne(
                db,
                sql: "SELECT COUNT(*) FROM (SELECT id, hash FROM resource WHERE type = ? AND deleted = 0 EXCEPT "
                    + "SELECT id, hash FROM legacy.records)", arguments: [type]) ?? 0
        return left + right
    }
    let exceptSeconds = seconds(ContinuousClock.now - exceptStart)
    print(
        String(
            format: "SQLite EXCEPT both ways: %.2f s (%d rows differ: an altered record counts on both sides)",
            exceptSeconds, rows))
}
if !exact { exit(1) }
