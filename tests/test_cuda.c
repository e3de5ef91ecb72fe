/* tests/test_cuda.c - the CUDA backend against the CPU backend: every op on
 * odd and large shapes with guard words around the GPU output, transfers
 * between host, CPU tensors and GPU tensors, the caching allocator, seeded
 * inits bit for bit, and errors (out of memory, mixed devices). Label: cuda.
 *
 * Runs with CK_FORK=no (set by CTest) so that no CUDA state exists before a
 * fork. Exits 77, CTest's skip code, with a line saying why when there is
 * no usable GPU: then it has tested nothing. The emulation build runs it as
 * test_cuda_emu (label emu) on the CPU emulation of CUDA in check mode,
 * where it must not skip (CNN_TEST_REQUIRE_CUDA). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test_util.h"

#define GUARD 64
static const uint32_t guard_bits = 0x7FC0DEADu;

static cnn_device gpu(void) { return cnn_cuda(0); }

/* A GPU tensor of `n` floats inside a bigger GPU buffer whose edges hold
 * guard words. */
typedef struct guarded {
    cnn_tensor *block;
    cnn_tensor *t;
    int64_t n;
} guarded;

static guarded guarded_create(int ndim, const int64_t *dims, int64_t n)
{
    guarded g = {.n = n};
    const int64_t total = n + 2 * GUARD;
    ck_assert_ok(cnn_tensor_create(&g.block, gpu(), CNN_F32, 1, &total));
    uint32_t *fill = malloc((size_t)total * sizeof *fill);
    for (int64_t i = 0; i < total; ++i)
        fill[i] = guard_bits;
    ck_assert_ok(cnn_tensor_write(g.block, fill, (size_t)total * sizeof *fill));
    free(fill);
    char *base = cnn_tensor_data(g.block);
    ck_assert_ok(cnn_tensor_wrap(&g.t, gpu(), CNN_F32, ndim, dims,
                                 base + GUARD * sizeof(float),
                                 (size_t)n * sizeof(float)));
    return g;
}

/* Reads the output, checks the guards, returns the n values (malloc'd). */
static float *guarded_read(guarded *g)
{
    const int64_t total = g->n + 2 * GUARD;
    uint32_t *all = malloc((size_t)total * sizeof *all);
    ck_assert_ok(cnn_tensor_read(g->block, all, (size_t)total * sizeof *all));
    for (int i = 0; i < GUARD; ++i) {
        ck_assert_msg(all[i] == guard_bits, "GPU wrote before the output");
        ck_assert_msg(all[GUARD + g->n + i] == guard_bits,
                      "GPU wrote past the output");
    }
    float *values = malloc((size_t)g->n * sizeof *values);
    memcpy(values, all + GUARD, (size_t)g->n * sizeof *values);
    free(all);
    return values;
}

static void guarded_free(guarded *g)
{
    cnn_tensor_free(g->t);
    cnn_tensor_free(g->block);
}

static const struct {
    int ndim;
    int64_t dims[4];
} shapes[] = {
    {1, {1}}, {4, {1, 1, 1, 1}}, {3, {3, 5, 7}}, {4, {2, 3, 17, 19}},
    {1, {1000003}}, {4, {7, 96, 27, 27}},
};
#define SHAPE_COUNT ((int)(sizeof shapes / sizeof shapes[0]))

typedef enum { OP_ADD, OP_SCALE, OP_RELU, OP_RELU_BACK, OP_COUNT_ } op_kind;

static cnn_status run_op(op_kind op, cnn_tensor *out, const cnn_tensor *a,
                         const cnn_tensor *b)
{
    switch (op) {
    case OP_ADD: return cnn_add(out, a, b);
    case OP_SCALE: return cnn_scale(out, a, 0.37f);
    case OP_RELU: return cnn_relu_forward(out, a);
    case OP_RELU_BACK: return cnn_relu_backward(out, a, b);
    default: return CNN_ERR_INTERNAL;
    }
}

