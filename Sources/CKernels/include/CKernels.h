// Float kernels for ModulaTensor's transcendental maps, compiled once per instruction set
// (AVX-512, AVX2 with FMA, the baseline) and chosen at run time by what the CPU supports.
//
// Swift compiles for the baseline of its target (SSE2 on x86-64), where an exponential per element is
// arithmetic-bound at 4 lanes; these loops run 8 or 16 lanes wide on machines that have them. Branch-free
// Cephes polynomials (expf, tanhf), within 3 ulp (the tests check it); the copies differ only by the rounding of
// fused multiply–adds. `y` may equal `x` (in place); otherwise the ranges must not overlap.
#ifndef MODULA_CKERNELS_H
#define MODULA_CKERNELS_H

#include "modula_runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

/// y = eˣ (results below the smallest normal Float are 0, above FLT_MAX +inf, NaN stays NaN).
void modula_f32_exp(const float *x, float *y, long n);
/// y = tanh x.
void modula_f32_tanh(const float *x, float *y, long n);
/// y = 1 / (1 + e⁻ˣ).
void modula_f32_sigmoid(const float *x, float *y, long n);
/// y = x·σ(2z) = ½x(1 + tanh z) with z = √(2/π)(x + 0.044715x³): the tanh-approximated GELU.
void modula_f32_gelu(const float *x, float *y, long n);
/// y = d/dx of the tanh-approximated GELU.
void modula_f32_gelu_derivative(const float *x, float *y, long n);
/// y = scale·gelu(x) when g is NULL, else y = scale·gelu′(x)·g (the fused forward and pullback; the
/// logistic's exponential is clamped to |z| ≤ 80, where σ has already saturated).
void modula_f32_gelu_scaled(const float *x, float scale, const float *g, float *y, long n);
/// Softmax of each of `rows` contiguous rows of `length` elements; −∞ entries give exactly 0.
void modula_f32_softmax_rows(const float *x, float *y, long rows, long length);
/// The instruction set the kernels run with: "avx512", "avx2" or "baseline" — the widest this CPU supports, or
/// the narrower one named by the environment variable `MODULA_KERNELS` (a wider or unknown name stops the process
/// with a message on the first kernel call).
const char *modula_kernels_isa(void);

#ifdef __cplusplus
}
#endif

#endif
