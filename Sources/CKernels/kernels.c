// Float transcendental kernels, one copy per instruction set, dispatched once per process.
// See include/CKernels.h. Polynomials: Cephes (S. L. Moshier), expf.c and tanhf.c. (Double keeps its
// Swift kernels over libm in TensorScalar.swift.)
#include "CKernels.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INLINE static inline __attribute__((always_inline))

INLINE float bits_to_float(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
INLINE int32_t float_to_bits(float f) { int32_t i; memcpy(&i, &f, 4); return i; }

// eˣ = 2ⁿ·eʳ, n = round(x / ln 2), Cody–Waite reduction, degree-5 polynomial for eʳ.
INLINE float poly_exp(float x, int32_t *n_out) {
    float shifted = x * 1.44269504f + 12582912.0f;  // 1.5·2²³: rounds to an integer in the low bits
    float n = shifted - 12582912.0f;
    float r = (x - n * 0.693359375f) + n * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    *n_out = float_to_bits(shifted) - 0x4B400000;
    return p * (r * r) + r + 1.0f;
}

// Full range: flushes below the smallest normal to 0, overflows to +inf past ln FLT_MAX.
INLINE float exp_full(float v) {
    float x = v < -88.0f ? -88.0f : v;  // NaN fails both tests and passes through
    x = x > 89.0f ? 89.0f : x;
    int32_t n;
    float er = poly_exp(x, &n);
    int32_t half = n >> 1;  // 2ⁿ as two factors: n = 128 stays representable
    float s1 = bits_to_float((uint32_t)(half + 127) << 23);
    float s2 = bits_to_float((uint32_t)(n - half + 127) << 23);
    float y = er * s1 * s2;
    return v < -87.33655f ? 0.0f : y;
}

// |x| ≤ 80 (clamped): one normal power of two, no range tests; for the logistic function.
INLINE float exp_bounded(float v) {
    float x = v < -80.0f ? -80.0f : v;
    x = x > 80.0f ? 80.0f : x;
    int32_t n;
    float er = poly_exp(x, &n);
    return er * bits_to_float((uint32_t)(n + 127) << 23);
}

INLINE float tanh_f(float v) {
    float a = v < 0 ? -v : v;
    float large = 1.0f - 2.0f / (exp_full(2.0f * a) + 1.0f);  // |x| ≥ 0.625: no cancellation
    float z = v * v;
    float p = -5.70498872745e-3f;
    p = p * z + 2.06390887954e-2f;
    p = p * z - 5.37397155531e-2f;
    p = p * z + 1.33314422036e-1f;
    p = p * z - 3.33332819422e-1f;
    float small = p * z * v + v;
    return a < 0.625f ? small : (v < 0 ? -large : large);
}

#define GELU_C0 0.7978845608028654f  // √(2/π)
#define GELU_C1 0.044715f

INLINE float sigmoid_f(float v) { return 1.0f / (1.0f + exp_full(-v)); }
INLINE float gelu_f(float v) { return v / (1.0f + exp_full(-2.0f * GELU_C0 * (v + GELU_C1 * v * v * v))); }
INLINE float gelu_derivative_f(float v) {
    float s = 1.0f / (1.0f + exp_full(-2.0f * GELU_C0 * (v + GELU_C1 * v * v * v)));
    return s + 2.0f * v * s * (1.0f - s) * GELU_C0 * (1.0f + 3.0f * GELU_C1 * v * v);
}
INLINE float gelu_bounded(float v) {
    return v / (1.0f + exp_bounded(-2.0f * GELU_C0 * (v + GELU_C1 * v * v * v)));
}
INLINE float gelu_derivative_bounded(float v) {
    float s = 1.0f / (1.0f + exp_bounded(-2.0f * GELU_C0 * (v + GELU_C1 * v * v * v)));
    return s + 2.0f * v * s * (1.0f - s) * GELU_C0 * (1.0f + 3.0f * GELU_C1 * v * v);
}

// Reductions in 16 independent lanes (vectorizable without reassociating a single running value).
INLINE float row_max(const float *p, long n) {
    float acc[16];
    for (int j = 0; j < 16; j++) acc[j] = -__builtin_inff();
    long i = 0;
    for (; i + 16 <= n; i += 16)
        for (int j = 0; j < 16; j++) acc[j] = p[i + j] > acc[j] ? p[i + j] : acc[j];
    float m = -__builtin_inff();
    for (int j = 0; j < 16; j++) m = acc[j] > m ? acc[j] : m;
    for (; i < n; i++) m = p[i] > m ? p[i] : m;
    return m;
}
INLINE float row_sum(const float *p, long n) {
    float acc[16] = {0};
    long i = 0;
    for (; i + 16 <= n; i += 16)
        for (int j = 0; j < 16; j++) acc[j] += p[i + j];
    float s = 0;
    for (int j = 0; j < 16; j++) s += acc[j];
    for (; i < n; i++) s += p[i];
    return s;
}

// One body, three instruction sets. `y == x` gets its own single-pointer loop: the vectorizer's
// overlap check would otherwise send an in-place call down the scalar path.
#define MAP(NAME, F, SUFFIX)                                                                             \
    static void map_##NAME##_##SUFFIX(const float *x, float *y, long n) {                                \
        if (x == y) { for (long i = 0; i < n; i++) y[i] = F(y[i]); return; }                            \
        for (long i = 0; i < n; i++) y[i] = F(x[i]);                                                     \
    }

