/* tests/test_ops.c - the elementwise ops on the CPU (add, scale, ReLU
 * forward and backward) against double-precision references written here,
 * on every engine, with guard bytes around outputs; ReLU's backward by
 * central differences; denormal flushing in worker threads. Label: cpu. */
#include <math.h>
#include <stdlib.h>

#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#endif

#include "test_util.h"

/* Shapes from trivial to big enough that the op runs on several threads. */
static const struct {
    int ndim;
    int64_t dims[4];
} shapes[] = {
    {1, {1}}, {4, {1, 1, 1, 1}}, {3, {3, 5, 7}}, {4, {2, 3, 17, 19}},
    {1, {70001}}, {2, {257, 129}},
};
#define SHAPE_COUNT ((int)(sizeof shapes / sizeof shapes[0]))

static const cnn_engine engines[] = {CNN_ENGINE_AUTO, CNN_ENGINE_NATIVE,
                                     CNN_ENGINE_REFERENCE};

/* Guard words around an output, so a write past either end shows. */
#define GUARD 16
static const uint32_t guard_bits = 0x7FC0DEADu; /* a NaN no op produces */

typedef struct guarded {
    uint32_t *block; /* GUARD words, n floats, GUARD words */
    cnn_tensor *t;   /* wraps the n floats in the middle */
    int64_t n;
} guarded;

static guarded guarded_create(int ndim, const int64_t *dims, int64_t n)
{
    guarded g = {.n = n};
    g.block = malloc((size_t)(n + 2 * GUARD) * sizeof *g.block);
    ck_assert_ptr_nonnull(g.block);
    for (int64_t i = 0; i < n + 2 * GUARD; ++i)
        g.block[i] = guard_bits;
    ck_assert_ok(cnn_tensor_wrap(&g.t, cnn_cpu(), CNN_F32, ndim, dims,
                                 g.block + GUARD, (size_t)n * sizeof(float)));
    return g;
}

static const float *guarded_values(const guarded *g)
{
    for (int i = 0; i < GUARD; ++i) {
        ck_assert_msg(g->block[i] == guard_bits, "write before the output");
        ck_assert_msg(g->block[GUARD + g->n + i] == guard_bits,
                      "write past the output");
    }
    return (const float *)(g->block + GUARD);
}

static void guarded_free(guarded *g)
{
    cnn_tensor_free(g->t);
    free(g->block);
}

typedef enum { OP_ADD, OP_SCALE, OP_RELU, OP_RELU_BACK } op_kind;

static double reference(op_kind op, double a, double b)
{
    switch (op) {
    case OP_ADD: return a + b;
    case OP_SCALE: return -1.75 * a;
    case OP_RELU: return a > 0.0 ? a : 0.0;
    case OP_RELU_BACK: return b > 0.0 ? a : 0.0; /* a = dy, b = y */
    }
    return NAN;
}

static cnn_status run_op(op_kind op, cnn_tensor *out, const cnn_tensor *a,
                         const cnn_tensor *b)
{
    switch (op) {
    case OP_ADD: return cnn_add(out, a, b);
    case OP_SCALE: return cnn_scale(out, a, -1.75f);
    case OP_RELU: return cnn_relu_forward(out, a);
    case OP_RELU_BACK: return cnn_relu_backward(out, a, b);
    }
    return CNN_ERR_INTERNAL;
}

/* Every op, shape and engine against the double reference. Float add,
 * scale and ReLU round once, so they must match the rounded reference
 * exactly. */
START_TEST(elementwise_ops_match_reference)
{
    cnn_engine saved = cnn_get_engine(cnn_cpu());
    for (int s = 0; s < SHAPE_COUNT; ++s) {
        const int64_t *dims = shapes[s].dims;
        int ndim = shapes[s].ndim;
        int64_t n = 1;
        for (int i = 0; i < ndim; ++i)
            n *= dims[i];
        float *va = malloc((size_t)n * sizeof *va);
        float *vb = malloc((size_t)n * sizeof *vb);
        cnn_test_values(va, n, (uint32_t)s + 1);
        cnn_test_values(vb, n, (uint32_t)s + 100);
        cnn_tensor *a = cnn_test_tensor(ndim, dims, va);
        cnn_tensor *b = cnn_test_tensor(ndim, dims, vb);
        for (int e = 0; e < 3; ++e) {
            ck_assert_ok(cnn_set_engine(cnn_cpu(), engines[e]));
            for (op_kind op = OP_ADD; op <= OP_RELU_BACK; ++op) {
                guarded out = guarded_create(ndim, dims, n);
                ck_assert_ok(run_op(op, out.t, a, b));
                const float *got = guarded_values(&out);
                for (int64_t i = 0; i < n; ++i) {
                    float want = (float)reference(op, va[i], vb[i]);
                    ck_assert_msg(got[i] == want,
                                  "op %d shape %d engine %s: [%lld] = %g, "
                                  "want %g", (int)op, s,
                                  cnn_engine_name(engines[e]), (long long)i,
                                  (double)got[i], (double)want);
                }
                guarded_free(&out);
            }
        }
        cnn_tensor_free(a);
        cnn_tensor_free(b);
        free(va);
        free(vb);
    }
    ck_assert_ok(cnn_set_engine(cnn_cpu(), saved));
}
END_TEST

