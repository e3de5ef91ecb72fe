/* src/cuda/batchnorm_cudnn.cu - the vendor engine's 2-d batch norm on
 * cuDNN (CUDNN_BATCHNORM_SPATIAL: one mean and variance per channel over N,
 * H and W), with the CPU's outputs (cnn/norm.h):
 * - training: cudnnBatchNormalizationForwardTraining, whose exponential
 *   average factor is our momentum (running = (1 - m) running + m batch),
 *   whose running variance is the unbiased one (as PyTorch's, which hands
 *   its running_var to this very call), and whose saved mean and inverse
 *   standard deviation 1 / sqrt(var + eps) are our save_mean and
 *   save_invstd;
 * - inference: cudnnBatchNormalizationForwardInference, then save_mean and
 *   save_invstd, when given, from the running statistics (cuDNN writes
 *   none: a copy and a one-line kernel);
 * - backward in training mode: cudnnBatchNormalizationBackward with the
 *   saved statistics, dx overwritten (beta 0), dgamma and dbeta
 *   accumulated (beta 1); gradients not asked for go to scratch, since
 *   cuDNN writes all three. In inference mode (statistics constant) cuDNN
 *   has no backward: CNN_ERR_UNSUPPORTED.
 * eps below 1e-5, the least that cuDNN 9's batch-norm reference accepts
 * (the header's CUDNN_BN_MIN_EPSILON is 0 and says nothing), is
 * CNN_ERR_UNSUPPORTED. Our eps is a float: 1e-5f is 9.99999974e-6 in
 * double, below the bound, so it is passed as 1e-5 (a change of 2.5e-14,
 * far below float rounding); the inference path's own kernel keeps the
 * float, as the CPU does. */
#include <math.h>

#include "vendor_cudnn.cuh"
#include "cnn/norm.h"

/* invstd[c] = 1 / sqrt(var[c] + eps), in double as the CPU rounds it. */
static __global__ void invstd_kernel(float *invstd, const float *var,
                                     double eps, int64_t n)
{
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
         i += (int64_t)gridDim.x * blockDim.x)
        invstd[i] = (float)(1.0 / sqrt((double)var[i] + eps));
}

struct bn_call {
    cnn_cuda_context *ctx = nullptr;
    cudnnHandle_t handle = nullptr;
    cnn_cudnn_tensor x, channels; /* [N, C, H, W] and [1, C, 1, 1] */
    double eps = 0.0;             /* what cuDNN gets */
};

/* The least epsilon of cudnnBatchNormalization* (cuDNN 9 API reference). */
static const double cudnn_bn_min_eps = 1e-5;

static cnn_status prepare(const cnn_op_args *args, const char *op,
                          const cnn_tensor *x, bn_call *c)
{
    const cnn_batchnorm2d_params *p =
        static_cast<const cnn_batchnorm2d_params *>(args->params);
    cnn_status s;
    if ((s = cnn_cudnn_begin(args, &c->ctx, &c->handle)) != CNN_OK)
        return s;
    c->eps = p->eps == (float)cudnn_bn_min_eps ? cudnn_bn_min_eps
                                               : (double)p->eps;
    if (!(c->eps >= cudnn_bn_min_eps))
        return cnn_backend_error(cnn_cuda_host, CNN_ERR_UNSUPPORTED,
                                 "%s: eps %g is below cuDNN's least, %g; use "
                                 "the native engine", op, (double)p->eps,
                                 cudnn_bn_min_eps);
    if ((s = c->x.set(c->ctx, op, x->dims)) != CNN_OK)
        return s;
    return c->channels.set(c->ctx, op, 1, x->dims[1], 1, 1);
}

/* out {y, running_mean, running_var, save_mean, save_invstd}
 * in {x, gamma, beta} */
