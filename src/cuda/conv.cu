/* src/cuda/conv.cu - 2-d convolution on the GPU (native engine; also built
 * under the CPU emulation of CUDA): im2col and our GEMM (gemm.cu), image by
 * image, with the same semantics as src/cpu/conv.c.
 *
 * Per image, the input is unfolded into col [C * R * S, P * Q] (row
 * (c, r, s), column (oh, ow); zero where the tap falls in the padding),
 * whose rows split by group into [C/g * R * S, P * Q] blocks; then, one GEMM
 * launch over the groups:
 *   forward   y_n,g [K/g, PQ]        = w_g [K/g, C/g RS] col_g (+ b)
 *   data      dcol_g [C/g RS, PQ]    = w_g^T dy_n,g, then col2im: each
 *             input element gathers its taps in (r, s) order (no atomics)
 *   filter    dw_g [K/g, C/g RS]    += dy_n,g col_g^T, images in order
 *   bias      db[k] += the sum of dy over images and pixels (gemm.cu's
 *             fixed-order channel sum)
 * dx is overwritten, dw and db accumulate. A 1x1 kernel with stride 1 and
 * no padding needs no unfolding: col is the image itself. Everything is
 * summed in a fixed order: the same bits on every run. */
#include "cnn/conv.h"
#include "gemm.cuh"

#define CDATA(t) (static_cast<const float *>((t)->data))
#define DATA(t) (static_cast<float *>((t)->data))

typedef struct conv_shape {
    int64_t n, c, h, w;  /* x [n, c, h, w] */
    int64_t k, r, s;     /* w [k, c / groups, r, s] */
    int64_t p, q;        /* y [n, k, p, q] */
    int64_t stride_h, stride_w, pad_h, pad_w, dilation_h, dilation_w;
    int64_t groups, cg, kg, taps; /* taps = cg * r * s */
} conv_shape;

static conv_shape shape_of(const int64_t x[4], const int64_t w[4],
                           const int64_t y[4], const cnn_conv2d_params *p)
{
    conv_shape s;
    s.n = x[0];
    s.c = x[1];
    s.h = x[2];
    s.w = x[3];
    s.k = w[0];
    s.r = w[2];
    s.s = w[3];
    s.p = y[2];
    s.q = y[3];
    s.stride_h = p->stride_h;
    s.stride_w = p->stride_w;
    s.pad_h = p->pad_h;
    s.pad_w = p->pad_w;
    s.dilation_h = p->dilation_h;
    s.dilation_w = p->dilation_w;
    s.groups = p->groups;
    s.cg = s.c / s.groups;
    s.kg = s.k / s.groups;
    s.taps = s.cg * s.r * s.s;
    return s;
}

/* col is the image itself: a 1x1 kernel, stride 1, no padding. */
static bool is_pointwise(const conv_shape *s)
{
    return s->r == 1 && s->s == 1 && s->stride_h == 1 && s->stride_w == 1 &&
           s->pad_h == 0 && s->pad_w == 0;
}

/* col [c * r * s, p * q] from one image x [c, h, w]. */
static __global__ void im2col_kernel(float *col, const float *x,
                                     conv_shape s)
{
    const int64_t pixels = s.p * s.q, total = s.c * s.r * s.s * pixels;
    for (int64_t e = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
         e < total; e += (int64_t)gridDim.x * blockDim.x) {
        const int64_t row = e / pixels, pix = e % pixels;
        const int64_t oh = pix / s.q, ow = pix % s.q;
        const int64_t ch = row / (s.r * s.s), tap = row % (s.r * s.s);
        const int64_t ih = oh * s.stride_h - s.pad_h + tap / s.s * s.dilation_h;
        const int64_t iw = ow * s.stride_w - s.pad_w + tap % s.s * s.dilation_w;
        float v = 0.0f;
        if (ih >= 0 && ih < s.h && iw >= 0 && iw < s.w)
            v = x[(ch * s.h + ih) * s.w + iw];
        col[e] = v;
    }
}

/* dx [c, h, w] of one image from dcol [c * r * s, p * q]: each element sums
 * the columns that read it, taps in (r, s) order. */
