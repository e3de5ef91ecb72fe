/* tests/test_linear.c - the fully connected layer on the CPU: a double
 * reference written here (its backward checked by central differences),
 * every engine against it on odd and GEMM-block-crossing shapes with
 * guard words, PyTorch's answers (tests/fixtures/linear.bin), a float32
 * directional check, and bad arguments. Label: cpu. */
#include <stdbool.h>

#include "fixture.h"
#include "gemm_ops_util.h"

typedef struct linear_case {
    int64_t n, in, out;
    bool bias;
} linear_case;

/* One sample, one feature, one output, odd sizes, AlexNet's classifier
 * head at a small batch, and sizes past the GEMM's cache blocks (kc 256,
 * mc 192) so every edge path runs. */
static const linear_case cases[] = {
    {1, 1, 1, true},    {1, 7, 3, true},      {3, 1, 5, false},
    {5, 9, 1, true},    {4, 64, 10, true},    {17, 33, 65, false},
    {2, 515, 13, true}, {200, 300, 50, true}, {3, 40, 1000, true},
};
#define CASE_COUNT ((int)(sizeof cases / sizeof cases[0]))

typedef struct linear_data {
    linear_case cs;
    int64_t x_dims[2], w_dims[2], y_dims[2], b_dims[1];
    int64_t nx, nw, ny;
    float *x, *w, *b, *dy, *dw0, *db0;
    double *xd, *wd, *bd, *dyd;
    double *y, *ya, *dx, *dxa, *dw, *dwa, *db, *dba;
} linear_data;

/* y = x w^T + b and its gradients, by the definition. */
static void reference(linear_data *d, const double *x, const double *w,
                      const double *b, const double *dy)
{
    const linear_case *c = &d->cs;
    for (int64_t i = 0; i < c->n; ++i)
        for (int64_t o = 0; o < c->out; ++o) {
            double s = b ? b[o] : 0.0, a = b ? fabs(b[o]) : 0.0;
            for (int64_t t = 0; t < c->in; ++t) {
                s += x[i * c->in + t] * w[o * c->in + t];
                a += fabs(x[i * c->in + t] * w[o * c->in + t]);
            }
            d->y[i * c->out + o] = s;
            d->ya[i * c->out + o] = a;
        }
    if (!dy)
        return;
    for (int64_t i = 0; i < c->n; ++i)
        for (int64_t t = 0; t < c->in; ++t) {
            double s = 0.0, a = 0.0;
            for (int64_t o = 0; o < c->out; ++o) {
                s += dy[i * c->out + o] * w[o * c->in + t];
                a += fabs(dy[i * c->out + o] * w[o * c->in + t]);
            }
            d->dx[i * c->in + t] = s;
            d->dxa[i * c->in + t] = a;
        }
    for (int64_t o = 0; o < c->out; ++o) {
        for (int64_t t = 0; t < c->in; ++t) {
            double s = 0.0, a = 0.0;
            for (int64_t i = 0; i < c->n; ++i) {
                s += dy[i * c->out + o] * x[i * c->in + t];
                a += fabs(dy[i * c->out + o] * x[i * c->in + t]);
            }
            d->dw[o * c->in + t] = s;
            d->dwa[o * c->in + t] = a;
        }
        double s = 0.0, a = 0.0;
        for (int64_t i = 0; i < c->n; ++i) {
            s += dy[i * c->out + o];
            a += fabs(dy[i * c->out + o]);
        }
        d->db[o] = s;
        d->dba[o] = a;
    }
}

static linear_data data_create(const linear_case *cs, uint32_t seed)
{
    linear_data d = {.cs = *cs};
    d.x_dims[0] = d.y_dims[0] = cs->n;
    d.x_dims[1] = d.w_dims[1] = cs->in;
    d.w_dims[0] = d.y_dims[1] = d.b_dims[0] = cs->out;
    d.nx = cs->n * cs->in, d.nw = cs->out * cs->in, d.ny = cs->n * cs->out;
    d.x = test_floats(d.nx, seed, &d.xd);
    d.w = test_floats(d.nw, seed + 1, &d.wd);
    d.b = test_floats(cs->out, seed + 2, &d.bd);
    d.dy = test_floats(d.ny, seed + 3, &d.dyd);
    d.dw0 = test_floats(d.nw, seed + 4, NULL);
    d.db0 = test_floats(cs->out, seed + 5, NULL);
    d.y = test_doubles(d.ny), d.ya = test_doubles(d.ny);
    d.dx = test_doubles(d.nx), d.dxa = test_doubles(d.nx);
    d.dw = test_doubles(d.nw), d.dwa = test_doubles(d.nw);
    d.db = test_doubles(cs->out), d.dba = test_doubles(cs->out);
    reference(&d, d.xd, d.wd, cs->bias ? d.bd : NULL, d.dyd);
    return d;
}

