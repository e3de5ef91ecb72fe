/* tests/test_backend_ops.c - every op on every GPU engine against the CPU
 * (DESIGN.md "Tests" item 4, the way ggml's test-backend-ops works): each
 * case of backend_ops_cases.c gets the same inputs on the CPU backend's
 * native engine (the reference) and on cuda:0 under each GPU engine
 * (NATIVE, VENDOR). Every GPU output sits inside a bigger device buffer
 * whose edges hold guard bytes, and starts as a NaN pattern; after the op
 * the guards must be intact, no NaN may appear where the reference has
 * none, and values must agree within a tolerance scaled to the number of
 * terms summed into one output (bit for bit where the op is exact). A case
 * an engine does not support (CNN_ERR_UNSUPPORTED) is counted as
 * unsupported, never as passed; a table per engine and op is printed at
 * the end.
 *
 * Labels: cuda (a real GPU; exits 77 with one line saying why when there
 * is none: then it has tested nothing) and emu (the CPU emulation of CUDA
 * in check mode, where it must find the device, and where the vendor
 * engine runs on the conformance double of cuDNN and cuBLAS). Runs with CK_FORK=no: no CUDA state exists before
 * Check would fork. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "backend_ops.h"
#include "test_util.h"

#define GUARD_BYTES 256 /* keeps the wrapped output 256-byte aligned */
static const uint32_t guard_word = 0x7FC0DEADu; /* a NaN as a float */

static const cnn_engine engines[] = {CNN_ENGINE_NATIVE, CNN_ENGINE_VENDOR};
#define ENGINE_COUNT 2

static int passed[ENGINE_COUNT][CNN_OP_COUNT];
static int unsupported[ENGINE_COUNT][CNN_OP_COUNT];
static int failed[ENGINE_COUNT][CNN_OP_COUNT];

static cnn_device gpu(void) { return cnn_cuda(0); }

static size_t tensor_bytes(const bo_tensor *t)
{
    size_t n = cnn_dtype_size(t->dtype);
    for (int d = 0; d < t->ndim; ++d)
        n *= (size_t)t->dims[d];
    return n;
}

static int is_output(const bo_tensor *t) { return t->role != BO_IN; }

/* The guard pattern by offset from a 4-byte aligned start. */
static void fill_guard(unsigned char *p, size_t n)
{
    const unsigned char *w = (const unsigned char *)&guard_word;
    for (size_t i = 0; i < n; ++i)
        p[i] = w[i % 4];
}

/* Whether n bytes at offset `at` of a fill_guard'ed buffer are intact. */
static int guard_intact(const unsigned char *buffer, size_t at, size_t n)
{
    const unsigned char *w = (const unsigned char *)&guard_word;
    for (size_t i = at; i < at + n; ++i)
        if (buffer[i] != w[i % 4])
            return 0;
    return 1;
}

static uint32_t lcg(uint32_t *state)
{
    *state = *state * 1664525u + 1013904223u;
    return *state >> 8;
}

static int64_t gcd(int64_t a, int64_t b)
{
    while (b != 0) {
        int64_t r = a % b;
        a = b;
        b = r;
    }
    return a;
}

/* The initial contents of tensor t of a case, from `seed`. */
static void initial_contents(const bo_case *c, const bo_tensor *t,
                             unsigned char *out, size_t bytes, uint32_t seed)
{
    float *f = (float *)out;
    const int64_t n = (int64_t)(bytes / cnn_dtype_size(t->dtype));
    uint32_t state = seed * 2654435761u + 7u;
    switch (t->init) {
    case BO_INIT_NONE:
    case BO_INIT_DERIVED:
        fill_guard(out, bytes);
        break;
    case BO_INIT_VALUES:
        cnn_test_values(f, n, seed);
        break;
    case BO_INIT_POSITIVE:
        cnn_test_values(f, n, seed);
        for (int64_t i = 0; i < n; ++i)
            f[i] = 1.0f + 0.5f * f[i];
        break;
    case BO_INIT_LARGE:
        cnn_test_values(f, n, seed);
        for (int64_t i = 0; i < n; ++i)
            f[i] *= 60.0f;
        break;
    case BO_INIT_DISTINCT: { /* a stride coprime with n permutes 0..n-1 */
        int64_t a = 7919;
        while (gcd(a, n) != 1)
            ++a;
        for (int64_t i = 0; i < n; ++i)
            f[i] = -1.0f + 2.0f * ((float)((i * a + seed) % n) + 0.5f) /
                               (float)n;
        break;
    }
    case BO_INIT_LABELS:
        for (int64_t i = 0; i < n; ++i)
            ((int32_t *)out)[i] = (int32_t)(lcg(&state) % (uint32_t)c->classes);
        break;
    case BO_INIT_BYTES:
        for (size_t i = 0; i < bytes; ++i)
            out[i] = (unsigned char)lcg(&state);
        break;
    }
}

