/* src/cuda/linear_cublas.cu - the vendor engine's fully connected layer on
 * cuBLAS (cnn/dense.h: y [N, out] = x [N, in] w^T + b, w [out, in]).
 *
 * cuBLAS is column-major, and a row-major [r, c] matrix is the
 * column-major [c, r] matrix of the same memory (leading dimension c), its
 * transpose. So, writing M' for the transpose of row-major M as cuBLAS
 * sees it:
 *   forward   y' = w x'              gemm(T, N) of w' [in, out], x' [in, N]
 *             y' += b 1^T            first, as a k = 1 gemm with beta 0
 *   data      dx' = w' dy'           gemm(N, N), overwriting dx
 *   weight    dw' += x' dy'^T        gemm(N, T), beta 1: dw accumulates
 *   bias      db += dy' 1            gemv(N), beta 1: db accumulates
 * The bias broadcast and sum use the ones vector of vendor_cublas.cu, so no
 * kernel of our own runs. The _64 entry points take 64-bit sizes. */
#include "vendor_cublas.cuh"

#define F(t) (static_cast<float *>((t)->data))
#define CF(t) (static_cast<const float *>((t)->data))

/* out {y}  in {x, w, b or NULL} */
static cnn_status linear_forward(const cnn_op_args *args)
{
    const cnn_tensor *x = args->in[0], *w = args->in[1], *b = args->in[2];
    cnn_tensor *y = args->out[0];
    const int64_t n = x->dims[0], in = x->dims[1], out = w->dims[0];
    cnn_cuda_context *ctx;
    cnn_cublas_state *st;
    cnn_status s = cnn_cublas_begin(args, &ctx, &st);
    if (s != CNN_OK)
        return s;
    const float one = 1.0f, zero = 0.0f;
    if (b) {
        const float *ones;
        if ((s = cnn_cublas_ones(ctx, st, n, &ones)) != CNN_OK ||
            (s = cnn_cublas_check(ctx,
                                  cublasSgemm_64(st->handle, CUBLAS_OP_N,
                                                 CUBLAS_OP_N, out, n, 1, &one,
                                                 CF(b), out, ones, 1, &zero,
                                                 F(y), out),
                                  "cublasSgemm (linear bias)")) != CNN_OK)
            return s;
    }
    return cnn_cublas_check(ctx,
                            cublasSgemm_64(st->handle, CUBLAS_OP_T, CUBLAS_OP_N,
                                           out, n, in, &one, CF(w), in, CF(x),
                                           in, b ? &one : &zero, F(y), out),
                            "cublasSgemm (linear forward)");
}

/* out {dx} (overwritten)  in {dy, w} */
static cnn_status linear_backward_data(const cnn_op_args *args)
{
    const cnn_tensor *dy = args->in[0], *w = args->in[1];
    cnn_tensor *dx = args->out[0];
    const int64_t n = dy->dims[0], out = w->dims[0], in = w->dims[1];
    cnn_cuda_context *ctx;
    cnn_cublas_state *st;
    cnn_status s = cnn_cublas_begin(args, &ctx, &st);
    if (s != CNN_OK)
        return s;
    const float one = 1.0f, zero = 0.0f;
    return cnn_cublas_check(ctx,
                            cublasSgemm_64(st->handle, CUBLAS_OP_N, CUBLAS_OP_N,
                                           in, n, out, &one, CF(w), in, CF(dy),
                                           out, &zero, F(dx), in),
                            "cublasSgemm (linear backward data)");
}

/* out {dw} (accumulated)  in {dy, x} */
static cnn_status linear_backward_weight(const cnn_op_args *args)
{
    const cnn_tensor *dy = args->in[0], *x = args->in[1];
    cnn_tensor *dw = args->out[0];
    const int64_t n = x->dims[0], in = x->dims[1], out = dy->dims[1];
    cnn_cuda_context *ctx;
    cnn_cublas_state *st;
    cnn_status s = cnn_cublas_begin(args, &ctx, &st);
    if (s != CNN_OK)
        return s;
    const float one = 1.0f;
    return cnn_cublas_check(ctx,
                            cublasSgemm_64(st->handle, CUBLAS_OP_N, CUBLAS_OP_T,
                                           in, out, n, &one, CF(x), in, CF(dy),
                                           out, &one, F(dw), in),
                            "cublasSgemm (linear backward weight)");
}

/* out {db} (accumulated)  in {dy}: db += the sum of dy's rows. */
static cnn_status linear_backward_bias(const cnn_op_args *args)
{
    const cnn_tensor *dy = args->in[0];
    cnn_tensor *db = args->out[0];
    const int64_t n = dy->dims[0], out = dy->dims[1];
    cnn_cuda_context *ctx;
    cnn_cublas_state *st;
    const float *ones;
    cnn_status s;
    if ((s = cnn_cublas_begin(args, &ctx, &st)) != CNN_OK ||
        (s = cnn_cublas_ones(ctx, st, n, &ones)) != CNN_OK)
        return s;
    const float one = 1.0f;
    return cnn_cublas_check(ctx,
                            cublasSgemv_64(st->handle, CUBLAS_OP_N, out, n, &one,
                                           CF(dy), out, ones, 1, &one, F(db),
                                           1),
                            "cublasSgemv (linear backward bias)");
}

void cnn_cuda_register_linear_cublas(cnn_op_fn *vendor)
{
    vendor[CNN_OP_LINEAR_FWD] = linear_forward;
    vendor[CNN_OP_LINEAR_BWD_DATA] = linear_backward_data;
    vendor[CNN_OP_LINEAR_BWD_WEIGHT] = linear_backward_weight;
    vendor[CNN_OP_LINEAR_BWD_BIAS] = linear_backward_bias;
}