START_TEST(ops_work_in_place)
{
    const int64_t dims[1] = {40000};
    float v[40000], w[40000], got[40000];
    cnn_test_values(v, 40000, 3);
    cnn_test_values(w, 40000, 4);
    cnn_tensor *a = cnn_test_tensor(1, dims, v);
    cnn_tensor *b = cnn_test_tensor(1, dims, w);
    ck_assert_ok(cnn_add(a, a, b)); /* a += b */
    ck_assert_ok(cnn_relu_forward(a, a));
    ck_assert_ok(cnn_scale(a, a, 2.0f));
    ck_assert_ok(cnn_relu_backward(b, b, a)); /* dx aliases dy */
    ck_assert_ok(cnn_tensor_read(a, got, sizeof got));
    for (int i = 0; i < 40000; ++i) {
        float s = v[i] + w[i];
        ck_assert_float_eq(got[i], 2.0f * (s > 0.0f ? s : 0.0f));
    }
    ck_assert_ok(cnn_tensor_read(b, got, sizeof got));
    for (int i = 0; i < 40000; ++i)
        ck_assert_float_eq(got[i], v[i] + w[i] > 0.0f ? w[i] : 0.0f);
    cnn_tensor_free(a);
    cnn_tensor_free(b);
}
END_TEST

START_TEST(relu_propagates_nan)
{
    const int64_t dims[1] = {4};
    const float in[4] = {NAN, -INFINITY, INFINITY, -0.0f};
    float out[4];
    cnn_tensor *x = cnn_test_tensor(1, dims, in);
    ck_assert_ok(cnn_relu_forward(x, x));
    ck_assert_ok(cnn_tensor_read(x, out, sizeof out));
    ck_assert(isnan(out[0]));
    ck_assert_float_eq(out[1], 0.0f);
    ck_assert(isinf(out[2]) && out[2] > 0);
    ck_assert_float_eq(out[3], 0.0f);
    cnn_tensor_free(x);
}
END_TEST

/* L(x) = sum_i w_i relu(x_i). The reference backward gives dL/dx = w *
 * (relu(x) > 0); check it by central differences in double, then check the
 * library's backward against it, then a float32 directional derivative of
 * the library's own forward against the library's backward. */
static double loss_ref(const double *x, const double *w, int n)
{
    double l = 0.0;
    for (int i = 0; i < n; ++i)
        l += w[i] * reference(OP_RELU, x[i], 0.0);
    return l;
}

