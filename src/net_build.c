/* src/net_build.c - creating a net and adding its nodes. Shapes are not
 * known yet (the batch size comes at setup), so this file checks what it
 * can: ids, names, hyperparameter ranges. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "net_internal.h"

cnn_status cnn_net_create(cnn_net **out, cnn_device device)
{
    if (!out)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT, "cnn_net_create: out is NULL");
    *out = NULL;
    cnn_status s = cnn_device_check(device);
    if (s != CNN_OK)
        return cnn_error_prefix("cnn_net_create", s);
    cnn_net *net = calloc(1, sizeof *net);
    if (!net)
        return cnn_error(CNN_ERR_OUT_OF_MEMORY, "cnn_net_create: no memory");
    net->device = device;
    net->input = -1;
    *out = net;
    return CNN_OK;
}

static void free_node(node *n)
{
    free(n->name);
    free(n->inputs);
    cnn_tensor *owned[] = {n->out, n->grad, n->scratch, n->weight, n->bias,
                           n->dweight, n->dbias, n->running_mean,
                           n->running_var, n->save_mean, n->save_invstd};
    for (size_t i = 0; i < sizeof owned / sizeof owned[0]; ++i)
        cnn_tensor_free(owned[i]);
    for (int i = 0; i < n->input_count; ++i) {
        if (n->staged)
            cnn_tensor_free(n->staged[i]);
        if (n->staged_grad)
            cnn_tensor_free(n->staged_grad[i]);
    }
    free(n->staged);
    free(n->staged_grad);
}

void cnn_net_free(cnn_net *net)
{
    if (!net)
        return;
    for (int i = 0; i < net->count; ++i)
        free_node(&net->nodes[i]);
    free(net->nodes);
    for (int i = 0; i < net->param_count; ++i)
        free((char *)net->param_names[i]);
    for (int i = 0; i < net->buffer_count; ++i)
        free((char *)net->buffer_names[i]);
    free(net->param_names);
    free(net->params);
    free(net->grads);
    free(net->param_nodes);
    free(net->buffer_names);
    free(net->buffers);
    cnn_tensor_free(net->loss);
    cnn_tensor_free(net->labels);
    free(net);
}

node *cnn_net_node(const char *caller, const cnn_net *net, cnn_node id)
{
    if (!net) {
        cnn_error(CNN_ERR_INVALID_ARGUMENT, "%s: net is NULL", caller);
        return NULL;
    }
    if (id < 0 || id >= net->count) {
        cnn_error(CNN_ERR_INVALID_ARGUMENT,
                  "%s: node %d does not exist (the net has %d)", caller, id,
                  net->count);
        return NULL;
    }
    return &net->nodes[id];
}

/* Appends a node of `kind` reading `inputs`; checks what every builder
 * shares. On success *made points at the new node (valid until the next
 * append) and *out holds its id. */
static cnn_status append(const char *caller, cnn_net *net, node_kind kind,
                         const cnn_node *inputs, int input_count,
                         const char *name, cnn_node *out, node **made)
{
    if (!net)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT, "%s: net is NULL", caller);
    if (!out)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT, "%s: out is NULL", caller);
    if (net->batch > 0)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                         "%s: the net is set up; add nodes before "
                         "cnn_net_setup", caller);
    for (int i = 0; i < input_count; ++i)
        if (!cnn_net_node(caller, net, inputs[i]))
            return CNN_ERR_INVALID_ARGUMENT;
    if (net->count == net->capacity) {
        int capacity = net->capacity ? 2 * net->capacity : 32;
        node *bigger = realloc(net->nodes, (size_t)capacity * sizeof *bigger);
        if (!bigger)
            return cnn_error(CNN_ERR_OUT_OF_MEMORY, "%s: no memory", caller);
        net->nodes = bigger;
        net->capacity = capacity;
    }
    node *n = &net->nodes[net->count];
    memset(n, 0, sizeof *n);
    n->kind = kind;
    n->device = net->device;
    n->engine = -1;
    n->inputs = malloc((size_t)(input_count ? input_count : 1) *
                       sizeof *n->inputs);
    n->name = name ? strdup(name) : NULL;
    if (!n->inputs || (name && !n->name)) {
        free(n->inputs);
        free(n->name);
        return cnn_error(CNN_ERR_OUT_OF_MEMORY, "%s: no memory", caller);
    }
    if (input_count) /* the input node has none (and inputs is NULL) */
        memcpy(n->inputs, inputs, (size_t)input_count * sizeof *inputs);
    n->input_count = input_count;
    *out = net->count++;
    *made = n;
    return CNN_OK;
}

static cnn_status need_name(const char *caller, const char *name)
{
    if (!name || !name[0])
        return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                         "%s: name is NULL or empty (it prefixes the layer's "
                         "parameter names)", caller);
    return CNN_OK;
}

