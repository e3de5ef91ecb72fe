/* src/sgd_optimizer.c - SGD over all of a net's parameters: one momentum
 * buffer per parameter, one cnn_sgd_step per parameter per step. */
#include <math.h>
#include <stdlib.h>

#include "net_internal.h"

struct cnn_sgd {
    cnn_net *net;
    cnn_sgd_params params;
    cnn_tensor **momentum; /* per parameter, NULL when momentum is 0 */
};

cnn_status cnn_sgd_create(cnn_sgd **out, cnn_net *net, float momentum,
                          float weight_decay, int nesterov)
{
    static const char caller[] = "cnn_sgd_create";
    if (!out)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT, "%s: out is NULL", caller);
    *out = NULL;
    if (!net || net->batch == 0)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT, "%s: %s", caller,
                         net ? "set the net up first" : "net is NULL");
    if (!(momentum >= 0.0f) || !(weight_decay >= 0.0f) ||
        !isfinite(momentum) || !isfinite(weight_decay) ||
        (nesterov && momentum == 0.0f))
        return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                         "%s: momentum and weight_decay must be finite and >= 0, and "
                         "Nesterov needs momentum", caller);
    cnn_sgd *opt = calloc(1, sizeof *opt);
    if (!opt)
        return cnn_error(CNN_ERR_OUT_OF_MEMORY, "%s: no memory", caller);
    opt->net = net;
    opt->params = (cnn_sgd_params){.lr = 1.0f, .momentum = momentum,
                                   .weight_decay = weight_decay,
                                   .nesterov = nesterov != 0};
    opt->momentum = calloc((size_t)(net->param_count ? net->param_count : 1),
                           sizeof *opt->momentum);
    cnn_status s = opt->momentum ? CNN_OK
                                 : cnn_error(CNN_ERR_OUT_OF_MEMORY,
                                             "%s: no memory", caller);
    for (int i = 0; i < net->param_count && s == CNN_OK && momentum > 0.0f;
         ++i) {
        const cnn_tensor *p = net->params[i];
        s = cnn_tensor_zeros(&opt->momentum[i], cnn_tensor_device(p), CNN_F32,
                             cnn_tensor_ndim(p), cnn_tensor_dims(p));
    }
    if (s != CNN_OK) {
        cnn_sgd_free(opt);
        return s;
    }
    *out = opt;
    return CNN_OK;
}

void cnn_sgd_free(cnn_sgd *opt)
{
    if (!opt)
        return;
    for (int i = 0; opt->momentum && i < opt->net->param_count; ++i)
        cnn_tensor_free(opt->momentum[i]);
    free(opt->momentum);
    free(opt);
}

cnn_status cnn_sgd_apply(cnn_sgd *opt, float lr)
{
    if (!opt)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT, "cnn_sgd_apply: opt is NULL");
    if (!(lr > 0.0f))
        return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                         "cnn_sgd_apply: lr is %g but must be > 0", (double)lr);
    cnn_sgd_params p = opt->params;
    p.lr = lr;
    for (int i = 0; i < opt->net->param_count; ++i) {
        cnn_status s = cnn_sgd_step(opt->net->params[i], opt->net->grads[i],
                                    opt->momentum[i], &p);
        if (s != CNN_OK)
            return cnn_error_prefix("cnn_sgd_apply", s);
    }
    return CNN_OK;
}

cnn_tensor *cnn_sgd_momentum(const cnn_sgd *opt, int i)
{
    return opt && opt->momentum ? opt->momentum[i] : NULL;
}