START_TEST(relu_backward_matches_gradient)
{
    enum { N = 257 };
    float xf[N], wf[N], dx[N], y[N], dir[N];
    double x[N], w[N], grad[N];
    cnn_test_values(xf, N, 11);
    cnn_test_values(wf, N, 12);
    cnn_test_values(dir, N, 13);
    for (int i = 0; i < N; ++i) {
        x[i] = xf[i];
        w[i] = wf[i];
        grad[i] = wf[i] * (reference(OP_RELU, x[i], 0.0) > 0.0 ? 1.0 : 0.0);
    }
    const double h = 1e-6; /* inputs are >= 0.01 away from the kink */
    for (int i = 0; i < N; ++i) {
        double keep = x[i];
        x[i] = keep + h;
        double up = loss_ref(x, w, N);
        x[i] = keep - h;
        double down = loss_ref(x, w, N);
        x[i] = keep;
        ck_assert_double_eq_tol((up - down) / (2 * h), grad[i], 1e-7);
    }
    const int64_t dims[1] = {N};
    cnn_tensor *tx = cnn_test_tensor(1, dims, xf);
    cnn_tensor *tw = cnn_test_tensor(1, dims, wf);
    cnn_tensor *ty = cnn_test_tensor(1, dims, NULL);
    cnn_tensor *tdx = cnn_test_tensor(1, dims, NULL);
    ck_assert_ok(cnn_relu_forward(ty, tx));
    ck_assert_ok(cnn_relu_backward(tdx, tw, ty));
    ck_assert_ok(cnn_tensor_read(tdx, dx, sizeof dx));
    for (int i = 0; i < N; ++i)
        ck_assert_double_eq_tol(dx[i], grad[i], 1e-7);

    /* Directional check in float32 through the library's forward. */
    const float eps = 1e-3f;
    float xp[N], xm[N];
    for (int i = 0; i < N; ++i) {
        xp[i] = xf[i] + eps * dir[i];
        xm[i] = xf[i] - eps * dir[i];
    }
    double lp = 0.0, lm = 0.0, dot = 0.0;
    ck_assert_ok(cnn_tensor_write(tx, xp, sizeof xp));
    ck_assert_ok(cnn_relu_forward(ty, tx));
    ck_assert_ok(cnn_tensor_read(ty, y, sizeof y));
    for (int i = 0; i < N; ++i)
        lp += wf[i] * y[i];
    ck_assert_ok(cnn_tensor_write(tx, xm, sizeof xm));
    ck_assert_ok(cnn_relu_forward(ty, tx));
    ck_assert_ok(cnn_tensor_read(ty, y, sizeof y));
    for (int i = 0; i < N; ++i) {
        lm += wf[i] * y[i];
        dot += dx[i] * dir[i];
    }
    ck_assert_double_eq_tol((lp - lm) / (2.0 * eps), dot, 1e-3 * N / 100.0);
    cnn_tensor_free(tx);
    cnn_tensor_free(tw);
    cnn_tensor_free(ty);
    cnn_tensor_free(tdx);
}
END_TEST

/* Workers flush denormals (FTZ) and read them as zero (DAZ); the caller's
 * own floating-point control word is untouched. */
START_TEST(denormals_flushed_in_workers_not_in_caller)
{
#if defined(__x86_64__) || defined(__i386__)
    const unsigned before = _mm_getcsr();
    ck_assert_uint_eq(before & 0x8040u, 0); /* the test starts without FTZ */
    const int64_t sizes[2] = {8, 1 << 17}; /* serial and threaded paths */
    for (int k = 0; k < 2; ++k) {
        int64_t n = sizes[k];
        float *v = malloc((size_t)n * sizeof *v);
        for (int64_t i = 0; i < n; ++i)
            v[i] = 1e-39f; /* a denormal */
        cnn_tensor *x = cnn_test_tensor(1, &n, v);
        ck_assert_ok(cnn_relu_forward(x, x)); /* DAZ: 1e-39 reads as 0 */
        ck_assert_ok(cnn_tensor_read(x, v, (size_t)n * sizeof *v));
        for (int64_t i = 0; i < n; ++i)
            ck_assert_float_eq(v[i], 0.0f);
        for (int64_t i = 0; i < n; ++i)
            v[i] = 1e-20f;
        ck_assert_ok(cnn_tensor_write(x, v, (size_t)n * sizeof *v));
        ck_assert_ok(cnn_scale(x, x, 1e-20f)); /* FTZ: 1e-40 becomes 0 */
        ck_assert_ok(cnn_tensor_read(x, v, (size_t)n * sizeof *v));
        for (int64_t i = 0; i < n; ++i)
            ck_assert_float_eq(v[i], 0.0f);
        ck_assert_uint_eq(_mm_getcsr(), before);
        cnn_tensor_free(x);
        free(v);
    }
    volatile float tiny = 1e-20f;
    ck_assert(tiny * tiny > 0.0f); /* the caller still has denormals */
#endif
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ops");
    TCase *tc = cnn_test_case("elementwise");
    tcase_add_test(tc, elementwise_ops_match_reference);
    tcase_add_test(tc, ops_work_in_place);
    tcase_add_test(tc, relu_propagates_nan);
    tcase_add_test(tc, relu_backward_matches_gradient);
    tcase_add_test(tc, denormals_flushed_in_workers_not_in_caller);
    suite_add_tcase(s, tc);
    return cnn_test_run(s);
}
