/* tests/test_api_extremes.c - the public headers' calls with extreme values:
 * 0, -1, INT32_MAX + 1, 2^32, INT64_MAX, INT64_MIN, NaN, infinities, NULL,
 * and outputs that overlap inputs (exactly and in part). Run under
 * AddressSanitizer and UBSan in CI, so an overflow, an out-of-bounds access
 * or undefined behaviour fails it. Label: cpu.
 *
 * Table-driven, so that a new call is one line plus one small function:
 *   - int_cases / real_cases: a call with one argument taking every extreme
 *     integer (or real); it must return CNN_OK exactly for the values in
 *     its accepted range and otherwise fail cleanly (a status other than
 *     CNN_ERR_INTERNAL and a message that starts with the call's name);
 *   - alias_cases: an op whose output is made to be an input (in place)
 *     and to overlap it in part: in place passes only where the op's
 *     header allows it, a partial overlap never does;
 *   - null_cases: a call with each pointer argument NULL in turn.
 * The test `every_call_is_listed` reads the public headers (include/cnn)
 * and fails for any CNN_API call that no table names (a list gives the
 * reason for the calls that take no input an extreme could go into). */
#include <dirent.h>
#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test_util.h"

/* ---- the fixture: small valid objects each case starts from ---- */

typedef struct fx {
    char dir[64];       /* scratch folder: IDX files, checkpoints */
    char images[128], labels[128], ckpt[128];
    cnn_dataset *ds;    /* 6 images 1x4x4, labels 0..2 */
    cnn_net *net;       /* input 1x8x8, conv 2 3x3, relu, flatten, fc 3 */
    float pool[4096];   /* memory that aliasing cases wrap */
} fx;

static fx F;

static void put_u32(FILE *f, uint32_t v)
{
    const unsigned char b[4] = {(unsigned char)(v >> 24),
                                (unsigned char)(v >> 16),
                                (unsigned char)(v >> 8), (unsigned char)v};
    fwrite(b, 1, 4, f);
}

/* An IDX file of u8 data with `ndim` dims (declared), `payload` bytes. */
static void write_idx(const char *path, int ndim, const uint32_t *dims,
                      size_t payload)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    put_u32(f, 0x0800u | (uint32_t)ndim);
    for (int i = 0; i < ndim; ++i)
        put_u32(f, dims[i]);
    for (size_t i = 0; i < payload; ++i)
        fputc((int)(i % 3), f);
    ck_assert_int_eq(fclose(f), 0);
}

static void setup(void)
{
    memset(&F, 0, sizeof F);
    snprintf(F.dir, sizeof F.dir, "/tmp/cnn_extremes_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(F.dir));
    snprintf(F.images, sizeof F.images, "%s/images", F.dir);
    snprintf(F.labels, sizeof F.labels, "%s/labels", F.dir);
    snprintf(F.ckpt, sizeof F.ckpt, "%s/net.ckpt", F.dir);
    const uint32_t idims[3] = {6, 4, 4}, ldims[1] = {6};
    write_idx(F.images, 3, idims, 6 * 16);
    write_idx(F.labels, 1, ldims, 6);
    ck_assert_ok(cnn_dataset_open_idx(&F.ds, F.images, F.labels, 0.0f, 1.0f));
    cnn_node n;
    cnn_conv2d_params p = cnn_conv2d_params_default();
    ck_assert_ok(cnn_net_create(&F.net, cnn_cpu()));
    ck_assert_ok(cnn_net_input(F.net, 1, 8, 8, &n));
    ck_assert_ok(cnn_net_conv2d(F.net, n, "conv", 2, 3, 3, &p, 1,
                                CNN_INIT_TORCH_DEFAULT, &n));
    ck_assert_ok(cnn_net_relu(F.net, n, &n));
    ck_assert_ok(cnn_net_flatten(F.net, n, &n));
    ck_assert_ok(cnn_net_linear(F.net, n, "fc", 3, 1, CNN_INIT_TORCH_DEFAULT,
                                &n));
    ck_assert_ok(cnn_net_setup(F.net, 2));
    ck_assert_ok(cnn_net_init(F.net, 1));
    ck_assert_ok(cnn_net_save(F.net, NULL, F.ckpt, NULL, NULL, 0));
    for (size_t i = 0; i < sizeof F.pool / sizeof F.pool[0]; ++i)
        F.pool[i] = 0.25f + (float)(i % 7) * 0.125f;
}

static void remove_folder(const char *path)
{
    DIR *d = opendir(path);
    if (!d)
        return;
    struct dirent *e;
    char file[256];
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(file, sizeof file, "%s/%s", path, e->d_name);
        remove(file);
    }
    closedir(d);
    rmdir(path);
}

static void teardown(void)
{
    cnn_net_free(F.net);
    cnn_dataset_free(F.ds);
    remove_folder(F.dir);
}

/* A CPU F32 tensor over F.pool + offset (never freed memory: no leak). */
static cnn_tensor *at(int64_t offset, int ndim, const int64_t *dims)
{
    int64_t n = 1;
    for (int i = 0; i < ndim; ++i)
        n *= dims[i];
    ck_assert_int_le(offset + n, (int64_t)(sizeof F.pool / sizeof F.pool[0]));
    cnn_tensor *t = NULL;
    ck_assert_ok(cnn_tensor_wrap(&t, cnn_cpu(), CNN_F32, ndim, dims,
                                 F.pool + offset, (size_t)n * sizeof(float)));
    return t;
}

static cnn_tensor *at4(int64_t offset, int64_t n, int64_t c, int64_t h,
                       int64_t w)
{
    const int64_t dims[4] = {n, c, h, w};
    return at(offset, 4, dims);
}

static cnn_tensor *at2(int64_t offset, int64_t a, int64_t b)
{
    const int64_t dims[2] = {a, b};
    return at(offset, 2, dims);
}

static cnn_tensor *at1(int64_t offset, int64_t a) { return at(offset, 1, &a); }

/* Frees up to 8 tensors (NULLs skipped) and passes `s` through. */
static cnn_status done(cnn_status s, cnn_tensor *a, cnn_tensor *b,
                       cnn_tensor *c, cnn_tensor *d)
{
    cnn_tensor_free(a);
    cnn_tensor_free(b);
    cnn_tensor_free(c);
    cnn_tensor_free(d);
    return s;
}

/* ---- integer extremes ---- */

static const int64_t ints[] = {
    0, -1, 1, 2, 3, INT32_MAX, (int64_t)INT32_MAX + 1, (int64_t)1 << 32,
    (int64_t)1 << 62, INT64_MAX, INT64_MIN, INT64_MIN + 1, -((int64_t)1 << 32),
};
#define INT_COUNT ((int)(sizeof ints / sizeof ints[0]))

typedef cnn_status (*int_fn)(int64_t v);

typedef struct int_case {
    const char *call;  /* the call, which every message of it starts with */
    int_fn run;
    int64_t lo, hi;    /* the values that must succeed; all others fail */
    bool (*works)(int64_t v); /* instead of lo..hi, when not NULL */
} int_case;

static bool positive(int64_t v) { return v >= 1; }
static bool nonzero(int64_t v) { return v != 0; }
static bool not_vendor(int64_t v) { return v == 0 || v == 1 || v == 3; }
static bool node_ok(int64_t v) { return (uint32_t)v < (1u << 24); }
/* A CUDA device index that exists here (the emulation has cuda:0). */
static bool cuda_index(int64_t v)
{
    return v >= 0 && v < cnn_device_count(CNN_CUDA);
}
/* cpu, and cuda where this build has a device. */
static bool device_type(int64_t v)
{
    return v == 0 || (v == 1 && cnn_device_count(CNN_CUDA) > 0);
}

/* Clamps to int for calls that take one (the extreme survives as an
 * extreme int). */
static int to_int(int64_t v)
{
    return v > INT32_MAX ? INT32_MAX : v < INT32_MIN ? INT32_MIN : (int)v;
}

static cnn_status i_tensor_create(int64_t v)
{
    const int64_t dims[3] = {v, v, 3};
    cnn_tensor *t = NULL;
    cnn_status s = cnn_tensor_create(&t, cnn_cpu(), CNN_U8, 3, dims);
    return done(s, t, NULL,
                NULL, NULL);
}

static cnn_status i_tensor_create_ndim(int64_t v)
{
    const int64_t dims[CNN_MAX_DIMS] = {1, 1, 1, 1, 1, 1, 1, 1};
    cnn_tensor *t = NULL;
    cnn_status s = cnn_tensor_create(&t, cnn_cpu(), CNN_F32, to_int(v), dims);
    return done(s, t,
                NULL, NULL, NULL);
}

static cnn_status i_tensor_zeros(int64_t v)
{
    const int64_t dims[2] = {v, v};
    cnn_tensor *t = NULL;
    cnn_status s = cnn_tensor_zeros(&t, cnn_cpu(), CNN_I64, 2, dims);
    return done(s, t, NULL,
                NULL, NULL);
}

static cnn_status i_tensor_wrap(int64_t v)
{
    const int64_t dims[2] = {2, v};
    cnn_tensor *t = NULL;
    cnn_status s = cnn_tensor_wrap(&t, cnn_cpu(), CNN_F32, 2, dims, F.pool,
                                8 * sizeof(float));
    return done(s, t, NULL, NULL, NULL);
}

static cnn_status i_tensor_reshape(int64_t v)
{
    cnn_tensor *src = at1(0, 12), *t = NULL;
    const int64_t dims[2] = {v, 12 / (v ? v : 1)};
    cnn_status s = cnn_tensor_reshape(&t, src, 2, dims);
    return done(s, t, src, NULL, NULL);
}

static cnn_status i_tensor_write(int64_t v)
{
    cnn_tensor *t = at1(0, 4);
    return done(cnn_tensor_write(t, F.pool + 64, (size_t)v), t, NULL, NULL,
                NULL);
}

static cnn_status i_tensor_read(int64_t v)
{
    cnn_tensor *t = at1(0, 4);
    return done(cnn_tensor_read(t, F.pool + 64, (size_t)v), t, NULL, NULL,
                NULL);
}

static cnn_status i_tensor_fill_dtype(int64_t v)
{
    /* The value is converted and saturated for integer dtypes. */
    const int64_t dims[1] = {3};
    cnn_tensor *t = NULL;
    cnn_status s = cnn_tensor_create(&t, cnn_cpu(), CNN_I64, 1, dims);
    if (s == CNN_OK)
        s = cnn_tensor_fill(t, (double)v);
    return done(s, t, NULL, NULL, NULL);
}

static cnn_status i_tensor_dim(int64_t v)
{
    cnn_tensor *t = at2(0, 2, 3);
    int64_t d = cnn_tensor_dim(t, to_int(v));
    ck_assert(d == 0 || d == 2 || d == 3);
    return done(CNN_OK, t, NULL, NULL, NULL);
}

