// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "swift-modula",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "ModulaTensor", targets: ["ModulaTensor"]),
        .library(name: "Modula", targets: ["Modula"]),
        .library(name: "ModulaData", targets: ["ModulaData"]),
        // Open MPI is loaded at run time (dlopen): building needs no MPI.
        .library(name: "ModulaMPI", targets: ["ModulaMPI"]),
        .executable(name: "modula-examples", targets: ["modula-examples"]),
        .executable(name: "modula-bench", targets: ["modula-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.4.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev", "liblapack-dev"])]
        ),
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        // Float transcendental kernels, compiled per instruction set and dispatched at run time.
        .target(name: "CKernels"),
        .target(name: "ModulaTensor", dependencies: ["CBLAS", "CKernels"]),
        .target(name: "Modula", dependencies: ["ModulaTensor"]),
        .target(name: "ModulaData", dependencies: ["ModulaTensor", "CZlib"]),
        .target(name: "ModulaMPI", dependencies: ["Modula", "ModulaTensor"]),
        .target(name: "ModulaExamples", dependencies: ["Modula", "ModulaData", "ModulaMPI"], path: "Examples/ModulaExamples"),
        .executableTarget(
            name: "modula-examples",
            dependencies: [
                "ModulaExamples", "Modula", "ModulaData", "ModulaMPI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Examples/modula-examples"
        ),
        .executableTarget(
            name: "modula-bench",
            dependencies: ["Modula", "ModulaTensor", "CBLAS", "CKernels"],
            path: "Benchmarks/modula-bench"
        ),
        .testTarget(name: "ModulaTensorTests", dependencies: ["ModulaTensor"]),
        .testTarget(name: "ModulaTests", dependencies: ["Modula", "ModulaTensor"]),
        .testTarget(name: "ExamplesTests", dependencies: ["ModulaExamples"]),
        .testTarget(name: "ModulaDataTests", dependencies: ["ModulaData"]),
        .testTarget(name: "ModulaMPITests", dependencies: ["ModulaMPI", "Modula"]),
        // Checks run under mpirun by scripts/test-mpi (Swift Testing does not run under mpirun).
        .executableTarget(name: "modula-mpi-checks", dependencies: ["ModulaMPI", "Modula", "ModulaTensor"], path: "Tests/MPIChecks"),
    ]
)
