// swift-tools-version: 6.1
// Fuzz targets for the parsers that take outside bytes. Build and run them with scripts/fuzz.
import PackageDescription

let package = Package(
    name: "FerryFuzz",
    platforms: [.macOS(.v15)],
    dependencies: [.package(name: "Ferry", path: "..")],
    targets: [
        .target(name: "FuzzSupport"),
        .executableTarget(name: "FuzzJSON", dependencies: ["FuzzSupport", .product(name: "FHIR", package: "Ferry")]),
        .executableTarget(name: "FuzzXML", dependencies: ["FuzzSupport", .product(name: "FHIR", package: "Ferry")]),
        .executableTarget(
            name: "FuzzFHIRPath", dependencies: ["FuzzSupport", .product(name: "FHIR", package: "Ferry")]),
        .executableTarget(
            name: "FuzzHL7v2", dependencies: ["FuzzSupport", .product(name: "HL7v2", package: "Ferry")]),
        .executableTarget(name: "FuzzCSV", dependencies: ["FuzzSupport", .product(name: "Mapping", package: "Ferry")]),
        .executableTarget(
            name: "FuzzV2ToFHIR",
            dependencies: [
                "FuzzSupport", .product(name: "FHIR", package: "Ferry"), .product(name: "HL7v2", package: "Ferry"),
                .product(name: "Mapping", package: "Ferry"),
            ]),
    ]
)
