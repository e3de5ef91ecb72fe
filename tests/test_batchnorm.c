/* tests/test_batchnorm.c - 2-d batch normalisation on the CPU, training and
 * inference: a double-precision reference written here (its backward
 * checked by central differences), every engine against it with guard
 * words around outputs, a float32 directional check, PyTorch's answers
 * (tests/fixtures/norm.bin), the same bits for any thread count, and bad
 * arguments. Label: cpu. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "pool_norm_util.h"

typedef struct bn_case {
    int64_t dims[4];
    int training;
    float momentum, eps;
    float offset; /* added to x: a mean far from zero */
} bn_case;

/* Odd shapes: one channel, odd channel counts, two values per channel,
 * batch 1, a 1x1 image in inference, a mean far from zero, and sizes that
 * run on several threads. */
static const bn_case cases[] = {
    {{4, 3, 5, 6}, 1, 0.1f, 1e-5f, 0.0f},
    {{2, 1, 3, 3}, 1, 0.1f, 1e-5f, 5.0f},
    {{2, 5, 1, 1}, 1, 0.25f, 1e-3f, 0.0f},
    {{1, 7, 4, 4}, 1, 0.3f, 1e-3f, 0.0f},
    {{8, 32, 16, 16}, 1, 0.1f, 1e-5f, 0.5f},
    {{3, 4, 2, 3}, 0, 0.1f, 1e-5f, 0.0f},
    {{1, 3, 1, 1}, 0, 0.1f, 1e-5f, 0.0f},
    {{8, 32, 16, 16}, 0, 0.1f, 1e-5f, 0.0f},
};
#define CASE_COUNT ((int)(sizeof cases / sizeof cases[0]))

typedef struct bn_data {
    int64_t n, c, hw, numel;
    float *x, *gamma, *beta, *rm, *rv, *dy;
} bn_data;

static bn_data data_make(const bn_case *k, uint32_t seed)
{
    bn_data d = {.n = k->dims[0], .c = k->dims[1],
                 .hw = k->dims[2] * k->dims[3]};
    d.numel = d.n * d.c * d.hw;
    d.x = malloc((size_t)d.numel * sizeof(float));
    d.dy = malloc((size_t)d.numel * sizeof(float));
    d.gamma = malloc((size_t)d.c * sizeof(float));
    d.beta = malloc((size_t)d.c * sizeof(float));
    d.rm = malloc((size_t)d.c * sizeof(float));
    d.rv = malloc((size_t)d.c * sizeof(float));
    cnn_test_values(d.x, d.numel, seed);
    cnn_test_values(d.dy, d.numel, seed + 1);
    cnn_test_values(d.gamma, d.c, seed + 2);
    cnn_test_values(d.beta, d.c, seed + 3);
    cnn_test_values(d.rm, d.c, seed + 4);
    cnn_test_values(d.rv, d.c, seed + 5);
    for (int64_t i = 0; i < d.numel; ++i)
        d.x[i] += k->offset;
    for (int64_t i = 0; i < d.c; ++i) {
        d.gamma[i] = 1.0f + 0.5f * d.gamma[i];
        d.rv[i] = 1.25f + d.rv[i]; /* positive */
    }
    return d;
}

static void data_free(bn_data *d)
{
    free(d->x);
    free(d->dy);
    free(d->gamma);
    free(d->beta);
    free(d->rm);
    free(d->rv);
}

/* ------------------------------------------------ the double reference */

typedef struct bn_ref {
    double *y, *rm, *rv, *mean, *invstd; /* forward */
    double *dx, *dgamma, *dbeta;         /* backward */
    double *y_scale, *dgamma_scale;      /* sums of magnitudes, per channel */
} bn_ref;

static int64_t at(const bn_data *d, int64_t n, int64_t ch, int64_t i)
{
    return (n * d->c + ch) * d->hw + i;
}

