/* src/norm.c - checks and dispatch of batch normalisation and local
 * response normalisation (cnn/norm.h).
 *
 * Slots, in the backends' in[] and out[] order:
 *   BATCHNORM2D_FWD  out {y, running_mean, running_var, save_mean,
 *                         save_invstd}  in {x, gamma, beta}
 *                    (save_* may be NULL in inference; running_* are read
 *                    in inference and updated in training)
 *   BATCHNORM2D_BWD  out {dx, dgamma, dbeta} (each may be NULL)
 *                    in {dy, x, gamma, save_mean, save_invstd}
 *   LRN_FWD          out {y}   in {x}
 *   LRN_BWD          out {dx}  in {dy, x, y}  (y may be NULL)
 * params: cnn_batchnorm2d_params or cnn_lrn_params.
 */
#include <math.h>
#include <stdint.h>

#include "check.h"

static cnn_status check_bn_params(const char *caller,
                                  const cnn_batchnorm2d_params *p,
                                  const cnn_tensor *x)
{
    if (!p)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT, "%s: params is NULL",
                         caller);
    if (!(p->eps > 0.0f) || isinf(p->eps))
        return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                         "%s: eps %g must be positive and finite", caller,
                         (double)p->eps);
    if (!(p->momentum >= 0.0f && p->momentum <= 1.0f))
        return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                         "%s: momentum %g must be between 0 and 1", caller,
                         (double)p->momentum);
    if (p->training && x->dims[0] * x->dims[2] * x->dims[3] == 1) {
        char shape[128];
        cnn_shape_text(x, shape, sizeof shape);
        return cnn_error(CNN_ERR_SHAPE,
                         "%s: x has shape %s, one value per channel, which "
                         "has no batch variance to train with", caller, shape);
    }
    return CNN_OK;
}

cnn_status cnn_batchnorm2d_forward(
    cnn_tensor *y, const cnn_tensor *x, const cnn_tensor *gamma,
    const cnn_tensor *beta, cnn_tensor *running_mean, cnn_tensor *running_var,
    cnn_tensor *save_mean, cnn_tensor *save_invstd,
    const cnn_batchnorm2d_params *p)
{
    static const char caller[] = "cnn_batchnorm2d_forward";
    cnn_status s;
    if ((s = cnn_check_tensor(caller, "x", x, CNN_F32, 4)) != CNN_OK ||
        (s = cnn_check_tensor(caller, "y", y, CNN_F32, 4)) != CNN_OK ||
        (s = cnn_check_like(caller, "y", y, "x", x)) != CNN_OK ||
        (s = check_bn_params(caller, p, x)) != CNN_OK ||
        (s = cnn_check_vector(caller, "gamma", gamma,
                              x->dims[1], "x", x)) != CNN_OK ||
        (s = cnn_check_vector(caller, "beta", beta,
                              x->dims[1], "x", x)) != CNN_OK ||
        (s = cnn_check_vector(caller, "running_mean", running_mean,
                              x->dims[1], "x", x)) !=
            CNN_OK ||
        (s = cnn_check_vector(caller, "running_var", running_var,
                              x->dims[1], "x", x)) != CNN_OK)
        return s;
    if (p->training || save_mean)
        if ((s = cnn_check_vector(caller, "save_mean", save_mean,
                                  x->dims[1], "x", x)) != CNN_OK)
            return s;
    if (p->training || save_invstd)
        if ((s = cnn_check_vector(caller, "save_invstd", save_invstd,
                                  x->dims[1], "x", x)) !=
            CNN_OK)
            return s;
    const cnn_operand ops[] = {
        {"y", y, true, NULL},
        {"running_mean", running_mean, true, NULL},
        {"running_var", running_var, true, NULL},
        {"save_mean", save_mean, true, NULL},
        {"save_invstd", save_invstd, true, NULL},
        {"x", x, false, NULL},
        {"gamma", gamma, false, NULL},
        {"beta", beta, false, NULL}};
    if ((s = cnn_check_operands(caller, ops, 8)) != CNN_OK)
        return s;
    cnn_op_args args = {
        .op = CNN_OP_BATCHNORM2D_FWD,
        .out = {y, running_mean, running_var, save_mean, save_invstd},
        .in = {x, gamma, beta},
        .params = p,
    };
    return cnn_dispatch(caller, y->device, &args);
}

