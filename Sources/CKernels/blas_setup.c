// Which OpenBLAS kernels this process uses.
//
// A DYNAMIC_ARCH OpenBLAS picks its kernels ("core") from the CPU's family and model number when it loads.
// On a CPU newer than the library it falls back to generic ones: Debian's 0.3.21 runs sgemm with its
// Prescott (SSE3) kernels on an Intel Xeon of family 6 model 207, at a fifth of the speed of its SkylakeX
// kernels there. The core can only be chosen through OPENBLAS_CORETYPE, which OpenBLAS reads once, in its
// own constructor. So a constructor here (it runs after those of the libraries the program links) compares
// the core in use with what CPUID offers and, when the CPU supports a faster one, re-executes the process
// (/proc/self/exe with its own argv from /proc/self/cmdline) with OPENBLAS_CORETYPE set. Nothing has run
// yet but library constructors, so nothing is lost, and every program that links the library gets it: the
// examples, the benchmarks, the tests, a user's own program.
//
// The alternative, loading OpenBLAS lazily with dlopen after setting the variable, was not taken: the CBLAS
// module would have to stop linking OpenBLAS and every BLAS and LAPACK call (ours, the benchmarks', a
// user's) would go through resolved function pointers; a program that also loads OpenBLAS some other way
// would still get the first copy's core, silently. Re-executing costs one exec (a few milliseconds) and only
// on CPUs that need it.
//
// A core set in the environment is never overridden (some machines set one because others miscompute
// there); MODULA_BLAS_CORE=keep leaves OpenBLAS's own choice, MODULA_BLAS_CORE=<core> asks for one. A core
// chosen here is checked numerically after the re-exec; if it disagrees with a plain loop, the process
// re-executes once more with OpenBLAS's own choice.
#include "modula_runtime.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#if defined(__linux__)
#include <fcntl.h>
#include <unistd.h>
#endif

// OpenBLAS's entry points, weak so that a program linked with another BLAS still loads (then nothing is done).
extern char *openblas_get_corename(void) __attribute__((weak));
extern void cblas_sgemm(int order, int ta, int tb, int m, int n, int k, float alpha, const float *a, int lda,
                        const float *b, int ldb, float beta, float *c, int ldc) __attribute__((weak));
extern void cblas_dgemm(int order, int ta, int tb, int m, int n, int k, double alpha, const double *a, int lda,
                        const double *b, int ldb, double beta, double *c, int ldc) __attribute__((weak));

// MARK: - The decision

/// The vector level of an OpenBLAS 0.3.21 x86-64 core: 2 for the AVX-512 ones, 1 for AVX2+FMA, 0 otherwise.
static int core_level(const char *core) {
    static const char *const avx512[] = {"SkylakeX", "Cooperlake", "SapphireRapids"};
    static const char *const avx2[] = {"Haswell", "Zen"};
    for (size_t i = 0; i < sizeof avx512 / sizeof *avx512; i++)
        if (strcasecmp(core, avx512[i]) == 0) return 2;
    for (size_t i = 0; i < sizeof avx2 / sizeof *avx2; i++)
        if (strcasecmp(core, avx2[i]) == 0) return 1;
    return 0;
}

/// The x86-64 cores of a DYNAMIC_ARCH OpenBLAS 0.3.21 (what MODULA_BLAS_CORE may name).
static int known_core(const char *core) {
    static const char *const cores[] = {
        "Prescott", "Core2", "Penryn", "Dunnington", "Nehalem", "Atom", "Sandybridge", "Haswell", "SkylakeX",
        "Cooperlake", "Opteron", "Opteron_SSE3", "Barcelona", "Bobcat", "Bulldozer", "Piledriver",
        "Steamroller", "Excavator", "Zen",
    };
    for (size_t i = 0; i < sizeof cores / sizeof *cores; i++)
        if (strcasecmp(core, cores[i]) == 0) return 1;
    return 0;
}

/// The core after the '>' of a MODULA_BLAS_SWITCHED value "<OpenBLAS's choice>><chosen core>".
static const char *switched_target(const char *switched) {
    const char *gt = switched ? strchr(switched, '>') : NULL;
    return gt ? gt + 1 : NULL;
}

