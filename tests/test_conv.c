/* tests/test_conv.c - 2-d convolution on the CPU: a double-precision
 * reference written here (its backward checked by central differences),
 * every engine against it on odd shapes and on shapes that cross the fast
 * path's block boundaries, PyTorch's answers (tests/fixtures/conv.bin), a
 * float32 directional check, determinism, and bad arguments. Label: cpu. */
#include <stdbool.h>

#include "fixture.h"
#include "gemm_ops_util.h"

typedef struct conv_case {
    int64_t n, c, h, w, k, r, s;
    cnn_conv2d_params p;
    bool bias;
} conv_case;

#define PARAMS(sh, sw, ph, pw, dh, dw, g) {sh, sw, ph, pw, dh, dw, g}

/* Odd shapes, each small. */
static const conv_case odd_cases[] = {
    {2, 3, 7, 6, 4, 3, 3, PARAMS(1, 1, 1, 1, 1, 1, 1), true},
    {2, 4, 9, 9, 6, 3, 3, PARAMS(2, 2, 0, 0, 1, 1, 1), false},
    {1, 5, 1, 1, 3, 1, 1, PARAMS(1, 1, 0, 0, 1, 1, 1), true},   /* 1x1 */
    {2, 2, 3, 3, 4, 5, 5, PARAMS(1, 1, 1, 1, 1, 1, 1), true},   /* = input */
    {2, 3, 10, 11, 2, 2, 2, PARAMS(3, 3, 0, 0, 1, 1, 1), true}, /* s > k */
    {3, 1, 8, 8, 1, 3, 3, PARAMS(1, 1, 1, 1, 1, 1, 1), false},  /* 1 ch */
    {2, 6, 7, 5, 9, 3, 2, PARAMS(1, 2, 1, 0, 1, 1, 3), true},   /* groups */
    {1, 8, 9, 9, 8, 3, 3, PARAMS(1, 1, 1, 1, 1, 1, 8), true},   /* dw */
    {1, 3, 11, 9, 4, 3, 3, PARAMS(1, 1, 2, 2, 2, 2, 1), false}, /* dil */
    {2, 3, 8, 9, 5, 2, 4, PARAMS(2, 1, 1, 2, 1, 2, 1), true},
    {3, 16, 5, 7, 8, 1, 1, PARAMS(1, 1, 0, 0, 1, 1, 1), true},  /* 1x1 */
    {2, 4, 7, 7, 3, 1, 1, PARAMS(2, 2, 0, 0, 1, 1, 1), true},
    {1, 3, 35, 35, 8, 11, 11, PARAMS(4, 4, 0, 0, 1, 1, 1), true},
    {1, 1, 1, 1, 1, 1, 1, PARAMS(1, 1, 0, 0, 1, 1, 1), true},
    {1, 2, 1, 1, 2, 3, 3, PARAMS(1, 1, 1, 1, 1, 1, 2), true},
    {2, 3, 6, 5, 4, 3, 1, PARAMS(1, 1, 1, 0, 2, 1, 1), true},  /* 3x1 */
    {2, 3, 7, 5, 4, 3, 1, PARAMS(2, 1, 0, 0, 1, 1, 1), false},
    {2, 2, 7, 6, 3, 2, 2, PARAMS(50, 70, 1, 2, 1, 1, 1), true}, /* huge */
    {3, 4, 9, 8, 5, 1, 1, PARAMS(2, 2, 0, 0, 1, 1, 1), false}, /* 1x1 s2 */
    {2, 3, 9, 9, 2, 3, 3, PARAMS(2, 3, 1, 1, 2, 2, 1), true},
};
#define ODD_COUNT ((int)(sizeof odd_cases / sizeof odd_cases[0]))

/* Shapes that cross the fast paths' blocks: with OpenBLAS, 2048 columns
 * and 4M unfolded floats (a pointwise layer read in place, an image whose
 * unfolding is cut into pieces, small images batched into blocks with a
 * remainder, images of more columns than one block); with our GEMM, about
 * 2 MB of prepared input per block of images (the 64-channel 90x90
 * images go one per block, strided ones too), and the strided data
 * gradient's blocks of about 2^18 unfolded values. */
static const conv_case big_cases[] = {
    {1, 8, 48, 48, 4, 1, 1, PARAMS(1, 1, 0, 0, 1, 1, 1), true},
    {2, 64, 90, 90, 2, 3, 3, PARAMS(1, 1, 1, 1, 1, 1, 1), true},
    {2, 64, 91, 90, 2, 3, 3, PARAMS(2, 3, 1, 0, 1, 1, 1), true},
    {100, 4, 7, 7, 6, 3, 3, PARAMS(1, 1, 1, 1, 1, 1, 2), true},
    {2, 3, 60, 50, 5, 3, 3, PARAMS(1, 1, 1, 1, 1, 1, 1), false},
    {90, 6, 5, 5, 4, 1, 1, PARAMS(1, 1, 0, 0, 1, 1, 1), true},
};
#define BIG_COUNT ((int)(sizeof big_cases / sizeof big_cases[0]))

static int64_t extent(int64_t in, int64_t k, int64_t stride, int64_t pad,
                      int64_t dil)
{
    return (in + 2 * pad - dil * (k - 1) - 1) / stride + 1;
}

/* Everything one case needs: inputs as float and double, and the double
 * reference's answers with the magnitude sums that scale tolerances. */
