/* src/cuda/backend.cu - the CUDA backend module: devices, contexts, error
 * mapping, memory transfers and the backend table that the registry gets
 * from cnn_cuda_backend_open. In the CNN_CUDA_EMULATION build the same
 * code runs on the CPU emulation of CUDA, whose one device is marked
 * emulated (never chosen automatically). */
#include <dlfcn.h>
#include <stdlib.h>
#include <mutex>
#include <stdio.h>
#include <string.h>

#include "cuda_common.cuh"

const cnn_host_api *cnn_cuda_host;

static std::mutex contexts_lock;
static cnn_cuda_context *contexts[64];
static int device_total = -1;      /* -1: not counted yet */
static char no_device_why[512];    /* why device_total is 0 */

static bool is_sticky(cudaError_t err)
{
    switch (err) {
    case cudaErrorIllegalAddress:
    case cudaErrorLaunchFailure:
    case cudaErrorHardwareStackError:
    case cudaErrorIllegalInstruction:
    case cudaErrorMisalignedAddress:
    case cudaErrorInvalidAddressSpace:
    case cudaErrorInvalidPc:
    case cudaErrorAssert:
    case cudaErrorECCUncorrectable:
        return true;
#ifndef CNN_CUDA_EMULATION
    /* The rest of the runtime's "the process must be terminated" codes
     * (driver_types.h), which the emulation never returns. A watchdog
     * timeout in particular leaves the context unusable. */
    case cudaErrorLaunchTimeout:
    case cudaErrorContained:
    case cudaErrorTensorMemoryLeak:
    case cudaErrorMpsClientTerminated:
    case cudaErrorExternalDevice:
        return true;
#endif
    default:
        return false;
    }
}

cnn_status cnn_cuda_check(cnn_cuda_context *ctx, cudaError_t err,
                          const char *what)
{
    if (err == cudaSuccess)
        return CNN_OK;
    int device = ctx ? ctx->device : -1;
    if (is_sticky(err) && ctx)
        ctx->lost = true;
    cnn_status status = is_sticky(err) ? CNN_ERR_DEVICE_LOST
                        : err == cudaErrorMemoryAllocation
                            ? CNN_ERR_OUT_OF_MEMORY
                            : CNN_ERR_DEVICE;
    return cnn_backend_error(cnn_cuda_host, status, "cuda:%d: %s failed: %s (%s)",
                             device, what, cudaGetErrorString(err),
                             cudaGetErrorName(err));
}

bool cnn_cuda_sync_mode(void)
{
    static const bool on = [] {
        const char *v = getenv("CNN_CUDA_SYNC");
        return v && strcmp(v, "0") != 0 && v[0] != '\0';
    }();
    return on;
}

cnn_status cnn_cuda_sync_after(cnn_cuda_context *ctx, const char *what)
{
    if (!cnn_cuda_sync_mode())
        return CNN_OK;
    return cnn_cuda_check(ctx, cudaStreamSynchronize(ctx->stream), what);
}

#ifndef CNN_CUDA_EMULATION
cudaError_t cnn_cuda_after_launch(cudaStream_t stream, cudaError_t launch)
{
    /* With CNN_CUDA_SYNC=1 the launch waits for its kernel, so a fault is
     * this launch's error, named by its caller ("launching x_kernel"). */
    if (launch != cudaSuccess || !cnn_cuda_sync_mode())
        return launch;
    return cudaStreamSynchronize(stream);
}
#endif

cnn_status cnn_cuda_vendor_fault(cnn_cuda_context *ctx, const char *what)
{
    /* cuDNN and cuBLAS run on their own copy of the runtime (ours is
     * linked statically), so our cudaGetLastError never sees their
     * errors; a sticky fault, though, belongs to the device's context,
     * and a query of our stream reports it. NotReady is not an error. */
    cudaError_t err = cudaStreamQuery(ctx->stream);
    if (err == cudaSuccess || err == cudaErrorNotReady)
        return CNN_OK;
    return cnn_cuda_check(ctx, err, what);
}

