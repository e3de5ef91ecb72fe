/* src/tensor.c - tensor creation, views, transfers and inits. Arguments
 * are checked here; the backend of the tensor's device does the work. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "checked.h"
#include "core.h"
#include "dtype_convert.h"

static const struct {
    const char *name;
    size_t size;
} dtype_info[] = {
    [CNN_F32] = {"f32", 4}, [CNN_I32] = {"i32", 4}, [CNN_I64] = {"i64", 8},
    [CNN_U8] = {"u8", 1},   [CNN_F16] = {"f16", 2}, [CNN_BF16] = {"bf16", 2},
};
_Static_assert(sizeof dtype_info / sizeof dtype_info[0] == CNN_DTYPE_COUNT,
               "every dtype needs a name and a size");

size_t cnn_dtype_size(cnn_dtype dtype)
{
    return (unsigned)dtype < CNN_DTYPE_COUNT ? dtype_info[dtype].size : 0;
}

const char *cnn_dtype_name(cnn_dtype dtype)
{
    return (unsigned)dtype < CNN_DTYPE_COUNT ? dtype_info[dtype].name
                                             : "unknown";
}

/* Checks a shape and computes its element and byte counts. */
static cnn_status check_shape(const char *caller, cnn_dtype dtype, int ndim,
                              const int64_t *dims, int64_t *numel,
                              size_t *bytes)
{
    if ((unsigned)dtype >= CNN_DTYPE_COUNT)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                         "%s: dtype %d is not a cnn_dtype", caller, (int)dtype);
    if (ndim < 1 || ndim > CNN_MAX_DIMS)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                         "%s: ndim is %d but must be 1 to %d", caller, ndim,
                         CNN_MAX_DIMS);
    if (!dims)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT, "%s: dims is NULL", caller);
    /* Keep byte counts within PTRDIFF_MAX so pointer arithmetic is safe. */
    const uint64_t limit = (uint64_t)PTRDIFF_MAX / cnn_dtype_size(dtype);
    uint64_t count = 1;
    for (int i = 0; i < ndim; ++i) {
        if (dims[i] < 1)
            return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                             "%s: dims[%d] is %lld but every dimension must "
                             "be at least 1", caller, i, (long long)dims[i]);
        if ((uint64_t)dims[i] > limit / count)
            return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                             "%s: the shape's size overflows (dims[%d] = %lld "
                             "makes more than %llu elements of %s)",
                             caller, i, (long long)dims[i],
                             (unsigned long long)limit, cnn_dtype_name(dtype));
        count *= (uint64_t)dims[i];
    }
    *numel = (int64_t)count;
    *bytes = (size_t)count * cnn_dtype_size(dtype);
    return CNN_OK;
}

static cnn_status new_header(const char *caller, cnn_tensor **out,
                             cnn_device dev, cnn_dtype dtype, int ndim,
                             const int64_t *dims, cnn_tensor **t)
{
    if (!out)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT, "%s: out is NULL", caller);
    *out = NULL;
    int64_t numel = 0;
    size_t bytes = 0;
    cnn_status s = check_shape(caller, dtype, ndim, dims, &numel, &bytes);
    if (s != CNN_OK)
        return s;
    *t = calloc(1, sizeof **t);
    if (!*t)
        return cnn_error(CNN_ERR_OUT_OF_MEMORY,
                         "%s: no host memory for a tensor header", caller);
    (*t)->device = dev;
    (*t)->dtype = dtype;
    (*t)->layout = CNN_NCHW;
    (*t)->ndim = ndim;
    memcpy((*t)->dims, dims, (size_t)ndim * sizeof dims[0]);
    (*t)->numel = numel;
    (*t)->bytes = bytes;
    return CNN_OK;
}

