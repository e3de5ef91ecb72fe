/* tests/backend_ops_cases.c - the cases of the cross-backend test: for
 * every op of include/cnn/ops.h, shapes from a table per op family,
 * including odd ones (1x1 images, a kernel equal to the padded input, a
 * stride larger than the kernel, channel counts of 1, 3, 5, 7, batch 1),
 * each turned into one bo_case per op value (conv2d's forward, data,
 * filter and bias gradients are four ops, and four cases). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "backend_ops.h"

#define CASE_MAX 256
static bo_case table[CASE_MAX];
static int table_count;

#define DIMS(...) ((const int64_t[]){__VA_ARGS__})

static bo_case *add_case(cnn_op op, bo_run_fn run, int64_t reduction,
                         const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static bo_case *add_case(cnn_op op, bo_run_fn run, int64_t reduction,
                         const char *fmt, ...)
{
    if (table_count == CASE_MAX) {
        fprintf(stderr, "backend_ops_cases.c: raise CASE_MAX\n");
        abort(); /* a test's own table is wrong: no test result is right */
    }
    bo_case *c = &table[table_count++];
    c->op = op;
    c->run = run;
    c->reduction = reduction;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->what, sizeof c->what, fmt, ap);
    va_end(ap);
    return c;
}

static void add_tensor(bo_case *c, const char *name, bo_role role,
                       bo_init init, cnn_dtype dtype, int ndim,
                       const int64_t *dims)
{
    bo_tensor *t = &c->t[c->count++];
    t->name = name;
    t->role = role;
    t->init = role == BO_OUT ? BO_INIT_NONE : init;
    t->dtype = dtype;
    t->ndim = ndim;
    for (int d = 0; d < ndim; ++d)
        t->dims[d] = dims[d];
}

/* F32 tensors, the common case. */
static void out_f32(bo_case *c, const char *name, int ndim, const int64_t *d)
{
    add_tensor(c, name, BO_OUT, BO_INIT_NONE, CNN_F32, ndim, d);
}
static void in_f32(bo_case *c, const char *name, bo_init init, int ndim,
                   const int64_t *d)
{
    add_tensor(c, name, BO_IN, init, CNN_F32, ndim, d);
}
static void inout_f32(bo_case *c, const char *name, bo_init init, int ndim,
                      const int64_t *d)
{
    add_tensor(c, name, BO_INOUT, init, CNN_F32, ndim, d);
}

/* ---- fill, random inits, elementwise ---------------------------------- */

static cnn_status run_fill(const bo_case *c, cnn_tensor *const *t)
{
    return cnn_tensor_fill(t[0], c->p.init.value);
}
static cnn_status run_uniform(const bo_case *c, cnn_tensor *const *t)
{
    return cnn_tensor_uniform(t[0], c->p.init.seed, c->p.init.a, c->p.init.b);
}
static cnn_status run_normal(const bo_case *c, cnn_tensor *const *t)
{
    return cnn_tensor_normal(t[0], c->p.init.seed, c->p.init.a, c->p.init.b);
}
static cnn_status run_add(const bo_case *c, cnn_tensor *const *t)
{
    (void)c;
    return cnn_add(t[0], t[1], t[2]);
}
static cnn_status run_scale(const bo_case *c, cnn_tensor *const *t)
{
    return cnn_scale(t[0], t[1], c->p.alpha);
}
static cnn_status run_relu_fwd(const bo_case *c, cnn_tensor *const *t)
{
    (void)c;
    return cnn_relu_forward(t[0], t[1]);
}
static cnn_status run_relu_bwd(const bo_case *c, cnn_tensor *const *t)
{
    (void)c;
    return cnn_relu_backward(t[0], t[1], t[2]);
}

static const struct {
    int ndim;
    int64_t dims[4];
} flat_shapes[] = {{1, {1}}, {1, {7}}, {3, {3, 5, 7}}, {4, {2, 3, 11, 13}}};
#define FLAT_COUNT ((int)(sizeof flat_shapes / sizeof flat_shapes[0]))

