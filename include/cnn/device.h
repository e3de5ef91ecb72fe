/* cnn/device.h - devices, engines and math modes.
 *
 * A device is a plain value {type, index}: the CPU (cnn_cpu()) or a CUDA GPU
 * (cnn_cuda(i)). Devices need no creation or freeing; the library sets up
 * a device's state on first use and tears it down at process exit.
 *
 * The CUDA backend lives in a separate module, libcnn-cuda.so, opened on
 * first use. It is searched for in this order: the path in the environment
 * variable CNN_CUDA_MODULE (used alone when set), the folder holding libcnn
 * (or the program linking it statically), that folder's ../lib, and the
 * dynamic loader's usual search. When the module, the CUDA driver or a GPU
 * is missing, cnn_device_count(CNN_CUDA) is 0 and cnn_device_check() says
 * why; nothing else fails.
 *
 * Thread safety: all functions here are thread-safe.
 */
#ifndef CNN_DEVICE_H
#define CNN_DEVICE_H

#include <stddef.h>

#include "export.h"
#include "status.h"

CNN_BEGIN_DECLS

typedef enum cnn_device_type {
    CNN_CPU = 0,
    CNN_CUDA = 1
} cnn_device_type;

#define CNN_DEVICE_TYPE_COUNT 2

/* A device: a value, copied freely. */
typedef struct cnn_device {
    cnn_device_type type;
    int index;
} cnn_device;

/* The CPU. With CNN_CPU_DEVICES=n in the environment the CPU presents n
 * logical devices, cnn_cpu_n(0) .. cnn_cpu_n(n-1); cnn_cpu() is index 0. */
CNN_API cnn_device cnn_cpu(void);
CNN_API cnn_device cnn_cpu_n(int index);
/* CUDA device `index` (0-based, in the CUDA runtime's order). Making the
 * value never fails; using a device that does not exist gives
 * CNN_ERR_DEVICE. */
CNN_API cnn_device cnn_cuda(int index);

/* Number of usable devices of a type: at least 1 for CNN_CPU; for CNN_CUDA
 * 0 on any failure (no module, driver, GPU). Never fails otherwise. */
CNN_API int cnn_device_count(cnn_device_type type);

/* CNN_OK when `dev` exists and can be used. Otherwise CNN_ERR_DEVICE (or
 * CNN_ERR_DEVICE_LOST after a sticky fault) with cnn_last_error() saying
 * why: which file or driver is missing, or that the index is out of range. */
CNN_API cnn_status cnn_device_check(cnn_device dev);

/* A human-readable name, e.g. "cpu:0 (x86_64, 2 threads)" or
 * "cuda:0 (NVIDIA H200, sm_90, 139 GiB)". For a device that is not usable
 * the name says so. The string is the library's, valid until process exit.
 * Never NULL. */
CNN_API const char *cnn_device_name(cnn_device dev);

/* Blocks until all work queued on `dev` has finished. CNN_OK at once on
 * the CPU, whose calls are synchronous. CNN_ERR_DEVICE for a missing
 * device; CNN_ERR_DEVICE_LOST after a sticky fault. */
CNN_API cnn_status cnn_device_synchronize(cnn_device dev);

/* Writes a device as text, "cpu:0" or "cuda:1", into buf (always
 * NUL-terminated when size > 0). Returns the length it needed. */
CNN_API int cnn_device_format(cnn_device dev, char *buf, int size);

/* Parses "cpu", "cpu:N", "cuda", "cuda:N" or "auto" (the best device
 * present: the first real GPU, else the CPU; an emulated GPU is never
 * chosen). CNN_ERR_INVALID_ARGUMENT for other text. Does not check that the
 * device exists; use cnn_device_check for that. */
CNN_API cnn_status cnn_device_parse(const char *text, cnn_device *out);

