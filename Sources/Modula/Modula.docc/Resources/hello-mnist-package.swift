// swift-tools-version:6.2
import PackageDescription

let package = Package(
    name: "HelloMNIST",
    dependencies: [.package(path: "../swift-modula")],
    targets: [
        .executableTarget(name: "HelloMNIST", dependencies: [
            .product(name: "Modula", package: "swift-modula"),
            .product(name: "ModulaData", package: "swift-modula"),
        ]),
    ]
)