static void elementwise_cases(void)
{
    static const struct {
        cnn_dtype dtype;
        double value;
    } fills[] = {{CNN_F32, -3.25}, {CNN_U8, 7}, {CNN_I32, -5},
                 {CNN_I64, 123456789}, {CNN_F16, 1.5}};
    for (int i = 0; i < (int)(sizeof fills / sizeof fills[0]); ++i) {
        const int64_t *d = flat_shapes[i % FLAT_COUNT].dims;
        int nd = flat_shapes[i % FLAT_COUNT].ndim;
        bo_case *c = add_case(CNN_OP_FILL, run_fill, 1, "%s, %g",
                              cnn_dtype_name(fills[i].dtype), fills[i].value);
        add_tensor(c, "t", BO_OUT, BO_INIT_NONE, fills[i].dtype, nd, d);
        c->p.init.value = fills[i].value;
        c->exact = 1;
    }
    for (int s = 0; s < FLAT_COUNT; ++s) {
        const int64_t *d = flat_shapes[s].dims;
        int nd = flat_shapes[s].ndim;
        int64_t n = 1;
        for (int k = 0; k < nd; ++k)
            n *= d[k];
        bo_case *c = add_case(CNN_OP_UNIFORM, run_uniform, 1, "%lld values",
                              (long long)n);
        out_f32(c, "t", nd, d);
        c->p.init.seed = 1000u + (uint64_t)s;
        c->p.init.a = -0.5f;
        c->p.init.b = 0.25f;
        c->exact = 1; /* fmaf rounds once everywhere (src/philox.h) */
        c = add_case(CNN_OP_NORMAL, run_normal, 1, "%lld values",
                     (long long)n);
        out_f32(c, "t", nd, d);
        c->p.init.seed = 2000u + (uint64_t)s;
        c->p.init.a = 0.1f;
        c->p.init.b = 0.01f; /* libm's log, sin, cos: an ulp apart */

        /* One rounding each: the same bits on every device. */
        c = add_case(CNN_OP_ADD, run_add, 1, "%lld values", (long long)n);
        out_f32(c, "out", nd, d);
        in_f32(c, "a", BO_INIT_VALUES, nd, d);
        in_f32(c, "b", BO_INIT_VALUES, nd, d);
        c->exact = 1;
        c = add_case(CNN_OP_SCALE, run_scale, 1, "%lld values, alpha -0.37",
                     (long long)n);
        out_f32(c, "out", nd, d);
        in_f32(c, "x", BO_INIT_VALUES, nd, d);
        c->p.alpha = -0.37f;
        c->exact = 1;
        c = add_case(CNN_OP_RELU_FWD, run_relu_fwd, 1, "%lld values",
                     (long long)n);
        out_f32(c, "y", nd, d);
        in_f32(c, "x", BO_INIT_VALUES, nd, d);
        c->exact = 1;
        c = add_case(CNN_OP_RELU_BWD, run_relu_bwd, 1, "%lld values",
                     (long long)n);
        out_f32(c, "dx", nd, d);
        in_f32(c, "dy", BO_INIT_VALUES, nd, d);
        in_f32(c, "y", BO_INIT_VALUES, nd, d);
        c->exact = 1;
    }
}

/* ---- convolution -------------------------------------------------------- */

static cnn_status run_conv_fwd(const bo_case *c, cnn_tensor *const *t)
{
    return cnn_conv2d_forward(t[0], t[1], t[2], c->count > 3 ? t[3] : NULL,
                              &c->p.conv);
}
static cnn_status run_conv_bwd_data(const bo_case *c, cnn_tensor *const *t)
{
    return cnn_conv2d_backward(t[0], NULL, NULL, t[1], NULL, t[2], &c->p.conv);
}
static cnn_status run_conv_bwd_filter(const bo_case *c, cnn_tensor *const *t)
{
    return cnn_conv2d_backward(NULL, t[0], NULL, t[1], t[2], NULL, &c->p.conv);
}
static cnn_status run_conv_bwd_bias(const bo_case *c, cnn_tensor *const *t)
{
    return cnn_conv2d_backward(NULL, NULL, t[0], t[1], NULL, NULL, &c->p.conv);
}

