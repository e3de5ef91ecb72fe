/* tests/gemm_ops_util.h - what the conv, linear and GEMM suites share:
 * outputs with guard words on both sides and NaN in between (so a write
 * past either end, or an element never written, shows), comparisons with
 * tolerances scaled to the length of each sum, and the engines to run.
 * Element loops test first and call Check only on a failure: each passing
 * ck_assert costs Check a write to its pipe. */
#ifndef CNN_TEST_GEMM_OPS_UTIL_H
#define CNN_TEST_GEMM_OPS_UTIL_H

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"

static const cnn_engine gemm_ops_engines[] = {
    CNN_ENGINE_AUTO, CNN_ENGINE_NATIVE, CNN_ENGINE_REFERENCE};
#define GEMM_OPS_ENGINES 3

#define GEMM_OPS_GUARD 16
/* A NaN payload no op produces. */
static const uint32_t gemm_ops_guard_bits = 0x7FC0BEEFu;

typedef struct guarded {
    uint32_t *block; /* guard, n floats, guard */
    cnn_tensor *t;   /* wraps the floats in the middle */
    int64_t n;
} guarded;

/* A guarded F32 tensor; its elements start as `init` (NULL: NaN). */
static inline guarded guarded_create(int ndim, const int64_t *dims,
                                     const float *init)
{
    guarded g = {.n = 1};
    for (int i = 0; i < ndim; ++i)
        g.n *= dims[i];
    g.block = malloc((size_t)(g.n + 2 * GEMM_OPS_GUARD) * sizeof *g.block);
    ck_assert_ptr_nonnull(g.block);
    for (int64_t i = 0; i < g.n + 2 * GEMM_OPS_GUARD; ++i)
        g.block[i] = gemm_ops_guard_bits;
    if (init)
        memcpy(g.block + GEMM_OPS_GUARD, init, (size_t)g.n * sizeof(float));
    ck_assert_ok(cnn_tensor_wrap(&g.t, cnn_cpu(), CNN_F32, ndim, dims,
                                 g.block + GEMM_OPS_GUARD,
                                 (size_t)g.n * sizeof(float)));
    return g;
}

/* The values, after checking both guards. */
static inline const float *guarded_values(const guarded *g)
{
    for (int i = 0; i < GEMM_OPS_GUARD; ++i) {
        if (g->block[i] != gemm_ops_guard_bits)
            ck_abort_msg("a write before the output");
        if (g->block[GEMM_OPS_GUARD + g->n + i] != gemm_ops_guard_bits)
            ck_abort_msg("a write past the output");
    }
    return (const float *)(g->block + GEMM_OPS_GUARD);
}

static inline void guarded_free(guarded *g)
{
    cnn_tensor_free(g->t);
    free(g->block);
}

/* got[i] against want[i] (exact, in double) within
 * 4 eps32 (abssum[i] + |base[i]|) + 1e-30: abssum is the sum of the
 * magnitudes of the terms that make element i (the scale of a float
 * sum's rounding, which grows with the sum's length) and base an earlier
 * value the op accumulated onto (NULL: none). NaN always fails. */
static inline void expect_close(const char *what, const float *got,
                                const double *want, const double *abssum,
                                const float *base, int64_t n)
{
    for (int64_t i = 0; i < n; ++i) {
        double tol = 4.0 * FLT_EPSILON *
                         (abssum[i] + (base ? fabs((double)base[i]) : 0.0)) +
                     1e-30;
        double err = fabs((double)got[i] - want[i]);
        if (!(err <= tol)) /* Check's asserts cost a write each: test first */
            ck_abort_msg("%s[%lld] = %.9g, want %.9g (err %.3g > tol %.3g)",
                         what, (long long)i, (double)got[i], want[i], err,
                         tol);
    }
}

/* Floats in [-1, 1) from a seed, as doubles too. */
static inline float *test_floats(int64_t n, uint32_t seed, double **as_double)
{
    float *f = malloc((size_t)(n ? n : 1) * sizeof *f);
    ck_assert_ptr_nonnull(f);
    cnn_test_values(f, n, seed);
    if (as_double) {
        *as_double = malloc((size_t)(n ? n : 1) * sizeof **as_double);
        ck_assert_ptr_nonnull(*as_double);
        for (int64_t i = 0; i < n; ++i)
            (*as_double)[i] = f[i];
    }
    return f;
}

static inline double *test_doubles(int64_t n)
{
    double *d = calloc((size_t)(n ? n : 1), sizeof *d);
    ck_assert_ptr_nonnull(d);
    return d;
}

#endif /* CNN_TEST_GEMM_OPS_UTIL_H */
