/* src/cpu/gemm.c - which GEMM runs (CNN_GEMM), and how one GEMM is split
 * over the threads of a CPU device.
 *
 * The default: OpenBLAS when it is linked, except when our kernel uses
 * AVX-512 and OpenBLAS runs a narrower one on this CPU (its own choice on
 * cores it does not know, or OPENBLAS_CORETYPE's, as on the development
 * machine, where it runs the Haswell kernel): our AVX-512 GEMM is then
 * about twice as fast. Where both use AVX-512, OpenBLAS's square GEMM is
 * some 8% ahead of ours, while our convolutions, which pack their operands
 * straight from the tensors, are about as fast on either.
 * CNN_GEMM=own or CNN_GEMM=blas overrides the choice. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu.h"
#include "gemm.h"

static struct {
    _Atomic int ready; /* 0: not yet chosen */
    cnn_cpu_gemm_impl impl;
    const char *why;
} choice;

static void choose(void)
{
    /* Every thread that races here computes the same answer. */
    const char *env = getenv("CNN_GEMM");
    const cnn_cpu_gemm_kernel *kernel = cnn_cpu_gemm_kernel_best();
    cnn_cpu_gemm_impl impl;
    const char *why;
    if (env && strcmp(env, "own") == 0) {
        impl = CNN_CPU_GEMM_OWN, why = "CNN_GEMM=own";
    } else if (env && strcmp(env, "blas") == 0) {
        impl = cnn_cpu_gemm_blas_available() ? CNN_CPU_GEMM_BLAS
                                             : CNN_CPU_GEMM_OWN;
        why = impl == CNN_CPU_GEMM_BLAS
                  ? "CNN_GEMM=blas"
                  : "CNN_GEMM=blas, but this build has no BLAS";
    } else if (!cnn_cpu_gemm_blas_available()) {
        impl = CNN_CPU_GEMM_OWN, why = "no BLAS in this build";
    } else if (strcmp(kernel->name, "avx512") == 0 &&
               !cnn_cpu_gemm_blas_avx512()) {
        impl = CNN_CPU_GEMM_OWN;
        why = "default: our AVX-512 kernel, wider than OpenBLAS's for this "
              "CPU; CNN_GEMM=blas to change";
    } else {
        impl = CNN_CPU_GEMM_BLAS, why = "default; CNN_GEMM=own to change";
    }
    choice.impl = impl;
    choice.why = why;
    choice.ready = 1;
}

cnn_cpu_gemm_impl cnn_cpu_gemm_active(void)
{
    if (!choice.ready)
        choose();
    return choice.impl;
}

void cnn_cpu_gemm_describe(char *buf, size_t size)
{
    cnn_cpu_gemm_impl impl = cnn_cpu_gemm_active();
    const cnn_cpu_gemm_kernel *kernel = cnn_cpu_gemm_kernel_best();
    if (impl == CNN_CPU_GEMM_BLAS)
        snprintf(buf, size, "OpenBLAS (%s; inside our parallel regions: %s)",
                 choice.why,
                 cnn_cpu_gemm_blas_nestable()
                     ? "OpenBLAS, single-threaded"
                     : "ours, OpenBLAS is the pthreads build");
    else
        snprintf(buf, size, "own, %s kernel %dx%d (%s)", kernel->name,
                 kernel->mr, kernel->nr, choice.why);
}

size_t cnn_cpu_gemm_thread_scratch_bytes(void)
{
    size_t bytes = cnn_cpu_gemm_own_scratch_floats() * sizeof(float);
    return (bytes + 63) / 64 * 64;
}

size_t cnn_cpu_gemm_scratch_bytes(int device)
{
    return (size_t)cnn_cpu_device_threads(device) *
           cnn_cpu_gemm_thread_scratch_bytes();
}

static bool fits_int(int64_t m, int64_t n, int64_t k, cnn_cpu_matrix a,
                     cnn_cpu_matrix b, int64_t ldc)
{
    return m <= INT_MAX && n <= INT_MAX && k <= INT_MAX && a.ld <= INT_MAX &&
           b.ld <= INT_MAX && ldc <= INT_MAX;
}

void cnn_cpu_sgemm_serial(int64_t m, int64_t n, int64_t k, float alpha,
                          cnn_cpu_matrix a, cnn_cpu_matrix b, float beta,
                          float *c, int64_t ldc, void *scratch)
{
    if (cnn_cpu_gemm_active() == CNN_CPU_GEMM_BLAS &&
        cnn_cpu_gemm_blas_nestable() && fits_int(m, n, k, a, b, ldc)) {
        cnn_cpu_gemm_blas(1, m, n, k, alpha, a, b, beta, c, ldc);
        return;
    }
    cnn_cpu_gemm_own(cnn_cpu_gemm_kernel_best(), m, n, k, alpha, a, b, beta,
                     c, ldc, scratch);
}

/* One GEMM split into a grid of tiles of C, one tile per thread. */
typedef struct split {
    const cnn_cpu_gemm_kernel *kernel;
    int64_t m, n, k;
    cnn_cpu_operand a, b;
    bool accumulate;
    cnn_cpu_gemm_out c;
    unsigned char *scratch;
    size_t thread_bytes;
    int64_t tile_m, tile_n; /* rows and columns of a tile */
    int64_t grid_n;         /* tiles across */
} split;

