/* src/cuda/gemm.cuh - our own single-precision GEMM and a per-channel sum
 * on the GPU (native engine; also built under the CPU emulation of CUDA),
 * shared by linear.cu and conv.cu.
 *
 * Both are deterministic: each output element is summed in a fixed order
 * by one thread (the GEMM) or one block (the channel sum), never with
 * float atomics, so a call gives the same bits on every run. */
#ifndef CNN_CUDA_GEMM_CUH
#define CNN_CUDA_GEMM_CUH

#include "cuda_common.cuh"

/* C = alpha op(A) op(B) + beta C (+ bias), row-major, for `batch` matrices
 * at once: matrix z uses a + z * stride_a, b + z * stride_b,
 * c + z * stride_c and row_bias + z * stride_bias.
 *   op(A) is [m, k]: A is stored [m, k] (lda >= k), or [k, m] when
 *   trans_a (lda >= m); likewise op(B) is [k, n], stored [n, k] when
 *   trans_b. C is [m, n] with row pitch ldc.
 * With beta == 0 C is not read (it may hold NaNs). row_bias[i], when not
 * NULL, is added to every element of row i; col_bias[j] to column j.
 * Each element sums its k products in index order with fmaf, then
 * applies alpha, beta and the bias. */
typedef struct cnn_cuda_gemm_args {
    int64_t m, n, k, batch;
    bool trans_a, trans_b;
    float alpha, beta;
    const float *a;
    int64_t lda, stride_a;
    const float *b;
    int64_t ldb, stride_b;
    float *c;
    int64_t ldc, stride_c;
    const float *row_bias, *col_bias;
    int64_t stride_bias; /* of row_bias between matrices */
} cnn_cuda_gemm_args;

/* Queues the GEMM on ctx's stream; the launch's error. */
cudaError_t cnn_cuda_sgemm(cnn_cuda_context *ctx,
                           const cnn_cuda_gemm_args *g);

/* sum[ch] += the sum over o < outer, j < inner of
 * x[o * outer_stride + ch * channel_stride + j], for ch < channels, in
 * double and in a fixed order (one block per channel). The bias gradients:
 * linear (outer = rows, inner = 1), conv (outer = images, inner = pixels). */
cudaError_t cnn_cuda_channel_sum(cnn_cuda_context *ctx, float *sum,
                                 const float *x, int64_t channels,
                                 int64_t outer, int64_t outer_stride,
                                 int64_t channel_stride, int64_t inner);

#endif /* CNN_CUDA_GEMM_CUH */
