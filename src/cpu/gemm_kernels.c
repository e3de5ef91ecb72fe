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

/* ---- AVX-512F: 32 zmm registers, a 12 x 32 tile (24 accumulators) ---- */
#define KERNEL_FN gemm_kernel_avx512
#define KERNEL_TARGET __attribute__((target("avx512f")))
#define KERNEL_MR 12
#define KERNEL_NV 2
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

/* Blocking: kc rows of a B sliver (kc x nr) stay in L1, the A block
 * (mc x kc) in L2, the B panel (kc x nc) in the last-level cache. */
static const cnn_cpu_gemm_kernel kernels[] = {
#ifdef CNN_GEMM_X86
    {"avx512", 12, 32, 192, 256, 3072, gemm_kernel_avx512},
    {"avx2", 6, 16, 192, 256, 3072, gemm_kernel_avx2},
#endif
    {"generic", 6, 8, 192, 256, 3072, gemm_kernel_generic},
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
        /* A block, B panel and an edge tile, each rounded to 16 floats. */
        size_t floats = (size_t)k->mc * (size_t)k->kc +
                        (size_t)k->kc * (size_t)k->nc +
                        (size_t)k->mr * (size_t)k->nr + 3 * 16;
        if (floats > most)
            most = floats;
    }
    return most;
}