typedef struct conv_data {
    conv_case cs;
    int64_t pp, qq;
    int64_t x_dims[4], w_dims[4], y_dims[4], b_dims[1];
    int64_t nx, nw, ny;
    float *x, *w, *b, *dy, *dw0, *db0;
    double *xd, *wd, *bd, *dyd;
    double *y, *ya, *dx, *dxa, *dw, *dwa, *db, *dba;
} conv_data;

/* The definition, in scatter form (each output pixel sends its terms to
 * every input and weight it read), independent of the library's loops. */
static void reference(const conv_data *d, const double *x, const double *w,
                      const double *b, const double *dy, double *y,
                      double *ya, double *dx, double *dxa, double *dw,
                      double *dwa, double *db, double *dba)
{
    const conv_case *c = &d->cs;
    int64_t kg = c->k / c->p.groups, cg = c->c / c->p.groups;
    for (int64_t i = 0; i < d->ny; ++i)
        y[i] = ya[i] = 0.0;
    if (dy) {
        memset(dx, 0, (size_t)d->nx * sizeof *dx);
        memset(dxa, 0, (size_t)d->nx * sizeof *dxa);
        memset(dw, 0, (size_t)d->nw * sizeof *dw);
        memset(dwa, 0, (size_t)d->nw * sizeof *dwa);
        memset(db, 0, (size_t)c->k * sizeof *db);
        memset(dba, 0, (size_t)c->k * sizeof *dba);
    }
    for (int64_t n = 0; n < c->n; ++n)
        for (int64_t k = 0; k < c->k; ++k)
            for (int64_t oh = 0; oh < d->pp; ++oh)
                for (int64_t ow = 0; ow < d->qq; ++ow) {
                    int64_t yi = ((n * c->k + k) * d->pp + oh) * d->qq + ow;
                    int64_t g = k / kg;
                    double g_out = dy ? dy[yi] : 0.0;
                    if (b) {
                        y[yi] += b[k];
                        ya[yi] += fabs(b[k]);
                    }
                    if (dy) {
                        db[k] += g_out;
                        dba[k] += fabs(g_out);
                    }
                    for (int64_t ci = 0; ci < cg; ++ci)
                        for (int64_t r = 0; r < c->r; ++r)
                            for (int64_t s = 0; s < c->s; ++s) {
                                int64_t ih = oh * c->p.stride_h - c->p.pad_h +
                                             r * c->p.dilation_h;
                                int64_t iw = ow * c->p.stride_w - c->p.pad_w +
                                             s * c->p.dilation_w;
                                if (ih < 0 || ih >= c->h || iw < 0 ||
                                    iw >= c->w)
                                    continue;
                                int64_t xi = ((n * c->c + g * cg + ci) * c->h +
                                              ih) * c->w + iw;
                                int64_t wi = ((k * cg + ci) * c->r + r) * c->s +
                                             s;
                                y[yi] += x[xi] * w[wi];
                                ya[yi] += fabs(x[xi] * w[wi]);
                                if (!dy)
                                    continue;
                                dx[xi] += g_out * w[wi];
                                dxa[xi] += fabs(g_out * w[wi]);
                                dw[wi] += g_out * x[xi];
                                dwa[wi] += fabs(g_out * x[xi]);
                            }
                }
}

static conv_data data_create(const conv_case *cs, uint32_t seed)
{
    conv_data d = {.cs = *cs};
    d.pp = extent(cs->h, cs->r, cs->p.stride_h, cs->p.pad_h,
                  cs->p.dilation_h);
    d.qq = extent(cs->w, cs->s, cs->p.stride_w, cs->p.pad_w,
                  cs->p.dilation_w);
    int64_t xd[4] = {cs->n, cs->c, cs->h, cs->w};
    int64_t wd[4] = {cs->k, cs->c / cs->p.groups, cs->r, cs->s};
    int64_t yd[4] = {cs->n, cs->k, d.pp, d.qq};
    memcpy(d.x_dims, xd, sizeof xd);
    memcpy(d.w_dims, wd, sizeof wd);
    memcpy(d.y_dims, yd, sizeof yd);
    d.b_dims[0] = cs->k;
    d.nx = xd[0] * xd[1] * xd[2] * xd[3];
    d.nw = wd[0] * wd[1] * wd[2] * wd[3];
    d.ny = yd[0] * yd[1] * yd[2] * yd[3];
    d.x = test_floats(d.nx, seed, &d.xd);
    d.w = test_floats(d.nw, seed + 1, &d.wd);
    d.b = test_floats(cs->k, seed + 2, &d.bd);
    d.dy = test_floats(d.ny, seed + 3, &d.dyd);
    d.dw0 = test_floats(d.nw, seed + 4, NULL);
    d.db0 = test_floats(cs->k, seed + 5, NULL);
    d.y = test_doubles(d.ny), d.ya = test_doubles(d.ny);
    d.dx = test_doubles(d.nx), d.dxa = test_doubles(d.nx);
    d.dw = test_doubles(d.nw), d.dwa = test_doubles(d.nw);
    d.db = test_doubles(cs->k), d.dba = test_doubles(cs->k);
    reference(&d, d.xd, d.wd, cs->bias ? d.bd : NULL, d.dyd, d.y, d.ya, d.dx,
              d.dxa, d.dw, d.dwa, d.db, d.dba);
    return d;
}

static void data_free(conv_data *d)
{
    void *all[] = {d->x, d->w, d->b, d->dy, d->dw0, d->db0, d->xd, d->wd,
                   d->bd, d->dyd, d->y, d->ya, d->dx, d->dxa, d->dw, d->dwa,
                   d->db, d->dba};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; ++i)
        free(all[i]);
}

