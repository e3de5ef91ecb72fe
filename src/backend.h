/* src/backend.h - the interface between the core and a backend.
 *
 * A backend is one table of function pointers (struct cnn_backend): memory,
 * synchronisation, a supports() query and one slot per op value, indexed by
 * enum cnn_op. The core validates every argument (shapes, devices, dtypes)
 * before it calls a slot, so backends trust their arguments. A NULL op slot,
 * or supports() answering false, is CNN_ERR_UNSUPPORTED to the caller.
 *
 * The CPU backend is linked into libcnn. The CUDA backend is the module
 * libcnn-cuda.so: the registry dlopen()s it and calls its one exported
 * function, CNN_CUDA_MODULE_ENTRY, handing it the core's services
 * (cnn_host_api) so that the module needs no symbol from libcnn.
 *
 * Adding an op: its enum value in include/cnn/ops.h, its name in
 * src/op_table.c, its params in src/op_params.h, its checks in the core and
 * one implementation per backend. Nothing else changes.
 */
#ifndef CNN_BACKEND_H
#define CNN_BACKEND_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cnn/device.h"
#include "cnn/ops.h"
#include "cnn/status.h"
#include "op_params.h"
#include "tensor_impl.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped whenever struct cnn_backend, cnn_host_api or cnn_op_args change,
 * so that a stale libcnn-cuda.so is refused rather than misused. */
#define CNN_BACKEND_ABI_VERSION 2u

/* Most inputs and outputs of one op call. */
#define CNN_OP_MAX_INPUTS 6
#define CNN_OP_MAX_OUTPUTS 6

/* One op call, validated by the core. Tensors all live on `device` of the
 * backend's type. Unused slots are NULL. */
typedef struct cnn_op_args {
    cnn_op op;
    int device;        /* index within the backend's device type */
    cnn_engine engine; /* the device's engine (AUTO means: backend picks) */
    cnn_math math;
    bool deterministic;     /* the device's deterministic mode */
    size_t workspace_limit; /* most scratch bytes one op may use */
    cnn_tensor *out[CNN_OP_MAX_OUTPUTS];
    const cnn_tensor *in[CNN_OP_MAX_INPUTS];
    const void *params; /* the op's struct from op_params.h, or NULL */
} cnn_op_args;

typedef cnn_status (*cnn_op_fn)(const cnn_op_args *args);

/* Services the core lends a backend. */
typedef struct cnn_host_api {
    uint32_t abi_version;
    /* Records `status` with a printf-style message as this thread's last
     * error and returns `status`. */
    cnn_status (*verror)(cnn_status status, const char *fmt, va_list ap);
    /* Sends a printf-style message to the log sink. */
    void (*vlog)(cnn_log_level level, const char *fmt, va_list ap);
} cnn_host_api;

typedef struct cnn_backend {
    uint32_t abi_version; /* CNN_BACKEND_ABI_VERSION */
    const char *name;     /* "cpu", "cuda" */
    cnn_device_type type;
    /* True for the CPU emulation of CUDA: such devices are named as
     * emulated and never chosen automatically. */
    bool emulated;

    /* Devices. device_count never fails (0 when none is usable);
     * device_check says why a device is not usable. */
    int (*device_count)(void);
    cnn_status (*device_check)(int device);
    void (*device_name)(int device, char *buf, size_t size);
    /* Appends lines describing the backend's libraries and versions
     * ("cuDNN 9.x", "BLAS: OpenBLAS 0.3.21 (OpenMP)") to buf. */
    void (*describe)(char *buf, size_t size);

    /* Memory. alloc never returns NULL with CNN_OK; bytes > 0. */
    cnn_status (*alloc)(int device, size_t bytes, void **ptr);
    void (*free)(int device, void *ptr);
    /* host -> device and device -> host; synchronous for the host buffer. */
    cnn_status (*upload)(int device, void *dst, const void *src, size_t bytes);
    cnn_status (*download)(int device, void *dst, const void *src,
                           size_t bytes);
    /* device -> device of this backend, possibly two different devices. */
    cnn_status (*copy)(int dst_device, void *dst, int src_device,
                       const void *src, size_t bytes);
    cnn_status (*synchronize)(int device);
    /* Memory statistics (in_use, cached, peak, device free/total), reset of
     * the peak, and return of cached blocks. */
    cnn_status (*memory_stats)(int device, cnn_memory_stats *stats);
    void (*memory_reset_peak)(int device);
    void (*memory_trim)(int device);

    /* Whether the op, with these arguments and engine, can run here. NULL
     * means: every non-NULL op slot supports every valid call. */
    bool (*supports)(const cnn_op_args *args);
    cnn_op_fn ops[CNN_OP_COUNT];

    /* Called once at process exit; may be NULL. */
    void (*shutdown)(void);
} cnn_backend;

/* The one function a backend module exports. On failure it returns NULL
 * and writes why into why[0..why_size). */
#define CNN_CUDA_MODULE_ENTRY "cnn_cuda_backend_open"
typedef const cnn_backend *(*cnn_backend_open_fn)(const cnn_host_api *host,
                                                  char *why, size_t why_size);

/* The CPU backend, linked into libcnn (src/cpu/backend.c), and its one
 * extra beyond the table: the thread count of a logical CPU device
 * (src/cpu/parallel.c). */
const cnn_backend *cnn_cpu_backend_open(const cnn_host_api *host);
void cnn_cpu_set_threads(int device, int threads);

/* Convenience for backends: record an error through the host api. */
static inline cnn_status cnn_backend_error(const cnn_host_api *host,
                                           cnn_status status,
                                           const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
static inline cnn_status cnn_backend_error(const cnn_host_api *host,
                                           cnn_status status,
                                           const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    status = host->verror(status, fmt, ap);
    va_end(ap);
    return status;
}

static inline void cnn_backend_log(const cnn_host_api *host,
                                   cnn_log_level level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
static inline void cnn_backend_log(const cnn_host_api *host,
                                   cnn_log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    host->vlog(level, fmt, ap);
    va_end(ap);
}

#ifdef __cplusplus
}
#endif

#endif /* CNN_BACKEND_H */