unsigned cnn_cuda_grid_for(const cnn_cuda_context *ctx, int64_t n)
{
    int64_t blocks = (n + CNN_CUDA_BLOCK - 1) / CNN_CUDA_BLOCK;
    /* Enough blocks to fill every SM several times; the loop does the rest. */
    int64_t cap = (int64_t)ctx->sm_count * 32;
    if (blocks > cap)
        blocks = cap;
    return blocks < 1 ? 1u : (unsigned)blocks;
}

/* Counts devices once; when there are none, says why in no_device_why. */
static int count_devices_locked(void)
{
    if (device_total >= 0)
        return device_total;
    device_total = 0;
#ifndef CNN_CUDA_EMULATION
    /* The runtime is linked statically; the driver is libcuda.so.1, which
     * only a machine with an NVIDIA driver has. Look for it first so that
     * the message names the missing file. */
    void *driver = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!driver) {
        const char *err = dlerror();
        snprintf(no_device_why, sizeof no_device_why,
                 "the NVIDIA driver library libcuda.so.1 was not found (%s); "
                 "install the NVIDIA driver", err ? err : "no error text");
        return 0;
    }
#endif
    int count = 0;
    cudaError_t err = cudaGetDeviceCount(&count);
    if (err != cudaSuccess) {
        snprintf(no_device_why, sizeof no_device_why,
                 "cudaGetDeviceCount failed: %s (%s)", cudaGetErrorString(err),
                 cudaGetErrorName(err));
        cudaGetLastError(); /* clear it: it is not sticky */
        return 0;
    }
    if (count == 0)
        snprintf(no_device_why, sizeof no_device_why,
                 "the CUDA driver is present but reports no GPU");
    device_total = count > 64 ? 64 : count;
    return device_total;
}

static int cuda_device_count(void)
{
    std::lock_guard<std::mutex> guard(contexts_lock);
    return count_devices_locked();
}

cnn_cuda_context *cnn_cuda_context_get(int device)
{
    std::lock_guard<std::mutex> guard(contexts_lock);
    int count = count_devices_locked();
    if (count == 0) {
        cnn_backend_error(cnn_cuda_host, CNN_ERR_DEVICE, "%s", no_device_why);
        return NULL;
    }
    if (device < 0 || device >= count) {
        cnn_backend_error(cnn_cuda_host, CNN_ERR_DEVICE,
                          "cuda:%d does not exist (%d GPU%s present)", device,
                          count, count == 1 ? "" : "s");
        return NULL;
    }
    if (contexts[device])
        return contexts[device];
    cnn_cuda_context *ctx = new (std::nothrow) cnn_cuda_context();
    if (!ctx) {
        cnn_backend_error(cnn_cuda_host, CNN_ERR_OUT_OF_MEMORY,
                          "cuda:%d: no host memory for a context", device);
        return NULL;
    }
    ctx->device = device;
    cudaError_t err = cudaSetDevice(device);
    if (err == cudaSuccess)
        err = cudaStreamCreateWithFlags(&ctx->stream, cudaStreamNonBlocking);
    if (err == cudaSuccess)
        err = cudaDeviceGetAttribute(&ctx->sm_count,
                                     cudaDevAttrMultiProcessorCount, device);
    if (err != cudaSuccess) {
        cnn_cuda_check(ctx, err, "creating the device context");
        delete ctx;
        return NULL;
    }
    contexts[device] = ctx;
    return ctx;
}

cnn_cuda_context *cnn_cuda_context_current(int device)
{
    cnn_cuda_context *ctx = cnn_cuda_context_get(device);
    if (ctx && cnn_cuda_check(ctx, cudaSetDevice(device),
                              "making the device current") != CNN_OK)
        return NULL;
    return ctx;
}

static cnn_status cuda_device_check(int device)
{
    cnn_cuda_context *ctx = cnn_cuda_context_get(device);
    if (!ctx)
        return CNN_ERR_DEVICE;
    if (ctx->lost)
        return cnn_backend_error(cnn_cuda_host, CNN_ERR_DEVICE_LOST,
                                 "cuda:%d had a fatal fault earlier and can no "
                                 "longer be used; restart the process", device);
    return CNN_OK;
}

