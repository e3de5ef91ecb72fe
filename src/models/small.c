/* src/models/small.c - a small net for 28x28x1 images (MNIST-like), and
 * cnn_model_by_name. */
#include <stdio.h>
#include <string.h>

#include "../core.h"

#define TRY(call)                                                           \
    do {                                                                    \
        if (s == CNN_OK)                                                    \
            s = (call);                                                     \
    } while (0)

cnn_status cnn_model_small(cnn_net **out, int64_t classes, cnn_device device)
{
    static const char caller[] = "cnn_model_small";
    if (!out)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT, "%s: out is NULL", caller);
    *out = NULL;
    if (classes < 1)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT, "%s: classes is %lld",
                         caller, (long long)classes);
    cnn_net *net = NULL;
    cnn_status s = cnn_net_create(&net, device);
    cnn_node x = 0;
    cnn_conv2d_params conv = cnn_conv2d_params_default();
    conv.pad_h = conv.pad_w = 1;
    const cnn_pool2d_params pool = {.mode = CNN_POOL_MAX, .kernel_h = 2,
                                    .kernel_w = 2, .stride_h = 2,
                                    .stride_w = 2};
    const cnn_init init = CNN_INIT_TORCH_DEFAULT;
    TRY(cnn_net_input(net, 1, 28, 28, &x));
    TRY(cnn_net_conv2d(net, x, "conv1", 32, 3, 3, &conv, 0, init, &x));
    TRY(cnn_net_batchnorm2d(net, x, "bn1", 0.1f, 1e-5f, &x));
    TRY(cnn_net_relu(net, x, &x));
    TRY(cnn_net_pool2d(net, x, &pool, &x));
    TRY(cnn_net_conv2d(net, x, "conv2", 64, 3, 3, &conv, 0, init, &x));
    TRY(cnn_net_batchnorm2d(net, x, "bn2", 0.1f, 1e-5f, &x));
    TRY(cnn_net_relu(net, x, &x));
    TRY(cnn_net_pool2d(net, x, &pool, &x));
    TRY(cnn_net_flatten(net, x, &x));
    TRY(cnn_net_linear(net, x, "fc1", 128, 1, init, &x));
    TRY(cnn_net_relu(net, x, &x));
    TRY(cnn_net_dropout(net, x, 0.25f, &x));
    TRY(cnn_net_linear(net, x, "fc2", classes, 1, init, &x));
    if (s != CNN_OK) {
        cnn_net_free(net);
        return cnn_error_prefix(caller, s);
    }
    *out = net;
    return CNN_OK;
}

cnn_status cnn_model_by_name(cnn_net **out, const char *name, int64_t classes,
                             cnn_device device)
{
    if (!name)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                         "cnn_model_by_name: name is NULL");
    if (strcmp(name, "alexnet") == 0)
        return cnn_model_alexnet(out, CNN_ALEXNET_TWO_TOWER, classes, device);
    if (strcmp(name, "alexnet-towers") == 0) {
        /* Tower 1 on the next device of the same kind, when there is one. */
        cnn_device second = device;
        if (device.index + 1 < cnn_device_count(device.type))
            second.index++;
        return cnn_model_alexnet_towers(out, classes, device, second);
    }
    if (strcmp(name, "alexnet-one-tower") == 0)
        return cnn_model_alexnet(out, CNN_ALEXNET_ONE_TOWER, classes, device);
    if (strcmp(name, "small") == 0)
        return cnn_model_small(out, classes, device);
    int depth = 0;
    char rest = 0;
    if (sscanf(name, "resnet%d%c", &depth, &rest) == 1)
        return cnn_model_resnet(out, depth, classes, 3, 224, 224, device);
    if (out)
        *out = NULL;
    return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                     "cnn_model_by_name: unknown model '%s' (alexnet, "
                     "alexnet-towers, alexnet-one-tower, resnet18, resnet34, resnet50, "
                     "resnet101, resnet152, small)", name);
}
