/* src/cuda/lrn.cu - local response normalisation across channels, forward
 * and backward, with our own kernels (native engine; also built under the
 * CPU emulation of CUDA). The arithmetic is src/cpu/lrn.c's (cnn/norm.h):
 *
 *   s_c = k + alpha / size * sum_{j in W(c)} x_j^2,   y_c = x_c s_c^-beta
 *   W(c) = c - size/2 .. c + (size-1)/2, clipped to c's group of channels
 *   dx_i = dy_i s_i^-beta
 *          - 2 alpha beta / size * x_i
 *            * sum_{c : i in W(c)} dy_c x_c s_c^-beta / s_c
 *
 * One thread per element, grid-stride. Each window sum is added up in
 * float, in channel order (every term of the forward's is a square). The
 * backward takes two launches: the first writes s^-beta and
 * t = dy x s^-beta / s of every element into the workspace, the second sums
 * t over the mirrored window c - (size-1)/2 .. c + size/2. No atomics, no
 * shared memory: each output depends on its own reads alone. */
#include <math.h>

#include "cuda_common.cuh"
#include "cnn/norm.h"

/* s^-beta has exact-enough forms for AlexNet's beta and its kin, the ones
 * the CPU's native engine uses. */
enum { POW_THREE_QUARTERS, POW_HALF, POW_ONE, POW_ANY };

typedef struct lrn_geom {
    int64_t n;             /* elements: N C HW */
    int64_t C, HW;
    int64_t group;         /* channels per group */
    int64_t before, after; /* W(c) = c - before .. c + after */
    float k, alpha_n, beta; /* alpha_n = alpha / size */
    int kind;
} lrn_geom;

static lrn_geom geom_of(const cnn_tensor *x, const cnn_lrn_params *p)
{
    lrn_geom g;
    g.n = x->numel;
    g.C = x->dims[1];
    g.HW = x->dims[2] * x->dims[3];
    g.group = x->dims[1] / p->groups;
    g.before = p->size / 2;
    g.after = (p->size - 1) / 2;
    g.k = p->k;
    g.alpha_n = p->alpha / (float)p->size;
    g.beta = p->beta;
    g.kind = p->beta == 0.75f ? POW_THREE_QUARTERS
             : p->beta == 0.5f ? POW_HALF
             : p->beta == 1.0f ? POW_ONE : POW_ANY;
    return g;
}

static __device__ __forceinline__ float inv_pow(int kind, float beta, float s)
{
    switch (kind) {
    case POW_THREE_QUARTERS: {
        const float r = sqrtf(s);
        return 1.0f / (r * sqrtf(r));
    }
    case POW_HALF:
        return 1.0f / sqrtf(s);
    case POW_ONE:
        return 1.0f / s;
    default:
        return powf(s, -beta);
    }
}

/* s of element e (channel c), from the squares of its window: x0 points at
 * channel 0 of e's pixel. */
static __device__ float lrn_scale(const lrn_geom g, const float *x0, int64_t c)
{
    const int64_t g0 = c / g.group * g.group;
    const int64_t lo = c - g.before > g0 ? c - g.before : g0;
    const int64_t hi =
        c + g.after < g0 + g.group - 1 ? c + g.after : g0 + g.group - 1;
    float sum = 0.0f;
    for (int64_t j = lo; j <= hi; ++j) {
        const float v = x0[j * g.HW];
        sum += v * v;
    }
    return g.k + g.alpha_n * sum;
}

static __global__ void lrn_forward_kernel(float *y, const float *x,
                                          const lrn_geom g)
{
    for (int64_t e = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; e < g.n;
         e += (int64_t)gridDim.x * blockDim.x) {
        const int64_t c = e / g.HW % g.C;
        const float s = lrn_scale(g, x + (e - c * g.HW), c);
        y[e] = x[e] * inv_pow(g.kind, g.beta, s);
    }
}

