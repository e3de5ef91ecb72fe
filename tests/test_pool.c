/* tests/test_pool.c - max and average pooling and global average pooling
 * on the CPU: a double-precision reference written here (its backward
 * checked by central differences), every engine against it with guard
 * words around outputs, a float32 directional check of the library's
 * backward, PyTorch's answers (tests/fixtures/pool.bin), the native engine
 * against the reference engine on ties, NaNs and shapes big enough for
 * several threads, the same bits for any thread count, PyTorch's tie and
 * NaN rules, and bad arguments.
 * Label: cpu. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "pool_norm_util.h"

typedef struct pool_case {
    cnn_pool_mode mode;
    int64_t n, c, h, w;
    int64_t kh, kw, sh, sw, ph, pw;
} pool_case;

/* AlexNet's and ResNet's pools, then odd shapes: a 1x1 image, a kernel
 * equal to the padded input, a stride larger than the kernel, one channel,
 * odd channel counts, non-square kernels, and sizes that run on several
 * threads. */
static const pool_case cases[] = {
    {CNN_POOL_MAX, 2, 3, 13, 13, 3, 3, 2, 2, 0, 0},
    {CNN_POOL_MAX, 2, 3, 9, 11, 3, 3, 2, 2, 1, 1},
    {CNN_POOL_MAX, 1, 5, 8, 8, 2, 2, 2, 2, 0, 0},
    {CNN_POOL_MAX, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0},
    {CNN_POOL_MAX, 2, 3, 3, 4, 5, 6, 1, 1, 1, 1},
    {CNN_POOL_MAX, 1, 7, 10, 11, 2, 2, 3, 3, 0, 1},
    {CNN_POOL_MAX, 3, 1, 7, 9, 2, 3, 1, 2, 1, 1},
    {CNN_POOL_MAX, 1, 1, 6, 5, 1, 1, 2, 3, 0, 0},
    {CNN_POOL_MAX, 4, 9, 24, 23, 3, 3, 2, 2, 1, 1},
    {CNN_POOL_AVG, 2, 3, 13, 13, 3, 3, 2, 2, 0, 0},
    {CNN_POOL_AVG, 2, 3, 9, 11, 3, 3, 2, 2, 1, 1},
    {CNN_POOL_AVG, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0},
    {CNN_POOL_AVG, 2, 3, 3, 4, 5, 6, 1, 1, 1, 1},
    {CNN_POOL_AVG, 1, 7, 10, 11, 2, 2, 3, 3, 0, 1},
    {CNN_POOL_AVG, 3, 1, 7, 9, 2, 3, 1, 2, 1, 1},
    {CNN_POOL_AVG, 4, 9, 24, 23, 3, 3, 2, 2, 1, 1},
};
#define CASE_COUNT ((int)(sizeof cases / sizeof cases[0]))

static cnn_pool2d_params params_of(const pool_case *k)
{
    cnn_pool2d_params p = {k->mode, k->kh, k->kw, k->sh, k->sw, k->ph, k->pw};
    return p;
}

static void case_dims(const pool_case *k, int64_t x[4], int64_t y[4])
{
    x[0] = y[0] = k->n;
    x[1] = y[1] = k->c;
    x[2] = k->h;
    x[3] = k->w;
    y[2] = (k->h + 2 * k->ph - k->kh) / k->sh + 1;
    y[3] = (k->w + 2 * k->pw - k->kw) / k->sw + 1;
}

static int64_t numel(const int64_t d[4]) { return d[0] * d[1] * d[2] * d[3]; }

/* ------------------------------------------------ the double reference */

/* Calls visit(window element index, ctx) for the window of output (i, j)
 * of one plane, in row-major order. */
typedef struct window {
    int64_t hs, he, ws, we;
} window;

static window window_of(const pool_case *k, int64_t i, int64_t j)
{
    int64_t h0 = i * k->sh - k->ph, w0 = j * k->sw - k->pw;
    window win = {h0 < 0 ? 0 : h0, h0 + k->kh > k->h ? k->h : h0 + k->kh,
                  w0 < 0 ? 0 : w0, w0 + k->kw > k->w ? k->w : w0 + k->kw};
    return win;
}

/* The first maximum in row-major order (the inputs here have no NaN). */
static int64_t winner(const pool_case *k, const double *x, window win)
{
    int64_t best = win.hs * k->w + win.ws;
    for (int64_t h = win.hs; h < win.he; ++h)
        for (int64_t w = win.ws; w < win.we; ++w)
            if (x[h * k->w + w] > x[best])
                best = h * k->w + w;
    return best;
}

static void ref_forward(const pool_case *k, const double *x, double *y)
{
    int64_t xd[4], yd[4];
    case_dims(k, xd, yd);
    for (int64_t p = 0; p < k->n * k->c; ++p) {
        const double *xp = x + p * xd[2] * xd[3];
        for (int64_t i = 0; i < yd[2]; ++i)
            for (int64_t j = 0; j < yd[3]; ++j) {
                window win = window_of(k, i, j);
                double v = 0.0;
                if (k->mode == CNN_POOL_MAX) {
                    v = xp[winner(k, xp, win)];
                } else {
                    for (int64_t h = win.hs; h < win.he; ++h)
                        for (int64_t w = win.ws; w < win.we; ++w)
                            v += xp[h * k->w + w];
                    v /= (double)(k->kh * k->kw);
                }
                y[(p * yd[2] + i) * yd[3] + j] = v;
            }
    }
}