/* The library on the current engine against the reference: forward, then
 * every gradient together, then each gradient alone with the inputs it
 * does not need left NULL. dw and db accumulate onto dw0 and db0. */
static void check_library(const conv_data *d, const char *label,
                          bool every_mode)
{
    const conv_case *cs = &d->cs;
    cnn_tensor *x = cnn_test_tensor(4, d->x_dims, d->x);
    cnn_tensor *w = cnn_test_tensor(4, d->w_dims, d->w);
    cnn_tensor *b = cnn_test_tensor(1, d->b_dims, d->b);
    cnn_tensor *dy = cnn_test_tensor(4, d->y_dims, d->dy);
    char what[160];

    guarded y = guarded_create(4, d->y_dims, NULL);
    ck_assert_ok(cnn_conv2d_forward(y.t, x, w, cs->bias ? b : NULL, &cs->p));
    snprintf(what, sizeof what, "%s y", label);
    expect_close(what, guarded_values(&y), d->y, d->ya, NULL, d->ny);
    guarded_free(&y);

    for (int mode = 0; mode < (every_mode ? 4 : 1); ++mode) {
        /* all, dx alone, dw alone, db alone */
        guarded dx = guarded_create(4, d->x_dims, NULL);
        guarded dw = guarded_create(4, d->w_dims, d->dw0);
        guarded db = guarded_create(1, d->b_dims, d->db0);
        bool want_dx = mode == 0 || mode == 1, want_dw = mode == 0 || mode == 2;
        bool want_db = mode == 0 || mode == 3;
        ck_assert_ok(cnn_conv2d_backward(
            want_dx ? dx.t : NULL, want_dw ? dw.t : NULL,
            want_db ? db.t : NULL, dy, want_dw || mode == 0 ? x : NULL,
            want_dx ? w : NULL, &cs->p));
        snprintf(what, sizeof what, "%s mode %d dx", label, mode);
        if (want_dx)
            expect_close(what, guarded_values(&dx), d->dx, d->dxa, NULL,
                         d->nx);
        snprintf(what, sizeof what, "%s mode %d dw", label, mode);
        if (want_dw)
            expect_close(what, guarded_values(&dw), d->dw, d->dwa, d->dw0,
                         d->nw);
        else
            ck_assert_mem_eq(guarded_values(&dw), d->dw0,
                             (size_t)d->nw * sizeof(float));
        snprintf(what, sizeof what, "%s mode %d db", label, mode);
        if (want_db)
            expect_close(what, guarded_values(&db), d->db, d->dba, d->db0,
                         cs->k);
        guarded_free(&dx);
        guarded_free(&dw);
        guarded_free(&db);
    }
    cnn_tensor_free(x);
    cnn_tensor_free(w);
    cnn_tensor_free(b);
    cnn_tensor_free(dy);
}

/* expect_close wants dw's reference as init + gradient. */
static void add_base(conv_data *d)
{
    for (int64_t i = 0; i < d->nw; ++i)
        d->dw[i] += d->dw0[i];
    for (int64_t i = 0; i < d->cs.k; ++i)
        d->db[i] += d->db0[i];
}

/* every_engine false: the NATIVE engine alone (the shapes that test its
 * blocking, too big to run the reference loops on quickly). */
static void check_cases(const conv_case *cases, int count, uint32_t seed,
                        bool every_engine)
{
    cnn_engine saved = cnn_get_engine(cnn_cpu());
    for (int i = 0; i < count; ++i) {
        conv_data d = data_create(&cases[i], seed + 10u * (uint32_t)i);
        add_base(&d);
        for (int e = 0; e < GEMM_OPS_ENGINES; ++e) {
            if (!every_engine && gemm_ops_engines[e] != CNN_ENGINE_NATIVE)
                continue;
            char label[64];
            snprintf(label, sizeof label, "case %d engine %s", i,
                     cnn_engine_name(gemm_ops_engines[e]));
            ck_assert_ok(cnn_set_engine(cnn_cpu(), gemm_ops_engines[e]));
            check_library(&d, label, every_engine && e == 0);
        }
        data_free(&d);
    }
    ck_assert_ok(cnn_set_engine(cnn_cpu(), saved));
}

START_TEST(odd_shapes_match_reference)
{
    check_cases(odd_cases, ODD_COUNT, 100, true);
}
END_TEST

START_TEST(block_boundaries_match_reference)
{
    check_cases(big_cases, BIG_COUNT, 500, false);
}
END_TEST

/* The fast engine against the REFERENCE engine directly, on a layer big
 * enough for several threads and blocks. */
