/* cnn/status.h - status codes, error messages, logging, version and build
 * information.
 *
 * Thread safety: every function here may be called from any thread at any
 * time. The last-error message is thread-local. The log sink is a process
 * setting; set it before other threads use the library.
 */
#ifndef CNN_STATUS_H
#define CNN_STATUS_H

#include <stdarg.h>

#include "export.h"

CNN_BEGIN_DECLS

#define CNN_VERSION_MAJOR 0
#define CNN_VERSION_MINOR 1
#define CNN_VERSION_PATCH 0
/* "0.1.0"; compare with cnn_version() to detect a header/library mismatch. */
#define CNN_VERSION_STRING "0.1.0"

/* What every fallible call returns. CNN_OK is 0; the values are stable. */
typedef enum cnn_status {
    CNN_OK = 0,
    CNN_ERR_INVALID_ARGUMENT, /* NULL pointer, bad size, bad enum value    */
    CNN_ERR_SHAPE,            /* shapes that do not fit together           */
    CNN_ERR_DEVICE,           /* device missing, unusable or mismatched    */
    CNN_ERR_DEVICE_LOST,      /* a sticky device fault; the device is dead */
    CNN_ERR_OUT_OF_MEMORY,    /* host or device memory exhausted           */
    CNN_ERR_IO,               /* a file could not be read or written       */
    CNN_ERR_FORMAT,           /* a file is corrupt or of another format    */
    CNN_ERR_UNSUPPORTED,      /* valid request this backend/engine lacks   */
    CNN_ERR_INTERNAL          /* a bug in cnn: please report it            */
} cnn_status;

/* Static text naming a status ("CNN_ERR_SHAPE"); "unknown status" for a
 * value outside the enum. Never NULL; the string is the library's. */
CNN_API const char *cnn_status_string(cnn_status status);

/* The message of the last failed call on this thread, e.g.
 * "cnn_tensor_write: buffer has 12 bytes but the tensor holds 16".
 * Empty ("") when no call has failed on this thread yet. Successful calls
 * do not clear it. The string is thread-local and stays valid until the
 * next failing call on the same thread. Never NULL. */
CNN_API const char *cnn_last_error(void);

/* Clears this thread's last-error message. */
CNN_API void cnn_clear_error(void);

/* Library version, e.g. "0.1.0"; static. */
CNN_API const char *cnn_version(void);

/* A multi-line, human-readable description of how this library was built
 * (compiler, options, BLAS, CUDA, cuDNN, sanitizers). Static string owned by
 * the library. Describes the build, not the devices: see cnn_device_count()
 * and cnn_device_check() for those. */
CNN_API const char *cnn_build_info(void);

/* A multi-line description of what this process loaded at run time: the
 * BLAS in use and its threading, the CUDA module's path, the CUDA driver,
 * runtime and cuDNN versions, or why the CUDA backend is not available.
 * Loads the CUDA module if it was not loaded yet. The string is the
 * library's, valid until the next call to this function from any thread.
 * Never NULL. */
CNN_API const char *cnn_runtime_info(void);

/* Log levels, most severe first. */
typedef enum cnn_log_level {
    CNN_LOG_ERROR = 0,
    CNN_LOG_WARN,
    CNN_LOG_INFO,
    CNN_LOG_DEBUG,
    CNN_LOG_TRACE /* every op call */
} cnn_log_level;

/* A log sink receives one message (no trailing newline) at a time.
 * `user` is the pointer given to cnn_log_set. It may be called from any
 * thread the library runs, so it must be thread-safe. */
typedef void (*cnn_log_fn)(cnn_log_level level, const char *message, void *user);

/* Installs a log sink and the most verbose level it wants. The library
 * never prints to stdout or stderr by itself: with no sink (the default, or
 * fn == NULL) messages are dropped. The environment variable CNN_LOG_LEVEL
 * (error, warn, info, debug, trace) overrides `max_level` when set. */
CNN_API void cnn_log_set(cnn_log_fn fn, cnn_log_level max_level, void *user);

CNN_END_DECLS

#endif /* CNN_STATUS_H */