static void ref_backward(const pool_case *k, const double *x,
                         const double *dy, double *dx)
{
    int64_t xd[4], yd[4];
    case_dims(k, xd, yd);
    memset(dx, 0, (size_t)numel(xd) * sizeof *dx);
    for (int64_t p = 0; p < k->n * k->c; ++p) {
        const double *xp = x + p * xd[2] * xd[3];
        double *dxp = dx + p * xd[2] * xd[3];
        for (int64_t i = 0; i < yd[2]; ++i)
            for (int64_t j = 0; j < yd[3]; ++j) {
                window win = window_of(k, i, j);
                double g = dy[(p * yd[2] + i) * yd[3] + j];
                if (k->mode == CNN_POOL_MAX) {
                    dxp[winner(k, xp, win)] += g;
                    continue;
                }
                for (int64_t h = win.hs; h < win.he; ++h)
                    for (int64_t w = win.ws; w < win.we; ++w)
                        dxp[h * k->w + w] += g / (double)(k->kh * k->kw);
            }
    }
}

/* Windows that can cover one input element: the length of dx's sums. */
static double overlap(const pool_case *k)
{
    return (double)(((k->kh + k->sh - 1) / k->sh) *
                    ((k->kw + k->sw - 1) / k->sw));
}

/* L(x) = sum w y(x): the reference backward against central differences
 * in double. Inputs are 2/n apart and the step is far smaller, so no
 * window changes its winner. */
START_TEST(reference_backward_matches_central_differences)
{
    for (int c = 0; c < CASE_COUNT; ++c) {
        const pool_case *k = &cases[c];
        int64_t xd[4], yd[4];
        case_dims(k, xd, yd);
        int64_t nx = numel(xd), ny = numel(yd);
        float *xf = malloc((size_t)nx * sizeof *xf);
        float *wf = malloc((size_t)ny * sizeof *wf);
        double *x = malloc((size_t)nx * sizeof *x);
        double *w = malloc((size_t)ny * sizeof *w);
        double *y = malloc((size_t)ny * sizeof *y);
        double *dx = malloc((size_t)nx * sizeof *dx);
        pn_distinct(xf, nx, (uint32_t)c + 1);
        cnn_test_values(wf, ny, (uint32_t)c + 50);
        for (int64_t i = 0; i < nx; ++i)
            x[i] = xf[i];
        for (int64_t i = 0; i < ny; ++i)
            w[i] = wf[i];
        ref_backward(k, x, w, dx);
        const double h = 0.01 / (double)nx;
        int64_t step = nx / 97 + 1; /* about a hundred elements per case */
        for (int64_t i = 0; i < nx; i += step) {
            double keep = x[i], up = 0.0, down = 0.0;
            x[i] = keep + h;
            ref_forward(k, x, y);
            for (int64_t j = 0; j < ny; ++j)
                up += w[j] * y[j];
            x[i] = keep - h;
            ref_forward(k, x, y);
            for (int64_t j = 0; j < ny; ++j)
                down += w[j] * y[j];
            x[i] = keep;
            PN_CHECK(fabs((up - down) / (2 * h) - dx[i]) < 1e-6,
                          "case %d element %lld: %g by differences, %g by "
                          "the backward", c, (long long)i,
                          (up - down) / (2 * h), dx[i]);
        }
        free(xf);
        free(wf);
        free(x);
        free(w);
        free(y);
        free(dx);
    }
}
END_TEST

/* ------------------------------------------- the library against it */

typedef struct run_result {
    float *y, *dx; /* malloc'd copies */
} run_result;

/* Runs forward and backward with guarded outputs on the current engine. */
static run_result run_library(const pool_case *k, const float *x,
                              const float *dy)
{
    int64_t xd[4], yd[4];
    case_dims(k, xd, yd);
    cnn_pool2d_params p = params_of(k);
    cnn_tensor *tx = cnn_test_tensor(4, xd, x);
    cnn_tensor *tdy = cnn_test_tensor(4, yd, dy);
    pn_out y = pn_out_create(4, yd, NULL);
    pn_out dx = pn_out_create(4, xd, NULL);
    ck_assert_ok(cnn_pool2d_forward(y.t, tx, &p));
    ck_assert_ok(cnn_pool2d_backward(dx.t, tdy, tx, y.t, &p));
    run_result r = {malloc((size_t)numel(yd) * sizeof(float)),
                    malloc((size_t)numel(xd) * sizeof(float))};
    memcpy(r.y, pn_out_values(&y), (size_t)numel(yd) * sizeof(float));
    memcpy(r.dx, pn_out_values(&dx), (size_t)numel(xd) * sizeof(float));
    pn_out_free(&y);
    pn_out_free(&dx);
    cnn_tensor_free(tx);
    cnn_tensor_free(tdy);
    return r;
}