static void cuda_device_name(int device, char *buf, size_t size)
{
    cudaDeviceProp prop;
    if (cudaGetDeviceProperties(&prop, device) != cudaSuccess) {
        cudaGetLastError();
        snprintf(buf, size, "unknown GPU");
        return;
    }
    snprintf(buf, size, "%s, sm_%d%d, %.0f GiB", prop.name, prop.major,
             prop.minor, (double)prop.totalGlobalMem / (1024.0 * 1024 * 1024));
}

static void cuda_describe(char *buf, size_t size)
{
    size_t used = strlen(buf);
    int count = cuda_device_count();
#ifdef CNN_CUDA_EMULATION
    used += (size_t)snprintf(buf + used, size - used,
                             "cuda runtime: the CPU emulation of CUDA "
                             "(CNN_CUDA_EMULATION), %d worker threads, check "
                             "mode %s\ncublas, cudnn: the conformance double "
                             "(CPU, from NVIDIA's documentation; not the "
                             "vendor libraries)\n",
                             cnn_emu_worker_count(),
                             cnn_emu_check_enabled() ? "on" : "off");
#else
    int driver = 0, runtime = 0;
    cudaDriverGetVersion(&driver);
    cudaRuntimeGetVersion(&runtime);
    used += (size_t)snprintf(buf + used, size - used,
                             "cuda runtime: %d.%d (static); driver: %d.%d\n",
                             runtime / 1000, runtime % 1000 / 10, driver / 1000,
                             driver % 1000 / 10);
    if (used >= size)
        return;
    cnn_cuda_describe_cublas(buf, size);
    cnn_cuda_describe_cudnn(buf, size);
    used = strlen(buf);
#endif
    if (used >= size)
        return;
    if (count == 0)
        snprintf(buf + used, size - used, "cuda devices: none: %s\n",
                 no_device_why);
    else
        snprintf(buf + used, size - used, "cuda devices: %d\n", count);
}

static cnn_status cuda_alloc(int device, size_t bytes, void **ptr)
{
    cnn_cuda_context *ctx = cnn_cuda_context_current(device);
    return ctx ? cnn_cuda_alloc(ctx, bytes, ptr) : CNN_ERR_DEVICE;
}

static void cuda_free(int device, void *ptr)
{
    cnn_cuda_context *ctx = cnn_cuda_context_current(device);
    if (ctx)
        cnn_cuda_free(ctx, ptr);
}

/* Host <-> device copies go through the device's stream, so that they are
 * ordered with the ops before them, and wait for it: the caller's host
 * buffer is free (upload) or filled (download) on return. The caller's
 * buffer is pageable memory, so the driver stages the copy through its
 * own pinned buffer and it does not overlap with the host: a copy costs
 * its full time on the calling thread (docs/backends.md). */
static cnn_status transfer(int device, void *dst, const void *src,
                           size_t bytes, cudaMemcpyKind kind, const char *what)
{
    cnn_cuda_context *ctx = cnn_cuda_context_current(device);
    if (!ctx)
        return CNN_ERR_DEVICE;
    cudaError_t err = cudaMemcpyAsync(dst, src, bytes, kind, ctx->stream);
    if (err == cudaSuccess)
        err = cudaStreamSynchronize(ctx->stream);
    return cnn_cuda_check(ctx, err, what);
}

static cnn_status cuda_upload(int device, void *dst, const void *src,
                              size_t bytes)
{
    return transfer(device, dst, src, bytes, cudaMemcpyHostToDevice,
                    "copying host to device");
}

static cnn_status cuda_download(int device, void *dst, const void *src,
                                size_t bytes)
{
    return transfer(device, dst, src, bytes, cudaMemcpyDeviceToHost,
                    "copying device to host");
}

/* Lets dst_device read src_device's memory directly, once per pair, when
 * the hardware allows it (cudaDeviceCanAccessPeer); otherwise, or when
 * enabling fails, cudaMemcpyPeerAsync still works, staged through the
 * host. dst_device is current. The emulation has one device. */
