/* src/conv.c - checks and dispatch of 2-d convolution: the output shape,
 * the forward (CONV2D_FWD) and the three backward ops (CONV2D_BWD_DATA,
 * CONV2D_BWD_FILTER, CONV2D_BWD_BIAS).
 *
 * Slots, all with params = the caller's cnn_conv2d_params:
 *   CONV2D_FWD         in {x, w, b or NULL}  out {y}
 *   CONV2D_BWD_DATA    in {dy, w}            out {dx}  (overwritten)
 *   CONV2D_BWD_FILTER  in {dy, x}            out {dw}  (accumulated)
 *   CONV2D_BWD_BIAS    in {dy}               out {db}  (accumulated)
 */
#include "check.h"
#include "checked.h"

/* Strides, paddings and dilations are kept below 2^31 (sizes no real
 * layer approaches); the extents are computed with checked arithmetic
 * (src/checked.h) all the same. */
#define CONV_PARAM_LIMIT ((int64_t)1 << 31)

cnn_conv2d_params cnn_conv2d_params_default(void)
{
    return (cnn_conv2d_params){.stride_h = 1, .stride_w = 1, .pad_h = 0,
                               .pad_w = 0, .dilation_h = 1, .dilation_w = 1,
                               .groups = 1};
}

static cnn_status check_range(const char *caller, const char *name,
                              int64_t value, int64_t least)
{
    if (value >= least && value < CONV_PARAM_LIMIT)
        return CNN_OK;
    return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                     "%s: %s is %lld but must be in [%lld, 2^31)", caller,
                     name, (long long)value, (long long)least);
}

static cnn_status check_params(const char *caller, const cnn_conv2d_params *p)
{
    if (!p)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT, "%s: p is NULL", caller);
    cnn_status s;
    if ((s = check_range(caller, "stride_h", p->stride_h, 1)) != CNN_OK ||
        (s = check_range(caller, "stride_w", p->stride_w, 1)) != CNN_OK ||
        (s = check_range(caller, "pad_h", p->pad_h, 0)) != CNN_OK ||
        (s = check_range(caller, "pad_w", p->pad_w, 0)) != CNN_OK ||
        (s = check_range(caller, "dilation_h", p->dilation_h, 1)) != CNN_OK ||
        (s = check_range(caller, "dilation_w", p->dilation_w, 1)) != CNN_OK ||
        (s = check_range(caller, "groups", p->groups, 1)) != CNN_OK)
        return s;
    return CNN_OK;
}

/* The output extent of one spatial dimension, or -1 when the dilated
 * kernel does not fit in the padded input, or -2 when the padded input or
 * the dilated kernel does not fit in int64_t. */
static int64_t out_extent(int64_t in, int64_t kernel, int64_t stride,
                          int64_t pad, int64_t dilation)
{
    int64_t out = 0;
    cnn_window_fit fit = cnn_checked_window(in, kernel, stride, pad, dilation,
                                            &out);
    return fit == CNN_WINDOW_FITS ? out : fit == CNN_WINDOW_OVERFLOW ? -2 : -1;
}

/* The shape checks of cnn_conv2d_output_shape, with messages that name the
 * tensors as the caller knows them. */