static cnn_status batchnorm2d_forward(const cnn_op_args *args)
{
    static const char op[] = "batchnorm2d_forward";
    const cnn_batchnorm2d_params *p =
        static_cast<const cnn_batchnorm2d_params *>(args->params);
    const cnn_tensor *x = args->in[0], *gamma = args->in[1],
                     *beta = args->in[2];
    cnn_tensor *y = args->out[0], *running_mean = args->out[1],
               *running_var = args->out[2], *save_mean = args->out[3],
               *save_invstd = args->out[4];
    bn_call c;
    cnn_status s = prepare(args, op, x, &c);
    if (s != CNN_OK)
        return s;
    const float one = 1.0f, zero = 0.0f;
    if (p->training)
        return cnn_cudnn_check(
            c.ctx,
            cudnnBatchNormalizationForwardTraining(
                c.handle, CUDNN_BATCHNORM_SPATIAL, &one, &zero, c.x.desc,
                x->data, c.x.desc, y->data, c.channels.desc, gamma->data,
                beta->data, (double)p->momentum, running_mean->data,
                running_var->data, c.eps, save_mean->data,
                save_invstd->data),
            "cudnnBatchNormalizationForwardTraining");
    s = cnn_cudnn_check(c.ctx,
                        cudnnBatchNormalizationForwardInference(
                            c.handle, CUDNN_BATCHNORM_SPATIAL, &one, &zero,
                            c.x.desc, x->data, c.x.desc, y->data,
                            c.channels.desc, gamma->data, beta->data,
                            running_mean->data, running_var->data, c.eps),
                        "cudnnBatchNormalizationForwardInference");
    if (s == CNN_OK && save_mean)
        s = cnn_cuda_check(c.ctx,
                           cudaMemcpyAsync(save_mean->data, running_mean->data,
                                           running_mean->bytes,
                                           cudaMemcpyDeviceToDevice,
                                           c.ctx->stream),
                           "copying the running mean to save_mean");
    if (s == CNN_OK && save_invstd) {
        int64_t n = save_invstd->numel;
        s = cnn_cuda_check(c.ctx,
                           CNN_LAUNCH(invstd_kernel, cnn_cuda_grid_for(c.ctx, n),
                                      CNN_CUDA_BLOCK, 0, c.ctx->stream,
                                      static_cast<float *>(save_invstd->data),
                                      static_cast<const float *>(
                                          running_var->data),
                                      (double)p->eps, n),
                           "launching invstd_kernel");
    }
    return s;
}

/* out {dx, dgamma, dbeta} (each may be NULL)
 * in {dy, x, gamma, save_mean, save_invstd} */
static cnn_status batchnorm2d_backward(const cnn_op_args *args)
{
    static const char op[] = "batchnorm2d_backward";
    const cnn_batchnorm2d_params *p =
        static_cast<const cnn_batchnorm2d_params *>(args->params);
    const cnn_tensor *dy = args->in[0], *x = args->in[1],
                     *gamma = args->in[2], *save_mean = args->in[3],
                     *save_invstd = args->in[4];
    if (!p->training)
        return cnn_backend_error(cnn_cuda_host, CNN_ERR_UNSUPPORTED,
                                 "%s: cuDNN has no inference-mode backward "
                                 "(constant statistics); use the native "
                                 "engine", op);
    bn_call c;
    cnn_status s = prepare(args, op, x, &c);
    if (s != CNN_OK)
        return s;
    /* Scratch for the gradients not asked for: dx, then dgamma and dbeta,
     * each 256-byte aligned. */
    size_t dx_bytes = (x->bytes + 255) & ~(size_t)255;
    size_t ch_bytes = ((size_t)x->dims[1] * sizeof(float) + 255) & ~(size_t)255;
    size_t need = (args->out[0] ? 0 : dx_bytes) +
                  (args->out[1] ? 0 : ch_bytes) + (args->out[2] ? 0 : ch_bytes);
    char *scratch = nullptr;
    void *ws = nullptr;
    if ((s = cnn_cuda_workspace(c.ctx, need, &ws)) != CNN_OK)
        return s;
    scratch = static_cast<char *>(ws);
    void *out[3];
    const size_t sizes[3] = {dx_bytes, ch_bytes, ch_bytes};
    for (int i = 0; i < 3; ++i) {
        if (args->out[i]) {
            out[i] = args->out[i]->data;
        } else {
            out[i] = scratch;
            scratch += sizes[i];
        }
    }
    const float one = 1.0f, zero = 0.0f;
    return cnn_cudnn_check(c.ctx,
                           cudnnBatchNormalizationBackward(
                               c.handle, CUDNN_BATCHNORM_SPATIAL, &one, &zero,
                               &one, &one, c.x.desc, x->data, c.x.desc,
                               dy->data, c.x.desc, out[0], c.channels.desc,
                               gamma->data, out[1], out[2], c.eps,
                               save_mean->data, save_invstd->data),
                           "cudnnBatchNormalizationBackward");
}

void cnn_cuda_register_batchnorm_cudnn(cnn_op_fn *vendor)
{
    vendor[CNN_OP_BATCHNORM2D_FWD] = batchnorm2d_forward;
    vendor[CNN_OP_BATCHNORM2D_BWD] = batchnorm2d_backward;
}
