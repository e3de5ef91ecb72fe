/* src/check.c - argument checks shared by the core's op files. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "checked.h"

void cnn_dims_text(int ndim, const int64_t *dims, char *buf, size_t size)
{
    int used = snprintf(buf, size, "[");
    for (int i = 0; i < ndim && used >= 0 && (size_t)used < size; ++i)
        used += snprintf(buf + used, size - (size_t)used, "%s%lld",
                         i ? "x" : "", (long long)dims[i]);
    if (used >= 0 && (size_t)used < size)
        snprintf(buf + used, size - (size_t)used, "]");
}

void cnn_shape_text(const cnn_tensor *t, char *buf, size_t size)
{
    cnn_dims_text(t->ndim, t->dims, buf, size);
}

cnn_status cnn_check_tensor(const char *caller, const char *name,
                            const cnn_tensor *t, cnn_dtype dtype, int ndim)
{
    if (!t)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT, "%s: %s is NULL", caller,
                         name);
    if (t->dtype != dtype)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                         "%s: %s is %s but must be %s", caller, name,
                         cnn_dtype_name(t->dtype), cnn_dtype_name(dtype));
    if (ndim >= 0 && t->ndim != ndim) {
        char shape[128];
        cnn_shape_text(t, shape, sizeof shape);
        return cnn_error(CNN_ERR_SHAPE,
                         "%s: %s has shape %s but must have %d dimensions",
                         caller, name, shape, ndim);
    }
    return CNN_OK;
}

cnn_status cnn_check_device(const char *caller, const char *name,
                            const cnn_tensor *t, const char *ref_name,
                            const cnn_tensor *ref)
{
    if (t->device.type == ref->device.type &&
        t->device.index == ref->device.index)
        return CNN_OK;
    char a[32], b[32];
    cnn_device_format(t->device, a, sizeof a);
    cnn_device_format(ref->device, b, sizeof b);
    return cnn_error(CNN_ERR_DEVICE, "%s: %s is on %s but %s is on %s", caller,
                     name, a, ref_name, b);
}

cnn_status cnn_check_like(const char *caller, const char *name,
                          const cnn_tensor *t, const char *ref_name,
                          const cnn_tensor *ref)
{
    cnn_status s = cnn_check_device(caller, name, t, ref_name, ref);
    if (s != CNN_OK)
        return s;
    bool same = t->ndim == ref->ndim;
    for (int i = 0; same && i < t->ndim; ++i)
        same = t->dims[i] == ref->dims[i];
    if (same)
        return CNN_OK;
    char a[128], b[128];
    cnn_shape_text(t, a, sizeof a);
    cnn_shape_text(ref, b, sizeof b);
    return cnn_error(CNN_ERR_SHAPE, "%s: %s has shape %s but %s has %s",
                     caller, name, a, ref_name, b);
}

cnn_status cnn_check_dims(const char *caller, const char *name,
                          const cnn_tensor *t, int ndim, const int64_t *dims)
{
    bool same = t->ndim == ndim;
    for (int i = 0; same && i < ndim; ++i)
        same = t->dims[i] == dims[i];
    if (same)
        return CNN_OK;
    char a[128], b[128];
    cnn_shape_text(t, a, sizeof a);
    cnn_dims_text(ndim, dims, b, sizeof b);
    return cnn_error(CNN_ERR_SHAPE, "%s: %s has shape %s but must be %s",
                     caller, name, a, b);
}

cnn_status cnn_check_f32(const char *caller, const char *name,
                         const cnn_tensor *t, int ndim, const char *ref_name,
                         const cnn_tensor *ref)
{
    cnn_status s = cnn_check_tensor(caller, name, t, CNN_F32, ndim);
    if (s == CNN_OK && ref)
        s = cnn_check_device(caller, name, t, ref_name, ref);
    return s;
}

cnn_status cnn_check_vector(const char *caller, const char *name,
                            const cnn_tensor *t, int64_t size,
                            const char *ref_name, const cnn_tensor *ref)
{
    cnn_status s = cnn_check_f32(caller, name, t, 1, ref_name, ref);
    if (s == CNN_OK)
        s = cnn_check_dims(caller, name, t, 1, &size);
    return s;
}

cnn_status cnn_check_apart(const char *caller, const char *out_name,
                           const cnn_tensor *out, const char *in_name,
                           const cnn_tensor *in)
{
    if (!out || !in)
        return CNN_OK;
    if (cnn_ranges_overlap(out->data, out->bytes, in->data, in->bytes))
        return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                         "%s: %s shares memory with %s (this op does not work "
                         "in place)", caller, out_name, in_name);
    return CNN_OK;
}

cnn_status cnn_check_gradients(const char *caller, int ndim,
                               const cnn_tensor *dx, const cnn_tensor *dw,
                               const cnn_tensor *db, const cnn_tensor *dy,
                               const cnn_tensor *x, const cnn_tensor *w)
{
    cnn_status s;
    if (dx && !w)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                         "%s: w is NULL but dx is asked for", caller);
    if (dw && !x)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                         "%s: x is NULL but dw is asked for", caller);
    if ((x && (s = cnn_check_f32(caller, "x", x, ndim, "dy", dy)) != CNN_OK) ||
        (w && (s = cnn_check_f32(caller, "w", w, ndim, "dy", dy)) != CNN_OK) ||
        (dx && (s = cnn_check_f32(caller, "dx", dx, ndim, "dy", dy)) != CNN_OK) ||
        (dw && (s = cnn_check_f32(caller, "dw", dw, ndim, "dy", dy)) != CNN_OK) ||
        (dx && x && (s = cnn_check_like(caller, "dx", dx, "x", x)) != CNN_OK) ||
        (dw && w && (s = cnn_check_like(caller, "dw", dw, "w", w)) != CNN_OK) ||
        (db && (s = cnn_check_vector(caller, "db", db, dy->dims[1], "dy",
                                     dy)) != CNN_OK))
        return s;
    return CNN_OK;
}

/* Whether operand `a` names `b` among what it may be in place (a list of
 * names separated by spaces). */
static bool may_be(const cnn_operand *a, const cnn_operand *b)
{
    if (!a->written || !a->may_be)
        return false;
    size_t n = strlen(b->name);
    for (const char *p = a->may_be; *p;) {
        size_t len = strcspn(p, " ");
        if (len == n && strncmp(p, b->name, n) == 0)
            return true;
        p += len;
        p += *p == ' ';
    }
    return false;
}

cnn_status cnn_check_operands(const char *caller, const cnn_operand *ops,
                              int count)
{
    for (int i = 0; i < count; ++i) {
        const cnn_operand *a = &ops[i];
        if (!a->t || !a->written)
            continue;
        for (int j = 0; j < count; ++j) {
            const cnn_operand *b = &ops[j];
            if (j == i || !b->t || (b->written && j < i))
                continue; /* two outputs: checked once, from the first */
            if (!cnn_ranges_overlap(a->t->data, a->t->bytes, b->t->data,
                                    b->t->bytes))
                continue;
            bool allowed = may_be(a, b) || may_be(b, a);
            if (allowed && a->t->data == b->t->data &&
                a->t->bytes == b->t->bytes)
                continue;
            if (allowed)
                return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                                 "%s: %s overlaps %s in part (it may be %s "
                                 "itself, but not share only some of its "
                                 "memory)", caller, a->name, b->name, b->name);
            return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                             "%s: %s shares memory with %s (this op does not "
                             "work in place)", caller, a->name, b->name);
        }
    }
    return CNN_OK;
}