cnn_status cnn_tensor_create(cnn_tensor **out, cnn_device dev, cnn_dtype dtype,
                             int ndim, const int64_t *dims)
{
    static const char caller[] = "cnn_tensor_create";
    cnn_tensor *t = NULL;
    cnn_status s = new_header(caller, out, dev, dtype, ndim, dims, &t);
    if (s != CNN_OK)
        return s;
    const cnn_backend *backend;
    s = cnn_device_acquire(caller, dev, &backend);
    if (s == CNN_OK) {
        cnn_device_lock(dev);
        s = backend->alloc(dev.index, t->bytes, &t->data);
        cnn_device_unlock(dev);
        if (s != CNN_OK)
            cnn_error_prefix(caller, s);
    }
    if (s != CNN_OK) {
        free(t);
        return s;
    }
    t->owns = true;
    *out = t;
    return CNN_OK;
}

cnn_status cnn_tensor_zeros(cnn_tensor **out, cnn_device dev, cnn_dtype dtype,
                            int ndim, const int64_t *dims)
{
    cnn_status s = cnn_tensor_create(out, dev, dtype, ndim, dims);
    if (s == CNN_OK && (s = cnn_tensor_fill(*out, 0.0)) != CNN_OK) {
        cnn_tensor_free(*out);
        *out = NULL;
    }
    return s;
}

cnn_status cnn_tensor_wrap(cnn_tensor **out, cnn_device dev, cnn_dtype dtype,
                           int ndim, const int64_t *dims, void *data,
                           size_t bytes)
{
    static const char caller[] = "cnn_tensor_wrap";
    cnn_tensor *t = NULL;
    cnn_status s = new_header(caller, out, dev, dtype, ndim, dims, &t);
    if (s != CNN_OK)
        return s;
    if (!data)
        s = cnn_error(CNN_ERR_INVALID_ARGUMENT, "%s: data is NULL", caller);
    else if (bytes != t->bytes)
        s = cnn_error(CNN_ERR_INVALID_ARGUMENT,
                      "%s: the buffer has %zu bytes but the shape needs %zu",
                      caller, bytes, t->bytes);
    else if (dev.type == CNN_CUDA &&
             (uintptr_t)data % cnn_dtype_size(dtype) != 0)
        /* A GPU faults on a misaligned element (cudaErrorMisalignedAddress,
         * which is sticky and loses the device for the process), where x86
         * and the emulation would not: refuse it here. */
        s = cnn_error(CNN_ERR_INVALID_ARGUMENT,
                      "%s: data %p is not aligned to its %zu-byte elements; "
                      "a GPU cannot address it (offset the buffer by a "
                      "multiple of %zu bytes)", caller, data,
                      cnn_dtype_size(dtype), cnn_dtype_size(dtype));
    else
        s = cnn_device_acquire(caller, dev, NULL);
    if (s != CNN_OK) {
        free(t);
        return s;
    }
    t->data = data;
    *out = t;
    return CNN_OK;
}

cnn_status cnn_tensor_reshape(cnn_tensor **out, const cnn_tensor *src,
                              int ndim, const int64_t *dims)
{
    static const char caller[] = "cnn_tensor_reshape";
    if (!src) {
        if (out)
            *out = NULL;
        return cnn_error(CNN_ERR_INVALID_ARGUMENT, "%s: src is NULL", caller);
    }
    cnn_tensor *t = NULL;
    cnn_status s = new_header(caller, out, src->device, src->dtype, ndim, dims,
                              &t);
    if (s != CNN_OK)
        return s;
    if (t->numel != src->numel) {
        long long want = (long long)t->numel, have = (long long)src->numel;
        free(t);
        return cnn_error(CNN_ERR_SHAPE,
                         "%s: the new shape has %lld elements but src has %lld",
                         caller, want, have);
    }
    t->data = src->data;
    *out = t;
    return CNN_OK;
}

void cnn_tensor_free(cnn_tensor *t)
{
    if (!t)
        return;
    if (t->owns) {
        const cnn_backend *backend = cnn_registry_backend(t->device.type);
        /* A tensor that owns memory was allocated by this backend. */
        cnn_device_lock(t->device);
        backend->free(t->device.index, t->data);
        cnn_device_unlock(t->device);
    }
    free(t);
}

