/* tests/test_loss.c - softmax cross-entropy on the CPU: a double-precision
 * reference here (its gradient checked by central differences), the
 * library against it on every engine with tolerances that grow with the
 * class count, PyTorch fixtures (computed in float64), determinism across
 * thread counts, in-place gradients, and bad labels and shapes.
 * Label: cpu. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "fixture.h"
#include "misc_guard.h"

static const cnn_engine engines[] = {CNN_ENGINE_AUTO, CNN_ENGINE_NATIVE,
                                     CNN_ENGINE_REFERENCE};

/* Mean over rows of logsumexp(x) - x[label], in double; its gradient into
 * grad when not NULL. */
static double ref_loss(const double *x, const int32_t *labels, int64_t rows,
                       int64_t classes, double *grad)
{
    double total = 0.0;
    for (int64_t r = 0; r < rows; ++r) {
        const double *row = x + r * classes;
        double m = row[0];
        for (int64_t j = 1; j < classes; ++j)
            m = row[j] > m ? row[j] : m;
        double s = 0.0;
        for (int64_t j = 0; j < classes; ++j)
            s += exp(row[j] - m);
        total += m + log(s) - row[labels[r]];
        for (int64_t j = 0; grad && j < classes; ++j)
            grad[r * classes + j] =
                (exp(row[j] - m) / s - (j == labels[r])) / (double)rows;
    }
    return total / (double)rows;
}

/* Tolerances for a float result: the row sums run over `classes` terms. */
static double loss_tol(double want, int64_t classes)
{
    return FLT_EPSILON * (8.0 + sqrt((double)classes)) * (1.0 + fabs(want));
}

static double grad_tol(int64_t rows, int64_t classes)
{
    return FLT_EPSILON * (8.0 + sqrt((double)classes)) / (double)rows;
}

/* Runs the library on float logits and compares loss and gradient with
 * want_loss and want_grad. */
static void check_case(const char *what, const float *logits,
                       const int32_t *labels, int64_t rows, int64_t classes,
                       double want_loss, const double *want_grad)
{
    const int64_t dims[2] = {rows, classes}, one[1] = {1};
    cnn_tensor *x = cnn_test_tensor(2, dims, logits);
    cnn_tensor *lab = NULL;
    ck_assert_ok(cnn_tensor_create(&lab, cnn_cpu(), CNN_I32, 1, dims));
    ck_assert_ok(cnn_tensor_write(lab, labels, (size_t)rows * 4));
    cnn_engine saved = cnn_get_engine(cnn_cpu());
    for (int e = 0; e < 3; ++e) {
        ck_assert_ok(cnn_set_engine(cnn_cpu(), engines[e]));
        guarded loss = guarded_create(CNN_F32, 1, one);
        guarded grad = guarded_create(CNN_F32, 2, dims);
        ck_assert_ok(cnn_softmax_cross_entropy(loss.t, grad.t, x, lab));
        const float *l = guarded_data(&loss), *g = guarded_data(&grad);
        ck_assert_msg(fabs(l[0] - want_loss) <= loss_tol(want_loss, classes),
                      "%s (%s): loss %.9g, want %.9g", what,
                      cnn_engine_name(engines[e]), (double)l[0], want_loss);
        for (int64_t i = 0; i < rows * classes; ++i)
            ck_assert_msg(fabs(g[i] - want_grad[i]) <= grad_tol(rows, classes),
                          "%s (%s): dlogits[%lld] %.9g, want %.9g", what,
                          cnn_engine_name(engines[e]), (long long)i,
                          (double)g[i], want_grad[i]);
        float plain;
        ck_assert_ok(cnn_softmax_cross_entropy(loss.t, NULL, x, lab));
        ck_assert_ok(cnn_tensor_read(loss.t, &plain, sizeof plain));
        ck_assert_msg(memcmp(&plain, &l[0], 4) == 0,
                      "%s: the loss depends on whether dlogits is asked for",
                      what);
        guarded_free(&loss);
        guarded_free(&grad);
    }
    ck_assert_ok(cnn_set_engine(cnn_cpu(), saved));
    cnn_tensor_free(x);
    cnn_tensor_free(lab);
}

/* The reference's gradient by central differences, then the library
 * against the reference on shapes from 1x1 to wide, with large logits. */
