/* src/pool.c - checks and dispatch of max and average pooling and global
 * average pooling (cnn/pool.h).
 *
 * Slots, in the backends' in[] and out[] order:
 *   POOL2D_FWD          out {y}   in {x}             params cnn_pool2d_params
 *   POOL2D_BWD          out {dx}  in {dy, x, y}      params cnn_pool2d_params
 *                       (x may be NULL for average pooling, y always may be)
 *   GLOBAL_AVGPOOL_FWD  out {y}   in {x}
 *   GLOBAL_AVGPOOL_BWD  out {dx}  in {dy}
 */
#include <stdint.h>

#include "check.h"
#include "checked.h"

static cnn_status check_params(const char *caller,
                               const cnn_pool2d_params *p)
{
    if (!p)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT, "%s: params is NULL",
                         caller);
    if (p->mode != CNN_POOL_MAX && p->mode != CNN_POOL_AVG)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                         "%s: mode %d is neither CNN_POOL_MAX nor CNN_POOL_AVG",
                         caller, (int)p->mode);
    if (p->kernel_h < 1 || p->kernel_w < 1)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                         "%s: kernel %lldx%lld must be at least 1x1", caller,
                         (long long)p->kernel_h, (long long)p->kernel_w);
    if (p->stride_h < 1 || p->stride_w < 1)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                         "%s: stride %lldx%lld must be at least 1x1", caller,
                         (long long)p->stride_h, (long long)p->stride_w);
    if (p->pad_h < 0 || p->pad_w < 0 || p->pad_h > p->kernel_h / 2 ||
        p->pad_w > p->kernel_w / 2)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                         "%s: padding %lldx%lld must be between 0 and half "
                         "the kernel %lldx%lld", caller, (long long)p->pad_h,
                         (long long)p->pad_w, (long long)p->kernel_h,
                         (long long)p->kernel_w);
    return CNN_OK;
}

/* One spatial extent: the input `in` padded by `pad` on both sides must
 * hold the kernel; the output has (in + 2 pad - kernel) / stride + 1. */
static cnn_status output_extent(const char *caller, const char *what,
                                int64_t in, int64_t kernel, int64_t stride,
                                int64_t pad, int64_t *out)
{
    cnn_window_fit fit = cnn_checked_window(in, kernel, stride, pad, 1, out);
    if (fit == CNN_WINDOW_OVERFLOW)
        return cnn_error(CNN_ERR_SHAPE,
                         "%s: the input %s %lld padded by %lld on each side is "
                         "too large (its extent overflows)", caller, what,
                         (long long)in, (long long)pad);
    if (fit != CNN_WINDOW_FITS)
        return cnn_error(CNN_ERR_SHAPE,
                         "%s: kernel %s %lld is larger than the input %s %lld "
                         "padded by %lld on each side", caller, what,
                         (long long)kernel, what, (long long)in,
                         (long long)pad);
    return CNN_OK;
}

/* The output dims of pooling x_dims with p (p already checked). */
static cnn_status output_dims(const char *caller, const int64_t x_dims[4],
                              const cnn_pool2d_params *p, int64_t y_dims[4])
{
    for (int i = 0; i < 4; ++i)
        if (x_dims[i] < 1) {
            char shape[128];
            cnn_dims_text(4, x_dims, shape, sizeof shape);
            return cnn_error(CNN_ERR_SHAPE,
                             "%s: input shape %s has a dimension below 1",
                             caller, shape);
        }
    cnn_status s;
    int64_t out_h = 0, out_w = 0;
    if ((s = output_extent(caller, "height", x_dims[2], p->kernel_h,
                           p->stride_h, p->pad_h, &out_h)) != CNN_OK ||
        (s = output_extent(caller, "width", x_dims[3], p->kernel_w,
                           p->stride_w, p->pad_w, &out_w)) != CNN_OK)
        return s;
    y_dims[0] = x_dims[0];
    y_dims[1] = x_dims[1];
    y_dims[2] = out_h;
    y_dims[3] = out_w;
    return CNN_OK;
}

cnn_status cnn_pool2d_output_shape(const int64_t x_dims[4],
                                   const cnn_pool2d_params *p,
                                   int64_t y_dims[4])
{
    static const char caller[] = "cnn_pool2d_output_shape";
    if (!x_dims)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT, "%s: x_dims is NULL",
                         caller);
    if (!y_dims)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT, "%s: y_dims is NULL",
                         caller);
    cnn_status s = check_params(caller, p);
    return s != CNN_OK ? s : output_dims(caller, x_dims, p, y_dims);
}