static void run_free(run_result *r)
{
    free(r->y);
    free(r->dx);
}

START_TEST(every_engine_matches_reference)
{
    for (int c = 0; c < CASE_COUNT; ++c) {
        const pool_case *k = &cases[c];
        int64_t xd[4], yd[4];
        case_dims(k, xd, yd);
        int64_t nx = numel(xd), ny = numel(yd);
        float *xf = malloc((size_t)nx * sizeof *xf);
        float *dyf = malloc((size_t)ny * sizeof *dyf);
        double *x = malloc((size_t)nx * sizeof *x);
        double *dy = malloc((size_t)ny * sizeof *dy);
        double *y = malloc((size_t)ny * sizeof *y);
        double *dx = malloc((size_t)nx * sizeof *dx);
        pn_distinct(xf, nx, (uint32_t)c + 11);
        cnn_test_values(dyf, ny, (uint32_t)c + 70);
        for (int64_t i = 0; i < nx; ++i)
            x[i] = xf[i];
        for (int64_t i = 0; i < ny; ++i)
            dy[i] = dyf[i];
        ref_forward(k, x, y);
        ref_backward(k, x, dy, dx);
        /* Sums of at most `length` values of magnitude <= 1, each add
         * rounding once in float32. */
        double fwd_tol = k->mode == CNN_POOL_MAX
                             ? 0.0 : (double)(k->kh * k->kw) * FLT_EPSILON;
        double bwd_tol = (overlap(k) + 1.0) * FLT_EPSILON;
        for (int e = 0; e < PN_ENGINE_COUNT; ++e) {
            ck_assert_ok(cnn_set_engine(cnn_cpu(), pn_engines[e]));
            run_result r = run_library(k, xf, dyf);
            double fd = pn_max_diff(r.y, y, ny), bd = pn_max_diff(r.dx, dx, nx);
            PN_CHECK(fd <= fwd_tol && bd <= bwd_tol,
                          "case %d engine %s: forward off by %g (tol %g), "
                          "backward by %g (tol %g)", c,
                          cnn_engine_name(pn_engines[e]), fd, fwd_tol, bd,
                          bwd_tol);
            run_free(&r);
        }
        free(xf);
        free(dyf);
        free(x);
        free(dy);
        free(y);
        free(dx);
    }
}
END_TEST

/* d/de L(x + e v) at e = 0 by float32 differences of the library's own
 * forward, against <dx, v> from the library's backward. */
START_TEST(float32_directional_derivative)
{
    for (int c = 0; c < CASE_COUNT; ++c) {
        const pool_case *k = &cases[c];
        int64_t xd[4], yd[4];
        case_dims(k, xd, yd);
        int64_t nx = numel(xd), ny = numel(yd);
        float *x = malloc((size_t)nx * sizeof *x);
        float *v = malloc((size_t)nx * sizeof *v);
        float *xs = malloc((size_t)nx * sizeof *xs);
        float *w = malloc((size_t)ny * sizeof *w);
        float *y = malloc((size_t)ny * sizeof *y);
        pn_distinct(x, nx, (uint32_t)c + 21);
        cnn_test_values(v, nx, (uint32_t)c + 22);
        cnn_test_values(w, ny, (uint32_t)c + 23);
        cnn_pool2d_params p = params_of(k);
        cnn_tensor *tx = cnn_test_tensor(4, xd, x);
        cnn_tensor *tw = cnn_test_tensor(4, yd, w);
        cnn_tensor *ty = cnn_test_tensor(4, yd, NULL);
        cnn_tensor *tdx = cnn_test_tensor(4, xd, NULL);
        ck_assert_ok(cnn_pool2d_forward(ty, tx, &p));
        ck_assert_ok(cnn_pool2d_backward(tdx, tw, tx, ty, &p));
        float *dx = malloc((size_t)nx * sizeof *dx);
        ck_assert_ok(cnn_tensor_read(tdx, dx, (size_t)nx * sizeof *dx));
        const float eps = 0.1f / (float)nx; /* below half the gap */
        double l[2];
        for (int side = 0; side < 2; ++side) {
            for (int64_t i = 0; i < nx; ++i)
                xs[i] = x[i] + (side ? -eps : eps) * v[i];
            ck_assert_ok(cnn_tensor_write(tx, xs, (size_t)nx * sizeof *xs));
            ck_assert_ok(cnn_pool2d_forward(ty, tx, &p));
            ck_assert_ok(cnn_tensor_read(ty, y, (size_t)ny * sizeof *y));
            l[side] = 0.0;
            for (int64_t j = 0; j < ny; ++j)
                l[side] += (double)w[j] * y[j];
        }
        double dot = 0.0;
        for (int64_t i = 0; i < nx; ++i)
            dot += (double)dx[i] * v[i];
        double fd = (l[0] - l[1]) / (2.0 * eps);
        /* Each y moves by eps |v| and rounds to 2^-24 relative: the
         * difference quotient carries ny 2^-24 / eps of noise. */
        double tol = 4.0 * (double)ny * FLT_EPSILON / eps + 1e-4;
        PN_CHECK(fabs(fd - dot) <= tol, "case %d: %g by differences, "
                      "%g by the backward (tol %g)", c, fd, dot, tol);
        cnn_tensor_free(tx);
        cnn_tensor_free(tw);
        cnn_tensor_free(ty);
        cnn_tensor_free(tdx);
        free(x);
        free(v);
        free(xs);
        free(w);
        free(y);
        free(dx);
    }
}
END_TEST