static cnn_status i_tensor_set_layout(int64_t v)
{
    cnn_tensor *t = at2(0, 2, 3);
    return done(cnn_tensor_set_layout(t, (cnn_layout)to_int(v)), t, NULL, NULL,
                NULL);
}

static cnn_status i_dtype(int64_t v)
{
    /* Out-of-enum values are named "unknown" and have size 0. */
    cnn_dtype d = (cnn_dtype)to_int(v);
    ck_assert_ptr_nonnull(cnn_dtype_name(d));
    ck_assert(cnn_dtype_size(d) <= 8);
    const int64_t dims[1] = {2};
    cnn_tensor *t = NULL;
    cnn_status s = cnn_tensor_create(&t, cnn_cpu(), d, 1, dims);
    return done(s, t, NULL, NULL,
                NULL);
}

static cnn_status i_status_string(int64_t v)
{
    ck_assert_ptr_nonnull(cnn_status_string((cnn_status)to_int(v)));
    ck_assert_ptr_nonnull(cnn_op_name((cnn_op)to_int(v)));
    ck_assert_ptr_nonnull(cnn_engine_name((cnn_engine)to_int(v)));
    return CNN_OK;
}

static cnn_status i_device_check(int64_t v)
{
    return cnn_device_check(cnn_cpu_n(to_int(v)));
}

static cnn_status i_device_cuda(int64_t v)
{
    /* No GPU counts: CUDA index v must fail cleanly for v out of range,
     * and for every v on a machine without one. */
    return cnn_device_check(cnn_cuda(to_int(v)));
}

static cnn_status i_device_calls(int64_t v)
{
    cnn_device d = {CNN_CPU, to_int(v)};
    cnn_memory_stats stats;
    char name[32];
    ck_assert_ptr_nonnull(cnn_device_name(d));
    ck_assert_int_ge(cnn_device_format(d, name, sizeof name), 0);
    ck_assert_int_ge(cnn_device_count((cnn_device_type)to_int(v)), 0);
    (void)cnn_get_engine(d);
    (void)cnn_get_math(d);
    (void)cnn_get_deterministic(d);
    (void)cnn_get_workspace_limit(d);
    cnn_status s = cnn_device_synchronize(d);
    if (s == CNN_OK)
        s = cnn_device_memory_stats(d, &stats);
    if (s == CNN_OK)
        s = cnn_device_memory_reset_peak(d);
    if (s == CNN_OK)
        s = cnn_device_memory_trim(d);
    return s;
}

static cnn_status i_device_type(int64_t v)
{
    cnn_device d = {(cnn_device_type)to_int(v), 0};
    char name[32];
    ck_assert_ptr_nonnull(cnn_device_name(d));
    ck_assert_int_ge(cnn_device_format(d, name, sizeof name), 0);
    return cnn_device_check(d);
}

static cnn_status i_set_engine(int64_t v)
{
    cnn_engine saved = cnn_get_engine(cnn_cpu());
    cnn_status s = cnn_set_engine(cnn_cpu(), (cnn_engine)to_int(v));
    cnn_set_engine(cnn_cpu(), saved);
    return s;
}

static cnn_status i_set_threads_(int64_t v)
{
    return cnn_set_threads(cnn_cpu(), to_int(v));
}

static cnn_status i_set_math(int64_t v)
{
    cnn_status s = cnn_set_math(cnn_cpu(), (cnn_math)to_int(v));
    cnn_set_math(cnn_cpu(), CNN_MATH_FP32);
    return s;
}

static cnn_status i_set_deterministic(int64_t v)
{
    int saved = cnn_get_deterministic(cnn_cpu());
    cnn_status s = cnn_set_deterministic(cnn_cpu(), to_int(v));
    cnn_set_deterministic(cnn_cpu(), saved);
    return s;
}

static cnn_status i_set_workspace_limit(int64_t v)
{
    size_t saved = cnn_get_workspace_limit(cnn_cpu());
    cnn_status s = cnn_set_workspace_limit(cnn_cpu(), (size_t)v);
    cnn_set_workspace_limit(cnn_cpu(), saved);
    return s;
}

static cnn_status conv_shape(int64_t h, int64_t r, int64_t stride, int64_t pad,
                             int64_t dilation, int64_t groups)
{
    const int64_t x[4] = {1, 2, h, 5}, w[4] = {2, 2 / (groups ? groups : 1),
                                                r, 3};
    cnn_conv2d_params p = cnn_conv2d_params_default();
    p.stride_h = stride;
    p.pad_h = pad;
    p.dilation_h = dilation;
    p.groups = groups;
    int64_t y[4];
    return cnn_conv2d_output_shape(x, w, &p, y);
}

static cnn_status i_conv_input(int64_t v) { return conv_shape(v, 3, 1, 1, 1, 1); }
static cnn_status i_conv_kernel(int64_t v) { return conv_shape(7, v, 1, 0, 1, 1); }
static cnn_status i_conv_stride(int64_t v) { return conv_shape(7, 3, v, 0, 1, 1); }
static cnn_status i_conv_pad(int64_t v) { return conv_shape(INT64_MAX, 3, 1, v, 1, 1); }
static cnn_status i_conv_dilation(int64_t v) { return conv_shape(7, 3, 1, 0, v, 1); }
static cnn_status i_conv_groups(int64_t v) { return conv_shape(7, 3, 1, 0, 1, v); }

static cnn_status i_conv_channels(int64_t v)
{
    const int64_t x[4] = {1, v, 5, 5}, w[4] = {2, INT64_MAX, 3, 3};
    cnn_conv2d_params p = cnn_conv2d_params_default();
    p.groups = 3;
    int64_t y[4];
    return cnn_conv2d_output_shape(x, w, &p, y);
}

static cnn_status pool_shape(int64_t h, int64_t k, int64_t stride, int64_t pad)
{
    const int64_t x[4] = {1, 2, h, 5};
    cnn_pool2d_params p = {CNN_POOL_MAX, k, 1, stride, 1, pad, 0};
    int64_t y[4];
    return cnn_pool2d_output_shape(x, &p, y);
}

static cnn_status i_pool_input(int64_t v) { return pool_shape(v, 3, 1, 1); }
static cnn_status i_pool_kernel(int64_t v) { return pool_shape(INT64_MAX, v, 1, 0); }
static cnn_status i_pool_stride(int64_t v) { return pool_shape(7, 3, v, 0); }
static cnn_status i_pool_pad(int64_t v) { return pool_shape(INT64_MAX, 3, 1, v); }

static cnn_status i_pool_mode(int64_t v)
{
    const int64_t x[4] = {1, 1, 4, 4};
    cnn_pool2d_params p = {(cnn_pool_mode)to_int(v), 2, 2, 2, 2, 0, 0};
    int64_t y[4];
    return cnn_pool2d_output_shape(x, &p, y);
}

static cnn_status i_lrn_size(int64_t v)
{
    cnn_tensor *x = at4(0, 1, 4, 2, 2), *y = at4(100, 1, 4, 2, 2);
    cnn_lrn_params p = {v, 1e-4f, 0.75f, 2.0f, 1};
    return done(cnn_lrn_forward(y, x, &p), x, y, NULL, NULL);
}

static cnn_status i_lrn_groups(int64_t v)
{
    cnn_tensor *x = at4(0, 1, 4, 2, 2), *y = at4(100, 1, 4, 2, 2);
    cnn_lrn_params p = {3, 1e-4f, 0.75f, 2.0f, v};
    return done(cnn_lrn_forward(y, x, &p), x, y, NULL, NULL);
}

static cnn_status i_dropout_node(int64_t v)
{
    cnn_tensor *x = at1(0, 8), *y = at1(100, 8);
    cnn_dropout_params p = {0.5f, 1, (uint64_t)v, (uint32_t)v};
    cnn_status s = cnn_dropout_forward(y, x, &p);
    if (s == CNN_OK)
        s = cnn_dropout_backward(y, x, &p);
    return done(s, x, y, NULL, NULL);
}

static cnn_status i_concat_count(int64_t v)
{
    cnn_tensor *a = at2(0, 2, 3), *out = at2(100, 2, 3);
    const cnn_tensor *parts[1] = {a};
    int count = v > 1 ? 1 : to_int(v); /* the array holds one */
    cnn_status s = cnn_concat(out, parts, count);
    if (s == CNN_OK) {
        cnn_tensor *outs[1] = {a};
        s = cnn_split(outs, count, out);
    }
    return done(s, a, out, NULL, NULL);
}

static cnn_status i_shuffle(int64_t v)
{
    int64_t order[3];
    if (v > 3) /* the caller's buffer holds 3 */
        return cnn_shuffle_order(order, 3, (uint64_t)v, v);
    return cnn_shuffle_order(order, v, (uint64_t)v, v);
}

static cnn_status i_dataset_get(int64_t v)
{
    float image[16];
    int32_t label;
    cnn_status s = cnn_dataset_get(F.ds, v, image, &label);
    if (s == CNN_OK)
        s = cnn_dataset_get_sample(F.ds, v, (uint64_t)v, 0, image, &label);
    return s;
}

static cnn_status i_dataset_epoch(int64_t v)
{
    float image[16];
    return cnn_dataset_get_sample(F.ds, 0, 1, v, image, NULL);
}

static cnn_status i_loader_batch(int64_t v)
{
    cnn_loader *l = NULL;
    for (int drop_last = 0; drop_last < 2; ++drop_last) {
        cnn_loader_params p = {v, (uint64_t)v, 1, drop_last};
        cnn_status s = cnn_loader_create(&l, F.ds, &p);
        if (s != CNN_OK)
            return s;
        ck_assert_int_ge(cnn_loader_batches(l), drop_last ? 1 : 1);
        cnn_loader_free(l);
    }
    return CNN_OK;
}

static cnn_status i_loader_epoch(int64_t v)
{
    cnn_loader *l = NULL;
    cnn_loader_params p = {2, 1, 1, 0};
    ck_assert_ok(cnn_loader_create(&l, F.ds, &p));
    cnn_status s = cnn_loader_start_epoch(l, v, 0);
    if (s == CNN_OK)
        s = cnn_loader_start_epoch(l, 0, v);
    cnn_loader_free(l);
    return s;
}

static cnn_status i_lr_at(int64_t v)
{
    /* Every schedule, with the extreme as the step, the run's length, the
     * warm-up and the step size: a finite rate, no overflow. */
    for (int sched = 0; sched < 3; ++sched) {
        cnn_lr_params lp = {0.1f, (cnn_lr_schedule)sched, v, 0.5f, v, 0};
        for (int k = 0; k < 4; ++k) {
            lp.total_steps = k == 1 ? INT64_MIN : v;
            lp.warmup_steps = k == 2 ? v : k == 3 ? INT64_MAX : 0;
            lp.step_size = k == 3 ? INT64_MIN : v;
            float r1 = cnn_lr_at(&lp, v), r2 = cnn_lr_at(&lp, INT64_MAX);
            ck_assert_msg(isfinite(r1) && isfinite(r2),
                          "cnn_lr_at gave %g, %g", (double)r1, (double)r2);
        }
    }
    return CNN_OK;
}

