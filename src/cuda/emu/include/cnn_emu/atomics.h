/* cnn_emu/atomics.h - CUDA's atomic functions on global and shared memory
 * as GCC __atomic builtins: blocks run at the same time on several worker
 * threads, so these must be real atomics. Floating-point ones are
 * compare-and-swap loops. Each returns the old value, as in CUDA. */
#ifndef CNN_EMU_ATOMICS_H
#define CNN_EMU_ATOMICS_H

#include <math.h>
#include <string.h>

namespace cnn_emu {

/* The compare-and-swap loop behind the floating-point and min/max ones:
 * `update` maps the old value to the new one. */
template <typename T, typename Bits, typename F>
static inline T atomic_update(T *p, F update)
{
    static_assert(sizeof(T) == sizeof(Bits), "same size");
    Bits *word = reinterpret_cast<Bits *>(p);
    Bits old_bits = __atomic_load_n(word, __ATOMIC_SEQ_CST);
    for (;;) {
        T old_value;
        memcpy(&old_value, &old_bits, sizeof old_value);
        T new_value = update(old_value);
        Bits new_bits;
        memcpy(&new_bits, &new_value, sizeof new_bits);
        if (__atomic_compare_exchange_n(word, &old_bits, new_bits, false,
                                        __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
            return old_value;
    }
}

} // namespace cnn_emu

#define CNN_EMU_INTEGER_ATOMICS(T)                                             \
    static inline T atomicAdd(T *p, T v)                                       \
    {                                                                          \
        return __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST);                     \
    }                                                                          \
    static inline T atomicSub(T *p, T v)                                       \
    {                                                                          \
        return __atomic_fetch_sub(p, v, __ATOMIC_SEQ_CST);                     \
    }                                                                          \
    static inline T atomicExch(T *p, T v)                                      \
    {                                                                          \
        return __atomic_exchange_n(p, v, __ATOMIC_SEQ_CST);                    \
    }                                                                          \
    static inline T atomicCAS(T *p, T compare, T v)                            \
    {                                                                          \
        __atomic_compare_exchange_n(p, &compare, v, false, __ATOMIC_SEQ_CST,   \
                                    __ATOMIC_SEQ_CST);                         \
        return compare;                                                        \
    }                                                                          \
    static inline T atomicAnd(T *p, T v)                                       \
    {                                                                          \
        return __atomic_fetch_and(p, v, __ATOMIC_SEQ_CST);                     \
    }                                                                          \
    static inline T atomicOr(T *p, T v)                                        \
    {                                                                          \
        return __atomic_fetch_or(p, v, __ATOMIC_SEQ_CST);                      \
    }                                                                          \
    static inline T atomicXor(T *p, T v)                                       \
    {                                                                          \
        return __atomic_fetch_xor(p, v, __ATOMIC_SEQ_CST);                     \
    }                                                                          \
    static inline T atomicMax(T *p, T v)                                       \
    {                                                                          \
        return cnn_emu::atomic_update<T, T>(p,                                 \
                                            [v](T o) { return o < v ? v : o; }); \
    }                                                                          \
    static inline T atomicMin(T *p, T v)                                       \
    {                                                                          \
        return cnn_emu::atomic_update<T, T>(p,                                 \
                                            [v](T o) { return v < o ? v : o; }); \
    }
CNN_EMU_INTEGER_ATOMICS(int)
CNN_EMU_INTEGER_ATOMICS(unsigned int)
CNN_EMU_INTEGER_ATOMICS(long long)
CNN_EMU_INTEGER_ATOMICS(unsigned long long)
#undef CNN_EMU_INTEGER_ATOMICS

static inline float atomicAdd(float *p, float v)
{
    return cnn_emu::atomic_update<float, unsigned>(p,
                                                   [v](float o) { return o + v; });
}
static inline double atomicAdd(double *p, double v)
{
    return cnn_emu::atomic_update<double, unsigned long long>(
        p, [v](double o) { return o + v; });
}
static inline float atomicExch(float *p, float v)
{
    return cnn_emu::atomic_update<float, unsigned>(p, [v](float) { return v; });
}
/* atomicMax/Min on float exist from sm_90 on: NaN-ignoring like fmaxf. */
static inline float atomicMax(float *p, float v)
{
    return cnn_emu::atomic_update<float, unsigned>(
        p, [v](float o) { return fmaxf(o, v); });
}
static inline float atomicMin(float *p, float v)
{
    return cnn_emu::atomic_update<float, unsigned>(
        p, [v](float o) { return fminf(o, v); });
}
/* Wrapping increment and decrement, as on the GPU. */
static inline unsigned atomicInc(unsigned *p, unsigned limit)
{
    return cnn_emu::atomic_update<unsigned, unsigned>(
        p, [limit](unsigned o) { return o >= limit ? 0u : o + 1u; });
}
static inline unsigned atomicDec(unsigned *p, unsigned limit)
{
    return cnn_emu::atomic_update<unsigned, unsigned>(
        p, [limit](unsigned o) { return o == 0u || o > limit ? limit : o - 1u; });
}

#endif /* CNN_EMU_ATOMICS_H */
