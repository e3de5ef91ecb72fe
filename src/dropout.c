/* src/dropout.c - checks and dispatch of dropout, forward and backward.
 *
 * DROPOUT_FWD: out[0] = y, in[0] = x; DROPOUT_BWD: out[0] = dx, in[0] = dy;
 * params: the caller's cnn_dropout_params. The mask comes from Philox
 * (src/philox.h, stream 3), so the backward regenerates the forward's
 * mask instead of storing it. */
#include <math.h>

#include "check.h"

/* node is the high 24 bits of a counter word (src/philox.h). */
#define DROPOUT_MAX_NODE (1u << 24)

static cnn_status check_params(const char *caller,
                               const cnn_dropout_params *p)
{
    if (!p)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT, "%s: params is NULL",
                         caller);
    if (!(p->p >= 0.0f && p->p < 1.0f)) /* also refuses NaN */
        return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                         "%s: the drop probability p must be in [0, 1) "
                         "(got %g)", caller, (double)p->p);
    if (p->node >= DROPOUT_MAX_NODE)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                         "%s: node must be below 2^24 (got %u)", caller,
                         (unsigned)p->node);
    return CNN_OK;
}

static cnn_status dropout(const char *caller, cnn_op op, cnn_tensor *out,
                          const char *out_name, const cnn_tensor *in,
                          const char *in_name, const cnn_dropout_params *p)
{
    cnn_status s;
    if ((s = cnn_check_tensor(caller, in_name, in, CNN_F32, -1)) != CNN_OK ||
        (s = cnn_check_tensor(caller, out_name, out, CNN_F32, -1)) != CNN_OK ||
        (s = cnn_check_like(caller, out_name, out, in_name, in)) != CNN_OK ||
        (s = check_params(caller, p)) != CNN_OK)
        return s;
    const cnn_operand ops[] = {{out_name, out, true, in_name},
                               {in_name, in, false, NULL}};
    if ((s = cnn_check_operands(caller, ops, 2)) != CNN_OK)
        return s;
    cnn_op_args args = {.op = op, .out = {out}, .in = {in}, .params = p};
    return cnn_dispatch(caller, out->device, &args);
}

cnn_status cnn_dropout_forward(cnn_tensor *y, const cnn_tensor *x,
                               const cnn_dropout_params *p)
{
    return dropout("cnn_dropout_forward", CNN_OP_DROPOUT_FWD, y, "y", x, "x",
                   p);
}

cnn_status cnn_dropout_backward(cnn_tensor *dx, const cnn_tensor *dy,
                                const cnn_dropout_params *p)
{
    return dropout("cnn_dropout_backward", CNN_OP_DROPOUT_BWD, dx, "dx", dy,
                   "dy", p);
}
