import FHIR
import Foundation
import GRDB
import Legacy
import Mapping
import Testing

@Suite struct MappingRunTests {
    static let spec = try! MappingSpec.load(path: LegacyFixtures.exampleSpec, definitions: LegacyFixtures.definitions)

    @Test func theExampleSpecMapsTheClinicWithEveryRowAccountedForAndEveryResourceValid() async throws {
        let mapper = SpecMapper(
            spec: Self.spec, definitions: LegacyFixtures.definitions, recorded: Date(timeIntervalSince1970: 0))
        let run = MappingRun(source: try SQLiteSource(path: LegacyFixtures.database), mapper: mapper)
        let validator = Validator(definitions: LegacyFixtures.definitions)
        var invalid: [String] = []
        var deadLetters: [String: String] = [:]
        var ids = Set<String>()
        var duplicates = 0
        let report = try await run.run { items in
            for item in items {
                switch item.result.outcome {
                case .mapped(let made):
                    for resource in made {
                        if !ids.insert("\(resource.type)/\(resource.id)").inserted { duplicates += 1 }
                        let outcome = validator.validate(resource.resource)
                        if !outcome.isValid { invalid.append("\(resource.type)/\(resource.id)") }
                    }
                case .deadLettered(let reason): deadLetters[item.record.locator] = reason
                case .filtered: break
                }
            }
        }
        #expect(invalid == [])
        #expect(duplicates == 0)
        #expect(report.addsUp)
        let rows = LegacyFixtures.clinic.summary.rows
        for (table, count) in rows { #expect(report.tables[table]?.read == count, "\(table)") }
        // What should be dead or filtered, counted in the database itself.
        let queue = try DatabaseQueue(path: LegacyFixtures.database)
        let (notNumbers, medications) = try await queue.read { db in
            (
                try Int.fetchOne(db, sql: "SELECT count(*) FROM procedure_result WHERE result NOT GLOB '[0-9]*'")!,
                try Int.fetchOne(db, sql: "SELECT count(*) FROM lists WHERE type = 'medication'")!
            )
        }
        #expect(report.tables["procedure_result"]?.deadLettered == notNumbers)
        #expect(deadLetters.count == notNumbers)
        for (locator, reason) in deadLetters {
            #expect(locator.hasPrefix("sqlite:legacy.db procedure_result procedure_result_id="))
            #expect(reason.contains("valueQuantity (spec line") && reason.contains("is not a number"))
        }
        #expect(report.tables["lists"]?.filtered == ["medication list entries repeat prescriptions": medications])
        let mappedRows = report.tables.values.reduce(0) { $0 + $1.mapped }
        #expect(report.resources["Provenance"] == mappedRows)
        #expect(report.resources["Patient"] == rows["patient_data"])
        // Local codes without a standard one are counted, never passed silently.
        #expect((report.unmapped["problems|LOC:OLDDX"] ?? 0) > 0)
        #expect((report.unmapped["lab-loinc|XSEND"] ?? 0) > 0)
        #expect(
            report.unmapped.keys.allSatisfy {
                [
                    "problems|LOC:OLDDX", "lab-loinc|XSEND", "lab-orders|MISC", "allergens|ALG:OTHER",
                    "ndc-rxnorm|99999-0001-01",
                ].contains($0)
            })
    }

    @Test func csvExportsMapToTheSameResourcesAsTheDatabase() async throws {
        let mapper = SpecMapper(
            spec: Self.spec, definitions: LegacyFixtures.definitions, recorded: Date(timeIntervalSince1970: 0))
        func patients(_ source: any LegacySource) async throws -> [JSON] {
            var result: [JSON] = []
            _ = try await MappingRun(source: source, mapper: mapper).run(tables: ["patient_data", "form_encounter"]) {
                items in
                for item in items {
                    if case .mapped(let made) = item.result.outcome {
                        result += made.filter { $0.type != "Provenance" }.map(\.resource)
                    }
                }
            }
            return result
        }
        let fromDatabase = try await patients(try SQLiteSource(path: LegacyFixtures.database))
        let fromCSV = try await patients(try CSVSource(folder: LegacyFixtures.csvFolder))
        #expect(fromDatabase.count > 1000)
        #expect(fromDatabase == fromCSV)
    }

