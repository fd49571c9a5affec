// modula-examples: the classic examples of training under the modular norm, one subcommand each (Arguments.swift,
// TrainingCommands.swift, StudyCommands.swift).
import ArgumentParser
import Modula

struct ModulaExamplesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "modula-examples",
        abstract: "The classic examples of training under the modular norm.",
        discussion: "Each run ends with one machine-readable line: result <example> key=value …",
        version: "swift-modula (unreleased); \(blasConfiguration)",
        subcommands: [HelloWorldCommand.self, HelloMNISTCommand.self, HelloGPTCommand.self, WeightErasureCommand.self, LRTransferCommand.self, CoordCheckCommand.self,
                      FashionCNNCommand.self])
}

ModulaExamplesCommand.main()
