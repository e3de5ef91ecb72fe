/* tests/emu_test_util.h - what the CUDA emulation's own suites share:
 * Check in C++, device buffers, and assertions on CUDA results. */
#ifndef CNN_EMU_TEST_UTIL_H
#define CNN_EMU_TEST_UTIL_H

#include <string.h>

#include <vector>

#include <cuda_runtime.h>

#include "emulable.cuh"

extern "C" {
#include "test_util.h"
}

/* Asserts that a CUDA call gives `expected`, printing what the emulation
 * reported when it does not. */
#define ck_assert_cuda(call, expected)                                       \
    do {                                                                     \
        cudaError_t e_ = (call);                                             \
        ck_assert_msg(e_ == (expected), "%s gave %s, expected %s: %s", #call, \
                      cudaGetErrorName(e_), cudaGetErrorName(expected),       \
                      cudaGetErrorString(e_));                                \
    } while (0)

#define ck_assert_cuda_ok(call) ck_assert_cuda(call, cudaSuccess)

/* Asserts that the emulation's report of the last failure mentions
 * `fragment`. */
#define ck_assert_report(fragment)                                           \
    ck_assert_msg(strstr(cnn_emu_last_report(), (fragment)) != NULL,          \
                  "the report '%s' does not mention '%s'",                    \
                  cnn_emu_last_report(), (fragment))

/* A device array of n T, freed with the object. */
template <typename T> struct device_array {
    T *data = nullptr;
    size_t n = 0;

    explicit device_array(size_t count) : n(count)
    {
        ck_assert_cuda_ok(cudaMalloc(&data, count * sizeof(T)));
    }
    ~device_array() { cudaFree(data); }
    device_array(const device_array &) = delete;
    device_array &operator=(const device_array &) = delete;

    void write(const std::vector<T> &host)
    {
        ck_assert_cuda_ok(cudaMemcpy(data, host.data(), n * sizeof(T),
                                     cudaMemcpyHostToDevice));
    }
    std::vector<T> read() const
    {
        std::vector<T> host(n);
        ck_assert_cuda_ok(cudaMemcpy(host.data(), data, n * sizeof(T),
                                     cudaMemcpyDeviceToHost));
        return host;
    }
};

#endif /* CNN_EMU_TEST_UTIL_H */