static cnn_status i_net_input(int64_t v)
{
    cnn_net *net = NULL;
    cnn_node n;
    ck_assert_ok(cnn_net_create(&net, cnn_cpu()));
    cnn_status s = cnn_net_input(net, 1, v, v, &n);
    if (s == CNN_OK)
        s = cnn_net_flatten(net, n, &n);
    if (s == CNN_OK)
        s = cnn_net_setup(net, 1);
    cnn_net_free(net);
    return s;
}

static cnn_status i_net_setup(int64_t v)
{
    cnn_net *net = NULL;
    cnn_node n;
    ck_assert_ok(cnn_net_create(&net, cnn_cpu()));
    ck_assert_ok(cnn_net_input(net, 1, 2, 2, &n));
    ck_assert_ok(cnn_net_flatten(net, n, &n));
    cnn_status s = cnn_net_setup(net, v);
    cnn_net_free(net);
    return s;
}

/* A net being built, on which `v` goes into one layer's argument. */
static cnn_status net_layer(int which, int64_t v)
{
    cnn_net *net = NULL;
    cnn_node n, m;
    cnn_conv2d_params cp = cnn_conv2d_params_default();
    cnn_pool2d_params pp = {CNN_POOL_MAX, 2, 2, 2, 2, 0, 0};
    cnn_lrn_params lp = {5, 1e-4f, 0.75f, 2.0f, 1};
    ck_assert_ok(cnn_net_create(&net, cnn_cpu()));
    ck_assert_ok(cnn_net_input(net, 2, 8, 8, &n));
    cnn_status s = CNN_ERR_INTERNAL;
    switch (which) {
    case 0:
        s = cnn_net_conv2d(net, n, "c", v, 3, 3, &cp, 1, 0, &n);
        break;
    case 1:
        s = cnn_net_conv2d(net, n, "c", 2, v, 1, &cp, 0, 0, &n);
        break;
    case 2:
        cp.pad_h = v;
        s = cnn_net_conv2d(net, n, "c", 2, 3, 3, &cp, 0, 0, &n);
        break;
    case 3:
        pp.stride_h = v;
        s = cnn_net_pool2d(net, n, &pp, &n);
        break;
    case 4:
        lp.size = v;
        s = cnn_net_lrn(net, n, &lp, &n);
        break;
    case 5:
        s = cnn_net_flatten(net, n, &n);
        if (s == CNN_OK)
            s = cnn_net_linear(net, n, "fc", v, 1, 0, &n);
        break;
    case 6: /* a node id */
        s = cnn_net_relu(net, to_int(v), &m);
        if (s == CNN_OK)
            s = cnn_net_add(net, to_int(v), m, &n);
        break;
    case 7:
        s = cnn_net_conv2d(net, n, "c", 4, 1, 1, &cp, 0,
                           (cnn_init)to_int(v), &n);
        break;
    }
    if (s == CNN_OK)
        s = cnn_net_setup(net, 2);
    if (s == CNN_OK)
        s = cnn_net_init(net, (uint64_t)v);
    cnn_net_free(net);
    return s;
}

static cnn_status i_net_conv_channels(int64_t v) { return net_layer(0, v); }
static cnn_status i_net_conv_kernel(int64_t v) { return net_layer(1, v); }
static cnn_status i_net_conv_pad(int64_t v) { return net_layer(2, v); }
static cnn_status i_net_pool_stride(int64_t v) { return net_layer(3, v); }
static cnn_status i_net_lrn_size(int64_t v) { return net_layer(4, v); }
static cnn_status i_net_linear(int64_t v) { return net_layer(5, v); }
static cnn_status i_net_node(int64_t v) { return net_layer(6, v); }
static cnn_status i_net_init_kind(int64_t v) { return net_layer(7, v); }

static cnn_status i_net_concat(int64_t v)
{
    cnn_net *net = NULL;
    cnn_node n, a, b;
    ck_assert_ok(cnn_net_create(&net, cnn_cpu()));
    ck_assert_ok(cnn_net_input(net, 2, 4, 4, &n));
    ck_assert_ok(cnn_net_relu(net, n, &a));
    ck_assert_ok(cnn_net_relu(net, n, &b));
    const cnn_node in[2] = {a, b};
    cnn_status s = cnn_net_concat(net, in, v > 2 ? 2 : to_int(v), &n);
    cnn_net_free(net);
    return s;
}

static cnn_status i_net_set(int64_t v)
{
    cnn_net *net = NULL;
    cnn_node n;
    cnn_conv2d_params cp = cnn_conv2d_params_default();
    ck_assert_ok(cnn_net_create(&net, cnn_cpu()));
    ck_assert_ok(cnn_net_input(net, 2, 4, 4, &n));
    ck_assert_ok(cnn_net_conv2d(net, n, "c", 2, 1, 1, &cp, 0, 0, &n));
    cnn_status s = cnn_net_set_engine(net, n, (cnn_engine)to_int(v));
    if (s == CNN_OK)
        s = cnn_net_set_device(net, n, cnn_cpu_n(to_int(v) - 1));
    if (s == CNN_OK)
        s = cnn_net_set_shard(net, n, 0, to_int(v));
    cnn_net_free(net);
    return s;
}

static cnn_status i_net_queries(int64_t v)
{
    const char *name;
    cnn_tensor *value, *grad;
    int ndim;
    int64_t dims[4];
    cnn_status s = cnn_net_param(F.net, to_int(v), &name, &value, &grad);
    if (s == CNN_OK)
        s = cnn_net_node_shape(F.net, to_int(v), &ndim, dims);
    if (s == CNN_OK && v < cnn_net_buffer_count(F.net))
        s = cnn_net_buffer(F.net, to_int(v), &name, &value);
    ck_assert_int_ge(cnn_net_param_elements(F.net), 1);
    ck_assert_int_ge(cnn_net_node_count(F.net), 1);
    return s;
}

static cnn_status i_net_forward_step(int64_t v)
{
    cnn_tensor *x = at4(0, 2, 1, 8, 8);
    int32_t labels_host[2] = {0, to_int(v)};
    const int64_t two = 2;
    cnn_tensor *labels = NULL;
    ck_assert_ok(cnn_tensor_wrap(&labels, cnn_cpu(), CNN_I32, 1, &two,
                                 labels_host, sizeof labels_host));
    float loss = 0.0f;
    cnn_status s = cnn_net_forward(F.net, x, 1, (uint64_t)v);
    if (s == CNN_OK) /* a label out of [0, 3) */
        s = cnn_net_loss(F.net, labels, &loss);
    if (s == CNN_OK)
        s = cnn_net_zero_grad(F.net);
    if (s == CNN_OK)
        s = cnn_net_backward(F.net);
    return done(s, x, labels, NULL, NULL);
}

static cnn_status i_model_classes(int64_t v)
{
    cnn_net *net = NULL;
    cnn_status s = cnn_model_small(&net, v, cnn_cpu());
    cnn_net_free(net);
    net = NULL;
    if (s == CNN_OK) /* only the builders: no setup of the big ones */
        s = cnn_model_alexnet(&net, CNN_ALEXNET_ONE_TOWER, v, cnn_cpu());
    cnn_net_free(net);
    net = NULL;
    if (s == CNN_OK)
        s = cnn_model_alexnet_towers(&net, v, cnn_cpu(), cnn_cpu());
    cnn_net_free(net);
    net = NULL;
    if (s == CNN_OK)
        s = cnn_model_by_name(&net, "resnet18", v, cnn_cpu());
    cnn_net_free(net);
    return s;
}

static cnn_status i_model_variant(int64_t v)
{
    cnn_net *net = NULL;
    cnn_status s = cnn_model_alexnet(&net, (cnn_alexnet_variant)to_int(v), 10,
                                     cnn_cpu());
    cnn_net_free(net);
    return s;
}

static cnn_status i_resnet_depth(int64_t v)
{
    cnn_net *net = NULL;
    cnn_status s = cnn_model_resnet(&net, to_int(v), 10, 3, 32, 32,
                                    cnn_cpu());
    cnn_net_free(net);
    return s;
}

static cnn_status i_resnet_size(int64_t v)
{
    /* The image size: the builder's shape arithmetic must not overflow
     * (height INT64_MAX plus a conv's padding). */
    cnn_net *net = NULL;
    cnn_status s = cnn_model_resnet(&net, 18, 10, 3, v, 32, cnn_cpu());
    if (s == CNN_OK)
        s = cnn_net_setup(net, 1);
    cnn_net_free(net);
    return s;
}

static cnn_status i_checkpoint_index(int64_t v)
{
    cnn_checkpoint *ck = NULL;
    ck_assert_ok(cnn_checkpoint_open(&ck, F.ckpt));
    const char *name = cnn_checkpoint_tensor_name(ck, to_int(v));
    cnn_status s = name ? CNN_OK : CNN_ERR_INVALID_ARGUMENT;
    if (!name) /* a message, as the other failures have */
        cnn_checkpoint_tensor_info(ck, "", NULL, NULL, NULL);
    ck_assert_int_ge(cnn_checkpoint_meta_count(ck), 0);
    ck_assert_int_ge(cnn_checkpoint_tensor_count(ck), 1);
    ck_assert_uint_eq(cnn_checkpoint_version(ck), CNN_CHECKPOINT_VERSION);
    ck_assert_ptr_null(cnn_checkpoint_meta(ck, "absent"));
    cnn_checkpoint_close(ck);
    return s;
}

static cnn_status i_checkpoint_counts(int64_t v)
{
    const char *keys[1] = {"k"}, *values[1] = {"v"}, *names[1] = {"t"};
    cnn_tensor *t = at1(0, 2);
    const cnn_tensor *tensors[1] = {t};
    char path[160];
    snprintf(path, sizeof path, "%s/counts.ckpt", F.dir);
    int n = to_int(v) > 1 ? 1 : to_int(v); /* the arrays hold one */
    cnn_status s = cnn_checkpoint_save(path, keys, values, n, names, tensors,
                                       n < 0 ? n : 1);
    return done(s, t, NULL, NULL, NULL);
}

static cnn_status i_sgd_create(int64_t v)
{
    cnn_sgd *opt = NULL;
    cnn_status s = cnn_sgd_create(&opt, F.net, 0.9f, 0.0f, to_int(v));
    if (s == CNN_OK)
        s = cnn_sgd_apply(opt, 0.01f);
    cnn_sgd_free(opt);
    return s;
}

