/* src/cuda/pool.cu - max and average pooling and global average pooling,
 * forward and backward, with our own kernels (native engine; also built
 * under the CPU emulation of CUDA). Semantics are src/cpu/pool.c's
 * reference engine (cnn/pool.h):
 *
 *  - max pooling's forward: each output is its window's winner, the first
 *    maximum in row-major order, or the last NaN when the window has one;
 *  - average pooling counts the padding: the divisor is the kernel's area,
 *    and the window's sum is taken in double, in row-major order;
 *  - backward is a gather, one thread per input element, over the windows
 *    that hold it, in row-major order of the outputs, so each dx is added
 *    up in the order the CPU adds it and no atomics are needed (max: a
 *    window adds its dy where it finds this element the winner again in x;
 *    average: every window adds dy / area);
 *  - global average pooling: one thread per plane sums it in double;
 *    backward broadcasts dy / (H W).
 *
 * Grid-stride loops over the outputs, one launch per call on the device's
 * stream; every index is 64-bit. */
#include <math.h>

#include "cuda_common.cuh"
#include "cnn/pool.h"

typedef struct pool_geom {
    int64_t planes, H, W, P, Q; /* x is [planes, H, W], y [planes, P, Q] */
    int64_t kh, kw, sh, sw, ph, pw;
} pool_geom;

static pool_geom geom_of(const cnn_tensor *x, const cnn_tensor *y,
                         const cnn_pool2d_params *p)
{
    pool_geom g;
    g.planes = x->dims[0] * x->dims[1];
    g.H = x->dims[2];
    g.W = x->dims[3];
    g.P = y->dims[2];
    g.Q = y->dims[3];
    g.kh = p->kernel_h;
    g.kw = p->kernel_w;
    g.sh = p->stride_h;
    g.sw = p->stride_w;
    g.ph = p->pad_h;
    g.pw = p->pad_w;
    return g;
}

static __device__ __forceinline__ int64_t max64(int64_t a, int64_t b)
{
    return a > b ? a : b;
}
static __device__ __forceinline__ int64_t min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

/* The index in its plane of the element of window (p, q) that PyTorch's
 * max pooling picks (src/cpu/pool.c's window_winner). */
static __device__ int64_t window_winner(const pool_geom g, const float *x,
                                        int64_t p, int64_t q)
{
    const int64_t h0 = p * g.sh - g.ph, w0 = q * g.sw - g.pw;
    const int64_t hs = max64(h0, 0), he = min64(h0 + g.kh, g.H);
    const int64_t ws = max64(w0, 0), we = min64(w0 + g.kw, g.W);
    int64_t best_i = hs * g.W + ws;
    float best = -INFINITY;
    for (int64_t h = hs; h < he; ++h)
        for (int64_t w = ws; w < we; ++w) {
            const float v = x[h * g.W + w];
            if (v > best || v != v) {
                best = v;
                best_i = h * g.W + w;
            }
        }
    return best_i;
}

static __global__ void max_forward_kernel(float *y, const float *x,
                                          const pool_geom g)
{
    const int64_t n = g.planes * g.P * g.Q;
    for (int64_t e = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; e < n;
         e += (int64_t)gridDim.x * blockDim.x) {
        const int64_t q = e % g.Q, p = e / g.Q % g.P, plane = e / (g.P * g.Q);
        const float *xp = x + plane * g.H * g.W;
        y[e] = xp[window_winner(g, xp, p, q)];
    }
}

static __global__ void avg_forward_kernel(float *y, const float *x,
                                          const pool_geom g)
{
    const int64_t n = g.planes * g.P * g.Q;
    const double area = (double)(g.kh * g.kw);
    for (int64_t e = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; e < n;
         e += (int64_t)gridDim.x * blockDim.x) {
        const int64_t q = e % g.Q, p = e / g.Q % g.P, plane = e / (g.P * g.Q);
        const float *xp = x + plane * g.H * g.W;
        const int64_t h0 = p * g.sh - g.ph, w0 = q * g.sw - g.pw;
        const int64_t he = min64(h0 + g.kh, g.H), we = min64(w0 + g.kw, g.W);
        double sum = 0.0;
        for (int64_t h = max64(h0, 0); h < he; ++h)
            for (int64_t w = max64(w0, 0); w < we; ++w)
                sum += xp[h * g.W + w];
        y[e] = (float)(sum / area);
    }
}

