/* src/cuda/emu/runtime.cpp - the emulated device: its properties (an
 * sm_90-like GPU whose multiprocessors are the worker threads), versions,
 * the switches read from the environment, streams, events and kernel
 * attributes. Work is done when it is enqueued, so every stream is always
 * idle and stream order is kept trivially; events record host time. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <chrono>
#include <set>
#include <thread>

#include "internal.h"

struct cnn_emu_stream {
    unsigned flags;
};

struct cnn_emu_event {
    unsigned flags;
    bool recorded;
    std::chrono::steady_clock::time_point when;
};

namespace cnn_emu {
namespace {

std::set<cudaStream_t> streams;
std::set<cudaEvent_t> events;
std::map<uintptr_t, size_t> dynamic_limits; /* kernel -> opt-in bytes */
std::atomic<int> check_override{-1};         /* -1: from the environment */
thread_local int current_device = 0;

int env_int(const char *name, int fallback)
{
    const char *text = getenv(name);
    if (!text || !text[0])
        return fallback;
    char *end;
    long v = strtol(text, &end, 10);
    return *end == '\0' && v >= 0 && v <= 1 << 20 ? (int)v : fallback;
}

cudaError_t device_call_start()
{
    return sticky_error();
}

cudaError_t check_device(int device)
{
    if (device != 0)
        return record_errorf(cudaErrorInvalidDevice,
                             "device %d does not exist: the emulation has one "
                             "device, 0", device);
    return cudaSuccess;
}

bool event_valid(cudaEvent_t event) { return events.count(event) != 0; }

} // namespace

std::mutex &device_mutex()
{
    static std::mutex *m = new std::mutex; /* never destroyed: workers */
    return *m;
}

bool check_mode()
{
    int forced = check_override.load();
    if (forced >= 0)
        return forced != 0;
    static const bool from_env = env_int("CNN_EMU_CHECK", 0) != 0;
    return from_env;
}

int worker_count()
{
    static const int count = [] {
        int hw = (int)std::thread::hardware_concurrency();
        int n = env_int("CNN_EMU_WORKERS", 0);
        if (n <= 0)
            n = hw < 1 ? 1 : hw > 8 ? 8 : hw;
        return n > 64 ? 64 : n;
    }();
    return count;
}

bool stream_valid(cudaStream_t stream)
{
    return stream == nullptr || streams.count(stream) != 0;
}

size_t kernel_dynamic_limit(uintptr_t kernel)
{
    auto it = dynamic_limits.find(kernel);
    return it == dynamic_limits.end() ? 0 : it->second;
}

void reset_streams_events_attributes()
{
    for (cudaStream_t s : streams)
        delete s;
    streams.clear();
    for (cudaEvent_t e : events)
        delete e;
    events.clear();
    dynamic_limits.clear();
}

cudaError_t func_set_attribute(uintptr_t kernel, cudaFuncAttribute attr,
                               int value)
{
    std::lock_guard<std::mutex> guard(device_mutex());
    if (cudaError_t e = device_call_start())
        return e;
    if (kernel == 0)
        return record_errorf(cudaErrorInvalidDeviceFunction,
                             "cudaFuncSetAttribute: no kernel");
    switch (attr) {
    case cudaFuncAttributeMaxDynamicSharedMemorySize:
        if (value < 0 || (size_t)value > optin_shared_limit)
            return record_errorf(cudaErrorInvalidValue,
                                 "cudaFuncSetAttribute: %d bytes of dynamic "
                                 "shared memory is more than the device's "
                                 "opt-in limit of %zu bytes",
                                 value, optin_shared_limit);
        dynamic_limits[kernel] = (size_t)value;
        return cudaSuccess;
    case cudaFuncAttributePreferredSharedMemoryCarveout:
        if (value < -1 || value > 100)
            return record_errorf(cudaErrorInvalidValue,
                                 "cudaFuncSetAttribute: carveout %d is not "
                                 "-1 or a percentage", value);
        return cudaSuccess; /* a hint; nothing to emulate */
    }
    return record_errorf(cudaErrorInvalidValue,
                         "cudaFuncSetAttribute: attribute %d is not emulated",
                         (int)attr);
}

} // namespace cnn_emu

using namespace cnn_emu;

extern "C" void cnn_emu_set_check(int on) { check_override.store(on ? 1 : 0); }
extern "C" int cnn_emu_check_enabled(void) { return check_mode(); }
extern "C" int cnn_emu_worker_count(void) { return worker_count(); }

cudaError_t cudaGetDeviceCount(int *count)
{
    if (!count)
        return record_errorf(cudaErrorInvalidValue, "cudaGetDeviceCount: NULL");
    *count = 1;
    return cudaSuccess;
}

cudaError_t cudaSetDevice(int device)
{
    if (cudaError_t e = check_device(device))
        return e;
    current_device = device;
    return sticky_error();
}

cudaError_t cudaGetDevice(int *device)
{
    if (!device)
        return record_errorf(cudaErrorInvalidValue, "cudaGetDevice: NULL");
    *device = current_device;
    return cudaSuccess;
}