START_TEST(ops_match_cpu)
{
    for (int s = 0; s < SHAPE_COUNT; ++s) {
        int ndim = shapes[s].ndim;
        const int64_t *dims = shapes[s].dims;
        int64_t n = 1;
        for (int i = 0; i < ndim; ++i)
            n *= dims[i];
        float *va = malloc((size_t)n * sizeof *va);
        float *vb = malloc((size_t)n * sizeof *vb);
        float *want = malloc((size_t)n * sizeof *want);
        cnn_test_values(va, n, (uint32_t)s + 5);
        cnn_test_values(vb, n, (uint32_t)s + 500);
        cnn_tensor *ca = cnn_test_tensor(ndim, dims, va);
        cnn_tensor *cb = cnn_test_tensor(ndim, dims, vb);
        cnn_tensor *cout = cnn_test_tensor(ndim, dims, NULL);
        cnn_tensor *ga = NULL, *gb = NULL;
        ck_assert_ok(cnn_tensor_create(&ga, gpu(), CNN_F32, ndim, dims));
        ck_assert_ok(cnn_tensor_create(&gb, gpu(), CNN_F32, ndim, dims));
        ck_assert_ok(cnn_tensor_copy(ga, ca));
        ck_assert_ok(cnn_tensor_write(gb, vb, (size_t)n * sizeof *vb));
        for (op_kind op = OP_ADD; op < OP_COUNT_; ++op) {
            ck_assert_ok(run_op(op, cout, ca, cb));
            ck_assert_ok(cnn_tensor_read(cout, want, (size_t)n * sizeof *want));
            guarded g = guarded_create(ndim, dims, n);
            ck_assert_ok(run_op(op, g.t, ga, gb));
            float *got = guarded_read(&g);
            int64_t i = 0; /* one assertion per op: Check logs each one */
            while (i < n && got[i] == want[i] && !isnan(got[i]))
                ++i;
            ck_assert_msg(i == n, "op %d shape %d [%lld]: gpu %g cpu %g",
                          (int)op, s, (long long)i, (double)got[i % n],
                          (double)want[i % n]);
            free(got);
            guarded_free(&g);
        }
        cnn_tensor_free(ca);
        cnn_tensor_free(cb);
        cnn_tensor_free(cout);
        cnn_tensor_free(ga);
        cnn_tensor_free(gb);
        free(va);
        free(vb);
        free(want);
    }
}
END_TEST

