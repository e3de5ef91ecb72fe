/* src/cpu/dropout.c - dropout forward and backward on the CPU.
 *
 * Both passes compute out = in * (keep ? 1 / (1 - p) : 0) with the mask of
 * src/philox.h, so the backward regenerates the forward's mask and the
 * product rounds exactly as PyTorch's input * noise does (a dropped NaN
 * stays NaN, a dropped -x gives -0). The scale is computed in float, as
 * PyTorch computes its noise tensor. The reference engine draws one block
 * per element; the native one draws each block once for its four lanes,
 * 32 blocks at a time with AVX2 where the CPU has it. All give the same
 * bits. */
#include <stdbool.h>
#include <string.h>

#include "../philox.h"
#include "cnn/dense.h"
#include "cpu.h"

#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
#define DROPOUT_X86 1
#include <immintrin.h>
#endif

typedef struct dropout_ctx {
    float *out;
    const float *in;
    const cnn_dropout_params *p;
    float scale;
    bool avx2;
} dropout_ctx;

/* Elements [begin, end), begin a multiple of 4, one block at a time. */
static void dropout_blocks(const dropout_ctx *c, int64_t begin, int64_t end)
{
    const float p = c->p->p, scale = c->scale;
    for (int64_t i = begin; i < end; i += 4) {
        cnn_philox_u32x4 r = cnn_philox_dropout_block(
            c->p->seed, c->p->step, c->p->node, (uint64_t)i >> 2);
        int64_t lanes = end - i < 4 ? end - i : 4;
        for (int64_t k = 0; k < lanes; ++k)
            c->out[i + k] =
                c->in[i + k] *
                (cnn_philox_dropout_keeps(r.v[k], p) ? scale : 0.0f);
    }
}

#ifdef DROPOUT_X86
/* Philox-4x32-10 on eight blocks at once, one block per 32-bit lane of
 * each counter word; _mm256_mul_epu32 multiplies the even lanes, so each
 * product is taken twice, once for the even and once for the odd lanes. */
__attribute__((target("avx2"))) static inline void
mulhilo8(__m256i a, __m256i m, __m256i *hi, __m256i *lo)
{
    __m256i even = _mm256_mul_epu32(a, m);
    __m256i odd = _mm256_mul_epu32(_mm256_srli_epi64(a, 32), m);
    *hi = _mm256_blend_epi32(_mm256_srli_epi64(even, 32), odd, 0xAA);
    *lo = _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA);
}

/* The drop masks of eight blocks (word l of block j in lane j of d[l])
 * put into element order: out[k] covers blocks 2 k and 2 k + 1. */
__attribute__((target("avx2"))) static inline void
transpose8(const __m256i d[4], __m256i out[4])
{
    __m256i t0 = _mm256_unpacklo_epi32(d[0], d[1]);
    __m256i t1 = _mm256_unpackhi_epi32(d[0], d[1]);
    __m256i t2 = _mm256_unpacklo_epi32(d[2], d[3]);
    __m256i t3 = _mm256_unpackhi_epi32(d[2], d[3]);
    __m256i u0 = _mm256_unpacklo_epi64(t0, t2);
    __m256i u1 = _mm256_unpackhi_epi64(t0, t2);
    __m256i u2 = _mm256_unpacklo_epi64(t1, t3);
    __m256i u3 = _mm256_unpackhi_epi64(t1, t3);
    out[0] = _mm256_permute2x128_si256(u0, u1, 0x20);
    out[1] = _mm256_permute2x128_si256(u2, u3, 0x20);
    out[2] = _mm256_permute2x128_si256(u0, u1, 0x31);
    out[3] = _mm256_permute2x128_si256(u2, u3, 0x31);
}

/* Blocks in flight per step: four independent groups of eight hide the
 * latency of a round's multiply, shift, blend and xor chain. */
enum { GROUPS = 4, STEP = 32 * GROUPS };

/* Elements [begin, end), begin a multiple of STEP, STEP per step, then the
 * same product as dropout_blocks: in * (drop ? 0 : scale). keep is
 * u >= p, that is (word >> 8) >= p 2^24, that is (word >> 8) >=
 * ceil(p 2^24) (p 2^24 is exact: a power-of-two scale). The rest, and any
 * stretch whose block numbers cross a multiple of 2^32, go to
 * dropout_blocks. */