static void conv_cases(void)
{
    static const struct {
        int64_t n, c, h, w, k, r, s, stride, pad, dilation, groups;
        int bias;
    } shapes[] = {
        {2, 3, 7, 7, 4, 3, 3, 1, 1, 1, 1, 1},
        {1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1}, /* a 1x1 image */
        {1, 5, 5, 5, 3, 7, 7, 1, 1, 1, 1, 1}, /* kernel = padded input */
        {2, 3, 9, 9, 5, 2, 2, 3, 0, 1, 1, 0}, /* stride > kernel */
        {1, 4, 6, 6, 6, 3, 3, 1, 1, 1, 2, 1}, /* groups */
        {2, 7, 9, 8, 3, 3, 3, 2, 1, 2, 1, 1}, /* dilation, stride 2 */
        {1, 6, 5, 5, 6, 3, 3, 1, 1, 1, 6, 0}, /* depthwise */
    };
    for (int i = 0; i < (int)(sizeof shapes / sizeof shapes[0]); ++i) {
        cnn_conv2d_params p = cnn_conv2d_params_default();
        p.stride_h = p.stride_w = shapes[i].stride;
        p.pad_h = p.pad_w = shapes[i].pad;
        p.dilation_h = p.dilation_w = shapes[i].dilation;
        p.groups = shapes[i].groups;
        const int64_t x[4] = {shapes[i].n, shapes[i].c, shapes[i].h,
                              shapes[i].w};
        const int64_t w[4] = {shapes[i].k, shapes[i].c / shapes[i].groups,
                              shapes[i].r, shapes[i].s};
        const int64_t b[1] = {shapes[i].k};
        int64_t y[4];
        if (cnn_conv2d_output_shape(x, w, &p, y) != CNN_OK) {
            fprintf(stderr, "conv case %d: %s\n", i, cnn_last_error());
            abort();
        }
        char what[96];
        snprintf(what, sizeof what,
                 "x %lldx%lldx%lldx%lld w %lldx%lldx%lldx%lld s%lld p%lld "
                 "d%lld g%lld%s",
                 (long long)x[0], (long long)x[1], (long long)x[2],
                 (long long)x[3], (long long)w[0], (long long)w[1],
                 (long long)w[2], (long long)w[3], (long long)p.stride_h,
                 (long long)p.pad_h, (long long)p.dilation_h,
                 (long long)p.groups, shapes[i].bias ? " bias" : "");
        const int64_t taps = w[1] * w[2] * w[3];
        const int64_t pixels = y[0] * y[2] * y[3];
        bo_case *c = add_case(CNN_OP_CONV2D_FWD, run_conv_fwd, taps, "%s",
                              what);
        out_f32(c, "y", 4, y);
        in_f32(c, "x", BO_INIT_VALUES, 4, x);
        in_f32(c, "w", BO_INIT_VALUES, 4, w);
        if (shapes[i].bias)
            in_f32(c, "b", BO_INIT_VALUES, 1, b);
        c->p.conv = p;
        c = add_case(CNN_OP_CONV2D_BWD_DATA, run_conv_bwd_data,
                     w[0] / p.groups * w[2] * w[3], "%s", what);
        out_f32(c, "dx", 4, x);
        in_f32(c, "dy", BO_INIT_VALUES, 4, y);
        in_f32(c, "w", BO_INIT_VALUES, 4, w);
        c->p.conv = p;
        c = add_case(CNN_OP_CONV2D_BWD_FILTER, run_conv_bwd_filter, pixels,
                     "%s", what);
        inout_f32(c, "dw", BO_INIT_VALUES, 4, w);
        in_f32(c, "dy", BO_INIT_VALUES, 4, y);
        in_f32(c, "x", BO_INIT_VALUES, 4, x);
        c->p.conv = p;
        c = add_case(CNN_OP_CONV2D_BWD_BIAS, run_conv_bwd_bias, pixels, "%s",
                     what);
        inout_f32(c, "db", BO_INIT_VALUES, 1, b);
        in_f32(c, "dy", BO_INIT_VALUES, 4, y);
        c->p.conv = p;
    }
}

/* ---- pooling ------------------------------------------------------------ */