static void enable_peer_access(int dst_device, int src_device)
{
#ifndef CNN_CUDA_EMULATION
    static std::mutex lock;
    static signed char state[64][64]; /* 0 unknown, 1 on, -1 not possible */
    std::lock_guard<std::mutex> guard(lock);
    signed char &known = state[dst_device][src_device];
    if (known != 0)
        return;
    int can = 0;
    if (cudaDeviceCanAccessPeer(&can, dst_device, src_device) != cudaSuccess ||
        !can) {
        cudaGetLastError(); /* not sticky */
        known = -1;
        return;
    }
    cudaError_t err = cudaDeviceEnablePeerAccess(src_device, 0);
    if (err != cudaSuccess && err != cudaErrorPeerAccessAlreadyEnabled) {
        cnn_backend_log(cnn_cuda_host, CNN_LOG_WARN,
                        "cuda:%d: peer access to cuda:%d not enabled (%s); "
                        "copies are staged through the host", dst_device,
                        src_device, cudaGetErrorString(err));
        cudaGetLastError();
        known = -1;
        return;
    }
    cudaGetLastError(); /* AlreadyEnabled is recorded too */
    known = 1;
#else
    (void)dst_device, (void)src_device;
#endif
}

static cnn_status cuda_copy(int dst_device, void *dst, int src_device,
                            const void *src, size_t bytes)
{
    cnn_cuda_context *dst_ctx = cnn_cuda_context_current(dst_device);
    if (!dst_ctx)
        return CNN_ERR_DEVICE;
    if (dst_device == src_device)
        return cnn_cuda_check(dst_ctx,
                              cudaMemcpyAsync(dst, src, bytes,
                                              cudaMemcpyDeviceToDevice,
                                              dst_ctx->stream),
                              "copying within the device");
    cnn_cuda_context *src_ctx = cnn_cuda_context_current(src_device);
    if (!src_ctx)
        return CNN_ERR_DEVICE;
    /* Between GPUs: wait for the source's queued work, copy on the
     * destination's stream (directly when peer access is on, staged by
     * the driver through the host otherwise) and wait, so neither side
     * races. */
    cnn_status s = cnn_cuda_check(src_ctx, cudaStreamSynchronize(src_ctx->stream),
                                  "waiting for the source device");
    if (s != CNN_OK ||
        (s = cnn_cuda_check(dst_ctx, cudaSetDevice(dst_device),
                            "making the destination device current")) != CNN_OK)
        return s;
    enable_peer_access(dst_device, src_device);
    cudaError_t err = cudaMemcpyPeerAsync(dst, dst_device, src, src_device,
                                          bytes, dst_ctx->stream);
    if (err == cudaSuccess)
        err = cudaStreamSynchronize(dst_ctx->stream);
    return cnn_cuda_check(dst_ctx, err, "copying between devices");
}

static cnn_status cuda_synchronize(int device)
{
    cnn_cuda_context *ctx = cnn_cuda_context_current(device);
    if (!ctx)
        return CNN_ERR_DEVICE;
    return cnn_cuda_check(ctx, cudaStreamSynchronize(ctx->stream),
                          "synchronizing");
}

/* The engines' tables; backend slot i is run_op whenever either engine
 * has op i. */
static cnn_op_fn native_ops[CNN_OP_COUNT];
static cnn_op_fn vendor_ops[CNN_OP_COUNT];

/* AUTO takes the vendor engine where it has the op (cuDNN and cuBLAS are
 * tuned per GPU; our kernels cover what they lack) and ours otherwise. */
static cnn_op_fn engine_op(const cnn_op_args *args)
{
    switch (args->engine) {
    case CNN_ENGINE_NATIVE:
        return native_ops[args->op];
    case CNN_ENGINE_VENDOR:
        return vendor_ops[args->op];
    case CNN_ENGINE_AUTO:
        return vendor_ops[args->op] ? vendor_ops[args->op]
                                    : native_ops[args->op];
    default: /* REFERENCE is the CPU's */
        return NULL;
    }
}

static bool cuda_supports(const cnn_op_args *args)
{
    return engine_op(args) != NULL;
}