#define KERNELS(SUFFIX)                                                                                  \
    MAP(exp, exp_full, SUFFIX)                                                                           \
    MAP(tanh, tanh_f, SUFFIX)                                                                            \
    MAP(sigmoid, sigmoid_f, SUFFIX)                                                                      \
    MAP(gelu, gelu_f, SUFFIX)                                                                            \
    MAP(gelu_derivative, gelu_derivative_f, SUFFIX)                                                      \
    static void gelu_scaled_##SUFFIX(const float *x, float scale, const float *g, float *y, long n) {    \
        if (!g) {                                                                                        \
            if (x == y) { for (long i = 0; i < n; i++) y[i] = scale * gelu_bounded(y[i]); return; }      \
            for (long i = 0; i < n; i++) y[i] = scale * gelu_bounded(x[i]);                              \
        } else if (y == g) {                                                                             \
            for (long i = 0; i < n; i++) y[i] = scale * gelu_derivative_bounded(x[i]) * y[i];            \
        } else if (y == x) {                                                                             \
            for (long i = 0; i < n; i++) y[i] = scale * gelu_derivative_bounded(y[i]) * g[i];            \
        } else {                                                                                         \
            for (long i = 0; i < n; i++) y[i] = scale * gelu_derivative_bounded(x[i]) * g[i];            \
        }                                                                                                \
    }                                                                                                    \
    static void softmax_rows_##SUFFIX(const float *x, float *y, long rows, long length) {                \
        for (long r = 0; r < rows; r++) {                                                                \
            const float *xr = x + r * length;                                                            \
            float *yr = y + r * length;                                                                  \
            float m = row_max(xr, length);                                                               \
            if (m == -__builtin_inff()) m = 0; /* all masked: e^(−∞) = 0 everywhere, then 0·∞ = NaN */    \
            if (xr == yr) { for (long i = 0; i < length; i++) yr[i] = exp_full(yr[i] - m); }             \
            else { for (long i = 0; i < length; i++) yr[i] = exp_full(xr[i] - m); }                      \
            float inverse = 1.0f / row_sum(yr, length);                                                  \
            for (long i = 0; i < length; i++) yr[i] *= inverse;                                          \
        }                                                                                                \
    }

#if defined(__x86_64__) && defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx512f,avx512dq,avx2,fma"))), apply_to = function)
KERNELS(avx512)
#pragma clang attribute pop
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
KERNELS(avx2)
#pragma clang attribute pop
#endif
KERNELS(base)

typedef enum { ISA_BASE = 0, ISA_AVX2 = 1, ISA_AVX512 = 2 } isa_t;

static isa_t detect(void) {
#if defined(__x86_64__) && defined(__clang__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq")) return ISA_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return ISA_AVX2;
#endif
    return ISA_BASE;
}

// MODULA_KERNELS=avx512|avx2|baseline forces a narrower instruction set than the CPU's best, so that the tests can
// run every kernel path on one machine. A wider set than the CPU has, or a name not in that list, stops the process
// with a message: running AVX-512 code on an AVX2-only CPU would die of an illegal instruction instead.
static isa_t choose(void) {
    isa_t best = detect();
    const char *forced = getenv("MODULA_KERNELS");
    if (forced == NULL || forced[0] == 0) return best;
    isa_t want;
    if (strcmp(forced, "avx512") == 0) want = ISA_AVX512;
    else if (strcmp(forced, "avx2") == 0) want = ISA_AVX2;
    else if (strcmp(forced, "baseline") == 0) want = ISA_BASE;
    else {
        fprintf(stderr, "MODULA_KERNELS=%s: expected avx512, avx2 or baseline\n", forced);
        exit(2);
    }
    if (want > best) {
        fprintf(stderr, "MODULA_KERNELS=%s: this CPU supports at most %s\n", forced,
                best == ISA_AVX512 ? "avx512" : best == ISA_AVX2 ? "avx2" : "baseline");
        exit(2);
    }
    return want;
}

static isa_t isa(void) {
    static int cached = -1;  // a benign race: every thread computes the same value
    int c = __atomic_load_n(&cached, __ATOMIC_RELAXED);
    if (c < 0) {
        c = (int)choose();
        __atomic_store_n(&cached, c, __ATOMIC_RELAXED);
    }
    return (isa_t)c;
}

#if defined(__x86_64__) && defined(__clang__)
#define DISPATCH(NAME, ...)                                       \
    switch (isa()) {                                              \
    case ISA_AVX512: NAME##_avx512(__VA_ARGS__); return;          \
    case ISA_AVX2: NAME##_avx2(__VA_ARGS__); return;              \
    default: NAME##_base(__VA_ARGS__); return;                    \
    }
#else
#define DISPATCH(NAME, ...) NAME##_base(__VA_ARGS__)
#endif

void modula_f32_exp(const float *x, float *y, long n) { DISPATCH(map_exp, x, y, n); }
void modula_f32_tanh(const float *x, float *y, long n) { DISPATCH(map_tanh, x, y, n); }
void modula_f32_sigmoid(const float *x, float *y, long n) { DISPATCH(map_sigmoid, x, y, n); }
void modula_f32_gelu(const float *x, float *y, long n) { DISPATCH(map_gelu, x, y, n); }
void modula_f32_gelu_derivative(const float *x, float *y, long n) { DISPATCH(map_gelu_derivative, x, y, n); }
void modula_f32_gelu_scaled(const float *x, float scale, const float *g, float *y, long n) {
    DISPATCH(gelu_scaled, x, scale, g, y, n);
}
void modula_f32_softmax_rows(const float *x, float *y, long rows, long length) {
    DISPATCH(softmax_rows, x, y, rows, length);
}

const char *modula_kernels_isa(void) {
    switch (isa()) {
    case ISA_AVX512: return "avx512";
    case ISA_AVX2: return "avx2";
    default: return "baseline";
    }
}
