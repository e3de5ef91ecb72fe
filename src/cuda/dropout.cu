/* src/cuda/dropout.cu - dropout forward and backward on the GPU (native
 * engine; also built under the CPU emulation of CUDA).
 *
 * Both compute out = in * (keep ? 1 / (1 - p) : 0) with the mask of
 * src/philox.h, as src/cpu/dropout.c does, so the backward regenerates the
 * forward's mask and every device gives the same bits for the same (seed,
 * step, node): one product, rounded once, with the scale computed in float
 * on the host exactly as the CPU computes it. Each thread takes one Philox
 * block, that is four consecutive elements, so a block is drawn once. */
#include "../philox.h"
#include "cnn/dense.h"
#include "cuda_common.cuh"

static __global__ void dropout_kernel(float *out, const float *in,
                                      uint64_t seed, uint64_t step,
                                      uint32_t node, float p, float scale,
                                      int64_t n)
{
    const int64_t blocks = (n + 3) / 4;
    for (int64_t b = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
         b < blocks; b += (int64_t)gridDim.x * blockDim.x) {
        cnn_philox_u32x4 r =
            cnn_philox_dropout_block(seed, step, node, (uint64_t)b);
        const int64_t i = 4 * b;
        const int lanes = n - i < 4 ? (int)(n - i) : 4;
        /* out may be in: each element is read, then written, by one thread. */
        for (int k = 0; k < lanes; ++k)
            out[i + k] = in[i + k] *
                         (cnn_philox_dropout_keeps(r.v[k], p) ? scale : 0.0f);
    }
}

static cnn_status dropout(const cnn_op_args *args)
{
    cnn_cuda_context *ctx = cnn_cuda_context_current(args->device);
    if (!ctx)
        return CNN_ERR_DEVICE;
    const cnn_dropout_params *p =
        static_cast<const cnn_dropout_params *>(args->params);
    float *out = static_cast<float *>(args->out[0]->data);
    const float *in = static_cast<const float *>(args->in[0]->data);
    const int64_t n = args->out[0]->numel;
    if (p->p == 0.0f) /* every element kept and scaled by exactly 1 */
        return out == in ? CNN_OK
                         : cnn_cuda_check(ctx,
                                          cudaMemcpyAsync(
                                              out, in, args->out[0]->bytes,
                                              cudaMemcpyDeviceToDevice,
                                              ctx->stream),
                                          "copying dropout's input");
    const float scale = 1.0f / (1.0f - p->p);
    return cnn_cuda_check(ctx,
                          CNN_LAUNCH(dropout_kernel,
                                     cnn_cuda_grid_for(ctx, (n + 3) / 4),
                                     CNN_CUDA_BLOCK, 0, ctx->stream, out, in,
                                     p->seed, p->step, p->node, p->p, scale, n),
                          "launching dropout_kernel");
}

void cnn_cuda_register_dropout(cnn_op_fn *native)
{
    native[CNN_OP_DROPOUT_FWD] = dropout;
    native[CNN_OP_DROPOUT_BWD] = dropout;
}