START_TEST(native_matches_reference_engine)
{
    const conv_case cs = {70, 6, 9, 9, 10, 3, 3,
                          PARAMS(2, 1, 1, 2, 1, 1, 2), true};
    conv_data d = data_create(&cs, 900);
    cnn_tensor *x = cnn_test_tensor(4, d.x_dims, d.x);
    cnn_tensor *w = cnn_test_tensor(4, d.w_dims, d.w);
    cnn_tensor *b = cnn_test_tensor(1, d.b_dims, d.b);
    cnn_tensor *dy = cnn_test_tensor(4, d.y_dims, d.dy);
    float *out[2][4];
    for (int e = 0; e < 2; ++e) {
        ck_assert_ok(cnn_set_engine(cnn_cpu(), e ? CNN_ENGINE_REFERENCE
                                                 : CNN_ENGINE_NATIVE));
        guarded y = guarded_create(4, d.y_dims, NULL);
        guarded dx = guarded_create(4, d.x_dims, NULL);
        guarded dw = guarded_create(4, d.w_dims, d.dw0);
        guarded db = guarded_create(1, d.b_dims, d.db0);
        ck_assert_ok(cnn_conv2d_forward(y.t, x, w, b, &cs.p));
        ck_assert_ok(cnn_conv2d_backward(dx.t, dw.t, db.t, dy, x, w, &cs.p));
        const guarded *g[4] = {&y, &dx, &dw, &db};
        for (int t = 0; t < 4; ++t) {
            out[e][t] = malloc((size_t)g[t]->n * sizeof(float));
            memcpy(out[e][t], guarded_values(g[t]),
                   (size_t)g[t]->n * sizeof(float));
        }
        guarded_free(&y);
        guarded_free(&dx);
        guarded_free(&dw);
        guarded_free(&db);
    }
    ck_assert_ok(cnn_set_engine(cnn_cpu(), CNN_ENGINE_AUTO));
    /* Both round the same exact values; allow each its own tolerance. */
    const double *abssum[4] = {d.ya, d.dxa, d.dwa, d.dba};
    const int64_t n[4] = {d.ny, d.nx, d.nw, cs.k};
    for (int t = 0; t < 4; ++t) {
        double *want = test_doubles(n[t]), *tol = test_doubles(n[t]);
        for (int64_t i = 0; i < n[t]; ++i) {
            want[i] = out[1][t][i];
            tol[i] = 2.0 * abssum[t][i] + (t >= 2 ? fabs(out[1][t][i]) : 0);
        }
        expect_close("native vs reference", out[0][t], want, tol, NULL, n[t]);
        free(want);
        free(tol);
        free(out[0][t]);
        free(out[1][t]);
    }
    cnn_tensor_free(x);
    cnn_tensor_free(w);
    cnn_tensor_free(b);
    cnn_tensor_free(dy);
    data_free(&d);
}
END_TEST

/* L = sum(y * v) is linear in each of x, w and b, so central differences
 * of the double reference are exact up to rounding: they must equal the
 * reference's backward with dy = v. */
START_TEST(reference_backward_matches_central_differences)
{
    const conv_case cases[] = {
        {2, 4, 5, 6, 4, 3, 2, PARAMS(2, 1, 1, 0, 1, 2, 2), true},
        {1, 3, 4, 4, 2, 2, 2, PARAMS(1, 1, 1, 1, 1, 1, 1), true},
    };
    for (int ci = 0; ci < 2; ++ci) {
        conv_data d = data_create(&cases[ci], 40 + (uint32_t)ci);
        double *y = test_doubles(d.ny), *ya = test_doubles(d.ny);
        double *params[3] = {d.xd, d.wd, d.bd};
        const double *grads[3] = {d.dx, d.dw, d.db};
        const int64_t sizes[3] = {d.nx, d.nw, d.cs.k};
        const double h = 1e-3;
        for (int which = 0; which < 3; ++which)
            for (int64_t i = 0; i < sizes[which]; ++i) {
                double keep = params[which][i], loss[2];
                for (int side = 0; side < 2; ++side) {
                    params[which][i] = keep + (side ? -h : h);
                    reference(&d, d.xd, d.wd, d.bd, NULL, y, ya, NULL, NULL,
                              NULL, NULL, NULL, NULL);
                    loss[side] = 0.0;
                    for (int64_t t = 0; t < d.ny; ++t)
                        loss[side] += y[t] * d.dyd[t];
                }
                params[which][i] = keep;
                double numeric = (loss[0] - loss[1]) / (2 * h);
                if (!(fabs(numeric - grads[which][i]) <= 1e-9))
                    ck_abort_msg("case %d tensor %d [%lld]: numeric %.12g, "
                                 "analytic %.12g", ci, which, (long long)i,
                                 numeric, grads[which][i]);
            }
        free(y);
        free(ya);
        data_free(&d);
    }
}
END_TEST

/* The library's own forward, perturbed along a direction, against its
 * backward, in float32. */