/* "call": the name its messages start with; lo..hi: the values that work.
 * Range [1, 0] means no value does (every extreme fails). */
static const int_case int_cases[] = {
    {"cnn_tensor_create", i_tensor_create, 1, 3, NULL},
    {"cnn_tensor_create", i_tensor_create_ndim, 1, CNN_MAX_DIMS, NULL},
    {"cnn_tensor_create", i_tensor_zeros, 1, 3, NULL},
    {"cnn_tensor_wrap", i_tensor_wrap, 4, 4, NULL},
    {"cnn_tensor_reshape", i_tensor_reshape, 1, 3, NULL},
    {"cnn_tensor_write", i_tensor_write, 16, 16, NULL},
    {"cnn_tensor_read", i_tensor_read, 16, 16, NULL},
    {"cnn_tensor_fill", i_tensor_fill_dtype, INT64_MIN, INT64_MAX, NULL},
    {"cnn_tensor_dim", i_tensor_dim, INT64_MIN, INT64_MAX, NULL},
    {"cnn_tensor_set_layout", i_tensor_set_layout, 0, 0, NULL},
    {"cnn_tensor_create", i_dtype, 0, 3, NULL}, /* the dtypes ops support */
    {"cnn_status_string", i_status_string, INT64_MIN, INT64_MAX, NULL},
    {"cnn_device_check", i_device_check, 0, 0, NULL},
    {"cnn_device_check", i_device_cuda, 0, 0, cuda_index},
    {"cnn_device_synchronize", i_device_calls, 0, 0, NULL},
    {"cnn_device_check", i_device_type, 0, 0, device_type},
    {"cnn_set_engine", i_set_engine, 0, 0, not_vendor},
    {"cnn_set_threads", i_set_threads_, 1, 1024, NULL},
    {"cnn_set_math", i_set_math, 0, 1, NULL},
    {"cnn_set_deterministic", i_set_deterministic, INT64_MIN, INT64_MAX, NULL},
    {"cnn_set_workspace_limit", i_set_workspace_limit, 0, 0, nonzero},
    {"cnn_conv2d_output_shape", i_conv_input, 1, INT64_MAX - 2, NULL},
    {"cnn_conv2d_output_shape", i_conv_kernel, 1, 7, NULL},
    {"cnn_conv2d_output_shape", i_conv_stride, 1, INT32_MAX, NULL},
    {"cnn_conv2d_output_shape", i_conv_pad, 0, 0, NULL},
    {"cnn_conv2d_output_shape", i_conv_dilation, 1, 3, NULL},
    {"cnn_conv2d_output_shape", i_conv_groups, 1, 2, NULL},
    {"cnn_conv2d_output_shape", i_conv_channels, 1, 0, NULL},
    {"cnn_pool2d_output_shape", i_pool_input, 1, INT64_MAX - 2, NULL},
    {"cnn_pool2d_output_shape", i_pool_kernel, 1, INT64_MAX, NULL},
    {"cnn_pool2d_output_shape", i_pool_stride, 1, INT64_MAX, NULL},
    {"cnn_pool2d_output_shape", i_pool_pad, 0, 0, NULL},
    {"cnn_pool2d_output_shape", i_pool_mode, 0, 1, NULL},
    {"cnn_lrn_forward", i_lrn_size, 1, INT64_MAX, NULL},
    {"cnn_lrn_forward", i_lrn_groups, 1, 2, NULL},
    {"cnn_dropout_forward", i_dropout_node, 0, 0, node_ok},
    {"cnn_concat", i_concat_count, 0, 0, positive},
    {"cnn_shuffle_order", i_shuffle, 0, INT64_MAX, NULL},
    {"cnn_dataset_get", i_dataset_get, 0, 3, NULL},
    {"cnn_dataset_get_sample", i_dataset_epoch, 0, INT64_MAX, NULL},
    {"cnn_loader_create", i_loader_batch, 1, 3, NULL},
    {"cnn_loader_start_epoch", i_loader_epoch, 0, 3, NULL},
    {"cnn_lr_at", i_lr_at, INT64_MIN, INT64_MAX, NULL},
    {"cnn_net_input", i_net_input, 1, 3, NULL},
    {"cnn_net_setup", i_net_setup, 1, 3, NULL},
    {"cnn_net_conv2d", i_net_conv_channels, 1, 3, NULL},
    {"cnn_net_conv2d", i_net_conv_kernel, 1, 3, NULL},
    {"cnn_net_conv2d", i_net_conv_pad, 0, 3, NULL},
    {"cnn_net_pool2d", i_net_pool_stride, 1, INT64_MAX, NULL},
    {"cnn_net_lrn", i_net_lrn_size, 1, INT64_MAX, NULL},
    {"cnn_net_linear", i_net_linear, 1, 3, NULL},
    {"cnn_net_relu", i_net_node, 0, 0, NULL},
    {"cnn_net_conv2d", i_net_init_kind, 0, 1, NULL},
    {"cnn_net_concat", i_net_concat, 0, 0, positive},
    {"cnn_net_set_engine", i_net_set, 1, 1, NULL},
    {"cnn_net_param", i_net_queries, 0, 3, NULL},
    {"cnn_net_loss", i_net_forward_step, 0, 2, NULL},
    {"cnn_model_small", i_model_classes, 0, 0, positive},
    {"cnn_model_alexnet", i_model_variant, 0, 1, NULL},
    {"cnn_model_resnet", i_resnet_depth, 1, 0, NULL}, /* checked below */
    {"cnn_model_resnet", i_resnet_size, 32, 3, NULL},  /* setup: see below */
    {"cnn_checkpoint_tensor_info", i_checkpoint_index, 0, 3, NULL},
    {"cnn_checkpoint_save", i_checkpoint_counts, 0, INT64_MAX, NULL},
    {"cnn_sgd_create", i_sgd_create, INT64_MIN, INT64_MAX, NULL},
};
#define INT_CASES ((int)(sizeof int_cases / sizeof int_cases[0]))

/* Whether a status is one of the enum's error values other than INTERNAL
 * (a bug report). */
static bool clean_failure(cnn_status s)
{
    return s > CNN_OK && s < CNN_ERR_INTERNAL;
}

/* A clean failure of `call`: a proper status and a message naming it. */
static void check_failure(const char *call, const char *what, cnn_status s)
{
    ck_assert_msg(clean_failure(s), "%s (%s): status %d (%s): %s", call,
                  what, (int)s, cnn_status_string(s), cnn_last_error());
    const char *msg = cnn_last_error();
    ck_assert_msg(msg[0] != '\0', "%s (%s) failed with no message", call,
                  what);
    ck_assert_msg(strstr(msg, "cnn_") == msg,
                  "%s (%s): the message does not start with the call's "
                  "name: '%s'", call, what, msg);
}

START_TEST(integer_extremes)
{
    const int_case *c = &int_cases[_i];
    for (int k = 0; k < INT_COUNT; ++k) {
        int64_t v = ints[k];
        char what[64];
        snprintf(what, sizeof what, "case %d, value %lld", _i, (long long)v);
        cnn_clear_error();
        cnn_status s = c->run(v);
        bool works = c->works ? c->works(v) : v >= c->lo && v <= c->hi;
        if (c->run == i_resnet_depth)
            ck_assert_msg(clean_failure(s), "resnet depth %lld: %s",
                          (long long)v, cnn_status_string(s));
        else if (c->run == i_resnet_size) /* 32 works; larger ones may run
                                             out of memory cleanly */
            ck_assert_msg(v == 32 ? s == CNN_OK
                                  : v < 32 ? clean_failure(s)
                                           : s == CNN_OK || clean_failure(s),
                          "resnet height %lld: %s", (long long)v,
                          cnn_last_error());
        else if (works)
            ck_assert_msg(s == CNN_OK, "%s (%s) should work: %s", c->call,
                          what, cnn_last_error());
        else
            ck_assert_msg(s != CNN_OK, "%s (%s) accepted an extreme",
                          c->call, what);
        if (s != CNN_OK)
            check_failure(c->call, what, s);
    }
}
END_TEST

/* ---- real extremes ---- */

static const double reals[] = {0.0, -0.0, -1.0, 0.5, 1.0, 2.0, 1e30, -1e30,
                               NAN, INFINITY, -INFINITY, DBL_MAX, FLT_MIN};
#define REAL_COUNT ((int)(sizeof reals / sizeof reals[0]))

typedef cnn_status (*real_fn)(double v);

typedef struct real_case {
    const char *call;
    real_fn run;
    double lo, hi;      /* the finite values that must work, [lo, hi] ... */
    bool lo_open;       /* ... or (lo, hi] */
    bool any_finite;    /* or: anything finite, and NaN/inf fail cleanly */
} real_case;

static cnn_status r_fill(double v)
{
    cnn_tensor *t = at1(0, 4);
    const int64_t one = 1;
    cnn_tensor *u = NULL;
    cnn_status s = cnn_tensor_fill(t, v);
    if (s == CNN_OK) /* and saturated into an integer dtype */
        s = cnn_tensor_create(&u, cnn_cpu(), CNN_U8, 1, &one);
    if (s == CNN_OK)
        s = cnn_tensor_fill(u, v);
    return done(s, t, u, NULL, NULL);
}

static cnn_status r_uniform(double v)
{
    cnn_tensor *t = at1(0, 4);
    return done(cnn_tensor_uniform(t, 1, (float)v, 3.0f), t, NULL, NULL, NULL);
}

static cnn_status r_normal(double v)
{
    cnn_tensor *t = at1(0, 4);
    return done(cnn_tensor_normal(t, 1, 0.0f, (float)v), t, NULL, NULL, NULL);
}

static cnn_status r_scale(double v)
{
    cnn_tensor *x = at1(0, 4), *y = at1(100, 4);
    return done(cnn_scale(y, x, (float)v), x, y, NULL, NULL);
}

static cnn_status r_dropout(double v)
{
    cnn_tensor *x = at1(0, 4), *y = at1(100, 4);
    cnn_dropout_params p = {(float)v, 1, 0, 0};
    return done(cnn_dropout_forward(y, x, &p), x, y, NULL, NULL);
}

static cnn_status bn(int which, double v)
{
    cnn_tensor *x = at4(0, 2, 2, 2, 2), *y = at4(100, 2, 2, 2, 2);
    cnn_tensor *g = at1(200, 2), *b = at1(210, 2), *rm = at1(220, 2),
               *rv = at1(230, 2), *sm = at1(240, 2), *si = at1(250, 2);
    cnn_batchnorm2d_params p = {1, which == 0 ? (float)v : 0.1f,
                                which == 1 ? (float)v : 1e-5f};
    cnn_status s = cnn_batchnorm2d_forward(y, x, g, b, rm, rv, sm, si, &p);
    done(CNN_OK, g, b, rm, rv);
    return done(s, x, y, sm, si);
}

