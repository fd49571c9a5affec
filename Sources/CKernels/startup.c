// The one constructor of the library: it runs before main (after the constructors of the shared libraries
// the program links, OpenBLAS's among them) in every program that links ModulaTensor.
#include "modula_runtime.h"

void modula_blas_setup(void);

#if defined(__linux__)
// OpenBLAS's entry point that stops its worker threads; they are started again at the next threaded call
// (weak: a program linked with another BLAS still loads).
extern void blas_thread_shutdown_(void) __attribute__((weak));
#endif

__attribute__((constructor)) static void modula_startup(void) {
    modula_blas_setup();  // first: it may replace the process
    if (modula_denormals_policy()) {
        modula_set_denormal_flushing(1);
        // OpenBLAS started its workers when it loaded, before this thread flushed; threads keep the MXCSR
        // they were created with, so restart them: they are then created by a thread that flushes.
#if defined(__linux__)
        if (blas_thread_shutdown_) blas_thread_shutdown_();
#endif
    }
}
