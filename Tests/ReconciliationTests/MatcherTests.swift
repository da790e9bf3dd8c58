import Foundation
import Legacy
import Reconciliation
import Testing

@Suite struct MatcherTests {
    @Test(arguments: [
        ("martha", "marhta", 0.9611), ("dwayne", "duane", 0.84), ("dixon", "dicksonx", 0.8133), ("abc", "xyz", 0.0),
        ("jones", "jones", 1.0),
    ])
    func jaroWinklerHasTheTextbookValues(a: String, b: String, expected: Double) {
        #expect(abs(StringSimilarity.jaroWinkler(Array(a.utf8), Array(b.utf8)) - expected) < 0.0005)
    }

    @Test func oneEditMeansOneSubstitutionInsertionDeletionOrSwap() {
        func near(_ a: String, _ b: String) -> Bool { StringSimilarity.withinOneEdit(Array(a.utf8), Array(b.utf8)) }
        #expect(near("19560409", "19560419") && near("1956049", "19560409") && near("19560409", "19564009"))
        #expect(near("abc", "abc") && near("", "a"))
        #expect(!near("19560409", "19561419") && !near("abc", "cab") && !near("ab", "abcd"))
    }

    @Test func datesInEveryLegacyLayoutCompareAsOneAndTranspositionsAreSeen() {
        let date = LinkField(column: "dob", kind: .date)
        for layout in ["08/26/1954", "19540826", "26-Aug-1954", "8/26/1954"] {
            #expect(date.compare("1954-08-26", layout) == "exact", "\(layout)")
        }
        #expect(date.compare("1954-08-26", "1954-26-08") == "day and month transposed")
        #expect(date.compare("1954-08-26", "1954-08-27") == "one edit")
        #expect(date.compare("1954-08-26", "1961-02-03") == "different")
        #expect(date.compare("1954-08-26", "") == "missing")
        let phone = LinkField(column: "phone", kind: .phone)
        #expect(phone.compare("(720) 555-8340", "720-555-8340") == "exact")
        #expect(phone.compare("303-555-8340", "720-555-8340") == "same last seven digits")
        let name = LinkField(column: "name", kind: .name)
        #expect(
            name.compare(" Catherine ", "catherine") == "exact"
                && name.compare("Catherine", "Katherine") == "jaro-winkler ≥ 0.92")
        #expect(
            name.compare("Catherine", "Cathy") == "jaro-winkler ≥ 0.80" && name.compare("Ann", "Robert") == "different")
    }

    @Test func givenAndFamilyNamesTheOtherWayRoundAreSeenAsSwappedOrCrossed() throws {
        let fields = try "given:name,family:name,dob:date".split(separator: ",").map {
            try LinkField(parsing: String($0))
        }
        var records = LinkRecords(fields: fields)
        records.append(id: "a", origin: "", values: ["Maria", "Gonzalez", "1970-01-02"])
        records.append(id: "b", origin: "", values: ["Gonzales", "Maria", "1970-01-02"])
        records.append(id: "c", origin: "", values: ["Pedro", "Maria", "1970-01-02"])
        records.append(id: "d", origin: "", values: ["Pedro", "Silva", "1970-01-02"])
        let outcome = try Matcher(fields: fields, blocking: [try BlockingRule(parsing: "dob")]).run(records)
        #expect(outcome.candidates == 6)
        let levels = try Matcher(fields: fields, blocking: [try BlockingRule(parsing: "dob")]).levelsForTesting(
            records, [(0, 1), (0, 2), (0, 3)])
        #expect(levels[0] == ["swapped", "swapped", "exact"])
        // One name in the other field: crossed (the first name field carries it).
        #expect(levels[1] == ["crossed", "different", "exact"])
        #expect(levels[2] == ["different", "different", "exact"])
    }

    @Test func emRecoversTheParametersThatMadeTheData() {
        // Two fields; matches agree with 0.95 and 0.9, non-matches with 0.1 and 0.02; one pair in twenty a match.
        var state: UInt64 = 7
        func random() -> Double {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Double(state >> 11) / Double(1 << 53)
        }
        let fields = [LinkField(column: "a", kind: .exact), LinkField(column: "b", kind: .exact)]
        var records = LinkRecords(fields: fields)
        // Each pair of records (2k, 2k+1) is one comparison: both blocked by their own key.
        for pair in 0..<200_000 {
            let match = random() < 0.05
            let agreeA = random() < (match ? 0.95 : 0.1)
            let agreeB = random() < (match ? 0.9 : 0.02)
            records.append(id: "\(pair)l", origin: "", values: ["x", "y"])
            records.append(id: "\(pair)r", origin: "", values: [agreeA ? "x" : "z", agreeB ? "y" : "w"])
        }
        // u as random pairs would measure it; EM finds m and how many pairs match.
        let u = [[0, 0.1, 0.9], [0, 0.02, 0.98]]
        let (m, matches) = Matcher(fields: fields, blocking: []).estimateForTesting(
            records, pairs: (0..<200_000).map { (Int32(2 * $0), Int32(2 * $0 + 1)) }, u: u)
        #expect(abs(matches / 200_000 - 0.05) < 0.01)
        #expect(abs(m[0][1] - 0.95) < 0.03 && abs(m[1][1] - 0.9) < 0.03)
    }

    @Test func theSyntheticClinicsDuplicatesAreFoundAgainstTheirTruth() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-link-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        _ = try Synthesizer.run(Synthesizer.Options(patients: 1500, seed: 21, folder: folder.path))
        let fields = try
            "fname:name,lname:name,DOB:date,sex:exact,ss:identifier,street:text,city:text,postal_code:exact,phone_home:phone"
            .split(separator: ",").map { try LinkField(parsing: String($0)) }
        let records = try LinkRecords.csv(
            path: folder.appendingPathComponent("csv/patient_data.csv").path, id: "pid", fields: fields)
        let matcher = Matcher(
            fields: fields,
            blocking: try ["lname", "fname+DOB", "ss", "phone_home", "DOB+postal_code"].map(BlockingRule.init(parsing:))
        )
        let outcome = try matcher.run(records)
        let truth = try LinkEvaluation.truth(csv: folder.appendingPathComponent("truth/duplicates.csv").path)
        #expect(truth.count > 20)
        let evaluation = LinkEvaluation(outcome, records: records, truth: truth)
        #expect(evaluation.recall >= 0.95 && evaluation.precision >= 0.95, "\(evaluation)")
        // Every decision carries its breakdown: the weights add up to the match weight.
        for pair in outcome.pairs.prefix(50) {
            #expect(abs(outcome.model.priorWeight + pair.partials.reduce(0, +) - pair.weight) < 1e-9)
        }
        // A deterministic rule makes its pairs certain, whatever the weights.
        var strict = matcher
        strict.rules = [try DeterministicRule(parsing: "ss")]
        let ruled = try strict.run(records)
        #expect(ruled.pairs.filter { $0.rule == "ss" }.allSatisfy { $0.grade == .certain })
        #expect(ruled.pairs.contains { $0.rule == "ss" })
    }

    @Test(arguments: [
        ("id,name\n1,ann\n1,bob\n", "x.csv:3: the id '1' is empty or repeated"),
        ("id,name\n1,ann,extra\n", "x.csv:2: 3 fields where the header has 2"),
        ("id,nom\n1,ann\n", "x.csv:1: no column 'name'"),
        ("", "x.csv: empty, no header row"),
    ])
    func aBrokenInputIsRefusedWithItsLine(text: String, message: String) throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-link-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("x.csv").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        #expect {
            try LinkRecords.csv(path: path, id: "id", fields: [LinkField(column: "name", kind: .name)])
        } throws: { error in
            "\(error)".contains(message)
        }
        #expect(throws: LinkError.self) { try LinkField(parsing: "name:fuzzy") }
        #expect(throws: LinkError.self) { try BlockingRule(parsing: "name:0") }
    }
}
