/* src/cuda/vendor_cudnn.cuh - what the vendor engine's cuDNN files share:
 * the device's cuDNN handle, cuDNN statuses turned into ours, and
 * descriptors that destroy themselves (so that no error path leaks one).
 * Only *_cudnn.cu files include it: they alone use cuDNN's legacy API,
 * which 9.x deprecates (scripts/cudnn_deprecations.sh counts the uses). */
#ifndef CNN_CUDA_VENDOR_CUDNN_CUH
#define CNN_CUDA_VENDOR_CUDNN_CUH

#include <cudnn.h>

#include "cuda_common.cuh"

/* The context of args->device made current and its cuDNN handle (created
 * on first use and bound to the device's stream). CNN_OK, or a status with
 * an error recorded. */
cnn_status cnn_cudnn_begin(const cnn_op_args *args, cnn_cuda_context **ctx,
                           cudnnHandle_t *handle);

/* Maps a cuDNN status to ours and records a message naming `what`:
 * allocation failures are CNN_ERR_OUT_OF_MEMORY; every status that means
 * "cannot run here" (the NOT_SUPPORTED category,
 * BAD_PARAM_MISALIGNED_POINTER, a sub-library that failed to load or does
 * not match) is CNN_ERR_UNSUPPORTED, so AUTO falls back to our kernels;
 * execution and internal failures are device errors (a sticky fault of the
 * device's context behind them marks the device lost); any other rejected
 * parameter is CNN_ERR_INTERNAL (the core validated the arguments, so it is
 * our bug). On success, with CNN_CUDA_SYNC=1, waits for the stream so that
 * an asynchronous fault is reported against `what`. */
cnn_status cnn_cudnn_check(cnn_cuda_context *ctx, cudnnStatus_t status,
                           const char *what);

/* Whether every value fits cuDNN's int arguments; otherwise records
 * CNN_ERR_UNSUPPORTED naming `op` and returns false. */
bool cnn_cudnn_fits_int(const char *op, int count, const int64_t *values);

/* A 4-d NCHW float tensor descriptor, fully packed. */
struct cnn_cudnn_tensor {
    cudnnTensorDescriptor_t desc = nullptr;
    cnn_cudnn_tensor() = default;
    cnn_cudnn_tensor(const cnn_cudnn_tensor &) = delete;
    cnn_cudnn_tensor &operator=(const cnn_cudnn_tensor &) = delete;
    ~cnn_cudnn_tensor()
    {
        if (desc)
            cudnnDestroyTensorDescriptor(desc);
    }
    /* dims [N, C, H, W]; fails (recorded) when they exceed int. */
    cnn_status set(cnn_cuda_context *ctx, const char *op,
                   const int64_t dims[4]);
    cnn_status set(cnn_cuda_context *ctx, const char *op, int64_t n,
                   int64_t c, int64_t h, int64_t w)
    {
        const int64_t dims[4] = {n, c, h, w};
        return set(ctx, op, dims);
    }
};

#endif /* CNN_CUDA_VENDOR_CUDNN_CUH */