/* The outputs [lo, hi] along one axis whose windows hold input index i. */
static __device__ __forceinline__ void covering(int64_t i, int64_t k,
                                                int64_t s, int64_t pad,
                                                int64_t count, int64_t *lo,
                                                int64_t *hi)
{
    const int64_t first = i + pad - k + 1; /* p s >= first */
    *lo = first <= 0 ? 0 : (first + s - 1) / s;
    *hi = min64((i + pad) / s, count - 1);
}

/* dx of one input element: the dy of every window whose winner it is, in
 * the windows' row-major order (as the CPU adds them). */
static __global__ void max_backward_kernel(float *dx, const float *dy,
                                           const float *x, const pool_geom g)
{
    const int64_t n = g.planes * g.H * g.W;
    for (int64_t e = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; e < n;
         e += (int64_t)gridDim.x * blockDim.x) {
        const int64_t w = e % g.W, h = e / g.W % g.H, plane = e / (g.H * g.W);
        const float *xp = x + plane * g.H * g.W;
        const float *dyp = dy + plane * g.P * g.Q;
        const int64_t me = h * g.W + w;
        int64_t p0, p1, q0, q1;
        covering(h, g.kh, g.sh, g.ph, g.P, &p0, &p1);
        covering(w, g.kw, g.sw, g.pw, g.Q, &q0, &q1);
        float sum = 0.0f;
        for (int64_t p = p0; p <= p1; ++p)
            for (int64_t q = q0; q <= q1; ++q)
                if (window_winner(g, xp, p, q) == me)
                    sum += dyp[p * g.Q + q];
        dx[e] = sum;
    }
}

static __global__ void avg_backward_kernel(float *dx, const float *dy,
                                           const pool_geom g)
{
    const int64_t n = g.planes * g.H * g.W;
    const float area = (float)(g.kh * g.kw);
    for (int64_t e = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; e < n;
         e += (int64_t)gridDim.x * blockDim.x) {
        const int64_t w = e % g.W, h = e / g.W % g.H, plane = e / (g.H * g.W);
        const float *dyp = dy + plane * g.P * g.Q;
        int64_t p0, p1, q0, q1;
        covering(h, g.kh, g.sh, g.ph, g.P, &p0, &p1);
        covering(w, g.kw, g.sw, g.pw, g.Q, &q0, &q1);
        float sum = 0.0f;
        for (int64_t p = p0; p <= p1; ++p)
            for (int64_t q = q0; q <= q1; ++q)
                sum += dyp[p * g.Q + q] / area; /* as PyTorch rounds */
        dx[e] = sum;
    }
}

static __global__ void global_forward_kernel(float *y, const float *x,
                                             int64_t planes, int64_t plane)
{
    for (int64_t n = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
         n < planes; n += (int64_t)gridDim.x * blockDim.x) {
        const float *xp = x + n * plane;
        double sum = 0.0;
        for (int64_t i = 0; i < plane; ++i)
            sum += xp[i];
        y[n] = (float)(sum / (double)plane);
    }
}

static __global__ void global_backward_kernel(float *dx, const float *dy,
                                              int64_t n, int64_t plane)
{
    const float area = (float)plane;
    for (int64_t e = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; e < n;
         e += (int64_t)gridDim.x * blockDim.x)
        dx[e] = dy[e / plane] / area; /* rounded as PyTorch's mean does */
}

#define DATA(t) (static_cast<float *>((t)->data))
#define CDATA(t) (static_cast<const float *>((t)->data))