    /// A filtered scan reads a row's partition key first and the rest only when it is kept: it must
    /// yield exactly the records a whole scan yields that the filter keeps, in the same order.
    @Test func aFilteredScanYieldsWhatTheWholeScanKeeps() async throws {
        let path = LegacyFixtures.temporaryFolder("filtered-scan") + "/shares.db"
        let queue = try DatabaseQueue(path: path)
        try await queue.write { db in
            try db.execute(sql: "CREATE TABLE keyed (a TEXT, b INTEGER, owner TEXT, note BLOB, PRIMARY KEY (a, b))")
            try db.execute(sql: "CREATE TABLE loose (owner REAL, note TEXT)")
            for number in 0..<500 {
                // Every seventh row has no owner (its key decides), some owners are blank text.
                let owner: DatabaseValue =
                    number % 7 == 0 ? .null : (number % 11 == 0 ? "  " : "p\(number % 23)").databaseValue
                try db.execute(
                    sql: "INSERT INTO keyed VALUES (?, ?, ?, ?)",
                    arguments: [
                        "k\(number % 3)", number, owner, number % 5 == 0 ? Data([1, 2, UInt8(number % 256)]) : nil,
                    ])
                try db.execute(
                    sql: "INSERT INTO loose VALUES (?, ?)",
                    arguments: [
                        number % 7 == 0 ? nil : Double(number % 13) + (number % 2 == 0 ? 0.5 : 0), "n\(number)",
                    ])
            }
        }
        let source = try SQLiteSource(path: path)
        func described(_ records: [LegacyRecord]) -> [String] {
            records.map { record in
                guard case .row(let row) = record else { return "unreadable \(record.locator)" }
                return "\(row.locator) \(row.values)"
            }
        }
        for table in ["keyed", "loose"] {
            var whole: [LegacyRecord] = []
            try await source.scan(table: table, batchSize: 64) { whole += $0 }
            #expect(whole.count == 500)
            var shares: [[String]] = []
            for share in 0..<3 {
                let filter = RecordFilter(column: "owner") { Int(($0.utf8.last ?? 0) % 3) == share }
                var kept: [LegacyRecord] = []
                try await source.scan(table: table, batchSize: 64, filter: filter) { kept += $0 }
                #expect(described(kept) == described(whole.filter(filter.keeps)), "\(table) share \(share)")
                shares.append(described(kept))
            }
            #expect(shares.map(\.count).reduce(0, +) == 500)
            #expect(shares.allSatisfy { !$0.isEmpty })
        }
        // Other sources filter what they read; a record that could not be read goes by its locator.
        let folder = LegacyFixtures.temporaryFolder("filtered-csv")
        var text = "id,owner,note\n"
        for number in 0..<200 {
            text += number % 50 == 7 ? "\(number),p1,ragged,extra\n" : "\(number),p\(number % 9),n\n"
        }
        try text.write(toFile: folder + "/people.csv", atomically: true, encoding: .utf8)
        let csv = try CSVSource(folder: folder, keys: ["people": ["id"]])
        var whole: [LegacyRecord] = []
        try await csv.scan(table: "people", batchSize: 16) { whole += $0 }
        #expect(whole.count == 200)
        #expect(whole.filter { if case .unreadable = $0 { true } else { false } }.count == 4)
        var total = 0
        for share in 0..<3 {
            let filter = RecordFilter(column: "owner") { Int(($0.utf8.last ?? 0) % 3) == share }
            var kept: [LegacyRecord] = []
            try await csv.scan(table: "people", batchSize: 16, filter: filter) { kept += $0 }
            #expect(described(kept) == described(whole.filter(filter.keeps)))
            total += kept.count
        }
        #expect(total == whole.count)
    }

