/* src/models/alexnet.c - AlexNet as the paper draws it, with torchvision's
 * module numbering (features.N, classifier.N) for the parameter names. */
#include <stdio.h>

#include "../core.h"

/* Each step appends one layer to `x`; stops at the first failure. */
#define TRY(call)                                                           \
    do {                                                                    \
        if (s == CNN_OK)                                                    \
            s = (call);                                                     \
    } while (0)

cnn_status cnn_model_alexnet(cnn_net **out, cnn_alexnet_variant variant,
                             int64_t classes, cnn_device device)
{
    static const char caller[] = "cnn_model_alexnet";
    if (!out)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT, "%s: out is NULL", caller);
    *out = NULL;
    if (variant != CNN_ALEXNET_TWO_TOWER && variant != CNN_ALEXNET_ONE_TOWER)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT, "%s: variant %d is not a "
                         "cnn_alexnet_variant", caller, (int)variant);
    if (classes < 1)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT, "%s: classes is %lld",
                         caller, (long long)classes);
    const int64_t towers = variant == CNN_ALEXNET_TWO_TOWER ? 2 : 1;
    cnn_net *net = NULL;
    cnn_status s = cnn_net_create(&net, device);
    cnn_node x = 0;
    cnn_conv2d_params conv = cnn_conv2d_params_default();
    const cnn_lrn_params lrn = {.size = 5, .alpha = 5e-4f, .beta = 0.75f,
                                .k = 2.0f, .groups = towers};
    const cnn_pool2d_params pool = {.mode = CNN_POOL_MAX, .kernel_h = 3,
                                    .kernel_w = 3, .stride_h = 2,
                                    .stride_w = 2};
    const cnn_init init = CNN_INIT_TORCH_DEFAULT;
    TRY(cnn_net_input(net, 3, 227, 227, &x));
    conv.stride_h = conv.stride_w = 4;
    TRY(cnn_net_conv2d(net, x, "features.0", 96, 11, 11, &conv, 1, init, &x));
    TRY(cnn_net_relu(net, x, &x));
    TRY(cnn_net_lrn(net, x, &lrn, &x));
    TRY(cnn_net_pool2d(net, x, &pool, &x));
    conv = cnn_conv2d_params_default();
    conv.pad_h = conv.pad_w = 2;
    conv.groups = towers;
    TRY(cnn_net_conv2d(net, x, "features.4", 256, 5, 5, &conv, 1, init, &x));
    TRY(cnn_net_relu(net, x, &x));
    TRY(cnn_net_lrn(net, x, &lrn, &x));
    TRY(cnn_net_pool2d(net, x, &pool, &x));
    conv.pad_h = conv.pad_w = 1;
    conv.groups = 1; /* conv3 reads both towers */
    TRY(cnn_net_conv2d(net, x, "features.8", 384, 3, 3, &conv, 1, init, &x));
    TRY(cnn_net_relu(net, x, &x));
    conv.groups = towers;
    TRY(cnn_net_conv2d(net, x, "features.10", 384, 3, 3, &conv, 1, init, &x));
    TRY(cnn_net_relu(net, x, &x));
    TRY(cnn_net_conv2d(net, x, "features.12", 256, 3, 3, &conv, 1, init, &x));
    TRY(cnn_net_relu(net, x, &x));
    TRY(cnn_net_pool2d(net, x, &pool, &x));
    TRY(cnn_net_flatten(net, x, &x));
    TRY(cnn_net_dropout(net, x, 0.5f, &x));
    TRY(cnn_net_linear(net, x, "classifier.1", 4096, 1, init, &x));
    TRY(cnn_net_relu(net, x, &x));
    TRY(cnn_net_dropout(net, x, 0.5f, &x));
    TRY(cnn_net_linear(net, x, "classifier.4", 4096, 1, init, &x));
    TRY(cnn_net_relu(net, x, &x));
    TRY(cnn_net_linear(net, x, "classifier.6", classes, 1, init, &x));
    if (s != CNN_OK) {
        cnn_net_free(net);
        return cnn_error_prefix(caller, s);
    }
    *out = net;
    return CNN_OK;
}