/* pw = s^-beta and t = dy x s^-beta / s of every element. */
static __global__ void lrn_backward_terms_kernel(float *pw, float *t,
                                                 const float *dy,
                                                 const float *x,
                                                 const lrn_geom g)
{
    for (int64_t e = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; e < g.n;
         e += (int64_t)gridDim.x * blockDim.x) {
        const int64_t c = e / g.HW % g.C;
        const float s = lrn_scale(g, x + (e - c * g.HW), c);
        const float p = inv_pow(g.kind, g.beta, s);
        pw[e] = p;
        t[e] = dy[e] * x[e] * p / s;
    }
}

/* dx = dy pw - 2 alpha_n beta x * (t summed over the channels whose window
 * holds this one: c - after .. c + before, clipped to the group). */
static __global__ void lrn_backward_kernel(float *dx, const float *dy,
                                           const float *x, const float *pw,
                                           const float *t, const lrn_geom g)
{
    const float coef = 2.0f * g.alpha_n * g.beta;
    for (int64_t e = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; e < g.n;
         e += (int64_t)gridDim.x * blockDim.x) {
        const int64_t c = e / g.HW % g.C;
        const float *t0 = t + (e - c * g.HW);
        const int64_t g0 = c / g.group * g.group;
        const int64_t lo = c - g.after > g0 ? c - g.after : g0;
        const int64_t hi = c + g.before < g0 + g.group - 1 ? c + g.before
                                                           : g0 + g.group - 1;
        float sum = 0.0f;
        for (int64_t j = lo; j <= hi; ++j)
            sum += t0[j * g.HW];
        dx[e] = dy[e] * pw[e] - coef * x[e] * sum;
    }
}

#define DATA(t) (static_cast<float *>((t)->data))
#define CDATA(t) (static_cast<const float *>((t)->data))

static cnn_status lrn_forward(const cnn_op_args *args)
{
    cnn_cuda_context *ctx = cnn_cuda_context_current(args->device);
    if (!ctx)
        return CNN_ERR_DEVICE;
    const lrn_geom g =
        geom_of(args->in[0], static_cast<const cnn_lrn_params *>(args->params));
    return cnn_cuda_check(ctx,
                          CNN_LAUNCH(lrn_forward_kernel,
                                     cnn_cuda_grid_for(ctx, g.n),
                                     CNN_CUDA_BLOCK, 0, ctx->stream,
                                     DATA(args->out[0]), CDATA(args->in[0]),
                                     g),
                          "launching lrn_forward_kernel");
}

/* in {dy, x, y}: y is not needed, s is recomputed from x. */
static cnn_status lrn_backward(const cnn_op_args *args)
{
    cnn_cuda_context *ctx = cnn_cuda_context_current(args->device);
    if (!ctx)
        return CNN_ERR_DEVICE;
    const cnn_tensor *dy = args->in[0], *x = args->in[1];
    const lrn_geom g =
        geom_of(x, static_cast<const cnn_lrn_params *>(args->params));
    void *scratch = NULL;
    cnn_status s = cnn_cuda_workspace(
        ctx, 2 * (size_t)g.n * sizeof(float), &scratch);
    if (s != CNN_OK)
        return s;
    float *pw = static_cast<float *>(scratch), *t = pw + g.n;
    const unsigned grid = cnn_cuda_grid_for(ctx, g.n);
    s = cnn_cuda_check(ctx,
                       CNN_LAUNCH(lrn_backward_terms_kernel, grid,
                                  CNN_CUDA_BLOCK, 0, ctx->stream, pw, t,
                                  CDATA(dy), CDATA(x), g),
                       "launching lrn_backward_terms_kernel");
    if (s != CNN_OK)
        return s;
    return cnn_cuda_check(ctx,
                          CNN_LAUNCH(lrn_backward_kernel, grid, CNN_CUDA_BLOCK,
                                     0, ctx->stream, DATA(args->out[0]),
                                     CDATA(dy), CDATA(x), pw, t, g),
                          "launching lrn_backward_kernel");
}

void cnn_cuda_register_lrn(cnn_op_fn *native)
{
    native[CNN_OP_LRN_FWD] = lrn_forward;
    native[CNN_OP_LRN_BWD] = lrn_backward;
}
