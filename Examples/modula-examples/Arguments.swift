// The options every example shares, and the helpers its commands use.
import ArgumentParser
import ModulaMPI
import Modula
import ModulaExamples

/// Options every example shares.
struct Common: ParsableArguments {
    @Flag(help: "Run the reduced form the test suite uses (seconds, not minutes).")
    var quick = false
    @Option(help: "Random seed.")
    var seed: UInt64 = 0
    @Option(help: "Folder for the SVG figures.")
    var figures = "figures"
    @Flag(help: "Write no figures.")
    var noFigures = false
    @Option(help: "Threads for tensor work, 1 to the number of cores (default: OpenBLAS's choice).")
    var threads: Int?
    @Option(help: ArgumentHelp("Write per-step metrics to this folder: metrics.jsonl and TensorBoard event files.", valueName: "dir"))
    var logDir: String?

    func validate() throws {
        if let threads { try checked { try validateThreads(threads) } }
    }

    func environment() -> ExampleEnvironment {
        if let threads { setTensorThreads(threads) }
        var env = ExampleEnvironment(figures: noFigures ? nil : figures)
        env.metricsDirectory = logDir
        return env
    }
}

/// Checkpoint options of the training examples.
struct CheckpointArguments: ParsableArguments {
    @Option(help: ArgumentHelp("Save the whole training state (safetensors) to this file at the end.", valueName: "file"))
    var checkpoint: String?
    @Option(help: ArgumentHelp("Also save every N steps (needs --checkpoint).", valueName: "n"))
    var checkpointEvery = 0
    @Option(help: ArgumentHelp("Continue from a checkpoint saved by the same example and options.", valueName: "file"))
    var resume: String?
    @Option(help: ArgumentHelp("Stop after step N (saving with --checkpoint), to --resume later.", valueName: "n"))
    var stopAfter: Int?

    /// Rejects impossible combinations before any data is loaded.
    func validate() throws {
        if checkpointEvery < 0 { throw ValidationError("--checkpoint-every must be 0 or positive, got \(checkpointEvery)") }
        if checkpointEvery > 0 && checkpoint == nil { throw ValidationError("--checkpoint-every needs --checkpoint FILE") }
        if let stopAfter, stopAfter < 1 { throw ValidationError("--stop-after must be at least 1, got \(stopAfter)") }
    }

    var options: CheckpointOptions {
        var o = CheckpointOptions()
        o.path = checkpoint; o.every = checkpointEvery; o.resume = resume; o.stopAfter = stopAfter
        return o
    }

    /// For the examples that train many networks: refuse the options instead of ignoring them.
    func rejectUnsupported(_ example: String) throws {
        if options.isSet { throw ValidationError("\(example) trains many networks; --checkpoint, --checkpoint-every, --resume and --stop-after are not supported") }
    }
}

func finish(_ result: ExampleResult) {
    print(result)
}

/// Runs `body` on the ranks of mpirun (`--distributed`) and prints rank 0's result; an error on any rank stops all.
func onRanks(_ example: String, _ common: Common, _ body: (Communicator, ExampleEnvironment) throws -> ExampleResult?) throws {
    let world = try MPI.initialize()
    do {
        let env = common.environment()  // on every rank: it also sets the threads for tensor work
        if let result = try body(world, env) { finish(result) }
        try MPI.finalize()
    } catch { world.abort("\(example): \(error)") }
}

let distributedHelp: ArgumentHelp = "Train data-parallel over the ranks of mpirun (Open MPI), dualizing atoms on different ranks."

/// Runs a library check, reporting its ``ExampleError`` as argument-parser's usage error.
func checked(_ body: () throws -> Void) throws {
    do { try body() } catch let error as ExampleError { throw ValidationError(error.description) }
}

/// "(default: D)" or "(default: D; with --quick: Q)".
func defaults<T: Equatable>(_ full: T, quick: T) -> String {
    full == quick ? "(default: \(full))" : "(default: \(full); with --quick: \(quick))"
}

let skipHelp: ArgumentHelp = "Skip (and count, as skipped_steps) steps whose loss, gradient or update holds NaN or infinity, instead of stopping."