static cnn_status r_bn_momentum(double v) { return bn(0, v); }
static cnn_status r_bn_eps(double v) { return bn(1, v); }

static cnn_status r_lrn_alpha(double v)
{
    cnn_tensor *x = at4(0, 1, 4, 2, 2), *y = at4(100, 1, 4, 2, 2);
    cnn_lrn_params p = {3, (float)v, 0.75f, 2.0f, 1};
    return done(cnn_lrn_forward(y, x, &p), x, y, NULL, NULL);
}

static cnn_status r_sgd_lr(double v)
{
    cnn_tensor *w = at1(0, 4), *g = at1(100, 4), *m = at1(200, 4);
    cnn_sgd_params p = {(float)v, 0.9f, 0.0f, 0};
    return done(cnn_sgd_step(w, g, m, &p), w, g, m, NULL);
}

static cnn_status r_sgd_momentum(double v)
{
    cnn_tensor *w = at1(0, 4), *g = at1(100, 4), *m = at1(200, 4);
    cnn_sgd_params p = {0.1f, (float)v, 0.0f, 0};
    return done(cnn_sgd_step(w, g, m, &p), w, g, m, NULL);
}

static cnn_status r_sgd_apply(double v)
{
    cnn_sgd *opt = NULL;
    ck_assert_ok(cnn_sgd_create(&opt, F.net, 0.0f, 0.0f, 0));
    cnn_status s = cnn_sgd_apply(opt, (float)v);
    cnn_sgd_free(opt);
    return s;
}

static cnn_status r_sgd_create(double v)
{
    cnn_sgd *opt = NULL;
    cnn_status s = cnn_sgd_create(&opt, F.net, (float)v, (float)v, 0);
    cnn_sgd_free(opt);
    return s;
}

static cnn_status r_dataset_norm(double v)
{
    cnn_dataset *ds = NULL;
    cnn_status s = cnn_dataset_open_idx(&ds, F.images, F.labels, (float)v,
                                        (float)v);
    cnn_dataset_free(ds);
    return s;
}

static cnn_status r_net_layers(double v)
{
    cnn_net *net = NULL;
    cnn_node n;
    ck_assert_ok(cnn_net_create(&net, cnn_cpu()));
    ck_assert_ok(cnn_net_input(net, 2, 4, 4, &n));
    cnn_status s = cnn_net_dropout(net, n, (float)v, &n);
    if (s == CNN_OK)
        s = cnn_net_batchnorm2d(net, n, "bn", (float)v, (float)v, &n);
    cnn_net_free(net);
    return s;
}

static cnn_status r_lr_at(double v)
{
    cnn_lr_params lp = {(float)v, CNN_LR_COSINE, 1, (float)v, 10, 2};
    for (int64_t step = -1; step < 12; ++step)
        (void)cnn_lr_at(&lp, step); /* any value; no trap */
    return CNN_OK;
}

static const real_case real_cases[] = {
    {"cnn_tensor_fill", r_fill, 0, 0, false, true},
    {"cnn_tensor_uniform", r_uniform, -FLT_MAX, 2.0, false, false},
    {"cnn_tensor_normal", r_normal, 0.0, FLT_MAX, false, false},
    {"cnn_scale", r_scale, 0, 0, false, true}, /* alpha: any, NaN too */
    {"cnn_dropout_forward", r_dropout, 0.0, 0.5, false, false},
    {"cnn_batchnorm2d_forward", r_bn_momentum, 0.0, 1.0, false, false},
    {"cnn_batchnorm2d_forward", r_bn_eps, 0.0, FLT_MAX, true, false},
    {"cnn_lrn_forward", r_lrn_alpha, 0, 0, false, true},
    {"cnn_sgd_step", r_sgd_lr, 0.0, FLT_MAX, true, false},
    {"cnn_sgd_step", r_sgd_momentum, 0.0, FLT_MAX, false, false},
    {"cnn_sgd_apply", r_sgd_apply, 0.0, FLT_MAX, true, false},
    {"cnn_sgd_create", r_sgd_create, 0.0, FLT_MAX, false, false},
    {"cnn_dataset_open_idx", r_dataset_norm, 0.0, FLT_MAX, true, false},
    {"cnn_net_dropout", r_net_layers, 0.0, 0.5, false, false},
    {"cnn_lr_at", r_lr_at, -INFINITY, INFINITY, false, false},
};
#define REAL_CASES ((int)(sizeof real_cases / sizeof real_cases[0]))

START_TEST(real_extremes)
{
    const real_case *c = &real_cases[_i];
    for (int k = 0; k < REAL_COUNT; ++k) {
        double v = reals[k];
        float f = (float)v; /* what the calls taking a float receive */
        char what[64];
        snprintf(what, sizeof what, "case %d, value %g", _i, v);
        cnn_clear_error();
        cnn_status s = c->run(v);
        bool finite = isfinite(f);
        bool ok = c->run == r_lr_at
                      ? true
                  : c->any_finite
                      ? finite
                      : finite && f <= c->hi &&
                            (c->lo_open ? f > c->lo : f >= c->lo);
        if (c->run == r_fill || c->run == r_scale) /* any value: NaN fills
                                                      (multiplies) NaN */
            ok = true;
        if (c->run == r_net_layers) /* dropout p and batch norm eps */
            ok = finite && f >= 0.0f && f < 1.0f && f > 0.0f;
        if (ok)
            ck_assert_msg(s == CNN_OK, "%s (%s) should work: %s", c->call,
                          what, cnn_last_error());
        else
            ck_assert_msg(s != CNN_OK, "%s (%s) accepted an extreme",
                          c->call, what);
        if (s != CNN_OK)
            check_failure(c->call, what, s);
    }
}
END_TEST

/* ---- outputs overlapping inputs ---- */

/* Runs the op with its output `out` overlapping input `in` of the same
 * shape: out is in itself (mode 0) or starts one element into it (mode
 * 1). */
typedef cnn_status (*alias_fn)(int mode);

typedef struct alias_case {
    const char *call;
    alias_fn run;
    bool in_place_ok; /* the header documents out = in as allowed */
} alias_case;

static int64_t shift(int mode) { return mode ? 1 : 0; }

static cnn_status a_add(int mode)
{
    cnn_tensor *a = at1(0, 6), *b = at1(100, 6), *out = at1(shift(mode), 6);
    return done(cnn_add(out, a, b), a, b, out, NULL);
}

static cnn_status a_add_b(int mode)
{
    cnn_tensor *a = at1(0, 6), *b = at1(100, 6), *out = at1(100 + shift(mode), 6);
    return done(cnn_add(out, a, b), a, b, out, NULL);
}

static cnn_status a_scale(int mode)
{
    cnn_tensor *x = at1(0, 6), *out = at1(shift(mode), 6);
    return done(cnn_scale(out, x, 2.0f), x, out, NULL, NULL);
}

static cnn_status a_relu(int mode)
{
    cnn_tensor *x = at1(0, 6), *y = at1(shift(mode), 6);
    return done(cnn_relu_forward(y, x), x, y, NULL, NULL);
}

static cnn_status a_relu_bwd(int mode)
{
    cnn_tensor *dy = at1(0, 6), *y = at1(100, 6), *dx = at1(shift(mode), 6);
    return done(cnn_relu_backward(dx, dy, y), dy, y, dx, NULL);
}

static cnn_status a_relu_bwd_y(int mode)
{
    cnn_tensor *dy = at1(0, 6), *y = at1(100, 6), *dx = at1(100 + shift(mode), 6);
    return done(cnn_relu_backward(dx, dy, y), dy, y, dx, NULL);
}

static cnn_status a_dropout(int mode)
{
    cnn_tensor *x = at1(0, 6), *y = at1(shift(mode), 6);
    cnn_dropout_params p = {0.5f, 1, 0, 0};
    cnn_status s = cnn_dropout_forward(y, x, &p);
    if (s == CNN_OK)
        s = cnn_dropout_backward(y, x, &p);
    return done(s, x, y, NULL, NULL);
}

static cnn_status a_linear_x(int mode)
{
    cnn_tensor *x = at2(0, 3, 3), *w = at2(100, 3, 3),
               *y = at2(shift(mode), 3, 3);
    return done(cnn_linear_forward(y, x, w, NULL), x, w, y, NULL);
}

static cnn_status a_linear_w(int mode)
{
    cnn_tensor *x = at2(0, 3, 3), *w = at2(100, 3, 3),
               *y = at2(100 + shift(mode), 3, 3);
    return done(cnn_linear_forward(y, x, w, NULL), x, w, y, NULL);
}

static cnn_status a_linear_b(int mode)
{
    cnn_tensor *x = at2(0, 3, 3), *w = at2(100, 3, 3), *b = at1(200, 3),
               *y = at2(200 - 8 + shift(mode), 3, 3);
    return done(cnn_linear_forward(y, x, w, b), x, w, b, y);
}

static cnn_status a_linear_bwd(int mode)
{
    cnn_tensor *dy = at2(0, 3, 3), *x = at2(100, 3, 3), *w = at2(200, 3, 3),
               *dx = at2(shift(mode), 3, 3);
    return done(cnn_linear_backward(dx, NULL, NULL, dy, x, w), dy, x, w, dx);
}

static cnn_status a_linear_bwd_w(int mode)
{
    cnn_tensor *dy = at2(0, 3, 3), *x = at2(100, 3, 3), *w = at2(200, 3, 3),
               *dw = at2(100 + shift(mode), 3, 3);
    return done(cnn_linear_backward(NULL, dw, NULL, dy, x, w), dy, x, w, dw);
}

static cnn_status a_conv(int mode)
{
    cnn_conv2d_params p = cnn_conv2d_params_default();
    p.pad_h = p.pad_w = 1;
    cnn_tensor *x = at4(0, 1, 2, 3, 3), *w = at4(100, 2, 2, 3, 3),
               *y = at4(shift(mode), 1, 2, 3, 3);
    return done(cnn_conv2d_forward(y, x, w, NULL, &p), x, w, y, NULL);
}

static cnn_status a_conv_w(int mode)
{
    cnn_conv2d_params p = cnn_conv2d_params_default();
    cnn_tensor *x = at4(0, 1, 2, 3, 3), *w = at4(100, 2, 2, 1, 1),
               *y = at4(100 + shift(mode), 1, 2, 3, 3);
    return done(cnn_conv2d_forward(y, x, w, NULL, &p), x, w, y, NULL);
}

static cnn_status a_conv_bwd(int mode)
{
    cnn_conv2d_params p = cnn_conv2d_params_default();
    p.pad_h = p.pad_w = 1;
    cnn_tensor *dy = at4(0, 1, 2, 3, 3), *x = at4(100, 1, 2, 3, 3),
               *w = at4(200, 2, 2, 3, 3), *dx = at4(shift(mode), 1, 2, 3, 3);
    return done(cnn_conv2d_backward(dx, NULL, NULL, dy, x, w, &p), dy, x, w,
                dx);
}

