/* src/cuda/linear.cu - the fully connected layer on the GPU (native
 * engine; also built under the CPU emulation of CUDA): three calls of our
 * GEMM (gemm.cu) and a fixed-order column sum, as src/cpu/linear.c.
 *   forward   y [n, out]  = x [n, in] w^T + b
 *   data      dx [n, in]  = dy [n, out] w [out, in]      (overwritten)
 *   weight    dw [out, in] += dy^T x                      (accumulated)
 *   bias      db [out] += the column sums of dy           (accumulated) */
#include "gemm.cuh"

#define CDATA(t) (static_cast<const float *>((t)->data))
#define DATA(t) (static_cast<float *>((t)->data))

static cnn_cuda_gemm_args gemm_args(int64_t m, int64_t n, int64_t k)
{
    cnn_cuda_gemm_args g = {};
    g.m = m;
    g.n = n;
    g.k = k;
    g.batch = 1;
    g.alpha = 1.0f;
    return g;
}

static cnn_status linear_forward(const cnn_op_args *args)
{
    cnn_cuda_context *ctx = cnn_cuda_context_current(args->device);
    if (!ctx)
        return CNN_ERR_DEVICE;
    const cnn_tensor *x = args->in[0], *w = args->in[1], *b = args->in[2];
    const int64_t n = x->dims[0], in = x->dims[1], outs = w->dims[0];
    cnn_cuda_gemm_args g = gemm_args(n, outs, in);
    g.a = CDATA(x);
    g.lda = in;
    g.b = CDATA(w);
    g.ldb = in;
    g.trans_b = true;
    g.c = DATA(args->out[0]);
    g.ldc = outs;
    g.col_bias = b ? CDATA(b) : NULL;
    return cnn_cuda_check(ctx, cnn_cuda_sgemm(ctx, &g),
                          "launching sgemm_kernel (linear forward)");
}

static cnn_status linear_backward_data(const cnn_op_args *args)
{
    cnn_cuda_context *ctx = cnn_cuda_context_current(args->device);
    if (!ctx)
        return CNN_ERR_DEVICE;
    const cnn_tensor *dy = args->in[0], *w = args->in[1];
    const int64_t n = dy->dims[0], outs = dy->dims[1], in = w->dims[1];
    cnn_cuda_gemm_args g = gemm_args(n, in, outs);
    g.a = CDATA(dy);
    g.lda = outs;
    g.b = CDATA(w);
    g.ldb = in;
    g.c = DATA(args->out[0]);
    g.ldc = in;
    return cnn_cuda_check(ctx, cnn_cuda_sgemm(ctx, &g),
                          "launching sgemm_kernel (linear data gradient)");
}

static cnn_status linear_backward_weight(const cnn_op_args *args)
{
    cnn_cuda_context *ctx = cnn_cuda_context_current(args->device);
    if (!ctx)
        return CNN_ERR_DEVICE;
    const cnn_tensor *dy = args->in[0], *x = args->in[1];
    const int64_t n = dy->dims[0], outs = dy->dims[1], in = x->dims[1];
    cnn_cuda_gemm_args g = gemm_args(outs, in, n);
    g.a = CDATA(dy);
    g.lda = outs;
    g.trans_a = true;
    g.b = CDATA(x);
    g.ldb = in;
    g.c = DATA(args->out[0]);
    g.ldc = in;
    g.beta = 1.0f; /* dw accumulates */
    return cnn_cuda_check(ctx, cnn_cuda_sgemm(ctx, &g),
                          "launching sgemm_kernel (linear weight gradient)");
}

static cnn_status linear_backward_bias(const cnn_op_args *args)
{
    cnn_cuda_context *ctx = cnn_cuda_context_current(args->device);
    if (!ctx)
        return CNN_ERR_DEVICE;
    const cnn_tensor *dy = args->in[0];
    const int64_t n = dy->dims[0], outs = dy->dims[1];
    return cnn_cuda_check(ctx,
                          cnn_cuda_channel_sum(ctx, DATA(args->out[0]),
                                               CDATA(dy), outs, n, outs, 1,
                                               1),
                          "launching channel_sum_kernel (linear bias "
                          "gradient)");
}

void cnn_cuda_register_linear(cnn_op_fn *native)
{
    native[CNN_OP_LINEAR_FWD] = linear_forward;
    native[CNN_OP_LINEAR_BWD_DATA] = linear_backward_data;
    native[CNN_OP_LINEAR_BWD_WEIGHT] = linear_backward_weight;
    native[CNN_OP_LINEAR_BWD_BIAS] = linear_backward_bias;
}