cnn_status cnn_pool2d_forward(cnn_tensor *y, const cnn_tensor *x,
                              const cnn_pool2d_params *p)
{
    static const char caller[] = "cnn_pool2d_forward";
    int64_t y_dims[4];
    cnn_status s;
    if ((s = cnn_check_tensor(caller, "x", x, CNN_F32, 4)) != CNN_OK ||
        (s = cnn_check_tensor(caller, "y", y, CNN_F32, 4)) != CNN_OK ||
        (s = cnn_check_device(caller, "y", y, "x", x)) != CNN_OK ||
        (s = check_params(caller, p)) != CNN_OK ||
        (s = output_dims(caller, x->dims, p, y_dims)) != CNN_OK ||
        (s = cnn_check_dims(caller, "y", y, 4, y_dims)) != CNN_OK ||
        (s = cnn_check_apart(caller, "y", y, "x", x)) != CNN_OK)
        return s;
    cnn_op_args args = {.op = CNN_OP_POOL2D_FWD, .out = {y}, .in = {x},
                        .params = p};
    return cnn_dispatch(caller, y->device, &args);
}

cnn_status cnn_pool2d_backward(cnn_tensor *dx, const cnn_tensor *dy,
                               const cnn_tensor *x, const cnn_tensor *y,
                               const cnn_pool2d_params *p)
{
    static const char caller[] = "cnn_pool2d_backward";
    int64_t y_dims[4];
    cnn_status s;
    if ((s = cnn_check_tensor(caller, "dx", dx, CNN_F32, 4)) != CNN_OK ||
        (s = cnn_check_tensor(caller, "dy", dy, CNN_F32, 4)) != CNN_OK ||
        (s = cnn_check_device(caller, "dy", dy, "dx", dx)) != CNN_OK ||
        (s = check_params(caller, p)) != CNN_OK ||
        (s = output_dims(caller, dx->dims, p, y_dims)) != CNN_OK ||
        (s = cnn_check_dims(caller, "dy", dy, 4, y_dims)) != CNN_OK ||
        (s = cnn_check_apart(caller, "dx", dx, "dy", dy)) != CNN_OK)
        return s;
    if (p->mode == CNN_POOL_MAX && !x)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                         "%s: x is NULL (max pooling finds the winner of each "
                         "window in x)", caller);
    if (x && ((s = cnn_check_tensor(caller, "x", x, CNN_F32, 4)) != CNN_OK ||
              (s = cnn_check_like(caller, "x", x, "dx", dx)) != CNN_OK ||
              (s = cnn_check_apart(caller, "dx", dx, "x", x)) != CNN_OK))
        return s;
    if (y && ((s = cnn_check_tensor(caller, "y", y, CNN_F32, 4)) != CNN_OK ||
              (s = cnn_check_like(caller, "y", y, "dy", dy)) != CNN_OK ||
              (s = cnn_check_apart(caller, "dx", dx, "y", y)) != CNN_OK))
        return s;
    cnn_op_args args = {.op = CNN_OP_POOL2D_BWD, .out = {dx},
                        .in = {dy, x, y}, .params = p};
    return cnn_dispatch(caller, dx->device, &args);
}

cnn_status cnn_global_avgpool_forward(cnn_tensor *y, const cnn_tensor *x)
{
    static const char caller[] = "cnn_global_avgpool_forward";
    cnn_status s;
    if ((s = cnn_check_tensor(caller, "x", x, CNN_F32, 4)) != CNN_OK ||
        (s = cnn_check_tensor(caller, "y", y, CNN_F32, 4)) != CNN_OK ||
        (s = cnn_check_device(caller, "y", y, "x", x)) != CNN_OK)
        return s;
    const int64_t y_dims[4] = {x->dims[0], x->dims[1], 1, 1};
    if ((s = cnn_check_dims(caller, "y", y, 4, y_dims)) != CNN_OK ||
        (s = cnn_check_apart(caller, "y", y, "x", x)) != CNN_OK)
        return s;
    cnn_op_args args = {.op = CNN_OP_GLOBAL_AVGPOOL_FWD, .out = {y},
                        .in = {x}};
    return cnn_dispatch(caller, y->device, &args);
}

cnn_status cnn_global_avgpool_backward(cnn_tensor *dx, const cnn_tensor *dy)
{
    static const char caller[] = "cnn_global_avgpool_backward";
    cnn_status s;
    if ((s = cnn_check_tensor(caller, "dx", dx, CNN_F32, 4)) != CNN_OK ||
        (s = cnn_check_tensor(caller, "dy", dy, CNN_F32, 4)) != CNN_OK ||
        (s = cnn_check_device(caller, "dy", dy, "dx", dx)) != CNN_OK)
        return s;
    const int64_t dy_dims[4] = {dx->dims[0], dx->dims[1], 1, 1};
    if ((s = cnn_check_dims(caller, "dy", dy, 4, dy_dims)) != CNN_OK ||
        (s = cnn_check_apart(caller, "dx", dx, "dy", dy)) != CNN_OK)
        return s;
    cnn_op_args args = {.op = CNN_OP_GLOBAL_AVGPOOL_BWD, .out = {dx},
                        .in = {dy}};
    return cnn_dispatch(caller, dx->device, &args);
}