static cnn_status a_conv_bwd_db(int mode)
{
    cnn_conv2d_params p = cnn_conv2d_params_default();
    cnn_tensor *dy = at4(0, 1, 2, 3, 3), *x = at4(100, 1, 2, 3, 3),
               *db = at1(shift(mode), 2);
    return done(cnn_conv2d_backward(NULL, NULL, db, dy, x, NULL, &p), dy, x,
                db, NULL);
}

static cnn_status a_pool(int mode)
{
    cnn_pool2d_params p = {CNN_POOL_MAX, 1, 1, 1, 1, 0, 0};
    cnn_tensor *x = at4(0, 1, 2, 3, 3), *y = at4(shift(mode), 1, 2, 3, 3);
    return done(cnn_pool2d_forward(y, x, &p), x, y, NULL, NULL);
}

static cnn_status a_pool_bwd(int mode)
{
    cnn_pool2d_params p = {CNN_POOL_AVG, 1, 1, 1, 1, 0, 0};
    cnn_tensor *dy = at4(0, 1, 2, 3, 3), *dx = at4(shift(mode), 1, 2, 3, 3);
    return done(cnn_pool2d_backward(dx, dy, NULL, NULL, &p), dy, dx, NULL,
                NULL);
}

static cnn_status a_gap(int mode)
{
    cnn_tensor *x = at4(0, 1, 2, 1, 1), *y = at4(shift(mode), 1, 2, 1, 1);
    cnn_status s = cnn_global_avgpool_forward(y, x);
    if (s == CNN_OK)
        s = cnn_global_avgpool_backward(y, x);
    return done(s, x, y, NULL, NULL);
}

static cnn_status a_lrn(int mode)
{
    cnn_lrn_params p = {3, 1e-4f, 0.75f, 2.0f, 1};
    cnn_tensor *x = at4(0, 1, 4, 2, 2), *y = at4(shift(mode), 1, 4, 2, 2);
    return done(cnn_lrn_forward(y, x, &p), x, y, NULL, NULL);
}

static cnn_status a_lrn_bwd(int mode)
{
    cnn_lrn_params p = {3, 1e-4f, 0.75f, 2.0f, 1};
    cnn_tensor *x = at4(0, 1, 4, 2, 2), *dy = at4(100, 1, 4, 2, 2),
               *dx = at4(100 + shift(mode), 1, 4, 2, 2);
    return done(cnn_lrn_backward(dx, dy, x, NULL, &p), x, dy, dx, NULL);
}

static cnn_status a_bn_stats(int mode)
{
    /* running_mean overlapping save_mean: two outputs. */
    cnn_tensor *x = at4(0, 2, 2, 2, 2), *y = at4(100, 2, 2, 2, 2);
    cnn_tensor *g = at1(200, 2), *b = at1(210, 2), *rm = at1(220, 2),
               *rv = at1(230, 2), *sm = at1(220 + shift(mode), 2),
               *si = at1(250, 2);
    cnn_batchnorm2d_params p = {1, 0.1f, 1e-5f};
    cnn_status s = cnn_batchnorm2d_forward(y, x, g, b, rm, rv, sm, si, &p);
    done(CNN_OK, g, b, rm, rv);
    return done(s, x, y, sm, si);
}

static cnn_status a_bn_y(int mode)
{
    cnn_tensor *x = at4(0, 2, 2, 2, 2), *y = at4(shift(mode), 2, 2, 2, 2);
    cnn_tensor *g = at1(200, 2), *b = at1(210, 2), *rm = at1(220, 2),
               *rv = at1(230, 2), *sm = at1(240, 2), *si = at1(250, 2);
    cnn_batchnorm2d_params p = {1, 0.1f, 1e-5f};
    cnn_status s = cnn_batchnorm2d_forward(y, x, g, b, rm, rv, sm, si, &p);
    done(CNN_OK, g, b, rm, rv);
    return done(s, x, y, sm, si);
}

static cnn_status a_bn_bwd(int mode)
{
    cnn_tensor *x = at4(0, 2, 2, 2, 2), *dy = at4(100, 2, 2, 2, 2);
    cnn_tensor *g = at1(200, 2), *sm = at1(240, 2), *si = at1(250, 2),
               *dg = at1(200 + shift(mode), 2);
    cnn_batchnorm2d_params p = {1, 0.1f, 1e-5f};
    cnn_status s = cnn_batchnorm2d_backward(NULL, dg, NULL, dy, x, g, sm, si,
                                            &p);
    done(CNN_OK, g, sm, si, NULL);
    return done(s, x, dy, dg, NULL);
}

static cnn_status a_xent(int mode)
{
    cnn_tensor *logits = at2(0, 2, 3), *dl = at2(shift(mode), 2, 3),
               *loss = at1(100, 1);
    int32_t lab[2] = {0, 2};
    const int64_t two = 2;
    cnn_tensor *labels = NULL;
    ck_assert_ok(cnn_tensor_wrap(&labels, cnn_cpu(), CNN_I32, 1, &two, lab,
                                 sizeof lab));
    return done(cnn_softmax_cross_entropy(loss, dl, logits, labels), logits,
                dl, loss, labels);
}

static cnn_status a_xent_loss(int mode)
{
    cnn_tensor *logits = at2(0, 2, 3), *loss = at1(5 + shift(mode) - 1, 1);
    int32_t lab[2] = {0, 2};
    const int64_t two = 2;
    cnn_tensor *labels = NULL;
    ck_assert_ok(cnn_tensor_wrap(&labels, cnn_cpu(), CNN_I32, 1, &two, lab,
                                 sizeof lab));
    return done(cnn_softmax_cross_entropy(loss, NULL, logits, labels), logits,
                loss, labels, NULL);
}

static cnn_status a_sgd(int mode)
{
    cnn_tensor *w = at1(0, 4), *g = at1(shift(mode), 4), *m = at1(100, 4);
    cnn_sgd_params p = {0.1f, 0.9f, 0.0f, 0};
    return done(cnn_sgd_step(w, g, m, &p), w, g, m, NULL);
}

static cnn_status a_sgd_buf(int mode)
{
    cnn_tensor *w = at1(0, 4), *g = at1(100, 4), *m = at1(shift(mode), 4);
    cnn_sgd_params p = {0.1f, 0.9f, 0.0f, 0};
    return done(cnn_sgd_step(w, g, m, &p), w, g, m, NULL);
}

static cnn_status a_concat(int mode)
{
    cnn_tensor *a = at2(0, 2, 3), *out = at2(shift(mode), 2, 3);
    const cnn_tensor *parts[1] = {a};
    return done(cnn_concat(out, parts, 1), a, out, NULL, NULL);
}

static cnn_status a_split(int mode)
{
    cnn_tensor *in = at2(0, 2, 4), *a = at2(100, 2, 2),
               *b = at2(100 + 3 * shift(mode) + 4 * !mode, 2, 2);
    if (!mode) { /* mode 0: an output that is the input itself */
        cnn_tensor_free(a);
        a = at2(0, 2, 2);
    }
    cnn_tensor *outs[2] = {a, b};
    return done(cnn_split(outs, 2, in), in, a, b, NULL);
}

static cnn_status a_copy(int mode)
{
    cnn_tensor *src = at1(0, 6), *dst = at1(shift(mode), 6);
    return done(cnn_tensor_copy(dst, src), src, dst, NULL, NULL);
}

static cnn_status a_loader(int mode)
{
    cnn_loader *l = NULL;
    cnn_loader_params p = {2, 1, 0, 0};
    ck_assert_ok(cnn_loader_create(&l, F.ds, &p));
    ck_assert_ok(cnn_loader_start_epoch(l, 0, 0));
    cnn_tensor *images = at4(0, 2, 1, 4, 4), *labels = NULL;
    const int64_t two = 2;
    /* the labels (i32) inside the images' memory */
    ck_assert_ok(cnn_tensor_wrap(&labels, cnn_cpu(), CNN_I32, 1, &two,
                                 F.pool + shift(mode) + 4, 8));
    int64_t count = 0;
    cnn_status s = cnn_loader_next(l, images, labels, &count);
    cnn_loader_free(l);
    return done(s, images, labels, NULL, NULL);
}

static const alias_case alias_cases[] = {
    {"cnn_add", a_add, true},
    {"cnn_add", a_add_b, true},
    {"cnn_scale", a_scale, true},
    {"cnn_relu_forward", a_relu, true},
    {"cnn_relu_backward", a_relu_bwd, true},
    {"cnn_relu_backward", a_relu_bwd_y, false},
    {"cnn_dropout_forward", a_dropout, true},
    {"cnn_linear_forward", a_linear_x, false},
    {"cnn_linear_forward", a_linear_w, false},
    {"cnn_linear_forward", a_linear_b, false},
    {"cnn_linear_backward", a_linear_bwd, false},
    {"cnn_linear_backward", a_linear_bwd_w, false},
    {"cnn_conv2d_forward", a_conv, false},
    {"cnn_conv2d_forward", a_conv_w, false},
    {"cnn_conv2d_backward", a_conv_bwd, false},
    {"cnn_conv2d_backward", a_conv_bwd_db, false},
    {"cnn_pool2d_forward", a_pool, false},
    {"cnn_pool2d_backward", a_pool_bwd, false},
    {"cnn_global_avgpool_forward", a_gap, false},
    {"cnn_lrn_forward", a_lrn, false},
    {"cnn_lrn_backward", a_lrn_bwd, false},
    {"cnn_batchnorm2d_forward", a_bn_stats, false},
    {"cnn_batchnorm2d_forward", a_bn_y, false},
    {"cnn_batchnorm2d_backward", a_bn_bwd, false},
    {"cnn_softmax_cross_entropy", a_xent, true},
    {"cnn_softmax_cross_entropy", a_xent_loss, false},
    {"cnn_sgd_step", a_sgd, false},
    {"cnn_sgd_step", a_sgd_buf, false},
    {"cnn_concat", a_concat, false},
    {"cnn_split", a_split, false},
    {"cnn_tensor_copy", a_copy, true},
    {"cnn_loader_next", a_loader, false},
};
#define ALIAS_CASES ((int)(sizeof alias_cases / sizeof alias_cases[0]))

