/* cnn_emu/runtime_api.h - the host side of the CUDA runtime that the
 * backend calls, done on the CPU: one emulated device, device memory with
 * guard pages, copies and fills, streams whose work runs at enqueue time
 * (stream order is kept), events that record host time, and CUDA's error
 * rules (a sticky error fails every later call). Thread-safe. */
#ifndef CNN_EMU_RUNTIME_API_H
#define CNN_EMU_RUNTIME_API_H

#include <string.h>

#include "types.h"

const char *cudaGetErrorName(cudaError_t error);
/* The runtime's sentence for `error`; for the error of the last failed
 * launch or copy it is followed by the emulation's report of what went
 * wrong (kernel, allocation, offset). */
const char *cudaGetErrorString(cudaError_t error);
cudaError_t cudaGetLastError(void);
cudaError_t cudaPeekAtLastError(void);

cudaError_t cudaGetDeviceCount(int *count);
cudaError_t cudaSetDevice(int device);
cudaError_t cudaGetDevice(int *device);
cudaError_t cudaGetDeviceProperties(cudaDeviceProp *prop, int device);
cudaError_t cudaDeviceGetAttribute(int *value, cudaDeviceAttr attr,
                                   int device);
cudaError_t cudaDeviceSynchronize(void);
/* Frees every allocation, stream and event and clears a sticky error. */
cudaError_t cudaDeviceReset(void);
cudaError_t cudaDriverGetVersion(int *version);
cudaError_t cudaRuntimeGetVersion(int *version);

cudaError_t cudaMalloc(void **ptr, size_t bytes);
template <typename T>
static inline cudaError_t cudaMalloc(T **ptr, size_t bytes)
{
    return cudaMalloc(reinterpret_cast<void **>(ptr), bytes);
}
cudaError_t cudaFree(void *ptr);
cudaError_t cudaMemGetInfo(size_t *free_bytes, size_t *total_bytes);
cudaError_t cudaMallocHost(void **ptr, size_t bytes);
cudaError_t cudaHostAlloc(void **ptr, size_t bytes, unsigned int flags);
cudaError_t cudaFreeHost(void *ptr);

cudaError_t cudaMemcpy(void *dst, const void *src, size_t bytes,
                       cudaMemcpyKind kind);
cudaError_t cudaMemcpyAsync(void *dst, const void *src, size_t bytes,
                            cudaMemcpyKind kind, cudaStream_t stream = 0);
cudaError_t cudaMemcpyPeer(void *dst, int dst_device, const void *src,
                           int src_device, size_t bytes);
cudaError_t cudaMemcpyPeerAsync(void *dst, int dst_device, const void *src,
                                int src_device, size_t bytes,
                                cudaStream_t stream = 0);
cudaError_t cudaMemset(void *dst, int value, size_t bytes);
cudaError_t cudaMemsetAsync(void *dst, int value, size_t bytes,
                            cudaStream_t stream = 0);

cudaError_t cudaStreamCreate(cudaStream_t *stream);
cudaError_t cudaStreamCreateWithFlags(cudaStream_t *stream,
                                      unsigned int flags);
cudaError_t cudaStreamDestroy(cudaStream_t stream);
cudaError_t cudaStreamSynchronize(cudaStream_t stream);
cudaError_t cudaStreamQuery(cudaStream_t stream);
cudaError_t cudaStreamWaitEvent(cudaStream_t stream, cudaEvent_t event,
                                unsigned int flags = 0);

cudaError_t cudaEventCreate(cudaEvent_t *event);
cudaError_t cudaEventCreateWithFlags(cudaEvent_t *event, unsigned int flags);
cudaError_t cudaEventDestroy(cudaEvent_t event);
cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t stream = 0);
cudaError_t cudaEventSynchronize(cudaEvent_t event);
cudaError_t cudaEventQuery(cudaEvent_t event);
cudaError_t cudaEventElapsedTime(float *ms, cudaEvent_t start,
                                 cudaEvent_t end);

namespace cnn_emu {
/* Kernels are told apart by their address. */
template <typename T> static inline uintptr_t kernel_key(T *entry)
{
    return reinterpret_cast<uintptr_t>(entry);
}
cudaError_t func_set_attribute(uintptr_t kernel, cudaFuncAttribute attr,
                               int value);
} // namespace cnn_emu

/* cudaFuncAttributeMaxDynamicSharedMemorySize raises a kernel's dynamic
 * shared memory limit above 48 KiB, up to the device's opt-in maximum. */
template <typename T>
static inline cudaError_t cudaFuncSetAttribute(T *entry, cudaFuncAttribute attr,
                                               int value)
{
    return cnn_emu::func_set_attribute(cnn_emu::kernel_key(entry), attr, value);
}

/* __constant__ variables are ordinary globals here. */
template <typename T>
static inline cudaError_t cudaMemcpyToSymbol(T &symbol, const void *src,
                                             size_t bytes, size_t offset = 0,
                                             cudaMemcpyKind kind =
                                                 cudaMemcpyHostToDevice)
{
    if (offset + bytes > sizeof symbol || kind == cudaMemcpyDeviceToHost)
        return cudaErrorInvalidValue;
    memcpy(reinterpret_cast<unsigned char *>(&symbol) + offset, src, bytes);
    return cudaSuccess;
}

#endif /* CNN_EMU_RUNTIME_API_H */