/* ------------------------------------------------------------ PyTorch */

static void expect_close(const char *what, int c, cnn_engine e,
                         const float *got, const float *want, int64_t n,
                         double tol)
{
    for (int64_t i = 0; i < n; ++i)
        PN_CHECK(fabs((double)got[i] - want[i]) <= tol,
                      "case %d engine %s %s[%lld] = %.9g, PyTorch %.9g", c,
                      cnn_engine_name(e), what, (long long)i, (double)got[i],
                      (double)want[i]);
}

START_TEST(matches_pytorch)
{
    cnn_fixture *f = cnn_fixture_load("pool.bin");
    const int *count = cnn_fixture_get(f, "count")->data;
    for (int c = 0; c < count[0]; ++c) {
        char name[64];
        snprintf(name, sizeof name, "case%d.params", c);
        const int32_t *pv = cnn_fixture_get(f, name)->data;
        pool_case k = {pv[0] ? CNN_POOL_AVG : CNN_POOL_MAX, 0, 0, 0, 0,
                       pv[1], pv[2], pv[3], pv[4], pv[5], pv[6]};
        snprintf(name, sizeof name, "case%d.x", c);
        const cnn_fixture_tensor *xt = cnn_fixture_get(f, name);
        k.n = xt->dims[0];
        k.c = xt->dims[1];
        k.h = xt->dims[2];
        k.w = xt->dims[3];
        int64_t xd[4], yd[4];
        case_dims(&k, xd, yd);
        snprintf(name, sizeof name, "case%d.y", c);
        const cnn_fixture_tensor *yt = cnn_fixture_get(f, name);
        for (int i = 0; i < 4; ++i)
            ck_assert_int_eq(yt->dims[i], yd[i]);
        snprintf(name, sizeof name, "case%d.dy", c);
        const float *dy = cnn_fixture_floats(f, name);
        snprintf(name, sizeof name, "case%d.dx", c);
        const float *dx = cnn_fixture_floats(f, name);
        double fwd_tol = k.mode == CNN_POOL_MAX
                             ? 0.0 : (double)(k.kh * k.kw) * FLT_EPSILON;
        double bwd_tol = (overlap(&k) + 1.0) * FLT_EPSILON;
        for (int e = 0; e < PN_ENGINE_COUNT; ++e) {
            ck_assert_ok(cnn_set_engine(cnn_cpu(), pn_engines[e]));
            run_result r = run_library(&k, xt->data, dy);
            expect_close("y", c, pn_engines[e], r.y, yt->data, numel(yd),
                         fwd_tol);
            expect_close("dx", c, pn_engines[e], r.dx, dx, numel(xd),
                         bwd_tol);
            run_free(&r);
        }
    }
    const char *globals[] = {"global", "global1"};
    for (int g = 0; g < 2; ++g) {
        char name[64];
        snprintf(name, sizeof name, "%s.x", globals[g]);
        const cnn_fixture_tensor *xt = cnn_fixture_get(f, name);
        const int64_t yd[4] = {xt->dims[0], xt->dims[1], 1, 1};
        snprintf(name, sizeof name, "%s.y", globals[g]);
        const float *y = cnn_fixture_floats(f, name);
        snprintf(name, sizeof name, "%s.dy", globals[g]);
        const float *dy = cnn_fixture_floats(f, name);
        snprintf(name, sizeof name, "%s.dx", globals[g]);
        const float *dx = cnn_fixture_floats(f, name);
        cnn_tensor *tx = cnn_test_tensor(4, xt->dims, xt->data);
        cnn_tensor *tdy = cnn_test_tensor(4, yd, dy);
        double plane = (double)(xt->dims[2] * xt->dims[3]);
        for (int e = 0; e < PN_ENGINE_COUNT; ++e) {
            ck_assert_ok(cnn_set_engine(cnn_cpu(), pn_engines[e]));
            pn_out ty = pn_out_create(4, yd, NULL);
            pn_out tdx = pn_out_create(4, xt->dims, NULL);
            ck_assert_ok(cnn_global_avgpool_forward(ty.t, tx));
            ck_assert_ok(cnn_global_avgpool_backward(tdx.t, tdy));
            expect_close("global y", g, pn_engines[e], pn_out_values(&ty), y,
                         yd[0] * yd[1], FLT_EPSILON);
            expect_close("global dx", g, pn_engines[e], pn_out_values(&tdx),
                         dx, xt->numel, FLT_EPSILON / plane);
            pn_out_free(&ty);
            pn_out_free(&tdx);
        }
        cnn_tensor_free(tx);
        cnn_tensor_free(tdy);
    }
    cnn_fixture_free(f);
}
END_TEST

/* ------------------------------------------- native against reference */