static void data_free(linear_data *d)
{
    void *all[] = {d->x, d->w, d->b, d->dy, d->dw0, d->db0, d->xd, d->wd,
                   d->bd, d->dyd, d->y, d->ya, d->dx, d->dxa, d->dw, d->dwa,
                   d->db, d->dba};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; ++i)
        free(all[i]);
}

/* dw and db accumulate: the reference becomes base + gradient. */
static void add_base(linear_data *d)
{
    for (int64_t i = 0; i < d->nw; ++i)
        d->dw[i] += d->dw0[i];
    for (int64_t i = 0; i < d->cs.out; ++i)
        d->db[i] += d->db0[i];
}

static void check_library(const linear_data *d, const char *label)
{
    const linear_case *cs = &d->cs;
    cnn_tensor *x = cnn_test_tensor(2, d->x_dims, d->x);
    cnn_tensor *w = cnn_test_tensor(2, d->w_dims, d->w);
    cnn_tensor *b = cnn_test_tensor(1, d->b_dims, d->b);
    cnn_tensor *dy = cnn_test_tensor(2, d->y_dims, d->dy);
    char what[160];
    guarded y = guarded_create(2, d->y_dims, NULL);
    ck_assert_ok(cnn_linear_forward(y.t, x, w, cs->bias ? b : NULL));
    snprintf(what, sizeof what, "%s y", label);
    expect_close(what, guarded_values(&y), d->y, d->ya, NULL, d->ny);
    guarded_free(&y);
    for (int mode = 0; mode < 4; ++mode) { /* all, dx, dw, db */
        guarded dx = guarded_create(2, d->x_dims, NULL);
        guarded dw = guarded_create(2, d->w_dims, d->dw0);
        guarded db = guarded_create(1, d->b_dims, d->db0);
        bool want_dx = mode <= 1, want_dw = mode == 0 || mode == 2;
        bool want_db = mode == 0 || mode == 3;
        ck_assert_ok(cnn_linear_backward(
            want_dx ? dx.t : NULL, want_dw ? dw.t : NULL,
            want_db ? db.t : NULL, dy, want_dw ? x : NULL,
            want_dx ? w : NULL));
        snprintf(what, sizeof what, "%s mode %d", label, mode);
        if (want_dx)
            expect_close(what, guarded_values(&dx), d->dx, d->dxa, NULL,
                         d->nx);
        if (want_dw)
            expect_close(what, guarded_values(&dw), d->dw, d->dwa, d->dw0,
                         d->nw);
        else
            ck_assert_mem_eq(guarded_values(&dw), d->dw0,
                             (size_t)d->nw * sizeof(float));
        if (want_db)
            expect_close(what, guarded_values(&db), d->db, d->dba, d->db0,
                         cs->out);
        guarded_free(&dx);
        guarded_free(&dw);
        guarded_free(&db);
    }
    cnn_tensor_free(x);
    cnn_tensor_free(w);
    cnn_tensor_free(b);
    cnn_tensor_free(dy);
}

START_TEST(every_engine_matches_reference)
{
    cnn_engine saved = cnn_get_engine(cnn_cpu());
    for (int i = 0; i < CASE_COUNT; ++i) {
        linear_data d = data_create(&cases[i], 10u * (uint32_t)i + 7u);
        add_base(&d);
        for (int e = 0; e < GEMM_OPS_ENGINES; ++e) {
            char label[64];
            snprintf(label, sizeof label, "case %d engine %s", i,
                     cnn_engine_name(gemm_ops_engines[e]));
            ck_assert_ok(cnn_set_engine(cnn_cpu(), gemm_ops_engines[e]));
            check_library(&d, label);
        }
        data_free(&d);
    }
    ck_assert_ok(cnn_set_engine(cnn_cpu(), saved));
}
END_TEST

