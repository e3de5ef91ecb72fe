/* src/core.h - what the core's files share: error recording, logging, the
 * backend registry and per-device state. Private to the library. */
#ifndef CNN_CORE_H
#define CNN_CORE_H

#include <stdarg.h>
#include <stdbool.h>

#include "backend.h"
#include "cnn/cnn.h"

#if defined(__GNUC__)
#define CNN_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define CNN_PRINTF(f, a)
#endif

/* Size of the last-error message: long enough for a sentence naming a
 * call, an argument and two shapes. */
#define CNN_ERROR_CAPACITY 512

/* Most devices of one type the library tracks. */
#define CNN_MAX_DEVICES 64

/* Records `status` and a message as this thread's last error; returns
 * `status` so that callers can write `return cnn_error(...)`. */
cnn_status cnn_error(cnn_status status, const char *fmt, ...) CNN_PRINTF(2, 3);
cnn_status cnn_verror(cnn_status status, const char *fmt, va_list ap);
/* Prefixes this thread's last error with "caller: " (for errors that a
 * backend recorded) and returns `status`. */
cnn_status cnn_error_prefix(const char *caller, cnn_status status);

/* Sends a message to the log sink when `level` is enabled. */
void cnn_log(cnn_log_level level, const char *fmt, ...) CNN_PRINTF(2, 3);
void cnn_vlog(cnn_log_level level, const char *fmt, va_list ap);
bool cnn_log_enabled(cnn_log_level level);

/* The services handed to backends (src/backend.h). */
extern const cnn_host_api cnn_core_host_api;

/* The backend of a device type, loading it on first use; NULL when it is
 * not available, with the reason in cnn_registry_why(type). Thread-safe. */
const cnn_backend *cnn_registry_backend(cnn_device_type type);
const char *cnn_registry_why(cnn_device_type type);
/* Where the CUDA module was loaded from ("" when it was not). */
const char *cnn_registry_cuda_module_path(void);

/* The linked-in CPU backend, opened with the core's services. */
const cnn_backend *cnn_cpu_backend(void);

/* Checks that `dev` exists and is usable and returns its backend in *out;
 * otherwise records an error that starts with `caller`. */
cnn_status cnn_device_acquire(const char *caller, cnn_device dev,
                              const cnn_backend **out);

static inline bool cnn_device_same(cnn_device a, cnn_device b)
{
    return a.type == b.type && a.index == b.index;
}

/* Serialises calls on one device (DESIGN: calls on one device are
 * serialised inside the library). */
void cnn_device_lock(cnn_device dev);
void cnn_device_unlock(cnn_device dev);

/* Makes cnn_dispatch on this thread use `engine` instead of the device's
 * (a net node's own engine); -1 restores the device's. */
void cnn_engine_override(int engine);

/* Runs one op: fills in device, engine and math, asks supports(), locks
 * the device and calls the backend's slot. The tensors in args must all be
 * on `dev`, already checked. */
cnn_status cnn_dispatch(const char *caller, cnn_device dev, cnn_op_args *args);

#endif /* CNN_CORE_H */