static cnn_status run_pool_fwd(const bo_case *c, cnn_tensor *const *t)
{
    return cnn_pool2d_forward(t[0], t[1], &c->p.pool);
}
/* dx, dy, x, y: y is the forward's, computed on the CPU by prepare. */
static cnn_status run_pool_bwd(const bo_case *c, cnn_tensor *const *t)
{
    return cnn_pool2d_backward(t[0], t[1], t[2], t[3], &c->p.pool);
}
static cnn_status prepare_pool_bwd(const bo_case *c, cnn_tensor *const *t)
{
    return cnn_pool2d_forward(t[3], t[2], &c->p.pool);
}
static cnn_status run_gap_fwd(const bo_case *c, cnn_tensor *const *t)
{
    (void)c;
    return cnn_global_avgpool_forward(t[0], t[1]);
}
static cnn_status run_gap_bwd(const bo_case *c, cnn_tensor *const *t)
{
    (void)c;
    return cnn_global_avgpool_backward(t[0], t[1]);
}

static void pool_cases(void)
{
    static const struct {
        int64_t n, c, h, w, kh, kw, sh, sw, ph, pw;
    } shapes[] = {
        {2, 3, 13, 13, 3, 3, 2, 2, 0, 0}, /* AlexNet's */
        {2, 3, 9, 11, 3, 3, 2, 2, 1, 1},  /* ResNet's */
        {1, 1, 1, 1, 1, 1, 1, 1, 0, 0},   /* a 1x1 image */
        {2, 3, 3, 4, 5, 6, 1, 1, 1, 1},   /* kernel = padded input */
        {1, 7, 10, 11, 2, 2, 3, 3, 0, 1}, /* stride > kernel */
        {3, 5, 7, 9, 2, 3, 1, 2, 1, 1},   /* not square */
    };
    for (int mode = 0; mode < 2; ++mode)
        for (int i = 0; i < (int)(sizeof shapes / sizeof shapes[0]); ++i) {
            cnn_pool2d_params p = {
                mode ? CNN_POOL_AVG : CNN_POOL_MAX, shapes[i].kh,
                shapes[i].kw, shapes[i].sh, shapes[i].sw, shapes[i].ph,
                shapes[i].pw};
            const int64_t x[4] = {shapes[i].n, shapes[i].c, shapes[i].h,
                                  shapes[i].w};
            int64_t y[4];
            if (cnn_pool2d_output_shape(x, &p, y) != CNN_OK) {
                fprintf(stderr, "pool case %d: %s\n", i, cnn_last_error());
                abort();
            }
            char what[96];
            snprintf(what, sizeof what,
                     "%s x %lldx%lldx%lldx%lld k%lldx%lld s%lldx%lld "
                     "p%lldx%lld",
                     mode ? "avg" : "max", (long long)x[0], (long long)x[1],
                     (long long)x[2], (long long)x[3], (long long)p.kernel_h,
                     (long long)p.kernel_w, (long long)p.stride_h,
                     (long long)p.stride_w, (long long)p.pad_h,
                     (long long)p.pad_w);
            const int64_t window = p.kernel_h * p.kernel_w;
            bo_case *c = add_case(CNN_OP_POOL2D_FWD, run_pool_fwd, window,
                                  "%s", what);
            out_f32(c, "y", 4, y);
            in_f32(c, "x", BO_INIT_DISTINCT, 4, x);
            c->p.pool = p;
            c->exact = !mode; /* a max is exact */
            c = add_case(CNN_OP_POOL2D_BWD, run_pool_bwd, window, "%s", what);
            out_f32(c, "dx", 4, x);
            in_f32(c, "dy", BO_INIT_VALUES, 4, y);
            in_f32(c, "x", BO_INIT_DISTINCT, 4, x);
            in_f32(c, "y", BO_INIT_DERIVED, 4, y);
            c->p.pool = p;
            c->prepare = prepare_pool_bwd;
        }
    static const int64_t gap[][4] = {{2, 3, 5, 5}, {1, 1, 1, 1}, {3, 7, 4, 3}};
    for (int i = 0; i < 3; ++i) {
        const int64_t *x = gap[i];
        const int64_t y[4] = {x[0], x[1], 1, 1};
        bo_case *c = add_case(CNN_OP_GLOBAL_AVGPOOL_FWD, run_gap_fwd,
                              x[2] * x[3], "x %lldx%lldx%lldx%lld",
                              (long long)x[0], (long long)x[1],
                              (long long)x[2], (long long)x[3]);
        out_f32(c, "y", 4, y);
        in_f32(c, "x", BO_INIT_VALUES, 4, x);
        c = add_case(CNN_OP_GLOBAL_AVGPOOL_BWD, run_gap_bwd, 1,
                     "x %lldx%lldx%lldx%lld", (long long)x[0],
                     (long long)x[1], (long long)x[2], (long long)x[3]);
        out_f32(c, "dx", 4, x);
        in_f32(c, "dy", BO_INIT_VALUES, 4, y);
    }
}