static cnn_status output_shape(const char *caller, const char *x_name,
                               const int64_t x[4], const char *w_name,
                               const int64_t w[4], const cnn_conv2d_params *p,
                               int64_t y[4])
{
    for (int i = 0; i < 4; ++i) {
        if (x[i] < 1 || w[i] < 1) {
            const char *name = x[i] < 1 ? x_name : w_name;
            long long v = x[i] < 1 ? (long long)x[i] : (long long)w[i];
            return cnn_error(CNN_ERR_SHAPE,
                             "%s: %s has size %lld in dimension %d", caller,
                             name, v, i);
        }
    }
    if (x[1] % p->groups)
        return cnn_error(CNN_ERR_SHAPE,
                         "%s: %s has %lld channels, not divisible by groups "
                         "%lld", caller, x_name, (long long)x[1],
                         (long long)p->groups);
    if (w[0] % p->groups)
        return cnn_error(CNN_ERR_SHAPE,
                         "%s: %s has %lld output channels, not divisible by "
                         "groups %lld", caller, w_name, (long long)w[0],
                         (long long)p->groups);
    int64_t expected = 0;
    if (!cnn_checked_mul_i64(w[1], p->groups, &expected) || expected != x[1])
        return cnn_error(CNN_ERR_SHAPE,
                         "%s: %s has %lld channels but %s expects %lld per "
                         "group, %lld groups", caller, x_name, (long long)x[1],
                         w_name, (long long)w[1], (long long)p->groups);
    int64_t ph = out_extent(x[2], w[2], p->stride_h, p->pad_h, p->dilation_h);
    int64_t pw = out_extent(x[3], w[3], p->stride_w, p->pad_w, p->dilation_w);
    if (ph == -2 || pw == -2)
        return cnn_error(CNN_ERR_SHAPE,
                         "%s: the %lldx%lld input of %s padded by %lldx%lld, "
                         "or the %lldx%lld kernel of %s dilated by %lldx%lld, "
                         "is too large (its extent overflows)", caller,
                         (long long)x[2], (long long)x[3], x_name,
                         (long long)p->pad_h, (long long)p->pad_w,
                         (long long)w[2], (long long)w[3], w_name,
                         (long long)p->dilation_h, (long long)p->dilation_w);
    if (ph < 0 || pw < 0)
        return cnn_error(CNN_ERR_SHAPE,
                         "%s: the %lldx%lld kernel of %s (dilation %lldx%lld) "
                         "is larger than the %lldx%lld input of %s padded by "
                         "%lldx%lld", caller, (long long)w[2], (long long)w[3],
                         w_name, (long long)p->dilation_h,
                         (long long)p->dilation_w, (long long)x[2],
                         (long long)x[3], x_name, (long long)p->pad_h,
                         (long long)p->pad_w);
    y[0] = x[0];
    y[1] = w[0];
    y[2] = ph;
    y[3] = pw;
    return CNN_OK;
}

cnn_status cnn_conv2d_output_shape(const int64_t x_dims[4],
                                   const int64_t w_dims[4],
                                   const cnn_conv2d_params *p,
                                   int64_t y_dims[4])
{
    static const char caller[] = "cnn_conv2d_output_shape";
    if (!x_dims || !w_dims || !y_dims)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT, "%s: %s is NULL", caller,
                         !x_dims ? "x_dims" : !w_dims ? "w_dims" : "y_dims");
    cnn_status s = check_params(caller, p);
    if (s != CNN_OK)
        return s;
    return output_shape(caller, "x", x_dims, "w", w_dims, p, y_dims);
}

cnn_status cnn_conv2d_forward(cnn_tensor *y, const cnn_tensor *x,
                              const cnn_tensor *w, const cnn_tensor *b,
                              const cnn_conv2d_params *p)
{
    static const char caller[] = "cnn_conv2d_forward";
    cnn_status s;
    int64_t dims[4];
    if ((s = cnn_check_f32(caller, "x", x, 4, NULL, NULL)) != CNN_OK ||
        (s = cnn_check_f32(caller, "w", w, 4, "x", x)) != CNN_OK ||
        (s = cnn_check_f32(caller, "y", y, 4, "x", x)) != CNN_OK ||
        (s = check_params(caller, p)) != CNN_OK ||
        (s = output_shape(caller, "x", x->dims, "w", w->dims, p, dims)) !=
            CNN_OK ||
        (s = cnn_check_dims(caller, "y", y, 4, dims)) != CNN_OK)
        return s;
    if (b && (s = cnn_check_vector(caller, "b", b, w->dims[0], "x", x)) != CNN_OK)
        return s;
    const cnn_operand ops[] = {{"y", y, true, NULL}, {"x", x, false, NULL},
                               {"w", w, false, NULL}, {"b", b, false, NULL}};
    if ((s = cnn_check_operands(caller, ops, 4)) != CNN_OK)
        return s;
    cnn_op_args args = {.op = CNN_OP_CONV2D_FWD, .out = {y}, .in = {x, w, b},
                        .params = p};
    return cnn_dispatch(caller, y->device, &args);
}