START_TEST(inits_and_fills_match_cpu)
{
    const int64_t dims[2] = {1001, 999};
    const int64_t n = dims[0] * dims[1];
    float *c = malloc((size_t)n * sizeof *c), *g = malloc((size_t)n * sizeof *g);
    cnn_tensor *tc = cnn_test_tensor(2, dims, NULL), *tg = NULL;
    ck_assert_ok(cnn_tensor_create(&tg, gpu(), CNN_F32, 2, dims));
    ck_assert_ok(cnn_tensor_uniform(tc, 77, -0.5f, 0.25f));
    ck_assert_ok(cnn_tensor_uniform(tg, 77, -0.5f, 0.25f));
    ck_assert_ok(cnn_tensor_read(tc, c, (size_t)n * sizeof *c));
    ck_assert_ok(cnn_tensor_read(tg, g, (size_t)n * sizeof *g));
    ck_assert_mem_eq(c, g, (size_t)n * sizeof *c); /* bit for bit */
    ck_assert_ok(cnn_tensor_normal(tc, 78, 0.0f, 0.01f));
    ck_assert_ok(cnn_tensor_normal(tg, 78, 0.0f, 0.01f));
    ck_assert_ok(cnn_tensor_read(tc, c, (size_t)n * sizeof *c));
    ck_assert_ok(cnn_tensor_read(tg, g, (size_t)n * sizeof *g));
    int64_t i = 0; /* libm may differ by an ulp */
    while (i < n && fabsf(g[i] - c[i]) <= fabsf(c[i]) * 2.5e-7f + 1e-30f)
        ++i;
    ck_assert_msg(i == n, "normal [%lld]: gpu %.9g cpu %.9g", (long long)i,
                  (double)g[i % n], (double)c[i % n]);
    ck_assert_ok(cnn_tensor_fill(tg, -3.25));
    ck_assert_ok(cnn_tensor_read(tg, g, (size_t)n * sizeof *g));
    for (i = 0; i < n && g[i] == -3.25f; ++i)
        ;
    ck_assert_msg(i == n, "fill [%lld]: %g", (long long)i, (double)g[i % n]);
    cnn_tensor_free(tc);
    cnn_tensor_free(tg);
    free(c);
    free(g);

    const cnn_dtype dtypes[] = {CNN_U8, CNN_F16, CNN_I32, CNN_I64};
    for (int d = 0; d < 4; ++d) {
        const int64_t m = 12345;
        cnn_tensor *a = NULL, *b = NULL;
        ck_assert_ok(cnn_tensor_create(&a, cnn_cpu(), dtypes[d], 1, &m));
        ck_assert_ok(cnn_tensor_create(&b, gpu(), dtypes[d], 1, &m));
        ck_assert_ok(cnn_tensor_fill(a, 77.0));
        ck_assert_ok(cnn_tensor_fill(b, 77.0));
        size_t bytes = cnn_tensor_bytes(a);
        unsigned char *x = malloc(bytes), *y = malloc(bytes);
        ck_assert_ok(cnn_tensor_read(a, x, bytes));
        ck_assert_ok(cnn_tensor_read(b, y, bytes));
        ck_assert_mem_eq(x, y, bytes);
        free(x);
        free(y);
        cnn_tensor_free(a);
        cnn_tensor_free(b);
    }
}
END_TEST

START_TEST(transfers_and_allocator_reuse)
{
    const int64_t n = 3 * 1024 * 1024 + 7;
    float *v = malloc((size_t)n * sizeof *v), *w = malloc((size_t)n * sizeof *w);
    cnn_test_values(v, n, 21);
    cnn_tensor *g1 = NULL, *g2 = NULL;
    ck_assert_ok(cnn_tensor_create(&g1, gpu(), CNN_F32, 1, &n));
    ck_assert_ok(cnn_tensor_write(g1, v, (size_t)n * sizeof *v));
    ck_assert_ok(cnn_tensor_create(&g2, gpu(), CNN_F32, 1, &n));
    ck_assert_ok(cnn_tensor_copy(g2, g1)); /* device to device */
    ck_assert_ok(cnn_tensor_read(g2, w, (size_t)n * sizeof *w));
    ck_assert_mem_eq(v, w, (size_t)n * sizeof *v);
    /* Freed blocks come back: many create/free rounds stay cheap and
     * correct. */
    void *first = cnn_tensor_data(g2);
    cnn_tensor_free(g2);
    ck_assert_ok(cnn_tensor_create(&g2, gpu(), CNN_F32, 1, &n));
    ck_assert_ptr_eq(cnn_tensor_data(g2), first);
    for (int round = 0; round < 200; ++round) {
        cnn_tensor *t = NULL;
        const int64_t m = 1 + round * 997;
        ck_assert_ok(cnn_tensor_create(&t, gpu(), CNN_F32, 1, &m));
        ck_assert_ok(cnn_tensor_fill(t, round));
        cnn_tensor_free(t);
    }
    ck_assert_ok(cnn_device_synchronize(gpu()));
    cnn_tensor_free(g1);
    cnn_tensor_free(g2);
    free(v);
    free(w);
}
END_TEST

