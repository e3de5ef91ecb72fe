/* src/optim.c - checks and dispatch of the SGD step.
 *
 * SGD_STEP: out[0] = param, out[1] = momentum_buf (NULL when momentum is
 * 0), in[0] = grad; params: the caller's cnn_sgd_params. */
#include <math.h>

#include "check.h"

static cnn_status check_params(const char *caller, const cnn_sgd_params *p)
{
    if (!p)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT, "%s: params is NULL",
                         caller);
    if (!(isfinite(p->lr) && p->lr > 0.0f))
        return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                         "%s: lr must be finite and > 0 (got %g)", caller,
                         (double)p->lr);
    if (!(isfinite(p->momentum) && p->momentum >= 0.0f))
        return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                         "%s: momentum must be finite and >= 0 (got %g)",
                         caller, (double)p->momentum);
    if (!(isfinite(p->weight_decay) && p->weight_decay >= 0.0f))
        return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                         "%s: weight_decay must be finite and >= 0 (got %g)",
                         caller, (double)p->weight_decay);
    if (p->nesterov && p->momentum == 0.0f)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                         "%s: nesterov needs momentum > 0", caller);
    return CNN_OK;
}

cnn_status cnn_sgd_step(cnn_tensor *param, const cnn_tensor *grad,
                        cnn_tensor *momentum_buf, const cnn_sgd_params *p)
{
    static const char caller[] = "cnn_sgd_step";
    cnn_status s;
    if ((s = cnn_check_tensor(caller, "param", param, CNN_F32, -1)) != CNN_OK ||
        (s = cnn_check_tensor(caller, "grad", grad, CNN_F32, -1)) != CNN_OK ||
        (s = cnn_check_like(caller, "grad", grad, "param", param)) != CNN_OK ||
        (s = check_params(caller, p)) != CNN_OK)
        return s;
    if (p->momentum > 0.0f && !momentum_buf)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                         "%s: momentum_buf is NULL but momentum is %g",
                         caller, (double)p->momentum);
    if (momentum_buf &&
        ((s = cnn_check_tensor(caller, "momentum_buf", momentum_buf, CNN_F32,
                               -1)) != CNN_OK ||
         (s = cnn_check_like(caller, "momentum_buf", momentum_buf, "param",
                             param)) != CNN_OK))
        return s;
    const cnn_operand ops[] = {{"param", param, true, NULL},
                               {"momentum_buf", momentum_buf, true, NULL},
                               {"grad", grad, false, NULL}};
    if ((s = cnn_check_operands(caller, ops, 3)) != CNN_OK)
        return s;
    cnn_op_args args = {
        .op = CNN_OP_SGD_STEP,
        .out = {param, p->momentum > 0.0f ? momentum_buf : NULL},
        .in = {grad},
        .params = p,
    };
    return cnn_dispatch(caller, param->device, &args);
}