/* Forward in double; x may differ from d->x (central differences). */
static void ref_forward(const bn_case *k, const bn_data *d, const double *x,
                        const double *gamma, const double *beta, bn_ref *r)
{
    const double m = (double)(d->n * d->hw);
    for (int64_t ch = 0; ch < d->c; ++ch) {
        double mean = d->rm[ch], var = d->rv[ch];
        if (k->training) {
            double sum = 0.0, sq = 0.0;
            for (int64_t n = 0; n < d->n; ++n)
                for (int64_t i = 0; i < d->hw; ++i)
                    sum += x[at(d, n, ch, i)];
            mean = sum / m;
            for (int64_t n = 0; n < d->n; ++n)
                for (int64_t i = 0; i < d->hw; ++i)
                    sq += (x[at(d, n, ch, i)] - mean) *
                          (x[at(d, n, ch, i)] - mean);
            var = sq / m;
            r->rm[ch] = (1.0 - k->momentum) * d->rm[ch] + k->momentum * mean;
            r->rv[ch] = (1.0 - k->momentum) * d->rv[ch] +
                        k->momentum * var * m / (m - 1.0);
        } else {
            r->rm[ch] = d->rm[ch];
            r->rv[ch] = d->rv[ch];
        }
        double invstd = 1.0 / sqrt(var + k->eps);
        r->mean[ch] = mean;
        r->invstd[ch] = invstd;
        for (int64_t n = 0; n < d->n; ++n)
            for (int64_t i = 0; i < d->hw; ++i) {
                int64_t j = at(d, n, ch, i);
                r->y[j] = (x[j] - mean) * invstd * gamma[ch] + beta[ch];
            }
    }
}

/* The gradient of sum dy y with respect to x, gamma and beta, from the
 * statistics ref_forward left in r. */
static void ref_backward(const bn_case *k, const bn_data *d, const double *x,
                         const double *gamma, bn_ref *r)
{
    const double m = (double)(d->n * d->hw);
    for (int64_t ch = 0; ch < d->c; ++ch) {
        double mean = r->mean[ch], invstd = r->invstd[ch];
        double sdy = 0.0, sdyx = 0.0, mag = 0.0, mag_x = 0.0;
        for (int64_t n = 0; n < d->n; ++n)
            for (int64_t i = 0; i < d->hw; ++i) {
                int64_t j = at(d, n, ch, i);
                double xhat = (x[j] - mean) * invstd;
                sdy += d->dy[j];
                sdyx += d->dy[j] * xhat;
                mag += fabs(d->dy[j]);
                mag_x += fabs(d->dy[j] * xhat);
            }
        r->dgamma[ch] = sdyx;
        r->dbeta[ch] = sdy;
        r->dgamma_scale[ch] = mag_x + mag * fabs(mean) * invstd;
        for (int64_t n = 0; n < d->n; ++n)
            for (int64_t i = 0; i < d->hw; ++i) {
                int64_t j = at(d, n, ch, i);
                double xhat = (x[j] - mean) * invstd, g = d->dy[j];
                if (k->training)
                    g -= (sdy + xhat * sdyx) / m;
                r->dx[j] = g * gamma[ch] * invstd;
                /* The magnitudes the float result is rounded against. */
                r->y_scale[j] = 1.0 + fabs(xhat * gamma[ch]) +
                                fabs(mean * invstd * gamma[ch]) +
                                fabs(d->dy[j] * gamma[ch] * invstd);
            }
    }
}

static bn_ref ref_alloc(const bn_data *d)
{
    bn_ref r;
    size_t nb = (size_t)d->numel * sizeof(double);
    size_t cb = (size_t)d->c * sizeof(double);
    r.y = malloc(nb);
    r.dx = malloc(nb);
    r.y_scale = malloc(nb);
    r.rm = malloc(cb);
    r.rv = malloc(cb);
    r.mean = malloc(cb);
    r.invstd = malloc(cb);
    r.dgamma = malloc(cb);
    r.dbeta = malloc(cb);
    r.dgamma_scale = malloc(cb);
    return r;
}

static void ref_free(bn_ref *r)
{
    free(r->y);
    free(r->dx);
    free(r->y_scale);
    free(r->rm);
    free(r->rv);
    free(r->mean);
    free(r->invstd);
    free(r->dgamma);
    free(r->dbeta);
    free(r->dgamma_scale);
}