/* ---- batch norm and LRN ------------------------------------------------- */

/* y, x, gamma, beta, running_mean, running_var, save_mean, save_invstd. */
static cnn_status run_bn_fwd(const bo_case *c, cnn_tensor *const *t)
{
    return cnn_batchnorm2d_forward(t[0], t[1], t[2], t[3], t[4], t[5], t[6],
                                   t[7], &c->p.bn);
}
/* dx, dgamma, dbeta, dy, x, gamma, save_mean, save_invstd. */
static cnn_status run_bn_bwd(const bo_case *c, cnn_tensor *const *t)
{
    return cnn_batchnorm2d_backward(t[0], t[1], t[2], t[3], t[4], t[5], t[6],
                                    t[7], &c->p.bn);
}
static cnn_status run_lrn_fwd(const bo_case *c, cnn_tensor *const *t)
{
    return cnn_lrn_forward(t[0], t[1], &c->p.lrn);
}
/* dx, dy, x, y: y is the forward's, computed on the CPU by prepare. */
static cnn_status run_lrn_bwd(const bo_case *c, cnn_tensor *const *t)
{
    return cnn_lrn_backward(t[0], t[1], t[2], t[3], &c->p.lrn);
}
static cnn_status prepare_lrn_bwd(const bo_case *c, cnn_tensor *const *t)
{
    return cnn_lrn_forward(t[3], t[2], &c->p.lrn);
}

static void norm_cases(void)
{
    static const int64_t bn[][4] = {
        {2, 3, 4, 4}, {1, 5, 3, 3}, {4, 7, 1, 1}, {3, 1, 5, 2}};
    for (int training = 1; training >= 0; --training)
        for (int i = 0; i < 4; ++i) {
            const int64_t *x = bn[i];
            const int64_t ch[1] = {x[1]};
            const int64_t m = x[0] * x[2] * x[3];
            cnn_batchnorm2d_params p = {training, 0.1f, 1e-5f};
            char what[96];
            snprintf(what, sizeof what, "%s x %lldx%lldx%lldx%lld",
                     training ? "training" : "inference", (long long)x[0],
                     (long long)x[1], (long long)x[2], (long long)x[3]);
            bo_case *c = add_case(CNN_OP_BATCHNORM2D_FWD, run_bn_fwd,
                                  training ? m : 1, "%s", what);
            out_f32(c, "y", 4, x);
            in_f32(c, "x", BO_INIT_VALUES, 4, x);
            in_f32(c, "gamma", BO_INIT_VALUES, 1, ch);
            in_f32(c, "beta", BO_INIT_VALUES, 1, ch);
            inout_f32(c, "running_mean", BO_INIT_VALUES, 1, ch);
            inout_f32(c, "running_var", BO_INIT_POSITIVE, 1, ch);
            out_f32(c, "save_mean", 1, ch);
            out_f32(c, "save_invstd", 1, ch);
            c->p.bn = p;
            /* Any saved statistics are valid inputs of the backward. */
            c = add_case(CNN_OP_BATCHNORM2D_BWD, run_bn_bwd, m, "%s", what);
            out_f32(c, "dx", 4, x);
            inout_f32(c, "dgamma", BO_INIT_VALUES, 1, ch);
            inout_f32(c, "dbeta", BO_INIT_VALUES, 1, ch);
            in_f32(c, "dy", BO_INIT_VALUES, 4, x);
            in_f32(c, "x", BO_INIT_VALUES, 4, x);
            in_f32(c, "gamma", BO_INIT_VALUES, 1, ch);
            in_f32(c, "save_mean", BO_INIT_VALUES, 1, ch);
            in_f32(c, "save_invstd", BO_INIT_POSITIVE, 1, ch);
            c->p.bn = p;
        }
    static const struct {
        int64_t n, c, h, w, size, groups;
    } lrn[] = {
        {2, 7, 3, 3, 5, 1}, /* AlexNet's size */
        {1, 6, 4, 5, 3, 2}, /* two towers */
        {2, 5, 2, 2, 1, 1}, /* a window of one */
        {1, 3, 1, 1, 7, 1}, /* window wider than the channels, 1x1 image */
        {2, 8, 2, 3, 4, 2}, /* even size (PyTorch's window), groups */
    };
    for (int i = 0; i < (int)(sizeof lrn / sizeof lrn[0]); ++i) {
        const int64_t x[4] = {lrn[i].n, lrn[i].c, lrn[i].h, lrn[i].w};
        /* alpha larger than AlexNet's 5e-4, so the sum matters. */
        cnn_lrn_params p = {lrn[i].size, 1e-2f, 0.75f, 2.0f,
                            lrn[i].groups};
        char what[96];
        snprintf(what, sizeof what,
                 "x %lldx%lldx%lldx%lld size %lld groups %lld",
                 (long long)x[0], (long long)x[1], (long long)x[2],
                 (long long)x[3], (long long)p.size, (long long)p.groups);
        bo_case *c = add_case(CNN_OP_LRN_FWD, run_lrn_fwd, p.size, "%s",
                              what);
        out_f32(c, "y", 4, x);
        in_f32(c, "x", BO_INIT_VALUES, 4, x);
        c->p.lrn = p;
        c = add_case(CNN_OP_LRN_BWD, run_lrn_bwd, p.size, "%s", what);
        out_f32(c, "dx", 4, x);
        in_f32(c, "dy", BO_INIT_VALUES, 4, x);
        in_f32(c, "x", BO_INIT_VALUES, 4, x);
        in_f32(c, "y", BO_INIT_DERIVED, 4, x);
        c->p.lrn = p;
        c->prepare = prepare_lrn_bwd;
    }
}