START_TEST(overlapping_outputs)
{
    const alias_case *c = &alias_cases[_i];
    for (int mode = 0; mode < 2; ++mode) {
        cnn_clear_error();
        cnn_status s = c->run(mode);
        if (mode == 0 && c->in_place_ok) {
            ck_assert_msg(s == CNN_OK, "%s in place (case %d): %s", c->call,
                          _i, cnn_last_error());
            continue;
        }
        ck_assert_msg(s == CNN_ERR_INVALID_ARGUMENT,
                      "%s with %s overlap (case %d) gave %s: %s", c->call,
                      mode ? "a partial" : "an exact", _i,
                      cnn_status_string(s), cnn_last_error());
        const char *msg = cnn_last_error();
        ck_assert_msg(strncmp(msg, c->call, strlen(c->call)) == 0 &&
                          (strstr(msg, "shares memory") ||
                           strstr(msg, "overlap")),
                      "%s (case %d): message '%s'", c->call, _i, msg);
    }
}
END_TEST

/* In place, where allowed, gives the out-of-place numbers. */
START_TEST(in_place_is_exact)
{
    float x[6] = {-1.5f, 2.0f, 0.25f, -0.5f, 3.0f, -4.0f}, ref[6];
    const int64_t six = 6;
    cnn_tensor *a = NULL, *out = NULL;
    ck_assert_ok(cnn_tensor_wrap(&a, cnn_cpu(), CNN_F32, 1, &six, x, sizeof x));
    ck_assert_ok(cnn_tensor_create(&out, cnn_cpu(), CNN_F32, 1, &six));
    ck_assert_ok(cnn_relu_forward(out, a));
    ck_assert_ok(cnn_tensor_read(out, ref, sizeof ref));
    ck_assert_ok(cnn_relu_forward(a, a));
    for (int i = 0; i < 6; ++i)
        ck_assert_float_eq(x[i], ref[i]);
    ck_assert_ok(cnn_add(out, a, a));
    ck_assert_ok(cnn_tensor_read(out, ref, sizeof ref));
    ck_assert_ok(cnn_add(a, a, a));
    for (int i = 0; i < 6; ++i)
        ck_assert_float_eq(x[i], ref[i]);
    cnn_tensor_free(a);
    cnn_tensor_free(out);
}
END_TEST

/* ---- NULL in each pointer argument ---- */

typedef cnn_status (*null_fn)(int which); /* which: the argument made NULL */

typedef struct null_case {
    const char *call;
    null_fn run;
    int arguments; /* how many pointer arguments it takes */
} null_case;

static void *nul(int which, int k, void *p) { return which == k ? NULL : p; }

static cnn_status n_conv_shape(int which)
{
    const int64_t x[4] = {1, 1, 3, 3}, w[4] = {1, 1, 1, 1};
    cnn_conv2d_params p = cnn_conv2d_params_default();
    int64_t y[4];
    return cnn_conv2d_output_shape(nul(which, 0, (void *)x),
                                   nul(which, 1, (void *)w),
                                   nul(which, 2, &p), nul(which, 3, y));
}

static cnn_status n_pool_shape(int which)
{
    const int64_t x[4] = {1, 1, 3, 3};
    cnn_pool2d_params p = {CNN_POOL_MAX, 1, 1, 1, 1, 0, 0};
    int64_t y[4];
    return cnn_pool2d_output_shape(nul(which, 0, (void *)x), nul(which, 1, &p),
                                   nul(which, 2, y));
}

static cnn_status n_linear(int which)
{
    cnn_tensor *x = at2(0, 2, 3), *w = at2(100, 4, 3), *y = at2(200, 2, 4);
    cnn_status s = cnn_linear_forward(nul(which, 0, y), nul(which, 1, x),
                                      nul(which, 2, w), NULL);
    return done(s, x, w, y, NULL);
}

static cnn_status n_conv(int which)
{
    cnn_conv2d_params p = cnn_conv2d_params_default();
    cnn_tensor *x = at4(0, 1, 1, 3, 3), *w = at4(100, 1, 1, 1, 1),
               *y = at4(200, 1, 1, 3, 3);
    cnn_status s = cnn_conv2d_forward(nul(which, 0, y), nul(which, 1, x),
                                      nul(which, 2, w), NULL,
                                      nul(which, 3, &p));
    return done(s, x, w, y, NULL);
}

static cnn_status n_dataset(int which)
{
    cnn_dataset *ds = NULL;
    cnn_status s = cnn_dataset_open_idx(nul(which, 0, &ds),
                                        nul(which, 1, F.images),
                                        nul(which, 2, F.labels), 0.0f, 1.0f);
    cnn_dataset_free(ds);
    return s;
}

static cnn_status n_loader(int which)
{
    cnn_loader *l = NULL;
    cnn_loader_params p = {2, 1, 0, 0};
    cnn_status s = cnn_loader_create(nul(which, 0, &l), nul(which, 1, F.ds),
                                     nul(which, 2, &p));
    cnn_loader_free(l);
    return s;
}

static cnn_status n_checkpoint(int which)
{
    cnn_checkpoint *ck = NULL;
    cnn_status s = cnn_checkpoint_open(nul(which, 0, &ck),
                                       nul(which, 1, F.ckpt));
    cnn_checkpoint_close(ck);
    return s;
}

static cnn_status n_net_load(int which)
{
    return cnn_net_load(nul(which, 0, F.net), NULL, nul(which, 1, F.ckpt),
                        NULL);
}

static cnn_status n_model(int which)
{
    cnn_net *net = NULL;
    cnn_status s = cnn_model_by_name(nul(which, 0, &net),
                                     nul(which, 1, "small"), 10, cnn_cpu());
    cnn_net_free(net);
    return s;
}

static cnn_status n_device_parse(int which)
{
    cnn_device d;
    return cnn_device_parse(nul(which, 0, "cpu"), nul(which, 1, &d));
}

static const null_case null_cases[] = {
    {"cnn_conv2d_output_shape", n_conv_shape, 4},
    {"cnn_pool2d_output_shape", n_pool_shape, 3},
    {"cnn_linear_forward", n_linear, 3},
    {"cnn_conv2d_forward", n_conv, 4},
    {"cnn_dataset_open_idx", n_dataset, 3},
    {"cnn_loader_create", n_loader, 3},
    {"cnn_checkpoint_open", n_checkpoint, 2},
    {"cnn_net_load", n_net_load, 2},
    {"cnn_model_by_name", n_model, 2},
    {"cnn_device_parse", n_device_parse, 2},
};
#define NULL_CASES ((int)(sizeof null_cases / sizeof null_cases[0]))

START_TEST(null_arguments)
{
    const null_case *c = &null_cases[_i];
    for (int which = 0; which < c->arguments; ++which) {
        cnn_clear_error();
        cnn_status s = c->run(which);
        ck_assert_msg(s == CNN_ERR_INVALID_ARGUMENT,
                      "%s with argument %d NULL gave %s: %s", c->call, which,
                      cnn_status_string(s), cnn_last_error());
        ck_assert_msg(strstr(cnn_last_error(), "NULL") != NULL,
                      "%s with argument %d NULL: '%s'", c->call, which,
                      cnn_last_error());
    }
}
END_TEST

/* ---- text and files ---- */

START_TEST(extreme_texts_and_files)
{
    /* Device names with numbers past int. */
    static const char *const devices[] = {
        "", "cpu:", "cpu:-1", "cpu:2147483648", "cuda:99999999999999999999",
        "cpu:1x", "gpu", "cpu:0:0", " cpu"};
    cnn_device d;
    for (size_t i = 0; i < sizeof devices / sizeof devices[0]; ++i) {
        cnn_clear_error();
        cnn_status s = cnn_device_parse(devices[i], &d);
        ck_assert_msg(s != CNN_OK, "'%s' parsed", devices[i]);
        check_failure("cnn_device_parse", devices[i], s);
    }
    /* A folder given as a checkpoint: "is a directory", not out of memory
     * (issue: the reader asked for the ~8 EiB ftell reports). */
    cnn_checkpoint *ck = NULL;
    ck_assert_fails(cnn_checkpoint_open(&ck, F.dir), CNN_ERR_IO,
                    "is a directory");
    ck_assert_fails(cnn_net_load(F.net, NULL, F.dir, NULL), CNN_ERR_IO,
                    "is a directory");
    ck_assert_fails(cnn_checkpoint_open(&ck, "/dev/null"), CNN_ERR_IO,
                    "not a regular file");
    /* A folder given as an IDX file. */
    cnn_dataset *ds = NULL;
    cnn_clear_error();
    cnn_status s = cnn_dataset_open_idx(&ds, F.dir, F.labels, 0.0f, 1.0f);
    ck_assert_msg(s == CNN_ERR_IO || s == CNN_ERR_FORMAT, "%s",
                  cnn_last_error());
    ck_assert_ptr_null(ds);
    /* A path longer than any file system takes. */
    char *long_path = malloc(70000);
    ck_assert_ptr_nonnull(long_path);
    memset(long_path, 'a', 69999);
    long_path[69999] = '\0';
    cnn_clear_error();
    s = cnn_checkpoint_open(&ck, long_path);
    ck_assert_int_eq(s, CNN_ERR_IO);
    cnn_clear_error();
    s = cnn_dataset_open_fashion_mnist(&ds, long_path, 1);
    ck_assert_msg(clean_failure(s), "%s", cnn_last_error());
    cnn_clear_error();
    s = cnn_net_save(F.net, NULL, long_path, NULL, NULL, 0);
    ck_assert_msg(clean_failure(s), "%s", cnn_last_error());
    free(long_path);
}
END_TEST

/* Issue regressions at the API: IDX dimensions whose product wraps 2^64,
 * checkpoint version 0, set_engine after setup and zero_grad before. */