static double *to_double(const float *f, int64_t n)
{
    double *d = malloc((size_t)n * sizeof *d);
    for (int64_t i = 0; i < n; ++i)
        d[i] = f[i];
    return d;
}

/* L = sum dy y: the reference backward against central differences in x,
 * gamma and beta. */
START_TEST(reference_backward_matches_central_differences)
{
    for (int c = 0; c < CASE_COUNT; ++c) {
        const bn_case *k = &cases[c];
        if (k->dims[0] * k->dims[1] * k->dims[2] * k->dims[3] > 4096)
            continue; /* small cases cover every branch */
        bn_data d = data_make(k, (uint32_t)c * 10 + 1);
        double *x = to_double(d.x, d.numel);
        double *gamma = to_double(d.gamma, d.c);
        double *beta = to_double(d.beta, d.c);
        bn_ref r = ref_alloc(&d), t = ref_alloc(&d);
        ref_forward(k, &d, x, gamma, beta, &r);
        ref_backward(k, &d, x, gamma, &r);
        const double h = 1e-6;
        double *params[3] = {x, gamma, beta};
        const double *grads[3] = {r.dx, r.dgamma, r.dbeta};
        const int64_t counts[3] = {d.numel, d.c, d.c};
        for (int which = 0; which < 3; ++which)
            for (int64_t i = 0; i < counts[which]; ++i) {
                double *v = &params[which][i], keep = *v, l[2];
                for (int side = 0; side < 2; ++side) {
                    *v = keep + (side ? -h : h);
                    ref_forward(k, &d, x, gamma, beta, &t);
                    l[side] = 0.0;
                    for (int64_t j = 0; j < d.numel; ++j)
                        l[side] += d.dy[j] * t.y[j];
                }
                *v = keep;
                double fd = (l[0] - l[1]) / (2 * h);
                PN_CHECK(fabs(fd - grads[which][i]) <=
                                  1e-6 * (1.0 + fabs(fd)),
                              "case %d param %d [%lld]: %.10g by differences, "
                              "%.10g by the backward", c, which, (long long)i,
                              fd, grads[which][i]);
            }
        ref_free(&r);
        ref_free(&t);
        free(x);
        free(gamma);
        free(beta);
        data_free(&d);
    }
}
END_TEST

/* ------------------------------------------- the library against it */

typedef struct bn_run {
    float *y, *rm, *rv, *mean, *invstd, *dx, *dgamma, *dbeta;
} bn_run;

/* dgamma and dbeta start at these, to check that the backward adds. */
#define DGAMMA0 0.25f
#define DBETA0 -0.5f

static float *copy_out(const pn_out *o)
{
    float *f = malloc((size_t)o->n * sizeof *f);
    memcpy(f, pn_out_values(o), (size_t)o->n * sizeof *f);
    return f;
}

/* Forward then backward (from the forward's saves) on the current engine,
 * every output guarded. */
static bn_run run_library(const bn_case *k, const bn_data *d)
{
    cnn_batchnorm2d_params p = {k->training, k->momentum, k->eps};
    const int64_t cd[1] = {d->c};
    cnn_tensor *x = cnn_test_tensor(4, k->dims, d->x);
    cnn_tensor *dy = cnn_test_tensor(4, k->dims, d->dy);
    cnn_tensor *gamma = cnn_test_tensor(1, cd, d->gamma);
    cnn_tensor *beta = cnn_test_tensor(1, cd, d->beta);
    float *g0 = malloc((size_t)d->c * sizeof *g0);
    float *b0 = malloc((size_t)d->c * sizeof *b0);
    for (int64_t i = 0; i < d->c; ++i) {
        g0[i] = DGAMMA0;
        b0[i] = DBETA0;
    }
    pn_out y = pn_out_create(4, k->dims, NULL);
    pn_out rm = pn_out_create(1, cd, d->rm), rv = pn_out_create(1, cd, d->rv);
    pn_out mean = pn_out_create(1, cd, NULL);
    pn_out invstd = pn_out_create(1, cd, NULL);
    pn_out dx = pn_out_create(4, k->dims, NULL);
    pn_out dgamma = pn_out_create(1, cd, g0), dbeta = pn_out_create(1, cd, b0);
    ck_assert_ok(cnn_batchnorm2d_forward(y.t, x, gamma, beta, rm.t, rv.t,
                                         mean.t, invstd.t, &p));
    ck_assert_ok(cnn_batchnorm2d_backward(dx.t, dgamma.t, dbeta.t, dy, x,
                                          gamma, mean.t, invstd.t, &p));
    bn_run r = {copy_out(&y), copy_out(&rm), copy_out(&rv), copy_out(&mean),
                copy_out(&invstd), copy_out(&dx), copy_out(&dgamma),
                copy_out(&dbeta)};
    pn_out *outs[] = {&y, &rm, &rv, &mean, &invstd, &dx, &dgamma, &dbeta};
    for (size_t i = 0; i < sizeof outs / sizeof outs[0]; ++i)
        pn_out_free(outs[i]);
    cnn_tensor_free(x);
    cnn_tensor_free(dy);
    cnn_tensor_free(gamma);
    cnn_tensor_free(beta);
    free(g0);
    free(b0);
    return r;
}