cnn_status cnn_net_input(cnn_net *net, int64_t channels, int64_t height,
                         int64_t width, cnn_node *out)
{
    static const char caller[] = "cnn_net_input";
    if (net && net->input >= 0)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                         "%s: the net already has an input (node %d)", caller,
                         net->input);
    if (channels < 1 || height < 1 || width < 1)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                         "%s: the image shape %lldx%lldx%lld has a size < 1",
                         caller, (long long)channels, (long long)height,
                         (long long)width);
    node *n;
    cnn_status s = append(caller, net, NODE_INPUT, NULL, 0, NULL, out, &n);
    if (s != CNN_OK)
        return s;
    n->ndim = 4;
    n->dims[1] = channels;
    n->dims[2] = height;
    n->dims[3] = width;
    net->input = *out;
    return CNN_OK;
}

cnn_status cnn_net_conv2d(cnn_net *net, cnn_node in, const char *name,
                          int64_t out_channels, int64_t kernel_h,
                          int64_t kernel_w, const cnn_conv2d_params *p,
                          int bias, cnn_init init, cnn_node *out)
{
    static const char caller[] = "cnn_net_conv2d";
    cnn_status s = need_name(caller, name);
    if (s != CNN_OK)
        return s;
    if (!p)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT, "%s: p is NULL", caller);
    if (out_channels < 1 || kernel_h < 1 || kernel_w < 1)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                         "%s: %s: out_channels and the kernel must be >= 1",
                         caller, name);
    if ((unsigned)init > CNN_INIT_KAIMING_NORMAL_FAN_OUT)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT, "%s: %s: bad init %d",
                         caller, name, (int)init);
    node *n;
    s = append(caller, net, NODE_CONV, &in, 1, name, out, &n);
    if (s != CNN_OK)
        return s;
    n->conv = *p;
    n->out_channels = out_channels;
    n->kernel_h = kernel_h;
    n->kernel_w = kernel_w;
    n->has_bias = bias != 0;
    n->init = init;
    return CNN_OK;
}

cnn_status cnn_net_batchnorm2d(cnn_net *net, cnn_node in, const char *name,
                               float momentum, float eps, cnn_node *out)
{
    static const char caller[] = "cnn_net_batchnorm2d";
    cnn_status s = need_name(caller, name);
    if (s != CNN_OK)
        return s;
    if (!(momentum >= 0.0f && momentum <= 1.0f) || !(eps > 0.0f))
        return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                         "%s: %s: momentum must be in [0, 1] and eps > 0",
                         caller, name);
    node *n;
    s = append(caller, net, NODE_BATCHNORM, &in, 1, name, out, &n);
    if (s == CNN_OK) {
        n->bn.momentum = momentum;
        n->bn.eps = eps;
    }
    return s;
}

cnn_status cnn_net_relu(cnn_net *net, cnn_node in, cnn_node *out)
{
    node *n;
    return append("cnn_net_relu", net, NODE_RELU, &in, 1, NULL, out, &n);
}

cnn_status cnn_net_pool2d(cnn_net *net, cnn_node in, const cnn_pool2d_params *p,
                          cnn_node *out)
{
    if (!p)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT, "cnn_net_pool2d: p is NULL");
    node *n;
    cnn_status s = append("cnn_net_pool2d", net, NODE_POOL, &in, 1, NULL, out,
                          &n);
    if (s == CNN_OK)
        n->pool = *p;
    return s;
}

cnn_status cnn_net_global_avgpool(cnn_net *net, cnn_node in, cnn_node *out)
{
    node *n;
    return append("cnn_net_global_avgpool", net, NODE_GLOBAL_AVGPOOL, &in, 1,
                  NULL, out, &n);
}

cnn_status cnn_net_lrn(cnn_net *net, cnn_node in, const cnn_lrn_params *p,
                       cnn_node *out)
{
    if (!p)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT, "cnn_net_lrn: p is NULL");
    /* As cnn_lrn_forward checks them, but now rather than at the first
     * forward pass (which checks that groups divide the channels). */
    if (p->size < 1 || p->groups < 1 || !isfinite(p->alpha) ||
        !isfinite(p->beta) || !isfinite(p->k))
        return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                         "cnn_net_lrn: size %lld and groups %lld must be at "
                         "least 1, alpha %g, beta %g and k %g finite",
                         (long long)p->size, (long long)p->groups,
                         (double)p->alpha, (double)p->beta, (double)p->k);
    node *n;
    cnn_status s = append("cnn_net_lrn", net, NODE_LRN, &in, 1, NULL, out, &n);
    if (s == CNN_OK)
        n->lrn = *p;
    return s;
}

