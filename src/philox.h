/* src/philox.h - Philox-4x32-10, the counter-based generator behind every
 * random number in cnn (Salmon et al., "Parallel random numbers: as easy as
 * 1, 2, 3", SC 2011). Header-only so that the CPU backend and the CUDA
 * kernels compute the same bits from the same (key, counter).
 *
 * Streams: key = the 64-bit seed; counter = {block low, block high, stream,
 * 0} (dropout also puts its node and step there, see below). docs/random.md
 * lists the streams and how elements map to counters. */
#ifndef CNN_PHILOX_H
#define CNN_PHILOX_H

#include <math.h>
#include <stdint.h>

#if defined(__CUDACC__)
#define CNN_HOST_DEVICE __host__ __device__
#else
#define CNN_HOST_DEVICE
#endif

/* Stream ids, the third counter word: one per use, so that two uses of one
 * seed never share numbers. Never renumber: checkpoints and tests depend on
 * them. */
enum {
    CNN_PHILOX_STREAM_UNIFORM = 1,
    CNN_PHILOX_STREAM_NORMAL = 2,
    CNN_PHILOX_STREAM_DROPOUT = 3, /* low byte of word 2; the node above it */
    CNN_PHILOX_STREAM_SHUFFLE = 4, /* word 3: the epoch */
    CNN_PHILOX_STREAM_AUGMENT = 5,  /* the draw above it; word 3: epoch */
    CNN_PHILOX_STREAM_SYNTHETIC = 6 /* index >> 32 above it */
};

typedef struct cnn_philox_u32x4 {
    uint32_t v[4];
} cnn_philox_u32x4;

static inline CNN_HOST_DEVICE void cnn_philox_mulhilo(uint32_t a, uint32_t b,
                                                      uint32_t *hi,
                                                      uint32_t *lo)
{
    uint64_t p = (uint64_t)a * (uint64_t)b;
    *hi = (uint32_t)(p >> 32);
    *lo = (uint32_t)p;
}

/* Ten rounds of Philox-4x32 on counter c with key k. */
static inline CNN_HOST_DEVICE cnn_philox_u32x4
cnn_philox4x32_10(cnn_philox_u32x4 c, uint32_t k0, uint32_t k1)
{
    for (int round = 0; round < 10; ++round) {
        uint32_t hi0, lo0, hi1, lo1;
        cnn_philox_mulhilo(0xD2511F53u, c.v[0], &hi0, &lo0);
        cnn_philox_mulhilo(0xCD9E8D57u, c.v[2], &hi1, &lo1);
        cnn_philox_u32x4 n;
        n.v[0] = hi1 ^ c.v[1] ^ k0;
        n.v[1] = lo1;
        n.v[2] = hi0 ^ c.v[3] ^ k1;
        n.v[3] = lo0;
        c = n;
        k0 += 0x9E3779B9u;
        k1 += 0xBB67AE85u;
    }
    return c;
}

/* The four words of block `block` of stream `stream` under `seed`. */
static inline CNN_HOST_DEVICE cnn_philox_u32x4
cnn_philox_block(uint64_t seed, uint32_t stream, uint64_t block)
{
    cnn_philox_u32x4 c;
    c.v[0] = (uint32_t)block;
    c.v[1] = (uint32_t)(block >> 32);
    c.v[2] = stream;
    c.v[3] = 0;
    return cnn_philox4x32_10(c, (uint32_t)seed, (uint32_t)(seed >> 32));
}

/* A float in [0, 1) from 24 random bits: (u >> 8) * 2^-24, exact. */
static inline CNN_HOST_DEVICE float cnn_philox_unit(uint32_t u)
{
    return (float)(u >> 8) * (1.0f / 16777216.0f);
}

/* Element i of a uniform tensor: lane i % 4 of block i / 4, mapped to
 * [low, high). fmaf rounds once on every device, so CPU and GPU agree to
 * the bit; a result rounded up to `high` is pulled back below it. */
