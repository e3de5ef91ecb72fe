/* src/cpu/gemm_kernels.c - our GEMM's micro-kernels, one per instruction
 * set, and the run-time choice among them. The AVX-512 and AVX2 kernels
 * are compiled with target attributes, so the library still runs on any
 * x86-64 (and builds on other architectures, where only the portable
 * kernel exists); the CPU is asked which ones it can run. Every kernel is
 * the same template (gemm_kernel.inc) with its own tile size. */
#include <stdlib.h>
#include <string.h>

#include "gemm.h"

#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
#define CNN_GEMM_X86 1
#include <immintrin.h>
#endif

/* ---- portable: GCC vector extensions, 4 floats, plain multiply-add ---- */
typedef float cnn_v4 __attribute__((vector_size(16)));

static inline cnn_v4 v4_loadu(const float *p)
{
    cnn_v4 v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline void v4_storeu(float *p, cnn_v4 v) { memcpy(p, &v, sizeof v); }

#define KERNEL_FN gemm_kernel_generic
#define KERNEL_TARGET
#define KERNEL_MR 6
#define KERNEL_NV 2
#define VEC cnn_v4
#define VEC_LEN 4
#define VEC_ZERO() ((cnn_v4){0.0f, 0.0f, 0.0f, 0.0f})
#define VEC_SET1(x) ((cnn_v4){0.0f, 0.0f, 0.0f, 0.0f} + (x))
#define VEC_LOAD(p) (*(const cnn_v4 *)(p))
#define VEC_LOADU(p) v4_loadu(p)
#define VEC_STOREU(p, v) v4_storeu((p), (v))
#define VEC_ADD(a, b) ((a) + (b))
#define VEC_FMA(a, b, c) ((a) * (b) + (c))
#include "gemm_kernel.inc"
#undef KERNEL_FN
#undef KERNEL_TARGET
#undef KERNEL_MR
#undef KERNEL_NV
#undef VEC
#undef VEC_LEN
#undef VEC_ZERO
#undef VEC_SET1
#undef VEC_LOAD
#undef VEC_LOADU
#undef VEC_STOREU
#undef VEC_ADD
#undef VEC_FMA

#ifdef CNN_GEMM_X86
/* ---- AVX2 + FMA: 16 ymm registers, a 6 x 16 tile ---- */
#define KERNEL_FN gemm_kernel_avx2
#define KERNEL_TARGET __attribute__((target("avx2,fma")))
#define KERNEL_MR 6
#define KERNEL_NV 2
#define VEC __m256
#define VEC_LEN 8
#define VEC_ZERO() _mm256_setzero_ps()
#define VEC_SET1(x) _mm256_set1_ps(x)
#define VEC_LOAD(p) _mm256_load_ps(p)
#define VEC_LOADU(p) _mm256_loadu_ps(p)
#define VEC_STOREU(p, v) _mm256_storeu_ps((p), (v))
#define VEC_ADD(a, b) _mm256_add_ps((a), (b))
#define VEC_FMA(a, b, c) _mm256_fmadd_ps((a), (b), (c))
#include "gemm_kernel.inc"
#undef KERNEL_FN
#undef KERNEL_TARGET
#undef KERNEL_MR
#undef KERNEL_NV
#undef VEC
#undef VEC_LEN
#undef VEC_ZERO
#undef VEC_SET1
#undef VEC_LOAD
#undef VEC_LOADU
#undef VEC_STOREU
#undef VEC_ADD
#undef VEC_FMA

/* ---- AVX-512F: 32 zmm registers, an 8 x 48 tile (24 accumulators) ----
 * 8 rows rather than 12: a layer's output channels (64, 128, 256, ...)
 * fill whole tiles, where 12 would leave a part-empty tile on every
 * GEMM, a sixth of the work when there are 64. */
#define KERNEL_FN gemm_kernel_avx512
#define KERNEL_TARGET __attribute__((target("avx512f")))
#define KERNEL_MR 8
#define KERNEL_NV 3
#define VEC __m512
#define VEC_LEN 16
#define VEC_ZERO() _mm512_setzero_ps()
#define VEC_SET1(x) _mm512_set1_ps(x)
#define VEC_LOAD(p) _mm512_load_ps(p)
#define VEC_LOADU(p) _mm512_loadu_ps(p)
#define VEC_STOREU(p, v) _mm512_storeu_ps((p), (v))
#define VEC_ADD(a, b) _mm512_add_ps((a), (b))
#define VEC_FMA(a, b, c) _mm512_fmadd_ps((a), (b), (c))
#include "gemm_kernel.inc"
#endif

/* Transposing copies for packing. Element by element a transposed operand
 * costs over two cycles per value (a store to a new cache line each); in
 * 8 x 8 blocks the portable one writes eight values per line, and the AVX
 * one moves a block with eight loads, 24 shuffles and eight stores. */
static void transpose_generic(const float *src, int64_t lds, int64_t rows,
                              int64_t cols, float *dst, int64_t ldd)
{
    for (int64_t c0 = 0; c0 < cols; c0 += 8) {
        int64_t c1 = c0 + 8 < cols ? c0 + 8 : cols;
        for (int64_t r = 0; r < rows; ++r)
            for (int64_t c = c0; c < c1; ++c)
                dst[c * ldd + r] = src[r * lds + c];
    }
}

#ifdef CNN_GEMM_X86
__attribute__((target("avx2"))) static void
transpose_avx2(const float *src, int64_t lds, int64_t rows, int64_t cols,
               float *dst, int64_t ldd)
{
    int64_t r0 = 0;
    for (; r0 + 8 <= rows; r0 += 8) {
        int64_t c0 = 0;
        for (; c0 + 8 <= cols; c0 += 8) {
            const float *s = src + r0 * lds + c0;
            __m256 a0 = _mm256_loadu_ps(s), a1 = _mm256_loadu_ps(s + lds);
            __m256 a2 = _mm256_loadu_ps(s + 2 * lds);
            __m256 a3 = _mm256_loadu_ps(s + 3 * lds);
            __m256 a4 = _mm256_loadu_ps(s + 4 * lds);
            __m256 a5 = _mm256_loadu_ps(s + 5 * lds);
            __m256 a6 = _mm256_loadu_ps(s + 6 * lds);
            __m256 a7 = _mm256_loadu_ps(s + 7 * lds);
            __m256 t0 = _mm256_unpacklo_ps(a0, a1);
            __m256 t1 = _mm256_unpackhi_ps(a0, a1);
            __m256 t2 = _mm256_unpacklo_ps(a2, a3);
            __m256 t3 = _mm256_unpackhi_ps(a2, a3);
            __m256 t4 = _mm256_unpacklo_ps(a4, a5);
            __m256 t5 = _mm256_unpackhi_ps(a4, a5);
            __m256 t6 = _mm256_unpacklo_ps(a6, a7);
            __m256 t7 = _mm256_unpackhi_ps(a6, a7);
            __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44);
            __m256 u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
            __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44);
            __m256 u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
            __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44);
            __m256 u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
            __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44);
            __m256 u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
            float *d = dst + c0 * ldd + r0;
            _mm256_storeu_ps(d, _mm256_permute2f128_ps(u0, u4, 0x20));
            _mm256_storeu_ps(d + ldd, _mm256_permute2f128_ps(u1, u5, 0x20));
            _mm256_storeu_ps(d + 2 * ldd, _mm256_permute2f128_ps(u2, u6, 0x20));
            _mm256_storeu_ps(d + 3 * ldd, _mm256_permute2f128_ps(u3, u7, 0x20));
            _mm256_storeu_ps(d + 4 * ldd, _mm256_permute2f128_ps(u0, u4, 0x31));
            _mm256_storeu_ps(d + 5 * ldd, _mm256_permute2f128_ps(u1, u5, 0x31));
            _mm256_storeu_ps(d + 6 * ldd, _mm256_permute2f128_ps(u2, u6, 0x31));
            _mm256_storeu_ps(d + 7 * ldd, _mm256_permute2f128_ps(u3, u7, 0x31));
        }
        if (c0 < cols)
            transpose_generic(src + r0 * lds + c0, lds, 8, cols - c0,
                              dst + c0 * ldd + r0, ldd);
    }
    if (r0 < rows)
        transpose_generic(src + r0 * lds, lds, rows - r0, cols, dst + r0, ldd);
}
#endif