static void run_free(bn_run *r)
{
    free(r->y);
    free(r->rm);
    free(r->rv);
    free(r->mean);
    free(r->invstd);
    free(r->dx);
    free(r->dgamma);
    free(r->dbeta);
}

static void expect(const char *what, int c, int e, int64_t i, double got,
                   double want, double tol)
{
    PN_CHECK(fabs(got - want) <= tol,
                  "case %d engine %s: %s[%lld] = %.9g, want %.9g (tol %g)", c,
                  cnn_engine_name(pn_engines[e]), what, (long long)i, got,
                  want, tol);
}

START_TEST(every_engine_matches_reference)
{
    for (int c = 0; c < CASE_COUNT; ++c) {
        const bn_case *k = &cases[c];
        bn_data d = data_make(k, (uint32_t)c * 10 + 2);
        double *x = to_double(d.x, d.numel);
        double *gamma = to_double(d.gamma, d.c);
        double *beta = to_double(d.beta, d.c);
        bn_ref r = ref_alloc(&d);
        ref_forward(k, &d, x, gamma, beta, &r);
        ref_backward(k, &d, x, gamma, &r);
        /* A few roundings of values of the size y_scale sums. */
        const double eps = 8.0 * FLT_EPSILON;
        for (int e = 0; e < PN_ENGINE_COUNT; ++e) {
            ck_assert_ok(cnn_set_engine(cnn_cpu(), pn_engines[e]));
            bn_run got = run_library(k, &d);
            for (int64_t i = 0; i < d.numel; ++i) {
                expect("y", c, e, i, got.y[i], r.y[i], eps * r.y_scale[i]);
                expect("dx", c, e, i, got.dx[i], r.dx[i], eps * r.y_scale[i]);
            }
            for (int64_t i = 0; i < d.c; ++i) {
                expect("running_mean", c, e, i, got.rm[i], r.rm[i],
                       eps * (1.0 + fabs(r.rm[i])));
                expect("running_var", c, e, i, got.rv[i], r.rv[i],
                       eps * (1.0 + fabs(r.rv[i])));
                expect("save_mean", c, e, i, got.mean[i], r.mean[i],
                       eps * (1.0 + fabs(r.mean[i])));
                expect("save_invstd", c, e, i, got.invstd[i], r.invstd[i],
                       eps * r.invstd[i]);
                expect("dgamma", c, e, i, got.dgamma[i], DGAMMA0 + r.dgamma[i],
                       eps * (1.0 + r.dgamma_scale[i]));
                expect("dbeta", c, e, i, got.dbeta[i], DBETA0 + r.dbeta[i],
                       eps * (1.0 + r.dgamma_scale[i]));
            }
            run_free(&got);
        }
        ref_free(&r);
        free(x);
        free(gamma);
        free(beta);
        data_free(&d);
    }
}
END_TEST

/* d/de L(x + e v) by float32 differences of the library's training
 * forward, against <dx, v> from its backward (L = sum w y). */
