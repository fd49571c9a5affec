#ifndef MODULA_BENCH_KERNELS_H
#define MODULA_BENCH_KERNELS_H

/// Instruction sets of the peak-FLOP loops: 2 AVX-512F (16 lanes, FMA), 1 AVX2+FMA (8 lanes), 0 SSE (4 lanes,
/// separate multiply and add).
enum { MODULA_PEAK_SSE = 0, MODULA_PEAK_AVX2 = 1, MODULA_PEAK_AVX512 = 2 };

/// Whether this CPU runs the loop of `isa`.
int modula_peak_supported(int isa);

/// Runs `iterations` rounds of the FP32 multiply-add loop of `isa` and returns the FLOPs it performed (a
/// multiply-add counts 2). Each round advances 12 or 16 independent dependency chains by one multiply-add per
/// lane, enough to keep every FMA unit busy at its latency. `iterations` 1 runs one round: its FLOPs per round.
double modula_peak_flops(int isa, long iterations);

/// A value depending on every chain of the last call on this thread, so the loop cannot be elided.
float modula_peak_sink(void);

#endif
