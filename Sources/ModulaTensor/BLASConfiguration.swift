import CBLAS
import CKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// How OpenBLAS is set up in this process. The choices are made before `main`, by a constructor in the
// CKernels target (blas_setup.c, denormals.c): Swift code only reports them.

/// Which OpenBLAS kernels this process uses and why, its thread setting, and whether denormals are flushed.
///
/// A DYNAMIC_ARCH OpenBLAS chooses its kernels ("core") from the CPU's model number, and on a CPU newer
/// than the library falls back to generic ones several times slower. Before `main` runs, every program
/// that links ModulaTensor compares that choice with the CPU's vector instructions and, when a faster core
/// fits (SkylakeX for AVX-512 F/BW/DQ/VL, Haswell or Zen for AVX2 with FMA), re-executes itself once with
/// `OPENBLAS_CORETYPE` set, checks the new core's `sgemm` and `dgemm` against a plain loop, and returns
/// to OpenBLAS's own choice if they disagree.
///
/// - `OPENBLAS_CORETYPE` set in the environment is never overridden.
/// - `MODULA_BLAS_CORE=keep` keeps OpenBLAS's own choice; `MODULA_BLAS_CORE=<core>` (`Haswell`, `Zen`,
///   `SkylakeX`, …) asks for a core, checked the same way.
/// - `MODULA_DENORMALS=keep` turns off flushing of denormals (see ``flushesDenormals``).
///
/// ```swift
/// print(blasConfiguration)
/// // OpenBLAS core SkylakeX (OpenBLAS chose Prescott; this CPU has AVX-512), 2 threads, denormals flushed
/// ```
public struct BLASConfiguration: Sendable, CustomStringConvertible {
    /// The OpenBLAS core in use (`openblas_get_corename()`), such as `"SkylakeX"` or `"Haswell"`.
    public let core: String
    /// Why this core is in use, in a few words.
    public let reason: String
    /// OpenBLAS's build and core (`openblas_get_config()`).
    public let openBLASConfig: String
    /// The number of threads for tensor work (``tensorThreads()``).
    public let threads: Int
    /// Whether threads that compute flush denormals: flush-to-zero and denormals-are-zero in MXCSR.
    ///
    /// On by default in the caller's thread, the tensor layer's worker threads and OpenBLAS's. Results and
    /// operands below the smallest normal number (2⁻¹²⁶ ≈ 1.2·10⁻³⁸ for Float, 2⁻¹⁰²² for Double) are
    /// then 0, which x86 cores handle at full speed, where denormal operands can cost a microcode assist
    /// of about a hundred cycles each: small gradients and weights otherwise slow training down as it
    /// proceeds. `MODULA_DENORMALS=keep` in the environment keeps gradual underflow (IEEE 754 default);
    /// threads created by other code keep the flags of the thread that created them.
    public let flushesDenormals: Bool

    /// One line: the core and why, the thread count, and whether denormals are flushed.
    public var description: String {
        "OpenBLAS core \(core) (\(reason)), \(threads) thread\(threads == 1 ? "" : "s"), denormals "
            + (flushesDenormals ? "flushed" : "kept")
    }
}

/// How OpenBLAS is set up in this process (see ``BLASConfiguration``).
public var blasConfiguration: BLASConfiguration {
    let own = String(cString: modula_blas_own_choice()), rejected = String(cString: modula_blas_rejected_core())
    let core = String(cString: openblas_get_corename()), reason: String
    switch modula_blas_action_taken() {
    case MODULA_BLAS_OPT_OUT: reason = "OpenBLAS's own choice: MODULA_BLAS_CORE=keep"
    case MODULA_BLAS_USER_SET: reason = "OPENBLAS_CORETYPE set in the environment"
    case MODULA_BLAS_SUITABLE: reason = "OpenBLAS's own choice, which uses this CPU's widest vectors"
    case MODULA_BLAS_SWITCHED:
        let asked = getenv("MODULA_BLAS_CORE").map { String(cString: $0) }
        reason = asked?.lowercased() == core.lowercased()
            ? "MODULA_BLAS_CORE=\(asked!); OpenBLAS chose \(own)"
            : "OpenBLAS chose \(own); this CPU supports a faster core"
    case MODULA_BLAS_REJECTED: reason = "OpenBLAS's own choice: \(rejected) failed the numerical check"
    default: reason = "OpenBLAS's own choice, not checked"
    }
    return BLASConfiguration(
        core: core, reason: reason,
        openBLASConfig: String(cString: openblas_get_config()), threads: tensorThreads(),
        flushesDenormals: modula_denormals_policy() != 0)
}
