/* tests/test_dropout.c - dropout forward and backward on the CPU: against
 * a reference here that builds the mask from docs/random.md's counter
 * layout (so it checks the documented stream as well), bit for bit on
 * every engine and thread count; the reference's backward by central
 * differences; the mask's statistics; PyTorch's scale factor (fixture);
 * bad arguments. PyTorch cannot draw our masks, so no fixture holds one.
 * Label: cpu. */
#include <math.h>
#include <stdlib.h>

#include "../src/philox.h"
#include "fixture.h"
#include "misc_guard.h"

static const cnn_engine engines[] = {CNN_ENGINE_AUTO, CNN_ENGINE_NATIVE,
                                     CNN_ENGINE_REFERENCE};

/* docs/random.md, stream 3: lane i % 4 of block i / 4 under the counter
 * {block low, block high, (node << 8) | 3, (uint32) step}, kept when
 * (word >> 8) * 2^-24 >= p. */
static int ref_keep(const cnn_dropout_params *p, int64_t i)
{
    uint64_t block = (uint64_t)i / 4;
    cnn_philox_u32x4 c = {{(uint32_t)block, (uint32_t)(block >> 32),
                           (p->node << 8) | 3u, (uint32_t)p->step}};
    cnn_philox_u32x4 r = cnn_philox4x32_10(c, (uint32_t)p->seed,
                                           (uint32_t)(p->seed >> 32));
    double u = (double)(r.v[i % 4] >> 8) / 16777216.0;
    return u >= (double)p->p;
}

/* What the library must produce, in float: x * (1/(1-p) or 0). */
static float ref_dropout(const cnn_dropout_params *p, int64_t i, float x)
{
    float scale = 1.0f / (1.0f - p->p);
    return x * (ref_keep(p, i) ? scale : 0.0f);
}

static cnn_tensor *values_tensor(int ndim, const int64_t *dims, int64_t n,
                                 uint32_t seed, float **values)
{
    *values = malloc((size_t)n * sizeof **values);
    cnn_test_values(*values, n, seed);
    return cnn_test_tensor(ndim, dims, *values);
}

static const struct {
    int ndim;
    int64_t dims[4];
} shapes[] = {
    {1, {1}}, {1, {3}}, {2, {1, 5}}, {4, {2, 3, 5, 7}}, {1, {4097}},
    {2, {2, 4099}}, /* two threads, a ragged last block */
};
#define SHAPE_COUNT ((int)(sizeof shapes / sizeof shapes[0]))

static const float probabilities[] = {0.0f, 0.1f, 0.5f, 0.9f, 0.999f};
#define P_COUNT ((int)(sizeof probabilities / sizeof probabilities[0]))

/* Forward and backward against the reference, exactly, on every engine;
 * the backward must use the forward's mask. */
START_TEST(dropout_matches_reference)
{
    cnn_engine saved = cnn_get_engine(cnn_cpu());
    for (int s = 0; s < SHAPE_COUNT; ++s) {
        int ndim = shapes[s].ndim;
        const int64_t *dims = shapes[s].dims;
        int64_t n = 1;
        for (int d = 0; d < ndim; ++d)
            n *= dims[d];
        float *xv, *dyv;
        cnn_tensor *x = values_tensor(ndim, dims, n, 7u + (uint32_t)s, &xv);
        cnn_tensor *dy = values_tensor(ndim, dims, n, 70u + (uint32_t)s, &dyv);
        for (int k = 0; k < P_COUNT; ++k) {
            cnn_dropout_params p = {.p = probabilities[k],
                                    .seed = 0x123456789abcdefull + (uint64_t)s,
                                    .step = 41u + (uint64_t)k,
                                    .node = 5u};
            for (int e = 0; e < 3; ++e) {
                ck_assert_ok(cnn_set_engine(cnn_cpu(), engines[e]));
                guarded y = guarded_create(CNN_F32, ndim, dims);
                guarded dx = guarded_create(CNN_F32, ndim, dims);
                ck_assert_ok(cnn_dropout_forward(y.t, x, &p));
                ck_assert_ok(cnn_dropout_backward(dx.t, dy, &p));
                const float *yv = guarded_data(&y), *dxv = guarded_data(&dx);
                for (int64_t i = 0; i < n; ++i) {
                    float want = ref_dropout(&p, i, xv[i]);
                    float dwant = ref_dropout(&p, i, dyv[i]);
                    ck_assert_msg(memcmp(&yv[i], &want, 4) == 0 &&
                                      memcmp(&dxv[i], &dwant, 4) == 0,
                                  "shape %d p %g engine %s: [%lld] y %g "
                                  "(want %g) dx %g (want %g)",
                                  s, (double)p.p,
                                  cnn_engine_name(engines[e]), (long long)i,
                                  (double)yv[i], (double)want,
                                  (double)dxv[i], (double)dwant);
                }
                guarded_free(&y);
                guarded_free(&dx);
            }
        }
        cnn_tensor_free(x);
        cnn_tensor_free(dy);
        free(xv);
        free(dyv);
    }
    ck_assert_ok(cnn_set_engine(cnn_cpu(), saved));
}
END_TEST

