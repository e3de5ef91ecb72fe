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

/* dst[c * ldd + r] = src[r * lds + c] for r < rows, c < cols: packing an
 * operand whose k runs along its rows transposes it. */
typedef void (*cnn_cpu_gemm_transpose_fn)(const float *src, int64_t lds,
                                          int64_t rows, int64_t cols,
                                          float *dst, int64_t ldd);

typedef struct cnn_cpu_gemm_kernel {
    const char *name; /* "avx512", "avx2", "generic" */
    int mr, nr;       /* register tile */
    int mc, kc, nc;   /* cache blocks: A block mc x kc, B panel kc x nc */
    cnn_cpu_gemm_kernel_fn run;
    cnn_cpu_gemm_transpose_fn transpose;
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

/* ---- operands that the caller's code packs (our GEMM only) ----
 *
 * A convolution's unfolded input need never exist as a matrix: its packer
 * reads the image straight into the slivers the micro-kernel wants, and
 * its output can be written straight into NCHW. */

/* Packs rows [r0, r0 + rows) of an operand, over k in [k0, k0 + kc), into
 * slivers `width` rows tall: dst[s * kc * width + p * width + i] holds row
 * r0 + s * width + i at k0 + p; rows past the last are zero. A's rows are
 * op(A)'s rows; B's rows are op(B)'s columns. `tmp` is kc * width floats
 * of the calling thread's scratch. */
typedef void (*cnn_cpu_pack_fn)(const void *ctx,
                                const cnn_cpu_gemm_kernel *kernel,
                                int64_t r0, int64_t rows, int64_t k0,
                                int64_t kc, int width, float *dst,
                                float *tmp);

/* An A operand may instead come packed in advance, for all of k at once
 * (cnn_cpu_gemm_prepack): the GEMM then reads its slivers in place, which
 * spares re-packing A for every block of C's columns. */
typedef struct cnn_cpu_operand {
    cnn_cpu_pack_fn pack;
    const void *ctx;
    const float *packed; /* A only: slivers [m / mr][k][mr], or NULL */
} cnn_cpu_operand;

/* A plain matrix as an operand (`role` 'a' or 'b'), scaled by alpha. The
 * struct must outlive the GEMM call. */
typedef struct cnn_cpu_matrix_operand {
    cnn_cpu_matrix m;
    bool k_contiguous; /* rows of the operand run along k in memory */
    float alpha;
} cnn_cpu_matrix_operand;
cnn_cpu_operand cnn_cpu_operand_matrix(cnn_cpu_matrix_operand *storage,
                                       cnn_cpu_matrix m, char role,
                                       float alpha);

/* Where C lives: element (i, j) at
 * data[(j / seg) * seg_stride + i * ld + j % seg], or data[i * ld + j]
 * when seg is 0 (so C's columns may run across the images of a batch).
 * bias, when not NULL, is added to row i wherever C is overwritten. */
typedef struct cnn_cpu_gemm_out {
    float *data;
    int64_t ld, seg, seg_stride;
    const float *bias;
} cnn_cpu_gemm_out;

/* Floats of A (m x k) packed in advance for `kernel`, and the packing
 * (on the calling thread) of its slivers [s0, s1) into dst. */
size_t cnn_cpu_gemm_prepacked_floats(const cnn_cpu_gemm_kernel *kernel,
                                     int64_t m, int64_t k);
void cnn_cpu_gemm_prepack(const cnn_cpu_gemm_kernel *kernel,
                          cnn_cpu_operand a, int64_t m, int64_t k,
                          int64_t s0, int64_t s1, float *dst, float *tmp);

/* C[i0, i1) x [j0, j1) = op(A) op(B) (+ C when accumulate), summed over
 * k, on the calling thread. */
void cnn_cpu_gemm_own_block(const cnn_cpu_gemm_kernel *kernel, int64_t i0,
                            int64_t i1, int64_t j0, int64_t j1, int64_t k,
                            cnn_cpu_operand a, cnn_cpu_operand b,
                            bool accumulate, cnn_cpu_gemm_out c,
                            float *scratch);

/* The same over all of the m x n C, split over the threads of `device`
 * (C's rows and columns, never k); outside parallel regions. scratch holds
 * cnn_cpu_gemm_scratch_bytes(device). */
void cnn_cpu_gemm_own_parallel(int device, int64_t m, int64_t n, int64_t k,
                               cnn_cpu_operand a, cnn_cpu_operand b,
                               bool accumulate, cnn_cpu_gemm_out c,
                               void *scratch);

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
