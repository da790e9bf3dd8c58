// swift-tools-version: 6.1
// Ferry's benchmarks (ordo-one/benchmark). Run them side by side with the peers with ./compare.
import PackageDescription

let package = Package(
    name: "FerryBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "Ferry", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.0", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
    ],
    targets: [
        .target(name: "BenchmarkCorpus", dependencies: [.product(name: "FHIR", package: "Ferry")]),
        .target(
            name: "BenchmarkSupport",
            dependencies: [.product(name: "FHIR", package: "Ferry"), .product(name: "Store", package: "Ferry")]
        ),
        .executableTarget(
            name: "make-corpus",
            dependencies: ["BenchmarkCorpus", .product(name: "HL7v2", package: "Ferry")],
            path: "Sources/make-corpus"
        ),
        .executableTarget(
            name: "FHIRBenchmarks",
            dependencies: [
                "BenchmarkCorpus",
                .product(name: "FHIR", package: "Ferry"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/FHIRBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "HL7Benchmarks",
            dependencies: [
                "BenchmarkCorpus",
                .product(name: "HL7v2", package: "Ferry"),
                .product(name: "Mapping", package: "Ferry"),
                .product(name: "FHIR", package: "Ferry"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/HL7Benchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "migrate-load",
            dependencies: [
                "BenchmarkSupport",
                "BenchmarkCorpus",
                .product(name: "FHIR", package: "Ferry"),
                .product(name: "HL7v2", package: "Ferry"),
                .product(name: "Mapping", package: "Ferry"),
                .product(name: "Migration", package: "Ferry"),
                .product(name: "Store", package: "Ferry"),
            ],
            path: "Sources/migrate-load"
        ),
        .executableTarget(
            name: "legacy-load",
            dependencies: [
                "BenchmarkSupport",
                .product(name: "FHIR", package: "Ferry"),
                .product(name: "Legacy", package: "Ferry"),
                .product(name: "Mapping", package: "Ferry"),
            ],
            path: "Sources/legacy-load"
        ),
        .executableTarget(
            name: "search-index",
            dependencies: [
                "BenchmarkSupport",
                .product(name: "FHIR", package: "Ferry"),
                .product(name: "Legacy", package: "Ferry"),
                .product(name: "Mapping", package: "Ferry"),
            ],
            path: "Sources/search-index"
        ),
        .executableTarget(
            name: "rows-load",
            dependencies: [
                "BenchmarkSupport",
                .product(name: "FHIR", package: "Ferry"),
                .product(name: "Legacy", package: "Ferry"),
                .product(name: "Mapping", package: "Ferry"),
                .product(name: "Migration", package: "Ferry"),
                .product(name: "Store", package: "Ferry"),
            ],
            path: "Sources/rows-load"
        ),
        .executableTarget(
            name: "reconcile-load",
            dependencies: [
                "BenchmarkSupport",
                .product(name: "FHIR", package: "Ferry"),
                .product(name: "Legacy", package: "Ferry"),
                .product(name: "Reconciliation", package: "Ferry"),
                .product(name: "Store", package: "Ferry"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            path: "Sources/reconcile-load"
        ),
        .executableTarget(
            name: "link-load",
            dependencies: [
                "BenchmarkSupport",
                .product(name: "Legacy", package: "Ferry"),
                .product(name: "Reconciliation", package: "Ferry"),
            ],
            path: "Sources/link-load"
        ),
        .executableTarget(
            name: "hl7-convert",
            dependencies: [
                "BenchmarkCorpus",
                .product(name: "FHIR", package: "Ferry"),
                .product(name: "HL7v2", package: "Ferry"),
                .product(name: "Mapping", package: "Ferry"),
            ],
            path: "Sources/hl7-convert"
        ),
        .executableTarget(
            name: "fhir-validate",
            dependencies: [
                "BenchmarkCorpus",
                .product(name: "FHIR", package: "Ferry"),
            ],
            path: "Sources/fhir-validate"
        ),
        .executableTarget(
            name: "mllp-load",
            dependencies: [
                "BenchmarkCorpus",
                .product(name: "HL7v2", package: "Ferry"),
                .product(name: "Interop", package: "Ferry"),
            ],
            path: "Sources/mllp-load"
        ),
    ]
)
