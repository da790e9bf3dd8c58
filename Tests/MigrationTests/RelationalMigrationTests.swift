import FHIR
import Foundation
import Legacy
import Mapping
import Migration
import Store
import Testing

@Suite struct RelationalMigrationTests {
    typealias Support = MigrationTestSupport

    static let specPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Examples/openemr/mapping.yaml").path
    static let spec = try! MappingSpec.load(path: specPath, definitions: Support.definitions)
    static let mapper = SpecMapper(
        spec: spec, definitions: Support.definitions, recorded: Date(timeIntervalSince1970: 0))

    /// A small clinic of its own per test.
    static func clinic(_ folder: URL, patients: Int = 60) throws -> SQLiteSource {
        _ = try Synthesizer.run(Synthesizer.Options(patients: patients, seed: 11, folder: folder.path))
        return try SQLiteSource(path: folder.appendingPathComponent("legacy.db").path)
    }

    static func store(_ folder: URL) throws -> SQLiteStore {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return try SQLiteStore(
            path: folder.appendingPathComponent("store.sqlite").path, definitions: Support.definitions)
    }

    @Test func everyRowIsLoadedDeadLetteredOrFilteredAndTheStoreHoldsWhatTheMappingMade() async throws {
        let folder = try Support.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let source = try Self.clinic(folder)
        let store = try Self.store(folder)
        let report = try await RelationalMigration(
            source: source, mapper: Self.mapper, store: store,
            options: MigrationOptions(run: "r", batchSize: 40, partitions: 4)
        ).run()
        #expect(report.addsUp)
        let mapped = try await MappingRun(source: source, mapper: Self.mapper).run { _ in }
        let tables = mapped.tables.values
        #expect(report.read == tables.reduce(0) { $0 + $1.read })
        #expect(report.loaded == tables.reduce(0) { $0 + $1.mapped })
        #expect(report.deadLettered == tables.reduce(0) { $0 + $1.deadLettered })
        #expect(
            report.filtered == [
                "medication list entries repeat prescriptions": mapped.tables["lists"]!.filtered.values.reduce(0, +)
            ])
        #expect(try await store.counts() == mapped.resources)
        // The same accounts per table.
        for (table, accounts) in mapped.tables {
            let group = report.groups[table]
            #expect(group?.read == accounts.read && group?.loaded == accounts.mapped, "\(table)")
            #expect(
                group?.deadLettered == accounts.deadLettered && group?.filtered == accounts.filtered.values.reduce(0, +)
            )
        }
        #expect(try await store.deadLetters(run: "r").count == report.deadLettered)
        // A second run of the same data writes nothing new.
        let again = try await RelationalMigration(
            source: source, mapper: Self.mapper, store: store, options: MigrationOptions(run: "r2", batchSize: 40)
        ).run()
        #expect(again.resources.isEmpty && again.unchanged == mapped.resources.values.reduce(0, +))
    }

    @Test func aPhaseBySiteOrModuleCountsTheRestUnderItsRule() async throws {
        let folder = try Support.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let source = try Self.clinic(folder)
        let store = try Self.store(folder)
        let subset = RelationalMigration.Subset(
            resourceTypes: ["Patient", "Encounter"], column: "facility_id", values: ["1"])
        let report = try await RelationalMigration(
            source: source, mapper: Self.mapper, store: store, options: MigrationOptions(run: "pilot"), subset: subset
        ).run()
        #expect(report.addsUp)
        #expect(report.filtered[subset.rule]! > 0)
        let counts = try await store.counts()
        #expect(Set(counts.keys) == ["Patient", "Encounter", "Provenance"])
        let patients = try await store.search(SearchQuery(type: "Patient", count: 1000)).resources
        #expect(!patients.isEmpty)
        #expect(patients.allSatisfy { $0.resource?["identifier"]?[0]?["value"]?.stringValue?.hasPrefix("NS-") == true })

        let window = RelationalMigration.Subset(timeColumn: "date", from: "2020-01-01", to: "2021-12-31")
        let windowed = try await RelationalMigration(
            source: source, mapper: Self.mapper, store: Self.store(folder.appendingPathComponent("w")),
            options: MigrationOptions(run: "w"),
            subset: window
        ).run()
        #expect(windowed.addsUp && windowed.filtered[window.rule]! > 0 && windowed.loaded > 0)
    }

    @Test func deadLettersLoadAfterTheSpecIsFixed() async throws {
        let folder = try Support.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let source = try Self.clinic(folder, patients: 30)
        let store = try Self.store(folder)
        // A spec that demands a column most encounters leave empty: those rows are dead letters.
        let strict = try String(contentsOfFile: Self.specPath, encoding: .utf8).replacingOccurrences(
            of: "period.end: { column: date_end,", with: "period.end: { required: true, column: date_end,")
        func mapper(_ yaml: String) throws -> SpecMapper {
            let folder = (Self.specPath as NSString).deletingLastPathComponent
            let spec = try MappingSpec.parse(yaml: yaml, file: "spec.yaml", definitions: Support.definitions) {
                name, path in
                try ConceptMapTable.load(path: folder + "/" + path, name: name)
            }
            return SpecMapper(spec: spec, definitions: Support.definitions, recorded: Date(timeIntervalSince1970: 0))
        }
        let options = MigrationOptions(run: "fix", batchSize: 25)
        let first = try await RelationalMigration(
            source: source, mapper: try mapper(strict), store: store, options: options
        ).run()
        let letters = try await store.deadLetters(run: "fix")
        let encounters = letters.filter { $0.locator.contains("form_encounter") }
        #expect(encounters.count > 10)
        #expect(
            encounters.allSatisfy { $0.reason.contains("column date_end has no value, and the element is required") })
        #expect(first.deadLettered == letters.count)
        let retry = try await RelationalMigration(source: source, mapper: Self.mapper, store: store, options: options)
            .retryDeadLetters()
        #expect(retry.loaded == encounters.count)
        #expect(retry.stillDead == letters.count - encounters.count)
        let left = try await store.deadLetters(run: "fix")
        #expect(left.allSatisfy { !$0.locator.contains("form_encounter") })
        // The store now holds what a run with the fixed spec makes from the start.
        let reference = try Self.store(folder.appendingPathComponent("ref"))
        _ = try await RelationalMigration(
            source: source, mapper: Self.mapper, store: reference, options: MigrationOptions(run: "ref")
        )
        .run()
        #expect(try await store.counts() == reference.counts())
    }
}