static __global__ void col2im_kernel(float *dx, const float *col,
                                     conv_shape s)
{
    const int64_t pixels = s.p * s.q, total = s.c * s.h * s.w;
    for (int64_t e = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
         e < total; e += (int64_t)gridDim.x * blockDim.x) {
        const int64_t ch = e / (s.h * s.w), ih = e / s.w % s.h, iw = e % s.w;
        float acc = 0.0f;
        for (int64_t r = 0; r < s.r; ++r) {
            const int64_t th = ih + s.pad_h - r * s.dilation_h;
            if (th < 0 || th % s.stride_h)
                continue;
            const int64_t oh = th / s.stride_h;
            if (oh >= s.p)
                continue;
            for (int64_t q = 0; q < s.s; ++q) {
                const int64_t tw = iw + s.pad_w - q * s.dilation_w;
                if (tw < 0 || tw % s.stride_w)
                    continue;
                const int64_t ow = tw / s.stride_w;
                if (ow < s.q)
                    acc += col[((ch * s.r + r) * s.s + q) * pixels +
                               oh * s.q + ow];
            }
        }
        dx[e] = acc;
    }
}

/* The context, the shape and (unless pointwise) col's scratch. */
static cnn_status prepare(const cnn_op_args *args, const cnn_tensor *x,
                          const cnn_tensor *w, const cnn_tensor *y,
                          cnn_cuda_context **ctx, conv_shape *s, float **col)
{
    *ctx = cnn_cuda_context_current(args->device);
    if (!*ctx)
        return CNN_ERR_DEVICE;
    *s = shape_of(x->dims, w->dims, y->dims,
                  static_cast<const cnn_conv2d_params *>(args->params));
    *col = NULL;
    if (is_pointwise(s))
        return CNN_OK;
    void *scratch = NULL;
    size_t bytes = (size_t)(s->c * s->r * s->s) * (size_t)(s->p * s->q) *
                   sizeof(float);
    cnn_status st = cnn_cuda_workspace(*ctx, bytes, &scratch);
    *col = static_cast<float *>(scratch);
    return st;
}

static cudaError_t im2col(cnn_cuda_context *ctx, float *col, const float *x,
                          const conv_shape *s)
{
    return CNN_LAUNCH(im2col_kernel,
                      cnn_cuda_grid_for(ctx, s->c * s->r * s->s * s->p * s->q),
                      CNN_CUDA_BLOCK, 0, ctx->stream, col, x, *s);
}

static cnn_status conv_forward(const cnn_op_args *args)
{
    const cnn_tensor *x = args->in[0], *w = args->in[1], *b = args->in[2];
    const cnn_tensor *y = args->out[0];
    cnn_cuda_context *ctx;
    conv_shape s;
    float *col;
    cnn_status st = prepare(args, x, w, y, &ctx, &s, &col);
    if (st != CNN_OK)
        return st;
    const int64_t pixels = s.p * s.q;
    cnn_cuda_gemm_args g = {};
    g.m = s.kg;
    g.n = pixels;
    g.k = s.taps;
    g.batch = s.groups;
    g.alpha = 1.0f;
    g.a = CDATA(w);
    g.lda = s.taps;
    g.stride_a = s.kg * s.taps;
    g.ldb = pixels;
    g.stride_b = s.taps * pixels;
    g.ldc = pixels;
    g.stride_c = s.kg * pixels;
    g.row_bias = b ? CDATA(b) : NULL;
    g.stride_bias = s.kg;
    cudaError_t err = cudaSuccess;
    for (int64_t n = 0; n < s.n && err == cudaSuccess; ++n) {
        const float *xn = CDATA(x) + n * s.c * s.h * s.w;
        if (col)
            err = im2col(ctx, col, xn, &s);
        g.b = col ? col : xn;
        g.c = DATA(y) + n * s.k * pixels;
        if (err == cudaSuccess)
            err = cnn_cuda_sgemm(ctx, &g);
    }
    return cnn_cuda_check(ctx, err, "launching the conv2d forward kernels");
}