START_TEST(float32_directional_derivatives)
{
    const conv_case cs = {2, 6, 9, 8, 4, 3, 3, PARAMS(2, 1, 1, 1, 1, 1, 2),
                          false};
    conv_data d = data_create(&cs, 70);
    float *dir_x = test_floats(d.nx, 71, NULL);
    float *dir_w = test_floats(d.nw, 72, NULL);
    cnn_tensor *x = cnn_test_tensor(4, d.x_dims, d.x);
    cnn_tensor *w = cnn_test_tensor(4, d.w_dims, d.w);
    cnn_tensor *dy = cnn_test_tensor(4, d.y_dims, d.dy);
    cnn_tensor *y = cnn_test_tensor(4, d.y_dims, NULL);
    cnn_tensor *dx = cnn_test_tensor(4, d.x_dims, NULL);
    cnn_tensor *dw = cnn_test_tensor(4, d.w_dims, NULL);
    ck_assert_ok(cnn_tensor_fill(dw, 0.0));
    ck_assert_ok(cnn_conv2d_backward(dx, dw, NULL, dy, x, w, &cs.p));
    float *gx = malloc((size_t)d.nx * sizeof *gx);
    float *gw = malloc((size_t)d.nw * sizeof *gw);
    float *yv = malloc((size_t)d.ny * sizeof *yv);
    float *moved = malloc((size_t)(d.nx > d.nw ? d.nx : d.nw) * sizeof *moved);
    ck_assert_ok(cnn_tensor_read(dx, gx, (size_t)d.nx * sizeof *gx));
    ck_assert_ok(cnn_tensor_read(dw, gw, (size_t)d.nw * sizeof *gw));
    const float eps = 0.25f; /* the loss is linear: no truncation error */
    for (int which = 0; which < 2; ++which) {
        const float *base = which ? d.w : d.x, *dir = which ? dir_w : dir_x;
        int64_t n = which ? d.nw : d.nx;
        cnn_tensor *t = which ? w : x;
        double loss[2];
        for (int side = 0; side < 2; ++side) {
            for (int64_t i = 0; i < n; ++i)
                moved[i] = base[i] + (side ? -eps : eps) * dir[i];
            ck_assert_ok(cnn_tensor_write(t, moved, (size_t)n * sizeof *moved));
            ck_assert_ok(cnn_conv2d_forward(y, x, w, NULL, &cs.p));
            ck_assert_ok(cnn_tensor_read(y, yv, (size_t)d.ny * sizeof *yv));
            loss[side] = cnn_test_dot(yv, d.dy, d.ny);
        }
        ck_assert_ok(cnn_tensor_write(t, base, (size_t)n * sizeof *base));
        double numeric = (loss[0] - loss[1]) / (2.0 * eps);
        double analytic = cnn_test_dot(which ? gw : gx, dir, n);
        ck_assert_msg(fabs(numeric - analytic) <= 1e-4 * (1.0 + fabs(analytic)),
                      "%s: numeric %.9g, analytic %.9g", which ? "w" : "x",
                      numeric, analytic);
    }
    free(gx);
    free(gw);
    free(yv);
    free(moved);
    free(dir_x);
    free(dir_w);
    cnn_tensor_free(x);
    cnn_tensor_free(w);
    cnn_tensor_free(dy);
    cnn_tensor_free(y);
    cnn_tensor_free(dx);
    cnn_tensor_free(dw);
    data_free(&d);
}
END_TEST

/* PyTorch's float64 answers, on every engine. */
START_TEST(matches_pytorch_fixtures)
{
    cnn_fixture *f = cnn_fixture_load("conv.bin");
    cnn_engine saved = cnn_get_engine(cnn_cpu());
    const int32_t count = *(const int32_t *)cnn_fixture_get(f, "cases")->data;
    ck_assert_int_gt(count, 10);
    for (int i = 0; i < count; ++i) {
        char name[64];
        snprintf(name, sizeof name, "case%d.params", i);
        const cnn_fixture_tensor *pt = cnn_fixture_get(f, name);
        const int32_t *pv = pt->data;
        snprintf(name, sizeof name, "case%d.x", i);
        const cnn_fixture_tensor *xt = cnn_fixture_get(f, name);
        snprintf(name, sizeof name, "case%d.w", i);
        const cnn_fixture_tensor *wt = cnn_fixture_get(f, name);
        conv_case cs = {xt->dims[0], xt->dims[1], xt->dims[2], xt->dims[3],
                        wt->dims[0], wt->dims[2], wt->dims[3],
                        PARAMS(pv[0], pv[1], pv[2], pv[3], pv[4], pv[5],
                               pv[6]), pv[7] != 0};
        conv_data d = data_create(&cs, 1); /* for shapes and abssums */
        const char *fields[] = {"x", "w", "b", "dy"};
        float *mine[] = {d.x, d.w, d.b, d.dy};
        int64_t sizes[] = {d.nx, d.nw, cs.k, d.ny};
        for (int t = 0; t < 4; ++t) {
            snprintf(name, sizeof name, "case%d.%s", i, fields[t]);
            memcpy(mine[t], cnn_fixture_floats(f, name),
                   (size_t)sizes[t] * sizeof(float));
        }
        for (int64_t t = 0; t < d.nx; ++t)
            d.xd[t] = d.x[t];
        for (int64_t t = 0; t < d.nw; ++t)
            d.wd[t] = d.w[t];
        for (int64_t t = 0; t < cs.k; ++t)
            d.bd[t] = d.b[t];
        for (int64_t t = 0; t < d.ny; ++t)
            d.dyd[t] = d.dy[t];
        reference(&d, d.xd, d.wd, cs.bias ? d.bd : NULL, d.dyd, d.y, d.ya,
                  d.dx, d.dxa, d.dw, d.dwa, d.db, d.dba);
        /* PyTorch's answers replace ours, rounded to float32 once: allow
         * that rounding on top. */
        const char *answers[] = {"y", "dx", "dw", "db"};
        double *mine_d[] = {d.y, d.dx, d.dw, d.db};
        double *abs_d[] = {d.ya, d.dxa, d.dwa, d.dba};
        int64_t n_out[] = {d.ny, d.nx, d.nw, cs.k};
        for (int t = 0; t < 4; ++t) {
            snprintf(name, sizeof name, "case%d.%s", i, answers[t]);
            const float *torch = cnn_fixture_floats(f, name);
            for (int64_t e = 0; e < n_out[t]; ++e) {
                if (!(fabs(torch[e] - mine_d[t][e]) <=
                      FLT_EPSILON * fabs(mine_d[t][e]) + 1e-12 * abs_d[t][e]))
                    ck_abort_msg("case %d %s[%lld]: the test's reference "
                                 "%.9g differs from PyTorch's %.9g", i,
                                 answers[t], (long long)e, mine_d[t][e],
                                 (double)torch[e]);
                mine_d[t][e] = torch[e];
                abs_d[t][e] += fabs(torch[e]) / 4.0; /* one more rounding */
            }
        }
        add_base(&d);
        for (int e = 0; e < GEMM_OPS_ENGINES; ++e) {
            char label[64];
            snprintf(label, sizeof label, "fixture case %d engine %s", i,
                     cnn_engine_name(gemm_ops_engines[e]));
            ck_assert_ok(cnn_set_engine(cnn_cpu(), gemm_ops_engines[e]));
            check_library(&d, label, e == 0);
        }
        data_free(&d);
    }
    ck_assert_ok(cnn_set_engine(cnn_cpu(), saved));
    cnn_fixture_free(f);
}
END_TEST

