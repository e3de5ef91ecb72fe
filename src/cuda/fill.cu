/* src/cuda/fill.cu - constant fill and the seeded inits on the GPU. The
 * inits call the same src/philox.h functions as the CPU backend, so element
 * i is the same number on both (docs/random.md). */
#include "../philox.h"
#include "cuda_common.cuh"

template <typename T>
static __global__ void fill_kernel(T *out, T value, int64_t n)
{
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
         i += (int64_t)gridDim.x * blockDim.x)
        out[i] = value;
}

static __global__ void uniform_kernel(float *out, uint64_t seed, float low,
                                      float high, int64_t n)
{
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
         i += (int64_t)gridDim.x * blockDim.x)
        out[i] = cnn_philox_uniform(seed, (uint64_t)i, low, high);
}

static __global__ void normal_kernel(float *out, uint64_t seed, float mean,
                                     float stddev, int64_t n)
{
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
         i += (int64_t)gridDim.x * blockDim.x)
        out[i] = cnn_philox_normal(seed, (uint64_t)i, mean, stddev);
}

template <typename T>
static cudaError_t launch_fill(cnn_cuda_context *ctx, void *data,
                               uint64_t pattern, int64_t n)
{
    return CNN_LAUNCH(fill_kernel<T>, cnn_cuda_grid_for(ctx, n), CNN_CUDA_BLOCK,
                      0, ctx->stream, static_cast<T *>(data),
                      static_cast<T>(pattern), n);
}

cnn_status cnn_cuda_fill(const cnn_op_args *args)
{
    cnn_cuda_context *ctx = cnn_cuda_context_current(args->device);
    if (!ctx)
        return CNN_ERR_DEVICE;
    const cnn_fill_params *params =
        static_cast<const cnn_fill_params *>(args->params);
    cnn_tensor *t = args->out[0];
    size_t size = t->bytes / (size_t)t->numel;
    cudaError_t err;
    switch (size) {
    case 1: err = launch_fill<uint8_t>(ctx, t->data, params->pattern, t->numel); break;
    case 2: err = launch_fill<uint16_t>(ctx, t->data, params->pattern, t->numel); break;
    case 4: err = launch_fill<uint32_t>(ctx, t->data, params->pattern, t->numel); break;
    default: err = launch_fill<uint64_t>(ctx, t->data, params->pattern, t->numel); break;
    }
    return cnn_cuda_check(ctx, err, "launching fill_kernel");
}

cnn_status cnn_cuda_uniform(const cnn_op_args *args)
{
    cnn_cuda_context *ctx = cnn_cuda_context_current(args->device);
    if (!ctx)
        return CNN_ERR_DEVICE;
    const cnn_random_params *p =
        static_cast<const cnn_random_params *>(args->params);
    int64_t n = args->out[0]->numel;
    return cnn_cuda_check(ctx,
                          CNN_LAUNCH(uniform_kernel, cnn_cuda_grid_for(ctx, n),
                                     CNN_CUDA_BLOCK, 0, ctx->stream,
                                     static_cast<float *>(args->out[0]->data),
                                     p->seed, p->a, p->b, n),
                          "launching uniform_kernel");
}

cnn_status cnn_cuda_normal(const cnn_op_args *args)
{
    cnn_cuda_context *ctx = cnn_cuda_context_current(args->device);
    if (!ctx)
        return CNN_ERR_DEVICE;
    const cnn_random_params *p =
        static_cast<const cnn_random_params *>(args->params);
    int64_t n = args->out[0]->numel;
    return cnn_cuda_check(ctx,
                          CNN_LAUNCH(normal_kernel, cnn_cuda_grid_for(ctx, n),
                                     CNN_CUDA_BLOCK, 0, ctx->stream,
                                     static_cast<float *>(args->out[0]->data),
                                     p->seed, p->a, p->b, n),
                          "launching normal_kernel");
}