START_TEST(errors_leave_the_device_usable)
{
    const int64_t huge[2] = {INT64_C(1) << 25, INT64_C(1) << 25}; /* 4 PiB */
    cnn_tensor *t = NULL;
    ck_assert_fails(cnn_tensor_create(&t, gpu(), CNN_F32, 2, huge),
                    CNN_ERR_OUT_OF_MEMORY, "out of device memory");
    ck_assert_ptr_null(t);
    const int64_t dims[1] = {16};
    cnn_tensor *c = cnn_test_tensor(1, dims, NULL);
    ck_assert_ok(cnn_tensor_create(&t, gpu(), CNN_F32, 1, dims));
    ck_assert_ok(cnn_tensor_fill(t, 1.0));
    ck_assert_fails(cnn_add(t, t, c), CNN_ERR_DEVICE, "b is on cpu:0");
    ck_assert_fails(cnn_set_engine(gpu(), (cnn_engine)12),
                    CNN_ERR_INVALID_ARGUMENT, "cnn_set_engine");
    /* ReLU on the vendor engine: cuDNN on a GPU, the conformance double
     * of cuDNN under emulation; the vendor engine has no fill, which is
     * a clear error that changes nothing. */
    ck_assert_ok(cnn_set_engine(gpu(), CNN_ENGINE_VENDOR));
    ck_assert_ok(cnn_relu_forward(t, t));
    ck_assert_fails(cnn_tensor_fill(t, 1.0), CNN_ERR_UNSUPPORTED, "vendor");
    ck_assert_ok(cnn_set_engine(gpu(), CNN_ENGINE_AUTO));
    ck_assert_ok(cnn_relu_forward(t, t));
    ck_assert_ok(cnn_tensor_copy(c, t));
    float out[16];
    ck_assert_ok(cnn_tensor_read(c, out, sizeof out));
    ck_assert_float_eq(out[15], 1.0f);
    ck_assert_ptr_nonnull(strstr(cnn_device_name(gpu()), "cuda:0 ("));
    cnn_tensor_free(t);
    cnn_tensor_free(c);
}
END_TEST

/* cnn_device_memory_stats follows the caching allocator: a tensor is in
 * use, then cached when freed, and a trim gives the cache back. */
START_TEST(memory_stats_follow_the_allocator)
{
    ck_assert_ok(cnn_device_memory_trim(gpu()));
    cnn_memory_stats before, during, after, trimmed;
    ck_assert_ok(cnn_device_memory_stats(gpu(), &before));
    ck_assert_int_eq(before.cached, 0);
    ck_assert_uint_gt(before.device_total, 0);
    ck_assert_uint_le(before.device_free, before.device_total);
    const int64_t n = 1 << 20; /* 4 MiB */
    cnn_tensor *t = NULL;
    ck_assert_ok(cnn_tensor_create(&t, gpu(), CNN_F32, 1, &n));
    ck_assert_ok(cnn_device_memory_stats(gpu(), &during));
    ck_assert_uint_ge(during.in_use, before.in_use + 4 * (size_t)n);
    ck_assert_uint_ge(during.peak, during.in_use);
    cnn_tensor_free(t);
    ck_assert_ok(cnn_device_memory_stats(gpu(), &after));
    ck_assert_uint_eq(after.in_use, before.in_use);
    ck_assert_uint_ge(after.cached, 4 * (size_t)n);
    ck_assert_uint_ge(after.peak, during.in_use);
    ck_assert_ok(cnn_device_memory_trim(gpu()));
    ck_assert_ok(cnn_device_memory_reset_peak(gpu()));
    ck_assert_ok(cnn_device_memory_stats(gpu(), &trimmed));
    ck_assert_uint_eq(trimmed.cached, 0);
    ck_assert_uint_eq(trimmed.peak, trimmed.in_use);
    ck_assert_fails(cnn_device_memory_stats(gpu(), NULL),
                    CNN_ERR_INVALID_ARGUMENT, "stats is NULL");
}
END_TEST

/* Under the CPU emulation of CUDA (CNN_TEST_CUDA_EMULATED=1): the device
 * says what it is, automatic choice passes it over, and there is no
 * vendor engine. */