/* The same inputs give bit-identical outputs, call after call. */
START_TEST(results_are_deterministic)
{
    const conv_case cs = {6, 32, 15, 15, 48, 3, 3,
                          PARAMS(1, 1, 1, 1, 1, 1, 1), true};
    conv_data d = data_create(&cs, 300);
    cnn_tensor *x = cnn_test_tensor(4, d.x_dims, d.x);
    cnn_tensor *w = cnn_test_tensor(4, d.w_dims, d.w);
    cnn_tensor *b = cnn_test_tensor(1, d.b_dims, d.b);
    cnn_tensor *dy = cnn_test_tensor(4, d.y_dims, d.dy);
    float *first[4] = {0};
    for (int run = 0; run < 3; ++run) {
        cnn_tensor *y = cnn_test_tensor(4, d.y_dims, NULL);
        cnn_tensor *dx = cnn_test_tensor(4, d.x_dims, NULL);
        cnn_tensor *dw = cnn_test_tensor(4, d.w_dims, d.dw0);
        cnn_tensor *db = cnn_test_tensor(1, d.b_dims, d.db0);
        ck_assert_ok(cnn_conv2d_forward(y, x, w, b, &cs.p));
        ck_assert_ok(cnn_conv2d_backward(dx, dw, db, dy, x, w, &cs.p));
        cnn_tensor *outs[4] = {y, dx, dw, db};
        for (int t = 0; t < 4; ++t) {
            size_t bytes = cnn_tensor_bytes(outs[t]);
            float *v = malloc(bytes);
            ck_assert_ok(cnn_tensor_read(outs[t], v, bytes));
            if (run == 0)
                first[t] = v;
            else {
                ck_assert_msg(memcmp(v, first[t], bytes) == 0,
                              "run %d output %d differs", run, t);
                free(v);
            }
            cnn_tensor_free(outs[t]);
        }
    }
    for (int t = 0; t < 4; ++t)
        free(first[t]);
    cnn_tensor_free(x);
    cnn_tensor_free(w);
    cnn_tensor_free(b);
    cnn_tensor_free(dy);
    data_free(&d);
}
END_TEST

/* With our GEMM every output element is summed in an order that the
 * thread count does not change (threads split outputs; blocks of images
 * and of k run in order), so 1, 2 and 3 threads give the same bits. */
START_TEST(own_gemm_results_do_not_depend_on_thread_count)
{
    if (!strstr(cnn_runtime_info(), "gemm: own")) {
        printf("thread-count independence: OpenBLAS active, skipped "
               "(CNN_GEMM=own runs it)\n");
        return;
    }
    int saved = 0;
    ck_assert_int_eq(sscanf(strrchr(cnn_device_name(cnn_cpu()), ',') + 1,
                            "%d", &saved), 1);
    const conv_case cases[] = {
        {5, 16, 12, 11, 24, 3, 3, PARAMS(2, 1, 1, 1, 1, 1, 2), true},
        {4, 8, 9, 9, 16, 3, 3, PARAMS(1, 1, 1, 1, 1, 1, 1), true},
        {3, 24, 6, 7, 40, 1, 1, PARAMS(1, 1, 0, 0, 1, 1, 1), false},
    };
    for (int ci = 0; ci < 3; ++ci) {
        const conv_case *cs = &cases[ci];
        conv_data d = data_create(cs, 600 + (uint32_t)ci);
        cnn_tensor *x = cnn_test_tensor(4, d.x_dims, d.x);
        cnn_tensor *w = cnn_test_tensor(4, d.w_dims, d.w);
        cnn_tensor *b = cnn_test_tensor(1, d.b_dims, d.b);
        cnn_tensor *dy = cnn_test_tensor(4, d.y_dims, d.dy);
        float *first[4] = {0};
        for (int threads = 1; threads <= 3; ++threads) {
            ck_assert_ok(cnn_set_threads(cnn_cpu(), threads));
            cnn_tensor *y = cnn_test_tensor(4, d.y_dims, NULL);
            cnn_tensor *dx = cnn_test_tensor(4, d.x_dims, NULL);
            cnn_tensor *dw = cnn_test_tensor(4, d.w_dims, d.dw0);
            cnn_tensor *db = cnn_test_tensor(1, d.b_dims, d.db0);
            ck_assert_ok(cnn_conv2d_forward(y, x, w, cs->bias ? b : NULL,
                                            &cs->p));
            ck_assert_ok(cnn_conv2d_backward(dx, dw, db, dy, x, w, &cs->p));
            cnn_tensor *outs[4] = {y, dx, dw, db};
            for (int t = 0; t < 4; ++t) {
                size_t bytes = cnn_tensor_bytes(outs[t]);
                float *v = malloc(bytes);
                ck_assert_ok(cnn_tensor_read(outs[t], v, bytes));
                if (threads == 1) {
                    first[t] = v;
                } else {
                    ck_assert_msg(memcmp(v, first[t], bytes) == 0,
                                  "case %d: %d threads change output %d", ci,
                                  threads, t);
                    free(v);
                }
                cnn_tensor_free(outs[t]);
            }
        }
        for (int t = 0; t < 4; ++t)
            free(first[t]);
        cnn_tensor *ins[4] = {x, w, b, dy};
        for (int t = 0; t < 4; ++t)
            cnn_tensor_free(ins[t]);
        data_free(&d);
    }
    ck_assert_ok(cnn_set_threads(cnn_cpu(), saved));
}
END_TEST