static cnn_status check_transfer(const char *caller, const cnn_tensor *t,
                                 const void *host, size_t bytes,
                                 const cnn_backend **backend)
{
    if (!t)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT, "%s: tensor is NULL", caller);
    if (!host)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT, "%s: host buffer is NULL",
                         caller);
    if (bytes != t->bytes)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                         "%s: the buffer has %zu bytes but the tensor holds "
                         "%zu", caller, bytes, t->bytes);
    /* A tensor wrapped around host memory cannot be copied to or from that
     * same memory (the copy's source and destination would overlap). */
    if (cnn_ranges_overlap(host, bytes, t->data, t->bytes))
        return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                         "%s: the host buffer shares memory with the tensor",
                         caller);
    return cnn_device_acquire(caller, t->device, backend);
}

cnn_status cnn_tensor_write(cnn_tensor *t, const void *host, size_t bytes)
{
    const cnn_backend *backend;
    cnn_status s = check_transfer("cnn_tensor_write", t, host, bytes, &backend);
    if (s != CNN_OK)
        return s;
    cnn_device_lock(t->device);
    s = backend->upload(t->device.index, t->data, host, bytes);
    cnn_device_unlock(t->device);
    return s == CNN_OK ? s : cnn_error_prefix("cnn_tensor_write", s);
}

cnn_status cnn_tensor_read(const cnn_tensor *t, void *host, size_t bytes)
{
    const cnn_backend *backend;
    cnn_status s = check_transfer("cnn_tensor_read", t, host, bytes, &backend);
    if (s != CNN_OK)
        return s;
    cnn_device_lock(t->device);
    s = backend->download(t->device.index, host, t->data, bytes);
    cnn_device_unlock(t->device);
    return s == CNN_OK ? s : cnn_error_prefix("cnn_tensor_read", s);
}

static bool same_device(cnn_device a, cnn_device b)
{
    return a.type == b.type && a.index == b.index;
}

/* Locks two devices in a fixed order so that two copies in opposite
 * directions cannot deadlock. */
static void lock_pair(cnn_device a, cnn_device b)
{
    if (same_device(a, b)) {
        cnn_device_lock(a);
        return;
    }
    bool a_first = a.type < b.type || (a.type == b.type && a.index < b.index);
    cnn_device_lock(a_first ? a : b);
    cnn_device_lock(a_first ? b : a);
}

static void unlock_pair(cnn_device a, cnn_device b)
{
    cnn_device_unlock(a);
    if (!same_device(a, b))
        cnn_device_unlock(b);
}

cnn_status cnn_tensor_copy(cnn_tensor *dst, const cnn_tensor *src)
{
    static const char caller[] = "cnn_tensor_copy";
    if (!dst || !src)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT, "%s: %s is NULL", caller,
                         dst ? "src" : "dst");
    if (dst->dtype != src->dtype)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                         "%s: dst is %s but src is %s", caller,
                         cnn_dtype_name(dst->dtype), cnn_dtype_name(src->dtype));
    if (dst->numel != src->numel)
        return cnn_error(CNN_ERR_SHAPE,
                         "%s: dst has %lld elements but src has %lld", caller,
                         (long long)dst->numel, (long long)src->numel);
    const cnn_backend *dst_backend, *src_backend;
    cnn_status s = cnn_device_acquire(caller, dst->device, &dst_backend);
    if (s == CNN_OK)
        s = cnn_device_acquire(caller, src->device, &src_backend);
    if (s != CNN_OK)
        return s;
    if (same_device(dst->device, src->device)) {
        if (dst->data == src->data)
            return CNN_OK;
        const char *d = dst->data, *r = src->data;
        if (d < r + src->bytes && r < d + dst->bytes)
            return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                             "%s: dst and src overlap in memory", caller);
    }
    lock_pair(dst->device, src->device);
    if (dst->device.type == src->device.type)
        s = dst_backend->copy(dst->device.index, dst->data, src->device.index,
                              src->data, src->bytes);
    else if (src->device.type == CNN_CPU) /* host -> device */
        s = dst_backend->upload(dst->device.index, dst->data, src->data,
                                src->bytes);
    else if (dst->device.type == CNN_CPU) /* device -> host */
        s = src_backend->download(src->device.index, dst->data, src->data,
                                  src->bytes);
    else
        s = cnn_error(CNN_ERR_INTERNAL, "no path from %s to %s",
                      src_backend->name, dst_backend->name);
    unlock_pair(dst->device, src->device);
    return s == CNN_OK ? s : cnn_error_prefix(caller, s);
}

