/* src/cpu/simd.h - what the CPU backend's vector loops share.
 *
 * CNN_CPU_CLONES marks a hot loop that the compiler also builds for AVX2
 * next to the baseline x86-64 (SSE2) code, the loader picking the one the
 * CPU runs (GCC's and Clang's target_clones, an ifunc). The library is
 * built for the baseline so that it runs anywhere; without this, loops
 * that work in cache run at half the vector width. Both clones do the same
 * IEEE operations on each element in the same order (ISO C mode contracts
 * nothing into FMAs, and sums keep their lanes), so they give the same
 * bits.
 *
 * Sums: GCC does not vectorise a reduction into lanes on its own, so sums
 * use GNU vector types (SSE2 pairs or AVX registers, whichever the clone
 * has): eight float lanes over a short block, moved into eight double lanes
 * after each block. Vectors go by pointer: passed by value, AVX vectors
 * would change the baseline ABI. */
#ifndef CNN_CPU_SIMD_H
#define CNN_CPU_SIMD_H

#include <stdint.h>
#include <string.h>

/* Define CNN_CPU_NO_CLONES to build the baseline alone (to test it on a
 * machine that has AVX2). */
#if defined(__x86_64__) && defined(__ELF__) && defined(__has_attribute) && \
    !defined(CNN_CPU_NO_CLONES)
#if __has_attribute(target_clones)
#define CNN_CPU_CLONES __attribute__((target_clones("avx2", "default")))
#endif
#endif
#ifndef CNN_CPU_CLONES
#define CNN_CPU_CLONES
#endif

typedef float cnn_f32x4 __attribute__((vector_size(16)));
typedef float cnn_f32x8 __attribute__((vector_size(32)));
typedef double cnn_f64x4 __attribute__((vector_size(32)));

/* x[0..4) widened to double. */
static inline void cnn_f64x4_load(cnn_f64x4 *out, const float *x)
{
    cnn_f32x4 v;
    memcpy(&v, x, sizeof v);
    *out = __builtin_convertvector(v, cnn_f64x4);
}

/* Adds the eight float lanes of v into the double lanes lo (0..3) and hi
 * (4..7): how a sum of short float blocks moves into double. */
static inline void cnn_f64x8_add(cnn_f64x4 *lo, cnn_f64x4 *hi,
                                 const cnn_f32x8 *v)
{
    cnn_f32x4 a, b;
    memcpy(&a, v, sizeof a);
    memcpy(&b, (const char *)v + sizeof a, sizeof b);
    *lo += __builtin_convertvector(a, cnn_f64x4);
    *hi += __builtin_convertvector(b, cnn_f64x4);
}

/* Eight lanes (lo, hi) and a tail added into lane 0, summed in lane order:
 * lane j of a loop that steps by 8 sums elements j, j + 8, j + 16, ... */
static inline double cnn_f64x8_total(const cnn_f64x4 *lo, const cnn_f64x4 *hi,
                                     double tail)
{
    return (*lo)[0] + tail + (*lo)[1] + (*lo)[2] + (*lo)[3] + (*hi)[0] +
           (*hi)[1] + (*hi)[2] + (*hi)[3];
}

#endif /* CNN_CPU_SIMD_H */