START_TEST(output_shape_and_defaults)
{
    cnn_conv2d_params p = cnn_conv2d_params_default();
    ck_assert_int_eq(p.stride_h, 1);
    ck_assert_int_eq(p.stride_w, 1);
    ck_assert_int_eq(p.pad_h, 0);
    ck_assert_int_eq(p.pad_w, 0);
    ck_assert_int_eq(p.dilation_h, 1);
    ck_assert_int_eq(p.dilation_w, 1);
    ck_assert_int_eq(p.groups, 1);
    /* AlexNet's conv1 and the two-tower conv2. */
    const int64_t x1[4] = {16, 3, 227, 227}, w1[4] = {96, 3, 11, 11};
    int64_t y[4];
    p.stride_h = p.stride_w = 4;
    ck_assert_ok(cnn_conv2d_output_shape(x1, w1, &p, y));
    ck_assert(y[0] == 16 && y[1] == 96 && y[2] == 55 && y[3] == 55);
    const int64_t x2[4] = {16, 96, 27, 27}, w2[4] = {256, 48, 5, 5};
    p = cnn_conv2d_params_default();
    p.pad_h = p.pad_w = 2;
    p.groups = 2;
    ck_assert_ok(cnn_conv2d_output_shape(x2, w2, &p, y));
    ck_assert(y[0] == 16 && y[1] == 256 && y[2] == 27 && y[3] == 27);
    /* Floor division, dilation, unequal sides. */
    const int64_t x3[4] = {1, 1, 10, 7}, w3[4] = {1, 1, 3, 2};
    p = (cnn_conv2d_params){3, 2, 1, 0, 2, 3, 1};
    ck_assert_ok(cnn_conv2d_output_shape(x3, w3, &p, y));
    ck_assert_int_eq(y[2], (10 + 2 - 2 * 2 - 1) / 3 + 1);
    ck_assert_int_eq(y[3], (7 - 3 * 1 - 1) / 2 + 1);
}
END_TEST

