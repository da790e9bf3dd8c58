import Foundation
import Legacy
import Mapping
import TestPostgres
import Testing

@Suite struct DiscoveryTests {
    /// Every column's class against the generator's truth; the mistakes, named.
    func misclassified(_ discovery: Discovery) throws -> [String] {
        let truth = try LegacyFixtures.truth()
        #expect(discovery.classes.count == truth.count)
        return discovery.classes.compactMap { column, phi in
            truth[column] == phi.rawValue ? nil : "\(column): \(phi.rawValue), truth \(truth[column] ?? "none")"
        }.sorted()
    }

    @Test func everyPHIColumnOfTheSyntheticDatabaseIsClassifiedRight() async throws {
        let discovery = try await Discovery.run(source: try SQLiteSource(path: LegacyFixtures.database))
        #expect(try misclassified(discovery) == [])
        let patients = try #require(discovery.tables.first { $0.name == "patient_data" })
        #expect(patients.primaryKey == ["pid"])
        #expect(patients.primaryKeyOrigin == "declared")
        let dob = try #require(patients.columns.first { $0.name == "DOB" })
        #expect(dob.phi == .birthDate)
        #expect(dob.confidence == 0.95)
        #expect(Set(dob.dateFormats).isSuperset(of: ["yyyy-MM-dd", "MM/dd/yyyy"]))
        let ssn = try #require(patients.columns.first { $0.name == "ss" })
        #expect(ssn.evidence.contains { $0.contains("sampled values look like ssn") })
        #expect(ssn.nullRate > 0.1)
    }

    @Test func csvExportsGetTheirKeysAndForeignKeysInferred() async throws {
        let discovery = try await Discovery.run(source: try CSVSource(folder: LegacyFixtures.csvFolder))
        #expect(try misclassified(discovery) == [])
        let results = try #require(discovery.tables.first { $0.name == "procedure_result" })
        #expect(results.primaryKey == ["procedure_result_id"])
        #expect(results.primaryKeyOrigin.hasPrefix("inferred"))
        let references = Set(results.foreignKeys.map { "\($0.column)→\($0.table).\($0.referencedColumn)" })
        #expect(
            references == [
                "procedure_report_id→procedure_report.procedure_report_id", "patient_id→patient_data.pid",
                "facility_id→facility.id",
            ])
    }

    @Test func aPostgreSQLCopyIsClassifiedTheSame() async throws {
        let server = try PostgresServer.shared.get()
        let url = try server.newDatabase()
        let sqlite = try SQLiteSource(path: LegacyFixtures.database)
        var schema: [String] = []
        for table in try await sqlite.tables() {
            let columns = table.columns.map { "\"\($0.name)\" \($0.declaredType)" }.joined(separator: ", ")
            schema.append("CREATE TABLE \"\(table.name)\" (\(columns), PRIMARY KEY (\"\(table.primaryKey[0])\"))")
        }
        try server.psql(url, schema.joined(separator: ";\n"))
        for table in try await sqlite.tables() {
            try server.psql(
                url,
                "\\copy \"\(table.name)\" FROM '\(LegacyFixtures.csvFolder)/\(table.name).csv' WITH (FORMAT csv, HEADER true)"
            )
        }
        let source = try PostgresSource(url: url)
        let discovery = try await Discovery.run(source: source)
        #expect(try misclassified(discovery) == [])
        let tables = Dictionary(uniqueKeysWithValues: discovery.tables.map { ($0.name, $0.rows) })
        #expect(tables == LegacyFixtures.clinic.summary.rows)
        let patients = try #require(discovery.tables.first { $0.name == "patient_data" })
        #expect(patients.columns.first { $0.name == "pid" }?.inferredType == "integer")
    }

    @Test func aPostgreSQLTableKeyedByTextIsReadWholeInKeyOrderPageByPage() async throws {
        let server = try PostgresServer.shared.get()
        let url = try server.newDatabase()
        // Keys whose text order is not their insertion order, with a quote to be bound, not spliced.
        let keys = (0..<57).map { String(format: "k%03d", ($0 * 37) % 57) } + ["O'Brien", "a b", "Z"]
        let values = keys.map { "('\($0.replacingOccurrences(of: "'", with: "''"))', 'v')" }.joined(separator: ", ")
        try server.psql(url, "CREATE TABLE notes (id TEXT PRIMARY KEY, body TEXT); INSERT INTO notes VALUES \(values)")
        var read: [String] = []
        try await PostgresSource(url: url).scan(table: "notes", batchSize: 7) { records in
            for case .row(let row) in records { read.append(row["id"]?.text ?? "") }
        }
        #expect(read.count == keys.count && Set(read) == Set(keys))
        #expect(read == read.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) })
    }

    @Test func theReportsNameEveryTableAndTheDraftSpecLoads() async throws {
        var discovery = try await Discovery.run(source: try SQLiteSource(path: LegacyFixtures.database))
        discovery.feed = try FeedDiscovery.run(path: LegacyFixtures.clinic.folder + "/feed")
        let markdown = DiscoveryReport.markdown(discovery)
        for table in discovery.tables { #expect(markdown.contains("## \(table.name)")) }
        #expect(markdown.contains("| DOB | TEXT | date |"))
        #expect(markdown.contains("| ZPI | \(LegacyFixtures.clinic.summary.rows["patient_data"]!) |"))
        #expect(DiscoveryReport.html(discovery).contains("<h2>patient_data</h2>"))
        let decoded = try JSONDecoder().decode(Discovery.self, from: try DiscoveryReport.json(discovery))
        #expect(decoded == discovery)
        let draft = DraftSpec.yaml(discovery, name: "draft")
        let spec = try MappingSpec.parse(yaml: draft, file: "draft.yaml", definitions: LegacyFixtures.definitions) {
            _, _ in
            throw MappingSpecError(file: "", line: nil, column: nil, message: "none")
        }
        let patients = try #require(spec.mappings.first { $0.table == "patient_data" })
        #expect(patients.resource == "Patient")
        #expect(
            Set(patients.elements.map(\.path)).isSuperset(of: ["name[0].family", "birthDate", "identifier[0].value"]))
    }
}
