// Process set-up that must happen before Swift code runs: which OpenBLAS kernels the process uses,
// and flushing of denormal numbers (see blas_setup.c and denormals.c).
#ifndef MODULA_RUNTIME_H
#define MODULA_RUNTIME_H

#ifdef __cplusplus
extern "C" {
#endif

/// What the start-up check decided about OpenBLAS's core (`modula_blas_decide`).
typedef enum {
    /// MODULA_BLAS_CORE=keep: OpenBLAS's own choice, unchecked.
    MODULA_BLAS_OPT_OUT = 0,
    /// OPENBLAS_CORETYPE was set by the user: never overridden.
    MODULA_BLAS_USER_SET = 1,
    /// OpenBLAS's own choice already uses the widest vector instructions this CPU has.
    MODULA_BLAS_SUITABLE = 2,
    /// Re-execute with a faster core that OpenBLAS did not choose (the decision's `core`).
    MODULA_BLAS_SWITCH = 3,
    /// Re-execute with the core named by MODULA_BLAS_CORE (the decision's `core`).
    MODULA_BLAS_FORCE = 4,
    /// This process was re-executed with a core chosen here (MODULA_BLAS_SWITCHED): check it numerically.
    MODULA_BLAS_SWITCHED = 5,
    /// A chosen core failed the numerical check (MODULA_BLAS_REJECTED): OpenBLAS's own choice.
    MODULA_BLAS_REJECTED = 6,
    /// Not an x86-64 Linux process with a DYNAMIC_ARCH OpenBLAS: nothing to choose.
    MODULA_BLAS_NOT_APPLICABLE = 7,
} modula_blas_action;

/// The start-up decision: an action and, for MODULA_BLAS_SWITCH and MODULA_BLAS_FORCE, the core to use.
typedef struct {
    modula_blas_action action;
    const char *core;
} modula_blas_decision;

/// Decides which OpenBLAS core to use (a pure function, table-tested).
///
/// `cpu_level` is 2 for AVX-512 F/BW/DQ/VL, 1 for AVX2 with FMA, 0 otherwise; `amd` is nonzero on AMD CPUs.
/// `current` is the core OpenBLAS chose; the strings are the environment's OPENBLAS_CORETYPE,
/// MODULA_BLAS_CORE, MODULA_BLAS_SWITCHED and MODULA_BLAS_REJECTED, NULL when unset.
modula_blas_decision modula_blas_decide(int cpu_level, int amd, const char *current, const char *env_coretype,
                                        const char *option, const char *switched, const char *rejected);

/// The CPU's vector level as `modula_blas_decide` takes it (0, 1 or 2).
int modula_cpu_level(void);
/// What the start-up check decided in this process.
modula_blas_action modula_blas_action_taken(void);
/// OpenBLAS's own choice of core in this process or the one it re-executed from ("" if unknown).
const char *modula_blas_own_choice(void);
/// The core that failed the numerical check ("" if none).
const char *modula_blas_rejected_core(void);
/// Checks sgemm and dgemm on a few shapes against a plain loop; 1 if every element is within the
/// rounding-error bound of its dot product, else 0.
int modula_blas_check(void);

/// 1 when this process flushes denormals (the default), 0 with MODULA_DENORMALS=keep.
int modula_denormals_policy(void);
/// Sets or clears flush-to-zero and denormals-are-zero in the calling thread's MXCSR.
void modula_set_denormal_flushing(int on);
/// Applies the process's policy to the calling thread (new worker threads call this first).
void modula_apply_denormal_policy(void);
/// The calling thread's MXCSR (0 where there is none).
unsigned modula_mxcsr(void);

/// A hint to the CPU that this thread is spinning (x86's PAUSE: it yields the core's resources to its sibling
/// hyperthread and saves power); nothing elsewhere.
static inline void modula_spin_pause(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

#ifdef __cplusplus
}
#endif

#endif