static cnn_status conv_backward_data(const cnn_op_args *args)
{
    const cnn_tensor *dy = args->in[0], *w = args->in[1];
    const cnn_tensor *dx = args->out[0];
    cnn_cuda_context *ctx;
    conv_shape s;
    float *col;
    cnn_status st = prepare(args, dx, w, dy, &ctx, &s, &col);
    if (st != CNN_OK)
        return st;
    const int64_t pixels = s.p * s.q;
    cnn_cuda_gemm_args g = {};
    g.m = s.taps;
    g.n = pixels;
    g.k = s.kg;
    g.batch = s.groups;
    g.alpha = 1.0f;
    g.trans_a = true;
    g.a = CDATA(w);
    g.lda = s.taps;
    g.stride_a = s.kg * s.taps;
    g.ldb = pixels;
    g.stride_b = s.kg * pixels;
    g.ldc = pixels;
    g.stride_c = s.taps * pixels;
    cudaError_t err = cudaSuccess;
    for (int64_t n = 0; n < s.n && err == cudaSuccess; ++n) {
        float *dxn = DATA(dx) + n * s.c * s.h * s.w;
        g.b = CDATA(dy) + n * s.k * pixels;
        g.c = col ? col : dxn;
        err = cnn_cuda_sgemm(ctx, &g);
        if (col && err == cudaSuccess)
            err = CNN_LAUNCH(col2im_kernel,
                             cnn_cuda_grid_for(ctx, s.c * s.h * s.w),
                             CNN_CUDA_BLOCK, 0, ctx->stream, dxn,
                             (const float *)col, s);
    }
    return cnn_cuda_check(ctx, err,
                          "launching the conv2d data gradient kernels");
}

static cnn_status conv_backward_filter(const cnn_op_args *args)
{
    const cnn_tensor *dy = args->in[0], *x = args->in[1];
    const cnn_tensor *dw = args->out[0];
    cnn_cuda_context *ctx;
    conv_shape s;
    float *col;
    cnn_status st = prepare(args, x, dw, dy, &ctx, &s, &col);
    if (st != CNN_OK)
        return st;
    const int64_t pixels = s.p * s.q;
    cnn_cuda_gemm_args g = {};
    g.m = s.kg;
    g.n = s.taps;
    g.k = pixels;
    g.batch = s.groups;
    g.alpha = 1.0f;
    g.beta = 1.0f; /* dw accumulates, images in order */
    g.lda = pixels;
    g.stride_a = s.kg * pixels;
    g.trans_b = true;
    g.ldb = pixels;
    g.stride_b = s.taps * pixels;
    g.c = DATA(dw);
    g.ldc = s.taps;
    g.stride_c = s.kg * s.taps;
    cudaError_t err = cudaSuccess;
    for (int64_t n = 0; n < s.n && err == cudaSuccess; ++n) {
        const float *xn = CDATA(x) + n * s.c * s.h * s.w;
        if (col)
            err = im2col(ctx, col, xn, &s);
        g.a = CDATA(dy) + n * s.k * pixels;
        g.b = col ? col : xn;
        if (err == cudaSuccess)
            err = cnn_cuda_sgemm(ctx, &g);
    }
    return cnn_cuda_check(ctx, err,
                          "launching the conv2d filter gradient kernels");
}

static cnn_status conv_backward_bias(const cnn_op_args *args)
{
    cnn_cuda_context *ctx = cnn_cuda_context_current(args->device);
    if (!ctx)
        return CNN_ERR_DEVICE;
    const cnn_tensor *dy = args->in[0];
    const int64_t n = dy->dims[0], k = dy->dims[1],
                  pixels = dy->dims[2] * dy->dims[3];
    return cnn_cuda_check(ctx,
                          cnn_cuda_channel_sum(ctx, DATA(args->out[0]),
                                               CDATA(dy), k, n, k * pixels,
                                               pixels, pixels),
                          "launching channel_sum_kernel (conv2d bias "
                          "gradient)");
}

void cnn_cuda_register_conv(cnn_op_fn *native)
{
    native[CNN_OP_CONV2D_FWD] = conv_forward;
    native[CNN_OP_CONV2D_BWD_DATA] = conv_backward_data;
    native[CNN_OP_CONV2D_BWD_FILTER] = conv_backward_filter;
    native[CNN_OP_CONV2D_BWD_BIAS] = conv_backward_bias;
}