cnn_status cnn_net_flatten(cnn_net *net, cnn_node in, cnn_node *out)
{
    node *n;
    return append("cnn_net_flatten", net, NODE_FLATTEN, &in, 1, NULL, out, &n);
}

cnn_status cnn_net_linear(cnn_net *net, cnn_node in, const char *name,
                          int64_t out_features, int bias, cnn_init init,
                          cnn_node *out)
{
    static const char caller[] = "cnn_net_linear";
    cnn_status s = need_name(caller, name);
    if (s != CNN_OK)
        return s;
    if (out_features < 1)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                         "%s: %s: out_features is %lld", caller, name,
                         (long long)out_features);
    if ((unsigned)init > CNN_INIT_KAIMING_NORMAL_FAN_OUT)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT, "%s: %s: bad init %d",
                         caller, name, (int)init);
    node *n;
    s = append(caller, net, NODE_LINEAR, &in, 1, name, out, &n);
    if (s == CNN_OK) {
        n->out_features = out_features;
        n->has_bias = bias != 0;
        n->init = init;
    }
    return s;
}

cnn_status cnn_net_dropout(cnn_net *net, cnn_node in, float p, cnn_node *out)
{
    if (!(p >= 0.0f && p < 1.0f))
        return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                         "cnn_net_dropout: p is %g but must be in [0, 1)",
                         (double)p);
    node *n;
    cnn_status s = append("cnn_net_dropout", net, NODE_DROPOUT, &in, 1, NULL,
                          out, &n);
    if (s == CNN_OK)
        n->drop = p;
    return s;
}

cnn_status cnn_net_add(cnn_net *net, cnn_node a, cnn_node b, cnn_node *out)
{
    const cnn_node inputs[2] = {a, b};
    node *n;
    return append("cnn_net_add", net, NODE_ADD, inputs, 2, NULL, out, &n);
}

cnn_status cnn_net_concat(cnn_net *net, const cnn_node *inputs, int count,
                          cnn_node *out)
{
    if (!inputs || count < 1 || count > CNN_NET_MAX_CONCAT_INPUTS)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                         "cnn_net_concat: count is %d; a concat reads 1 to "
                         "%d inputs (CNN_NET_MAX_CONCAT_INPUTS)%s", count,
                         CNN_NET_MAX_CONCAT_INPUTS,
                         inputs ? "" : " and inputs is NULL");
    node *n;
    return append("cnn_net_concat", net, NODE_CONCAT, inputs, count, NULL, out,
                  &n);
}

/* Node `id` of a net not yet set up (placement and sharding are fixed at
 * setup), or NULL with an error naming `caller`. */
static node *node_before_setup(const char *caller, cnn_net *net, cnn_node id)
{
    node *n = cnn_net_node(caller, net, id);
    if (n && net->batch > 0) {
        cnn_error(CNN_ERR_INVALID_ARGUMENT, "%s: the net is already set up",
                  caller);
        return NULL;
    }
    return n;
}

cnn_status cnn_net_set_device(cnn_net *net, cnn_node id, cnn_device device)
{
    static const char caller[] = "cnn_net_set_device";
    node *n = node_before_setup(caller, net, id);
    if (!n)
        return CNN_ERR_INVALID_ARGUMENT;
    cnn_status s = cnn_device_check(device);
    if (s != CNN_OK)
        return cnn_error_prefix(caller, s);
    n->device = device;
    return CNN_OK;
}

cnn_status cnn_net_set_engine(cnn_net *net, cnn_node id, cnn_engine engine)
{
    static const char caller[] = "cnn_net_set_engine";
    node *n = node_before_setup(caller, net, id);
    if (!n)
        return CNN_ERR_INVALID_ARGUMENT;
    if ((unsigned)engine > CNN_ENGINE_REFERENCE)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT, "%s: %d is not an engine",
                         caller, (int)engine);
    n->engine = (int)engine;
    return CNN_OK;
}

cnn_status cnn_net_set_shard(cnn_net *net, cnn_node id, int shard, int shards)
{
    static const char caller[] = "cnn_net_set_shard";
    node *n = node_before_setup(caller, net, id);
    if (!n)
        return CNN_ERR_INVALID_ARGUMENT;
    if (n->kind != NODE_CONV && n->kind != NODE_LINEAR)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                         "%s: node %d is not a conv or linear layer", caller,
                         id);
    if (shards < 1 || shards > CNN_NET_MAX_SHARDS || shard < 0 ||
        shard >= shards)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                         "%s: shard %d of %d (want 0 <= shard < shards <= %d, "
                         "CNN_NET_MAX_SHARDS)", caller, shard, shards,
                         CNN_NET_MAX_SHARDS);
    n->shard = shard;
    n->shards = shards;
    return CNN_OK;
}
