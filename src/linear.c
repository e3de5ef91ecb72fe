/* src/linear.c - checks and dispatch of the fully connected layer.
 *
 * Slots (no params):
 *   LINEAR_FWD          in {x, w, b or NULL}  out {y}
 *   LINEAR_BWD_DATA     in {dy, w}            out {dx}  (overwritten)
 *   LINEAR_BWD_WEIGHT   in {dy, x}            out {dw}  (accumulated)
 *   LINEAR_BWD_BIAS     in {dy}               out {db}  (accumulated)
 * x [n, in], w [out, in], b [out], y [n, out]. No output shares memory
 * with another operand (cnn_check_operands).
 */
#include "check.h"

cnn_status cnn_linear_forward(cnn_tensor *y, const cnn_tensor *x,
                              const cnn_tensor *w, const cnn_tensor *b)
{
    static const char caller[] = "cnn_linear_forward";
    cnn_status s;
    if ((s = cnn_check_f32(caller, "x", x, 2, NULL, NULL)) != CNN_OK ||
        (s = cnn_check_f32(caller, "w", w, 2, "x", x)) != CNN_OK ||
        (s = cnn_check_f32(caller, "y", y, 2, "x", x)) != CNN_OK)
        return s;
    if (w->dims[1] != x->dims[1])
        return cnn_error(CNN_ERR_SHAPE,
                         "%s: x has %lld features but w expects %lld", caller,
                         (long long)x->dims[1], (long long)w->dims[1]);
    const int64_t dims[2] = {x->dims[0], w->dims[0]};
    if ((s = cnn_check_dims(caller, "y", y, 2, dims)) != CNN_OK ||
        (b && (s = cnn_check_vector(caller, "b", b, w->dims[0], "x", x)) !=
                  CNN_OK))
        return s;
    const cnn_operand ops[] = {{"y", y, true, NULL}, {"x", x, false, NULL},
                               {"w", w, false, NULL}, {"b", b, false, NULL}};
    if ((s = cnn_check_operands(caller, ops, 4)) != CNN_OK)
        return s;
    cnn_op_args args = {.op = CNN_OP_LINEAR_FWD, .out = {y}, .in = {x, w, b}};
    return cnn_dispatch(caller, y->device, &args);
}

static cnn_status check_backward(const char *caller, const cnn_tensor *dx,
                                 const cnn_tensor *dw, const cnn_tensor *db,
                                 const cnn_tensor *dy, const cnn_tensor *x,
                                 const cnn_tensor *w)
{
    cnn_status s;
    if ((s = cnn_check_f32(caller, "dy", dy, 2, NULL, NULL)) != CNN_OK)
        return s;
    if ((s = cnn_check_gradients(caller, 2, dx, dw, db, dy, x, w)) != CNN_OK)
        return s;
    const cnn_tensor *xs = x ? x : dx, *ws = w ? w : dw;
    const char *x_name = x ? "x" : "dx", *w_name = w ? "w" : "dw";
    if (xs && xs->dims[0] != dy->dims[0])
        return cnn_error(CNN_ERR_SHAPE, "%s: dy has %lld rows but %s has %lld",
                         caller, (long long)dy->dims[0], x_name,
                         (long long)xs->dims[0]);
    if (ws && ws->dims[0] != dy->dims[1])
        return cnn_error(CNN_ERR_SHAPE,
                         "%s: dy has %lld features but %s has %lld outputs",
                         caller, (long long)dy->dims[1], w_name,
                         (long long)ws->dims[0]);
    if (xs && ws && xs->dims[1] != ws->dims[1])
        return cnn_error(CNN_ERR_SHAPE,
                         "%s: %s has %lld features but %s expects %lld",
                         caller, x_name, (long long)xs->dims[1], w_name,
                         (long long)ws->dims[1]);
    return CNN_OK;
}

cnn_status cnn_linear_backward(cnn_tensor *dx, cnn_tensor *dw, cnn_tensor *db,
                               const cnn_tensor *dy, const cnn_tensor *x,
                               const cnn_tensor *w)
{
    static const char caller[] = "cnn_linear_backward";
    cnn_status s = check_backward(caller, dx, dw, db, dy, x, w);
    if (s != CNN_OK)
        return s;
    const cnn_operand ops[] = {{"dx", dx, true, NULL}, {"dw", dw, true, NULL},
                               {"db", db, true, NULL}, {"dy", dy, false, NULL},
                               {"x", x, false, NULL},  {"w", w, false, NULL}};
    if ((s = cnn_check_operands(caller, ops, 6)) != CNN_OK)
        return s;
    if (dx) {
        cnn_op_args args = {.op = CNN_OP_LINEAR_BWD_DATA, .out = {dx},
                            .in = {dy, w}};
        if ((s = cnn_dispatch(caller, dy->device, &args)) != CNN_OK)
            return s;
    }
    if (dw) {
        cnn_op_args args = {.op = CNN_OP_LINEAR_BWD_WEIGHT, .out = {dw},
                            .in = {dy, x}};
        if ((s = cnn_dispatch(caller, dy->device, &args)) != CNN_OK)
            return s;
    }
    if (db) {
        cnn_op_args args = {.op = CNN_OP_LINEAR_BWD_BIAS, .out = {db},
                            .in = {dy}};
        if ((s = cnn_dispatch(caller, dy->device, &args)) != CNN_OK)
            return s;
    }
    return CNN_OK;
}