START_TEST(reference_backward_matches_central_differences)
{
    const linear_case cs = {3, 5, 4, true};
    linear_data d = data_create(&cs, 21);
    linear_data probe = data_create(&cs, 21);
    double *params[3] = {d.xd, d.wd, d.bd};
    double *grads[3] = {d.dx, d.dw, d.db};
    const int64_t sizes[3] = {d.nx, d.nw, cs.out};
    const double h = 1e-3; /* the loss is linear in each tensor */
    for (int which = 0; which < 3; ++which)
        for (int64_t i = 0; i < sizes[which]; ++i) {
            double keep = params[which][i], loss[2];
            for (int side = 0; side < 2; ++side) {
                params[which][i] = keep + (side ? -h : h);
                reference(&probe, d.xd, d.wd, d.bd, NULL);
                loss[side] = 0.0;
                for (int64_t t = 0; t < d.ny; ++t)
                    loss[side] += probe.y[t] * d.dyd[t];
            }
            params[which][i] = keep;
            double numeric = (loss[0] - loss[1]) / (2 * h);
            if (!(fabs(numeric - grads[which][i]) <= 1e-9))
                ck_abort_msg("tensor %d [%lld]: numeric %.12g, analytic "
                             "%.12g", which, (long long)i, numeric,
                             grads[which][i]);
        }
    data_free(&probe);
    data_free(&d);
}
END_TEST

START_TEST(float32_directional_derivatives)
{
    const linear_case cs = {6, 37, 11, false};
    linear_data d = data_create(&cs, 31);
    float *dir[2] = {test_floats(d.nx, 32, NULL), test_floats(d.nw, 33, NULL)};
    cnn_tensor *x = cnn_test_tensor(2, d.x_dims, d.x);
    cnn_tensor *w = cnn_test_tensor(2, d.w_dims, d.w);
    cnn_tensor *dy = cnn_test_tensor(2, d.y_dims, d.dy);
    cnn_tensor *y = cnn_test_tensor(2, d.y_dims, NULL);
    cnn_tensor *dx = cnn_test_tensor(2, d.x_dims, NULL);
    cnn_tensor *dw = cnn_test_tensor(2, d.w_dims, NULL);
    ck_assert_ok(cnn_tensor_fill(dw, 0.0));
    ck_assert_ok(cnn_linear_backward(dx, dw, NULL, dy, x, w));
    float *g[2] = {malloc((size_t)d.nx * 4), malloc((size_t)d.nw * 4)};
    float *yv = malloc((size_t)d.ny * 4);
    float *moved = malloc((size_t)(d.nx > d.nw ? d.nx : d.nw) * 4);
    ck_assert_ok(cnn_tensor_read(dx, g[0], (size_t)d.nx * 4));
    ck_assert_ok(cnn_tensor_read(dw, g[1], (size_t)d.nw * 4));
    const float eps = 0.25f;
    for (int which = 0; which < 2; ++which) {
        const float *base = which ? d.w : d.x;
        int64_t n = which ? d.nw : d.nx;
        cnn_tensor *t = which ? w : x;
        double loss[2];
        for (int side = 0; side < 2; ++side) {
            for (int64_t i = 0; i < n; ++i)
                moved[i] = base[i] + (side ? -eps : eps) * dir[which][i];
            ck_assert_ok(cnn_tensor_write(t, moved, (size_t)n * 4));
            ck_assert_ok(cnn_linear_forward(y, x, w, NULL));
            ck_assert_ok(cnn_tensor_read(y, yv, (size_t)d.ny * 4));
            loss[side] = cnn_test_dot(yv, d.dy, d.ny);
        }
        ck_assert_ok(cnn_tensor_write(t, base, (size_t)n * 4));
        double numeric = (loss[0] - loss[1]) / (2.0 * eps);
        double analytic = cnn_test_dot(g[which], dir[which], n);
        ck_assert_msg(fabs(numeric - analytic) <= 1e-4 * (1.0 + fabs(analytic)),
                      "%s: numeric %.9g, analytic %.9g", which ? "w" : "x",
                      numeric, analytic);
    }
    for (int i = 0; i < 2; ++i) {
        free(g[i]);
        free(dir[i]);
    }
    free(yv);
    free(moved);
    cnn_tensor *all[] = {x, w, dy, y, dx, dw};
    for (int i = 0; i < 6; ++i)
        cnn_tensor_free(all[i]);
    data_free(&d);
}
END_TEST