cnn_status cnn_tensor_fill(cnn_tensor *t, double value)
{
    static const char caller[] = "cnn_tensor_fill";
    if (!t)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT, "%s: tensor is NULL", caller);
    cnn_fill_params params = {.pattern = cnn_convert_from_double(t->dtype, value)};
    cnn_op_args args = {.op = CNN_OP_FILL, .out = {t}, .params = &params};
    return cnn_dispatch(caller, t->device, &args);
}

static cnn_status random_init(const char *caller, cnn_op op, cnn_tensor *t,
                              uint64_t seed, float a, float b)
{
    if (!t)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT, "%s: tensor is NULL", caller);
    if (t->dtype != CNN_F32)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                         "%s: the tensor is %s but must be f32", caller,
                         cnn_dtype_name(t->dtype));
    if (!isfinite(a) || !isfinite(b))
        return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                         "%s: the bounds must be finite (got %g and %g)",
                         caller, (double)a, (double)b);
    cnn_random_params params = {.seed = seed, .a = a, .b = b};
    cnn_op_args args = {.op = op, .out = {t}, .params = &params};
    return cnn_dispatch(caller, t->device, &args);
}

cnn_status cnn_tensor_uniform(cnn_tensor *t, uint64_t seed, float low,
                              float high)
{
    if (!(low < high))
        return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                         "cnn_tensor_uniform: low (%g) must be below high (%g)",
                         (double)low, (double)high);
    return random_init("cnn_tensor_uniform", CNN_OP_UNIFORM, t, seed, low, high);
}

cnn_status cnn_tensor_normal(cnn_tensor *t, uint64_t seed, float mean,
                             float stddev)
{
    if (!(stddev >= 0.0f))
        return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                         "cnn_tensor_normal: stddev (%g) must be >= 0",
                         (double)stddev);
    return random_init("cnn_tensor_normal", CNN_OP_NORMAL, t, seed, mean,
                       stddev);
}

int cnn_tensor_ndim(const cnn_tensor *t) { return t ? t->ndim : 0; }

int64_t cnn_tensor_dim(const cnn_tensor *t, int axis)
{
    if (!t)
        return 0;
    if (axis < 0)
        axis += t->ndim;
    return axis >= 0 && axis < t->ndim ? t->dims[axis] : 0;
}

const int64_t *cnn_tensor_dims(const cnn_tensor *t) { return t ? t->dims : NULL; }
int64_t cnn_tensor_numel(const cnn_tensor *t) { return t ? t->numel : 0; }
size_t cnn_tensor_bytes(const cnn_tensor *t) { return t ? t->bytes : 0; }
cnn_dtype cnn_tensor_dtype(const cnn_tensor *t) { return t ? t->dtype : CNN_F32; }
cnn_layout cnn_tensor_layout(const cnn_tensor *t) { return t ? t->layout : CNN_NCHW; }
int cnn_tensor_owns_data(const cnn_tensor *t) { return t ? t->owns : 0; }
void *cnn_tensor_data(cnn_tensor *t) { return t ? t->data : NULL; }
const void *cnn_tensor_data_const(const cnn_tensor *t) { return t ? t->data : NULL; }

cnn_device cnn_tensor_device(const cnn_tensor *t)
{
    return t ? t->device : (cnn_device){CNN_CPU, -1};
}

cnn_status cnn_tensor_set_layout(cnn_tensor *t, cnn_layout layout)
{
    if (!t)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                         "cnn_tensor_set_layout: tensor is NULL");
    if (layout == CNN_NCHW) {
        t->layout = layout;
        return CNN_OK;
    }
    if (layout == CNN_NHWC)
        return cnn_error(CNN_ERR_UNSUPPORTED,
                         "cnn_tensor_set_layout: NHWC is reserved and not yet "
                         "implemented");
    return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                     "cnn_tensor_set_layout: %d is not a cnn_layout",
                     (int)layout);
}