    @Test func brokenCSVRowsAreDeadLetteredWithTheirLineAndTheRestIsRead() async throws {
        let folder = LegacyFixtures.temporaryFolder("broken-csv")
        let text =
            "\u{FEFF}id,name,note\n1,Ann,fine\n2,Bob\n3,\"Cy\",\"two\nlines\"\n4,D\"x,bad\n5,Eve,ok,extra\n6,Fay,\"never closed\n"
        try text.write(toFile: folder + "/people.csv", atomically: true, encoding: .utf8)
        let source = try CSVSource(folder: folder, keys: ["people": ["id"]])
        var rows: [String] = []
        var unreadable: [String] = []
        try await source.scan(table: "people", batchSize: 2) { records in
            for record in records {
                switch record {
                case .row(let row): rows.append("\(row.key) \(row["note"]?.text ?? "")")
                case .unreadable(let bad): unreadable.append("\(bad.locator): \(bad.reason)")
                }
            }
        }
        #expect(rows == ["id=1 fine", "id=3 two\nlines"])
        #expect(
            unreadable == [
                "csv:\((folder as NSString).lastPathComponent) people.csv line 3: people.csv:3: 2 fields where the header has 3",
                "csv:\((folder as NSString).lastPathComponent) people.csv line 6: people.csv:6:4: a quote inside an unquoted field (quote the whole field and double the quote)",
                "csv:\((folder as NSString).lastPathComponent) people.csv line 7: people.csv:7: 4 fields where the header has 3",
                "csv:\((folder as NSString).lastPathComponent) people.csv line 8: people.csv:8:7: the quoted field opened here is never closed",
            ])
        let tables = try await source.tables()
        #expect(tables.first?.columns.map(\.name) == ["id", "name", "note"])
    }

    @Test func lintFindsMissingColumnsUnfilledRequiredElementsAndLeftBehindPHI() async throws {
        let yaml = try String(contentsOfFile: LegacyFixtures.exampleSpec, encoding: .utf8)
            .replacingOccurrences(of: "      name[0].family: { column: lname, required: true }\n", with: "")
            .replacingOccurrences(of: "      reasonCode[0].text: reason", with: "      reasonCode[0].text: reason_text")
            .replacingOccurrences(
                of: "      status: { column: result_status, map: reportStatus, required: true }\n", with: "")
        let folder = (LegacyFixtures.exampleSpec as NSString).deletingLastPathComponent
        let spec = try MappingSpec.parse(yaml: yaml, file: "changed.yaml", definitions: LegacyFixtures.definitions) {
            name, path in
            try ConceptMapTable.load(path: folder + "/" + path, name: name)
        }
        let source = try SQLiteSource(path: LegacyFixtures.database)
        let findings = SpecLint.run(
            spec: spec, definitions: LegacyFixtures.definitions, tables: try await source.tables(),
            discovery: try await Discovery.run(source: source))
        let messages = findings.map(\.description)
        #expect(
            messages.contains {
                $0.contains("error: encounters reasonCode[0].text: table form_encounter has no column reason_text")
            })
        #expect(
            messages.contains {
                $0.contains("error: lab-results: Observation.status is required (min 1) and no rule fills it")
            })
        #expect(messages.contains { $0.contains("warning: patient_data.lname holds name (PHI) and no rule maps it") })
        #expect(messages.contains { $0.contains("warning: form_encounter.reason holds free-text (PHI)") })
        #expect(findings.count == 4)
        let clean = SpecLint.run(
            spec: Self.spec, definitions: LegacyFixtures.definitions, tables: try await source.tables(),
            discovery: try await Discovery.run(source: source))
        #expect(clean == [])
    }
}