/* One case's host data: initial contents and the reference's outputs. */
typedef struct host_data {
    size_t bytes[BO_MAX_TENSORS];
    unsigned char *init[BO_MAX_TENSORS];
    unsigned char *ref[BO_MAX_TENSORS];
} host_data;

static void host_data_free(host_data *h)
{
    for (int k = 0; k < BO_MAX_TENSORS; ++k) {
        free(h->init[k]);
        free(h->ref[k]);
    }
}

/* Runs the case on the CPU: fills h (initial contents after prepare, and
 * the outputs). */
static void run_reference(int index, const bo_case *c, host_data *h)
{
    cnn_tensor *t[BO_MAX_TENSORS] = {NULL};
    for (int k = 0; k < c->count; ++k) {
        const bo_tensor *s = &c->t[k];
        h->bytes[k] = tensor_bytes(s);
        h->init[k] = malloc(h->bytes[k]);
        ck_assert_ptr_nonnull(h->init[k]);
        initial_contents(c, s, h->init[k], h->bytes[k],
                         (uint32_t)(index * 16 + k + 1));
        ck_assert_ok(cnn_tensor_create(&t[k], cnn_cpu(), s->dtype, s->ndim,
                                       s->dims));
        ck_assert_ok(cnn_tensor_write(t[k], h->init[k], h->bytes[k]));
    }
    if (c->prepare) {
        ck_assert_msg(c->prepare(c, t) == CNN_OK, "%s [%s]: prepare: %s",
                      cnn_op_name(c->op), c->what, cnn_last_error());
        for (int k = 0; k < c->count; ++k)
            if (c->t[k].init == BO_INIT_DERIVED)
                ck_assert_ok(cnn_tensor_read(t[k], h->init[k], h->bytes[k]));
    }
    cnn_status s = c->run(c, t);
    ck_assert_msg(s == CNN_OK, "%s [%s]: the CPU reference returned %s: %s",
                  cnn_op_name(c->op), c->what, cnn_status_string(s),
                  cnn_last_error());
    for (int k = 0; k < c->count; ++k) {
        if (is_output(&c->t[k])) {
            h->ref[k] = malloc(h->bytes[k]);
            ck_assert_ptr_nonnull(h->ref[k]);
            ck_assert_ok(cnn_tensor_read(t[k], h->ref[k], h->bytes[k]));
        }
        cnn_tensor_free(t[k]);
    }
}

/* Compares n floats; on the first bad one writes why into msg. Tolerance:
 * tol (|want| + rms of the reference) with tol growing linearly with the
 * terms summed into one output. */
static int compare_f32(const bo_case *c, const float *got, const float *want,
                       int64_t n, char *msg, size_t size)
{
    double rms = 0.0;
    for (int64_t i = 0; i < n; ++i)
        if (isfinite(want[i]))
            rms += (double)want[i] * want[i];
    rms = n ? sqrt(rms / (double)n) : 0.0;
    const double tol = 2e-6 * (double)(c->reduction + 2);
    for (int64_t i = 0; i < n; ++i) {
        const double g = got[i], w = want[i];
        const char *why = NULL;
        if (isnan(w))
            why = isnan(g) ? NULL : "the reference is NaN";
        else if (isnan(g))
            why = "NaN where the reference has none";
        else if (isinf(w) || isinf(g))
            why = g == w ? NULL : "an infinity differs";
        else if (c->exact && memcmp(&got[i], &want[i], sizeof(float)) != 0)
            why = "not bit for bit";
        else if (fabs(g - w) > tol * (fabs(w) + rms))
            why = "beyond the tolerance";
        if (why) {
            snprintf(msg, size, "[%lld]: gpu %.9g cpu %.9g: %s (tolerance %g)",
                     (long long)i, g, w, why, tol * (fabs(w) + rms));
            return 0;
        }
    }
    return 1;
}

/* Runs the case on cuda:0 under `engine` and checks every output against
 * h. Returns 1 passed, 0 unsupported, -1 failed (with a line printed). */
