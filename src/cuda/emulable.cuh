/* src/cuda/emulable.cuh - the macros that keep our kernels in the subset
 * of CUDA that the CPU emulation runs (DESIGN.md, docs/emulation.md):
 * every launch through CNN_LAUNCH, shared memory through CNN_SHARED and
 * CNN_DYNAMIC_SHARED, unrolling through CNN_UNROLL. Under nvcc they are
 * plain CUDA; with CNN_CUDA_EMULATION they call the emulation
 * (src/cuda/emu/include/cuda_runtime.h). */
#ifndef CNN_CUDA_EMULABLE_CUH
#define CNN_CUDA_EMULABLE_CUH

#include <cuda_runtime.h>

#ifndef CNN_CUDA_EMULATION

/* Launches `kernel` and evaluates to the launch's cudaError_t, so that
 * every launch is checked: CNN_LAUNCH(k, grid, block, shmem, stream, a...). */
/* The launch's error; with CNN_CUDA_SYNC=1 the launch also waits for its
 * kernel, so that an asynchronous fault is this launch's error
 * (src/cuda/backend.cu). */
cudaError_t cnn_cuda_after_launch(cudaStream_t stream, cudaError_t launch);

#define CNN_LAUNCH(kernel, grid, block, shmem, stream, ...)                  \
    ((kernel)<<<(grid), (block), (shmem), (stream)>>>(__VA_ARGS__),           \
     cnn_cuda_after_launch((stream), cudaGetLastError()))

/* Static shared memory: CNN_SHARED(float, tile, [32][33]) declares
 * `__shared__ float tile[32][33]`; leave dims empty for a scalar. */
#define CNN_SHARED(T, name, dims) __shared__ T name dims

/* Dynamic shared memory as an array of T named `name`; one declaration of
 * the underlying bytes serves every kernel whatever its element type. */
#define CNN_DYNAMIC_SHARED(T, name)                                           \
    extern __shared__ __align__(16) unsigned char cnn_dynamic_shared_[];      \
    T *name = reinterpret_cast<T *>(cnn_dynamic_shared_)

#define CNN_UNROLL _Pragma("unroll")

#else /* CNN_CUDA_EMULATION */

#define CNN_LAUNCH(kernel, grid, block, shmem, stream, ...)                  \
    (::cnn_emu::launch(#kernel, (kernel), (grid), (block), (shmem), (stream), \
                       __VA_ARGS__))

/* A reference to the block's copy; the static local's address tells the
 * declarations apart (one per declaration, as __shared__ gives). */
#define CNN_SHARED(T, name, dims)                                             \
    static const char cnn_shared_site_##name = 0;                             \
    using cnn_shared_type_##name = T dims;                                    \
    cnn_shared_type_##name &name =                                            \
        *static_cast<cnn_shared_type_##name *>(::cnn_emu::shared_static(      \
            &cnn_shared_site_##name, sizeof(cnn_shared_type_##name),          \
            alignof(cnn_shared_type_##name)))

#define CNN_DYNAMIC_SHARED(T, name)                                           \
    T *name = reinterpret_cast<T *>(::cnn_emu::shared_dynamic())

/* The host compiler may unroll as it likes: nothing to emulate. */
#define CNN_UNROLL

#endif /* CNN_CUDA_EMULATION */

#endif /* CNN_CUDA_EMULABLE_CUH */
