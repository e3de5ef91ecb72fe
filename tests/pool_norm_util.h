/* tests/pool_norm_util.h - what the pooling, batch norm and LRN suites
 * share: outputs with guard words on both sides, inputs without ties, and
 * the engines to run. */
#ifndef CNN_TEST_POOL_NORM_UTIL_H
#define CNN_TEST_POOL_NORM_UTIL_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "test_util.h"

/* ck_assert_msg for loops over elements: Check reports the location of
 * every assertion it runs to the parent process (a write per call), so
 * element loops assert only on failure. */
#define PN_CHECK(cond, ...)                                                 \
    do {                                                                    \
        if (!(cond))                                                        \
            ck_abort_msg(__VA_ARGS__);                                      \
    } while (0)

static const cnn_engine pn_engines[] = {CNN_ENGINE_AUTO, CNN_ENGINE_NATIVE,
                                        CNN_ENGINE_REFERENCE};
#define PN_ENGINE_COUNT 3

/* Guard words around an output, so a write past either end shows. */
#define PN_GUARD 16
#define PN_GUARD_BITS 0x7FC0DEADu /* a NaN no op produces */

typedef struct pn_out {
    uint32_t *block; /* PN_GUARD words, n floats, PN_GUARD words */
    cnn_tensor *t;   /* wraps the n floats in the middle */
    int64_t n;
} pn_out;

/* An F32 CPU tensor in guarded memory, holding `init` (or NaN, so that an
 * element the op forgot to write shows). */
static inline pn_out pn_out_create(int ndim, const int64_t *dims,
                                   const float *init)
{
    pn_out o = {.n = 1};
    for (int i = 0; i < ndim; ++i)
        o.n *= dims[i];
    o.block = malloc((size_t)(o.n + 2 * PN_GUARD) * sizeof *o.block);
    ck_assert_ptr_nonnull(o.block);
    for (int64_t i = 0; i < o.n + 2 * PN_GUARD; ++i)
        o.block[i] = PN_GUARD_BITS;
    float *data = (float *)(o.block + PN_GUARD);
    for (int64_t i = 0; init && i < o.n; ++i)
        data[i] = init[i];
    ck_assert_ok(cnn_tensor_wrap(&o.t, cnn_cpu(), CNN_F32, ndim, dims, data,
                                 (size_t)o.n * sizeof(float)));
    return o;
}

/* The output's values, after checking both guards and that no element
 * kept the fill (every op writes every element). */
static inline const float *pn_out_values(const pn_out *o)
{
    for (int i = 0; i < PN_GUARD; ++i) {
        PN_CHECK(o->block[i] == PN_GUARD_BITS, "write before the output");
        PN_CHECK(o->block[PN_GUARD + o->n + i] == PN_GUARD_BITS,
                 "write past the output");
    }
    for (int64_t i = 0; i < o->n; ++i)
        PN_CHECK(o->block[PN_GUARD + i] != PN_GUARD_BITS,
                 "output element %lld was not written", (long long)i);
    return (const float *)(o->block + PN_GUARD);
}

static inline void pn_out_free(pn_out *o)
{
    cnn_tensor_free(o->t);
    free(o->block);
    o->block = NULL;
    o->t = NULL;
}

/* An F32 tensor on a second logical CPU device, for the device mismatch
 * checks. The device count is read on first use, so this works in a
 * forked test (Check's default); in a process that already settled on one
 * device (CK_FORK=no) it says so and returns NULL. */
static inline cnn_tensor *pn_other_device_tensor(int ndim, const int64_t *dims)
{
    setenv("CNN_CPU_DEVICES", "2", 1);
    if (cnn_device_count(CNN_CPU) < 2) {
        printf("device mismatch checks skipped: one CPU device in this "
               "process (they need Check to fork)\n");
        return NULL;
    }
    cnn_tensor *t = NULL;
    ck_assert_ok(cnn_tensor_create(&t, cnn_cpu_n(1), CNN_F32, ndim, dims));
    return t;
}

/* n distinct values in [-1, 1), 2/n apart, shuffled by an LCG from seed:
 * pooling windows hold no ties, however values are grouped. */
static inline void pn_distinct(float *out, int64_t n, uint32_t seed)
{
    for (int64_t i = 0; i < n; ++i)
        out[i] = (float)(((double)i + 0.5) / (double)n * 2.0 - 1.0);
    uint32_t state = seed * 2654435761u + 7u;
    for (int64_t i = n - 1; i > 0; --i) {
        state = state * 1664525u + 1013904223u;
        int64_t j = (int64_t)((uint64_t)state * (uint64_t)(i + 1) >> 32);
        float t = out[i];
        out[i] = out[j];
        out[j] = t;
    }
}

/* Largest |a - b| over n elements; NaN in either makes it infinite. */
static inline double pn_max_diff(const float *a, const double *b, int64_t n)
{
    double worst = 0.0;
    for (int64_t i = 0; i < n; ++i) {
        double d = fabs((double)a[i] - b[i]);
        if (d != d)
            return INFINITY;
        if (d > worst)
            worst = d;
    }
    return worst;
}

static inline double pn_max_abs(const double *a, int64_t n)
{
    double m = 0.0;
    for (int64_t i = 0; i < n; ++i)
        m = fabs(a[i]) > m ? fabs(a[i]) : m;
    return m;
}

#endif /* CNN_TEST_POOL_NORM_UTIL_H */