START_TEST(float32_directional_derivative)
{
    const bn_case k = {{3, 4, 5, 5}, 1, 0.1f, 1e-5f, 0.0f};
    bn_data d = data_make(&k, 77);
    float *v = malloc((size_t)d.numel * sizeof *v);
    float *xs = malloc((size_t)d.numel * sizeof *xs);
    cnn_test_values(v, d.numel, 78);
    bn_run base = run_library(&k, &d); /* backward with dy = w */
    const float eps = 1e-3f;
    double l[2];
    float *keep = d.x;
    for (int side = 0; side < 2; ++side) {
        for (int64_t i = 0; i < d.numel; ++i)
            xs[i] = keep[i] + (side ? -eps : eps) * v[i];
        d.x = xs;
        bn_run r = run_library(&k, &d);
        l[side] = 0.0;
        for (int64_t i = 0; i < d.numel; ++i)
            l[side] += (double)d.dy[i] * r.y[i];
        run_free(&r);
    }
    d.x = keep;
    double dot = 0.0;
    for (int64_t i = 0; i < d.numel; ++i)
        dot += (double)base.dx[i] * v[i];
    double fd = (l[0] - l[1]) / (2.0 * eps);
    /* y rounds to 2^-24 of its size (a few units) in each of n terms. */
    double tol = 4.0 * (double)d.numel * FLT_EPSILON / eps + 1e-3;
    PN_CHECK(fabs(fd - dot) <= tol, "%g by differences, %g by the "
                  "backward (tol %g)", fd, dot, tol);
    run_free(&base);
    free(v);
    free(xs);
    data_free(&d);
}
END_TEST

/* ------------------------------------------------------------ PyTorch */

START_TEST(matches_pytorch)
{
    cnn_fixture *f = cnn_fixture_load("norm.bin");
    const int *count = cnn_fixture_get(f, "bn_count")->data;
    for (int c = 0; c < count[0]; ++c) {
        char name[64];
#define FIX(key) (snprintf(name, sizeof name, "bn%d." key, c), \
                  cnn_fixture_floats(f, name))
        const float *hyper = FIX("hyper");
        snprintf(name, sizeof name, "bn%d.x", c);
        const cnn_fixture_tensor *xt = cnn_fixture_get(f, name);
        bn_case k = {{xt->dims[0], xt->dims[1], xt->dims[2], xt->dims[3]},
                     hyper[0] != 0.0f, hyper[1], hyper[2], 0.0f};
        bn_data d = {k.dims[0], k.dims[1], k.dims[2] * k.dims[3], xt->numel,
                     (float *)xt->data, (float *)FIX("gamma"),
                     (float *)FIX("beta"), (float *)FIX("rm0"),
                     (float *)FIX("rv0"), (float *)FIX("dy")};
        const float *want_y = FIX("y"), *want_dx = FIX("dx");
        const float *want_rm = FIX("rm1"), *want_rv = FIX("rv1");
        const float *want_mean = FIX("save_mean");
        const float *want_invstd = FIX("save_invstd");
        const float *want_dgamma = FIX("dgamma"), *want_dbeta = FIX("dbeta");
#undef FIX
        const double tol = 64.0 * FLT_EPSILON; /* values of order 1-10 */
        for (int e = 0; e < PN_ENGINE_COUNT; ++e) {
            ck_assert_ok(cnn_set_engine(cnn_cpu(), pn_engines[e]));
            bn_run got = run_library(&k, &d);
            for (int64_t i = 0; i < d.numel; ++i) {
                expect("y", c, e, i, got.y[i], want_y[i], tol);
                expect("dx", c, e, i, got.dx[i], want_dx[i], tol);
            }
            for (int64_t i = 0; i < d.c; ++i) {
                expect("running_mean", c, e, i, got.rm[i], want_rm[i], tol);
                expect("running_var", c, e, i, got.rv[i], want_rv[i], tol);
                expect("save_mean", c, e, i, got.mean[i], want_mean[i], tol);
                expect("save_invstd", c, e, i, got.invstd[i], want_invstd[i],
                       tol * want_invstd[i]);
                expect("dgamma", c, e, i, got.dgamma[i],
                       DGAMMA0 + want_dgamma[i], tol * (double)d.n * d.hw);
                expect("dbeta", c, e, i, got.dbeta[i], DBETA0 + want_dbeta[i],
                       tol * (double)d.n * d.hw);
            }
            run_free(&got);
        }
    }
    cnn_fixture_free(f);
}
END_TEST

