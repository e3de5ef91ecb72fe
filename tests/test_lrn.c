/* tests/test_lrn.c - local response normalisation across channels on the
 * CPU: a double-precision reference written here (its backward checked by
 * central differences), every engine against it with guard words around
 * outputs, a float32 directional check, PyTorch's answers (including
 * groups as split + normalise + concatenate; tests/fixtures/norm.bin), the
 * same bits for any thread count, and bad arguments. Label: cpu. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "pool_norm_util.h"

typedef struct lrn_case {
    int64_t dims[4];
    int64_t size;
    float alpha, beta, k;
    int64_t groups;
    float scale; /* inputs in [-scale, scale) */
} lrn_case;

/* AlexNet's parameters, even sizes, groups, windows wider than a group,
 * size 1, 1x1 images, one channel, every special beta and a general one,
 * and shapes with several pixel spans that run on several threads. */
static const lrn_case cases[] = {
    {{2, 7, 3, 4}, 5, 5e-4f, 0.75f, 2.0f, 1, 20.0f},
    {{2, 6, 3, 3}, 4, 1.0f, 0.75f, 1.0f, 1, 1.0f},
    {{2, 8, 2, 3}, 3, 2.0f, 0.5f, 1.5f, 2, 1.0f},
    {{1, 12, 2, 2}, 7, 1.5f, 1.0f, 0.5f, 3, 1.0f},
    {{1, 5, 4, 4}, 2, 1.0f, 0.6f, 1.0f, 1, 1.0f},
    {{1, 3, 1, 1}, 1, 1.0f, 0.75f, 1.0f, 1, 1.0f},
    {{3, 10, 2, 1}, 6, 3.0f, 0.75f, 0.25f, 2, 1.0f},
    {{2, 1, 5, 5}, 5, 1.0f, 0.75f, 1.0f, 1, 1.0f},
    {{1, 9, 3, 3}, 30, 2.0f, 0.75f, 1.0f, 1, 1.0f},
    {{2, 96, 9, 11}, 5, 1.0f, 0.75f, 2.0f, 2, 2.0f},
    {{3, 40, 37, 41}, 4, 1.0f, 0.5f, 1.0f, 1, 1.0f},
    {{2, 33, 17, 13}, 5, 2.0f, 0.8f, 1.0f, 3, 1.0f},
};
#define CASE_COUNT ((int)(sizeof cases / sizeof cases[0]))

static int64_t numel(const lrn_case *k)
{
    return k->dims[0] * k->dims[1] * k->dims[2] * k->dims[3];
}

static cnn_lrn_params params_of(const lrn_case *k)
{
    cnn_lrn_params p = {k->size, k->alpha, k->beta, k->k, k->groups};
    return p;
}

/* ------------------------------------------------ the double reference */

typedef struct lrn_ref {
    double *y, *dx;
    double *y_mag, *dx_mag; /* sizes the float results round against */
} lrn_ref;

/* y, and (when dy is given) dx with the gradient of sum dy y; every
 * window clipped to the channel's group. */
static void ref_lrn(const lrn_case *k, const double *x, const double *dy,
                    lrn_ref *r)
{
    const int64_t C = k->dims[1], HW = k->dims[2] * k->dims[3];
    const int64_t G = C / k->groups, before = k->size / 2;
    const int64_t after = (k->size - 1) / 2;
    const double an = (double)k->alpha / (double)k->size, beta = k->beta;
    double *s = malloc((size_t)C * sizeof *s);
    for (int64_t n = 0; n < k->dims[0]; ++n)
        for (int64_t px = 0; px < HW; ++px) {
            const int64_t base = n * C * HW + px;
#define X(c) x[base + (c) * HW]
            for (int64_t c = 0; c < C; ++c) {
                int64_t g0 = c / G * G, lo = c - before, hi = c + after;
                double sum = 0.0;
                for (int64_t j = lo < g0 ? g0 : lo;
                     j <= (hi > g0 + G - 1 ? g0 + G - 1 : hi); ++j)
                    sum += X(j) * X(j);
                s[c] = k->k + an * sum;
                r->y[base + c * HW] = X(c) * pow(s[c], -beta);
                r->y_mag[base + c * HW] = fabs(r->y[base + c * HW]);
            }
            if (!dy)
                continue;
            for (int64_t i = 0; i < C; ++i) {
                int64_t g0 = i / G * G, lo = i - after, hi = i + before;
                double t = 0.0, t_mag = 0.0;
                for (int64_t c = lo < g0 ? g0 : lo;
                     c <= (hi > g0 + G - 1 ? g0 + G - 1 : hi); ++c) {
                    double v = dy[base + c * HW] * X(c) * pow(s[c], -beta - 1);
                    t += v;
                    t_mag += fabs(v);
                }
                double first = dy[base + i * HW] * pow(s[i], -beta);
                r->dx[base + i * HW] = first - 2.0 * an * beta * X(i) * t;
                r->dx_mag[base + i * HW] =
                    fabs(first) + 2.0 * an * beta * fabs(X(i)) * t_mag;
            }
#undef X
        }
    free(s);
}

