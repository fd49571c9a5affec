// The machine's FP32 peak, measured: chains of dependent multiply-adds, enough of them in flight to cover the FMA
// latency on every port (2 ports × latency 4 needs 8; 12 or 16 cover 5- and 6-cycle parts), and few enough that
// the chains and the two constants stay in registers (16 vector registers below AVX-512, 32 with it).
#include "bench_kernels.h"
#include <immintrin.h>

static _Thread_local float sink;

float modula_peak_sink(void) { return sink; }

int modula_peak_supported(int isa) {
    __builtin_cpu_init();
    switch (isa) {
    case MODULA_PEAK_AVX512: return __builtin_cpu_supports("avx512f");
    case MODULA_PEAK_AVX2: return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    default: return 1;
    }
}

// x ← x·m + c stays bounded (m < 1) and never denormal, so no microcode assist slows the loop.
#define PEAK_LOOP(VEC, SET1, FMA, ADDALL, LANES, CHAINS)                                  \
    VEC x[CHAINS];                                                                       \
    for (int j = 0; j < CHAINS; j++) x[j] = SET1(1.0f + (float)j / 64);                  \
    const VEC m = SET1(0.9999f), c = SET1(1e-4f);                                        \
    for (long i = 0; i < iterations; i++) {                                              \
        for (int j = 0; j < CHAINS; j++) x[j] = FMA(x[j], m, c);                         \
    }                                                                                    \
    VEC s = x[0];                                                                        \
    for (int j = 1; j < CHAINS; j++) s = ADDALL(s, x[j]);                                \
    float lanes[LANES];                                                                  \
    _Static_assert(sizeof(lanes) == sizeof(VEC), "lane count");                          \
    __builtin_memcpy(lanes, &s, sizeof(lanes));                                          \
    float total = 0;                                                                     \
    for (int l = 0; l < LANES; l++) total += lanes[l];                                   \
    sink = total;                                                                        \
    return (double)iterations * CHAINS * LANES * 2;

__attribute__((target("avx512f"))) static double peak_avx512(long iterations) {
    PEAK_LOOP(__m512, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_add_ps, 16, 16)
}

__attribute__((target("avx2,fma"))) static double peak_avx2(long iterations) {
    PEAK_LOOP(__m256, _mm256_set1_ps, _mm256_fmadd_ps, _mm256_add_ps, 8, 12)
}

static inline __m128 mul_add_sse(__m128 x, __m128 m, __m128 c) { return _mm_add_ps(_mm_mul_ps(x, m), c); }

static double peak_sse(long iterations) {
    PEAK_LOOP(__m128, _mm_set1_ps, mul_add_sse, _mm_add_ps, 4, 12)
}

double modula_peak_flops(int isa, long iterations) {
    switch (isa) {
    case MODULA_PEAK_AVX512: return peak_avx512(iterations);
    case MODULA_PEAK_AVX2: return peak_avx2(iterations);
    default: return peak_sse(iterations);
    }
}
