/* tests/test_sgd.c - the SGD step on the CPU: torch.optim.SGD step for
 * step (fixtures over several steps with weight decay, momentum and
 * Nesterov), a double-precision reference here, every engine and thread
 * count giving the same bits, and bad hyperparameters. Label: cpu. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "fixture.h"
#include "misc_guard.h"

static const cnn_engine engines[] = {CNN_ENGINE_AUTO, CNN_ENGINE_NATIVE,
                                     CNN_ENGINE_REFERENCE};

/* torch.optim.SGD's update with dampening 0, in double. */
static void ref_step(double *w, double *buf, const double *g, int64_t n,
                     const cnn_sgd_params *p)
{
    for (int64_t i = 0; i < n; ++i) {
        double d = g[i] + (double)p->weight_decay * w[i];
        if (p->momentum > 0.0f) {
            buf[i] = (double)p->momentum * buf[i] + d;
            d = p->nesterov ? d + (double)p->momentum * buf[i] : buf[i];
        }
        w[i] -= (double)p->lr * d;
    }
}

/* |got - want| within a few float roundings of the terms involved, which
 * grow with each step's lr * |d|. */
static void expect_close(const char *what, int step, const float *got,
                         const double *want, int64_t n, double scale)
{
    for (int64_t i = 0; i < n; ++i)
        ck_assert_msg(fabs(got[i] - want[i]) <=
                          8.0 * FLT_EPSILON * (fabs(want[i]) + scale),
                      "%s step %d: [%lld] = %.9g, want %.9g", what, step,
                      (long long)i, (double)got[i], want[i]);
}

START_TEST(sgd_matches_pytorch)
{
    static const char *const names[] = {"sgd_plain", "sgd_decay",
                                        "sgd_momentum", "sgd_nesterov",
                                        "sgd_momentum_only"};
    cnn_fixture *f = cnn_fixture_load("misc.bin");
    cnn_engine saved = cnn_get_engine(cnn_cpu());
    for (int k = 0; k < 5; ++k)
        for (int e = 0; e < 3; ++e) {
            ck_assert_ok(cnn_set_engine(cnn_cpu(), engines[e]));
            char key[64];
            snprintf(key, sizeof key, "%s.hyper", names[k]);
            const float *h = cnn_fixture_floats(f, key);
            cnn_sgd_params p = {.lr = h[0], .momentum = h[1],
                                .weight_decay = h[2], .nesterov = h[3] != 0};
            snprintf(key, sizeof key, "%s.param0", names[k]);
            const cnn_fixture_tensor *t0 = cnn_fixture_get(f, key);
            int64_t n = t0->numel;
            ck_assert_int_le(n, 64);
            guarded w = guarded_create(CNN_F32, t0->ndim, t0->dims);
            guarded buf = guarded_create(CNN_F32, t0->ndim, t0->dims);
            memcpy(guarded_data(&w), t0->data, (size_t)n * 4);
            memset(guarded_data(&buf), 0, (size_t)n * 4);
            for (int step = 1; step <= (int)h[4]; ++step) {
                snprintf(key, sizeof key, "%s.grad%d", names[k], step);
                const cnn_fixture_tensor *gt = cnn_fixture_get(f, key);
                cnn_tensor *g = cnn_test_tensor(gt->ndim, gt->dims, gt->data);
                ck_assert_ok(cnn_sgd_step(w.t, g,
                                          p.momentum > 0.0f ? buf.t : NULL,
                                          &p));
                cnn_tensor_free(g);
                snprintf(key, sizeof key, "%s.param%d", names[k], step);
                const float *want_w = cnn_fixture_floats(f, key);
                double want[64];
                for (int64_t i = 0; i < n; ++i)
                    want[i] = want_w[i];
                expect_close(names[k], step, guarded_data(&w), want, n,
                             (double)p.lr);
                if (p.momentum > 0.0f) {
                    snprintf(key, sizeof key, "%s.buf%d", names[k], step);
                    const float *want_b = cnn_fixture_floats(f, key);
                    for (int64_t i = 0; i < n; ++i)
                        want[i] = want_b[i];
                    expect_close(names[k], step, guarded_data(&buf), want, n,
                                 1.0);
                } else { /* no momentum: the buffer is not touched */
                    const unsigned char *b = guarded_data(&buf);
                    for (int64_t i = 0; i < n * 4; ++i)
                        ck_assert_int_eq(b[i], 0);
                }
            }
            guarded_free(&w);
            guarded_free(&buf);
        }
    ck_assert_ok(cnn_set_engine(cnn_cpu(), saved));
    cnn_fixture_free(f);
}
END_TEST