static lrn_ref ref_alloc(int64_t n)
{
    lrn_ref r = {malloc((size_t)n * sizeof(double)),
                 malloc((size_t)n * sizeof(double)),
                 malloc((size_t)n * sizeof(double)),
                 malloc((size_t)n * sizeof(double))};
    return r;
}

static void ref_free(lrn_ref *r)
{
    free(r->y);
    free(r->dx);
    free(r->y_mag);
    free(r->dx_mag);
}

static void inputs(const lrn_case *k, uint32_t seed, float *x, float *dy)
{
    int64_t n = numel(k);
    cnn_test_values(x, n, seed);
    cnn_test_values(dy, n, seed + 1);
    for (int64_t i = 0; i < n; ++i)
        x[i] *= k->scale;
}

/* L = sum w y: the reference backward against central differences. */
START_TEST(reference_backward_matches_central_differences)
{
    for (int c = 0; c < CASE_COUNT; ++c) {
        const lrn_case *k = &cases[c];
        int64_t n = numel(k);
        if (n > 2048)
            continue; /* the small cases cover every branch */
        float *xf = malloc((size_t)n * sizeof *xf);
        float *wf = malloc((size_t)n * sizeof *wf);
        double *x = malloc((size_t)n * sizeof *x);
        double *w = malloc((size_t)n * sizeof *w);
        inputs(k, (uint32_t)c * 7 + 1, xf, wf);
        for (int64_t i = 0; i < n; ++i) {
            x[i] = xf[i];
            w[i] = wf[i];
        }
        lrn_ref r = ref_alloc(n), t = ref_alloc(n);
        ref_lrn(k, x, w, &r);
        const double h = 1e-6 * k->scale;
        for (int64_t i = 0; i < n; ++i) {
            double keep = x[i], l[2];
            for (int side = 0; side < 2; ++side) {
                x[i] = keep + (side ? -h : h);
                ref_lrn(k, x, NULL, &t);
                l[side] = 0.0;
                for (int64_t j = 0; j < n; ++j)
                    l[side] += w[j] * t.y[j];
            }
            x[i] = keep;
            double fd = (l[0] - l[1]) / (2 * h);
            PN_CHECK(fabs(fd - r.dx[i]) <= 1e-7 * (1.0 + r.dx_mag[i]),
                     "case %d [%lld]: %.10g by differences, %.10g by the "
                     "backward", c, (long long)i, fd, r.dx[i]);
        }
        ref_free(&r);
        ref_free(&t);
        free(xf);
        free(wf);
        free(x);
        free(w);
    }
}
END_TEST

/* ------------------------------------------- the library against it */

typedef struct lrn_run {
    float *y, *dx;
} lrn_run;

static lrn_run run_library(const lrn_case *k, const float *x, const float *dy)
{
    cnn_lrn_params p = params_of(k);
    int64_t n = numel(k);
    cnn_tensor *tx = cnn_test_tensor(4, k->dims, x);
    cnn_tensor *tdy = cnn_test_tensor(4, k->dims, dy);
    pn_out y = pn_out_create(4, k->dims, NULL);
    pn_out dx = pn_out_create(4, k->dims, NULL);
    ck_assert_ok(cnn_lrn_forward(y.t, tx, &p));
    ck_assert_ok(cnn_lrn_backward(dx.t, tdy, tx, y.t, &p));
    lrn_run r = {malloc((size_t)n * sizeof(float)),
                 malloc((size_t)n * sizeof(float))};
    memcpy(r.y, pn_out_values(&y), (size_t)n * sizeof(float));
    memcpy(r.dx, pn_out_values(&dx), (size_t)n * sizeof(float));
    pn_out_free(&y);
    pn_out_free(&dx);
    cnn_tensor_free(tx);
    cnn_tensor_free(tdy);
    return r;
}

static void run_free(lrn_run *r)
{
    free(r->y);
    free(r->dx);
}

/* Window sums of `size` terms, then a power: a few roundings per term. */
static double tolerance(const lrn_case *k)
{
    return (double)(k->size + 8) * 4.0 * FLT_EPSILON;
}

