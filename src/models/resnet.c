/* src/models/resnet.c - ResNet-18/34/50/101/152 as torchvision builds them
 * (v1.5: a bottleneck strides on its 3x3 conv), with torchvision's
 * parameter names (conv1, bn1, layerL.B.convK, layerL.B.downsample.0/1, fc)
 * in torchvision's order. */
#include <stdio.h>

#include "../core.h"

#define TRY(call)                                                           \
    do {                                                                    \
        if (s == CNN_OK)                                                    \
            s = (call);                                                     \
    } while (0)

static const float bn_momentum = 0.1f, bn_eps = 1e-5f;

/* conv (no bias, kaiming fan_out) then batch norm named prefix.convK /
 * prefix.bnK (or a downsample's .0 / .1). */
static cnn_status conv_bn(cnn_net *net, cnn_node *x, const char *conv_name,
                          const char *bn_name, int64_t out_channels,
                          int64_t kernel, int64_t stride)
{
    cnn_conv2d_params p = cnn_conv2d_params_default();
    p.stride_h = p.stride_w = stride;
    p.pad_h = p.pad_w = kernel / 2;
    cnn_status s = cnn_net_conv2d(net, *x, conv_name, out_channels, kernel,
                                  kernel, &p, 0,
                                  CNN_INIT_KAIMING_NORMAL_FAN_OUT, x);
    TRY(cnn_net_batchnorm2d(net, *x, bn_name, bn_momentum, bn_eps, x));
    return s;
}

/* One residual block: BasicBlock (two 3x3) or Bottleneck (1x1, 3x3, 1x1
 * with 4x expansion); a 1x1 downsample on the shortcut when the shape
 * changes. */
static cnn_status block(cnn_net *net, cnn_node *x, const char *prefix,
                        int64_t in_channels, int64_t planes, int64_t stride,
                        int bottleneck)
{
    char a[96], b[96];
    cnn_node shortcut = *x, y = *x;
    int64_t out_channels = bottleneck ? planes * 4 : planes;
    cnn_status s = CNN_OK;
    if (bottleneck) {
        snprintf(a, sizeof a, "%s.conv1", prefix);
        snprintf(b, sizeof b, "%s.bn1", prefix);
        TRY(conv_bn(net, &y, a, b, planes, 1, 1));
        TRY(cnn_net_relu(net, y, &y));
        snprintf(a, sizeof a, "%s.conv2", prefix);
        snprintf(b, sizeof b, "%s.bn2", prefix);
        TRY(conv_bn(net, &y, a, b, planes, 3, stride));
        TRY(cnn_net_relu(net, y, &y));
        snprintf(a, sizeof a, "%s.conv3", prefix);
        snprintf(b, sizeof b, "%s.bn3", prefix);
        TRY(conv_bn(net, &y, a, b, out_channels, 1, 1));
    } else {
        snprintf(a, sizeof a, "%s.conv1", prefix);
        snprintf(b, sizeof b, "%s.bn1", prefix);
        TRY(conv_bn(net, &y, a, b, planes, 3, stride));
        TRY(cnn_net_relu(net, y, &y));
        snprintf(a, sizeof a, "%s.conv2", prefix);
        snprintf(b, sizeof b, "%s.bn2", prefix);
        TRY(conv_bn(net, &y, a, b, out_channels, 3, 1));
    }
    if (stride != 1 || in_channels != out_channels) {
        snprintf(a, sizeof a, "%s.downsample.0", prefix);
        snprintf(b, sizeof b, "%s.downsample.1", prefix);
        TRY(conv_bn(net, &shortcut, a, b, out_channels, 1, stride));
    }
    TRY(cnn_net_add(net, y, shortcut, x));
    TRY(cnn_net_relu(net, *x, x));
    return s;
}

cnn_status cnn_model_resnet(cnn_net **out, int depth, int64_t classes,
                            int64_t channels, int64_t height, int64_t width,
                            cnn_device device)
{
    static const char caller[] = "cnn_model_resnet";
    static const struct {
        int depth, bottleneck, blocks[4];
    } configs[] = {
        {18, 0, {2, 2, 2, 2}},   {34, 0, {3, 4, 6, 3}},
        {50, 1, {3, 4, 6, 3}},   {101, 1, {3, 4, 23, 3}},
        {152, 1, {3, 8, 36, 3}},
    };
    if (!out)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT, "%s: out is NULL", caller);
    *out = NULL;
    int c = -1;
    for (int i = 0; i < 5; ++i)
        if (configs[i].depth == depth)
            c = i;
    if (c < 0)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT, "%s: depth %d is not 18, "
                         "34, 50, 101 or 152", caller, depth);
    if (classes < 1 || channels < 1 || height < 32 || width < 32)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                         "%s: needs classes >= 1, channels >= 1 and images of "
                         "at least 32x32 (got %lld, %lld, %lldx%lld)", caller,
                         (long long)classes, (long long)channels,
                         (long long)height, (long long)width);
    cnn_net *net = NULL;
    cnn_status s = cnn_net_create(&net, device);
    cnn_node x = 0;
    TRY(cnn_net_input(net, channels, height, width, &x));
    cnn_conv2d_params stem = cnn_conv2d_params_default();
    stem.stride_h = stem.stride_w = 2;
    stem.pad_h = stem.pad_w = 3;
    TRY(cnn_net_conv2d(net, x, "conv1", 64, 7, 7, &stem, 0,
                       CNN_INIT_KAIMING_NORMAL_FAN_OUT, &x));
    TRY(cnn_net_batchnorm2d(net, x, "bn1", bn_momentum, bn_eps, &x));
    TRY(cnn_net_relu(net, x, &x));
    const cnn_pool2d_params pool = {.mode = CNN_POOL_MAX, .kernel_h = 3,
                                    .kernel_w = 3, .stride_h = 2,
                                    .stride_w = 2, .pad_h = 1, .pad_w = 1};
    TRY(cnn_net_pool2d(net, x, &pool, &x));
    int64_t in_channels = 64;
    const int bottleneck = configs[c].bottleneck;
    for (int layer = 0; layer < 4; ++layer) {
        int64_t planes = (int64_t)64 << layer;
        for (int b = 0; b < configs[c].blocks[layer]; ++b) {
            char prefix[32];
            snprintf(prefix, sizeof prefix, "layer%d.%d", layer + 1, b);
            int64_t stride = (b == 0 && layer > 0) ? 2 : 1;
            TRY(block(net, &x, prefix, in_channels, planes, stride,
                      bottleneck));
            in_channels = bottleneck ? planes * 4 : planes;
        }
    }
    TRY(cnn_net_global_avgpool(net, x, &x));
    TRY(cnn_net_flatten(net, x, &x));
    TRY(cnn_net_linear(net, x, "fc", classes, 1, CNN_INIT_TORCH_DEFAULT, &x));
    if (s != CNN_OK) {
        cnn_net_free(net);
        return cnn_error_prefix(caller, s);
    }
    *out = net;
    return CNN_OK;
}