START_TEST(bad_arguments_fail_cleanly)
{
    const int64_t xd[4] = {2, 3, 5, 5}, wd[4] = {4, 3, 3, 3};
    const int64_t yd[4] = {2, 4, 3, 3}, bd[1] = {4};
    cnn_tensor *x = cnn_test_tensor(4, xd, NULL);
    cnn_tensor *w = cnn_test_tensor(4, wd, NULL);
    cnn_tensor *y = cnn_test_tensor(4, yd, NULL);
    cnn_tensor *b = cnn_test_tensor(1, bd, NULL);
    cnn_tensor *dy = cnn_test_tensor(4, yd, NULL);
    cnn_tensor *dx = cnn_test_tensor(4, xd, NULL);
    cnn_tensor *dw = cnn_test_tensor(4, wd, NULL);
    ck_assert_ok(cnn_tensor_fill(x, 0.5));
    ck_assert_ok(cnn_tensor_fill(w, 0.5));
    ck_assert_ok(cnn_tensor_fill(dy, 0.5));
    cnn_conv2d_params p = cnn_conv2d_params_default(), bad;
    ck_assert_ok(cnn_conv2d_forward(y, x, w, b, &p));

    ck_assert_fails(cnn_conv2d_forward(y, NULL, w, b, &p),
                    CNN_ERR_INVALID_ARGUMENT, "cnn_conv2d_forward: x is NULL");
    ck_assert_fails(cnn_conv2d_forward(NULL, x, w, b, &p),
                    CNN_ERR_INVALID_ARGUMENT, "y is NULL");
    ck_assert_fails(cnn_conv2d_forward(y, x, w, b, NULL),
                    CNN_ERR_INVALID_ARGUMENT, "p is NULL");
    bad = p, bad.stride_h = 0;
    ck_assert_fails(cnn_conv2d_forward(y, x, w, b, &bad),
                    CNN_ERR_INVALID_ARGUMENT, "stride_h");
    bad = p, bad.pad_w = -1;
    ck_assert_fails(cnn_conv2d_forward(y, x, w, b, &bad),
                    CNN_ERR_INVALID_ARGUMENT, "pad_w");
    bad = p, bad.dilation_w = 0;
    ck_assert_fails(cnn_conv2d_forward(y, x, w, b, &bad),
                    CNN_ERR_INVALID_ARGUMENT, "dilation_w");
    bad = p, bad.groups = 0;
    ck_assert_fails(cnn_conv2d_forward(y, x, w, b, &bad),
                    CNN_ERR_INVALID_ARGUMENT, "groups");
    bad = p, bad.groups = 2; /* 3 channels */
    ck_assert_fails(cnn_conv2d_forward(y, x, w, b, &bad), CNN_ERR_SHAPE,
                    "not divisible by groups 2");
    bad = p, bad.dilation_h = 3; /* a 7-row kernel on 5 rows */
    ck_assert_fails(cnn_conv2d_forward(y, x, w, b, &bad), CNN_ERR_SHAPE,
                    "larger than");
    bad = p, bad.stride_w = (int64_t)1 << 40;
    ck_assert_fails(cnn_conv2d_forward(y, x, w, b, &bad),
                    CNN_ERR_INVALID_ARGUMENT, "stride_w");

    const int64_t big_k[4] = {4, 3, 7, 3}, w4[4] = {4, 4, 3, 3};
    const int64_t y_bad[4] = {2, 4, 3, 4}, x3[3] = {3, 5, 5}, b_bad[1] = {5};
    cnn_tensor *wk = cnn_test_tensor(4, big_k, NULL);
    cnn_tensor *wc = cnn_test_tensor(4, w4, NULL);
    cnn_tensor *yb = cnn_test_tensor(4, y_bad, NULL);
    cnn_tensor *x_3d = cnn_test_tensor(3, x3, NULL);
    cnn_tensor *bb = cnn_test_tensor(1, b_bad, NULL);
    cnn_tensor *xi = NULL;
    ck_assert_ok(cnn_tensor_create(&xi, cnn_cpu(), CNN_I32, 4, xd));
    ck_assert_fails(cnn_conv2d_forward(y, x, wk, b, &p), CNN_ERR_SHAPE,
                    "larger than the 5x5 input");
    ck_assert_fails(cnn_conv2d_forward(y, x, wc, b, &p), CNN_ERR_SHAPE,
                    "x has 3 channels but w expects 4");
    ck_assert_fails(cnn_conv2d_forward(yb, x, w, b, &p), CNN_ERR_SHAPE, "y");
    ck_assert_fails(cnn_conv2d_forward(y, x_3d, w, b, &p), CNN_ERR_SHAPE,
                    "4 dimensions");
    ck_assert_fails(cnn_conv2d_forward(y, x, w, bb, &p), CNN_ERR_SHAPE, "b");
    ck_assert_fails(cnn_conv2d_forward(y, xi, w, b, &p),
                    CNN_ERR_INVALID_ARGUMENT, "x is i32");

    /* Backward: what each gradient needs, and shapes that must chain. */
    ck_assert_ok(cnn_conv2d_backward(dx, dw, b, dy, x, w, &p));
    ck_assert_ok(cnn_conv2d_backward(NULL, NULL, NULL, dy, NULL, NULL, &p));
    ck_assert_fails(cnn_conv2d_backward(dx, NULL, NULL, dy, x, NULL, &p),
                    CNN_ERR_INVALID_ARGUMENT, "w is NULL");
    ck_assert_fails(cnn_conv2d_backward(NULL, dw, NULL, dy, NULL, w, &p),
                    CNN_ERR_INVALID_ARGUMENT, "x is NULL");
    ck_assert_fails(cnn_conv2d_backward(dx, dw, b, NULL, x, w, &p),
                    CNN_ERR_INVALID_ARGUMENT, "dy is NULL");
    ck_assert_fails(cnn_conv2d_backward(dx, dw, b, yb, x, w, &p),
                    CNN_ERR_SHAPE, "dy");
    ck_assert_fails(cnn_conv2d_backward(dx, dw, bb, dy, x, w, &p),
                    CNN_ERR_SHAPE, "db");
    ck_assert_fails(cnn_conv2d_backward(dx, NULL, b, dy, x, wc, &p),
                    CNN_ERR_SHAPE, "x has 3 channels but w expects 4");
    ck_assert_fails(cnn_conv2d_backward(dx, wc, b, dy, x, w, &p),
                    CNN_ERR_SHAPE, "dw");
    ck_assert_fails(cnn_conv2d_backward(dx, NULL, NULL, dy, NULL, wk, &p),
                    CNN_ERR_SHAPE, "larger than");
    bad = p, bad.stride_h = -2;
    ck_assert_fails(cnn_conv2d_backward(dx, dw, b, dy, x, w, &bad),
                    CNN_ERR_INVALID_ARGUMENT, "cnn_conv2d_backward: stride_h");

    ck_assert_fails(cnn_conv2d_output_shape(NULL, wd, &p, (int64_t[4]){0}),
                    CNN_ERR_INVALID_ARGUMENT, "x_dims");
    const int64_t zero[4] = {1, 0, 5, 5};
    int64_t out[4];
    ck_assert_fails(cnn_conv2d_output_shape(zero, wd, &p, out), CNN_ERR_SHAPE,
                    "dimension 1");

    cnn_tensor *all[] = {x, w, y, b, dy, dx, dw, wk, wc, yb, x_3d, bb, xi};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; ++i)
        cnn_tensor_free(all[i]);
}
END_TEST

static Suite *conv_suite(void)
{
    Suite *s = suite_create("conv");
    TCase *tc = cnn_test_case("reference");
    tcase_add_test(tc, reference_backward_matches_central_differences);
    tcase_add_test(tc, output_shape_and_defaults);
    suite_add_tcase(s, tc);
    tc = cnn_test_case("engines");
    tcase_add_test(tc, odd_shapes_match_reference);
    tcase_add_test(tc, block_boundaries_match_reference);
    tcase_add_test(tc, native_matches_reference_engine);
    tcase_add_test(tc, float32_directional_derivatives);
    tcase_add_test(tc, results_are_deterministic);
    tcase_add_test(tc, own_gemm_results_do_not_depend_on_thread_count);
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
    return cnn_test_run(conv_suite());
}