static void tile_range(int64_t begin, int64_t end, void *p)
{
    const split *s = p;
    float *scratch = (float *)(s->scratch +
                               (size_t)cnn_cpu_thread_index() * s->thread_bytes);
    for (int64_t t = begin; t < end; ++t) {
        int64_t i0 = t / s->grid_n * s->tile_m, j0 = t % s->grid_n * s->tile_n;
        int64_t i1 = i0 + s->tile_m < s->m ? i0 + s->tile_m : s->m;
        int64_t j1 = j0 + s->tile_n < s->n ? j0 + s->tile_n : s->n;
        cnn_cpu_gemm_own_block(s->kernel, i0, i1, j0, j1, s->k, s->a, s->b,
                               s->accumulate, s->c, scratch);
    }
}

void cnn_cpu_gemm_own_parallel(int device, int64_t m, int64_t n, int64_t k,
                               cnn_cpu_operand a, cnn_cpu_operand b,
                               bool accumulate, cnn_cpu_gemm_out c,
                               void *scratch)
{
    if (m <= 0 || n <= 0)
        return;
    const cnn_cpu_gemm_kernel *kernel = cnn_cpu_gemm_kernel_best();
    int threads = cnn_cpu_device_threads(device);
    /* Below about 2^18 multiply-adds a thread team costs more than it
     * saves. */
    if ((double)m * (double)n * (double)k < 262144.0)
        threads = 1;
    /* The grid of tiles (in micro-tiles) whose largest tile is smallest;
     * ties go to more columns per thread, which shares A's packing. */
    int64_t mt = (m + kernel->mr - 1) / kernel->mr;
    int64_t nt = (n + kernel->nr - 1) / kernel->nr;
    int64_t best_gm = 1, best_gn = 1, best_cost = mt * nt;
    for (int t = threads; t > 1; --t) {
        for (int gm = 1; gm <= t; ++gm) {
            if (t % gm)
                continue;
            int64_t gn = t / gm;
            if (gm > mt || gn > nt)
                continue;
            int64_t cost = ((mt + gm - 1) / gm) * ((nt + gn - 1) / gn);
            if (cost < best_cost) {
                best_cost = cost, best_gm = gm, best_gn = gn;
            }
        }
        if (best_gm * best_gn > 1)
            break;
    }
    split s = {
        .kernel = kernel, .m = m, .n = n, .k = k, .a = a, .b = b,
        .accumulate = accumulate, .c = c, .scratch = scratch,
        .thread_bytes = cnn_cpu_gemm_thread_scratch_bytes(),
        .tile_m = (mt + best_gm - 1) / best_gm * kernel->mr,
        .tile_n = (nt + best_gn - 1) / best_gn * kernel->nr,
        .grid_n = best_gn,
    };
    cnn_cpu_parallel_for(device, best_gm * best_gn, 1, 1, tile_range, &s);
}

/* C *= beta (beta == 0 writes zeros without reading C). */
typedef struct scale_ctx {
    float *c;
    int64_t n, ldc;
    float beta;
} scale_ctx;

static void scale_rows(int64_t begin, int64_t end, void *p)
{
    const scale_ctx *s = p;
    for (int64_t i = begin; i < end; ++i) {
        float *row = s->c + i * s->ldc;
        if (s->beta == 0.0f)
            memset(row, 0, (size_t)s->n * sizeof *row);
        else
            for (int64_t j = 0; j < s->n; ++j)
                row[j] *= s->beta;
    }
}

void cnn_cpu_sgemm(int device, int64_t m, int64_t n, int64_t k, float alpha,
                   cnn_cpu_matrix a, cnn_cpu_matrix b, float beta, float *c,
                   int64_t ldc, void *scratch)
{
    if (m <= 0 || n <= 0)
        return;
    int threads = cnn_cpu_device_threads(device);
    if (cnn_cpu_gemm_active() == CNN_CPU_GEMM_BLAS &&
        fits_int(m, n, k, a, b, ldc)) {
        unsigned saved = cnn_cpu_fpenv_enter();
        cnn_cpu_gemm_blas(threads, m, n, k, alpha, a, b, beta, c, ldc);
        cnn_cpu_fpenv_restore(saved);
        return;
    }
    bool no_product = k <= 0 || alpha == 0.0f;
    if (beta != 1.0f && (no_product || beta != 0.0f)) {
        scale_ctx sc = {.c = c, .n = n, .ldc = ldc, .beta = beta};
        cnn_cpu_parallel_for(device, m, 1, (16384 + n - 1) / n, scale_rows,
                             &sc);
        beta = 1.0f;
    }
    if (no_product)
        return;
    cnn_cpu_matrix_operand as, bs;
    cnn_cpu_gemm_out out = {.data = c, .ld = ldc};
    cnn_cpu_gemm_own_parallel(device, m, n, k,
                              cnn_cpu_operand_matrix(&as, a, 'a', alpha),
                              cnn_cpu_operand_matrix(&bs, b, 'b', 1.0f),
                              beta != 0.0f, out, scratch);
}
