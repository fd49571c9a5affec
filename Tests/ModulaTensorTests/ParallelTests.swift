// The fork–join pool and the BLAS calls it splits. With more than one thread configured (the default
// on a multi-core machine) the products below are large enough to be split in two; on one thread
// they run whole, and the same expectations hold.
import Synchronization
import Testing
@testable import ModulaTensor

@Suite("Parallel work")
struct ParallelTests {
    @Test("parallelForEach runs every iteration once, also nested three deep")
    func forEachNested() {
        let hits = Atomic<Int>(0)
        let cells = UnsafeMutablePointer<Int>.allocate(capacity: 7 * 5 * 3)
        cells.initialize(repeating: 0, count: 7 * 5 * 3)
        defer { cells.deallocate() }
        parallelForEach(7) { i in
            parallelForEach(5) { j in
                parallelForEach(3) { k in
                    cells[(i * 5 + j) * 3 + k] += 1
                    hits.add(1, ordering: .relaxed)
                }
            }
        }
        #expect(hits.load(ordering: .relaxed) == 105)
        #expect((0..<105).allSatisfy { cells[$0] == 1 })
        parallelForEach(0) { _ in Issue.record("no iteration expected") }
    }

    @Test("inChunks covers 0..<n exactly once for every n, also for fewer elements than a vector")
    func chunksCoverEverything() {
        for n in 0..<70 {
            var seen = [Int](repeating: 0, count: n)
            seen.withUnsafeMutableBufferPointer { cells in
                inChunks(n, 1) { start, count in
                    #expect(count >= 0 && start >= 0 && start + count <= n, "n \(n): chunk \(start), \(count)")
                    if count > 0 { for i in start..<Swift.min(start + count, n) { cells[i] += 1 } }
                }
            }
            #expect(seen.allSatisfy { $0 == 1 }, "n \(n): \(seen)")
        }
    }

    @Test("parallelMap keeps the order of its results")
    func mapOrder() {
        #expect(parallelMap(100) { $0 * $0 } == (0..<100).map { $0 * $0 })
        #expect(parallelMap(0) { $0 }.isEmpty)
        let nested = parallelMap(4) { i in parallelMap(3) { j in 10 * i + j } }
        #expect(nested == [[0, 1, 2], [10, 11, 12], [20, 21, 22], [30, 31, 32]])
    }

    @Test("large products, split along rows or columns, equal the naive product",
          arguments: [(false, false), (false, true), (true, false), (true, true)])
    func splitProducts(_ t: (Bool, Bool)) {
        // 168×152×96 ≈ 2.45M multiply–adds (split along rows); 120×200×96 (split along columns).
        for (m, n, k) in [(168, 152, 96), (120, 200, 96)] {
            let a = randn(t.0 ? [k, m] : [m, k], seed: UInt64(m), as: Float.self)
            let b = randn(t.1 ? [n, k] : [k, n], seed: UInt64(n), as: Float.self)
            expectClose(a.matmul(b, transposeA: t.0, transposeB: t.1),
                        naiveMatmul(a, b, transposeA: t.0, transposeB: t.1), tolerance: 1e-4)
        }
    }

    @Test("a batch of many small products is split between threads and equals the naive product")
    func splitBatch() {
        let a = randn([48, 64, 32], seed: 1, as: Float.self), b = randn([48, 64, 32], seed: 2, as: Float.self)
        expectClose(a.matmul(b, transposeB: true), naiveMatmul(a, b, transposeA: false, transposeB: true), tolerance: 1e-4)
    }

    @Test("SYRK split into four blocks and SYMM split into two equal the general products")
    func splitSymmetric() {
        for transpose in [false, true] {
            // Gram 240×240 (k 200) or 200×200 (k 240): both split; C₁₂'s columns in parts of 64 and 56, or 48 and 48.
            let x = randn([240, 200], seed: 3, as: Float.self)
            let full = transpose ? x.matmul(x, transposeA: true) : x.matmul(x, transposeB: true)
            expectClose(x.gram(transpose: transpose), full, tolerance: 1e-4)
        }
        let s = randn([160, 160], seed: 4, as: Float.self).gram()  // symmetric
        let x = randn([160, 150], seed: 5, as: Float.self)
        let c = Tensor<Float>(uninitializedShape: [160, 150])
        s.withUnsafeBufferPointer { sp in
            x.withUnsafeBufferPointer { xp in
                Float.symm(m: 160, n: 150, alpha: 1, a: sp.baseAddress!, lda: 160, b: xp.baseAddress!, ldb: 150,
                           beta: 0, c: c.storage.pointer, ldc: 150)
            }
        }
        expectClose(c, s.matmul(x), tolerance: 1e-4)
    }

    @Test("an SVD gives the same bits while other threads run parallel work")
    func svdIsDeterministic() async throws {
        let g = randn([96, 64], seed: 6, as: Double.self)
        let first = try g.svd()
        final class Flag: Sendable { let value = Atomic<Bool>(true) }
        let busy = Flag()
        // Keep the pool (and OpenBLAS's thread setting) busy from another thread meanwhile.
        let other = Task.detached {
            while busy.value.load(ordering: .relaxed) {
                parallelForEach(4) { _ in _ = randn([128, 128], seed: 7, as: Float.self).matmul(randn([128, 128], seed: 8, as: Float.self)) }
            }
        }
        for _ in 0..<5 {
            let again = try g.svd()
            #expect(again.s.scalars == first.s.scalars && again.u.scalars == first.u.scalars)
        }
        busy.value.store(false, ordering: .relaxed)
        await other.value
    }
}
