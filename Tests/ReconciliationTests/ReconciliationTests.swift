import FHIR
import Foundation
import Legacy
import Mapping
import Migration
import Reconciliation
import Store
import TestPostgres
import Testing

@Suite struct ReconciliationTests {
    static let definitions = try! FHIRDefinitions.r4()
    static let specPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Examples/openemr/mapping.yaml").path
    static let spec = try! MappingSpec.load(path: specPath, definitions: definitions)

    enum StoreKind: String, CaseIterable {
        case sqlite, postgres
    }

    /// A synthetic clinic migrated into a fresh store of `kind`; the Provenance recorded at another
    /// time than the reconciliation's projection, as in real life.
    static func migrated(
        _ kind: StoreKind, folder: URL, patients: Int = 80
    ) async throws -> (
        SQLiteSource, any FHIRStore
    ) {
        _ = try Synthesizer.run(Synthesizer.Options(patients: patients, seed: 5, folder: folder.path))
        let source = try SQLiteSource(path: folder.appendingPathComponent("legacy.db").path)
        let store: any FHIRStore =
            switch kind {
            case .sqlite:
                try SQLiteStore(path: folder.appendingPathComponent("store.sqlite").path, definitions: definitions)
            case .postgres:
                try await PostgresStore(url: try PostgresServer.shared.get().newDatabase(), definitions: definitions)
            }
        let mapper = SpecMapper(spec: spec, definitions: definitions, recorded: Date(timeIntervalSince1970: 86_400))
        let report = try await RelationalMigration(
            source: source, mapper: mapper, store: store, options: MigrationOptions(run: "m", batchSize: 50)
        ).run()
        #expect(report.addsUp)
        return (source, store)
    }

    static func reconciliation(_ source: SQLiteSource, _ store: any FHIRStore) -> Reconciliation {
        var reconciliation = Reconciliation(
            inputs: LegacyInputs(
                sources: [source], mapper: SpecMapper(spec: spec, definitions: definitions, recorded: Date())),
            target: store, definitions: definitions, run: "m")
        // Small segments, so that a clinic of 80 patients already takes several levels of bisection.
        reconciliation.reconciler = RangeReconciler(leafSize: 16, fanout: 4)
        return reconciliation
    }

    static func temporaryFolder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "ferry-reconcile-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }

