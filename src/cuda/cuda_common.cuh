/* src/cuda/cuda_common.cuh - what the CUDA backend's files share: the
 * per-device context, error mapping, the allocator and the ops; and, from
 * emulable.cuh, the macros that keep kernels in the emulable subset of
 * CUDA (launches through CNN_LAUNCH, shared memory through CNN_SHARED and
 * CNN_DYNAMIC_SHARED, CNN_UNROLL). */
#ifndef CNN_CUDA_COMMON_CUH
#define CNN_CUDA_COMMON_CUH

#include <stddef.h>
#include <stdint.h>

#include "../backend.h"
#include "emulable.cuh" /* CNN_LAUNCH, CNN_SHARED, CNN_DYNAMIC_SHARED, ... */

/* Threads per block of the simple elementwise kernels. */
#define CNN_CUDA_BLOCK 256

/* The core's services (set when the module is opened). */
extern const cnn_host_api *cnn_cuda_host;

/* Per-device state, created on first use and kept until process exit. */
typedef struct cnn_cuda_context {
    int device;
    cudaStream_t stream;
    int sm_count;
    bool lost; /* a sticky fault happened: every later call fails */
    /* The vendor engine's state, created on first use by the *_cublas.cu
     * and *_cudnn.cu files (opaque here, so that this header and the
     * emulation build need no vendor header): the cuBLAS and cuDNN
     * handles, bound to `stream`, and their algorithm caches. */
    void *cublas;
    void *cudnn;
    void *conv_algos;
    /* Scratch for one op at a time (ops of a device are serialised), grown
     * on demand through cnn_cuda_workspace. */
    void *workspace;
    size_t workspace_size;
} cnn_cuda_context;

/* The context of `device`, created on first use; NULL with an error
 * recorded when the device cannot be used. */
cnn_cuda_context *cnn_cuda_context_get(int device);
/* The same, and made the CUDA runtime's current device on this host thread
 * (the runtime keeps the current device per thread). */
cnn_cuda_context *cnn_cuda_context_current(int device);

/* Maps a CUDA error to a status and records a message naming `what`.
 * Sticky errors (illegal address, launch failure, ...) mark the device
 * lost: CNN_ERR_DEVICE_LOST now and for every later call. */
cnn_status cnn_cuda_check(cnn_cuda_context *ctx, cudaError_t err,
                          const char *what);

/* After a vendor-library failure: the device context's sticky fault, if
 * any, as cnn_cuda_check reports it (the device marked lost); CNN_OK when
 * the stream shows none. Queries the stream rather than calling our
 * runtime's cudaGetLastError, which never sees errors raised inside the
 * vendor libraries' own runtime. */
cnn_status cnn_cuda_vendor_fault(cnn_cuda_context *ctx, const char *what);

/* Whether CNN_CUDA_SYNC=1 asks for a synchronisation after every launch
 * and vendor call, so that an asynchronous fault is reported against the
 * kernel or call that faulted rather than the next one. */
bool cnn_cuda_sync_mode(void);
/* CNN_OK, or with CNN_CUDA_SYNC=1 the status of waiting for the stream,
 * reported against `what`. */
cnn_status cnn_cuda_sync_after(cnn_cuda_context *ctx, const char *what);

/* Blocks to cover n elements with a grid-stride loop. */
unsigned cnn_cuda_grid_for(const cnn_cuda_context *ctx, int64_t n);

/* The caching allocator (src/cuda/allocator.cu). */
cnn_status cnn_cuda_alloc(cnn_cuda_context *ctx, size_t bytes, void **ptr);
void cnn_cuda_free(cnn_cuda_context *ctx, void *ptr);
/* Returns cached blocks to the driver. */
void cnn_cuda_trim(cnn_cuda_context *ctx);
/* The allocator's statistics (and the driver's free/total memory). */
void cnn_cuda_memory_stats(cnn_cuda_context *ctx, cnn_memory_stats *stats);
void cnn_cuda_memory_reset_peak(cnn_cuda_context *ctx);
/* At least `bytes` of scratch on the device's stream, valid until the next
 * call; NULL with an error recorded when it cannot be had. bytes 0 gives
 * NULL and CNN_OK. */
cnn_status cnn_cuda_workspace(cnn_cuda_context *ctx, size_t bytes, void **ptr);

/* The two engines' op tables. Each family of ops fills its slots from its
 * own file, the way the CPU backend does: our kernels (NATIVE) and
 * cuDNN/cuBLAS (VENDOR; under emulation, on the conformance double of
 * src/cuda/vendor_emu). */
void cnn_cuda_register_elementwise(cnn_op_fn *native);
void cnn_cuda_register_loss(cnn_op_fn *native);
void cnn_cuda_register_dropout(cnn_op_fn *native);
void cnn_cuda_register_concat(cnn_op_fn *native);
void cnn_cuda_register_sgd(cnn_op_fn *native);
void cnn_cuda_register_pool(cnn_op_fn *native);
void cnn_cuda_register_lrn(cnn_op_fn *native);
void cnn_cuda_register_batchnorm(cnn_op_fn *native);
void cnn_cuda_register_linear(cnn_op_fn *native);
void cnn_cuda_register_conv(cnn_op_fn *native);
void cnn_cuda_register_linear_cublas(cnn_op_fn *vendor);
#ifdef CNN_HAVE_CUDNN
void cnn_cuda_register_conv_cudnn(cnn_op_fn *vendor);
void cnn_cuda_register_pool_cudnn(cnn_op_fn *vendor);
void cnn_cuda_register_batchnorm_cudnn(cnn_op_fn *vendor);
void cnn_cuda_register_lrn_cudnn(cnn_op_fn *vendor);
void cnn_cuda_register_activation_cudnn(cnn_op_fn *vendor);
#endif

#ifndef CNN_CUDA_EMULATION
/* Append "cublas: 13.0.0" and "cudnn: 9.x.y" lines to buf
 * (src/cuda/version_cublas.cu, version_cudnn.cu; vendor libraries are not
 * part of the emulation build). */
void cnn_cuda_describe_cublas(char *buf, size_t size);
void cnn_cuda_describe_cudnn(char *buf, size_t size);
#endif

/* Fill and random initialisation (fill.cu), registered by
 * cnn_cuda_register_elementwise. */
cnn_status cnn_cuda_fill(const cnn_op_args *args);
cnn_status cnn_cuda_uniform(const cnn_op_args *args);
cnn_status cnn_cuda_normal(const cnn_op_args *args);

#endif /* CNN_CUDA_COMMON_CUH */