START_TEST(matches_pytorch_fixtures)
{
    cnn_fixture *f = cnn_fixture_load("linear.bin");
    cnn_engine saved = cnn_get_engine(cnn_cpu());
    const int32_t count = *(const int32_t *)cnn_fixture_get(f, "cases")->data;
    ck_assert_int_ge(count, 5);
    for (int i = 0; i < count; ++i) {
        char name[64];
        snprintf(name, sizeof name, "case%d.params", i);
        const int32_t has_bias =
            *(const int32_t *)cnn_fixture_get(f, name)->data;
        snprintf(name, sizeof name, "case%d.w", i);
        const cnn_fixture_tensor *wt = cnn_fixture_get(f, name);
        snprintf(name, sizeof name, "case%d.x", i);
        const cnn_fixture_tensor *xt = cnn_fixture_get(f, name);
        linear_case cs = {xt->dims[0], xt->dims[1], wt->dims[0],
                          has_bias != 0};
        linear_data d = data_create(&cs, 1);
        const char *fields[] = {"x", "w", "b", "dy"};
        float *mine[] = {d.x, d.w, d.b, d.dy};
        double *mine_d[] = {d.xd, d.wd, d.bd, d.dyd};
        int64_t sizes[] = {d.nx, d.nw, cs.out, d.ny};
        for (int t = 0; t < 4; ++t) {
            snprintf(name, sizeof name, "case%d.%s", i, fields[t]);
            memcpy(mine[t], cnn_fixture_floats(f, name),
                   (size_t)sizes[t] * sizeof(float));
            for (int64_t e = 0; e < sizes[t]; ++e)
                mine_d[t][e] = mine[t][e];
        }
        reference(&d, d.xd, d.wd, cs.bias ? d.bd : NULL, d.dyd);
        const char *answers[] = {"y", "dx", "dw", "db"};
        double *want[] = {d.y, d.dx, d.dw, d.db};
        double *abssum[] = {d.ya, d.dxa, d.dwa, d.dba};
        int64_t n_out[] = {d.ny, d.nx, d.nw, cs.out};
        for (int t = 0; t < 4; ++t) {
            snprintf(name, sizeof name, "case%d.%s", i, answers[t]);
            const float *torch = cnn_fixture_floats(f, name);
            for (int64_t e = 0; e < n_out[t]; ++e) {
                if (!(fabs(torch[e] - want[t][e]) <=
                      FLT_EPSILON * fabs(want[t][e]) + 1e-12 * abssum[t][e]))
                    ck_abort_msg("case %d %s[%lld]: the test's reference "
                                 "%.9g differs from PyTorch's %.9g", i,
                                 answers[t], (long long)e, want[t][e],
                                 (double)torch[e]);
                want[t][e] = torch[e];
                abssum[t][e] += fabs(torch[e]) / 4.0; /* its rounding */
            }
        }
        add_base(&d);
        for (int e = 0; e < GEMM_OPS_ENGINES; ++e) {
            char label[64];
            snprintf(label, sizeof label, "fixture case %d engine %s", i,
                     cnn_engine_name(gemm_ops_engines[e]));
            ck_assert_ok(cnn_set_engine(cnn_cpu(), gemm_ops_engines[e]));
            check_library(&d, label);
        }
        data_free(&d);
    }
    ck_assert_ok(cnn_set_engine(cnn_cpu(), saved));
    cnn_fixture_free(f);
}
END_TEST