modula_blas_decision modula_blas_decide(int cpu_level, int amd, const char *current, const char *env_coretype,
                                        const char *option, const char *switched, const char *rejected) {
    modula_blas_decision d = {MODULA_BLAS_SUITABLE, NULL};
    if (current == NULL) { d.action = MODULA_BLAS_NOT_APPLICABLE; return d; }
    if (option && strcmp(option, "keep") == 0) { d.action = MODULA_BLAS_OPT_OUT; return d; }
    if (env_coretype && *env_coretype) {
        const char *ours = switched_target(switched);
        d.action = ours && strcasecmp(ours, env_coretype) == 0 ? MODULA_BLAS_SWITCHED : MODULA_BLAS_USER_SET;
        return d;
    }
    if (rejected && *rejected) { d.action = MODULA_BLAS_REJECTED; return d; }
    if (option && known_core(option)) {
        if (strcasecmp(option, current) != 0) { d.action = MODULA_BLAS_FORCE; d.core = option; }
        return d;
    }
    if (core_level(current) >= cpu_level) return d;
    d.action = MODULA_BLAS_SWITCH;
    d.core = cpu_level == 2 ? "SkylakeX" : amd ? "Zen" : "Haswell";
    return d;
}

int modula_cpu_level(void) {
#if defined(__x86_64__) && defined(__clang__)
    // These also check that the OS saves the AVX/AVX-512 registers (XGETBV), as OpenBLAS's own detection does.
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"))
        return 2;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return 1;
#endif
    return 0;
}

// MARK: - The numerical check

/// Deterministic values in [−1, 1).
static double next_value(uint64_t *state) {
    *state = *state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(*state >> 11) * 0x1p-52 - 1.0;
}

/// Row-major C = op(A)·op(B) (m×n, inner k) by OpenBLAS in Float and Double, against a plain loop in
/// long double. Any summation order of a length-k dot product is within γ_k·Σ|aᵢbᵢ| of the exact value,
/// γ_k = k·u/(1 − k·u) with u = 2⁻²⁴ (Float) or 2⁻⁵³ (Double) (Higham, Accuracy and Stability of Numerical
/// Algorithms, §3.1); the reference's own error (u = 2⁻⁶⁴) is added. A wrong kernel misses by far more.
static int check_shape(int m, int n, int k, int ta, int tb, uint64_t seed) {
    size_t na = (size_t)m * k, nb = (size_t)k * n, nc = (size_t)m * n;
    double *a = malloc(na * sizeof *a), *b = malloc(nb * sizeof *b), *c = malloc(nc * sizeof *c);
    float *af = malloc(na * sizeof *af), *bf = malloc(nb * sizeof *bf), *cf = malloc(nc * sizeof *cf);
    int ok = a && b && c && af && bf && cf;
    if (ok) {
        for (size_t i = 0; i < na; i++) af[i] = (float)(a[i] = (float)next_value(&seed));
        for (size_t i = 0; i < nb; i++) bf[i] = (float)(b[i] = (float)next_value(&seed));
        int lda = ta ? m : k, ldb = tb ? k : n;
        const int rowMajor = 101, noTrans = 111, trans = 112;
        cblas_sgemm(rowMajor, ta ? trans : noTrans, tb ? trans : noTrans, m, n, k, 1, af, lda, bf, ldb, 0, cf, n);
        cblas_dgemm(rowMajor, ta ? trans : noTrans, tb ? trans : noTrans, m, n, k, 1, a, lda, b, ldb, 0, c, n);
        const long double gf = k * 0x1p-24L / (1 - k * 0x1p-24L), gd = k * 0x1p-53L / (1 - k * 0x1p-53L);
        const long double gr = k * 0x1p-64L / (1 - k * 0x1p-64L);
        for (int i = 0; i < m && ok; i++)
            for (int j = 0; j < n && ok; j++) {
                long double sum = 0, magnitude = 0;
                for (int p = 0; p < k; p++) {
                    long double x = ta ? a[(size_t)p * lda + i] : a[(size_t)i * lda + p];
                    long double y = tb ? b[(size_t)j * ldb + p] : b[(size_t)p * ldb + j];
                    sum += x * y;
                    magnitude += fabsl(x * y);
                }
                long double ef = fabsl((long double)cf[(size_t)i * n + j] - sum);
                long double ed = fabsl((long double)c[(size_t)i * n + j] - sum);
                ok = ef <= (gf + gr) * magnitude && ed <= (gd + gr) * magnitude;
            }
    }
    free(a); free(b); free(c); free(af); free(bf); free(cf);
    return ok;
}