/* ---- linear, dropout, loss ---------------------------------------------- */

static cnn_status run_linear_fwd(const bo_case *c, cnn_tensor *const *t)
{
    return cnn_linear_forward(t[0], t[1], t[2], c->count > 3 ? t[3] : NULL);
}
static cnn_status run_linear_bwd_data(const bo_case *c, cnn_tensor *const *t)
{
    (void)c;
    return cnn_linear_backward(t[0], NULL, NULL, t[1], NULL, t[2]);
}
static cnn_status run_linear_bwd_weight(const bo_case *c,
                                        cnn_tensor *const *t)
{
    (void)c;
    return cnn_linear_backward(NULL, t[0], NULL, t[1], t[2], NULL);
}
static cnn_status run_linear_bwd_bias(const bo_case *c, cnn_tensor *const *t)
{
    (void)c;
    return cnn_linear_backward(NULL, NULL, t[0], t[1], NULL, NULL);
}
static cnn_status run_dropout_fwd(const bo_case *c, cnn_tensor *const *t)
{
    return cnn_dropout_forward(t[0], t[1], &c->p.dropout);
}
static cnn_status run_dropout_bwd(const bo_case *c, cnn_tensor *const *t)
{
    return cnn_dropout_backward(t[0], t[1], &c->p.dropout);
}
/* loss, [dlogits,] logits, labels. */
static cnn_status run_xent(const bo_case *c, cnn_tensor *const *t)
{
    return c->count == 4
               ? cnn_softmax_cross_entropy(t[0], t[1], t[2], t[3])
               : cnn_softmax_cross_entropy(t[0], NULL, t[1], t[2]);
}