START_TEST(bad_arguments_fail_cleanly)
{
    const int64_t xd[2] = {4, 6}, wd[2] = {3, 6}, yd[2] = {4, 3}, bd[1] = {3};
    const int64_t w_bad[2] = {3, 5}, y_bad[2] = {4, 4}, b_bad[1] = {4};
    const int64_t x_rows[2] = {5, 6}, x3[3] = {4, 6, 1};
    cnn_tensor *x = cnn_test_tensor(2, xd, NULL);
    cnn_tensor *w = cnn_test_tensor(2, wd, NULL);
    cnn_tensor *y = cnn_test_tensor(2, yd, NULL);
    cnn_tensor *b = cnn_test_tensor(1, bd, NULL);
    cnn_tensor *dx = cnn_test_tensor(2, xd, NULL);
    cnn_tensor *dw = cnn_test_tensor(2, wd, NULL);
    cnn_tensor *wb = cnn_test_tensor(2, w_bad, NULL);
    cnn_tensor *yb = cnn_test_tensor(2, y_bad, NULL);
    cnn_tensor *bb = cnn_test_tensor(1, b_bad, NULL);
    cnn_tensor *xr = cnn_test_tensor(2, x_rows, NULL);
    cnn_tensor *x_3d = cnn_test_tensor(3, x3, NULL);
    cnn_tensor *xi = NULL;
    ck_assert_ok(cnn_tensor_create(&xi, cnn_cpu(), CNN_I32, 2, xd));
    cnn_tensor *all[] = {x, w, y, b, dx, dw, wb, yb, bb, xr, x_3d, xi};
    for (int i = 0; i < 11; ++i)
        ck_assert_ok(cnn_tensor_fill(all[i], 0.25));
    ck_assert_ok(cnn_linear_forward(y, x, w, b));
    ck_assert_ok(cnn_linear_forward(y, x, w, NULL));
    ck_assert_fails(cnn_linear_forward(y, NULL, w, b),
                    CNN_ERR_INVALID_ARGUMENT, "cnn_linear_forward: x is NULL");
    ck_assert_fails(cnn_linear_forward(y, x, NULL, b),
                    CNN_ERR_INVALID_ARGUMENT, "w is NULL");
    ck_assert_fails(cnn_linear_forward(NULL, x, w, b),
                    CNN_ERR_INVALID_ARGUMENT, "y is NULL");
    ck_assert_fails(cnn_linear_forward(y, x, wb, b), CNN_ERR_SHAPE,
                    "x has 6 features but w expects 5");
    ck_assert_fails(cnn_linear_forward(yb, x, w, b), CNN_ERR_SHAPE, "y");
    ck_assert_fails(cnn_linear_forward(y, x, w, bb), CNN_ERR_SHAPE, "b");
    ck_assert_fails(cnn_linear_forward(y, x_3d, w, b), CNN_ERR_SHAPE,
                    "2 dimensions");
    ck_assert_fails(cnn_linear_forward(y, xi, w, b), CNN_ERR_INVALID_ARGUMENT,
                    "x is i32");

    ck_assert_ok(cnn_linear_backward(dx, dw, b, y, x, w));
    ck_assert_ok(cnn_linear_backward(NULL, NULL, b, y, NULL, NULL));
    ck_assert_fails(cnn_linear_backward(dx, dw, b, NULL, x, w),
                    CNN_ERR_INVALID_ARGUMENT, "dy is NULL");
    ck_assert_fails(cnn_linear_backward(dx, NULL, NULL, y, x, NULL),
                    CNN_ERR_INVALID_ARGUMENT, "w is NULL");
    ck_assert_fails(cnn_linear_backward(NULL, dw, NULL, y, NULL, w),
                    CNN_ERR_INVALID_ARGUMENT, "x is NULL");
    ck_assert_fails(cnn_linear_backward(dx, dw, NULL, yb, x, w), CNN_ERR_SHAPE,
                    "dy has 4 features but w has 3 outputs");
    ck_assert_fails(cnn_linear_backward(NULL, dw, NULL, y, xr, NULL),
                    CNN_ERR_SHAPE, "dy has 4 rows but x has 5");
    ck_assert_fails(cnn_linear_backward(dx, dw, bb, y, x, w), CNN_ERR_SHAPE,
                    "db");
    ck_assert_fails(cnn_linear_backward(dx, wb, b, y, x, w), CNN_ERR_SHAPE,
                    "dw");
    ck_assert_fails(cnn_linear_backward(dx, NULL, NULL, y, NULL, wb),
                    CNN_ERR_SHAPE, "dx has 6 features but w expects 5");
    for (int i = 0; i < 12; ++i)
        cnn_tensor_free(all[i]);
}
END_TEST

static Suite *linear_suite(void)
{
    Suite *s = suite_create("linear");
    TCase *tc = cnn_test_case("reference");
    tcase_add_test(tc, reference_backward_matches_central_differences);
    suite_add_tcase(s, tc);
    tc = cnn_test_case("engines");
    tcase_add_test(tc, every_engine_matches_reference);
    tcase_add_test(tc, float32_directional_derivatives);
    suite_add_tcase(s, tc);
    tc = cnn_test_case("pytorch");
    tcase_add_test(tc, matches_pytorch_fixtures);
    suite_add_tcase(s, tc);
    tc = cnn_test_case("errors");
    tcase_add_test(tc, bad_arguments_fail_cleanly);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return cnn_test_run(linear_suite());
}