/* Bits equal, or both NaN. */
static int same_float(float a, float b)
{
    return (a != a && b != b) || memcmp(&a, &b, sizeof a) == 0;
}

/* Inputs full of ties (a few levels), with NaNs and infinities sprinkled
 * in: max pooling's native engine must pick the same winners as the
 * reference, bit for bit, in shapes that run on several threads. Average
 * pooling sums in another order, so it only has to be close. */
START_TEST(native_matches_reference_engine)
{
    static const pool_case big[] = {
        {CNN_POOL_MAX, 4, 16, 30, 31, 3, 3, 2, 2, 1, 1},
        {CNN_POOL_MAX, 2, 8, 27, 27, 3, 3, 2, 2, 0, 0},
        {CNN_POOL_MAX, 3, 5, 17, 16, 2, 4, 2, 1, 1, 2},
        {CNN_POOL_MAX, 2, 3, 12, 9, 5, 3, 3, 4, 2, 0},
        {CNN_POOL_AVG, 4, 16, 30, 31, 3, 3, 2, 2, 1, 1},
        {CNN_POOL_AVG, 3, 5, 17, 16, 2, 4, 2, 1, 1, 2},
    };
    for (size_t c = 0; c < sizeof big / sizeof big[0]; ++c) {
        const pool_case *k = &big[c];
        int64_t xd[4], yd[4];
        case_dims(k, xd, yd);
        int64_t nx = numel(xd), ny = numel(yd);
        float *x = malloc((size_t)nx * sizeof *x);
        float *dy = malloc((size_t)ny * sizeof *dy);
        cnn_test_values(x, nx, (uint32_t)c + 31);
        cnn_test_values(dy, ny, (uint32_t)c + 32);
        if (k->mode == CNN_POOL_MAX)
            for (int64_t i = 0; i < nx; ++i) {
                x[i] = floorf(x[i] * 2.0f); /* -2 .. 1: many ties */
                if (i % 97 == 5)
                    x[i] = NAN;
                else if (i % 89 == 3)
                    x[i] = -INFINITY;
                else if (i % 83 == 1)
                    x[i] = -0.0f;
            }
        ck_assert_ok(cnn_set_engine(cnn_cpu(), CNN_ENGINE_REFERENCE));
        run_result ref = run_library(k, x, dy);
        ck_assert_ok(cnn_set_engine(cnn_cpu(), CNN_ENGINE_NATIVE));
        run_result nat = run_library(k, x, dy);
        for (int64_t i = 0; i < ny; ++i) {
            if (k->mode == CNN_POOL_MAX)
                /* +0 and -0 tie; the value may carry either sign. */
                PN_CHECK(same_float(nat.y[i], ref.y[i]) ||
                                  nat.y[i] == ref.y[i],
                              "case %zu y[%lld]: native %g, reference %g", c,
                              (long long)i, (double)nat.y[i], (double)ref.y[i]);
            else
                PN_CHECK(fabs(nat.y[i] - ref.y[i]) <= 1e-6,
                              "case %zu y[%lld]", c, (long long)i);
        }
        for (int64_t i = 0; i < nx; ++i) {
            if (k->mode == CNN_POOL_MAX)
                PN_CHECK(same_float(nat.dx[i], ref.dx[i]),
                              "case %zu dx[%lld]: native %g, reference %g", c,
                              (long long)i, (double)nat.dx[i],
                              (double)ref.dx[i]);
            else
                PN_CHECK(fabs(nat.dx[i] - ref.dx[i]) <= 1e-6,
                              "case %zu dx[%lld]", c, (long long)i);
        }
        /* The same call twice gives the same bits. */
        run_result again = run_library(k, x, dy);
        ck_assert(memcmp(again.y, nat.y, (size_t)ny * sizeof(float)) == 0);
        ck_assert(memcmp(again.dx, nat.dx, (size_t)nx * sizeof(float)) == 0);
        run_free(&again);
        run_free(&ref);
        run_free(&nat);
        free(x);
        free(dy);
    }
}
END_TEST

/* 1, 2 and 3 threads give the same bits on both engines. */
START_TEST(same_bits_for_any_thread_count)
{
    for (int c = 0; c < CASE_COUNT; ++c) {
        const pool_case *k = &cases[c];
        int64_t xd[4], yd[4];
        case_dims(k, xd, yd);
        int64_t nx = numel(xd), ny = numel(yd);
        float *x = malloc((size_t)nx * sizeof *x);
        float *dy = malloc((size_t)ny * sizeof *dy);
        cnn_test_values(x, nx, (uint32_t)c + 61);
        cnn_test_values(dy, ny, (uint32_t)c + 62);
        for (int e = 0; e < PN_ENGINE_COUNT; ++e) {
            ck_assert_ok(cnn_set_engine(cnn_cpu(), pn_engines[e]));
            ck_assert_ok(cnn_set_threads(cnn_cpu(), 1));
            run_result one = run_library(k, x, dy);
            for (int threads = 2; threads <= 3; ++threads) {
                ck_assert_ok(cnn_set_threads(cnn_cpu(), threads));
                run_result more = run_library(k, x, dy);
                ck_assert(memcmp(one.y, more.y, (size_t)ny * sizeof(float)) ==
                          0);
                ck_assert(memcmp(one.dx, more.dx,
                                 (size_t)nx * sizeof(float)) == 0);
                run_free(&more);
            }
            run_free(&one);
        }
        free(x);
        free(dy);
    }
}
END_TEST

