/* src/cuda/vendor_cudnn.cu - the cuDNN handle of each device, cuDNN
 * statuses as ours, and packed tensor descriptors, for the *_cudnn.cu ops. */
#include <limits.h>

#include "vendor_cudnn.cuh"

cnn_status cnn_cudnn_begin(const cnn_op_args *args, cnn_cuda_context **ctx,
                           cudnnHandle_t *handle)
{
    cnn_cuda_context *c = cnn_cuda_context_current(args->device);
    if (!c)
        return CNN_ERR_DEVICE;
    *ctx = c;
    if (!c->cudnn) {
        /* One handle per device: the core serialises a device's calls, and
         * its stream never changes, so binding it once is enough. */
        cudnnHandle_t h = nullptr;
        cnn_status s = cnn_cudnn_check(c, cudnnCreate(&h), "cudnnCreate");
        if (s != CNN_OK)
            return s;
        s = cnn_cudnn_check(c, cudnnSetStream(h, c->stream), "cudnnSetStream");
        if (s != CNN_OK) {
            cudnnDestroy(h);
            return s;
        }
        c->cudnn = h;
    }
    *handle = static_cast<cudnnHandle_t>(c->cudnn);
    return CNN_OK;
}

/* cuDNN 9 statuses by category (cudnnStatus_t in the cudnn_graph API
 * reference). Everything that means "this call cannot run here" is
 * CNN_ERR_UNSUPPORTED, so that AUTO falls back to our kernels: the
 * NOT_SUPPORTED category (shape, layout, architecture, a sub-library that
 * is unavailable, ...), a pointer an algorithm cannot use
 * (BAD_PARAM_MISALIGNED_POINTER: a wrapped buffer aligned to its elements
 * but not to what the kernel wants), and a sub-library that failed to load
 * or does not match (libcudnn_cnn.so.9 missing must not break every
 * convolution). */
static cnn_status status_of(cudnnStatus_t status)
{
    switch (status) {
    case CUDNN_STATUS_BAD_PARAM_MISALIGNED_POINTER:
    case CUDNN_STATUS_SUBLIBRARY_LOADING_FAILED:
    case CUDNN_STATUS_SUBLIBRARY_VERSION_MISMATCH:
        return CNN_ERR_UNSUPPORTED;
    case CUDNN_STATUS_INTERNAL_ERROR_HOST_ALLOCATION_FAILED:
    case CUDNN_STATUS_INTERNAL_ERROR_DEVICE_ALLOCATION_FAILED:
        return CNN_ERR_OUT_OF_MEMORY;
    default:
        break;
    }
    switch (CUDNN_STATUS_CATEGORY(status)) {
    case CUDNN_STATUS_NOT_SUPPORTED:
        return CNN_ERR_UNSUPPORTED;
    case CUDNN_STATUS_BAD_PARAM:
        return CNN_ERR_INTERNAL;
    default: /* not initialised, internal errors, execution failed */
        return CNN_ERR_DEVICE;
    }
}

cnn_status cnn_cudnn_check(cnn_cuda_context *ctx, cudnnStatus_t status,
                           const char *what)
{
    if (status == CUDNN_STATUS_SUCCESS)
        return cnn_cuda_sync_after(ctx, what);
    /* A kernel fault behind a failure is the context's sticky error:
     * report that, so the device is marked lost. */
    int category = CUDNN_STATUS_CATEGORY(status);
    if (category == CUDNN_STATUS_EXECUTION_FAILED ||
        category == CUDNN_STATUS_INTERNAL_ERROR) {
        cnn_status s = cnn_cuda_vendor_fault(ctx, what);
        if (s != CNN_OK)
            return s;
    }
    char detail[256] = "";
    cudnnGetLastErrorString(detail, sizeof detail);
    return cnn_backend_error(cnn_cuda_host, status_of(status),
                             "cuda:%d: %s failed: %s (%d)%s%s", ctx->device,
                             what, cudnnGetErrorString(status), (int)status,
                             detail[0] ? ": " : "", detail);
}

bool cnn_cudnn_fits_int(const char *op, int count, const int64_t *values)
{
    for (int i = 0; i < count; ++i)
        if (values[i] > INT_MAX) {
            cnn_backend_error(cnn_cuda_host, CNN_ERR_UNSUPPORTED,
                              "%s: the vendor engine (cuDNN) takes sizes up "
                              "to 2^31 - 1, and this call has %lld; use the "
                              "native engine", op, (long long)values[i]);
            return false;
        }
    return true;
}

cnn_status cnn_cudnn_tensor::set(cnn_cuda_context *ctx, const char *op,
                                 const int64_t dims[4])
{
    /* The strides are ints too: the whole tensor must fit. */
    const int64_t sizes[5] = {dims[0], dims[1], dims[2], dims[3],
                              dims[0] * dims[1] * dims[2] * dims[3]};
    if (!cnn_cudnn_fits_int(op, 5, sizes))
        return CNN_ERR_UNSUPPORTED;
    cnn_status s;
    if (!desc && (s = cnn_cudnn_check(ctx, cudnnCreateTensorDescriptor(&desc),
                                      "cudnnCreateTensorDescriptor")) != CNN_OK)
        return s;
    return cnn_cudnn_check(ctx,
                           cudnnSetTensor4dDescriptor(desc, CUDNN_TENSOR_NCHW,
                                                      CUDNN_DATA_FLOAT,
                                                      (int)dims[0], (int)dims[1],
                                                      (int)dims[2], (int)dims[3]),
                           "cudnnSetTensor4dDescriptor");
}