/* L(x) = sum_i w_i dropout(x)_i in double with a fixed mask: its gradient
 * w * mask / (1 - p) checked by central differences, then the library's
 * backward against that gradient. */
START_TEST(dropout_backward_matches_gradient)
{
    enum { N = 203 };
    const cnn_dropout_params p = {.p = 0.3f, .seed = 99, .step = 3,
                                  .node = 1};
    float xf[N], wf[N], dx[N];
    cnn_test_values(xf, N, 1);
    cnn_test_values(wf, N, 2);
    double x[N], grad[N];
    const double scale = 1.0 / (1.0 - (double)p.p);
    for (int i = 0; i < N; ++i) {
        x[i] = xf[i];
        grad[i] = ref_keep(&p, i) ? wf[i] * scale : 0.0;
    }
    const double h = 1e-4;
    for (int i = 0; i < N; ++i) {
        double plus = 0.0, minus = 0.0;
        for (int j = 0; j < N; ++j) {
            double m = ref_keep(&p, j) ? scale : 0.0;
            double xj = x[j] + (j == i ? h : 0.0);
            plus += wf[j] * m * xj;
            xj = x[j] - (j == i ? h : 0.0);
            minus += wf[j] * m * xj;
        }
        ck_assert_double_eq_tol((plus - minus) / (2 * h), grad[i], 1e-9);
    }
    const int64_t dims[1] = {N};
    cnn_tensor *w = cnn_test_tensor(1, dims, wf);
    cnn_tensor *d = cnn_test_tensor(1, dims, NULL);
    ck_assert_ok(cnn_dropout_backward(d, w, &p));
    ck_assert_ok(cnn_tensor_read(d, dx, sizeof dx));
    for (int i = 0; i < N; ++i) /* one float product from wf: half an ulp */
        ck_assert_double_eq_tol(dx[i], grad[i], 1e-7 * fabs(grad[i]) + 1e-30);
    cnn_tensor_free(w);
    cnn_tensor_free(d);
}
END_TEST

/* Kept fraction within 5 standard errors of 1 - p, and kept values are
 * exactly x / (1 - p) as PyTorch rounds it (fixture). */
