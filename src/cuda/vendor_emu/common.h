/* src/cuda/vendor_emu/common.h - what the conformance double's files share:
 * device memory read and written through the emulated runtime (so every
 * pointer is checked against the emulation's live allocations), the last
 * error's text, fault injection and a call trace for tests.
 *
 * The double is written from NVIDIA's documentation (the cuDNN 9 API
 * reference and the cuBLAS library reference), never from our calling
 * code; each function names the section it follows. */
#ifndef CNN_VENDOR_EMU_COMMON_H
#define CNN_VENDOR_EMU_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include <string>
#include <vector>

#include "cuda_runtime.h"

namespace cnn_vemu {

/* Outcome of a device memory access. */
enum class io { ok, bad_pointer, device_failed };

/* Records `text` as the thread's last error (cudnnGetLastErrorString). */
void set_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
const std::string &last_error();

/* Reads `count` floats at `p` (a device pointer) into `out` as doubles,
 * through cudaMemcpy, whose checks refuse a host pointer, a freed block
 * and a range past the end of an allocation: io::bad_pointer then, with
 * the runtime's report recorded as the last error (and the runtime's
 * pending error cleared: a documented parameter error is not a fault);
 * io::device_failed when the device has had a sticky fault. */
io read_floats(const char *call, const char *role, const void *p,
               size_t count, std::vector<double> &out);
/* Writes `in` as floats to `p`. */
io write_floats(const char *call, const char *role, void *p,
                const std::vector<double> &in);
/* Checks that [p, p + bytes) is device memory, without copying it all. */
io check_range(const char *call, const char *role, const void *p,
               size_t bytes);

/* Test hooks. CNN_VENDOR_EMU_FAIL="name=code[,name=code...]" makes the
 * named function return that status before doing anything (code 5000 or
 * above, cuDNN's execution failures, and cuBLAS's 13 also leave the
 * device with a sticky fault, as a kernel that faulted inside the
 * library would); returns 0 when `name` is not listed.
 * CNN_VENDOR_EMU_TRACE=path appends each call's name to that file. */
int injected(const char *name);
void trace(const char *name);
/* Leaves the emulated device with a sticky illegal-address fault, raised
 * by a kernel of the double, and clears it from this thread's pending
 * error: the library's own runtime would hold it, not the caller's. */
void fault_device();

/* The float at `p` (host memory: alpha and beta scalars). */
inline double scalar(const void *p) { return (double)*static_cast<const float *>(p); }

} // namespace cnn_vemu

#endif /* CNN_VENDOR_EMU_COMMON_H */