__attribute__((target("avx2"))) static void
dropout_avx2(const dropout_ctx *c, int64_t begin, int64_t end)
{
    const cnn_dropout_params *p = c->p;
    const __m256i threshold = _mm256_set1_epi32(
        (int32_t)__builtin_ceilf(p->p * 16777216.0f));
    const __m256 scale = _mm256_set1_ps(c->scale);
    const __m256i m0 = _mm256_set1_epi32((int32_t)0xD2511F53u);
    const __m256i m1 = _mm256_set1_epi32((int32_t)0xCD9E8D57u);
    const __m256i w2 = _mm256_set1_epi32(
        (int32_t)((p->node << 8) | CNN_PHILOX_STREAM_DROPOUT));
    const __m256i w3 = _mm256_set1_epi32((int32_t)(uint32_t)p->step);
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    int64_t i = begin;
    for (; i + STEP <= end; i += STEP) {
        uint64_t block = (uint64_t)i >> 2;
        if ((uint32_t)block > UINT32_MAX - 8 * GROUPS)
            break; /* the high word would change within the step */
        __m256i c0[GROUPS], c1[GROUPS], c2[GROUPS], c3[GROUPS];
        for (int g = 0; g < GROUPS; ++g) {
            c0[g] = _mm256_add_epi32(
                _mm256_set1_epi32((int32_t)(uint32_t)(block + 8u * g)), lane);
            c1[g] = _mm256_set1_epi32((int32_t)(uint32_t)(block >> 32));
            c2[g] = w2;
            c3[g] = w3;
        }
        uint32_t k0 = (uint32_t)p->seed, k1 = (uint32_t)(p->seed >> 32);
        for (int round = 0; round < 10; ++round) {
            const __m256i key0 = _mm256_set1_epi32((int32_t)k0);
            const __m256i key1 = _mm256_set1_epi32((int32_t)k1);
            for (int g = 0; g < GROUPS; ++g) {
                __m256i hi0, lo0, hi1, lo1;
                mulhilo8(c0[g], m0, &hi0, &lo0);
                mulhilo8(c2[g], m1, &hi1, &lo1);
                c0[g] = _mm256_xor_si256(_mm256_xor_si256(hi1, c1[g]), key0);
                c1[g] = lo1;
                c2[g] = _mm256_xor_si256(_mm256_xor_si256(hi0, c3[g]), key1);
                c3[g] = lo0;
            }
            k0 += 0x9E3779B9u;
            k1 += 0xBB67AE85u;
        }
        for (int g = 0; g < GROUPS; ++g) {
            __m256i d[4] = {c0[g], c1[g], c2[g], c3[g]}, drop[4];
            for (int l = 0; l < 4; ++l)
                d[l] = _mm256_cmpgt_epi32(threshold,
                                          _mm256_srli_epi32(d[l], 8));
            transpose8(d, drop);
            const float *in = c->in + i + 32 * g;
            float *out = c->out + i + 32 * g;
            for (int k = 0; k < 4; ++k) {
                __m256 factor =
                    _mm256_andnot_ps(_mm256_castsi256_ps(drop[k]), scale);
                _mm256_storeu_ps(out + 8 * k,
                                 _mm256_mul_ps(_mm256_loadu_ps(in + 8 * k),
                                               factor));
            }
        }
    }
    dropout_blocks(c, i, end);
}
#endif

/* [begin, end) with begin a multiple of STEP (the split's alignment). */
static void dropout_range(int64_t begin, int64_t end, void *arg)
{
    const dropout_ctx *c = arg;
#ifdef DROPOUT_X86
    if (c->avx2) {
        dropout_avx2(c, begin, end);
        return;
    }
#endif
    dropout_blocks(c, begin, end);
}

static void copy_range(int64_t begin, int64_t end, void *arg)
{
    const dropout_ctx *c = arg;
    memcpy(c->out + begin, c->in + begin,
           (size_t)(end - begin) * sizeof(float));
}

static cnn_status dropout(const cnn_op_args *args)
{
    const cnn_dropout_params *p = args->params;
    dropout_ctx c = {.out = args->out[0]->data, .in = args->in[0]->data,
                     .p = p, .scale = 1.0f / (1.0f - p->p)};
    int64_t n = args->out[0]->numel;
    if (args->engine == CNN_ENGINE_REFERENCE) {
        for (int64_t i = 0; i < n; ++i)
            c.out[i] = c.in[i] * (cnn_philox_dropout_keep(p->seed, p->step,
                                                           p->node,
                                                           (uint64_t)i, p->p)
                                      ? c.scale
                                      : 0.0f);
        return CNN_OK;
    }
    if (p->p == 0.0f) { /* every element kept, scaled by exactly 1 */
        if (c.out != c.in)
            cnn_cpu_parallel_for(args->device, n, 16, 1 << 16, copy_range,
                                 &c);
        return CNN_OK;
    }
#ifdef DROPOUT_X86
    c.avx2 = __builtin_cpu_supports("avx2");
#endif
    /* A block costs about as much as 20 floats of a copy: split at 4k. */
    cnn_cpu_parallel_for(args->device, n, 128, 1 << 12, dropout_range, &c);
    return CNN_OK;
}

void cnn_cpu_register_dropout(cnn_op_fn *ops)
{
    ops[CNN_OP_DROPOUT_FWD] = dropout;
    ops[CNN_OP_DROPOUT_BWD] = dropout;
}