static cnn_status run_op(const cnn_op_args *args)
{
    cnn_op_fn vendor = vendor_ops[args->op], native = native_ops[args->op];
    if (args->engine == CNN_ENGINE_AUTO && vendor && native) {
        /* AUTO: cuDNN first; what it refuses (a tensor beyond its int
         * sizes, a status that means "cannot run here") runs on our kernel
         * instead, and the refusal goes to the log. */
        cnn_status s = vendor(args);
        if (s != CNN_ERR_UNSUPPORTED)
            return s;
        cnn_backend_log(cnn_cuda_host, CNN_LOG_DEBUG,
                        "cuda:%d: the vendor engine refused op %d, our "
                        "kernel runs it instead", args->device, (int)args->op);
        return native(args);
    }
    return engine_op(args)(args);
}

static cnn_status cuda_memory_stats(int device, cnn_memory_stats *stats)
{
    cnn_cuda_context *ctx = cnn_cuda_context_current(device);
    if (!ctx)
        return CNN_ERR_DEVICE;
    cnn_cuda_memory_stats(ctx, stats);
    return CNN_OK;
}

static void cuda_memory_reset_peak(int device)
{
    cnn_cuda_context *ctx = cnn_cuda_context_current(device);
    if (ctx)
        cnn_cuda_memory_reset_peak(ctx);
}

static void cuda_memory_trim(int device)
{
    cnn_cuda_context *ctx = cnn_cuda_context_current(device);
    if (ctx)
        cnn_cuda_trim(ctx);
}

static void register_ops(cnn_backend *b)
{
    cnn_cuda_register_elementwise(native_ops);
    cnn_cuda_register_loss(native_ops);
    cnn_cuda_register_dropout(native_ops);
    cnn_cuda_register_concat(native_ops);
    cnn_cuda_register_sgd(native_ops);
    cnn_cuda_register_pool(native_ops);
    cnn_cuda_register_lrn(native_ops);
    cnn_cuda_register_batchnorm(native_ops);
    cnn_cuda_register_linear(native_ops);
    cnn_cuda_register_conv(native_ops);
    cnn_cuda_register_linear_cublas(vendor_ops);
#ifdef CNN_HAVE_CUDNN
    cnn_cuda_register_conv_cudnn(vendor_ops);
    cnn_cuda_register_pool_cudnn(vendor_ops);
    cnn_cuda_register_batchnorm_cudnn(vendor_ops);
    cnn_cuda_register_lrn_cudnn(vendor_ops);
    cnn_cuda_register_activation_cudnn(vendor_ops);
#endif
    for (int op = 0; op < CNN_OP_COUNT; ++op)
        b->ops[op] = (native_ops[op] || vendor_ops[op]) ? run_op : NULL;
}

static cnn_backend cuda_backend;

extern "C" __attribute__((visibility("default"))) const cnn_backend *
cnn_cuda_backend_open(const cnn_host_api *host, char *why, size_t why_size)
{
    if (!host || host->abi_version != CNN_BACKEND_ABI_VERSION) {
        snprintf(why, why_size,
                 "libcnn-cuda.so speaks backend ABI %u but libcnn offers %u: "
                 "install matching libcnn and libcnn-cuda",
                 CNN_BACKEND_ABI_VERSION, host ? host->abi_version : 0u);
        return NULL;
    }
    cnn_cuda_host = host;
    cnn_backend *b = &cuda_backend;
    b->abi_version = CNN_BACKEND_ABI_VERSION;
    b->name = "cuda";
    b->type = CNN_CUDA;
#ifdef CNN_CUDA_EMULATION
    b->emulated = true;
#else
    b->emulated = false;
#endif
    b->device_count = cuda_device_count;
    b->device_check = cuda_device_check;
    b->device_name = cuda_device_name;
    b->describe = cuda_describe;
    b->alloc = cuda_alloc;
    b->free = cuda_free;
    b->upload = cuda_upload;
    b->download = cuda_download;
    b->copy = cuda_copy;
    b->synchronize = cuda_synchronize;
    b->supports = cuda_supports;
    b->memory_stats = cuda_memory_stats;
    b->memory_reset_peak = cuda_memory_reset_peak;
    b->memory_trim = cuda_memory_trim;
    register_ops(b);
    b->shutdown = NULL; /* the runtime tears itself down at exit */
    return b;
}