cudaError_t cudaGetDeviceProperties(cudaDeviceProp *prop, int device)
{
    if (!prop)
        return record_errorf(cudaErrorInvalidValue,
                             "cudaGetDeviceProperties: NULL");
    if (cudaError_t e = check_device(device))
        return e;
    memset(prop, 0, sizeof *prop);
    snprintf(prop->name, sizeof prop->name,
             "CUDA emulation on the CPU, not a GPU");
    prop->totalGlobalMem = device_memory_limit;
    prop->sharedMemPerBlock = default_shared_limit;
    prop->regsPerBlock = 65536;
    prop->warpSize = warpSize;
    prop->maxThreadsPerBlock = (int)max_block_threads;
    prop->maxThreadsDim[0] = (int)max_block_x;
    prop->maxThreadsDim[1] = (int)max_block_y;
    prop->maxThreadsDim[2] = (int)max_block_z;
    prop->maxGridSize[0] = (int)max_grid_x;
    prop->maxGridSize[1] = (int)max_grid_y;
    prop->maxGridSize[2] = (int)max_grid_z;
    prop->totalConstMem = 65536;
    prop->major = 9;
    prop->minor = 0;
    prop->multiProcessorCount = worker_count();
    prop->maxThreadsPerMultiProcessor = 2048;
    prop->sharedMemPerMultiprocessor = 233472;
    prop->sharedMemPerBlockOptin = optin_shared_limit;
    prop->l2CacheSize = 50 << 20;
    prop->unifiedAddressing = 1;
    prop->concurrentKernels = 0; /* one launch at a time */
    return cudaSuccess;
}

cudaError_t cudaDeviceGetAttribute(int *value, cudaDeviceAttr attr, int device)
{
    if (!value)
        return record_errorf(cudaErrorInvalidValue,
                             "cudaDeviceGetAttribute: NULL");
    cudaDeviceProp p;
    if (cudaError_t e = cudaGetDeviceProperties(&p, device))
        return e;
    switch (attr) {
    case cudaDevAttrMaxThreadsPerBlock: *value = p.maxThreadsPerBlock; break;
    case cudaDevAttrMaxBlockDimX: *value = p.maxThreadsDim[0]; break;
    case cudaDevAttrMaxBlockDimY: *value = p.maxThreadsDim[1]; break;
    case cudaDevAttrMaxBlockDimZ: *value = p.maxThreadsDim[2]; break;
    case cudaDevAttrMaxGridDimX: *value = p.maxGridSize[0]; break;
    case cudaDevAttrMaxGridDimY: *value = p.maxGridSize[1]; break;
    case cudaDevAttrMaxGridDimZ: *value = p.maxGridSize[2]; break;
    case cudaDevAttrMaxSharedMemoryPerBlock: *value = (int)p.sharedMemPerBlock; break;
    case cudaDevAttrTotalConstantMemory: *value = (int)p.totalConstMem; break;
    case cudaDevAttrWarpSize: *value = p.warpSize; break;
    case cudaDevAttrMaxRegistersPerBlock: *value = p.regsPerBlock; break;
    case cudaDevAttrMultiProcessorCount: *value = p.multiProcessorCount; break;
    case cudaDevAttrL2CacheSize: *value = p.l2CacheSize; break;
    case cudaDevAttrMaxThreadsPerMultiProcessor:
        *value = p.maxThreadsPerMultiProcessor;
        break;
    case cudaDevAttrComputeCapabilityMajor: *value = p.major; break;
    case cudaDevAttrComputeCapabilityMinor: *value = p.minor; break;
    case cudaDevAttrMaxSharedMemoryPerMultiprocessor:
        *value = (int)p.sharedMemPerMultiprocessor;
        break;
    case cudaDevAttrMaxSharedMemoryPerBlockOptin:
        *value = (int)p.sharedMemPerBlockOptin;
        break;
    default:
        return record_errorf(cudaErrorInvalidValue,
                             "cudaDeviceGetAttribute: attribute %d is not "
                             "emulated", (int)attr);
    }
    return cudaSuccess;
}

cudaError_t cudaDeviceSynchronize(void)
{
    std::lock_guard<std::mutex> guard(device_mutex());
    return device_call_start();
}

cudaError_t cudaDeviceReset(void)
{
    std::lock_guard<std::mutex> guard(device_mutex());
    free_all_allocations();
    reset_streams_events_attributes();
    clear_errors();
    return cudaSuccess;
}

/* No driver is involved: 0, as the runtime reports without one. */
cudaError_t cudaDriverGetVersion(int *version)
{
    if (!version)
        return record_errorf(cudaErrorInvalidValue, "cudaDriverGetVersion: NULL");
    *version = 0;
    return cudaSuccess;
}

cudaError_t cudaRuntimeGetVersion(int *version)
{
    if (!version)
        return record_errorf(cudaErrorInvalidValue, "cudaRuntimeGetVersion: NULL");
    *version = CUDART_VERSION;
    return cudaSuccess;
}