static inline CNN_HOST_DEVICE float cnn_philox_uniform(uint64_t seed,
                                                       uint64_t i, float low,
                                                       float high)
{
    cnn_philox_u32x4 r = cnn_philox_block(seed, CNN_PHILOX_STREAM_UNIFORM,
                                          i >> 2);
    float v = fmaf(high - low, cnn_philox_unit(r.v[i & 3]), low);
    return v < high ? v : nextafterf(high, low);
}

/* Element i of a normal tensor: Box-Muller on block i / 2, the cosine
 * branch for even i and the sine branch for odd i, in double precision so
 * that host and device libm differ by less than one float ulp. */
static inline CNN_HOST_DEVICE float cnn_philox_normal(uint64_t seed,
                                                      uint64_t i, float mean,
                                                      float stddev)
{
    cnn_philox_u32x4 r = cnn_philox_block(seed, CNN_PHILOX_STREAM_NORMAL,
                                          i >> 1);
    double u1 = ((double)(r.v[0] >> 8) + 1.0) * (1.0 / 16777216.0);
    double u2 = (double)(r.v[1] >> 8) * (1.0 / 16777216.0);
    double radius = sqrt(-2.0 * log(u1));
    double angle = 6.283185307179586476925 * u2;
    double z = (i & 1) ? radius * sin(angle) : radius * cos(angle);
    return fmaf(stddev, (float)z, mean);
}

/* The dropout mask of block `block` (elements 4 block .. 4 block + 3):
 * counter {block low, block high, (node << 8) | stream, (uint32) step}, so
 * every (seed, step, node) has its own numbers. node < 2^24. */
static inline CNN_HOST_DEVICE cnn_philox_u32x4
cnn_philox_dropout_block(uint64_t seed, uint64_t step, uint32_t node,
                         uint64_t block)
{
    cnn_philox_u32x4 c;
    c.v[0] = (uint32_t)block;
    c.v[1] = (uint32_t)(block >> 32);
    c.v[2] = (node << 8) | CNN_PHILOX_STREAM_DROPOUT;
    c.v[3] = (uint32_t)step;
    return cnn_philox4x32_10(c, (uint32_t)seed, (uint32_t)(seed >> 32));
}

/* Whether a word of a dropout block keeps its element: u >= p with u the
 * word's unit float, so P(keep) = 1 - p up to the 2^-24 grid. */
static inline CNN_HOST_DEVICE int cnn_philox_dropout_keeps(uint32_t word,
                                                           float p)
{
    return cnn_philox_unit(word) >= p;
}

/* Whether dropout keeps element i (lane i % 4 of block i / 4). Computes a
 * whole block per element: for references and scattered reads; loops over
 * a tensor should take the four lanes of one block together. */
static inline CNN_HOST_DEVICE int cnn_philox_dropout_keep(uint64_t seed,
                                                          uint64_t step,
                                                          uint32_t node,
                                                          uint64_t i, float p)
{
    cnn_philox_u32x4 r = cnn_philox_dropout_block(seed, step, node, i >> 2);
    return cnn_philox_dropout_keeps(r.v[i & 3], p);
}

/* Block `draw` of the augmentation of sample `index` in epoch `epoch`:
 * counter {index low, index high, (draw << 8) | 5, (uint32) epoch}, so that
 * every (seed, epoch, sample) has its own numbers, whichever thread draws
 * them. draw < 2^24. */
static inline CNN_HOST_DEVICE cnn_philox_u32x4
cnn_philox_augment_block(uint64_t seed, uint64_t epoch, uint64_t index,
                         uint32_t draw)
{
    cnn_philox_u32x4 c;
    c.v[0] = (uint32_t)index;
    c.v[1] = (uint32_t)(index >> 32);
    c.v[2] = (draw << 8) | CNN_PHILOX_STREAM_AUGMENT;
    c.v[3] = (uint32_t)epoch;
    return cnn_philox4x32_10(c, (uint32_t)seed, (uint32_t)(seed >> 32));
}

#endif /* CNN_PHILOX_H */
