/* src/cpu/gemm.h - single-precision matrix multiply for the CPU ops.
 *
 * Two implementations sit behind one call: our own blocked, packed GEMM
 * (gemm_own.c, always built) and OpenBLAS through CBLAS (gemm_blas.c, when
 * the build linked it). The environment variable CNN_GEMM picks one at run
 * time: "own" or "blas"; unset, we use OpenBLAS unless our kernel is wider
 * than the one OpenBLAS chose for this CPU (gemm.c says why).
 *
 * Determinism: a GEMM splits C's rows and columns over threads, never the
 * reduction over k, and each element of C is summed in the same order
 * whatever the split; so results depend on neither timing nor the number of
 * threads (for one implementation and one kernel).
 *
 * All matrices are row-major. op(A) is m x k: A[i * lda + p], or
 * A[p * lda + i] when trans. op(B) is k x n likewise.
 */
#ifndef CNN_CPU_GEMM_H
#define CNN_CPU_GEMM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* An operand: data, leading dimension, and whether it is transposed. */
typedef struct cnn_cpu_matrix {
    const float *data;
    int64_t ld;
    bool trans;
} cnn_cpu_matrix;

/* Which implementation runs the GEMMs of this process. */
typedef enum cnn_cpu_gemm_impl {
    CNN_CPU_GEMM_OWN = 0,
    CNN_CPU_GEMM_BLAS
} cnn_cpu_gemm_impl;

cnn_cpu_gemm_impl cnn_cpu_gemm_active(void);

/* Bytes of scratch a GEMM on `device` needs (for all of its threads);
 * callers carve it out of the device's workspace and hand it to
 * cnn_cpu_sgemm. 64-byte aligned scratch is assumed. */
size_t cnn_cpu_gemm_scratch_bytes(int device);
/* The same for one thread (cnn_cpu_sgemm_serial). */
size_t cnn_cpu_gemm_thread_scratch_bytes(void);

/* C[m x n] = alpha op(A) op(B) + beta C, on the threads of `device`. Call
 * it outside cnn_cpu_parallel_for bodies. beta == 0 never reads C (NaN in
 * C does not propagate). k == 0 scales C by beta. */
void cnn_cpu_sgemm(int device, int64_t m, int64_t n, int64_t k, float alpha,
                   cnn_cpu_matrix a, cnn_cpu_matrix b, float beta, float *c,
                   int64_t ldc, void *scratch);

/* The same on the calling thread only: safe inside cnn_cpu_parallel_for
 * bodies (a pthreads OpenBLAS is never called from there). scratch holds
 * cnn_cpu_gemm_thread_scratch_bytes(). */
void cnn_cpu_sgemm_serial(int64_t m, int64_t n, int64_t k, float alpha,
                          cnn_cpu_matrix a, cnn_cpu_matrix b, float beta,
                          float *c, int64_t ldc, void *scratch);

/* ---- our own GEMM (gemm_own.c, gemm_kernels.c) ---- */

/* A register-tiled micro-kernel: C[mr x nr] (+)= A_packed B_packed over kc,
 * with A packed as kc columns of mr values and B as kc rows of nr values.
 * accumulate false overwrites C without reading it. */
typedef void (*cnn_cpu_gemm_kernel_fn)(int64_t kc, const float *a,
                                       const float *b, float *c, int64_t ldc,
                                       bool accumulate);

typedef struct cnn_cpu_gemm_kernel {
    const char *name; /* "avx512", "avx2", "generic" */
    int mr, nr;       /* register tile */
    int mc, kc, nc;   /* cache blocks: A block mc x kc, B panel kc x nc */
    cnn_cpu_gemm_kernel_fn run;
} cnn_cpu_gemm_kernel;

/* The widest kernel this CPU runs, or the one CNN_GEMM_KERNEL names
 * ("avx512", "avx2", "generic") when the CPU runs it. */
const cnn_cpu_gemm_kernel *cnn_cpu_gemm_kernel_best(void);
/* The named kernel, or NULL when unknown or not runnable here. */
const cnn_cpu_gemm_kernel *cnn_cpu_gemm_kernel_find(const char *name);
/* Floats of per-thread scratch that every kernel's blocking fits in. */
size_t cnn_cpu_gemm_own_scratch_floats(void);

/* Our GEMM with a given kernel, on the calling thread. */
void cnn_cpu_gemm_own(const cnn_cpu_gemm_kernel *kernel, int64_t m, int64_t n,
                      int64_t k, float alpha, cnn_cpu_matrix a,
                      cnn_cpu_matrix b, float beta, float *c, int64_t ldc,
                      float *scratch);

/* ---- OpenBLAS (gemm_blas.c) ---- */

/* Whether OpenBLAS is linked, and whether it may be called from inside our
 * parallel regions (not a pthreads build). */
bool cnn_cpu_gemm_blas_available(void);
bool cnn_cpu_gemm_blas_nestable(void);
/* Whether OpenBLAS chose an AVX-512 kernel for this CPU. */
bool cnn_cpu_gemm_blas_avx512(void);
/* cblas_sgemm on `threads` threads (1 inside our parallel regions). */
void cnn_cpu_gemm_blas(int threads, int64_t m, int64_t n, int64_t k,
                       float alpha, cnn_cpu_matrix a, cnn_cpu_matrix b,
                       float beta, float *c, int64_t ldc);

#endif /* CNN_CPU_GEMM_H */