static int run_on_gpu(int e, const bo_case *c, const host_data *h)
{
    cnn_tensor *t[BO_MAX_TENSORS] = {NULL}, *block[BO_MAX_TENSORS] = {NULL};
    int result = 1;
    char msg[256] = "";
    ck_assert_ok(cnn_set_engine(gpu(), engines[e]));
    for (int k = 0; k < c->count; ++k) {
        const bo_tensor *s = &c->t[k];
        if (!is_output(s)) {
            ck_assert_ok(cnn_tensor_create(&t[k], gpu(), s->dtype, s->ndim,
                                           s->dims));
        } else {
            const int64_t total = (int64_t)(h->bytes[k] + 2 * GUARD_BYTES);
            ck_assert_ok(cnn_tensor_create(&block[k], gpu(), CNN_U8, 1,
                                           &total));
            unsigned char *fill = malloc((size_t)total);
            ck_assert_ptr_nonnull(fill);
            fill_guard(fill, (size_t)total);
            ck_assert_ok(cnn_tensor_write(block[k], fill, (size_t)total));
            free(fill);
            ck_assert_ok(cnn_tensor_wrap(
                &t[k], gpu(), s->dtype, s->ndim, s->dims,
                (unsigned char *)cnn_tensor_data(block[k]) + GUARD_BYTES,
                h->bytes[k]));
        }
        ck_assert_ok(cnn_tensor_write(t[k], h->init[k], h->bytes[k]));
    }
    cnn_status status = c->run(c, t);
    if (status == CNN_ERR_UNSUPPORTED) {
        result = 0;
    } else if (status != CNN_OK) {
        snprintf(msg, sizeof msg, "returned %s: %s",
                 cnn_status_string(status), cnn_last_error());
        result = -1;
    }
    for (int k = 0; k < c->count && result == 1; ++k) {
        if (!block[k])
            continue;
        const size_t bytes = h->bytes[k], total = bytes + 2 * GUARD_BYTES;
        unsigned char *all = malloc(total);
        ck_assert_ptr_nonnull(all);
        ck_assert_ok(cnn_tensor_read(block[k], all, total));
        const unsigned char *got = all + GUARD_BYTES;
        char detail[200] = "";
        if (!guard_intact(all, 0, GUARD_BYTES))
            snprintf(detail, sizeof detail, "wrote before the output");
        else if (!guard_intact(all, GUARD_BYTES + bytes, GUARD_BYTES))
            snprintf(detail, sizeof detail, "wrote past the output");
        else if (c->t[k].dtype == CNN_F32) {
            float *g = malloc(bytes); /* aligned copies of the floats */
            ck_assert_ptr_nonnull(g);
            memcpy(g, got, bytes);
            compare_f32(c, g, (const float *)h->ref[k],
                        (int64_t)(bytes / sizeof(float)), detail,
                        sizeof detail);
            free(g);
        } else {
            size_t i = 0;
            while (i < bytes && got[i] == h->ref[k][i])
                ++i;
            if (i < bytes)
                snprintf(detail, sizeof detail,
                         "byte %zu: gpu 0x%02x cpu 0x%02x", i, got[i],
                         h->ref[k][i]);
        }
        if (detail[0]) {
            snprintf(msg, sizeof msg, "%s %s", c->t[k].name, detail);
            result = -1;
        }
        free(all);
    }
    if (result < 0)
        printf("FAILED: %s %s [%s]: %s\n", cnn_engine_name(engines[e]),
               cnn_op_name(c->op), c->what, msg);
    for (int k = 0; k < c->count; ++k) {
        cnn_tensor_free(t[k]);
        cnn_tensor_free(block[k]);
    }
    return result;
}

START_TEST(every_op_has_cases)
{
    int count = 0;
    const bo_case *cases = bo_cases(&count);
    ck_assert_int_eq(cnn_op_count(), CNN_OP_COUNT);
    for (int op = 0; op < cnn_op_count(); ++op) {
        int n = 0;
        for (int i = 0; i < count; ++i)
            n += cases[i].op == (cnn_op)op;
        ck_assert_msg(n >= 2, "op %s has %d cases: add some to "
                      "tests/backend_ops_cases.c", cnn_op_name((cnn_op)op), n);
    }
}
END_TEST

