/* src/cuda/sgd.cu - the SGD step on the GPU (native engine; also built
 * under the CPU emulation of CUDA): torch.optim.SGD's arithmetic, dampening
 * 0, element by element, in the order src/cpu/sgd.c writes it:
 *   d = g + wd * w            (only when wd != 0: PyTorch skips it at 0,
 *                              which matters for an infinite w)
 *   buf = momentum * buf + d  (when momentum != 0; buf is NULL otherwise)
 *   d = nesterov ? d + momentum * buf : buf
 *   w = w - lr * d
 * nvcc may contract a multiply-add into an FMA where the CPU rounds twice,
 * so the two agree to rounding, not to the bit. */
#include "cnn/optim.h"
#include "cuda_common.cuh"

static __global__ void sgd_kernel(float *__restrict__ w,
                                  float *__restrict__ buf,
                                  const float *__restrict__ g, float lr,
                                  float momentum, float wd, bool nesterov,
                                  int64_t n)
{
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
         i += (int64_t)gridDim.x * blockDim.x) {
        float d = g[i];
        float wi = w[i];
        if (wd != 0.0f)
            d = d + wd * wi;
        if (buf) {
            float b = momentum * buf[i] + d;
            buf[i] = b;
            d = nesterov ? d + momentum * b : b;
        }
        w[i] = wi - lr * d;
    }
}

static cnn_status sgd_step(const cnn_op_args *args)
{
    cnn_cuda_context *ctx = cnn_cuda_context_current(args->device);
    if (!ctx)
        return CNN_ERR_DEVICE;
    const cnn_sgd_params *p = static_cast<const cnn_sgd_params *>(args->params);
    float *buf = args->out[1] ? static_cast<float *>(args->out[1]->data)
                              : NULL;
    int64_t n = args->out[0]->numel;
    return cnn_cuda_check(
        ctx,
        CNN_LAUNCH(sgd_kernel, cnn_cuda_grid_for(ctx, n), CNN_CUDA_BLOCK, 0,
                   ctx->stream, static_cast<float *>(args->out[0]->data), buf,
                   static_cast<const float *>(args->in[0]->data), p->lr,
                   p->momentum, p->weight_decay, p->nesterov != 0, n),
        "launching sgd_kernel");
}

void cnn_cuda_register_sgd(cnn_op_fn *native)
{
    native[CNN_OP_SGD_STEP] = sgd_step;
}
