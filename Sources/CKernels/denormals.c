// Flushing of denormal numbers: flush-to-zero (results below 2⁻¹²⁶ become 0) and denormals-are-zero
// (such operands read as 0), the MXCSR bits FTZ (15) and DAZ (6).
//
// Denormal operands take a microcode assist on many x86 cores, up to ~100 cycles per operation instead
// of a few: a training run whose small gradients and weights drift into that range slows down step by
// step (hello-GPT on one thread: 110 ms per step early, 310–380 ms after step 700). XLA flushes by
// default for the same reason. MXCSR is per thread and inherited by threads created afterwards.
#include "modula_runtime.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__)
#include <xmmintrin.h>
#endif

enum { FTZ_DAZ = 0x8040 };

static int policy = -1;  // written once by the start-up constructor, before any other thread exists

static int read_policy(void) {
    const char *v = getenv("MODULA_DENORMALS");
    if (v == NULL || *v == 0 || strcmp(v, "flush") == 0) return 1;
    if (strcmp(v, "keep") == 0) return 0;
    fprintf(stderr, "swift-modula: MODULA_DENORMALS=%s is not understood (expected flush or keep); flushing\n", v);
    return 1;
}

int modula_denormals_policy(void) {
    if (policy < 0) policy = read_policy();
    return policy;
}

void modula_set_denormal_flushing(int on) {
#if defined(__x86_64__)
    unsigned m = _mm_getcsr();
    _mm_setcsr(on ? (m | FTZ_DAZ) : (m & ~(unsigned)FTZ_DAZ));
#else
    (void)on;
#endif
}

void modula_apply_denormal_policy(void) {
    if (modula_denormals_policy()) modula_set_denormal_flushing(1);
}

unsigned modula_mxcsr(void) {
#if defined(__x86_64__)
    return _mm_getcsr();
#else
    return 0;
#endif
}