START_TEST(every_engine_matches_the_cpu)
{
    int count = 0;
    const bo_case *cases = bo_cases(&count);
    ck_assert_ok(cnn_set_engine(cnn_cpu(), CNN_ENGINE_NATIVE));
    for (int i = 0; i < count; ++i) {
        const bo_case *c = &cases[i];
        host_data h = {{0}, {NULL}, {NULL}};
        run_reference(i, c, &h);
        for (int e = 0; e < ENGINE_COUNT; ++e) {
            int r = run_on_gpu(e, c, &h);
            (r > 0 ? passed : r == 0 ? unsupported : failed)[e][c->op]++;
        }
        host_data_free(&h);
    }
    ck_assert_ok(cnn_set_engine(gpu(), CNN_ENGINE_AUTO));
    int total_failed = 0;
    for (int e = 0; e < ENGINE_COUNT; ++e) {
        int p = 0, u = 0, f = 0;
        printf("%s engine on %s:\n", cnn_engine_name(engines[e]),
               cnn_device_name(gpu()));
        for (int op = 0; op < CNN_OP_COUNT; ++op) {
            printf("  %-20s %3d passed %3d unsupported %3d failed\n",
                   cnn_op_name((cnn_op)op), passed[e][op],
                   unsupported[e][op], failed[e][op]);
            p += passed[e][op];
            u += unsupported[e][op];
            f += failed[e][op];
        }
        printf("%s: %d passed, %d unsupported, %d failed (of %d cases)\n",
               cnn_engine_name(engines[e]), p, u, f, count);
        total_failed += f;
    }
    fflush(stdout);
    ck_assert_msg(total_failed == 0, "%d cases failed (listed above)",
                  total_failed);
}
END_TEST

/* The GPU reads labels from device memory, yet fails as the CPU does: the
 * first label outside [0, C) named, before anything is written. */
START_TEST(bad_labels_fail_before_anything_is_written)
{
    const int64_t x[2] = {4, 3}, one[1] = {1};
    const int32_t labels[4] = {0, 2, 3, -1};
    float logits[12], before[12], after[12], loss = 0.5f;
    cnn_test_values(logits, 12, 9);
    cnn_test_values(before, 12, 10);
    ck_assert_ok(cnn_set_engine(gpu(), CNN_ENGINE_NATIVE));
    cnn_tensor *tl = NULL, *tg = NULL, *tx = NULL, *ty = NULL;
    ck_assert_ok(cnn_tensor_create(&tl, gpu(), CNN_F32, 1, one));
    ck_assert_ok(cnn_tensor_create(&tg, gpu(), CNN_F32, 2, x));
    ck_assert_ok(cnn_tensor_create(&tx, gpu(), CNN_F32, 2, x));
    ck_assert_ok(cnn_tensor_create(&ty, gpu(), CNN_I32, 1, x));
    ck_assert_ok(cnn_tensor_write(tl, &loss, sizeof loss));
    ck_assert_ok(cnn_tensor_write(tg, before, sizeof before));
    ck_assert_ok(cnn_tensor_write(tx, logits, sizeof logits));
    ck_assert_ok(cnn_tensor_write(ty, labels, sizeof labels));
    ck_assert_fails(cnn_softmax_cross_entropy(tl, tg, tx, ty),
                    CNN_ERR_INVALID_ARGUMENT, "labels[2] is 3, outside [0, 3)");
    ck_assert_ok(cnn_tensor_read(tg, after, sizeof after));
    ck_assert_mem_eq(before, after, sizeof before);
    ck_assert_ok(cnn_tensor_read(tl, &loss, sizeof loss));
    ck_assert_float_eq(loss, 0.5f);
    /* The device is still usable. */
    const int32_t good[4] = {0, 2, 1, 1};
    ck_assert_ok(cnn_tensor_write(ty, good, sizeof good));
    ck_assert_ok(cnn_softmax_cross_entropy(tl, tg, tx, ty));
    ck_assert_ok(cnn_set_engine(gpu(), CNN_ENGINE_AUTO));
    cnn_tensor_free(tl);
    cnn_tensor_free(tg);
    cnn_tensor_free(tx);
    cnn_tensor_free(ty);
}
END_TEST

int main(void)
{
    /* Counting devices loads the module and the driver: this suite never
     * forks (CK_FORK=no), so that state cannot leak into a child. */
    if (cnn_device_count(CNN_CUDA) == 0) {
        cnn_device_check(cnn_cuda(0));
        if (getenv("CNN_TEST_REQUIRE_CUDA")) {
            printf("test_backend_ops: FAILED: CNN_TEST_REQUIRE_CUDA is set "
                   "but there is no CUDA device: %s\n", cnn_last_error());
            return 1;
        }
        printf("test_backend_ops: skipped, no usable GPU: %s\n",
               cnn_last_error());
        return 77;
    }
    Suite *s = suite_create("backend_ops");
    TCase *tc = cnn_test_case("backend_ops");
    tcase_add_test(tc, every_op_has_cases);
    tcase_add_test(tc, every_engine_matches_the_cpu);
    tcase_add_test(tc, bad_labels_fail_before_anything_is_written);
    suite_add_tcase(s, tc);
    return cnn_test_run(s);
}
