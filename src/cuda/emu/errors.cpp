/* src/cuda/emu/errors.cpp - CUDA's error rules in the emulation: names and
 * sentences of the codes (those of the real runtime), the pending error of
 * each host thread that cudaGetLastError returns and clears, and the
 * sticky error after which every call fails. Each failure keeps a report
 * saying what went wrong, which cudaGetErrorString appends. */
#include <stdarg.h>
#include <stdio.h>

#include "internal.h"

namespace cnn_emu {
namespace {

struct error_text {
    cudaError_t code;
    const char *name;
    const char *sentence;
};

const error_text error_texts[] = {
    {cudaSuccess, "cudaSuccess", "no error"},
    {cudaErrorInvalidValue, "cudaErrorInvalidValue", "invalid argument"},
    {cudaErrorMemoryAllocation, "cudaErrorMemoryAllocation", "out of memory"},
    {cudaErrorInitializationError, "cudaErrorInitializationError",
     "initialization error"},
    {cudaErrorInvalidConfiguration, "cudaErrorInvalidConfiguration",
     "invalid configuration argument"},
    {cudaErrorInvalidDevicePointer, "cudaErrorInvalidDevicePointer",
     "invalid device pointer"},
    {cudaErrorInvalidMemcpyDirection, "cudaErrorInvalidMemcpyDirection",
     "invalid copy direction for memcpy"},
    {cudaErrorInvalidDeviceFunction, "cudaErrorInvalidDeviceFunction",
     "invalid device function"},
    {cudaErrorNoDevice, "cudaErrorNoDevice", "no CUDA-capable device is detected"},
    {cudaErrorInvalidDevice, "cudaErrorInvalidDevice", "invalid device ordinal"},
    {cudaErrorECCUncorrectable, "cudaErrorECCUncorrectable",
     "uncorrectable ECC error encountered"},
    {cudaErrorInvalidResourceHandle, "cudaErrorInvalidResourceHandle",
     "invalid resource handle"},
    {cudaErrorNotReady, "cudaErrorNotReady", "device not ready"},
    {cudaErrorIllegalAddress, "cudaErrorIllegalAddress",
     "an illegal memory access was encountered"},
    {cudaErrorLaunchOutOfResources, "cudaErrorLaunchOutOfResources",
     "too many resources requested for launch"},
    {cudaErrorAssert, "cudaErrorAssert", "device-side assert triggered"},
    {cudaErrorHardwareStackError, "cudaErrorHardwareStackError",
     "hardware stack error"},
    {cudaErrorIllegalInstruction, "cudaErrorIllegalInstruction",
     "an illegal instruction was encountered"},
    {cudaErrorMisalignedAddress, "cudaErrorMisalignedAddress",
     "misaligned address"},
    {cudaErrorInvalidAddressSpace, "cudaErrorInvalidAddressSpace",
     "operation not supported on global/shared address space"},
    {cudaErrorInvalidPc, "cudaErrorInvalidPc", "invalid program counter"},
    {cudaErrorLaunchFailure, "cudaErrorLaunchFailure",
     "unspecified launch failure"},
    {cudaErrorNotSupported, "cudaErrorNotSupported", "operation not supported"},
    {cudaErrorUnknown, "cudaErrorUnknown", "unknown error"},
};

const error_text *find_text(cudaError_t code)
{
    for (const error_text &t : error_texts)
        if (t.code == code)
            return &t;
    return nullptr;
}

bool is_sticky(cudaError_t error)
{
    switch (error) {
    case cudaErrorIllegalAddress:
    case cudaErrorLaunchFailure:
    case cudaErrorHardwareStackError:
    case cudaErrorIllegalInstruction:
    case cudaErrorMisalignedAddress:
    case cudaErrorInvalidAddressSpace:
    case cudaErrorInvalidPc:
    case cudaErrorAssert:
        return true;
    default:
        return false;
    }
}

std::mutex state_lock; /* the sticky error and its report */
std::atomic<int> sticky{cudaSuccess};
std::string sticky_report;

struct thread_errors {
    cudaError_t pending = cudaSuccess;
    cudaError_t reported = cudaSuccess; /* the code `report` is about */
    std::string report;
    std::string text; /* what cudaGetErrorString last returned */
};
thread_local thread_errors this_thread;

} // namespace

cudaError_t sticky_error()
{
    return (cudaError_t)sticky.load(std::memory_order_acquire);
}

cudaError_t record_error(cudaError_t error, const std::string &report,
                         bool pending)
{
    if (error == cudaSuccess)
        return error;
    if (is_sticky(error)) {
        std::lock_guard<std::mutex> guard(state_lock);
        if (sticky.load() == cudaSuccess) {
            sticky_report = report;
            sticky.store(error, std::memory_order_release);
        }
    }
    this_thread.reported = error;
    this_thread.report = report;
    if (pending)
        this_thread.pending = error;
    return error;
}

cudaError_t record_errorf(cudaError_t error, const char *fmt, ...)
{
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    return record_error(error, text);
}

void clear_errors()
{
    std::lock_guard<std::mutex> guard(state_lock);
    sticky.store(cudaSuccess);
    sticky_report.clear();
    this_thread = thread_errors();
}

} // namespace cnn_emu

using namespace cnn_emu;

const char *cudaGetErrorName(cudaError_t error)
{
    const error_text *t = find_text(error);
    return t ? t->name : "cudaErrorUnknown";
}

const char *cudaGetErrorString(cudaError_t error)
{
    const error_text *t = find_text(error);
    const char *sentence = t ? t->sentence : "unknown error";
    std::string detail;
    if (error != cudaSuccess && error == sticky_error()) {
        std::lock_guard<std::mutex> guard(state_lock);
        detail = sticky_report;
    } else if (error != cudaSuccess && error == this_thread.reported) {
        detail = this_thread.report;
    }
    if (detail.empty())
        return sentence;
    this_thread.text = std::string(sentence) + " (CUDA emulation: " + detail + ")";
    return this_thread.text.c_str();
}

cudaError_t cudaGetLastError(void)
{
    cudaError_t s = sticky_error();
    if (s != cudaSuccess)
        return s;
    cudaError_t e = this_thread.pending;
    this_thread.pending = cudaSuccess;
    return e;
}

cudaError_t cudaPeekAtLastError(void)
{
    cudaError_t s = sticky_error();
    return s != cudaSuccess ? s : this_thread.pending;
}

extern "C" const char *cnn_emu_last_report(void)
{
    if (sticky_error() != cudaSuccess) {
        std::lock_guard<std::mutex> guard(state_lock);
        this_thread.text = sticky_report;
        return this_thread.text.c_str();
    }
    return this_thread.report.c_str();
}
