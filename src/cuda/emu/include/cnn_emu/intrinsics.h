/* cnn_emu/intrinsics.h - CUDA's device functions that the host library
 * lacks, computed on the host: min and max overloads, the fast-math and
 * rounding intrinsics (here at full precision), bit tricks, reinterpreting
 * casts and __ldg. A GPU's fast intrinsics (__expf, __fdividef, rsqrtf)
 * are less precise than these, so tests compare with tolerances that the
 * GPU also meets. */
#ifndef CNN_EMU_INTRINSICS_H
#define CNN_EMU_INTRINSICS_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#define CNN_EMU_MIN_MAX(T)                                                     \
    static inline T min(T a, T b) { return a < b ? a : b; }                    \
    static inline T max(T a, T b) { return a > b ? a : b; }
CNN_EMU_MIN_MAX(int)
CNN_EMU_MIN_MAX(unsigned int)
CNN_EMU_MIN_MAX(long)
CNN_EMU_MIN_MAX(unsigned long)
CNN_EMU_MIN_MAX(long long)
CNN_EMU_MIN_MAX(unsigned long long)
#undef CNN_EMU_MIN_MAX
static inline float min(float a, float b) { return fminf(a, b); }
static inline float max(float a, float b) { return fmaxf(a, b); }
static inline double min(double a, double b) { return fmin(a, b); }
static inline double max(double a, double b) { return fmax(a, b); }

template <typename T> static inline T __ldg(const T *p) { return *p; }

/* glibc declares __expf and the like (without defining them), so these
 * are plain inline functions, which match those declarations. */
static inline float rsqrtf(float x) { return 1.0f / sqrtf(x); }
static inline double rsqrt(double x) { return 1.0 / sqrt(x); }
inline float __expf(float x) { return expf(x); }
inline float __exp10f(float x) { return powf(10.0f, x); }
inline float __logf(float x) { return logf(x); }
inline float __log2f(float x) { return log2f(x); }
inline float __log10f(float x) { return log10f(x); }
inline float __powf(float x, float y) { return powf(x, y); }
inline float __sinf(float x) { return sinf(x); }
inline float __cosf(float x) { return cosf(x); }
inline float __tanf(float x) { return tanf(x); }
static inline float __fdividef(float x, float y) { return x / y; }
static inline float __frcp_rn(float x) { return 1.0f / x; }
static inline float __fsqrt_rn(float x) { return sqrtf(x); }
static inline float __fadd_rn(float x, float y) { return x + y; }
static inline float __fsub_rn(float x, float y) { return x - y; }
static inline float __fmul_rn(float x, float y) { return x * y; }
static inline float __fdiv_rn(float x, float y) { return x / y; }
static inline float __fmaf_rn(float x, float y, float z) { return fmaf(x, y, z); }
static inline double __dadd_rn(double x, double y) { return x + y; }
static inline double __dmul_rn(double x, double y) { return x * y; }
static inline double __fma_rn(double x, double y, double z) { return fma(x, y, z); }
static inline float __saturatef(float x)
{
    return x > 0.0f ? (x < 1.0f ? x : 1.0f) : 0.0f; /* NaN gives 0 */
}
static inline int __float2int_rn(float x) { return (int)nearbyintf(x); }
static inline int __float2int_rz(float x) { return (int)x; }
static inline int __float2int_rd(float x) { return (int)floorf(x); }
static inline int __float2int_ru(float x) { return (int)ceilf(x); }
static inline float __int2float_rn(int x) { return (float)x; }
static inline float __uint2float_rn(unsigned x) { return (float)x; }
static inline float __ll2float_rn(long long x) { return (float)x; }
static inline float __double2float_rn(double x) { return (float)x; }

static inline int __float_as_int(float x)
{
    int i;
    memcpy(&i, &x, sizeof i);
    return i;
}
static inline unsigned __float_as_uint(float x)
{
    unsigned u;
    memcpy(&u, &x, sizeof u);
    return u;
}
static inline float __int_as_float(int i)
{
    float x;
    memcpy(&x, &i, sizeof x);
    return x;
}
static inline float __uint_as_float(unsigned u)
{
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}
static inline long long __double_as_longlong(double x)
{
    long long i;
    memcpy(&i, &x, sizeof i);
    return i;
}
static inline double __longlong_as_double(long long i)
{
    double x;
    memcpy(&x, &i, sizeof x);
    return x;
}

static inline int __popc(unsigned x) { return __builtin_popcount(x); }
static inline int __popcll(unsigned long long x) { return __builtin_popcountll(x); }
static inline int __clz(int x) { return x ? __builtin_clz((unsigned)x) : 32; }
static inline int __clzll(long long x)
{
    return x ? __builtin_clzll((unsigned long long)x) : 64;
}
static inline int __ffs(int x) { return __builtin_ffs(x); }
static inline int __ffsll(long long x) { return __builtin_ffsll(x); }
static inline unsigned __brev(unsigned x)
{
    unsigned r = 0;
    for (int i = 0; i < 32; ++i, x >>= 1)
        r = (r << 1) | (x & 1u);
    return r;
}
static inline int __mul24(int x, int y)
{
    return (int)((int64_t)((int32_t)((uint32_t)x << 8) >> 8) *
                 ((int32_t)((uint32_t)y << 8) >> 8));
}
static inline unsigned __umul24(unsigned x, unsigned y)
{
    return (x & 0xffffffu) * (y & 0xffffffu);
}
static inline int __mulhi(int x, int y) { return (int)(((int64_t)x * y) >> 32); }
static inline unsigned __umulhi(unsigned x, unsigned y)
{
    return (unsigned)(((uint64_t)x * y) >> 32);
}
static inline unsigned long long __umul64hi(unsigned long long x,
                                            unsigned long long y)
{
    __extension__ typedef unsigned __int128 wide;
    return (unsigned long long)(((wide)x * y) >> 64);
}

#endif /* CNN_EMU_INTRINSICS_H */