START_TEST(xent_matches_reference)
{
    static const struct {
        int64_t rows, classes;
        float scale;
    } cases[] = {{1, 1, 1.0f}, {1, 2, 1.0f}, {3, 7, 4.0f}, {5, 1000, 2.0f},
                 {64, 1000, 5.0f}, {2, 33, 60.0f}, {300, 10, 1.0f}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; ++c) {
        int64_t rows = cases[c].rows, classes = cases[c].classes;
        int64_t n = rows * classes;
        float *xf = malloc((size_t)n * sizeof *xf);
        double *x = malloc((size_t)n * sizeof *x);
        double *grad = malloc((size_t)n * sizeof *grad);
        int32_t *labels = malloc((size_t)rows * sizeof *labels);
        cnn_test_values(xf, n, (uint32_t)c + 1);
        for (int64_t i = 0; i < n; ++i)
            x[i] = xf[i] *= cases[c].scale;
        for (int64_t r = 0; r < rows; ++r)
            labels[r] = (int32_t)((r * 7 + 3) % classes);
        double loss = ref_loss(x, labels, rows, classes, grad);
        if (n <= 2000) { /* central differences on the small cases */
            const double h = 1e-6;
            for (int64_t i = 0; i < n; ++i) {
                double keep = x[i];
                x[i] = keep + h;
                double plus = ref_loss(x, labels, rows, classes, NULL);
                x[i] = keep - h;
                double minus = ref_loss(x, labels, rows, classes, NULL);
                x[i] = keep;
                ck_assert_double_eq_tol((plus - minus) / (2 * h), grad[i],
                                        1e-7);
            }
        }
        char what[64];
        snprintf(what, sizeof what, "%lldx%lld", (long long)rows,
                 (long long)classes);
        check_case(what, xf, labels, rows, classes, loss, grad);
        free(xf);
        free(x);
        free(grad);
        free(labels);
    }
}
END_TEST

START_TEST(xent_matches_pytorch)
{
    static const char *const names[] = {"xent_small", "xent_wide",
                                        "xent_large", "xent_one_class"};
    cnn_fixture *f = cnn_fixture_load("misc.bin");
    for (int k = 0; k < 4; ++k) {
        char key[64];
        snprintf(key, sizeof key, "%s.logits", names[k]);
        const cnn_fixture_tensor *t = cnn_fixture_get(f, key);
        const float *logits = cnn_fixture_floats(f, key);
        snprintf(key, sizeof key, "%s.labels", names[k]);
        const int32_t *labels = cnn_fixture_get(f, key)->data;
        snprintf(key, sizeof key, "%s.loss", names[k]);
        double loss = cnn_fixture_floats(f, key)[0];
        snprintf(key, sizeof key, "%s.dlogits", names[k]);
        const float *gf = cnn_fixture_floats(f, key);
        double *grad = malloc((size_t)t->numel * sizeof *grad);
        for (int64_t i = 0; i < t->numel; ++i)
            grad[i] = gf[i];
        check_case(names[k], logits, labels, t->dims[0], t->dims[1], loss,
                   grad);
        free(grad);
    }
    cnn_fixture_free(f);
}
END_TEST

/* The same bits for 1, 2 and 3 threads; dlogits may be logits. */
START_TEST(xent_is_deterministic_and_works_in_place)
{
    enum { ROWS = 97, CLASSES = 1000, N = ROWS * CLASSES };
    const int64_t dims[2] = {ROWS, CLASSES}, one[1] = {1};
    float *xv = malloc(N * sizeof *xv), *want = malloc(N * sizeof *want),
          *got = malloc(N * sizeof *got);
    int32_t labels[ROWS];
    cnn_test_values(xv, N, 9);
    for (int r = 0; r < ROWS; ++r)
        labels[r] = (r * 131) % CLASSES;
    cnn_tensor *x = cnn_test_tensor(2, dims, xv);
    cnn_tensor *g = cnn_test_tensor(2, dims, NULL);
    cnn_tensor *loss = cnn_test_tensor(1, one, NULL);
    cnn_tensor *lab = NULL;
    ck_assert_ok(cnn_tensor_create(&lab, cnn_cpu(), CNN_I32, 1, dims));
    ck_assert_ok(cnn_tensor_write(lab, labels, sizeof labels));
    float want_loss = 0.0f, got_loss;
    for (int threads = 1; threads <= 3; ++threads) {
        misc_set_threads(threads);
        ck_assert_ok(cnn_softmax_cross_entropy(loss, g, x, lab));
        ck_assert_ok(cnn_tensor_read(g, threads == 1 ? want : got,
                                     N * sizeof *got));
        ck_assert_ok(cnn_tensor_read(loss, threads == 1 ? &want_loss
                                                        : &got_loss, 4));
        if (threads > 1)
            ck_assert_msg(memcmp(got, want, N * sizeof *got) == 0 &&
                              memcmp(&got_loss, &want_loss, 4) == 0,
                          "%d threads differ from 1", threads);
    }
    ck_assert_ok(cnn_softmax_cross_entropy(loss, x, x, lab)); /* in place */
    ck_assert_ok(cnn_tensor_read(x, got, N * sizeof *got));
    ck_assert_ok(cnn_tensor_read(loss, &got_loss, 4));
    ck_assert(memcmp(got, want, N * sizeof *got) == 0);
    ck_assert(memcmp(&got_loss, &want_loss, 4) == 0);
    cnn_tensor_free(x);
    cnn_tensor_free(g);
    cnn_tensor_free(loss);
    cnn_tensor_free(lab);
    free(xv);
    free(want);
    free(got);
}
END_TEST