/* PyTorch 1.13's picks, observed with max_pool2d and autograd: the first
 * maximum in row-major order, the last NaN of a window, the first element
 * of a window of -inf. */
START_TEST(max_pool_winners_follow_pytorch)
{
    static const struct {
        int64_t h, w, k_h, k_w, pad;
        float x[16];
        float y[4];
        float dx[16];
    } probes[] = {
        {4, 4, 3, 3, 0,
         {1, NAN, 3, NAN, 5, 2, 7, 1, 0, 1, 2, 3, 4, 4, 4, 4},
         {NAN, NAN, 7, 7},
         {0, 1, 0, 1, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0}},
        {3, 3, 3, 3, 0, {1, 2, 5, 5, 1, 5, 5, 5, 5}, {5},
         {0, 0, 1, 0, 0, 0, 0, 0, 0}},
        {3, 3, 3, 3, 1,
         {-INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY,
          -INFINITY, -INFINITY, -INFINITY},
         {0},
         {4, 2, 0, 2, 1, 0, 0, 0, 0}},
        /* An earlier row beats an earlier column. */
        {2, 3, 2, 3, 0, {1, 1, 9, 9, 1, 1}, {9}, {0, 0, 1, 0, 0, 0}},
    };
    for (size_t t = 0; t < sizeof probes / sizeof probes[0]; ++t) {
        const int64_t xd[4] = {1, 1, probes[t].h, probes[t].w};
        cnn_pool2d_params p = {CNN_POOL_MAX, probes[t].k_h, probes[t].k_w, 1,
                               1, probes[t].pad, probes[t].pad};
        int64_t yd[4];
        ck_assert_ok(cnn_pool2d_output_shape(xd, &p, yd));
        int64_t ny = yd[2] * yd[3], nx = xd[2] * xd[3];
        float ones[16];
        for (int i = 0; i < 16; ++i)
            ones[i] = 1.0f;
        for (int e = 0; e < PN_ENGINE_COUNT; ++e) {
            ck_assert_ok(cnn_set_engine(cnn_cpu(), pn_engines[e]));
            cnn_tensor *tx = cnn_test_tensor(4, xd, probes[t].x);
            cnn_tensor *tdy = cnn_test_tensor(4, yd, ones);
            pn_out y = pn_out_create(4, yd, NULL);
            pn_out dx = pn_out_create(4, xd, NULL);
            ck_assert_ok(cnn_pool2d_forward(y.t, tx, &p));
            ck_assert_ok(cnn_pool2d_backward(dx.t, tdy, tx, NULL, &p));
            const float *yv = pn_out_values(&y), *dxv = pn_out_values(&dx);
            for (int64_t i = 0; i < ny; ++i) {
                float want = t == 2 ? -INFINITY : probes[t].y[i];
                PN_CHECK(same_float(yv[i], want),
                              "probe %zu engine %s: y[%lld] = %g, want %g", t,
                              cnn_engine_name(pn_engines[e]), (long long)i,
                              (double)yv[i], (double)want);
            }
            for (int64_t i = 0; i < nx; ++i)
                PN_CHECK(dxv[i] == probes[t].dx[i],
                              "probe %zu engine %s: dx[%lld] = %g, want %g", t,
                              cnn_engine_name(pn_engines[e]), (long long)i,
                              (double)dxv[i], (double)probes[t].dx[i]);
            pn_out_free(&y);
            pn_out_free(&dx);
            cnn_tensor_free(tx);
            cnn_tensor_free(tdy);
        }
    }
}
END_TEST

/* Global average pooling against a double reference, on every engine, and
 * its backward by central differences (it is linear, so exactly). */