START_TEST(every_engine_matches_reference)
{
    for (int c = 0; c < CASE_COUNT; ++c) {
        const lrn_case *k = &cases[c];
        int64_t n = numel(k);
        float *xf = malloc((size_t)n * sizeof *xf);
        float *dyf = malloc((size_t)n * sizeof *dyf);
        double *x = malloc((size_t)n * sizeof *x);
        double *dy = malloc((size_t)n * sizeof *dy);
        inputs(k, (uint32_t)c * 7 + 2, xf, dyf);
        for (int64_t i = 0; i < n; ++i) {
            x[i] = xf[i];
            dy[i] = dyf[i];
        }
        lrn_ref r = ref_alloc(n);
        ref_lrn(k, x, dy, &r);
        const double tol = tolerance(k);
        for (int e = 0; e < PN_ENGINE_COUNT; ++e) {
            ck_assert_ok(cnn_set_engine(cnn_cpu(), pn_engines[e]));
            lrn_run got = run_library(k, xf, dyf);
            for (int64_t i = 0; i < n; ++i) {
                PN_CHECK(fabs(got.y[i] - r.y[i]) <= tol * r.y_mag[i] + 1e-30,
                         "case %d engine %s: y[%lld] = %.9g, want %.9g", c,
                         cnn_engine_name(pn_engines[e]), (long long)i,
                         (double)got.y[i], r.y[i]);
                PN_CHECK(fabs(got.dx[i] - r.dx[i]) <= tol * r.dx_mag[i] + 1e-30,
                         "case %d engine %s: dx[%lld] = %.9g, want %.9g", c,
                         cnn_engine_name(pn_engines[e]), (long long)i,
                         (double)got.dx[i], r.dx[i]);
            }
            run_free(&got);
        }
        ref_free(&r);
        free(xf);
        free(dyf);
        free(x);
        free(dy);
    }
}
END_TEST

/* d/de L(x + e v) by float32 differences of the library's forward, against
 * <dx, v> from its backward (L = sum w y). */
START_TEST(float32_directional_derivative)
{
    for (int c = 0; c < CASE_COUNT; ++c) {
        const lrn_case *k = &cases[c];
        int64_t n = numel(k);
        if (n > 4096)
            continue;
        float *x = malloc((size_t)n * sizeof *x);
        float *w = malloc((size_t)n * sizeof *w);
        float *v = malloc((size_t)n * sizeof *v);
        float *xs = malloc((size_t)n * sizeof *xs);
        inputs(k, (uint32_t)c * 7 + 3, x, w);
        cnn_test_values(v, n, (uint32_t)c * 7 + 5);
        lrn_run base = run_library(k, x, w);
        const float eps = 1e-3f * k->scale;
        double l[2], mag = 0.0;
        for (int side = 0; side < 2; ++side) {
            for (int64_t i = 0; i < n; ++i)
                xs[i] = x[i] + (side ? -eps : eps) * v[i];
            lrn_run r = run_library(k, xs, w);
            l[side] = 0.0;
            for (int64_t i = 0; i < n; ++i) {
                l[side] += (double)w[i] * r.y[i];
                mag += fabs(r.y[i]);
            }
            run_free(&r);
        }
        double dot = 0.0;
        for (int64_t i = 0; i < n; ++i)
            dot += (double)base.dx[i] * v[i];
        double fd = (l[0] - l[1]) / (2.0 * eps);
        /* Rounding noise in each y, over 2 eps; and the curvature of y
         * over the step. */
        double tol = 8.0 * tolerance(k) * mag / eps + 1e-3 * (1.0 + fabs(dot));
        PN_CHECK(fabs(fd - dot) <= tol, "case %d: %g by differences, %g by "
                 "the backward (tol %g)", c, fd, dot, tol);
        run_free(&base);
        free(x);
        free(w);
        free(v);
        free(xs);
    }
}
END_TEST

/* ------------------------------------------------------------ PyTorch */