/* ----------------------------------------------------- determinism etc. */

/* 1, 2 and 3 threads, and the same call twice, give the same bits. */
START_TEST(same_bits_for_any_thread_count)
{
    for (int c = 0; c < CASE_COUNT; ++c) {
        const bn_case *k = &cases[c];
        bn_data d = data_make(k, (uint32_t)c * 10 + 3);
        ck_assert_ok(cnn_set_engine(cnn_cpu(), CNN_ENGINE_NATIVE));
        ck_assert_ok(cnn_set_threads(cnn_cpu(), 1));
        bn_run one = run_library(k, &d);
        for (int threads = 2; threads <= 3; ++threads) {
            ck_assert_ok(cnn_set_threads(cnn_cpu(), threads));
            bn_run more = run_library(k, &d);
            size_t nb = (size_t)d.numel * sizeof(float);
            size_t cb = (size_t)d.c * sizeof(float);
            ck_assert(memcmp(one.y, more.y, nb) == 0);
            ck_assert(memcmp(one.dx, more.dx, nb) == 0);
            ck_assert(memcmp(one.rm, more.rm, cb) == 0);
            ck_assert(memcmp(one.rv, more.rv, cb) == 0);
            ck_assert(memcmp(one.mean, more.mean, cb) == 0);
            ck_assert(memcmp(one.invstd, more.invstd, cb) == 0);
            ck_assert(memcmp(one.dgamma, more.dgamma, cb) == 0);
            ck_assert(memcmp(one.dbeta, more.dbeta, cb) == 0);
            run_free(&more);
        }
        run_free(&one);
        data_free(&d);
    }
}
END_TEST

/* Inference without save tensors, and a backward that asks only for some
 * gradients. */
START_TEST(optional_outputs)
{
    const int64_t dims[4] = {2, 3, 4, 4}, cd[1] = {3};
    bn_case k = {{2, 3, 4, 4}, 0, 0.1f, 1e-5f, 0.0f};
    bn_data d = data_make(&k, 99);
    cnn_tensor *x = cnn_test_tensor(4, dims, d.x);
    cnn_tensor *dy = cnn_test_tensor(4, dims, d.dy);
    cnn_tensor *gamma = cnn_test_tensor(1, cd, d.gamma);
    cnn_tensor *beta = cnn_test_tensor(1, cd, d.beta);
    cnn_tensor *rm = cnn_test_tensor(1, cd, d.rm);
    cnn_tensor *rv = cnn_test_tensor(1, cd, d.rv);
    cnn_tensor *mean = cnn_test_tensor(1, cd, NULL);
    cnn_tensor *invstd = cnn_test_tensor(1, cd, NULL);
    cnn_tensor *y = cnn_test_tensor(4, dims, NULL);
    cnn_tensor *dx = cnn_test_tensor(4, dims, NULL);
    for (int e = 0; e < PN_ENGINE_COUNT; ++e) {
        ck_assert_ok(cnn_set_engine(cnn_cpu(), pn_engines[e]));
        ck_assert_ok(cnn_tensor_write(rm, d.rm, 3 * sizeof(float)));
        cnn_batchnorm2d_params p = {0, 0.1f, 1e-5f};
        ck_assert_ok(cnn_batchnorm2d_forward(y, x, gamma, beta, rm, rv, NULL,
                                             NULL, &p));
        ck_assert_ok(cnn_batchnorm2d_forward(y, x, gamma, beta, rm, rv, mean,
                                             NULL, &p));
        ck_assert_ok(cnn_batchnorm2d_forward(y, x, gamma, beta, rm, rv, mean,
                                             invstd, &p));
        float got[3];
        ck_assert_ok(cnn_tensor_read(rm, got, sizeof got));
        for (int i = 0; i < 3; ++i) /* inference updates nothing */
            ck_assert(got[i] == d.rm[i]);
        ck_assert_ok(cnn_tensor_read(mean, got, sizeof got));
        for (int i = 0; i < 3; ++i)
            ck_assert(got[i] == d.rm[i]);
        ck_assert_ok(cnn_batchnorm2d_backward(dx, NULL, NULL, dy, x, gamma,
                                              mean, invstd, &p));
        ck_assert_ok(cnn_batchnorm2d_backward(NULL, NULL, NULL, dy, x, gamma,
                                              mean, invstd, &p));
        p.training = 1;
        ck_assert_ok(cnn_batchnorm2d_forward(y, x, gamma, beta, rm, rv, mean,
                                             invstd, &p));
        ck_assert_ok(cnn_batchnorm2d_backward(dx, NULL, NULL, dy, x, gamma,
                                              mean, invstd, &p));
    }
    cnn_tensor *all[] = {x, dy, gamma, beta, rm, rv, mean, invstd, y, dx};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; ++i)
        cnn_tensor_free(all[i]);
    data_free(&d);
}
END_TEST

