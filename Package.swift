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
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.0.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.0"),
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
        .executableTarget(
            name: "ferry",
            dependencies: [
                "FHIR",
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
            name: "FHIRTests",
            dependencies: ["FHIR"],
            exclude: ["Regressions"],
            swiftSettings: swiftSettings
        ),
    ]
)
