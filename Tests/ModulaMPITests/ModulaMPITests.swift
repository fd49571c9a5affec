import Foundation
import Modula
import ModulaMPI
import Testing

// The parts of ModulaMPI that need no MPI; the collectives run under mpirun in Tests/MPIChecks (scripts/test-mpi).
@Suite struct ModulaMPITests {
    @Test func assignmentBalancesCost() {
        // Longest first, each to the least loaded rank: the loads differ by at most the largest cost.
        let costs: [Double] = [2, 8, 3, 5, 4]
        let a = DistributedDualizer.balancedAssignment(costs: costs, ranks: 2)
        #expect(a.count == costs.count)
        #expect(a[1] == 0)  // the largest goes first, to rank 0
        var load = [0.0, 0.0]
        for (c, r) in zip(costs, a) { load[r] += c }
        #expect(abs(load[0] - load[1]) <= costs.max()!)
        #expect(DistributedDualizer.balancedAssignment(costs: costs, ranks: 1) == [0, 0, 0, 0, 0])
    }

    @Test func costOfANewtonSchulzStep() {
        // 3k²L + k³ with k = 2, L = 6.
        #expect(DistributedDualizer.orthogonalizationCost(shape: [6, 2]) == 3 * 4 * 6 + 8)
        #expect(DistributedDualizer.orthogonalizationCost(shape: [2, 6]) == 3 * 4 * 6 + 8)
        #expect(DistributedDualizer.orthogonalizationCost(shape: [7]) == 7)
    }

    @Test func unitTargetsFollowTheModularSplit() {
        // Two Linear atoms of mass 1 in a chain of sensitivity 1: each gets target 1/2.
        let mlp = Sequential { Linear(in: 3, out: 4); ReLU(); Linear(in: 4, out: 2) }
        for t in DistributedDualizer.unitTargets(of: mlp) { #expect(abs(t - 0.5) <= 1e-12) }
    }

    @Test func unitTargetsOfAnAtomWithTwoWeights() throws {
        // Each atom's own map at its unit target (one target for both of LowRankLinear's weights) is the network's.
        let net = Sequential {
            Linear(in: 5, out: 8); ReLU()
            LowRankLinear(in: 8, out: 7, rank: 3, mass: 2); GELU()
            Linear(in: 7, out: 4, mass: 0.5)
        }
        let targets = DistributedDualizer.unitTargets(of: net)
        #expect(targets.count == 4 && targets[1] == targets[2])
        var rng = RandomGenerator(seed: 21)
        let g = net.weightShapes.map { Tensor<Double>.randomNormal($0, using: &rng) }
        let whole = try net.dualize(g, targetNorm: 1)
        for e in net.atomEntries {
            let own = e.atom.dualize(g[e.weights], targetNorm: targets[e.weights.lowerBound])
            for (i, d) in zip(e.weights, own) {
                let diff = (d - whole[i]).frobeniusNormValue / whole[i].frobeniusNormValue
                #expect(diff <= 1e-12, "\(net.weightNames[i]): relative difference \(diff)")
            }
        }
    }

    @Test func missingLibraryIsAClearError() async {
        await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            setenv("MODULA_MPI_LIBRARY", "/nonexistent/libmpi.so.40", 1)
            MPI.run { _ in }
        }.map { result in
            let text = String(decoding: result.standardErrorContent, as: UTF8.self)
            #expect(text.contains("Open MPI not found"))
            #expect(text.contains("apt-get install libopenmpi3 openmpi-bin"))
        }
    }
}
