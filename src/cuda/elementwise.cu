/* src/cuda/elementwise.cu - add, scale and ReLU kernels (and the
 * registration of fill.cu's): grid-stride loops
 * over the elements, one launch per call on the device's stream. */
#include "cuda_common.cuh"

/* out may be a or b (the net adds a gradient into itself: cnn_add(g, g,
 * s)), so no pointer is __restrict__. */
static __global__ void add_kernel(float *out, const float *a, const float *b,
                                  int64_t n)
{
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
         i += (int64_t)gridDim.x * blockDim.x)
        out[i] = a[i] + b[i];
}

static __global__ void scale_kernel(float *out, const float *x, float alpha,
                                    int64_t n)
{
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
         i += (int64_t)gridDim.x * blockDim.x)
        out[i] = alpha * x[i];
}

static __global__ void relu_forward_kernel(float *y, const float *x, int64_t n)
{
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
         i += (int64_t)gridDim.x * blockDim.x) {
        float v = x[i];
        y[i] = v > 0.0f || v != v ? v : 0.0f; /* NaN propagates */
    }
}

static __global__ void relu_backward_kernel(float *dx, const float *dy,
                                            const float *y, int64_t n)
{
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
         i += (int64_t)gridDim.x * blockDim.x)
        dx[i] = y[i] > 0.0f ? dy[i] : 0.0f;
}

#define DATA(t) (static_cast<float *>((t)->data))
#define CDATA(t) (static_cast<const float *>((t)->data))

static cnn_status add(const cnn_op_args *args)
{
    cnn_cuda_context *ctx = cnn_cuda_context_current(args->device);
    if (!ctx)
        return CNN_ERR_DEVICE;
    int64_t n = args->out[0]->numel;
    return cnn_cuda_check(ctx,
                          CNN_LAUNCH(add_kernel, cnn_cuda_grid_for(ctx, n),
                                     CNN_CUDA_BLOCK, 0, ctx->stream,
                                     DATA(args->out[0]), CDATA(args->in[0]),
                                     CDATA(args->in[1]), n),
                          "launching add_kernel");
}

static cnn_status scale(const cnn_op_args *args)
{
    cnn_cuda_context *ctx = cnn_cuda_context_current(args->device);
    if (!ctx)
        return CNN_ERR_DEVICE;
    const cnn_scale_params *params =
        static_cast<const cnn_scale_params *>(args->params);
    int64_t n = args->out[0]->numel;
    return cnn_cuda_check(ctx,
                          CNN_LAUNCH(scale_kernel, cnn_cuda_grid_for(ctx, n),
                                     CNN_CUDA_BLOCK, 0, ctx->stream,
                                     DATA(args->out[0]), CDATA(args->in[0]),
                                     params->alpha, n),
                          "launching scale_kernel");
}

static cnn_status relu_forward(const cnn_op_args *args)
{
    cnn_cuda_context *ctx = cnn_cuda_context_current(args->device);
    if (!ctx)
        return CNN_ERR_DEVICE;
    int64_t n = args->out[0]->numel;
    return cnn_cuda_check(ctx,
                          CNN_LAUNCH(relu_forward_kernel,
                                     cnn_cuda_grid_for(ctx, n), CNN_CUDA_BLOCK,
                                     0, ctx->stream, DATA(args->out[0]),
                                     CDATA(args->in[0]), n),
                          "launching relu_forward_kernel");
}

static cnn_status relu_backward(const cnn_op_args *args)
{
    cnn_cuda_context *ctx = cnn_cuda_context_current(args->device);
    if (!ctx)
        return CNN_ERR_DEVICE;
    int64_t n = args->out[0]->numel;
    return cnn_cuda_check(ctx,
                          CNN_LAUNCH(relu_backward_kernel,
                                     cnn_cuda_grid_for(ctx, n), CNN_CUDA_BLOCK,
                                     0, ctx->stream, DATA(args->out[0]),
                                     CDATA(args->in[0]), CDATA(args->in[1]), n),
                          "launching relu_backward_kernel");
}

void cnn_cuda_register_elementwise(cnn_op_fn *native)
{
    native[CNN_OP_FILL] = cnn_cuda_fill;
    native[CNN_OP_UNIFORM] = cnn_cuda_uniform;
    native[CNN_OP_NORMAL] = cnn_cuda_normal;
    native[CNN_OP_ADD] = add;
    native[CNN_OP_SCALE] = scale;
    native[CNN_OP_RELU_FWD] = relu_forward;
    native[CNN_OP_RELU_BWD] = relu_backward;
}
