/* src/cuda/pool_cudnn.cu - the vendor engine's pooling: max and average
 * pooling forward and backward on cudnnPoolingForward/Backward, and global
 * average pooling (a pooling window the size of the image forward; a
 * broadcasting cudnnAddTensor backward).
 *
 * Semantics against the CPU's (PyTorch's):
 * - max pooling is CUDNN_POOLING_MAX_DETERMINISTIC (the plain mode's
 *   backward adds with atomics where windows overlap), NaN propagated, so a
 *   window with a NaN gives NaN as on the CPU, and padding never wins.
 *   Which element of a window with a tied maximum (or with NaNs) receives
 *   the gradient is not documented by cuDNN, while the CPU gives it to the
 *   first maximum in row-major order, or to the last NaN. Since that
 *   cannot be made to match, the max-pooling backward is unsupported on
 *   this engine (CNN_ERR_UNSUPPORTED: AUTO runs our kernel, which routes
 *   as the CPU does); the forward, whose value has no such choice, stays.
 * - average pooling counts the padding
 *   (CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING): the divisor is always
 *   kernel_h kernel_w, as on the CPU, since in floor mode with padding at
 *   most half the kernel no window reaches past the padding. Its backward
 *   agrees with the CPU's within float rounding (cuDNN's order of adding
 *   the shares of overlapping windows is its own), as our kernels do. */
#include "vendor_cudnn.cuh"
#include "cnn/pool.h"

struct pool_call {
    cnn_cuda_context *ctx = nullptr;
    cudnnHandle_t handle = nullptr;
    cnn_cudnn_tensor x, y;
    cudnnPoolingDescriptor_t pool = nullptr;
    ~pool_call()
    {
        if (pool)
            cudnnDestroyPoolingDescriptor(pool);
    }
};

/* The descriptors for pooling x_dims into y_dims with window, padding and
 * stride given as {h, w} pairs. */
static cnn_status prepare(const cnn_op_args *args, const char *op,
                          cudnnPoolingMode_t mode, const int64_t *x_dims,
                          const int64_t *y_dims, const int64_t window[2],
                          const int64_t pad[2], const int64_t stride[2],
                          pool_call *c)
{
    const int64_t sizes[6] = {window[0], window[1], pad[0], pad[1], stride[0],
                              stride[1]};
    cnn_status s;
    if ((s = cnn_cudnn_begin(args, &c->ctx, &c->handle)) != CNN_OK)
        return s;
    if (!cnn_cudnn_fits_int(op, 6, sizes))
        return CNN_ERR_UNSUPPORTED;
    if ((s = c->x.set(c->ctx, op, x_dims)) != CNN_OK ||
        (s = c->y.set(c->ctx, op, y_dims)) != CNN_OK ||
        (s = cnn_cudnn_check(c->ctx, cudnnCreatePoolingDescriptor(&c->pool),
                             "cudnnCreatePoolingDescriptor")) != CNN_OK)
        return s;
    return cnn_cudnn_check(c->ctx,
                           cudnnSetPooling2dDescriptor(c->pool, mode,
                                                       CUDNN_PROPAGATE_NAN,
                                                       (int)window[0],
                                                       (int)window[1],
                                                       (int)pad[0], (int)pad[1],
                                                       (int)stride[0],
                                                       (int)stride[1]),
                           "cudnnSetPooling2dDescriptor");
}

static cnn_status prepare_pool2d(const cnn_op_args *args, const char *op,
                                 const int64_t *x_dims, const int64_t *y_dims,
                                 pool_call *c)
{
    const cnn_pool2d_params *p =
        static_cast<const cnn_pool2d_params *>(args->params);
    const int64_t window[2] = {p->kernel_h, p->kernel_w};
    const int64_t pad[2] = {p->pad_h, p->pad_w};
    const int64_t stride[2] = {p->stride_h, p->stride_w};
    cudnnPoolingMode_t mode = p->mode == CNN_POOL_MAX
                                  ? CUDNN_POOLING_MAX_DETERMINISTIC
                                  : CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING;
    return prepare(args, op, mode, x_dims, y_dims, window, pad, stride, c);
}

/* out {y}  in {x} */
static cnn_status pool2d_forward(const cnn_op_args *args)
{
    pool_call c;
    cnn_status s = prepare_pool2d(args, "pool2d_forward", args->in[0]->dims,
                                  args->out[0]->dims, &c);
    if (s != CNN_OK)
        return s;
    const float one = 1.0f, zero = 0.0f;
    return cnn_cudnn_check(c.ctx,
                           cudnnPoolingForward(c.handle, c.pool, &one, c.x.desc,
                                               args->in[0]->data, &zero,
                                               c.y.desc, args->out[0]->data),
                           "cudnnPoolingForward");
}