    @Test(arguments: StoreKind.allCases)
    func aCleanMigrationHasNoDifferenceAndEveryRowAddsUp(kind: StoreKind) async throws {
        let folder = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let (source, store) = try await Self.migrated(kind, folder: folder)
        let report = try await Self.reconciliation(source, store).reconcile()
        #expect(report.differences.isEmpty)
        #expect(report.unaccounted.isEmpty)
        #expect(report.tables.allSatisfy { $0.addsUp })
        #expect(report.tables.reduce(0) { $0 + $1.deadLettered } > 0, "the clinic's mess dead-letters some rows")
        let counts = try await store.counts()
        for row in report.types {
            #expect(
                row.legacy == counts[row.type] && row.target == row.legacy && row.matched == row.legacy, "\(row.type)")
        }
    }

    @Test(arguments: StoreKind.allCases)
    func injectedFaultsAreEachFoundAndNamedAndNothingElse(kind: StoreKind) async throws {
        let folder = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let (source, store) = try await Self.migrated(kind, folder: folder)
        var altered: Set<String> = []
        var deleted: Set<String> = []
        var added: Set<String> = []
        // Ten records altered: a language set on five Encounters and five Observations.
        for type in ["Encounter", "Observation"] {
            for stored in try await store.currentResources(type: type, after: nil, limit: 5) {
                guard case .object(var object)? = stored.resource else { continue }
                object["language"] = .string("fr")
                _ = try await store.update(.object(object))
                altered.insert("\(type)/\(stored.id)")
            }
        }
        // Five deleted.
        for stored in try await store.currentResources(type: "Condition", after: nil, limit: 5) {
            _ = try await store.delete(type: "Condition", id: stored.id)
            deleted.insert("Condition/\(stored.id)")
        }
        // Five added that no legacy row makes.
        for number in 0..<5 {
            let id = "added-\(number)"
            _ = try await store.update(
                try JSON(
                    parsing: Array(
                        #"{"resourceType":"Patient","id":"\#(id)","name":[{"family":"Nobody"}],"gender":"unknown"}"#
                            .utf8)))
            added.insert("Patient/\(id)")
        }
        // One allergy's criticality changed.
        let allergy = try #require(
            try await store.currentResources(type: "AllergyIntolerance", after: nil, limit: 50).first {
                $0.resource?["criticality"]?.stringValue == "high"
            })
        guard case .object(var object)? = allergy.resource else { Issue.record("no allergy"); return }
        object["criticality"] = .string("low")
        _ = try await store.update(.object(object))
        altered.insert("AllergyIntolerance/\(allergy.id)")

        var reconciliation = Self.reconciliation(source, store)
        // A rule of one's own beside the defaults: an Encounter's language, side by side.
        reconciliation.fieldRules.rules["Encounter", default: []].append("language")
        let report = try await reconciliation.reconcile()
        let found = Dictionary(grouping: report.differences, by: \.kind).mapValues {
            Set($0.map { "\($0.type)/\($0.id)" })
        }
        #expect(found[.altered] == altered)
        #expect(found[.missing] == deleted)
        #expect(found[.extra] == added)
        #expect(report.differences.count == 21)
        // Each is named by its row (the extras have none), and the altered say what changed.
        for difference in report.differences where difference.kind != .extra {
            #expect(difference.locator?.contains("legacy") == true || difference.locator?.isEmpty == false)
        }
        for difference in report.differences
        where difference.kind == .altered && difference.type != "AllergyIntolerance" {
            #expect(difference.changedElements == ["language"])
        }
        for difference in report.differences where difference.kind == .altered && difference.type == "Encounter" {
            #expect(difference.fields.map(\.element) == ["language"])
            #expect(difference.fields.first?.legacy == [] && difference.fields.first?.target == [#""fr""#])
        }
        let changed = try #require(report.differences.first { $0.type == "AllergyIntolerance" })
        #expect(changed.changedElements == ["criticality"])
        let criticality = try #require(changed.fields.first { $0.element == "criticality" })
        #expect(criticality.legacy == [#""high""#] && criticality.target == [#""low""#])
        #expect(criticality.source.keys.contains("severity_al"))
        #expect(changed.fields.count == 1)
        // The rows of the deleted records are not accounted for; the others all are.
        #expect(report.unaccounted.count == 5)
        #expect(report.tables.allSatisfy { $0.addsUp })
        let counts = Dictionary(uniqueKeysWithValues: report.types.map { ($0.type, $0) })
        #expect(counts["Condition"]?.missing == 5 && counts["Patient"]?.extra == 5 && counts["Encounter"]?.altered == 5)
    }

    @Test func driftSinceASnapshotNamesWhatChangedWasDeletedOrCreated() async throws {
        let folder = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let (_, store) = try await Self.migrated(.sqlite, folder: folder, patients: 30)
        let snapshot = folder.appendingPathComponent("snapshot").path
        _ = try await StoreSnapshot.write(store, to: snapshot)
        let small = RangeReconciler(leafSize: 8, fanout: 4)
        #expect(try await Drift.measure(snapshot: snapshot, store: store, reconciler: small).differences.isEmpty)
        let encounters = try await store.currentResources(type: "Encounter", after: nil, limit: 3)
        guard case .object(var changed)? = encounters[0].resource else { return }
        changed["language"] = .string("de")
        _ = try await store.update(.object(changed))
        _ = try await store.delete(type: "Encounter", id: encounters[1].id)
        _ = try await store.update(
            try JSON(parsing: Array(#"{"resourceType":"Patient","id":"walk-in","gender":"other"}"#.utf8)))
        let drift = try await Drift.measure(snapshot: snapshot, store: store, reconciler: small)
        let found = Set(drift.differences.map { "\($0.kind.rawValue) \($0.type)/\($0.id)" })
        #expect(
            found == [
                "altered Encounter/\(encounters[0].id)", "missing Encounter/\(encounters[1].id)",
                "extra Patient/walk-in",
            ])
    }

    @Test func duplicatePatientsAreFoundAgainstTheTruthAndMergedOnesCountAsResolved() async throws {
        let folder = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let (source, store) = try await Self.migrated(.sqlite, folder: folder, patients: 300)
        let mapper = SpecMapper(spec: Self.spec, definitions: Self.definitions, recorded: Date())
        let projection = try await LegacyProjection.project(LegacyInputs(sources: [source], mapper: mapper))
        var patientOfPID: [String: String] = [:]
        for (name, origin) in projection.origins where name.hasPrefix("Patient/") && origin.table == "patient_data" {
            patientOfPID[String(origin.key.dropFirst("pid=".count))] = name
        }
        let lines = try String(contentsOf: folder.appendingPathComponent("truth/duplicates.csv"), encoding: .utf8)
            .split(separator: "\n").dropFirst().map { $0.split(separator: ",").map(String.init) }
        let pairs = try lines.map { line in
            (try #require(patientOfPID[line[0]]), try #require(patientOfPID[line[1]]), line[3])
        }
        let truth = Set(pairs.map { Set([$0.0, $0.1]) })
        let merged = Set(pairs.filter { $0.2 == "true" }.map { Set([$0.0, $0.1]) })
        #expect(truth.count >= 5 && !merged.isEmpty)
        let (duplicates, _, _) = try await PatientDuplicates.find(in: store)
        let found = Set(duplicates.pairs.filter { $0.grade >= .probable }.map { Set([$0.first, $0.second]) })
        #expect(found == truth)
        #expect(Set(duplicates.pairs.filter(\.resolved).map { Set([$0.first, $0.second]) }) == merged)
        #expect(duplicates.unresolved == truth.count - merged.count)
    }

    @Test func aClinicalReviewDrawsEvenlyFromEveryStratumTheSameWayForASeed() async throws {
        let folder = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let (source, store) = try await Self.migrated(.sqlite, folder: folder, patients: 60)
        func draw(_ seed: UInt64) async throws -> ClinicalReview {
            var reconciliation = Self.reconciliation(source, store)
            reconciliation.findDuplicates = false
            reconciliation.reviewPerStratum = 3
            reconciliation.reviewSeed = seed
            return try #require(try await reconciliation.reconcile().review)
        }
        let review = try await draw(7)
        let names = review.strata.map(\.name)
        #expect(
            names.contains { $0.hasPrefix("site 1 · Condition") }
                && names.contains { $0.hasPrefix("site 2 · DocumentReference") })
        #expect(review.strata.allSatisfy { $0.sampled == min(3, $0.population) })
        #expect(review.items.count == review.strata.reduce(0) { $0 + $1.sampled })
        for item in review.items {
            #expect(!item.legacy.isEmpty && item.fhir.contains(String(item.name.split(separator: "/")[1])))
            #expect(
                item.locator.contains("lists") || item.locator.contains("pnotes") || item.locator.contains("documents"))
        }
        #expect(try await draw(7).items == review.items)
        #expect(try await draw(8).items != review.items)
        let worksheet = review.html(generated: Date())
        #expect(worksheet.contains("Equivalent: ☐ yes ☐ no ☐ unsure") && worksheet.contains("This sheet holds PHI"))
        #expect(review.csv().split(separator: "\n").first?.contains("reviewer,equivalent") == true)
    }

    @Test func anHL7FeedIsProjectedAsItWasMigratedAndAChangeInItsResourcesIsNamed() async throws {
        let folder = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        _ = try Synthesizer.run(Synthesizer.Options(patients: 40, seed: 3, folder: folder.path))
        let feed = folder.appendingPathComponent("feed")
        let files = try FileManager.default.contentsOfDirectory(atPath: feed.path).sorted().map {
            feed.appendingPathComponent($0).path
        }
        let converter = V2Converter(maps: try V2Maps.shipped(), definitions: Self.definitions)
        let store = try SQLiteStore(
            path: folder.appendingPathComponent("store.sqlite").path, definitions: Self.definitions)
        let migrated = try await HL7Migration(
            files: files, store: store, converter: converter, options: MigrationOptions(run: "feed", batchSize: 25)
        ).run()
        #expect(migrated.addsUp && migrated.loaded > 100)
        var reconciliation = Reconciliation(
            inputs: LegacyInputs(feeds: files, converter: converter), target: store, definitions: Self.definitions,
            run: "feed")
        reconciliation.reconciler = RangeReconciler(leafSize: 16, fanout: 4)
        reconciliation.findDuplicates = false
        let clean = try await reconciliation.reconcile()
        #expect(clean.isClean && clean.tables.allSatisfy { $0.addsUp })
        #expect(clean.tables.reduce(0) { $0 + $1.read } == migrated.read)
        let observation = try #require(
            try await store.currentResources(type: "Observation", after: nil, limit: 1).first)
        guard case .object(var object)? = observation.resource else { return }
        object["status"] = .string("cancelled")
        _ = try await store.update(.object(object))
        let changed = try await reconciliation.reconcile()
        #expect(changed.differences.count == 1)
        let difference = try #require(changed.differences.first)
        #expect(difference.kind == .altered && difference.id == observation.id)
        #expect(difference.changedElements == ["status"] && difference.locator?.contains("#") == true)
    }
}