/* A label out of range fails before anything is written, naming the row
 * and the value; shapes, dtypes and aliasing are checked. */
START_TEST(xent_rejects_bad_arguments)
{
    const int64_t dims[2] = {3, 4}, one[1] = {1}, two[1] = {2},
                  three[3] = {3, 4, 1};
    float xv[12];
    cnn_test_values(xv, 12, 1);
    cnn_tensor *x = cnn_test_tensor(2, dims, xv);
    cnn_tensor *x3 = cnn_test_tensor(3, three, NULL);
    cnn_tensor *lab = NULL, *lab2 = NULL, *flab = cnn_test_tensor(1, dims, NULL);
    ck_assert_ok(cnn_tensor_create(&lab, cnn_cpu(), CNN_I32, 1, dims));
    ck_assert_ok(cnn_tensor_create(&lab2, cnn_cpu(), CNN_I32, 1, two));
    guarded loss = guarded_create(CNN_F32, 1, one);
    guarded g = guarded_create(CNN_F32, 2, dims);
    cnn_tensor *loss2 = cnn_test_tensor(1, two, NULL);
    const int32_t bad[2][3] = {{0, 3, 4}, {-1, 0, 0}};
    const char *const messages[2] = {"labels[2] is 4, outside [0, 4)",
                                     "labels[0] is -1, outside [0, 4)"};
    for (int k = 0; k < 2; ++k) {
        ck_assert_ok(cnn_tensor_write(lab, bad[k], sizeof bad[k]));
        ck_assert_fails(cnn_softmax_cross_entropy(loss.t, g.t, x, lab),
                        CNN_ERR_INVALID_ARGUMENT, messages[k]);
        ck_assert_fails(cnn_softmax_cross_entropy(loss.t, g.t, x, lab),
                        CNN_ERR_INVALID_ARGUMENT,
                        "cnn_softmax_cross_entropy: labels");
        const unsigned char *lb = guarded_data(&loss), *gb = guarded_data(&g);
        for (size_t i = 0; i < 4; ++i)
            ck_assert_int_eq(lb[i], 0xFF); /* untouched */
        for (size_t i = 0; i < sizeof xv; ++i)
            ck_assert_int_eq(gb[i], 0xFF);
    }
    const int32_t good[3] = {0, 1, 3};
    ck_assert_ok(cnn_tensor_write(lab, good, sizeof good));
    ck_assert_fails(cnn_softmax_cross_entropy(NULL, NULL, x, lab),
                    CNN_ERR_INVALID_ARGUMENT, "loss is NULL");
    ck_assert_fails(cnn_softmax_cross_entropy(loss.t, NULL, NULL, lab),
                    CNN_ERR_INVALID_ARGUMENT, "logits is NULL");
    ck_assert_fails(cnn_softmax_cross_entropy(loss.t, NULL, x, NULL),
                    CNN_ERR_INVALID_ARGUMENT, "labels is NULL");
    ck_assert_fails(cnn_softmax_cross_entropy(loss.t, NULL, x, flab),
                    CNN_ERR_INVALID_ARGUMENT, "labels is f32 but must be i32");
    ck_assert_fails(cnn_softmax_cross_entropy(loss.t, NULL, x, lab2),
                    CNN_ERR_SHAPE, "labels has shape [2] but must be [3]");
    ck_assert_fails(cnn_softmax_cross_entropy(loss.t, NULL, x3, lab),
                    CNN_ERR_SHAPE, "logits has shape [3x4x1]");
    ck_assert_fails(cnn_softmax_cross_entropy(loss2, NULL, x, lab),
                    CNN_ERR_SHAPE, "loss has shape [2] but must be [1]");
    ck_assert_fails(cnn_softmax_cross_entropy(loss.t, x3, x, lab),
                    CNN_ERR_SHAPE, "dlogits has shape");
    cnn_tensor *view = NULL;
    ck_assert_ok(cnn_tensor_wrap(&view, cnn_cpu(), CNN_F32, 1, one,
                                 cnn_tensor_data(x), 4));
    ck_assert_fails(cnn_softmax_cross_entropy(view, NULL, x, lab),
                    CNN_ERR_INVALID_ARGUMENT, "loss shares memory with logits");
    cnn_tensor_free(view);
    cnn_tensor_free(x);
    cnn_tensor_free(x3);
    cnn_tensor_free(lab);
    cnn_tensor_free(lab2);
    cnn_tensor_free(flab);
    cnn_tensor_free(loss2);
    guarded_free(&loss);
    guarded_free(&g);
}
END_TEST

int main(void)
{
    Suite *suite = suite_create("loss");
    TCase *tc = cnn_test_case("softmax_cross_entropy");
    tcase_add_test(tc, xent_matches_reference);
    tcase_add_test(tc, xent_matches_pytorch);
    tcase_add_test(tc, xent_is_deterministic_and_works_in_place);
    tcase_add_test(tc, xent_rejects_bad_arguments);
    suite_add_tcase(suite, tc);
    return cnn_test_run(suite);
}
