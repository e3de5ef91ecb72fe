/* src/cuda/batchnorm.cu - 2-d batch normalisation on the GPU, forward
 * (training and inference) and backward (native engine; also built under
 * the CPU emulation of CUDA).
 *
 * The arithmetic of src/cpu/batchnorm.c, in two launches per op. First a
 * per-channel kernel, one block per channel (blocks stride over the
 * channels): thread t sums the channel's elements t, t + BN_THREADS, ...
 * (counted over N H W in memory order) in double, then a fixed-order tree
 * in shared memory adds the threads' sums, so every channel's statistics
 * are the same bits on every run and for any grid: no atomics. The
 * forward's moments are two-pass (the mean, then sum (x - mean)^2), as in
 * the CPU's reference engine; the backward's are sum dy and
 * sum dy (x - mean) with the forward's saved float mean. Thread 0 then
 * turns them into the running and saved statistics (in double, like the
 * CPU) and into three float coefficients per channel, kept in the
 * workspace. Second an elementwise kernel over all of x:
 *   forward   y = (x - a) k + b      (a = mean, k = gamma invstd, b = beta)
 *   backward dx = (dy - b - (x - mean) k) a
 *             (a = gamma invstd; in training b = mean(dy) and
 *              k = invstd^2 mean(dy (x - mean)), else both 0),
 * the float forms the CPU's native engine uses. */
#include <math.h>

#include "cuda_common.cuh"
#include "cnn/norm.h"

/* Threads per block of the per-channel kernels (a power of two: the
 * reductions halve it). */
#define BN_THREADS 256

/* part[0] (and part2[0]) = the sums of every thread's part[t]; on return
 * all threads may read part[0], and must pass a barrier before writing
 * part again. */
static __device__ void bn_block_sum2(double *part, double *part2, int t)
{
    __syncthreads();
    for (int half = BN_THREADS / 2; half > 0; half /= 2) {
        if (t < half) {
            part[t] = part[t] + part[t + half];
            part2[t] = part2[t] + part2[t + half];
        }
        __syncthreads();
    }
}

/* Per channel: in training the batch statistics (updating the running
 * ones and writing the saves), in inference the running statistics (saved
 * when asked); then the forward's coefficients coef[0..C) = mean,
 * coef[C..2C) = gamma invstd, coef[2C..3C) = beta. */
static __global__ void bn_forward_stats_kernel(
    float *coef, float *running_mean, float *running_var, float *save_mean,
    float *save_invstd, const float *x, const float *gamma,
    const float *beta, int64_t N, int64_t C, int64_t HW, double momentum,
    double eps, int training)
{
    CNN_SHARED(double, part, [BN_THREADS]);
    CNN_SHARED(double, part2, [BN_THREADS]);
    const int t = threadIdx.x;
    const int64_t count = N * HW;
    const double m = (double)count;
    for (int64_t ch = blockIdx.x; ch < C; ch += gridDim.x) {
        float mean_f = 0.0f, invstd_f = 0.0f;
        if (training) {
            double s = 0.0;
            for (int64_t e = t; e < count; e += BN_THREADS) {
                const int64_t n = e / HW, i = e - n * HW;
                s += x[(n * C + ch) * HW + i];
            }
            part[t] = s;
            part2[t] = 0.0;
            bn_block_sum2(part, part2, t);
            const double mean = part[0] / m;
            __syncthreads(); /* everyone has the mean before part is reused */
            double q = 0.0;
            for (int64_t e = t; e < count; e += BN_THREADS) {
                const int64_t n = e / HW, i = e - n * HW;
                const double d = x[(n * C + ch) * HW + i] - mean;
                q += d * d;
            }
            part[t] = q;
            part2[t] = 0.0;
            bn_block_sum2(part, part2, t);
            if (t == 0) {
                const double var = part[0] / m;
                running_mean[ch] = (float)(momentum * mean +
                                           (1.0 - momentum) * running_mean[ch]);
                running_var[ch] =
                    (float)(momentum * var * m / (m - 1.0) +
                            (1.0 - momentum) * running_var[ch]);
                mean_f = (float)mean;
                invstd_f = (float)(1.0 / sqrt(var + eps));
                save_mean[ch] = mean_f;
                save_invstd[ch] = invstd_f;
            }
            __syncthreads(); /* part[0] read before the next channel */
        } else if (t == 0) {
            mean_f = running_mean[ch];
            invstd_f = (float)(1.0 / sqrt((double)running_var[ch] + eps));
            if (save_mean)
                save_mean[ch] = mean_f;
            if (save_invstd)
                save_invstd[ch] = invstd_f;
        }
        if (t == 0) {
            coef[ch] = mean_f;
            coef[C + ch] = gamma[ch] * invstd_f;
            coef[2 * C + ch] = beta[ch];
        }
    }
}

