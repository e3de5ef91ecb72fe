/* src/cuda/vendor_cublas.cuh - what the vendor engine's cuBLAS files
 * share: the device's cuBLAS handle (with the call's math mode set),
 * cuBLAS statuses turned into ours, and a vector of ones for bias sums. */
#ifndef CNN_CUDA_VENDOR_CUBLAS_CUH
#define CNN_CUDA_VENDOR_CUBLAS_CUH

#include <cublas_v2.h>

#include "cuda_common.cuh"

/* ctx->cublas. */
typedef struct cnn_cublas_state {
    cublasHandle_t handle;
    float *ones; /* ones_len ones, grown on demand */
    int64_t ones_len;
} cnn_cublas_state;

/* The context of args->device made current and its cuBLAS state (created
 * on first use, bound to the device's stream), with the math mode of the
 * call: IEEE FP32 (CUBLAS_DEFAULT_MATH, which uses no TF32) or TF32
 * tensor cores (CUBLAS_TF32_TENSOR_OP_MATH). */
cnn_status cnn_cublas_begin(const cnn_op_args *args, cnn_cuda_context **ctx,
                            cnn_cublas_state **state);

/* Maps a cuBLAS status to ours, recording a message naming `what`. */
cnn_status cnn_cublas_check(cnn_cuda_context *ctx, cublasStatus_t status,
                            const char *what);

/* At least n ones on the device, valid until the next call on it. */
cnn_status cnn_cublas_ones(cnn_cuda_context *ctx, cnn_cublas_state *state,
                           int64_t n, const float **ones);

#endif /* CNN_CUDA_VENDOR_CUBLAS_CUH */
