/* src/elementwise.c - checks and dispatch of the elementwise ops: add,
 * scale, ReLU forward and backward. */
#include <stdio.h>

#include "core.h"

static void shape_text(const cnn_tensor *t, char *buf, size_t size)
{
    int used = snprintf(buf, size, "[");
    for (int i = 0; i < t->ndim && used < (int)size; ++i)
        used += snprintf(buf + used, size - (size_t)used, "%s%lld",
                         i ? "x" : "", (long long)t->dims[i]);
    if (used < (int)size)
        snprintf(buf + used, size - (size_t)used, "]");
}

/* Checks that `t` is a non-NULL F32 tensor with the shape and device of
 * `like` (when like is not NULL). */
static cnn_status check_f32(const char *caller, const char *name,
                            const cnn_tensor *t, const char *like_name,
                            const cnn_tensor *like)
{
    if (!t)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT, "%s: %s is NULL", caller,
                         name);
    if (t->dtype != CNN_F32)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                         "%s: %s is %s but must be f32", caller, name,
                         cnn_dtype_name(t->dtype));
    if (!like)
        return CNN_OK;
    if (t->device.type != like->device.type ||
        t->device.index != like->device.index) {
        char a[32], b[32];
        cnn_device_format(t->device, a, sizeof a);
        cnn_device_format(like->device, b, sizeof b);
        return cnn_error(CNN_ERR_DEVICE, "%s: %s is on %s but %s is on %s",
                         caller, name, a, like_name, b);
    }
    bool same = t->ndim == like->ndim;
    for (int i = 0; same && i < t->ndim; ++i)
        same = t->dims[i] == like->dims[i];
    if (!same) {
        char a[128], b[128];
        shape_text(t, a, sizeof a);
        shape_text(like, b, sizeof b);
        return cnn_error(CNN_ERR_SHAPE, "%s: %s has shape %s but %s has %s",
                         caller, name, a, like_name, b);
    }
    return CNN_OK;
}

cnn_status cnn_add(cnn_tensor *out, const cnn_tensor *a, const cnn_tensor *b)
{
    static const char caller[] = "cnn_add";
    cnn_status s;
    if ((s = check_f32(caller, "a", a, NULL, NULL)) != CNN_OK ||
        (s = check_f32(caller, "b", b, "a", a)) != CNN_OK ||
        (s = check_f32(caller, "out", out, "a", a)) != CNN_OK)
        return s;
    cnn_op_args args = {.op = CNN_OP_ADD, .out = {out}, .in = {a, b}};
    return cnn_dispatch(caller, out->device, &args);
}

cnn_status cnn_scale(cnn_tensor *out, const cnn_tensor *x, float alpha)
{
    static const char caller[] = "cnn_scale";
    cnn_status s;
    if ((s = check_f32(caller, "x", x, NULL, NULL)) != CNN_OK ||
        (s = check_f32(caller, "out", out, "x", x)) != CNN_OK)
        return s;
    cnn_scale_params params = {.alpha = alpha};
    cnn_op_args args = {.op = CNN_OP_SCALE, .out = {out}, .in = {x},
                        .params = &params};
    return cnn_dispatch(caller, out->device, &args);
}

cnn_status cnn_relu_forward(cnn_tensor *y, const cnn_tensor *x)
{
    static const char caller[] = "cnn_relu_forward";
    cnn_status s;
    if ((s = check_f32(caller, "x", x, NULL, NULL)) != CNN_OK ||
        (s = check_f32(caller, "y", y, "x", x)) != CNN_OK)
        return s;
    cnn_op_args args = {.op = CNN_OP_RELU_FWD, .out = {y}, .in = {x}};
    return cnn_dispatch(caller, y->device, &args);
}

cnn_status cnn_relu_backward(cnn_tensor *dx, const cnn_tensor *dy,
                             const cnn_tensor *y)
{
    static const char caller[] = "cnn_relu_backward";
    cnn_status s;
    if ((s = check_f32(caller, "y", y, NULL, NULL)) != CNN_OK ||
        (s = check_f32(caller, "dy", dy, "y", y)) != CNN_OK ||
        (s = check_f32(caller, "dx", dx, "y", y)) != CNN_OK)
        return s;
    cnn_op_args args = {.op = CNN_OP_RELU_BWD, .out = {dx}, .in = {dy, y}};
    return cnn_dispatch(caller, dx->device, &args);
}