START_TEST(issue_regressions)
{
    /* 4 x 2^31 x 2^31 = 2^64 bytes, which wrapped to 0 and matched an
     * empty payload. */
    const uint32_t wrap[3] = {4, 0x80000000u, 0x80000000u}, one[1] = {4};
    char images[160], labels[160];
    snprintf(images, sizeof images, "%s/wrap-images", F.dir);
    snprintf(labels, sizeof labels, "%s/wrap-labels", F.dir);
    write_idx(images, 3, wrap, 0);
    write_idx(labels, 1, one, 4);
    cnn_dataset *ds = NULL;
    ck_assert_fails(cnn_dataset_open_idx(&ds, images, labels, 0.0f, 1.0f),
                    CNN_ERR_FORMAT, "overflows");
    ck_assert_ptr_null(ds);

    /* Version 0, with a valid checksum: not "load it with a newer cnn". */
    FILE *f = fopen(F.ckpt, "rb");
    ck_assert_ptr_nonnull(f);
    unsigned char buf[1 << 16];
    size_t size = fread(buf, 1, sizeof buf, f);
    fclose(f);
    ck_assert_uint_gt(size, 16);
    ck_assert_uint_lt(size, sizeof buf);
    memset(buf + 8, 0, 4); /* the u32 version after the magic */
    uint32_t crc = 0xffffffffu; /* CRC-32 (IEEE), docs/checkpoint.md */
    for (size_t i = 0; i < size - 4; ++i) {
        crc ^= buf[i];
        for (int b = 0; b < 8; ++b)
            crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
    }
    crc = ~crc;
    for (int b = 0; b < 4; ++b)
        buf[size - 4 + (size_t)b] = (unsigned char)(crc >> (8 * b));
    char v0[160];
    snprintf(v0, sizeof v0, "%s/v0.ckpt", F.dir);
    f = fopen(v0, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(buf, 1, size, f), size);
    fclose(f);
    cnn_checkpoint *ck = NULL;
    ck_assert_fails(cnn_checkpoint_open(&ck, v0), CNN_ERR_FORMAT,
                    "version 0, which does not exist");
    ck_assert_msg(strstr(cnn_last_error(), "newer") == NULL, "%s",
                  cnn_last_error());

    /* Net state rules that net.h states. */
    ck_assert_fails(cnn_net_set_engine(F.net, 1, CNN_ENGINE_REFERENCE),
                    CNN_ERR_INVALID_ARGUMENT, "already set up");
    cnn_net *net = NULL;
    cnn_node n;
    ck_assert_ok(cnn_net_create(&net, cnn_cpu()));
    ck_assert_ok(cnn_net_input(net, 1, 2, 2, &n));
    ck_assert_fails(cnn_net_zero_grad(net), CNN_ERR_INVALID_ARGUMENT,
                    "not set up");
    /* Flattening a 2^32 x 2^32 image: the count overflows int64. */
    cnn_net_free(net);
    ck_assert_ok(cnn_net_create(&net, cnn_cpu()));
    ck_assert_ok(cnn_net_input(net, 4, (int64_t)1 << 32, (int64_t)1 << 32, &n));
    ck_assert_ok(cnn_net_flatten(net, n, &n));
    cnn_clear_error();
    cnn_status s = cnn_net_setup(net, 1);
    ck_assert_msg(clean_failure(s), "%s", cnn_last_error());
    cnn_net_free(net);
    /* conv2d_output_shape with an input of INT64_MAX plus padding. */
    const int64_t x[4] = {1, 1, INT64_MAX, 4}, w[4] = {1, 1, 3, 3};
    cnn_conv2d_params p = cnn_conv2d_params_default();
    p.pad_h = 2;
    int64_t y[4];
    ck_assert_fails(cnn_conv2d_output_shape(x, w, &p, y), CNN_ERR_SHAPE,
                    "overflows");
    /* A loader of batch INT64_MAX without drop_last (ceil division). */
    cnn_loader *l = NULL;
    cnn_loader_params lp = {INT64_MAX, 1, 0, 0};
    cnn_clear_error();
    s = cnn_loader_create(&l, F.ds, &lp);
    ck_assert_msg(clean_failure(s), "%s", cnn_last_error());
    ck_assert_ptr_null(l);
    /* A cosine schedule of INT64_MIN total steps after a warm-up. */
    cnn_lr_params lr = {0.5f, CNN_LR_COSINE, 0, 0.0f, INT64_MIN, 10};
    ck_assert_float_eq(cnn_lr_at(&lr, 20), 0.5f);
}
END_TEST

/* ---- every public call is listed ---- */

/* Calls that take no input an extreme could go into (or only a handle
 * that the suites' NULL tests cover): named with the reason. */
static const char *const no_input[] = {
    "cnn_last_error",    /* no argument */
    "cnn_clear_error",   /* no argument */
    "cnn_version",       /* no argument */
    "cnn_build_info",    /* no argument */
    "cnn_runtime_info",  /* no argument */
    "cnn_op_count",      /* no argument */
    "cnn_cpu",           /* no argument */
    "cnn_conv2d_params_default", /* no argument */
    "cnn_log_set",       /* a callback and a level: test_status */
    "cnn_net_create",    /* a device: used by every net case */
    "cnn_net_free",      /* NULL-safe free: test_net */
    "cnn_net_output",    /* a handle */
    "cnn_net_summary",   /* a handle and a FILE */
    "cnn_net_init",      /* a seed: any value is valid (net cases) */
    "cnn_net_global_avgpool", /* a node id, as cnn_net_relu */
    "cnn_net_buffer_count",   /* a handle */
    "cnn_net_param_count",    /* a handle */
    "cnn_net_save",      /* paths: extreme_texts_and_files */
    "cnn_tensor_free",   /* NULL-safe free */
    "cnn_dataset_free",  /* NULL-safe free */
    "cnn_loader_free",   /* NULL-safe free */
    "cnn_sgd_free",      /* NULL-safe free */
    "cnn_checkpoint_close", /* NULL-safe free */
    "cnn_dataset_size", "cnn_dataset_image_shape", "cnn_dataset_classes",
    "cnn_loader_batches", /* accessors of a handle */
    "cnn_tensor_ndim", "cnn_tensor_dims", "cnn_tensor_numel",
    "cnn_tensor_bytes", "cnn_tensor_dtype", "cnn_tensor_layout",
    "cnn_tensor_device", "cnn_tensor_owns_data", "cnn_tensor_data",
    "cnn_tensor_data_const", /* accessors: test_bad_input's NULL test */
    "cnn_cpu_n", "cnn_cuda", /* device values: i_device_check */
    "cnn_checkpoint_read_tensor", /* a name and a tensor: test_checkpoint */
    "cnn_dataset_open_fashion_mnist", /* a folder: extreme_texts_and_files */
    "cnn_device_count", "cnn_device_name", "cnn_device_format",
    "cnn_get_engine", "cnn_get_math", "cnn_get_deterministic",
    "cnn_get_workspace_limit", "cnn_device_memory_stats",
    "cnn_device_memory_reset_peak", "cnn_device_memory_trim",
    "cnn_dtype_size", "cnn_dtype_name", "cnn_op_name", "cnn_engine_name",
    "cnn_checkpoint_version", "cnn_checkpoint_meta",
    "cnn_checkpoint_meta_count", "cnn_checkpoint_tensor_count",
    "cnn_checkpoint_tensor_name", "cnn_net_param_elements",
    "cnn_net_node_count", "cnn_net_buffer", "cnn_net_node_shape",
    "cnn_net_forward", "cnn_net_zero_grad", "cnn_net_backward",
    "cnn_net_add", "cnn_net_flatten", "cnn_net_set_device",
    "cnn_net_set_shard", "cnn_net_batchnorm2d", "cnn_model_alexnet_towers",
    "cnn_model_by_name", "cnn_tensor_zeros", "cnn_tensor_uniform",
    "cnn_global_avgpool_backward", "cnn_dropout_backward",
    "cnn_sgd_apply", "cnn_split",
    /* image sources: bad parameters, extreme sizes and files are cases of
     * test_images and test_image_data */
    "cnn_image_params_default", "cnn_dataset_open_images",
    "cnn_dataset_open_image_list", "cnn_dataset_open_cifar10",
    "cnn_dataset_open_synthetic", "cnn_dataset_class_name",
    "cnn_dataset_sample_path", "cnn_dataset_skipped",
    /* (the last lines: exercised inside other cases' functions) */
};

static bool listed(const char *name)
{
    for (int i = 0; i < INT_CASES; ++i)
        if (strcmp(int_cases[i].call, name) == 0)
            return true;
    for (int i = 0; i < REAL_CASES; ++i)
        if (strcmp(real_cases[i].call, name) == 0)
            return true;
    for (int i = 0; i < ALIAS_CASES; ++i)
        if (strcmp(alias_cases[i].call, name) == 0)
            return true;
    for (int i = 0; i < NULL_CASES; ++i)
        if (strcmp(null_cases[i].call, name) == 0)
            return true;
    for (size_t i = 0; i < sizeof no_input / sizeof no_input[0]; ++i)
        if (strcmp(no_input[i], name) == 0)
            return true;
    /* Named in this file's other tests. */
    static const char *const elsewhere[] = {
        "cnn_model_resnet", "cnn_checkpoint_open", "cnn_net_load",
        "cnn_tensor_copy"};
    for (size_t i = 0; i < sizeof elsewhere / sizeof elsewhere[0]; ++i)
        if (strcmp(elsewhere[i], name) == 0)
            return true;
    return false;
}

START_TEST(every_call_is_listed)
{
    DIR *d = opendir(CNN_INCLUDE_DIR "/cnn");
    ck_assert_msg(d != NULL, "cannot open %s", CNN_INCLUDE_DIR "/cnn");
    struct dirent *e;
    int calls = 0;
    char missing[2048] = "";
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len < 3 || strcmp(e->d_name + len - 2, ".h") != 0 ||
            strcmp(e->d_name, "export.h") == 0)
            continue;
        char path[512];
        snprintf(path, sizeof path, "%s/cnn/%s", CNN_INCLUDE_DIR, e->d_name);
        FILE *f = fopen(path, "r");
        ck_assert_ptr_nonnull(f);
        /* Declarations may span lines: read the header whole and find
         * "CNN_API <type> name(". */
        static char text[1 << 17];
        size_t n = fread(text, 1, sizeof text - 1, f);
        fclose(f);
        text[n] = '\0';
        for (char *p = strstr(text, "CNN_API "); p;
             p = strstr(p + 1, "CNN_API ")) {
            char *paren = strchr(p, '(');
            if (!paren)
                break;
            char *end = paren;
            while (end > p && end[-1] == ' ')
                --end;
            char *start = end;
            while (start > p && (start[-1] == '_' ||
                                 (start[-1] >= 'a' && start[-1] <= 'z') ||
                                 (start[-1] >= '0' && start[-1] <= '9')))
                --start;
            char name[128];
            size_t nl = (size_t)(end - start);
            if (nl == 0 || nl >= sizeof name)
                continue;
            memcpy(name, start, nl);
            name[nl] = '\0';
            ++calls;
            if (!listed(name) && strlen(missing) + nl + 2 < sizeof missing) {
                strcat(missing, " ");
                strcat(missing, name);
            }
        }
    }
    closedir(d);
    ck_assert_int_gt(calls, 100);
    ck_assert_msg(missing[0] == '\0',
                  "public calls with no extreme-value case in "
                  "tests/test_api_extremes.c:%s", missing);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("api_extremes");
    TCase *tc = cnn_test_case("extremes");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, integer_extremes, 0, INT_CASES);
    tcase_add_loop_test(tc, real_extremes, 0, REAL_CASES);
    tcase_add_loop_test(tc, overlapping_outputs, 0, ALIAS_CASES);
    tcase_add_test(tc, in_place_is_exact);
    tcase_add_loop_test(tc, null_arguments, 0, NULL_CASES);
    tcase_add_test(tc, extreme_texts_and_files);
    tcase_add_test(tc, issue_regressions);
    tcase_add_test(tc, every_call_is_listed);
    suite_add_tcase(s, tc);
    return cnn_test_run(s);
}