static void dense_cases(void)
{
    static const struct {
        int64_t n, in, out;
        int bias;
    } linear[] = {{2, 5, 3, 1}, {1, 1, 1, 1}, {3, 17, 7, 0}, {5, 33, 9, 1}};
    for (int i = 0; i < (int)(sizeof linear / sizeof linear[0]); ++i) {
        const int64_t x[2] = {linear[i].n, linear[i].in};
        const int64_t w[2] = {linear[i].out, linear[i].in};
        const int64_t y[2] = {linear[i].n, linear[i].out};
        const int64_t b[1] = {linear[i].out};
        char what[64];
        snprintf(what, sizeof what, "x %lldx%lld w %lldx%lld%s",
                 (long long)x[0], (long long)x[1], (long long)w[0],
                 (long long)w[1], linear[i].bias ? " bias" : "");
        bo_case *c = add_case(CNN_OP_LINEAR_FWD, run_linear_fwd, x[1], "%s",
                              what);
        out_f32(c, "y", 2, y);
        in_f32(c, "x", BO_INIT_VALUES, 2, x);
        in_f32(c, "w", BO_INIT_VALUES, 2, w);
        if (linear[i].bias)
            in_f32(c, "b", BO_INIT_VALUES, 1, b);
        c = add_case(CNN_OP_LINEAR_BWD_DATA, run_linear_bwd_data, w[0], "%s",
                     what);
        out_f32(c, "dx", 2, x);
        in_f32(c, "dy", BO_INIT_VALUES, 2, y);
        in_f32(c, "w", BO_INIT_VALUES, 2, w);
        c = add_case(CNN_OP_LINEAR_BWD_WEIGHT, run_linear_bwd_weight, x[0],
                     "%s", what);
        inout_f32(c, "dw", BO_INIT_VALUES, 2, w);
        in_f32(c, "dy", BO_INIT_VALUES, 2, y);
        in_f32(c, "x", BO_INIT_VALUES, 2, x);
        c = add_case(CNN_OP_LINEAR_BWD_BIAS, run_linear_bwd_bias, x[0], "%s",
                     what);
        inout_f32(c, "db", BO_INIT_VALUES, 1, b);
        in_f32(c, "dy", BO_INIT_VALUES, 2, y);
    }

    static const struct {
        int ndim;
        int64_t dims[4];
        float p;
        uint64_t step;
        uint32_t node;
    } dropout[] = {
        {1, {1}, 0.5f, 0, 0},
        {1, {7}, 0.5f, 3, 1},
        {2, {9, 111}, 0.1f, (UINT64_C(1) << 32) + 5, 77},
        {4, {2, 3, 5, 7}, 0.9f, 12345, (1u << 24) - 1},
        {4, {1, 5, 3, 3}, 0.0f, 1, 2}, /* p = 0: a copy */
    };
    for (int i = 0; i < (int)(sizeof dropout / sizeof dropout[0]); ++i) {
        const int nd = dropout[i].ndim;
        const int64_t *d = dropout[i].dims;
        cnn_dropout_params p = {dropout[i].p, 4242u + (uint64_t)i,
                                dropout[i].step, dropout[i].node};
        for (int back = 0; back < 2; ++back) {
            bo_case *c = add_case(
                back ? CNN_OP_DROPOUT_BWD : CNN_OP_DROPOUT_FWD,
                back ? run_dropout_bwd : run_dropout_fwd, 1,
                "%d-d, p %g step %llu node %u", nd, (double)p.p,
                (unsigned long long)p.step, (unsigned)p.node);
            out_f32(c, back ? "dx" : "y", nd, d);
            in_f32(c, back ? "dy" : "x", BO_INIT_VALUES, nd, d);
            c->p.dropout = p;
            c->exact = 1; /* the same mask, one rounding */
        }
    }

    static const struct {
        int64_t n, classes;
        int grad;
        bo_init init;
    } xent[] = {
        {1, 1, 1, BO_INIT_VALUES},  {3, 5, 1, BO_INIT_VALUES},
        {4, 10, 0, BO_INIT_VALUES}, {2, 1000, 1, BO_INIT_VALUES},
        {5, 7, 1, BO_INIT_LARGE},   {300, 3, 1, BO_INIT_VALUES},
    };
    for (int i = 0; i < (int)(sizeof xent / sizeof xent[0]); ++i) {
        const int64_t x[2] = {xent[i].n, xent[i].classes};
        const int64_t one[1] = {1};
        bo_case *c = add_case(CNN_OP_SOFTMAX_XENT, run_xent, x[1],
                              "logits %lldx%lld%s%s", (long long)x[0],
                              (long long)x[1],
                              xent[i].grad ? "" : ", no dlogits",
                              xent[i].init == BO_INIT_LARGE ? ", large" : "");
        out_f32(c, "loss", 1, one);
        if (xent[i].grad)
            out_f32(c, "dlogits", 2, x);
        in_f32(c, "logits", xent[i].init, 2, x);
        add_tensor(c, "labels", BO_IN, BO_INIT_LABELS, CNN_I32, 1, x);
        c->classes = x[1];
    }
}

/* ---- concat, split, SGD ------------------------------------------------- */