cnn_status cnn_batchnorm2d_backward(
    cnn_tensor *dx, cnn_tensor *dgamma, cnn_tensor *dbeta,
    const cnn_tensor *dy, const cnn_tensor *x, const cnn_tensor *gamma,
    const cnn_tensor *save_mean, const cnn_tensor *save_invstd,
    const cnn_batchnorm2d_params *p)
{
    static const char caller[] = "cnn_batchnorm2d_backward";
    cnn_status s;
    if ((s = cnn_check_tensor(caller, "x", x, CNN_F32, 4)) != CNN_OK ||
        (s = cnn_check_tensor(caller, "dy", dy, CNN_F32, 4)) != CNN_OK ||
        (s = cnn_check_like(caller, "dy", dy, "x", x)) != CNN_OK ||
        (s = check_bn_params(caller, p, x)) != CNN_OK ||
        (s = cnn_check_vector(caller, "gamma", gamma,
                              x->dims[1], "x", x)) != CNN_OK ||
        (s = cnn_check_vector(caller, "save_mean", save_mean,
                              x->dims[1], "x", x)) != CNN_OK ||
        (s = cnn_check_vector(caller, "save_invstd", save_invstd,
                              x->dims[1], "x", x)) != CNN_OK)
        return s;
    if (dx && ((s = cnn_check_tensor(caller, "dx", dx, CNN_F32, 4)) != CNN_OK ||
               (s = cnn_check_like(caller, "dx", dx, "x", x)) != CNN_OK ||
               (s = cnn_check_apart(caller, "dx", dx, "dy", dy)) != CNN_OK ||
               (s = cnn_check_apart(caller, "dx", dx, "x", x)) != CNN_OK))
        return s;
    if (dgamma && (s = cnn_check_vector(caller, "dgamma", dgamma,
                                        x->dims[1], "x", x)) != CNN_OK)
        return s;
    if (dbeta && (s = cnn_check_vector(caller, "dbeta", dbeta,
                                       x->dims[1], "x", x)) != CNN_OK)
        return s;
    const cnn_operand ops[] = {
        {"dx", dx, true, NULL},
        {"dgamma", dgamma, true, NULL},
        {"dbeta", dbeta, true, NULL},
        {"dy", dy, false, NULL},
        {"x", x, false, NULL},
        {"gamma", gamma, false, NULL},
        {"save_mean", save_mean, false, NULL},
        {"save_invstd", save_invstd, false, NULL}};
    if ((s = cnn_check_operands(caller, ops, 8)) != CNN_OK)
        return s;
    if (!dx && !dgamma && !dbeta)
        return CNN_OK; /* nothing asked for */
    cnn_op_args args = {
        .op = CNN_OP_BATCHNORM2D_BWD,
        .out = {dx, dgamma, dbeta},
        .in = {dy, x, gamma, save_mean, save_invstd},
        .params = p,
    };
    return cnn_dispatch(caller, x->device, &args);
}

static cnn_status check_lrn_params(const char *caller,
                                   const cnn_lrn_params *p,
                                   const cnn_tensor *x)
{
    if (!p)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT, "%s: params is NULL",
                         caller);
    if (p->size < 1)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                         "%s: size %lld must be at least 1", caller,
                         (long long)p->size);
    if (!isfinite(p->alpha) || !isfinite(p->beta) || !isfinite(p->k))
        return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                         "%s: alpha %g, beta %g and k %g must be finite",
                         caller, (double)p->alpha, (double)p->beta,
                         (double)p->k);
    if (p->groups < 1 || x->dims[1] % p->groups != 0)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                         "%s: groups %lld must be at least 1 and divide the "
                         "%lld channels of x", caller, (long long)p->groups,
                         (long long)x->dims[1]);
    return CNN_OK;
}

cnn_status cnn_lrn_forward(cnn_tensor *y, const cnn_tensor *x,
                           const cnn_lrn_params *p)
{
    static const char caller[] = "cnn_lrn_forward";
    cnn_status s;
    if ((s = cnn_check_tensor(caller, "x", x, CNN_F32, 4)) != CNN_OK ||
        (s = cnn_check_tensor(caller, "y", y, CNN_F32, 4)) != CNN_OK ||
        (s = cnn_check_like(caller, "y", y, "x", x)) != CNN_OK ||
        (s = check_lrn_params(caller, p, x)) != CNN_OK ||
        (s = cnn_check_apart(caller, "y", y, "x", x)) != CNN_OK)
        return s;
    cnn_op_args args = {.op = CNN_OP_LRN_FWD, .out = {y}, .in = {x},
                        .params = p};
    return cnn_dispatch(caller, y->device, &args);
}

cnn_status cnn_lrn_backward(cnn_tensor *dx, const cnn_tensor *dy,
                            const cnn_tensor *x, const cnn_tensor *y,
                            const cnn_lrn_params *p)
{
    static const char caller[] = "cnn_lrn_backward";
    cnn_status s;
    if ((s = cnn_check_tensor(caller, "x", x, CNN_F32, 4)) != CNN_OK ||
        (s = cnn_check_tensor(caller, "dy", dy, CNN_F32, 4)) != CNN_OK ||
        (s = cnn_check_like(caller, "dy", dy, "x", x)) != CNN_OK ||
        (s = cnn_check_tensor(caller, "dx", dx, CNN_F32, 4)) != CNN_OK ||
        (s = cnn_check_like(caller, "dx", dx, "x", x)) != CNN_OK ||
        (s = check_lrn_params(caller, p, x)) != CNN_OK ||
        (s = cnn_check_apart(caller, "dx", dx, "dy", dy)) != CNN_OK ||
        (s = cnn_check_apart(caller, "dx", dx, "x", x)) != CNN_OK)
        return s;
    if (y && ((s = cnn_check_tensor(caller, "y", y, CNN_F32, 4)) != CNN_OK ||
              (s = cnn_check_like(caller, "y", y, "x", x)) != CNN_OK ||
              (s = cnn_check_apart(caller, "dx", dx, "y", y)) != CNN_OK))
        return s;
    cnn_op_args args = {.op = CNN_OP_LRN_BWD, .out = {dx},
                        .in = {dy, x, y}, .params = p};
    return cnn_dispatch(caller, dx->device, &args);
}
