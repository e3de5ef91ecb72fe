/* src/cuda/vendor_cublas.cu - the cuBLAS handle of each device, its math
 * mode per call, cuBLAS statuses as ours, and the ones vector that turns
 * bias broadcasts and sums into matrix products. */
#include <new>
#include <string.h>

#include "vendor_cublas.cuh"

cnn_status cnn_cublas_check(cnn_cuda_context *ctx, cublasStatus_t status,
                            const char *what)
{
    if (status == CUBLAS_STATUS_SUCCESS)
        return cnn_cuda_sync_after(ctx, what);
    cnn_status ours;
    switch (status) {
    case CUBLAS_STATUS_ALLOC_FAILED:
        ours = CNN_ERR_OUT_OF_MEMORY;
        break;
    case CUBLAS_STATUS_NOT_SUPPORTED:
    case CUBLAS_STATUS_ARCH_MISMATCH:
        ours = CNN_ERR_UNSUPPORTED;
        break;
    case CUBLAS_STATUS_INVALID_VALUE: /* the core checked the arguments */
        ours = CNN_ERR_INTERNAL;
        break;
    case CUBLAS_STATUS_EXECUTION_FAILED:
    case CUBLAS_STATUS_INTERNAL_ERROR: {
        /* A kernel fault is the context's sticky error, which a query of
         * the stream reports (cuBLAS's runtime is not ours): report that,
         * so the device is marked lost. */
        cnn_status s = cnn_cuda_vendor_fault(ctx, what);
        if (s != CNN_OK)
            return s;
        ours = CNN_ERR_DEVICE;
        break;
    }
    default:
        ours = CNN_ERR_DEVICE;
        break;
    }
    return cnn_backend_error(cnn_cuda_host, ours, "cuda:%d: %s failed: %s (%d)",
                             ctx->device, what, cublasGetStatusString(status),
                             (int)status);
}

static cnn_status create(cnn_cuda_context *ctx)
{
    cnn_cublas_state *state = new (std::nothrow) cnn_cublas_state();
    if (!state)
        return cnn_backend_error(cnn_cuda_host, CNN_ERR_OUT_OF_MEMORY,
                                 "cuda:%d: no host memory for cuBLAS's state",
                                 ctx->device);
    /* One handle per device: the core serialises a device's calls and its
     * stream never changes. Atomics stay at cuBLAS's default, not allowed,
     * so results do not depend on the run (deterministic mode or not). */
    cnn_status s = cnn_cublas_check(ctx, cublasCreate(&state->handle),
                                    "cublasCreate");
    if (s == CNN_OK) {
        s = cnn_cublas_check(ctx, cublasSetStream(state->handle, ctx->stream),
                             "cublasSetStream");
        if (s != CNN_OK)
            cublasDestroy(state->handle);
    }
    if (s != CNN_OK) {
        delete state;
        return s;
    }
    ctx->cublas = state;
    return CNN_OK;
}

cnn_status cnn_cublas_begin(const cnn_op_args *args, cnn_cuda_context **ctx,
                            cnn_cublas_state **state)
{
    cnn_cuda_context *c = cnn_cuda_context_current(args->device);
    if (!c)
        return CNN_ERR_DEVICE;
    *ctx = c;
    cnn_status s;
    if (!c->cublas && (s = create(c)) != CNN_OK)
        return s;
    cnn_cublas_state *st = static_cast<cnn_cublas_state *>(c->cublas);
    *state = st;
    /* CUBLAS_DEFAULT_MATH keeps float routines in IEEE FP32 (TF32 is
     * opt-in since CUDA 11); the mode is set on every call because each
     * call carries its device's current setting. */
    cublasMath_t mode = args->math == CNN_MATH_TF32 ? CUBLAS_TF32_TENSOR_OP_MATH
                                                    : CUBLAS_DEFAULT_MATH;
    return cnn_cublas_check(c, cublasSetMathMode(st->handle, mode),
                            "cublasSetMathMode");
}

cnn_status cnn_cublas_ones(cnn_cuda_context *ctx, cnn_cublas_state *state,
                           int64_t n, const float **ones)
{
    if (state->ones_len < n) {
        /* Grown to the next power of two, so batches of growing size do
         * not refill it each time. */
        int64_t len = 256;
        while (len < n)
            len *= 2;
        void *ptr = nullptr;
        cnn_status s = cnn_cuda_alloc(ctx, (size_t)len * sizeof(float), &ptr);
        if (s != CNN_OK)
            return s;
        /* Filled by the native engine's fill op (fill.cu): no kernel of
         * our own here. */
        cnn_tensor t = {};
        t.dtype = CNN_F32;
        t.ndim = 1;
        t.dims[0] = len;
        t.numel = len;
        t.bytes = (size_t)len * sizeof(float);
        t.data = ptr;
        const float one = 1.0f;
        uint32_t bits;
        memcpy(&bits, &one, sizeof bits);
        cnn_fill_params fill = {bits};
        cnn_op_args args = {};
        args.op = CNN_OP_FILL;
        args.device = ctx->device;
        args.out[0] = &t;
        args.params = &fill;
        s = cnn_cuda_fill(&args);
        if (s != CNN_OK) {
            cnn_cuda_free(ctx, ptr);
            return s;
        }
        if (state->ones)
            cnn_cuda_free(ctx, state->ones);
        state->ones = static_cast<float *>(ptr);
        state->ones_len = len;
    }
    *ones = state->ones;
    return CNN_OK;
}