/* ------------------------------------------------------ bad arguments */

START_TEST(bad_arguments)
{
    const int64_t dims[4] = {2, 3, 4, 4}, cd[1] = {3}, c4[1] = {4};
    cnn_tensor *other = pn_other_device_tensor(1, cd);
    const int64_t one[4] = {1, 3, 1, 1};
    cnn_tensor *x = cnn_test_tensor(4, dims, NULL);
    cnn_tensor *y = cnn_test_tensor(4, dims, NULL);
    cnn_tensor *x1 = cnn_test_tensor(4, one, NULL);
    cnn_tensor *y1 = cnn_test_tensor(4, one, NULL);
    cnn_tensor *v[6], *wrong = cnn_test_tensor(1, c4, NULL);
    for (int i = 0; i < 6; ++i)
        v[i] = cnn_test_tensor(1, cd, NULL);
    ck_assert_ok(cnn_tensor_fill(v[0], 1.0));
    ck_assert_ok(cnn_tensor_fill(v[3], 1.0)); /* running_var */
    cnn_batchnorm2d_params p = {1, 0.1f, 1e-5f};
#define FWD(yy, xx, g, b, rm, rv, sm, si, pp) \
    cnn_batchnorm2d_forward(yy, xx, g, b, rm, rv, sm, si, pp)
    ck_assert_ok(FWD(y, x, v[0], v[1], v[2], v[3], v[4], v[5], &p));
    ck_assert_fails(FWD(y1, x1, v[0], v[1], v[2], v[3], v[4], v[5], &p),
                    CNN_ERR_SHAPE, "one value per channel");
    cnn_batchnorm2d_params infer = {0, 0.1f, 1e-5f};
    ck_assert_ok(FWD(y1, x1, v[0], v[1], v[2], v[3], NULL, NULL, &infer));
    cnn_batchnorm2d_params bad = p;
    bad.eps = 0.0f;
    ck_assert_fails(FWD(y, x, v[0], v[1], v[2], v[3], v[4], v[5], &bad),
                    CNN_ERR_INVALID_ARGUMENT, "eps");
    bad = p;
    bad.momentum = 1.5f;
    ck_assert_fails(FWD(y, x, v[0], v[1], v[2], v[3], v[4], v[5], &bad),
                    CNN_ERR_INVALID_ARGUMENT, "momentum");
    bad.momentum = NAN;
    ck_assert_fails(FWD(y, x, v[0], v[1], v[2], v[3], v[4], v[5], &bad),
                    CNN_ERR_INVALID_ARGUMENT, "momentum");
    ck_assert_fails(FWD(y, x, v[0], v[1], v[2], v[3], v[4], v[5], NULL),
                    CNN_ERR_INVALID_ARGUMENT, "params is NULL");
    ck_assert_fails(FWD(y, x, wrong, v[1], v[2], v[3], v[4], v[5], &p),
                    CNN_ERR_SHAPE, "gamma has shape [4] but must be [3]");
    ck_assert_fails(FWD(y, x, v[0], NULL, v[2], v[3], v[4], v[5], &p),
                    CNN_ERR_INVALID_ARGUMENT, "beta is NULL");
    ck_assert_fails(FWD(y, x, v[0], v[1], v[2], v[3], NULL, v[5], &p),
                    CNN_ERR_INVALID_ARGUMENT, "save_mean is NULL");
    ck_assert_fails(FWD(y, x, v[0], v[1], v[2], v[3], v[4], NULL, &p),
                    CNN_ERR_INVALID_ARGUMENT, "save_invstd is NULL");
    ck_assert_fails(FWD(y, x, v[0], v[1], NULL, v[3], v[4], v[5], &p),
                    CNN_ERR_INVALID_ARGUMENT, "running_mean is NULL");
    if (other)
        ck_assert_fails(FWD(y, x, v[0], v[1], v[2], other, v[4], v[5], &p),
                        CNN_ERR_DEVICE, "running_var is on cpu:1");
    ck_assert_fails(FWD(y1, x, v[0], v[1], v[2], v[3], v[4], v[5], &p),
                    CNN_ERR_SHAPE, "y has shape [1x3x1x1] but x has");
    ck_assert_fails(FWD(x, x, v[0], v[1], v[2], v[3], v[4], v[5], &p),
                    CNN_ERR_INVALID_ARGUMENT,
                    "cnn_batchnorm2d_forward: y shares memory with x");
#undef FWD

#define BWD(dx, dg, db, dy, xx, g, sm, si, pp) \
    cnn_batchnorm2d_backward(dx, dg, db, dy, xx, g, sm, si, pp)
    ck_assert_ok(BWD(y, v[1], v[2], x, x, v[0], v[4], v[5], &p));
    ck_assert_fails(BWD(y, v[1], v[2], x, x, NULL, v[4], v[5], &p),
                    CNN_ERR_INVALID_ARGUMENT, "gamma is NULL");
    ck_assert_fails(BWD(y, v[1], v[2], x, x, v[0], NULL, v[5], &p),
                    CNN_ERR_INVALID_ARGUMENT, "save_mean is NULL");
    ck_assert_fails(BWD(y, wrong, v[2], x, x, v[0], v[4], v[5], &p),
                    CNN_ERR_SHAPE, "dgamma has shape [4]");
    if (other)
        ck_assert_fails(BWD(y, v[1], other, x, x, v[0], v[4], v[5], &p),
                        CNN_ERR_DEVICE, "dbeta is on cpu:1");
    ck_assert_fails(BWD(y1, v[1], v[2], x, x, v[0], v[4], v[5], &p),
                    CNN_ERR_SHAPE, "dx has shape");
    ck_assert_fails(BWD(y, v[1], v[2], y1, x, v[0], v[4], v[5], &p),
                    CNN_ERR_SHAPE, "dy has shape");
    ck_assert_fails(BWD(x, v[1], v[2], y, x, v[0], v[4], v[5], &p),
                    CNN_ERR_INVALID_ARGUMENT, "dx shares memory with x");
    ck_assert_fails(BWD(y, v[1], v[1], x, x, v[0], v[4], v[5], &p),
                    CNN_ERR_INVALID_ARGUMENT, "dgamma shares memory with dbeta");
    ck_assert_fails(BWD(y1, v[1], v[2], y1, x1, v[0], v[4], v[5], &p),
                    CNN_ERR_SHAPE,
                    "cnn_batchnorm2d_backward: x has shape [1x3x1x1], one "
                    "value");
#undef BWD

    cnn_tensor *all[] = {x, y, x1, y1, wrong, other};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; ++i)
        cnn_tensor_free(all[i]);
    for (int i = 0; i < 6; ++i)
        cnn_tensor_free(v[i]);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("batchnorm");
    TCase *tc = cnn_test_case("batchnorm");
    tcase_add_test(tc, reference_backward_matches_central_differences);
    tcase_add_test(tc, every_engine_matches_reference);
    tcase_add_test(tc, float32_directional_derivative);
    tcase_add_test(tc, matches_pytorch);
    tcase_add_test(tc, same_bits_for_any_thread_count);
    tcase_add_test(tc, optional_outputs);
    suite_add_tcase(s, tc);
    TCase *bad = cnn_test_case("bad input");
    tcase_add_test(bad, bad_arguments);
    suite_add_tcase(s, bad);
    return cnn_test_run(s);
}