static cnn_status run_concat(const bo_case *c, cnn_tensor *const *t)
{
    return cnn_concat(t[0], (const cnn_tensor *const *)(t + 1), c->count - 1);
}
static cnn_status run_split(const bo_case *c, cnn_tensor *const *t)
{
    return cnn_split(t + 1, c->count - 1, t[0]);
}
/* param, [momentum_buf,] grad. */
static cnn_status run_sgd(const bo_case *c, cnn_tensor *const *t)
{
    return c->count == 3 ? cnn_sgd_step(t[0], t[2], t[1], &c->p.sgd)
                         : cnn_sgd_step(t[0], t[1], NULL, &c->p.sgd);
}

static void copy_and_sgd_cases(void)
{
    static const struct {
        cnn_dtype dtype;
        int ndim;
        int64_t dims[4]; /* dims[1] is replaced by each part's */
        int count;
        int64_t channels[3];
    } joins[] = {
        {CNN_F32, 4, {2, 0, 4, 5}, 3, {3, 1, 5}},
        {CNN_U8, 4, {3, 0, 3, 3}, 2, {1, 2}}, /* odd byte counts */
        {CNN_I64, 2, {4, 0}, 2, {3, 5}},
        {CNN_F16, 3, {1, 0, 7}, 3, {2, 3, 1}},
        {CNN_I32, 4, {1, 0, 1, 1}, 1, {7}}, /* one part, 1x1 image */
    };
    for (int i = 0; i < (int)(sizeof joins / sizeof joins[0]); ++i)
        for (int back = 0; back < 2; ++back) {
            int64_t whole[4], total = 0;
            for (int d = 0; d < joins[i].ndim; ++d)
                whole[d] = joins[i].dims[d];
            for (int k = 0; k < joins[i].count; ++k)
                total += joins[i].channels[k];
            whole[1] = total;
            bo_case *c = add_case(back ? CNN_OP_SPLIT : CNN_OP_CONCAT,
                                  back ? run_split : run_concat, 1,
                                  "%s %d-d, %d parts of %lld channels in all",
                                  cnn_dtype_name(joins[i].dtype),
                                  joins[i].ndim, joins[i].count,
                                  (long long)total);
            add_tensor(c, back ? "in" : "out", back ? BO_IN : BO_OUT,
                       BO_INIT_BYTES, joins[i].dtype, joins[i].ndim, whole);
            for (int k = 0; k < joins[i].count; ++k) {
                int64_t part[4];
                for (int d = 0; d < joins[i].ndim; ++d)
                    part[d] = whole[d];
                part[1] = joins[i].channels[k];
                add_tensor(c, back ? "outputs[k]" : "inputs[k]",
                           back ? BO_OUT : BO_IN, BO_INIT_BYTES,
                           joins[i].dtype, joins[i].ndim, part);
            }
            c->exact = 1;
        }

    static const cnn_sgd_params sgd[] = {
        {0.1f, 0.0f, 0.0f, 0},  {0.05f, 0.9f, 0.0f, 0},
        {0.01f, 0.9f, 5e-4f, 0}, {0.02f, 0.5f, 1e-2f, 1},
        {0.3f, 0.0f, 1e-3f, 0},
    };
    static const int64_t sizes[] = {1, 1001, 7, 64, 333};
    for (int i = 0; i < (int)(sizeof sgd / sizeof sgd[0]); ++i) {
        const int64_t d[1] = {sizes[i]};
        bo_case *c = add_case(CNN_OP_SGD_STEP, run_sgd, 2,
                              "%lld values, lr %g momentum %g wd %g%s",
                              (long long)d[0], (double)sgd[i].lr,
                              (double)sgd[i].momentum,
                              (double)sgd[i].weight_decay,
                              sgd[i].nesterov ? " nesterov" : "");
        inout_f32(c, "param", BO_INIT_VALUES, 1, d);
        if (sgd[i].momentum > 0.0f)
            inout_f32(c, "momentum_buf", BO_INIT_VALUES, 1, d);
        in_f32(c, "grad", BO_INIT_VALUES, 1, d);
        c->p.sgd = sgd[i];
    }
}

const bo_case *bo_cases(int *count)
{
    if (table_count == 0) {
        elementwise_cases();
        conv_cases();
        pool_cases();
        norm_cases();
        dense_cases();
        copy_and_sgd_cases();
    }
    *count = table_count;
    return table;
}