START_TEST(matches_pytorch)
{
    cnn_fixture *f = cnn_fixture_load("norm.bin");
    const int *count = cnn_fixture_get(f, "lrn_count")->data;
    for (int c = 0; c < count[0]; ++c) {
        char name[64];
        snprintf(name, sizeof name, "lrn%d.hyper", c);
        const float *hyper = cnn_fixture_floats(f, name);
        snprintf(name, sizeof name, "lrn%d.x", c);
        const cnn_fixture_tensor *xt = cnn_fixture_get(f, name);
        lrn_case k = {{xt->dims[0], xt->dims[1], xt->dims[2], xt->dims[3]},
                      (int64_t)hyper[0], hyper[1], hyper[2], hyper[3],
                      (int64_t)hyper[4], 1.0f};
        snprintf(name, sizeof name, "lrn%d.y", c);
        const float *want_y = cnn_fixture_floats(f, name);
        snprintf(name, sizeof name, "lrn%d.dy", c);
        const float *dy = cnn_fixture_floats(f, name);
        snprintf(name, sizeof name, "lrn%d.dx", c);
        const float *want_dx = cnn_fixture_floats(f, name);
        /* PyTorch's alpha is a double and ours a float: 2^-24 relative,
         * well inside the tolerance. */
        const double tol = tolerance(&k);
        for (int e = 0; e < PN_ENGINE_COUNT; ++e) {
            ck_assert_ok(cnn_set_engine(cnn_cpu(), pn_engines[e]));
            lrn_run got = run_library(&k, xt->data, dy);
            for (int64_t i = 0; i < xt->numel; ++i) {
                PN_CHECK(fabs(got.y[i] - want_y[i]) <=
                             tol * (1.0 + fabs(want_y[i])),
                         "case %d engine %s: y[%lld] = %.9g, PyTorch %.9g", c,
                         cnn_engine_name(pn_engines[e]), (long long)i,
                         (double)got.y[i], (double)want_y[i]);
                PN_CHECK(fabs(got.dx[i] - want_dx[i]) <=
                             tol * (1.0 + fabs(want_dx[i])),
                         "case %d engine %s: dx[%lld] = %.9g, PyTorch %.9g", c,
                         cnn_engine_name(pn_engines[e]), (long long)i,
                         (double)got.dx[i], (double)want_dx[i]);
            }
            run_free(&got);
        }
    }
    cnn_fixture_free(f);
}
END_TEST

/* ----------------------------------------------------- determinism etc. */

START_TEST(same_bits_for_any_thread_count)
{
    for (int c = 0; c < CASE_COUNT; ++c) {
        const lrn_case *k = &cases[c];
        int64_t n = numel(k);
        float *x = malloc((size_t)n * sizeof *x);
        float *dy = malloc((size_t)n * sizeof *dy);
        inputs(k, (uint32_t)c * 7 + 4, x, dy);
        ck_assert_ok(cnn_set_engine(cnn_cpu(), CNN_ENGINE_NATIVE));
        ck_assert_ok(cnn_set_threads(cnn_cpu(), 1));
        lrn_run one = run_library(k, x, dy);
        for (int threads = 2; threads <= 3; ++threads) {
            ck_assert_ok(cnn_set_threads(cnn_cpu(), threads));
            lrn_run more = run_library(k, x, dy);
            ck_assert(memcmp(one.y, more.y, (size_t)n * sizeof(float)) == 0);
            ck_assert(memcmp(one.dx, more.dx, (size_t)n * sizeof(float)) == 0);
            run_free(&more);
        }
        run_free(&one);
        free(x);
        free(dy);
    }
}
END_TEST

/* y is optional in the backward: it recomputes what it needs from x. */
START_TEST(backward_without_y)
{
    const lrn_case *k = &cases[1];
    int64_t n = numel(k);
    float *x = malloc((size_t)n * sizeof *x);
    float *dy = malloc((size_t)n * sizeof *dy);
    float *a = malloc((size_t)n * sizeof *a);
    inputs(k, 5, x, dy);
    lrn_run with_y = run_library(k, x, dy);
    cnn_lrn_params p = params_of(k);
    cnn_tensor *tx = cnn_test_tensor(4, k->dims, x);
    cnn_tensor *tdy = cnn_test_tensor(4, k->dims, dy);
    cnn_tensor *tdx = cnn_test_tensor(4, k->dims, NULL);
    ck_assert_ok(cnn_lrn_backward(tdx, tdy, tx, NULL, &p));
    ck_assert_ok(cnn_tensor_read(tdx, a, (size_t)n * sizeof *a));
    ck_assert(memcmp(a, with_y.dx, (size_t)n * sizeof *a) == 0);
    run_free(&with_y);
    cnn_tensor_free(tx);
    cnn_tensor_free(tdy);
    cnn_tensor_free(tdx);
    free(x);
    free(dy);
    free(a);
}
END_TEST

/* ------------------------------------------------------ bad arguments */