/* Which implementation runs an op on a device.
 * REFERENCE: plain loops on the CPU (the reference the tests compare with).
 * NATIVE:    our own fast code (CPU) or hand-written CUDA kernels (GPU).
 * VENDOR:    cuDNN/cuBLAS on the GPU; unsupported on the CPU.
 * AUTO:      NATIVE on the CPU; on the GPU the faster of NATIVE and VENDOR. */
typedef enum cnn_engine {
    CNN_ENGINE_AUTO = 0,
    CNN_ENGINE_NATIVE,
    CNN_ENGINE_VENDOR,
    CNN_ENGINE_REFERENCE
} cnn_engine;

/* Sets the default engine of a device. The environment variable CNN_ENGINE
 * (auto, native, vendor, reference) sets the initial default of every
 * device. CNN_ERR_UNSUPPORTED for VENDOR on the CPU; CNN_ERR_DEVICE for a
 * missing device. */
CNN_API cnn_status cnn_set_engine(cnn_device dev, cnn_engine engine);
/* The device's default engine (CNN_ENGINE_AUTO when unset or unknown). */
CNN_API cnn_engine cnn_get_engine(cnn_device dev);
/* "auto", "native", "vendor", "reference"; static. */
CNN_API const char *cnn_engine_name(cnn_engine engine);

/* Threads the CPU device `dev` runs its ops on (its share of the machine's
 * by default; see CNN_CPU_DEVICES). threads >= 1. CNN_ERR_UNSUPPORTED for
 * a GPU. Not thread-safe with ops running on that device. */
CNN_API cnn_status cnn_set_threads(cnn_device dev, int threads);

/* Float32 math mode of a device: FP32 is IEEE float32 (no TF32 anywhere).
 * TF32 lets GPU matrix products use TF32 tensor cores. No effect on CPU. */
typedef enum cnn_math {
    CNN_MATH_FP32 = 0,
    CNN_MATH_TF32
} cnn_math;

/* The environment variable CNN_MATH (fp32, tf32) sets every device's
 * initial mode; FP32 when unset. */
CNN_API cnn_status cnn_set_math(cnn_device dev, cnn_math math);
CNN_API cnn_math cnn_get_math(cnn_device dev);

/* Deterministic mode: on the GPU, only algorithms that give the same bits
 * on every run (cuDNN's deterministic convolution and pooling algorithms,
 * no float atomics). The CPU is always deterministic. Initial value from
 * the environment variable CNN_DETERMINISTIC=1. */
CNN_API cnn_status cnn_set_deterministic(cnn_device dev, int on);
CNN_API int cnn_get_deterministic(cnn_device dev);

/* The most scratch memory one op may use on `dev` (cuDNN's convolution
 * workspace); algorithms that need more are not chosen. Initial value from
 * CNN_WORKSPACE_LIMIT_MB, else 1 GiB. bytes > 0. */
CNN_API cnn_status cnn_set_workspace_limit(cnn_device dev, size_t bytes);
CNN_API size_t cnn_get_workspace_limit(cnn_device dev);

/* Memory of one device as cnn sees it: bytes in tensors and workspaces
 * (in_use), freed blocks kept for reuse (cached), the highest in_use since
 * the process started or the last reset (peak), and, where the device can
 * say, its free and total memory (0 when unknown, e.g. on the CPU). */
typedef struct cnn_memory_stats {
    size_t in_use;
    size_t cached;
    size_t peak;
    size_t device_free;
    size_t device_total;
} cnn_memory_stats;

/* Fills *stats for `dev`. Thread-safe. CNN_ERR_DEVICE for a missing or
 * unusable device. */
CNN_API cnn_status cnn_device_memory_stats(cnn_device dev,
                                           cnn_memory_stats *stats);
/* Sets the peak to the current in_use. */
CNN_API cnn_status cnn_device_memory_reset_peak(cnn_device dev);
/* Returns the device's cached blocks to the driver (a no-op on the CPU). */
CNN_API cnn_status cnn_device_memory_trim(cnn_device dev);

CNN_END_DECLS

#endif /* CNN_DEVICE_H */
