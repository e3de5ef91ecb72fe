/* src/cuda/vendor_emu/common.cpp - device memory access, errors, fault
 * injection and tracing for the conformance double (common.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "cuda/emulable.cuh"

namespace cnn_vemu {

namespace {
thread_local std::string error_text;

io from_runtime(const char *call, const char *role, const void *p,
                cudaError_t e)
{
    if (e == cudaSuccess)
        return io::ok;
    if (e == cudaErrorInvalidValue) {
        /* The runtime's report names the address ("not device memory: it
         * was freed ..."). */
        set_error("%s: %s %p: %s", call, role, p, cudaGetErrorString(e));
        cudaGetLastError();
        return io::bad_pointer;
    }
    set_error("%s: the device failed: %s", call, cudaGetErrorString(e));
    return io::device_failed;
}

static __global__ void fault_kernel(float *p) { p[threadIdx.x] = 1.0f; }
} // namespace

void set_error(const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    error_text = buf;
}

const std::string &last_error() { return error_text; }

io read_floats(const char *call, const char *role, const void *p,
               size_t count, std::vector<double> &out)
{
    std::vector<float> f(count);
    out.assign(count, 0.0);
    if (count == 0)
        return io::ok;
    io r = from_runtime(call, role, p,
                        cudaMemcpy(f.data(), p, count * sizeof(float),
                                   cudaMemcpyDeviceToHost));
    if (r == io::ok)
        for (size_t i = 0; i < count; ++i)
            out[i] = (double)f[i];
    return r;
}

io write_floats(const char *call, const char *role, void *p,
                const std::vector<double> &in)
{
    if (in.empty())
        return io::ok;
    std::vector<float> f(in.size());
    for (size_t i = 0; i < in.size(); ++i)
        f[i] = (float)in[i];
    return from_runtime(call, role, p,
                        cudaMemcpy(p, f.data(), f.size() * sizeof(float),
                                   cudaMemcpyHostToDevice));
}

io check_range(const char *call, const char *role, const void *p,
               size_t bytes)
{
    if (bytes == 0)
        return io::ok;
    /* A device-to-device copy of the range onto itself: the runtime checks
     * both ends and moves nothing visible. */
    return from_runtime(call, role, p,
                        cudaMemcpy(const_cast<void *>(p), p, bytes,
                                   cudaMemcpyDeviceToDevice));
}

int injected(const char *name)
{
    const char *spec = getenv("CNN_VENDOR_EMU_FAIL");
    if (!spec)
        return 0;
    size_t len = strlen(name);
    for (const char *s = spec; *s;) {
        const char *end = strchr(s, ',');
        size_t n = end ? (size_t)(end - s) : strlen(s);
        if (n > len && strncmp(s, name, len) == 0 && s[len] == '=') {
            int code = atoi(s + len + 1);
            set_error("%s: failed by CNN_VENDOR_EMU_FAIL (status %d)", name,
                      code);
            return code;
        }
        s += n + (end ? 1 : 0);
    }
    return 0;
}

void trace(const char *name)
{
    const char *path = getenv("CNN_VENDOR_EMU_TRACE");
    if (!path)
        return;
    FILE *f = fopen(path, "a");
    if (!f)
        return;
    fprintf(f, "%s\n", name);
    fclose(f);
}

void fault_device()
{
    CNN_LAUNCH(fault_kernel, 1, 1, 0, 0, (float *)nullptr);
    cudaDeviceSynchronize();
    /* What remains is the sticky error, which every later call (a stream
     * query included) reports. */
    cudaGetLastError();
}

} // namespace cnn_vemu