START_TEST(bad_arguments)
{
    const int64_t dims[4] = {2, 6, 3, 3}, other_dims[4] = {2, 6, 3, 4};
    cnn_tensor *other = pn_other_device_tensor(4, dims);
    cnn_tensor *x = cnn_test_tensor(4, dims, NULL);
    cnn_tensor *y = cnn_test_tensor(4, dims, NULL);
    cnn_tensor *dx = cnn_test_tensor(4, dims, NULL);
    cnn_tensor *wrong = cnn_test_tensor(4, other_dims, NULL);
    cnn_tensor *ints = NULL;
    ck_assert_ok(cnn_tensor_create(&ints, cnn_cpu(), CNN_I32, 4, dims));
    ck_assert_ok(cnn_tensor_fill(x, 0.5));
    ck_assert_ok(cnn_tensor_fill(y, 0.5));
    cnn_lrn_params p = {5, 1e-4f, 0.75f, 2.0f, 1};
    ck_assert_ok(cnn_lrn_forward(y, x, &p));
    ck_assert_ok(cnn_lrn_backward(dx, y, x, y, &p));

    cnn_lrn_params bad = p;
    bad.size = 0;
    ck_assert_fails(cnn_lrn_forward(y, x, &bad), CNN_ERR_INVALID_ARGUMENT,
                    "cnn_lrn_forward: size 0");
    bad = p;
    bad.groups = 4; /* does not divide 6 */
    ck_assert_fails(cnn_lrn_forward(y, x, &bad), CNN_ERR_INVALID_ARGUMENT,
                    "groups 4");
    bad.groups = 0;
    ck_assert_fails(cnn_lrn_backward(dx, y, x, y, &bad),
                    CNN_ERR_INVALID_ARGUMENT, "cnn_lrn_backward: groups 0");
    bad = p;
    bad.beta = INFINITY;
    ck_assert_fails(cnn_lrn_forward(y, x, &bad), CNN_ERR_INVALID_ARGUMENT,
                    "finite");
    bad = p;
    bad.alpha = NAN;
    ck_assert_fails(cnn_lrn_forward(y, x, &bad), CNN_ERR_INVALID_ARGUMENT,
                    "finite");
    ck_assert_fails(cnn_lrn_forward(y, x, NULL), CNN_ERR_INVALID_ARGUMENT,
                    "params is NULL");
    ck_assert_fails(cnn_lrn_forward(NULL, x, &p), CNN_ERR_INVALID_ARGUMENT,
                    "y is NULL");
    ck_assert_fails(cnn_lrn_forward(y, ints, &p), CNN_ERR_INVALID_ARGUMENT,
                    "x is i32");
    ck_assert_fails(cnn_lrn_forward(wrong, x, &p), CNN_ERR_SHAPE,
                    "y has shape [2x6x3x4] but x has [2x6x3x3]");
    ck_assert_fails(cnn_lrn_forward(x, x, &p), CNN_ERR_INVALID_ARGUMENT,
                    "y shares memory with x");
    if (other)
        ck_assert_fails(cnn_lrn_forward(other, x, &p), CNN_ERR_DEVICE,
                        "y is on cpu:1");
    ck_assert_fails(cnn_lrn_backward(dx, wrong, x, y, &p), CNN_ERR_SHAPE,
                    "dy has shape");
    ck_assert_fails(cnn_lrn_backward(dx, y, x, wrong, &p), CNN_ERR_SHAPE,
                    "y has shape");
    ck_assert_fails(cnn_lrn_backward(dx, y, NULL, y, &p),
                    CNN_ERR_INVALID_ARGUMENT, "x is NULL");
    ck_assert_fails(cnn_lrn_backward(NULL, y, x, y, &p),
                    CNN_ERR_INVALID_ARGUMENT, "dx is NULL");
    ck_assert_fails(cnn_lrn_backward(y, y, x, NULL, &p),
                    CNN_ERR_INVALID_ARGUMENT, "dx shares memory with dy");
    if (other)
        ck_assert_fails(cnn_lrn_backward(dx, other, x, y, &p),
                        CNN_ERR_DEVICE, "dy is on cpu:1");
    cnn_tensor *all[] = {x, y, dx, wrong, ints, other};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; ++i)
        cnn_tensor_free(all[i]);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("lrn");
    TCase *tc = cnn_test_case("lrn");
    tcase_add_test(tc, reference_backward_matches_central_differences);
    tcase_add_test(tc, every_engine_matches_reference);
    tcase_add_test(tc, float32_directional_derivative);
    tcase_add_test(tc, matches_pytorch);
    tcase_add_test(tc, same_bits_for_any_thread_count);
    tcase_add_test(tc, backward_without_y);
    suite_add_tcase(s, tc);
    TCase *bad = cnn_test_case("bad input");
    tcase_add_test(bad, bad_arguments);
    suite_add_tcase(s, bad);
    return cnn_test_run(s);
}