/* Lines of `path` equal to `name` (the double's call trace). */
static int trace_count(const char *path, const char *name)
{
    FILE *f = fopen(path, "r");
    char line[256];
    int n = 0;
    if (!f)
        return 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        n += strcmp(line, name) == 0;
    }
    fclose(f);
    return n;
}

/* Under emulation, the conformance double of cuDNN (src/cuda/vendor_emu)
 * answers with statuses a GPU may give: every status that means "cannot
 * run here" lets AUTO fall back to our kernel (with the same result),
 * VENDOR reports it as unsupported, a rejected parameter is our bug
 * (CNN_ERR_INTERNAL); and a search that finds nothing is searched once. */
START_TEST(vendor_statuses_fall_back_under_auto)
{
    const int64_t xd[4] = {2, 3, 5, 5}, wd[4] = {4, 3, 3, 3}, yd[4] = {2, 4, 3, 3};
    float xv[150], wv[108], want[72], got[72];
    cnn_test_values(xv, 150, 21);
    cnn_test_values(wv, 108, 22);
    cnn_conv2d_params p = cnn_conv2d_params_default();
    cnn_tensor *x = NULL, *w = NULL, *y = NULL, *dw = NULL;
    ck_assert_ok(cnn_tensor_create(&x, gpu(), CNN_F32, 4, xd));
    ck_assert_ok(cnn_tensor_create(&w, gpu(), CNN_F32, 4, wd));
    ck_assert_ok(cnn_tensor_create(&y, gpu(), CNN_F32, 4, yd));
    ck_assert_ok(cnn_tensor_zeros(&dw, gpu(), CNN_F32, 4, wd));
    ck_assert_ok(cnn_tensor_write(x, xv, sizeof xv));
    ck_assert_ok(cnn_tensor_write(w, wv, sizeof wv));
    ck_assert_ok(cnn_set_engine(gpu(), CNN_ENGINE_NATIVE));
    ck_assert_ok(cnn_conv2d_forward(y, x, w, NULL, &p));
    ck_assert_ok(cnn_tensor_read(y, want, sizeof want));
    static const char *const refusals[] = {
        "cudnnConvolutionForward=2003",            /* MISALIGNED_POINTER */
        "cudnnConvolutionForward=1008",            /* SUBLIBRARY_LOADING_FAILED */
        "cudnnConvolutionForward=3002",            /* NOT_SUPPORTED_SHAPE */
    };
    for (int i = 0; i < 3; ++i) {
        setenv("CNN_VENDOR_EMU_FAIL", refusals[i], 1);
        ck_assert_ok(cnn_set_engine(gpu(), CNN_ENGINE_VENDOR));
        ck_assert_fails(cnn_conv2d_forward(y, x, w, NULL, &p),
                        CNN_ERR_UNSUPPORTED, "cudnnConvolutionForward");
        ck_assert_ok(cnn_set_engine(gpu(), CNN_ENGINE_AUTO));
        memset(got, 0, sizeof got);
        ck_assert_ok(cnn_tensor_write(y, got, sizeof got));
        ck_assert_ok(cnn_conv2d_forward(y, x, w, NULL, &p));
        ck_assert_ok(cnn_tensor_read(y, got, sizeof got));
        ck_assert_mem_eq(got, want, sizeof got); /* our kernel ran it */
    }
    setenv("CNN_VENDOR_EMU_FAIL", "cudnnConvolutionForward=2000", 1);
    ck_assert_fails(cnn_conv2d_forward(y, x, w, NULL, &p), CNN_ERR_INTERNAL,
                    "CUDNN_STATUS_BAD_PARAM");
    unsetenv("CNN_VENDOR_EMU_FAIL");
    /* Deterministic with a 1-byte workspace: the double's filter algorithms that
     * need none are the non-deterministic ALGO_0 and the Winograd one it
     * does not support, so the search finds nothing; AUTO falls back each
     * time but searches once. */
    char trace[] = "/tmp/cnn_vendor_trace_XXXXXX";
    int fd = mkstemp(trace);
    ck_assert_int_ge(fd, 0);
    close(fd);
    setenv("CNN_VENDOR_EMU_TRACE", trace, 1);
    ck_assert_ok(cnn_set_deterministic(gpu(), 1));
    ck_assert_ok(cnn_set_workspace_limit(gpu(), 1));
    for (int i = 0; i < 3; ++i)
        ck_assert_ok(cnn_conv2d_backward(NULL, dw, NULL, y, x, NULL, &p));
    unsetenv("CNN_VENDOR_EMU_TRACE");
    ck_assert_int_eq(trace_count(trace, "cudnnFindConvolutionBackwardFilterAlgorithmEx"), 1);
    ck_assert_int_eq(trace_count(trace, "cudnnConvolutionBackwardFilter"), 0);
    unlink(trace);
    ck_assert_ok(cnn_set_deterministic(gpu(), 0));
    ck_assert_ok(cnn_set_workspace_limit(gpu(), (size_t)1 << 30));
    cnn_tensor_free(x);
    cnn_tensor_free(w);
    cnn_tensor_free(y);
    cnn_tensor_free(dw);
}
END_TEST

