/* src/elementwise.c - checks and dispatch of the elementwise ops: add,
 * scale, ReLU forward and backward. Each may write in place exactly where
 * ops.h says so (out = a or b, out = x, y = x, dx = dy); any other sharing
 * of memory is refused (cnn_check_operands). */
#include "check.h"

/* Checks that `t` is an F32 tensor with the shape and device of `like`
 * (when like is not NULL). */
static cnn_status check_f32(const char *caller, const char *name,
                            const cnn_tensor *t, const char *like_name,
                            const cnn_tensor *like)
{
    cnn_status s = cnn_check_tensor(caller, name, t, CNN_F32, -1);
    if (s == CNN_OK && like)
        s = cnn_check_like(caller, name, t, like_name, like);
    return s;
}

cnn_status cnn_add(cnn_tensor *out, const cnn_tensor *a, const cnn_tensor *b)
{
    static const char caller[] = "cnn_add";
    cnn_status s;
    if ((s = check_f32(caller, "a", a, NULL, NULL)) != CNN_OK ||
        (s = check_f32(caller, "b", b, "a", a)) != CNN_OK ||
        (s = check_f32(caller, "out", out, "a", a)) != CNN_OK)
        return s;
    const cnn_operand ops[] = {{"out", out, true, "a b"},
                               {"a", a, false, NULL}, {"b", b, false, NULL}};
    if ((s = cnn_check_operands(caller, ops, 3)) != CNN_OK)
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
    const cnn_operand ops[] = {{"out", out, true, "x"}, {"x", x, false, NULL}};
    if ((s = cnn_check_operands(caller, ops, 2)) != CNN_OK)
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
    const cnn_operand ops[] = {{"y", y, true, "x"}, {"x", x, false, NULL}};
    if ((s = cnn_check_operands(caller, ops, 2)) != CNN_OK)
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
    const cnn_operand ops[] = {{"dx", dx, true, "dy"}, {"dy", dy, false, NULL},
                               {"y", y, false, NULL}};
    if ((s = cnn_check_operands(caller, ops, 3)) != CNN_OK)
        return s;
    cnn_op_args args = {.op = CNN_OP_RELU_BWD, .out = {dx}, .in = {dy, y}};
    return cnn_dispatch(caller, dx->device, &args);
}
