// Checks of ModulaMPI run under mpirun (scripts/test-mpi):
// - `modula-mpi-checks` runs the collectives, data-parallel, dualize and optimizer checks and ends with
//   `N passed, N failed` on rank 0;
// - `modula-mpi-checks fail-rank` makes rank 1 fail while rank 0 waits in a collective;
// - `modula-mpi-checks checkpoint save|resume FILE` trains with a checkpoint, or resumes from one written with
//   any number of ranks, and compares with an uninterrupted single-process run.
import Foundation
import Modula
import ModulaMPI
import ModulaTensor

/// Counts and prints (on rank 0) the checks of one run.
final class Checks {
    let world: Communicator
    var passed = 0, failed = 0
    init(_ world: Communicator) { self.world = world }

    func check(_ name: String, _ ok: Bool, _ detail: String) {
        if ok { passed += 1 } else { failed += 1 }
        if world.isRoot { print("\(ok ? "pass" : "FAIL") \(name): \(detail)") }
    }

    /// The largest of every rank's `value` (for errors measured on each rank).
    func largest(_ value: Double) throws -> Double {
        var all = Tensor<Double>([value])
        try world.allreduce(&all, .max)
        return all.scalars[0]
    }

    func finish() throws {
        if world.isRoot { print("\(passed) passed, \(failed) failed") }
        if failed > 0 { throw MPIError.invalidArgument("modula-mpi-checks", "\(failed) checks failed") }
    }
}

/// The largest relative difference ‖a − b‖/‖b‖ over the tensors.
func relative<S: TensorScalar>(_ a: [Tensor<S>], _ b: [Tensor<S>]) -> Double {
    zip(a, b).map { x, y in Double((x - y).dotValue(x - y).squareRoot() / y.dotValue(y).squareRoot()) }.max() ?? 0
}

MPI.run { world in
    let arguments = Array(CommandLine.arguments.dropFirst())
    let checks = Checks(world)
    switch arguments.first {
    case "fail-rank":
        var x = Tensor<Float>.ones([4])
        if world.rank == 1 { throw MPIError.invalidArgument("fail-rank check", "rank 1 fails on purpose") }
        try world.allreduce(&x, .sum)  // rank 0 waits here for a rank that never comes
        return
    case "checkpoint":
        guard arguments.count == 3, ["save", "resume"].contains(arguments[1]) else {
            throw MPIError.invalidArgument("modula-mpi-checks", "usage: modula-mpi-checks checkpoint save|resume FILE")
        }
        try checkCheckpoint(checks, resume: arguments[1] == "resume", path: arguments[2])
    case nil:
        try checkCollectives(checks)
        try checkDataParallel(checks)
        try checkDistributedDualize(checks)
        try checkDistributedOptimizer(checks)
        try checkDistributedGPT(checks)
        try checkArticle(checks)
    case let other?:
        throw MPIError.invalidArgument("modula-mpi-checks", "unknown check '\(other)'; use fail-rank, checkpoint or nothing")
    }
    try checks.finish()
}