/* A GPU faults on a misaligned element: cnn_tensor_wrap refuses it. */
START_TEST(wrap_refuses_misaligned_device_memory)
{
    const int64_t n = 64, eight[1] = {8};
    cnn_tensor *block = NULL, *t = NULL;
    ck_assert_ok(cnn_tensor_create(&block, gpu(), CNN_U8, 1, &n));
    unsigned char *base = cnn_tensor_data(block);
    ck_assert_fails(cnn_tensor_wrap(&t, gpu(), CNN_F32, 1, eight + 0, base + 2,
                                    32), CNN_ERR_INVALID_ARGUMENT, "aligned");
    ck_assert_ptr_null(t);
    cnn_tensor_free(block);
}
END_TEST

START_TEST(emulated_device_is_named_and_never_automatic)
{
    ck_assert_ptr_nonnull(strstr(cnn_device_name(gpu()), "emulation"));
    cnn_device chosen;
    ck_assert_ok(cnn_device_parse("auto", &chosen));
    ck_assert_int_eq(chosen.type, CNN_CPU);
    ck_assert_ptr_nonnull(
        strstr(cnn_runtime_info(), "the conformance double"));
}
END_TEST

int main(void)
{
    /* Counting devices loads the module and the driver: this suite never
     * forks (CK_FORK=no), so that state cannot leak into a child. */
    if (cnn_device_count(CNN_CUDA) == 0) {
        cnn_device_check(cnn_cuda(0));
        if (getenv("CNN_TEST_REQUIRE_CUDA")) {
            /* The emulation build must always test its device. */
            printf("test_cuda: FAILED: CNN_TEST_REQUIRE_CUDA is set but there "
                   "is no CUDA device: %s\n", cnn_last_error());
            return 1;
        }
        printf("test_cuda: skipped, no usable GPU: %s\n", cnn_last_error());
        return 77;
    }
    Suite *s = suite_create("cuda");
    TCase *tc = cnn_test_case("cuda");
    tcase_add_test(tc, ops_match_cpu);
    tcase_add_test(tc, inits_and_fills_match_cpu);
    tcase_add_test(tc, transfers_and_allocator_reuse);
    tcase_add_test(tc, errors_leave_the_device_usable);
    tcase_add_test(tc, memory_stats_follow_the_allocator);
    if (getenv("CNN_TEST_CUDA_EMULATED"))
        tcase_add_test(tc, emulated_device_is_named_and_never_automatic);
    if (getenv("CNN_TEST_CUDA_EMULATED")) {
        tcase_add_test(tc, vendor_statuses_fall_back_under_auto);
        tcase_add_test(tc, wrap_refuses_misaligned_device_memory);
    }
    suite_add_tcase(s, tc);
    return cnn_test_run(s);
}
