/* cnn/tensor.h - n-dimensional tensors on a device.
 *
 * A tensor owns (or, for views and wrapped memory, borrows) a dense,
 * row-major block of elements on one device. Image tensors are NCHW.
 *
 * Ownership: cnn_tensor_create and cnn_tensor_wrap hand the caller a
 * tensor that the caller frees with cnn_tensor_free. A view (reshape) or a
 * wrapped buffer never frees the memory it points at; a view must not
 * outlive the tensor it looks at.
 *
 * Asynchrony: on a CUDA device, fills and inits are queued on the device's
 * stream and return before they run. cnn_tensor_write and cnn_tensor_read
 * are synchronous: write may reuse its host buffer when it returns, read
 * returns with the data in place. cnn_tensor_copy is ordered with the work of
 * both devices and returns when the copy is queued (it is complete on return
 * when either side is the CPU).
 *
 * Thread safety: distinct tensors may be used from distinct threads. One
 * tensor must not be written by two threads at once, nor read while being
 * written. Calls on one device are serialised inside the library.
 */
#ifndef CNN_TENSOR_H
#define CNN_TENSOR_H

#include <stddef.h>
#include <stdint.h>

#include "device.h"
#include "export.h"
#include "status.h"

CNN_BEGIN_DECLS

/* Most dimensions a tensor may have. */
#define CNN_MAX_DIMS 8

typedef enum cnn_dtype {
    CNN_F32 = 0,
    CNN_I32,  /* class labels */
    CNN_I64,
    CNN_U8,   /* raw image bytes */
    CNN_F16,  /* declared for mixed precision; not yet supported by any op */
    CNN_BF16  /* declared for mixed precision; not yet supported by any op */
} cnn_dtype;

#define CNN_DTYPE_COUNT 6

/* Bytes per element; 0 for a value outside the enum. */
CNN_API size_t cnn_dtype_size(cnn_dtype dtype);
/* "f32", "i32", "i64", "u8", "f16", "bf16"; "unknown" otherwise. Static. */
CNN_API const char *cnn_dtype_name(cnn_dtype dtype);

/* Memory layout of 4-d image tensors. Only NCHW is implemented. */
typedef enum cnn_layout {
    CNN_NCHW = 0,
    CNN_NHWC /* reserved */
} cnn_layout;

typedef struct cnn_tensor cnn_tensor;

/* Creates a tensor of `ndim` (1..CNN_MAX_DIMS) dimensions `dims` (each
 * >= 1) on `dev`. Contents are uninitialised. On success *out is the new
 * tensor; on failure *out is NULL (when out is not NULL).
 * Returns CNN_ERR_INVALID_ARGUMENT (NULL out or dims, bad ndim, a dimension
 * < 1, a bad dtype, sizes whose byte count overflows), CNN_ERR_DEVICE,
 * CNN_ERR_OUT_OF_MEMORY. */
CNN_API cnn_status cnn_tensor_create(cnn_tensor **out, cnn_device dev,
                                     cnn_dtype dtype, int ndim,
                                     const int64_t *dims);

/* Like cnn_tensor_create, then fills with zeros. */
CNN_API cnn_status cnn_tensor_zeros(cnn_tensor **out, cnn_device dev,
                                    cnn_dtype dtype, int ndim,
                                    const int64_t *dims);

/* Wraps `bytes` bytes of the caller's memory at `data` (host memory for the
 * CPU, device memory for a GPU) as a tensor, without copying. `bytes` must
 * equal the product of dims times the dtype size. The memory is never freed
 * by the library and must outlive the tensor. On a GPU `data` must be
 * aligned to the dtype's size (CNN_ERR_INVALID_ARGUMENT otherwise: a GPU
 * faults on a misaligned element and loses the device); the vendor engine
 * may want more and then leaves the call to our kernels. Other statuses as
 * for create. */
CNN_API cnn_status cnn_tensor_wrap(cnn_tensor **out, cnn_device dev,
                                   cnn_dtype dtype, int ndim,
                                   const int64_t *dims, void *data,
                                   size_t bytes);