START_TEST(dropout_statistics_and_scale)
{
    enum { N = 1 << 16 };
    const int64_t dims[1] = {N};
    float *ones = malloc(N * sizeof *ones), *got = malloc(N * sizeof *got);
    for (int i = 0; i < N; ++i)
        ones[i] = 1.0f;
    cnn_tensor *x = cnn_test_tensor(1, dims, ones);
    cnn_tensor *y = cnn_test_tensor(1, dims, NULL);
    cnn_fixture *f = cnn_fixture_load("misc.bin");
    const cnn_fixture_tensor *ps = cnn_fixture_get(f, "dropout.p");
    const float *pv = cnn_fixture_floats(f, "dropout.p");
    const float *scales = cnn_fixture_floats(f, "dropout.scale");
    for (int64_t k = 0; k < ps->numel; ++k) {
        cnn_dropout_params p = {.p = pv[k], .seed = 2024, .step = 7,
                                .node = (uint32_t)k};
        ck_assert_ok(cnn_dropout_forward(y, x, &p));
        ck_assert_ok(cnn_tensor_read(y, got, N * sizeof *got));
        int64_t kept = 0;
        for (int i = 0; i < N; ++i) {
            if (got[i] == 0.0f)
                continue;
            ++kept;
            ck_assert_msg(got[i] == scales[k],
                          "p %g: kept value %.9g, PyTorch's %.9g",
                          (double)p.p, (double)got[i], (double)scales[k]);
        }
        double q = 1.0 - (double)p.p;
        double se = sqrt(q * (1.0 - q) / N);
        ck_assert_msg(fabs((double)kept / N - q) <= 5.0 * se + 1e-12,
                      "p %g: kept %lld of %d", (double)p.p, (long long)kept,
                      N);
    }
    cnn_fixture_free(f);
    cnn_tensor_free(x);
    cnn_tensor_free(y);
    free(ones);
    free(got);
}
END_TEST

static int64_t differing_masks(const cnn_dropout_params *a,
                               const cnn_dropout_params *b, cnn_tensor *x,
                               cnn_tensor *y1, cnn_tensor *y2, float *v1,
                               float *v2, int n)
{
    ck_assert_ok(cnn_dropout_forward(y1, x, a));
    ck_assert_ok(cnn_dropout_forward(y2, x, b));
    ck_assert_ok(cnn_tensor_read(y1, v1, (size_t)n * sizeof *v1));
    ck_assert_ok(cnn_tensor_read(y2, v2, (size_t)n * sizeof *v2));
    int64_t differ = 0;
    for (int i = 0; i < n; ++i)
        differ += (v1[i] == 0.0f) != (v2[i] == 0.0f);
    return differ;
}

/* Another seed, step or node gives another mask (about half the elements
 * differ at p = 0.5); the same triple gives the same one. */
START_TEST(dropout_masks_differ_by_seed_step_node)
{
    enum { N = 8192 };
    const int64_t dims[1] = {N};
    float *xv, *v1 = malloc(N * sizeof *v1), *v2 = malloc(N * sizeof *v2);
    cnn_tensor *x = values_tensor(1, dims, N, 3, &xv);
    cnn_tensor *y1 = cnn_test_tensor(1, dims, NULL);
    cnn_tensor *y2 = cnn_test_tensor(1, dims, NULL);
    const cnn_dropout_params base = {.p = 0.5f, .seed = 1, .step = 10,
                                     .node = 2};
    cnn_dropout_params other[4] = {base, base, base, base};
    other[0].seed = 2;
    other[1].step = 11;
    other[2].node = 3;
    other[3].step = 10 + (1ull << 32); /* only the low 32 bits count */
    for (int k = 0; k < 3; ++k) {
        int64_t d = differing_masks(&base, &other[k], x, y1, y2, v1, v2, N);
        ck_assert_msg(d > N / 2 - 400 && d < N / 2 + 400,
                      "variant %d: %lld of %d differ", k, (long long)d, N);
    }
    ck_assert_int_eq(differing_masks(&base, &base, x, y1, y2, v1, v2, N), 0);
    ck_assert_int_eq(differing_masks(&base, &other[3], x, y1, y2, v1, v2, N),
                     0);
    cnn_tensor_free(x);
    cnn_tensor_free(y1);
    cnn_tensor_free(y2);
    free(xv);
    free(v1);
    free(v2);
}
END_TEST