START_TEST(global_avgpool_matches_reference)
{
    static const int64_t shapes[][4] = {
        {1, 1, 1, 1}, {2, 5, 7, 7}, {3, 7, 5, 3}, {4, 64, 9, 9}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; ++s) {
        const int64_t *xd = shapes[s];
        const int64_t yd[4] = {xd[0], xd[1], 1, 1};
        int64_t plane = xd[2] * xd[3], planes = xd[0] * xd[1];
        float *x = malloc((size_t)(planes * plane) * sizeof *x);
        float *dy = malloc((size_t)planes * sizeof *dy);
        double *want = malloc((size_t)planes * sizeof *want);
        cnn_test_values(x, planes * plane, (uint32_t)s + 41);
        cnn_test_values(dy, planes, (uint32_t)s + 42);
        for (int64_t p = 0; p < planes; ++p) {
            double sum = 0.0;
            for (int64_t i = 0; i < plane; ++i)
                sum += x[p * plane + i];
            want[p] = sum / (double)plane;
        }
        cnn_tensor *tx = cnn_test_tensor(4, xd, x);
        cnn_tensor *tdy = cnn_test_tensor(4, yd, dy);
        for (int e = 0; e < PN_ENGINE_COUNT; ++e) {
            ck_assert_ok(cnn_set_engine(cnn_cpu(), pn_engines[e]));
            pn_out y = pn_out_create(4, yd, NULL);
            pn_out dx = pn_out_create(4, xd, NULL);
            ck_assert_ok(cnn_global_avgpool_forward(y.t, tx));
            ck_assert_ok(cnn_global_avgpool_backward(dx.t, tdy));
            const float *yv = pn_out_values(&y), *dxv = pn_out_values(&dx);
            ck_assert(pn_max_diff(yv, want, planes) <= FLT_EPSILON);
            for (int64_t p = 0; p < planes; ++p)
                for (int64_t i = 0; i < plane; ++i)
                    PN_CHECK(fabs(dxv[p * plane + i] - dy[p] / (double)plane) <=
                                 FLT_EPSILON / (double)plane,
                             "shape %zu dx[%lld]", s,
                             (long long)(p * plane + i));
            pn_out_free(&y);
            pn_out_free(&dx);
        }
        cnn_tensor_free(tx);
        cnn_tensor_free(tdy);
        free(x);
        free(dy);
        free(want);
    }
}
END_TEST

/* ------------------------------------------------------ bad arguments */