int modula_blas_check(void) {
    if (!cblas_sgemm || !cblas_dgemm) return 0;
    static const int shapes[][5] = {
        {1, 1, 1, 0, 0}, {7, 5, 3, 0, 0}, {33, 17, 65, 1, 0}, {64, 64, 64, 0, 1}, {100, 37, 129, 1, 1},
        {128, 96, 160, 0, 0},
    };
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++)
        if (!check_shape(shapes[s][0], shapes[s][1], shapes[s][2], shapes[s][3], shapes[s][4], 17 + s)) return 0;
    return 1;
}

// MARK: - Re-executing

static modula_blas_action taken = MODULA_BLAS_NOT_APPLICABLE;
static char own_choice[64], rejected_core[64];

modula_blas_action modula_blas_action_taken(void) { return taken; }
const char *modula_blas_own_choice(void) { return own_choice; }
const char *modula_blas_rejected_core(void) { return rejected_core; }

#if defined(__linux__)
/// Replaces the process by a fresh copy of itself with the same arguments (returns only on failure).
static void reexecute(void) {
    int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    size_t capacity = 1 << 16, length = 0;
    char *text = malloc(capacity + 1);
    ssize_t got;
    while (text && (got = read(fd, text + length, capacity - length)) > 0) {
        length += (size_t)got;
        if (length == capacity) text = realloc(text, (capacity *= 2) + 1);
    }
    close(fd);
    if (!text || length == 0) { free(text); return; }
    text[length] = 0;
    size_t count = 0;
    for (size_t i = 0; i < length; i++) count += text[i] == 0;
    char **argv = calloc(count + 1, sizeof *argv);
    if (!argv) { free(text); return; }
    size_t arg = 0;
    for (size_t i = 0; i < length && arg < count; i += strlen(text + i) + 1) argv[arg++] = text + i;
    execv("/proc/self/exe", argv);
    fprintf(stderr, "swift-modula: re-executing with OPENBLAS_CORETYPE=%s failed (%s); keeping OpenBLAS's %s\n",
            getenv("OPENBLAS_CORETYPE"), strerror(errno), own_choice);
    free(argv);
    free(text);
}
#endif

/// Called first by the start-up constructor: may replace the process (see the top of the file).
void modula_blas_setup(void) {
#if defined(__linux__) && defined(__x86_64__)
    const char *current = openblas_get_corename ? openblas_get_corename() : NULL;
    const char *option = getenv("MODULA_BLAS_CORE"), *switched = getenv("MODULA_BLAS_SWITCHED");
    const char *rejected = getenv("MODULA_BLAS_REJECTED");
    if (option && *option && strcmp(option, "keep") != 0 && strcmp(option, "auto") != 0 && !known_core(option)) {
        fprintf(stderr, "swift-modula: MODULA_BLAS_CORE=%s is not understood (expected auto, keep or an OpenBLAS "
                        "0.3.21 x86-64 core such as Haswell, Zen or SkylakeX); choosing automatically\n", option);
        option = NULL;
    }
    modula_blas_decision d = modula_blas_decide(modula_cpu_level(), __builtin_cpu_is("amd"), current,
                                                getenv("OPENBLAS_CORETYPE"), option, switched, rejected);
    taken = d.action;
    if (current) snprintf(own_choice, sizeof own_choice, "%s", current);
    if (rejected) snprintf(rejected_core, sizeof rejected_core, "%s", rejected);
    switch (d.action) {
    case MODULA_BLAS_SWITCH:
    case MODULA_BLAS_FORCE: {
        char marker[160];
        snprintf(marker, sizeof marker, "%s>%s", current, d.core);
        setenv("MODULA_BLAS_SWITCHED", marker, 1);
        setenv("OPENBLAS_CORETYPE", d.core, 1);
        reexecute();
        unsetenv("OPENBLAS_CORETYPE");  // still here: the exec failed
        unsetenv("MODULA_BLAS_SWITCHED");
        taken = MODULA_BLAS_NOT_APPLICABLE;
        break;
    }
    case MODULA_BLAS_SWITCHED: {
        size_t own = strcspn(switched, ">");
        snprintf(own_choice, sizeof own_choice, "%.*s", (int)own, switched);
        if (modula_blas_check()) break;
        fprintf(stderr, "swift-modula: OpenBLAS's %s kernels disagree with a plain loop; re-running with "
                        "OpenBLAS's own choice, %s\n", current, own_choice);
        setenv("MODULA_BLAS_REJECTED", current, 1);
        unsetenv("OPENBLAS_CORETYPE");
        unsetenv("MODULA_BLAS_SWITCHED");
        reexecute();
        break;  // the exec failed: stay with the core in use
    }
    default:
        break;
    }
#endif
}
