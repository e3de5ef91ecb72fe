/* cublas_v2.h - the conformance double of cuBLAS (src/cuda/vendor_emu/),
 * standing in for NVIDIA's header of this name in the CNN_CUDA_EMULATION
 * build only: the subset that src/cuda calls, with the signatures and
 * values of the cuBLAS library reference (section 2.2, data types; 2.4,
 * helper functions; 2.6/2.7, level-2 and level-3 functions, with the
 * 64-bit integer interface of section 2.8). */
#ifndef CNN_VENDOR_EMU_CUBLAS_V2_H
#define CNN_VENDOR_EMU_CUBLAS_V2_H

#include <stdint.h>

#include "cuda_runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    CUBLAS_STATUS_SUCCESS = 0,
    CUBLAS_STATUS_NOT_INITIALIZED = 1,
    CUBLAS_STATUS_ALLOC_FAILED = 3,
    CUBLAS_STATUS_INVALID_VALUE = 7,
    CUBLAS_STATUS_ARCH_MISMATCH = 8,
    CUBLAS_STATUS_MAPPING_ERROR = 11,
    CUBLAS_STATUS_EXECUTION_FAILED = 13,
    CUBLAS_STATUS_INTERNAL_ERROR = 14,
    CUBLAS_STATUS_NOT_SUPPORTED = 15,
    CUBLAS_STATUS_LICENSE_ERROR = 16
} cublasStatus_t;

typedef enum { CUBLAS_OP_N = 0, CUBLAS_OP_T = 1, CUBLAS_OP_C = 2 } cublasOperation_t;

typedef enum {
    CUBLAS_DEFAULT_MATH = 0,
    CUBLAS_TENSOR_OP_MATH = 1,
    CUBLAS_PEDANTIC_MATH = 2,
    CUBLAS_TF32_TENSOR_OP_MATH = 3,
    CUBLAS_MATH_DISALLOW_REDUCED_PRECISION_REDUCTION = 16
} cublasMath_t;

typedef struct cnn_vemu_cublas *cublasHandle_t;

cublasStatus_t cublasCreate(cublasHandle_t *handle);
cublasStatus_t cublasDestroy(cublasHandle_t handle);
cublasStatus_t cublasSetStream(cublasHandle_t handle, cudaStream_t streamId);
cublasStatus_t cublasSetMathMode(cublasHandle_t handle, cublasMath_t mode);
const char *cublasGetStatusString(cublasStatus_t status);
cublasStatus_t cublasSgemm_64(cublasHandle_t handle, cublasOperation_t transa,
                              cublasOperation_t transb, int64_t m, int64_t n,
                              int64_t k, const float *alpha, const float *A,
                              int64_t lda, const float *B, int64_t ldb,
                              const float *beta, float *C, int64_t ldc);
cublasStatus_t cublasSgemv_64(cublasHandle_t handle, cublasOperation_t trans,
                              int64_t m, int64_t n, const float *alpha,
                              const float *A, int64_t lda, const float *x,
                              int64_t incx, const float *beta, float *y,
                              int64_t incy);

#ifdef __cplusplus
}
#endif

#endif /* CNN_VENDOR_EMU_CUBLAS_V2_H */