START_TEST(bad_arguments)
{
    const int64_t xd[4] = {2, 3, 8, 8}, yd[4] = {2, 3, 4, 4};
    cnn_tensor *other = pn_other_device_tensor(4, yd);
    cnn_tensor *x = cnn_test_tensor(4, xd, NULL);
    cnn_tensor *y = cnn_test_tensor(4, yd, NULL);
    cnn_tensor *dx = cnn_test_tensor(4, xd, NULL);
    cnn_tensor *ints = NULL, *flat = NULL;
    ck_assert_ok(cnn_tensor_create(&ints, cnn_cpu(), CNN_I32, 4, yd));
    const int64_t flat_dims[2] = {6, 16};
    ck_assert_ok(cnn_tensor_create(&flat, cnn_cpu(), CNN_F32, 2, flat_dims));
    cnn_pool2d_params p = {CNN_POOL_MAX, 2, 2, 2, 2, 0, 0};
    ck_assert_ok(cnn_pool2d_forward(y, x, &p));

    cnn_pool2d_params bad = p;
    bad.pad_h = 2; /* over half the kernel */
    ck_assert_fails(cnn_pool2d_forward(y, x, &bad), CNN_ERR_INVALID_ARGUMENT,
                    "cnn_pool2d_forward: padding");
    bad = p;
    bad.stride_w = 0;
    ck_assert_fails(cnn_pool2d_forward(y, x, &bad), CNN_ERR_INVALID_ARGUMENT,
                    "stride");
    bad = p;
    bad.kernel_h = 0;
    ck_assert_fails(cnn_pool2d_backward(dx, y, x, y, &bad),
                    CNN_ERR_INVALID_ARGUMENT, "cnn_pool2d_backward: kernel");
    bad = p;
    bad.mode = (cnn_pool_mode)7;
    ck_assert_fails(cnn_pool2d_forward(y, x, &bad), CNN_ERR_INVALID_ARGUMENT,
                    "mode");
    bad = p;
    bad.kernel_h = bad.kernel_w = 9; /* larger than the 8x8 input */
    ck_assert_fails(cnn_pool2d_forward(y, x, &bad), CNN_ERR_SHAPE,
                    "larger than the input");
    ck_assert_fails(cnn_pool2d_forward(y, x, NULL), CNN_ERR_INVALID_ARGUMENT,
                    "params is NULL");
    ck_assert_fails(cnn_pool2d_forward(NULL, x, &p), CNN_ERR_INVALID_ARGUMENT,
                    "y is NULL");
    ck_assert_fails(cnn_pool2d_forward(y, NULL, &p), CNN_ERR_INVALID_ARGUMENT,
                    "x is NULL");
    ck_assert_fails(cnn_pool2d_forward(ints, x, &p), CNN_ERR_INVALID_ARGUMENT,
                    "y is i32");
    ck_assert_fails(cnn_pool2d_forward(y, flat, &p), CNN_ERR_SHAPE,
                    "x has shape [6x16]");
    ck_assert_fails(cnn_pool2d_forward(dx, x, &p), CNN_ERR_SHAPE,
                    "y has shape [2x3x8x8] but must be [2x3x4x4]");
    if (other)
        ck_assert_fails(cnn_pool2d_forward(other, x, &p), CNN_ERR_DEVICE,
                        "y is on cpu:1");
    ck_assert_fails(cnn_pool2d_forward(x, x, &p), CNN_ERR_SHAPE, "y has");
    /* In place is refused: y in the memory of x. */
    float *shared = calloc(384, sizeof *shared);
    cnn_tensor *wx = NULL, *wy = NULL;
    ck_assert_ok(cnn_tensor_wrap(&wx, cnn_cpu(), CNN_F32, 4, xd, shared,
                                 384 * sizeof *shared));
    ck_assert_ok(cnn_tensor_wrap(&wy, cnn_cpu(), CNN_F32, 4, yd, shared + 200,
                                 96 * sizeof *shared));
    ck_assert_fails(cnn_pool2d_forward(wy, wx, &p), CNN_ERR_INVALID_ARGUMENT,
                    "y shares memory with x");
    cnn_tensor_free(wx);
    cnn_tensor_free(wy);
    free(shared);

    ck_assert_fails(cnn_pool2d_backward(dx, y, NULL, y, &p),
                    CNN_ERR_INVALID_ARGUMENT, "x is NULL");
    ck_assert_fails(cnn_pool2d_backward(dx, x, x, y, &p), CNN_ERR_SHAPE,
                    "dy has shape [2x3x8x8] but must be [2x3x4x4]");
    ck_assert_fails(cnn_pool2d_backward(dx, y, y, y, &p), CNN_ERR_SHAPE,
                    "x has shape");
    ck_assert_fails(cnn_pool2d_backward(dx, y, x, x, &p), CNN_ERR_SHAPE,
                    "y has shape");
    if (other)
        ck_assert_fails(cnn_pool2d_backward(dx, other, x, y, &p),
                        CNN_ERR_DEVICE, "dy is on cpu:1");
    ck_assert_fails(cnn_pool2d_backward(dx, y, x, y, NULL),
                    CNN_ERR_INVALID_ARGUMENT, "params is NULL");
    ck_assert_fails(cnn_pool2d_backward(x, y, x, y, &p),
                    CNN_ERR_INVALID_ARGUMENT, "dx shares memory with x");
    cnn_pool2d_params avg = p;
    avg.mode = CNN_POOL_AVG;
    ck_assert_ok(cnn_pool2d_backward(dx, y, NULL, NULL, &avg));

    int64_t out[4];
    ck_assert_fails(cnn_pool2d_output_shape(NULL, &p, out),
                    CNN_ERR_INVALID_ARGUMENT, "x_dims is NULL");
    ck_assert_fails(cnn_pool2d_output_shape(xd, &p, NULL),
                    CNN_ERR_INVALID_ARGUMENT, "y_dims is NULL");
    const int64_t zero[4] = {2, 0, 8, 8};
    ck_assert_fails(cnn_pool2d_output_shape(zero, &p, out), CNN_ERR_SHAPE,
                    "below 1");
    const int64_t huge[4] = {1, 1, INT64_MAX, 8};
    cnn_pool2d_params padded = {CNN_POOL_MAX, 3, 3, 1, 1, 1, 1};
    ck_assert_fails(cnn_pool2d_output_shape(huge, &padded, out), CNN_ERR_SHAPE,
                    "height");
    ck_assert_ok(cnn_pool2d_output_shape(xd, &p, out));
    ck_assert_int_eq(out[2], 4);
    ck_assert_int_eq(out[3], 4);

    const int64_t gd[4] = {2, 3, 1, 1};
    cnn_tensor *g = cnn_test_tensor(4, gd, NULL);
    ck_assert_fails(cnn_global_avgpool_forward(y, x), CNN_ERR_SHAPE,
                    "cnn_global_avgpool_forward: y has shape [2x3x4x4] but "
                    "must be [2x3x1x1]");
    ck_assert_fails(cnn_global_avgpool_forward(g, NULL),
                    CNN_ERR_INVALID_ARGUMENT, "x is NULL");
    ck_assert_fails(cnn_global_avgpool_forward(g, flat), CNN_ERR_SHAPE,
                    "x has shape");
    ck_assert_fails(cnn_global_avgpool_backward(dx, y), CNN_ERR_SHAPE,
                    "cnn_global_avgpool_backward: dy has shape");
    ck_assert_fails(cnn_global_avgpool_backward(NULL, g),
                    CNN_ERR_INVALID_ARGUMENT, "dx is NULL");
    if (other)
        ck_assert_fails(cnn_global_avgpool_backward(dx, other),
                        CNN_ERR_DEVICE, "dy is on cpu:1");
    ck_assert_ok(cnn_global_avgpool_forward(g, x));
    ck_assert_ok(cnn_global_avgpool_backward(dx, g));

    cnn_tensor_free(g);
    cnn_tensor_free(x);
    cnn_tensor_free(y);
    cnn_tensor_free(dx);
    cnn_tensor_free(other);
    cnn_tensor_free(ints);
    cnn_tensor_free(flat);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("pool");
    TCase *tc = cnn_test_case("pool");
    tcase_add_test(tc, reference_backward_matches_central_differences);
    tcase_add_test(tc, every_engine_matches_reference);
    tcase_add_test(tc, float32_directional_derivative);
    tcase_add_test(tc, matches_pytorch);
    tcase_add_test(tc, native_matches_reference_engine);
    tcase_add_test(tc, same_bits_for_any_thread_count);
    tcase_add_test(tc, max_pool_winners_follow_pytorch);
    tcase_add_test(tc, global_avgpool_matches_reference);
    suite_add_tcase(s, tc);
    TCase *bad = cnn_test_case("bad input");
    tcase_add_test(bad, bad_arguments);
    suite_add_tcase(s, bad);
    return cnn_test_run(s);
}
