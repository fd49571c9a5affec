// swift-tools-version:6.2
// Swift 6.2: the tests use Swift Testing's exit tests. Linux only for now: the tensor layer imports Glibc and links
// OpenBLAS + LAPACK through pkg-config (Debian: libopenblas-dev, liblapack-dev), so no Apple platform is declared.
import PackageDescription

let package = Package(
    name: "swift-modula",
    products: [
        .library(name: "ModulaTensor", targets: ["ModulaTensor"]),
        .library(name: "Modula", targets: ["Modula"]),
        .library(name: "ModulaData", targets: ["ModulaData"]),
        // Open MPI is loaded at run time (dlopen): building needs no MPI.
        .library(name: "ModulaMPI", targets: ["ModulaMPI"]),
        .executable(name: "modula-bench", targets: ["modula-bench"]),
    ],
    // No dependencies: the examples (which use swift-argument-parser) are a package of their own in Examples/.
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
        // ModulaData holds the training loop (`fit`), which drives Modula's optimizers and checkpoints.
        .target(name: "ModulaData", dependencies: ["Modula", "ModulaTensor", "CZlib"]),
        .target(name: "ModulaMPI", dependencies: ["Modula", "ModulaTensor"]),
        // The benchmarks' own C: the FP32 peak loops per instruction set.
        .target(name: "CBenchKernels", path: "Benchmarks/CBenchKernels"),
        .executableTarget(
            name: "modula-bench",
            dependencies: ["Modula", "ModulaTensor", "ModulaMPI", "CBLAS", "CKernels", "CBenchKernels"],
            path: "Benchmarks/modula-bench"
        ),
        .testTarget(name: "ModulaTensorTests", dependencies: ["ModulaTensor"]),
        .testTarget(name: "ModulaTests", dependencies: ["Modula", "ModulaTensor"]),
        .testTarget(name: "ModulaDataTests", dependencies: ["ModulaData", "Modula"]),
        .testTarget(name: "ModulaMPITests", dependencies: ["ModulaMPI", "Modula"]),
        // Checks run under mpirun by scripts/test-mpi (Swift Testing does not run under mpirun).
        .executableTarget(name: "modula-mpi-checks", dependencies: ["ModulaMPI", "Modula", "ModulaTensor"], path: "Tests/MPIChecks"),
    ]
)
