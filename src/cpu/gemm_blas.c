/* src/cpu/gemm_blas.c - OpenBLAS through CBLAS, when the build linked it.
 *
 * Threading: the OpenMP build of OpenBLAS runs single-threaded when called
 * inside an OpenMP region and uses omp_get_max_threads() threads outside
 * one, so we set that to the device's share for the call. The pthreads
 * build (Debian's default) keeps its own thread pool, which must never be
 * entered from inside our parallel regions (each of our threads would
 * start a full set of its own): gemm.c asks cnn_cpu_gemm_blas_nestable()
 * and uses our GEMM there instead. */
#ifdef _OPENMP
#include <omp.h>
#endif

#include "gemm.h"

#ifdef CNN_HAVE_OPENBLAS
/* From cblas.h (the values are fixed by the CBLAS standard) and OpenBLAS's
 * own extensions; declared here so that no BLAS header is needed. */
enum { CNN_CBLAS_ROW_MAJOR = 101, CNN_CBLAS_NO_TRANS = 111,
       CNN_CBLAS_TRANS = 112 };
extern void cblas_sgemm(int order, int trans_a, int trans_b, int m, int n,
                        int k, float alpha, const float *a, int lda,
                        const float *b, int ldb, float beta, float *c,
                        int ldc);
extern int openblas_get_parallel(void);
extern char *openblas_get_corename(void);
#endif

bool cnn_cpu_gemm_blas_available(void)
{
#ifdef CNN_HAVE_OPENBLAS
    return true;
#else
    return false;
#endif
}

bool cnn_cpu_gemm_blas_nestable(void)
{
#ifdef CNN_HAVE_OPENBLAS
    return openblas_get_parallel() != 1; /* 1: pthreads */
#else
    return false;
#endif
}

#ifdef CNN_HAVE_OPENBLAS
static bool same_name(const char *a, const char *b)
{
    for (; *a && *b; ++a, ++b) {
        char x = *a >= 'A' && *a <= 'Z' ? (char)(*a - 'A' + 'a') : *a;
        char y = *b >= 'A' && *b <= 'Z' ? (char)(*b - 'A' + 'a') : *b;
        if (x != y)
            return false;
    }
    return *a == *b;
}
#endif

bool cnn_cpu_gemm_blas_avx512(void)
{
#ifdef CNN_HAVE_OPENBLAS
    /* The cores whose kernels use AVX-512 in OpenBLAS 0.3.x. */
    static const char *const wide[] = {"skylakex", "cooperlake",
                                       "sapphirerapids"};
    const char *core = openblas_get_corename();
    for (size_t i = 0; core && i < sizeof wide / sizeof wide[0]; ++i)
        if (same_name(core, wide[i]))
            return true;
#endif
    return false;
}

void cnn_cpu_gemm_blas(int threads, int64_t m, int64_t n, int64_t k,
                       float alpha, cnn_cpu_matrix a, cnn_cpu_matrix b,
                       float beta, float *c, int64_t ldc)
{
#ifdef CNN_HAVE_OPENBLAS
#ifdef _OPENMP
    int saved = omp_get_max_threads();
    if (!omp_in_parallel() && threads != saved)
        omp_set_num_threads(threads);
#else
    (void)threads;
#endif
    cblas_sgemm(CNN_CBLAS_ROW_MAJOR,
                a.trans ? CNN_CBLAS_TRANS : CNN_CBLAS_NO_TRANS,
                b.trans ? CNN_CBLAS_TRANS : CNN_CBLAS_NO_TRANS, (int)m, (int)n,
                (int)k, alpha, a.data, (int)a.ld, b.data, (int)b.ld, beta, c,
                (int)ldc);
#ifdef _OPENMP
    if (!omp_in_parallel() && threads != saved)
        omp_set_num_threads(saved);
#endif
#else
    (void)threads, (void)m, (void)n, (void)k, (void)alpha, (void)a, (void)b;
    (void)beta, (void)c, (void)ldc;
#endif
}