/* A view of `src` with another shape and the same element count; it shares
 * src's memory, never frees it, and must be freed (cnn_tensor_free) before
 * or after src but not used after src is freed. CNN_ERR_SHAPE when the
 * element counts differ. */
CNN_API cnn_status cnn_tensor_reshape(cnn_tensor **out, const cnn_tensor *src,
                                      int ndim, const int64_t *dims);

/* Frees a tensor and, unless it is a view or wraps caller memory, its
 * memory. NULL is a no-op. Waits for no device work: freed device memory is
 * reused only by work queued after it. */
CNN_API void cnn_tensor_free(cnn_tensor *t);

/* Copies `bytes` bytes from host memory into the tensor. `bytes` must equal
 * cnn_tensor_bytes(t), and the host buffer must not share memory with the
 * tensor (CNN_ERR_INVALID_ARGUMENT otherwise). Synchronous. */
CNN_API cnn_status cnn_tensor_write(cnn_tensor *t, const void *host,
                                    size_t bytes);

/* Copies the tensor into `bytes` bytes of host memory; `bytes` must equal
 * cnn_tensor_bytes(t), and the buffer must not share memory with it. Waits for queued work on the tensor's device.
 * CNN_ERR_DEVICE_LOST when that work faulted. */
CNN_API cnn_status cnn_tensor_read(const cnn_tensor *t, void *host,
                                   size_t bytes);

/* Copies src into dst; any two devices. Same dtype and element count
 * (shapes may differ). dst and src must not overlap unless they are the
 * same tensor. CNN_ERR_SHAPE, CNN_ERR_INVALID_ARGUMENT (dtype), device
 * errors. */
CNN_API cnn_status cnn_tensor_copy(cnn_tensor *dst, const cnn_tensor *src);

/* Sets every element to `value` (converted to the dtype; rounded toward
 * zero and saturated for integer dtypes). */
CNN_API cnn_status cnn_tensor_fill(cnn_tensor *t, double value);

/* Seeded initialisation of an F32 tensor, counter-based (Philox-4x32-10,
 * see docs/random.md): element i depends only on (seed, i), so the result is
 * the same on every device and thread count.
 * uniform: values in [low, high). normal: mean + stddev * N(0, 1). */
CNN_API cnn_status cnn_tensor_uniform(cnn_tensor *t, uint64_t seed,
                                      float low, float high);
CNN_API cnn_status cnn_tensor_normal(cnn_tensor *t, uint64_t seed,
                                     float mean, float stddev);

/* Shape accessors. All take a valid tensor; with NULL they return 0 (or
 * NULL), so they never crash. */
CNN_API int cnn_tensor_ndim(const cnn_tensor *t);
/* Size of dimension `axis`; negative axes count from the end (-1 is the
 * last). 0 when the axis is out of range. */
CNN_API int64_t cnn_tensor_dim(const cnn_tensor *t, int axis);
/* Pointer to the tensor's ndim sizes; owned by the tensor. */
CNN_API const int64_t *cnn_tensor_dims(const cnn_tensor *t);
CNN_API int64_t cnn_tensor_numel(const cnn_tensor *t);
CNN_API size_t cnn_tensor_bytes(const cnn_tensor *t);
CNN_API cnn_dtype cnn_tensor_dtype(const cnn_tensor *t);
CNN_API cnn_layout cnn_tensor_layout(const cnn_tensor *t);
/* The tensor's device; {CNN_CPU, -1} for NULL. */
CNN_API cnn_device cnn_tensor_device(const cnn_tensor *t);
/* 1 when the tensor owns its memory, 0 for views and wrapped memory. */
CNN_API int cnn_tensor_owns_data(const cnn_tensor *t);
/* Raw pointer to the data (device memory for a GPU tensor), borrowed. */
CNN_API void *cnn_tensor_data(cnn_tensor *t);
CNN_API const void *cnn_tensor_data_const(const cnn_tensor *t);

/* Sets the layout tag of a 4-d tensor. CNN_ERR_UNSUPPORTED for NHWC, which
 * is reserved. */
CNN_API cnn_status cnn_tensor_set_layout(cnn_tensor *t, cnn_layout layout);

CNN_END_DECLS

#endif /* CNN_TENSOR_H */