/* Ten steps against the double reference on a tensor large enough for
 * several threads; every engine and thread count gives the same bits. */
START_TEST(sgd_matches_reference_and_is_deterministic)
{
    enum { N = 100003, STEPS = 10 };
    const int64_t dims[1] = {N};
    const cnn_sgd_params configs[] = {
        {.lr = 0.1f, .momentum = 0.0f, .weight_decay = 0.0f},
        {.lr = 0.01f, .momentum = 0.9f, .weight_decay = 5e-4f},
        {.lr = 0.01f, .momentum = 0.9f, .weight_decay = 1e-4f, .nesterov = 1},
    };
    float *w0 = malloc(N * sizeof *w0), *grads = malloc(N * sizeof *grads);
    float *first = malloc(N * sizeof *first), *got = malloc(N * sizeof *got);
    double *w = malloc(N * sizeof *w), *buf = malloc(N * sizeof *buf);
    double *g = malloc(N * sizeof *g);
    cnn_test_values(w0, N, 1);
    cnn_engine saved = cnn_get_engine(cnn_cpu());
    for (int c = 0; c < 3; ++c) {
        const cnn_sgd_params *p = &configs[c];
        for (int64_t i = 0; i < N; ++i) {
            w[i] = w0[i];
            buf[i] = 0.0;
        }
        for (int step = 0; step < STEPS; ++step) {
            cnn_test_values(grads, N, 100u + (uint32_t)step);
            for (int64_t i = 0; i < N; ++i)
                g[i] = grads[i];
            ref_step(w, buf, g, N, p);
        }
        for (int run = 0; run < 5; ++run) {
            /* runs 0-2: the three engines on 2 threads; 3-4: native on 1
             * and 3 threads */
            cnn_engine engine = run < 3 ? engines[run] : CNN_ENGINE_NATIVE;
            misc_set_threads(run < 3 ? 2 : run == 3 ? 1 : 3);
            ck_assert_ok(cnn_set_engine(cnn_cpu(), engine));
            cnn_tensor *wt = cnn_test_tensor(1, dims, w0);
            cnn_tensor *bt = NULL, *gt = cnn_test_tensor(1, dims, NULL);
            ck_assert_ok(cnn_tensor_zeros(&bt, cnn_cpu(), CNN_F32, 1, dims));
            for (int step = 0; step < STEPS; ++step) {
                cnn_test_values(grads, N, 100u + (uint32_t)step);
                ck_assert_ok(cnn_tensor_write(gt, grads, N * sizeof *grads));
                ck_assert_ok(cnn_sgd_step(wt, gt, bt, p));
            }
            ck_assert_ok(cnn_tensor_read(wt, run ? got : first,
                                         N * sizeof *got));
            if (run == 0)
                for (int64_t i = 0; i < N; ++i) /* grows with the steps */
                    ck_assert_msg(fabs(first[i] - w[i]) <=
                                      STEPS * 4.0 * FLT_EPSILON *
                                          (fabs(w[i]) + 1.0),
                                  "config %d: [%lld] = %.9g, want %.9g", c,
                                  (long long)i, (double)first[i], w[i]);
            else
                ck_assert_msg(memcmp(got, first, N * sizeof *got) == 0,
                              "config %d run %d differs", c, run);
            cnn_tensor_free(wt);
            cnn_tensor_free(bt);
            cnn_tensor_free(gt);
        }
    }
    ck_assert_ok(cnn_set_engine(cnn_cpu(), saved));
    free(w0);
    free(grads);
    free(first);
    free(got);
    free(w);
    free(buf);
    free(g);
}
END_TEST

