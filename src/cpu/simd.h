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
 * f64x4 sums: GCC does not vectorise a reduction into double lanes on its
 * own, so sums of floats in double use GNU vector types (SSE2 pairs or AVX
 * registers, whichever the clone has). Vectors go by pointer: passed by
 * value, AVX vectors would change the baseline ABI. */
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
typedef double cnn_f64x4 __attribute__((vector_size(32)));

/* x[0..4) widened to double. */
static inline void cnn_f64x4_load(cnn_f64x4 *out, const float *x)
{
    cnn_f32x4 v;
    memcpy(&v, x, sizeof v);
    *out = __builtin_convertvector(v, cnn_f64x4);
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