/* Blocking: kc rows of a B sliver (kc x nr) stay in L1, the A block
 * (mc x kc) in L2, the B panel (kc x nc) in the last-level cache. */
static const cnn_cpu_gemm_kernel kernels[] = {
#ifdef CNN_GEMM_X86
    {"avx512", 8, 48, 192, 384, 3072, gemm_kernel_avx512, transpose_avx2},
    {"avx2", 6, 16, 192, 256, 3072, gemm_kernel_avx2, transpose_avx2},
#endif
    {"generic", 6, 8, 192, 256, 3072, gemm_kernel_generic, transpose_generic},
};
#define KERNEL_COUNT ((int)(sizeof kernels / sizeof kernels[0]))

static bool runnable(const cnn_cpu_gemm_kernel *k)
{
#ifdef CNN_GEMM_X86
    if (strcmp(k->name, "avx512") == 0)
        return __builtin_cpu_supports("avx512f");
    if (strcmp(k->name, "avx2") == 0)
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
    (void)k;
    return true;
}

const cnn_cpu_gemm_kernel *cnn_cpu_gemm_kernel_find(const char *name)
{
    for (int i = 0; i < KERNEL_COUNT; ++i)
        if (strcmp(kernels[i].name, name) == 0)
            return runnable(&kernels[i]) ? &kernels[i] : NULL;
    return NULL;
}

const cnn_cpu_gemm_kernel *cnn_cpu_gemm_kernel_best(void)
{
    static const cnn_cpu_gemm_kernel *_Atomic chosen;
    const cnn_cpu_gemm_kernel *k = chosen;
    if (k)
        return k;
    /* Every thread that races here computes the same answer. */
    const char *env = getenv("CNN_GEMM_KERNEL");
    if (env && *env)
        k = cnn_cpu_gemm_kernel_find(env);
    for (int i = 0; !k && i < KERNEL_COUNT; ++i)
        if (runnable(&kernels[i]))
            k = &kernels[i];
    chosen = k;
    return k;
}

size_t cnn_cpu_gemm_own_scratch_floats(void)
{
    size_t most = 0;
    for (int i = 0; i < KERNEL_COUNT; ++i) {
        const cnn_cpu_gemm_kernel *k = &kernels[i];
        /* A block, B panel, an edge tile and a packer's temporary, each
         * rounded to 16 floats. */
        size_t wide = (size_t)(k->mr > k->nr ? k->mr : k->nr);
        size_t floats = (size_t)k->mc * (size_t)k->kc +
                        (size_t)k->kc * (size_t)k->nc +
                        (size_t)k->mr * (size_t)k->nr + (size_t)k->kc * wide +
                        4 * 16;
        if (floats > most)
            most = floats;
    }
    return most;
}