static cnn_status pool2d_forward(const cnn_op_args *args)
{
    cnn_cuda_context *ctx = cnn_cuda_context_current(args->device);
    if (!ctx)
        return CNN_ERR_DEVICE;
    const cnn_pool2d_params *p =
        static_cast<const cnn_pool2d_params *>(args->params);
    const pool_geom g = geom_of(args->in[0], args->out[0], p);
    const int64_t n = args->out[0]->numel;
    const unsigned grid = cnn_cuda_grid_for(ctx, n);
    if (p->mode == CNN_POOL_MAX)
        return cnn_cuda_check(ctx,
                              CNN_LAUNCH(max_forward_kernel, grid,
                                         CNN_CUDA_BLOCK, 0, ctx->stream,
                                         DATA(args->out[0]),
                                         CDATA(args->in[0]), g),
                              "launching max_forward_kernel");
    return cnn_cuda_check(ctx,
                          CNN_LAUNCH(avg_forward_kernel, grid, CNN_CUDA_BLOCK,
                                     0, ctx->stream, DATA(args->out[0]),
                                     CDATA(args->in[0]), g),
                          "launching avg_forward_kernel");
}

static cnn_status pool2d_backward(const cnn_op_args *args)
{
    cnn_cuda_context *ctx = cnn_cuda_context_current(args->device);
    if (!ctx)
        return CNN_ERR_DEVICE;
    const cnn_pool2d_params *p =
        static_cast<const cnn_pool2d_params *>(args->params);
    const cnn_tensor *dx = args->out[0], *dy = args->in[0], *x = args->in[1];
    const pool_geom g = geom_of(dx, dy, p);
    const int64_t n = dx->numel;
    const unsigned grid = cnn_cuda_grid_for(ctx, n);
    if (p->mode == CNN_POOL_MAX)
        return cnn_cuda_check(ctx,
                              CNN_LAUNCH(max_backward_kernel, grid,
                                         CNN_CUDA_BLOCK, 0, ctx->stream,
                                         DATA(dx), CDATA(dy), CDATA(x), g),
                              "launching max_backward_kernel");
    return cnn_cuda_check(ctx,
                          CNN_LAUNCH(avg_backward_kernel, grid, CNN_CUDA_BLOCK,
                                     0, ctx->stream, DATA(dx), CDATA(dy), g),
                          "launching avg_backward_kernel");
}

static cnn_status global_avgpool_forward(const cnn_op_args *args)
{
    cnn_cuda_context *ctx = cnn_cuda_context_current(args->device);
    if (!ctx)
        return CNN_ERR_DEVICE;
    const cnn_tensor *x = args->in[0];
    const int64_t planes = x->dims[0] * x->dims[1];
    return cnn_cuda_check(ctx,
                          CNN_LAUNCH(global_forward_kernel,
                                     cnn_cuda_grid_for(ctx, planes),
                                     CNN_CUDA_BLOCK, 0, ctx->stream,
                                     DATA(args->out[0]), CDATA(x), planes,
                                     x->dims[2] * x->dims[3]),
                          "launching global_forward_kernel");
}

static cnn_status global_avgpool_backward(const cnn_op_args *args)
{
    cnn_cuda_context *ctx = cnn_cuda_context_current(args->device);
    if (!ctx)
        return CNN_ERR_DEVICE;
    const cnn_tensor *dx = args->out[0];
    const int64_t n = dx->numel;
    return cnn_cuda_check(ctx,
                          CNN_LAUNCH(global_backward_kernel,
                                     cnn_cuda_grid_for(ctx, n), CNN_CUDA_BLOCK,
                                     0, ctx->stream, DATA(dx),
                                     CDATA(args->in[0]), n,
                                     dx->dims[2] * dx->dims[3]),
                          "launching global_backward_kernel");
}

void cnn_cuda_register_pool(cnn_op_fn *native)
{
    native[CNN_OP_POOL2D_FWD] = pool2d_forward;
    native[CNN_OP_POOL2D_BWD] = pool2d_backward;
    native[CNN_OP_GLOBAL_AVGPOOL_FWD] = global_avgpool_forward;
    native[CNN_OP_GLOBAL_AVGPOOL_BWD] = global_avgpool_backward;
}