/* The same bits for 1, 2 and 3 threads, and in place. */
START_TEST(dropout_is_deterministic_and_works_in_place)
{
    enum { N = 5 * 4096 + 7 };
    const int64_t dims[1] = {N};
    float *xv, *want = malloc(N * sizeof *want), *got = malloc(N * sizeof *got);
    cnn_tensor *x = values_tensor(1, dims, N, 5, &xv);
    cnn_tensor *y = cnn_test_tensor(1, dims, NULL);
    const cnn_dropout_params p = {.p = 0.4f, .seed = 77, .step = 1,
                                  .node = 9};
    for (int64_t i = 0; i < N; ++i)
        want[i] = ref_dropout(&p, i, xv[i]);
    for (int threads = 1; threads <= 3; ++threads) {
        misc_set_threads(threads);
        ck_assert_ok(cnn_dropout_forward(y, x, &p));
        ck_assert_ok(cnn_tensor_read(y, got, N * sizeof *got));
        ck_assert_msg(memcmp(got, want, N * sizeof *got) == 0,
                      "%d threads differ", threads);
    }
    ck_assert_ok(cnn_dropout_forward(x, x, &p)); /* y may be x */
    ck_assert_ok(cnn_dropout_backward(x, x, &p)); /* and dx dy */
    ck_assert_ok(cnn_tensor_read(x, got, N * sizeof *got));
    for (int64_t i = 0; i < N; ++i) {
        float twice = ref_dropout(&p, i, want[i]);
        ck_assert(memcmp(&got[i], &twice, 4) == 0);
    }
    cnn_tensor_free(x);
    cnn_tensor_free(y);
    free(xv);
    free(want);
    free(got);
}
END_TEST

START_TEST(dropout_rejects_bad_arguments)
{
    const int64_t dims[2] = {2, 3}, other[2] = {3, 2};
    cnn_tensor *x = cnn_test_tensor(2, dims, NULL);
    cnn_tensor *y = cnn_test_tensor(2, other, NULL);
    cnn_tensor *labels = NULL;
    ck_assert_ok(cnn_tensor_create(&labels, cnn_cpu(), CNN_I32, 2, dims));
    cnn_dropout_params p = {.p = 0.5f, .seed = 1, .step = 1, .node = 0};
    ck_assert_fails(cnn_dropout_forward(x, x, NULL), CNN_ERR_INVALID_ARGUMENT,
                    "cnn_dropout_forward: params");
    ck_assert_fails(cnn_dropout_forward(NULL, x, &p),
                    CNN_ERR_INVALID_ARGUMENT, "y is NULL");
    ck_assert_fails(cnn_dropout_backward(x, NULL, &p),
                    CNN_ERR_INVALID_ARGUMENT, "cnn_dropout_backward: dy");
    ck_assert_fails(cnn_dropout_forward(y, x, &p), CNN_ERR_SHAPE, "y has shape");
    ck_assert_fails(cnn_dropout_forward(labels, x, &p),
                    CNN_ERR_INVALID_ARGUMENT, "y is i32");
    const float bad_p[] = {1.0f, -0.25f, NAN, 2.0f};
    for (int k = 0; k < 4; ++k) {
        cnn_dropout_params q = p;
        q.p = bad_p[k];
        ck_assert_fails(cnn_dropout_forward(x, x, &q),
                        CNN_ERR_INVALID_ARGUMENT, "p must be in [0, 1)");
    }
    p.node = 1u << 24;
    ck_assert_fails(cnn_dropout_backward(x, x, &p), CNN_ERR_INVALID_ARGUMENT,
                    "node must be below 2^24");
    cnn_tensor_free(x);
    cnn_tensor_free(y);
    cnn_tensor_free(labels);
}
END_TEST

int main(void)
{
    Suite *suite = suite_create("dropout");
    TCase *tc = cnn_test_case("dropout");
    tcase_add_test(tc, dropout_matches_reference);
    tcase_add_test(tc, dropout_backward_matches_gradient);
    tcase_add_test(tc, dropout_statistics_and_scale);
    tcase_add_test(tc, dropout_masks_differ_by_seed_step_node);
    tcase_add_test(tc, dropout_is_deterministic_and_works_in_place);
    tcase_add_test(tc, dropout_rejects_bad_arguments);
    suite_add_tcase(suite, tc);
    return cnn_test_run(suite);
}
