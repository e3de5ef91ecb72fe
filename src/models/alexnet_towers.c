/* src/models/alexnet_towers.c - the paper's AlexNet with its two towers as
 * separate nodes on two devices (model parallelism, as the original
 * two-GPU split). Each grouped layer of the one-device two-tower net
 * becomes two shards (cnn_net_set_shard) with the same names, so the
 * weights from one seed, the parameter names and the checkpoints are those
 * of cnn_model_alexnet(CNN_ALEXNET_TWO_TOWER). Layers are added tower by
 * tower within each layer, which keeps the parameters in torchvision's
 * order. The towers meet where the paper's GPUs talk: conv3 and the fully
 * connected layers read both (the net copies across devices). */
#include "../core.h"

#define TOWERS 2

#define TRY(call)                                                           \
    do {                                                                    \
        if (s == CNN_OK)                                                    \
            s = (call);                                                     \
    } while (0)

typedef struct towers {
    cnn_net *net;
    cnn_device device[TOWERS];
    cnn_node x[TOWERS]; /* each tower's current node */
} towers;

/* Places the node just made in tower t. */
static cnn_status place(towers *tw, int t, cnn_node node)
{
    tw->x[t] = node;
    return cnn_net_set_device(tw->net, node, tw->device[t]);
}

/* A conv layer of `out_channels` in all, half in each tower; `cross`:
 * each half reads both towers (conv3), else its own. */
static cnn_status conv(towers *tw, const char *name, int64_t out_channels,
                       int64_t kernel, int64_t stride, int64_t pad, bool cross)
{
    cnn_conv2d_params p = cnn_conv2d_params_default();
    p.stride_h = p.stride_w = stride;
    p.pad_h = p.pad_w = pad;
    cnn_status s = CNN_OK;
    cnn_node in[TOWERS] = {tw->x[0], tw->x[1]};
    if (cross) /* both towers' maps, tower 0's first, on each tower */
        for (int t = 0; t < TOWERS; ++t) {
            cnn_node both[TOWERS] = {tw->x[0], tw->x[1]};
            TRY(cnn_net_concat(tw->net, both, TOWERS, &in[t]));
            TRY(cnn_net_set_device(tw->net, in[t], tw->device[t]));
        }
    for (int t = 0; t < TOWERS; ++t) {
        cnn_node c;
        TRY(cnn_net_conv2d(tw->net, in[t], name, out_channels / TOWERS,
                           kernel, kernel, &p, 1, CNN_INIT_TORCH_DEFAULT, &c));
        TRY(place(tw, t, c));
        TRY(cnn_net_set_shard(tw->net, c, t, TOWERS));
        cnn_node r;
        TRY(cnn_net_relu(tw->net, c, &r));
        TRY(place(tw, t, r));
    }
    return s;
}

/* LRN (within the tower) and/or max pooling 3/2 in each tower. */
static cnn_status lrn_pool(towers *tw, bool lrn)
{
    const cnn_lrn_params norm = {.size = 5, .alpha = 5e-4f, .beta = 0.75f,
                                 .k = 2.0f, .groups = 1};
    const cnn_pool2d_params pool = {.mode = CNN_POOL_MAX, .kernel_h = 3,
                                    .kernel_w = 3, .stride_h = 2,
                                    .stride_w = 2};
    cnn_status s = CNN_OK;
    for (int t = 0; t < TOWERS; ++t) {
        cnn_node node;
        if (lrn) {
            TRY(cnn_net_lrn(tw->net, tw->x[t], &norm, &node));
            TRY(place(tw, t, node));
        }
        TRY(cnn_net_pool2d(tw->net, tw->x[t], &pool, &node));
        TRY(place(tw, t, node));
    }
    return s;
}

cnn_status cnn_model_alexnet_towers(cnn_net **out, int64_t classes,
                                    cnn_device tower0, cnn_device tower1)
{
    static const char caller[] = "cnn_model_alexnet_towers";
    if (!out)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT, "%s: out is NULL", caller);
    *out = NULL;
    if (classes < 1)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT, "%s: classes is %lld",
                         caller, (long long)classes);
    towers tw = {.device = {tower0, tower1}};
    cnn_status s = cnn_net_create(&tw.net, tower0);
    TRY(cnn_device_check(tower1));
    cnn_node x = 0;
    TRY(cnn_net_input(tw.net, 3, 227, 227, &x));
    tw.x[0] = tw.x[1] = x;
    TRY(conv(&tw, "features.0", 96, 11, 4, 0, false));
    TRY(lrn_pool(&tw, true));
    TRY(conv(&tw, "features.4", 256, 5, 1, 2, false));
    TRY(lrn_pool(&tw, true));
    TRY(conv(&tw, "features.8", 384, 3, 1, 1, true));
    TRY(conv(&tw, "features.10", 384, 3, 1, 1, false));
    TRY(conv(&tw, "features.12", 256, 3, 1, 1, false));
    TRY(lrn_pool(&tw, false));
    /* The classifier on tower 0's device, reading both towers. */
    const cnn_init init = CNN_INIT_TORCH_DEFAULT;
    TRY(cnn_net_concat(tw.net, tw.x, TOWERS, &x));
    TRY(cnn_net_flatten(tw.net, x, &x));
    TRY(cnn_net_dropout(tw.net, x, 0.5f, &x));
    TRY(cnn_net_linear(tw.net, x, "classifier.1", 4096, 1, init, &x));
    TRY(cnn_net_relu(tw.net, x, &x));
    TRY(cnn_net_dropout(tw.net, x, 0.5f, &x));
    TRY(cnn_net_linear(tw.net, x, "classifier.4", 4096, 1, init, &x));
    TRY(cnn_net_relu(tw.net, x, &x));
    TRY(cnn_net_linear(tw.net, x, "classifier.6", classes, 1, init, &x));
    if (s != CNN_OK) {
        cnn_net_free(tw.net);
        return cnn_error_prefix(caller, s);
    }
    *out = tw.net;
    return CNN_OK;
}
