// swift-tools-version:6.2
// The examples, `modula-examples`, as a package of their own: a user who depends on swift-modula's libraries does
// not fetch swift-argument-parser. Build from the repository root with `swift build --package-path Examples`.
import PackageDescription

let package = Package(
    name: "modula-examples",
    products: [
        .executable(name: "modula-examples", targets: ["modula-examples"]),
    ],
    dependencies: [
        .package(name: "swift-modula", path: ".."),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .target(
            name: "ModulaExamples",
            dependencies: [
                .product(name: "Modula", package: "swift-modula"),
                .product(name: "ModulaData", package: "swift-modula"),
                .product(name: "ModulaMPI", package: "swift-modula"),
            ],
            path: "ModulaExamples"
        ),
        .executableTarget(
            name: "modula-examples",
            dependencies: [
                "ModulaExamples",
                .product(name: "Modula", package: "swift-modula"),
                .product(name: "ModulaData", package: "swift-modula"),
                .product(name: "ModulaMPI", package: "swift-modula"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "modula-examples"
        ),
        .testTarget(
            name: "ExamplesTests",
            dependencies: [
                "ModulaExamples",
                .product(name: "Modula", package: "swift-modula"),
                .product(name: "ModulaData", package: "swift-modula"),
            ],
            path: "Tests/ExamplesTests"
        ),
    ]
)
