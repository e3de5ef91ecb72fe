/* src/cpu/blas.c - which BLAS the CPU backend linked, and how it threads.
 * Debian installs OpenBLAS in pthread, OpenMP and serial builds and keeps
 * the pthread one as the default, so the build links the OpenMP one by path
 * and we report at run time which one the loader actually gave us: a
 * pthread OpenBLAS called from inside our OpenMP regions oversubscribes. */
#include <stdio.h>

#include "cpu.h"

#ifdef CNN_HAVE_OPENBLAS
/* From OpenBLAS's cblas.h; declared here so that no BLAS header is needed
 * to compile this file. */
extern char *openblas_get_config(void);
extern int openblas_get_parallel(void);
extern int openblas_get_num_threads(void);
#endif

void cnn_cpu_blas_describe(char *buf, size_t size)
{
#ifdef CNN_HAVE_OPENBLAS
    static const char *const modes[] = {"sequential", "pthreads", "OpenMP"};
    int parallel = openblas_get_parallel();
    snprintf(buf, size, "%s; threading: %s, %d thread%s",
             openblas_get_config(),
             parallel >= 0 && parallel <= 2 ? modes[parallel] : "unknown",
             openblas_get_num_threads(),
             openblas_get_num_threads() == 1 ? "" : "s");
#else
    snprintf(buf, size, "none (built with CNN_BLAS=none)");
#endif
}