/* y = (x - coef[ch]) coef[C + ch] + coef[2C + ch]. */
static __global__ void bn_forward_apply_kernel(float *y, const float *x,
                                               const float *coef, int64_t C,
                                               int64_t HW, int64_t total)
{
    const int64_t stride = (int64_t)gridDim.x * blockDim.x;
    for (int64_t e = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
         e < total; e += stride) {
        const int64_t ch = (e / HW) % C;
        y[e] = (x[e] - coef[ch]) * coef[C + ch] + coef[2 * C + ch];
    }
}

/* Per channel: sum dy and sum dy (x - mean) (when `sums`), dgamma and
 * dbeta accumulated (each may be NULL), and the backward's coefficients
 * coef[0..C) = a, coef[C..2C) = b, coef[2C..3C) = k. */
static __global__ void bn_backward_stats_kernel(
    float *coef, float *dgamma, float *dbeta, const float *dy,
    const float *x, const float *gamma, const float *save_mean,
    const float *save_invstd, int64_t N, int64_t C, int64_t HW, int training,
    int sums)
{
    CNN_SHARED(double, part, [BN_THREADS]);
    CNN_SHARED(double, part2, [BN_THREADS]);
    const int t = threadIdx.x;
    const int64_t count = N * HW;
    const double m = (double)count;
    for (int64_t ch = blockIdx.x; ch < C; ch += gridDim.x) {
        const double invstd = save_invstd[ch];
        double sum_dy = 0.0, sum_dy_xmu = 0.0;
        if (sums) {
            const float mean = save_mean[ch];
            double s1 = 0.0, s2 = 0.0;
            for (int64_t e = t; e < count; e += BN_THREADS) {
                const int64_t n = e / HW, i = e - n * HW;
                const int64_t at = (n * C + ch) * HW + i;
                const double g = dy[at];
                s1 += g;
                s2 += g * (double)(x[at] - mean);
            }
            part[t] = s1;
            part2[t] = s2;
            bn_block_sum2(part, part2, t);
            sum_dy = part[0];
            sum_dy_xmu = part2[0];
            __syncthreads(); /* part[0] read before the next channel */
        }
        if (t == 0) {
            if (dgamma)
                dgamma[ch] += (float)(sum_dy_xmu * invstd);
            if (dbeta)
                dbeta[ch] += (float)sum_dy;
            coef[ch] = gamma[ch] * (float)invstd;
            coef[C + ch] = training ? (float)(sum_dy / m) : 0.0f;
            coef[2 * C + ch] =
                training ? (float)(sum_dy_xmu / m * invstd * invstd) : 0.0f;
        }
    }
}

/* dx = (dy - coef[C + ch] - (x - mean) coef[2C + ch]) coef[ch]. */
static __global__ void bn_backward_apply_kernel(float *dx, const float *dy,
                                                const float *x,
                                                const float *save_mean,
                                                const float *coef, int64_t C,
                                                int64_t HW, int64_t total)
{
    const int64_t stride = (int64_t)gridDim.x * blockDim.x;
    for (int64_t e = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
         e < total; e += stride) {
        const int64_t ch = (e / HW) % C;
        dx[e] = (dy[e] - coef[C + ch] - (x[e] - save_mean[ch]) * coef[2 * C + ch]) *
                coef[ch];
    }
}

static float *data_of(cnn_tensor *t)
{
    return t ? static_cast<float *>(t->data) : NULL;
}

static const float *cdata_of(const cnn_tensor *t)
{
    return t ? static_cast<const float *>(t->data) : NULL;
}

/* Blocks of the per-channel kernels. */
static unsigned channel_blocks(const cnn_cuda_context *ctx, int64_t C)
{
    const int64_t cap = (int64_t)ctx->sm_count * 32;
    return (unsigned)(C < cap ? (C < 1 ? 1 : C) : cap);
}

/* out {y, running_mean, running_var, save_mean, save_invstd} (the saves
 * may be NULL in inference); in {x, gamma, beta}. */