/* The backward call's arguments: every tensor given is checked, and the
 * shapes that are known (x from x or dx, w from w or dw) must chain with
 * dy. */
static cnn_status check_backward(const char *caller, const cnn_tensor *dx,
                                 const cnn_tensor *dw, const cnn_tensor *db,
                                 const cnn_tensor *dy, const cnn_tensor *x,
                                 const cnn_tensor *w,
                                 const cnn_conv2d_params *p)
{
    cnn_status s;
    if ((s = cnn_check_f32(caller, "dy", dy, 4, NULL, NULL)) != CNN_OK ||
        (s = check_params(caller, p)) != CNN_OK)
        return s;
    if ((s = cnn_check_gradients(caller, 4, dx, dw, db, dy, x, w)) != CNN_OK)
        return s;
    const cnn_tensor *xs = x ? x : dx, *ws = w ? w : dw;
    const char *x_name = x ? "x" : "dx", *w_name = w ? "w" : "dw";
    if (xs && ws) {
        int64_t dims[4];
        if ((s = output_shape(caller, x_name, xs->dims, w_name, ws->dims, p,
                              dims)) != CNN_OK ||
            (s = cnn_check_dims(caller, "dy", dy, 4, dims)) != CNN_OK)
            return s;
    } else if (xs && xs->dims[0] != dy->dims[0]) {
        return cnn_error(CNN_ERR_SHAPE,
                         "%s: dy has batch %lld but %s has %lld", caller,
                         (long long)dy->dims[0], x_name,
                         (long long)xs->dims[0]);
    } else if (ws && ws->dims[0] != dy->dims[1]) {
        return cnn_error(CNN_ERR_SHAPE,
                         "%s: dy has %lld channels but %s has %lld outputs",
                         caller, (long long)dy->dims[1], w_name,
                         (long long)ws->dims[0]);
    }
    return CNN_OK;
}

cnn_status cnn_conv2d_backward(cnn_tensor *dx, cnn_tensor *dw, cnn_tensor *db,
                               const cnn_tensor *dy, const cnn_tensor *x,
                               const cnn_tensor *w,
                               const cnn_conv2d_params *p)
{
    static const char caller[] = "cnn_conv2d_backward";
    cnn_status s = check_backward(caller, dx, dw, db, dy, x, w, p);
    if (s != CNN_OK)
        return s;
    const cnn_operand ops[] = {{"dx", dx, true, NULL}, {"dw", dw, true, NULL},
                               {"db", db, true, NULL}, {"dy", dy, false, NULL},
                               {"x", x, false, NULL},  {"w", w, false, NULL}};
    if ((s = cnn_check_operands(caller, ops, 6)) != CNN_OK)
        return s;
    if (dx) {
        cnn_op_args args = {.op = CNN_OP_CONV2D_BWD_DATA, .out = {dx},
                            .in = {dy, w}, .params = p};
        if ((s = cnn_dispatch(caller, dy->device, &args)) != CNN_OK)
            return s;
    }
    if (dw) {
        cnn_op_args args = {.op = CNN_OP_CONV2D_BWD_FILTER, .out = {dw},
                            .in = {dy, x}, .params = p};
        if ((s = cnn_dispatch(caller, dy->device, &args)) != CNN_OK)
            return s;
    }
    if (db) {
        cnn_op_args args = {.op = CNN_OP_CONV2D_BWD_BIAS, .out = {db},
                            .in = {dy}, .params = p};
        if ((s = cnn_dispatch(caller, dy->device, &args)) != CNN_OK)
            return s;
    }
    return CNN_OK;
}