START_TEST(sgd_rejects_bad_arguments)
{
    const int64_t dims[2] = {2, 3}, other[2] = {3, 2};
    cnn_tensor *w = cnn_test_tensor(2, dims, NULL);
    cnn_tensor *g = cnn_test_tensor(2, dims, NULL);
    cnn_tensor *b = cnn_test_tensor(2, dims, NULL);
    cnn_tensor *wrong = cnn_test_tensor(2, other, NULL);
    cnn_tensor *ints = NULL;
    ck_assert_ok(cnn_tensor_create(&ints, cnn_cpu(), CNN_I32, 2, dims));
    const cnn_sgd_params ok = {.lr = 0.1f, .momentum = 0.9f};
    ck_assert_fails(cnn_sgd_step(w, g, b, NULL), CNN_ERR_INVALID_ARGUMENT,
                    "cnn_sgd_step: params is NULL");
    ck_assert_fails(cnn_sgd_step(NULL, g, b, &ok), CNN_ERR_INVALID_ARGUMENT,
                    "param is NULL");
    ck_assert_fails(cnn_sgd_step(w, NULL, b, &ok), CNN_ERR_INVALID_ARGUMENT,
                    "grad is NULL");
    ck_assert_fails(cnn_sgd_step(w, wrong, b, &ok), CNN_ERR_SHAPE,
                    "grad has shape [3x2] but param has [2x3]");
    ck_assert_fails(cnn_sgd_step(w, g, wrong, &ok), CNN_ERR_SHAPE,
                    "momentum_buf has shape");
    ck_assert_fails(cnn_sgd_step(ints, g, b, &ok), CNN_ERR_INVALID_ARGUMENT,
                    "param is i32");
    ck_assert_fails(cnn_sgd_step(w, g, NULL, &ok), CNN_ERR_INVALID_ARGUMENT,
                    "momentum_buf is NULL but momentum is 0.9");
    const struct {
        cnn_sgd_params p;
        const char *message;
    } bad[] = {
        {{.lr = 0.0f}, "lr must be finite and > 0"},
        {{.lr = -1.0f}, "lr must be finite and > 0"},
        {{.lr = NAN}, "lr must be finite and > 0"},
        {{.lr = INFINITY}, "lr must be finite and > 0"},
        {{.lr = 0.1f, .momentum = -0.5f}, "momentum must be finite and >= 0"},
        {{.lr = 0.1f, .weight_decay = -1e-4f},
         "weight_decay must be finite and >= 0"},
        {{.lr = 0.1f, .weight_decay = NAN},
         "weight_decay must be finite and >= 0"},
        {{.lr = 0.1f, .nesterov = 1}, "nesterov needs momentum > 0"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; ++k)
        ck_assert_fails(cnn_sgd_step(w, g, b, &bad[k].p),
                        CNN_ERR_INVALID_ARGUMENT, bad[k].message);
    const cnn_sgd_params plain = {.lr = 0.1f};
    ck_assert_ok(cnn_sgd_step(w, g, NULL, &plain)); /* no buffer needed */
    cnn_tensor_free(w);
    cnn_tensor_free(g);
    cnn_tensor_free(b);
    cnn_tensor_free(wrong);
    cnn_tensor_free(ints);
}
END_TEST

int main(void)
{
    Suite *suite = suite_create("sgd");
    TCase *tc = cnn_test_case("sgd_step");
    tcase_add_test(tc, sgd_matches_pytorch);
    tcase_add_test(tc, sgd_matches_reference_and_is_deterministic);
    tcase_add_test(tc, sgd_rejects_bad_arguments);
    suite_add_tcase(suite, tc);
    return cnn_test_run(suite);
}