static cnn_status batchnorm2d_forward(const cnn_op_args *args)
{
    cnn_cuda_context *ctx = cnn_cuda_context_current(args->device);
    if (!ctx)
        return CNN_ERR_DEVICE;
    const cnn_batchnorm2d_params *p =
        static_cast<const cnn_batchnorm2d_params *>(args->params);
    const cnn_tensor *x = args->in[0];
    const int64_t N = x->dims[0], C = x->dims[1], HW = x->dims[2] * x->dims[3];
    void *scratch = NULL;
    cnn_status s = cnn_cuda_workspace(ctx, 3 * (size_t)C * sizeof(float),
                                      &scratch);
    if (s != CNN_OK)
        return s;
    float *coef = static_cast<float *>(scratch);
    cudaError_t err = CNN_LAUNCH(
        bn_forward_stats_kernel, channel_blocks(ctx, C), BN_THREADS, 0,
        ctx->stream, coef, data_of(args->out[1]), data_of(args->out[2]),
        data_of(args->out[3]), data_of(args->out[4]),
        static_cast<const float *>(x->data), cdata_of(args->in[1]),
        cdata_of(args->in[2]), N, C, HW, (double)p->momentum, (double)p->eps,
        p->training != 0 ? 1 : 0);
    if ((s = cnn_cuda_check(ctx, err, "launching bn_forward_stats_kernel")) !=
        CNN_OK)
        return s;
    const int64_t total = N * C * HW;
    return cnn_cuda_check(
        ctx,
        CNN_LAUNCH(bn_forward_apply_kernel, cnn_cuda_grid_for(ctx, total),
                   CNN_CUDA_BLOCK, 0, ctx->stream, data_of(args->out[0]),
                   static_cast<const float *>(x->data),
                   static_cast<const float *>(coef), C, HW, total),
        "launching bn_forward_apply_kernel");
}

/* out {dx, dgamma, dbeta} (each may be NULL);
 * in {dy, x, gamma, save_mean, save_invstd}. */
static cnn_status batchnorm2d_backward(const cnn_op_args *args)
{
    cnn_cuda_context *ctx = cnn_cuda_context_current(args->device);
    if (!ctx)
        return CNN_ERR_DEVICE;
    const cnn_batchnorm2d_params *p =
        static_cast<const cnn_batchnorm2d_params *>(args->params);
    const cnn_tensor *x = args->in[1];
    const int64_t N = x->dims[0], C = x->dims[1], HW = x->dims[2] * x->dims[3];
    float *dx = data_of(args->out[0]), *dgamma = data_of(args->out[1]),
          *dbeta = data_of(args->out[2]);
    const int training = p->training != 0 ? 1 : 0;
    const int sums = training || dgamma || dbeta;
    void *scratch = NULL;
    cnn_status s = cnn_cuda_workspace(ctx, 3 * (size_t)C * sizeof(float),
                                      &scratch);
    if (s != CNN_OK)
        return s;
    float *coef = static_cast<float *>(scratch);
    cudaError_t err = CNN_LAUNCH(
        bn_backward_stats_kernel, channel_blocks(ctx, C), BN_THREADS, 0,
        ctx->stream, coef, dgamma, dbeta, cdata_of(args->in[0]),
        static_cast<const float *>(x->data), cdata_of(args->in[2]),
        cdata_of(args->in[3]), cdata_of(args->in[4]), N, C, HW, training,
        sums);
    if ((s = cnn_cuda_check(ctx, err, "launching bn_backward_stats_kernel")) !=
            CNN_OK ||
        !dx)
        return s;
    const int64_t total = N * C * HW;
    return cnn_cuda_check(
        ctx,
        CNN_LAUNCH(bn_backward_apply_kernel, cnn_cuda_grid_for(ctx, total),
                   CNN_CUDA_BLOCK, 0, ctx->stream, dx, cdata_of(args->in[0]),
                   static_cast<const float *>(x->data), cdata_of(args->in[3]),
                   static_cast<const float *>(coef), C, HW, total),
        "launching bn_backward_apply_kernel");
}

void cnn_cuda_register_batchnorm(cnn_op_fn *native)
{
    native[CNN_OP_BATCHNORM2D_FWD] = batchnorm2d_forward;
    native[CNN_OP_BATCHNORM2D_BWD] = batchnorm2d_backward;
}
