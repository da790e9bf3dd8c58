// swift-tools-version: 6.1
import PackageDescription

/// One list of settings for every target (STYLE.md, "Package.swift").
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny")
]

let package = Package(
    name: "Ferry",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "ferry", targets: ["ferry"]),
        .library(name: "FHIR", targets: ["FHIR"]),
        .library(name: "HL7v2", targets: ["HL7v2"]),
        .library(name: "Interop", targets: ["Interop"]),
        .library(name: "Mapping", targets: ["Mapping"]),
        .library(name: "Legacy", targets: ["Legacy"]),
        .library(name: "Store", targets: ["Store"]),
        .library(name: "Migration", targets: ["Migration"]),
        .library(name: "Reconciliation", targets: ["Reconciliation"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.0.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
    ],
    targets: [
        .target(
            name: "FHIR",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")],
            resources: [.copy("Definitions/Resources/fhir-r4-definitions.json")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "HL7v2",
            dependencies: [.product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Interop",
            dependencies: [
                "HL7v2",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Mapping",
            dependencies: [
                "FHIR", "HL7v2", .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Yams", package: "Yams"),
            ],
            resources: [.copy("Resources/v2-to-fhir-maps.json"), .copy("Resources/ferry-v2-maps.json")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Legacy",
            dependencies: [
                "FHIR",
                "HL7v2",
                "Mapping",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            resources: [.copy("Resources/openemr")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Store",
            dependencies: [
                "FHIR",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Migration",
            dependencies: ["FHIR", "HL7v2", "Legacy", "Mapping", "Store"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Reconciliation",
            dependencies: ["FHIR", "HL7v2", "Legacy", "Mapping", "Store", .product(name: "Yams", package: "Yams")],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "generate-v2-maps",
            dependencies: ["Mapping"],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "ferry",
            dependencies: [
                "FHIR",
                "HL7v2",
                "Interop",
                "Legacy",
                "Mapping",
                "Migration", "Reconciliation",
                "Store",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "generate-definitions",
            dependencies: ["FHIR"],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "generate-hl7-structures",
            dependencies: ["HL7v2"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "HL7v2Tests",
            dependencies: [
                "HL7v2",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "InteropTests",
            dependencies: [
                "Interop",
                "HL7v2",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(name: "TestPostgres", path: "Tests/TestPostgres", swiftSettings: swiftSettings),
        .testTarget(
            name: "LegacyTests",
            dependencies: ["Legacy", "Mapping", "FHIR", "TestPostgres", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "MappingTests",
            dependencies: ["Mapping", "FHIR", "HL7v2", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "MigrationTests",
            dependencies: ["Migration", "Store", "Legacy", "Mapping", "FHIR", "HL7v2"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ReconciliationTests",
            dependencies: ["Reconciliation", "Migration", "Store", "Legacy", "Mapping", "FHIR", "TestPostgres"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "StoreTests",
            dependencies: [
                "Store", "FHIR", "Migration", "Mapping", "TestPostgres", .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "FHIRTests",
            dependencies: ["FHIR"],
            exclude: ["Regressions"],
            swiftSettings: swiftSettings
        ),
    ]
)