cudaError_t cudaStreamCreate(cudaStream_t *stream)
{
    return cudaStreamCreateWithFlags(stream, cudaStreamDefault);
}

cudaError_t cudaStreamCreateWithFlags(cudaStream_t *stream, unsigned int flags)
{
    std::lock_guard<std::mutex> guard(device_mutex());
    if (cudaError_t e = device_call_start())
        return e;
    if (!stream || flags > cudaStreamNonBlocking)
        return record_errorf(cudaErrorInvalidValue,
                             "cudaStreamCreateWithFlags: %s",
                             stream ? "unknown flags" : "NULL");
    cudaStream_t s = new cnn_emu_stream{flags};
    streams.insert(s);
    *stream = s;
    return cudaSuccess;
}

cudaError_t cudaStreamDestroy(cudaStream_t stream)
{
    std::lock_guard<std::mutex> guard(device_mutex());
    if (!stream || !streams.erase(stream))
        return record_errorf(cudaErrorInvalidResourceHandle,
                             "cudaStreamDestroy: %p is not a stream",
                             (void *)stream);
    delete stream;
    return sticky_error();
}

cudaError_t cudaStreamSynchronize(cudaStream_t stream)
{
    std::lock_guard<std::mutex> guard(device_mutex());
    if (cudaError_t e = device_call_start())
        return e;
    if (!stream_valid(stream))
        return record_errorf(cudaErrorInvalidResourceHandle,
                             "cudaStreamSynchronize: %p is not a stream",
                             (void *)stream);
    return cudaSuccess;
}

cudaError_t cudaStreamQuery(cudaStream_t stream)
{
    return cudaStreamSynchronize(stream); /* always idle */
}

cudaError_t cudaStreamWaitEvent(cudaStream_t stream, cudaEvent_t event,
                                unsigned int flags)
{
    std::lock_guard<std::mutex> guard(device_mutex());
    if (cudaError_t e = device_call_start())
        return e;
    if (!stream_valid(stream) || !event_valid(event) || flags != 0)
        return record_errorf(cudaErrorInvalidResourceHandle,
                             "cudaStreamWaitEvent: not a stream and an event");
    return cudaSuccess;
}

cudaError_t cudaEventCreate(cudaEvent_t *event)
{
    return cudaEventCreateWithFlags(event, cudaEventDefault);
}

cudaError_t cudaEventCreateWithFlags(cudaEvent_t *event, unsigned int flags)
{
    std::lock_guard<std::mutex> guard(device_mutex());
    if (cudaError_t e = device_call_start())
        return e;
    if (!event || (flags & ~(cudaEventBlockingSync | cudaEventDisableTiming)))
        return record_errorf(cudaErrorInvalidValue,
                             "cudaEventCreateWithFlags: %s",
                             event ? "unknown flags" : "NULL");
    cudaEvent_t e = new cnn_emu_event{flags, false, {}};
    events.insert(e);
    *event = e;
    return cudaSuccess;
}

cudaError_t cudaEventDestroy(cudaEvent_t event)
{
    std::lock_guard<std::mutex> guard(device_mutex());
    if (!event || !events.erase(event))
        return record_errorf(cudaErrorInvalidResourceHandle,
                             "cudaEventDestroy: %p is not an event",
                             (void *)event);
    delete event;
    return sticky_error();
}

cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t stream)
{
    std::lock_guard<std::mutex> guard(device_mutex());
    if (cudaError_t e = device_call_start())
        return e;
    if (!event_valid(event) || !stream_valid(stream))
        return record_errorf(cudaErrorInvalidResourceHandle,
                             "cudaEventRecord: not an event and a stream");
    event->recorded = true;
    event->when = std::chrono::steady_clock::now();
    return cudaSuccess;
}

cudaError_t cudaEventSynchronize(cudaEvent_t event)
{
    std::lock_guard<std::mutex> guard(device_mutex());
    if (cudaError_t e = device_call_start())
        return e;
    if (!event_valid(event))
        return record_errorf(cudaErrorInvalidResourceHandle,
                             "cudaEventSynchronize: %p is not an event",
                             (void *)event);
    return cudaSuccess;
}

cudaError_t cudaEventQuery(cudaEvent_t event)
{
    return cudaEventSynchronize(event);
}

cudaError_t cudaEventElapsedTime(float *ms, cudaEvent_t start, cudaEvent_t end)
{
    std::lock_guard<std::mutex> guard(device_mutex());
    if (cudaError_t e = device_call_start())
        return e;
    if (!ms)
        return record_errorf(cudaErrorInvalidValue, "cudaEventElapsedTime: NULL");
    if (!event_valid(start) || !event_valid(end) || !start->recorded ||
        !end->recorded || ((start->flags | end->flags) & cudaEventDisableTiming))
        return record_errorf(cudaErrorInvalidResourceHandle,
                             "cudaEventElapsedTime: both events must exist, "
                             "time and have been recorded");
    *ms = std::chrono::duration<float, std::milli>(end->when - start->when).count();
    return cudaSuccess;
}
