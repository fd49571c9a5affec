// The start-up choice of OpenBLAS core (the decision table, the numerical check) and flushing of
// denormals in the threads that compute.
import CBLAS
import CKernels
import Foundation
import Synchronization
import Testing
@testable import ModulaTensor

/// `modula_blas_decide` with Swift strings (nil for an unset variable).
private func decide(
    level: Int32, amd: Bool = false, current: String?, env: String? = nil, option: String? = nil,
    switched: String? = nil, rejected: String? = nil
) -> (modula_blas_action, String?) {
    func c(_ s: String?, _ body: (UnsafePointer<CChar>?) -> modula_blas_decision) -> modula_blas_decision {
        guard let s else { return body(nil) }
        return s.withCString(body)
    }
    let d = c(current) { cur in c(env) { e in c(option) { o in c(switched) { s in c(rejected) { r in
        modula_blas_decide(level, amd ? 1 : 0, cur, e, o, s, r)
    } } } } }
    return (d.action, d.core.map { String(cString: $0) })
}

@Suite("OpenBLAS set-up")
struct BLASConfigurationTests {
    @Test("the core decision: CPU features, OpenBLAS's choice and the environment")
    func decisionTable() {
        let cases: [(String, (modula_blas_action, String?), (modula_blas_action, String?))] = [
            // Intel Xeon family 6 model 207: 0.3.21 falls back to Prescott.
            ("generic core, AVX-512", decide(level: 2, current: "Prescott"), (MODULA_BLAS_SWITCH, "SkylakeX")),
            ("generic core, AVX-512, AMD", decide(level: 2, amd: true, current: "Prescott"), (MODULA_BLAS_SWITCH, "SkylakeX")),
            ("generic core, AVX2, Intel", decide(level: 1, current: "Sandybridge"), (MODULA_BLAS_SWITCH, "Haswell")),
            ("generic core, AVX2, AMD", decide(level: 1, amd: true, current: "Prescott"), (MODULA_BLAS_SWITCH, "Zen")),
            ("AVX2 core on AVX-512", decide(level: 2, current: "Haswell"), (MODULA_BLAS_SWITCH, "SkylakeX")),
            // This machine's Zen 5 with OPENBLAS_CORETYPE unset: 0.3.21 picks Cooperlake.
            ("Cooperlake on AVX-512", decide(level: 2, amd: true, current: "Cooperlake"), (MODULA_BLAS_SUITABLE, nil)),
            ("Zen on AVX2", decide(level: 1, amd: true, current: "Zen"), (MODULA_BLAS_SUITABLE, nil)),
            ("no AVX2", decide(level: 0, current: "Prescott"), (MODULA_BLAS_SUITABLE, nil)),
            ("set by the user", decide(level: 2, current: "Haswell", env: "Haswell"), (MODULA_BLAS_USER_SET, nil)),
            ("set by the user, even generic", decide(level: 2, current: "Prescott", env: "Prescott"), (MODULA_BLAS_USER_SET, nil)),
            ("opt-out", decide(level: 2, current: "Prescott", option: "keep"), (MODULA_BLAS_OPT_OUT, nil)),
            ("after the re-exec", decide(level: 2, current: "SkylakeX", env: "SkylakeX", switched: "Prescott>SkylakeX"),
             (MODULA_BLAS_SWITCHED, nil)),
            ("marker inherited, core set by the user", decide(level: 2, current: "Haswell", env: "Haswell",
                                                              switched: "Prescott>SkylakeX"), (MODULA_BLAS_USER_SET, nil)),
            ("chosen core failed its check", decide(level: 2, current: "Prescott", rejected: "SkylakeX"),
             (MODULA_BLAS_REJECTED, nil)),
            ("core asked for", decide(level: 2, amd: true, current: "Cooperlake", option: "Zen"), (MODULA_BLAS_FORCE, "Zen")),
            ("core asked for is in use", decide(level: 2, current: "Cooperlake", option: "cooperlake"), (MODULA_BLAS_SUITABLE, nil)),
            ("core asked for, but the user set one", decide(level: 2, current: "Haswell", env: "Haswell", option: "Zen"),
             (MODULA_BLAS_USER_SET, nil)),
            ("no OpenBLAS", decide(level: 2, current: nil), (MODULA_BLAS_NOT_APPLICABLE, nil)),
        ]
        for (name, got, expected) in cases {
            #expect(got.0 == expected.0 && got.1 == expected.1, "\(name): got \(got), expected \(expected)")
        }
    }

    @Test("the cores in use pass the numerical check, and the configuration names one")
    func checkAndConfiguration() {
        #expect(modula_blas_check() == 1)
        let configuration = blasConfiguration
        #expect(!configuration.core.isEmpty)
        #expect(configuration.openBLASConfig.contains(configuration.core))
        #expect(configuration.description.contains(configuration.core))
    }

    @Test("the calling thread and a pool thread flush denormals")
    func flushingThreads() {
        guard modula_denormals_policy() == 1 else { return }  // MODULA_DENORMALS=keep in the environment
        let ftzDaz: UInt32 = 0x8040
        #expect(modula_mxcsr() & ftzDaz == ftzDaz)
        #expect(blasConfiguration.flushesDenormals)
        guard tensorThreads() > 1 else { return }  // no pool threads
        // Iteration 0 runs on the calling thread and waits for iteration 1, which a pool thread must then run.
        let caller = pthread_self()
        var seen: [(pthread_t, UInt32)] = [(caller, 0), (caller, 0)]
        let done = Atomic<Bool>(false)
        seen.withUnsafeMutableBufferPointer { seen in
            parallelForEach(2) { i in
                seen[i] = (pthread_self(), modula_mxcsr())
                if i == 1 { done.store(true, ordering: .releasing) }
                let deadline = Date().addingTimeInterval(30)
                while i == 0 && !done.load(ordering: .acquiring) && Date() < deadline { usleep(100) }
            }
        }
        #expect(pthread_equal(seen[1].0, caller) == 0, "iteration 1 ran on the calling thread")
        #expect(seen[0].1 & ftzDaz == ftzDaz && seen[1].1 & ftzDaz == ftzDaz)
    }

    @Test("denormal operands and results are 0 in OpenBLAS's threads too")
    func denormalProducts() {
        guard modula_denormals_policy() == 1 else { return }
        // A denormal operand (2⁻¹⁴⁹) times 2¹⁰⁰ is 2⁻⁴⁹ without DAZ; 2⁻⁷⁰·2⁻⁷⁰ = 2⁻¹⁴⁰ is denormal without FTZ.
        // Sized so that OpenBLAS splits the product between its threads (it is called directly here).
        let m = 512, n = 512, k = 32
        for (x, y) in [(Float(bitPattern: 1), Float(0x1p100)), (Float(0x1p-70), Float(0x1p-70))] {
            let a = [Float](repeating: x, count: m * k), b = [Float](repeating: y, count: k * n)
            var c = [Float](repeating: 1, count: m * n)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k), 1, a, Int32(k),
                        b, Int32(n), 0, &c, Int32(n))
            #expect(c.allSatisfy { $0 == 0 }, "\(x)·\(y): \(c.filter { $0 != 0 }.count) nonzero of \(m * n)")
        }
        let product = Tensor<Float>(shape: [1, 1], scalars: [0x1p-70]).matmul(Tensor(shape: [1, 1], scalars: [0x1p-70]))
        #expect(product.scalars == [0])
    }
}