/* out {dx}  in {dy, x, y}: x is NULL only for average pooling, y may be
 * NULL. cuDNN's backward reads x and y for max pooling (it finds each
 * window's winner as the element equal to y), so a missing y is recomputed
 * into the workspace; average pooling reads neither, but cuDNN takes their
 * pointers, so dy and dx stand in. */
static cnn_status pool2d_backward(const cnn_op_args *args)
{
    const cnn_pool2d_params *p =
        static_cast<const cnn_pool2d_params *>(args->params);
    cnn_tensor *dx = args->out[0];
    const cnn_tensor *dy = args->in[0];
    if (p->mode == CNN_POOL_MAX)
        return cnn_backend_error(cnn_cuda_host, CNN_ERR_UNSUPPORTED,
                                 "pool2d_backward: cuDNN does not document "
                                 "which tied maximum or NaN receives the "
                                 "gradient, so its max-pooling backward "
                                 "cannot match the CPU's; use the native "
                                 "engine");
    pool_call c;
    cnn_status s = prepare_pool2d(args, "pool2d_backward", dx->dims, dy->dims,
                                  &c);
    if (s != CNN_OK)
        return s;
    const float one = 1.0f, zero = 0.0f;
    const void *x = args->in[1] ? args->in[1]->data : dx->data;
    const void *y = args->in[2] ? args->in[2]->data : dy->data;
    if (p->mode == CNN_POOL_MAX && !args->in[2]) {
        void *scratch = nullptr;
        if ((s = cnn_cuda_workspace(c.ctx, dy->bytes, &scratch)) != CNN_OK ||
            (s = cnn_cudnn_check(c.ctx,
                                 cudnnPoolingForward(c.handle, c.pool, &one,
                                                     c.x.desc, x, &zero,
                                                     c.y.desc, scratch),
                                 "cudnnPoolingForward (y for the backward)")) !=
                CNN_OK)
            return s;
        y = scratch;
    }
    return cnn_cudnn_check(c.ctx,
                           cudnnPoolingBackward(c.handle, c.pool, &one,
                                                c.y.desc, y, c.y.desc,
                                                dy->data, c.x.desc, x, &zero,
                                                c.x.desc, dx->data),
                           "cudnnPoolingBackward");
}

/* out {y [N, C, 1, 1]}  in {x [N, C, H, W]}: one average window over the
 * whole image (no padding, so counting it changes nothing). */
static cnn_status global_avgpool_forward(const cnn_op_args *args)
{
    const int64_t *x_dims = args->in[0]->dims;
    const int64_t window[2] = {x_dims[2], x_dims[3]};
    const int64_t pad[2] = {0, 0};
    pool_call c;
    cnn_status s = prepare(args, "global_avgpool_forward",
                           CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING, x_dims,
                           args->out[0]->dims, window, pad, window, &c);
    if (s != CNN_OK)
        return s;
    const float one = 1.0f, zero = 0.0f;
    return cnn_cudnn_check(c.ctx,
                           cudnnPoolingForward(c.handle, c.pool, &one, c.x.desc,
                                               args->in[0]->data, &zero,
                                               c.y.desc, args->out[0]->data),
                           "cudnnPoolingForward (global average)");
}

/* out {dx [N, C, H, W]}  in {dy [N, C, 1, 1]}: dx = dy / (H W) broadcast,
 * which is cudnnAddTensor's broadcast of a tensor with unit dimensions
 * (beta 0: dx is overwritten, and cuDNN does not read an output whose
 * beta is 0). */
static cnn_status global_avgpool_backward(const cnn_op_args *args)
{
    const cnn_tensor *dx = args->out[0], *dy = args->in[0];
    cnn_cuda_context *ctx;
    cudnnHandle_t handle;
    cnn_cudnn_tensor dx_desc, dy_desc;
    static const char op[] = "global_avgpool_backward";
    cnn_status s;
    if ((s = cnn_cudnn_begin(args, &ctx, &handle)) != CNN_OK ||
        (s = dx_desc.set(ctx, op, dx->dims)) != CNN_OK ||
        (s = dy_desc.set(ctx, op, dy->dims)) != CNN_OK)
        return s;
    const float scale = (float)(1.0 / (double)(dx->dims[2] * dx->dims[3]));
    const float zero = 0.0f;
    return cnn_cudnn_check(ctx,
                           cudnnAddTensor(handle, &scale, dy_desc.desc,
                                          dy->data, &zero, dx_desc.desc,
                                          dx->data),
                           "cudnnAddTensor (global average backward)");
}

void cnn_cuda_register_pool_cudnn(cnn_op_fn *vendor)
{
    vendor[CNN_OP_POOL2D_FWD] = pool2d_forward;
    vendor[CNN_OP_POOL2D_BWD] = pool2d_backward;
    vendor[CNN_OP_GLOBAL_AVGPOOL_FWD] = global_avgpool_forward;
    vendor[CNN_OP_GLOBAL_AVGPOOL_BWD] = global_avgpool_backward;
}
