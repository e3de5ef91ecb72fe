/* src/net_info.c - what a net holds: parameters, buffers, node shapes, and
 * the per-layer summary. */
#include <stdio.h>

#include "net_internal.h"

int cnn_net_param_count(const cnn_net *net) { return net ? net->param_count : 0; }
int cnn_net_buffer_count(const cnn_net *net) { return net ? net->buffer_count : 0; }
int cnn_net_node_count(const cnn_net *net) { return net ? net->count : 0; }

cnn_status cnn_net_param(cnn_net *net, int i, const char **name,
                         cnn_tensor **value, cnn_tensor **grad)
{
    if (!net || i < 0 || i >= net->param_count)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                         "cnn_net_param: parameter %d does not exist (%d)", i,
                         net ? net->param_count : 0);
    if (name)
        *name = net->param_names[i];
    if (value)
        *value = net->params[i];
    if (grad)
        *grad = net->grads[i];
    return CNN_OK;
}

cnn_status cnn_net_buffer(cnn_net *net, int i, const char **name,
                          cnn_tensor **value)
{
    if (!net || i < 0 || i >= net->buffer_count)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                         "cnn_net_buffer: buffer %d does not exist (%d)", i,
                         net ? net->buffer_count : 0);
    if (name)
        *name = net->buffer_names[i];
    if (value)
        *value = net->buffers[i];
    return CNN_OK;
}

int64_t cnn_net_param_elements(const cnn_net *net)
{
    int64_t total = 0;
    for (int i = 0; net && i < net->param_count; ++i)
        total += cnn_tensor_numel(net->params[i]);
    return total;
}

cnn_status cnn_net_node_shape(const cnn_net *net, cnn_node id, int *ndim,
                              int64_t dims[4])
{
    const node *n = cnn_net_node("cnn_net_node_shape", net, id);
    if (!n)
        return CNN_ERR_INVALID_ARGUMENT;
    if (net->batch == 0 && n->kind != NODE_INPUT)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                         "cnn_net_node_shape: set the net up first (before "
                         "it only the input's shape is known)");
    if (ndim)
        *ndim = n->ndim;
    if (dims)
        for (int d = 0; d < 4; ++d)
            dims[d] = d < n->ndim ? n->dims[d] : 0;
    return CNN_OK;
}

cnn_status cnn_net_summary(const cnn_net *net, FILE *out)
{
    if (!net || !out || net->batch == 0)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT, "cnn_net_summary: %s",
                         !net ? "net is NULL" : !out ? "out is NULL"
                                                     : "set the net up first");
    fprintf(out, "%-4s %-10s %-22s %-16s %12s %12s  %s\n", "node", "layer",
            "name", "output", "params", "MFLOPs", "device");
    int64_t total_params = 0;
    double total_flops = 0.0;
    for (int id = 0; id < net->count; ++id) {
        const node *n = &net->nodes[id];
        char shape[48], dev[16], name[64];
        if (n->shards > 1) /* which share of a split layer */
            snprintf(name, sizeof name, "%s [%d/%d]", n->name, n->shard + 1,
                     n->shards);
        else
            snprintf(name, sizeof name, "%s", n->name ? n->name : "-");
        if (n->ndim == 4) /* as papers draw it: height x width x channels */
            snprintf(shape, sizeof shape, "%lldx%lldx%lld",
                     (long long)n->dims[2], (long long)n->dims[3],
                     (long long)n->dims[1]);
        else
            snprintf(shape, sizeof shape, "%lld", (long long)n->dims[1]);
        int64_t params = (n->weight ? cnn_tensor_numel(n->weight) : 0) +
                         (n->bias ? cnn_tensor_numel(n->bias) : 0);
        double flops = cnn_layer_kind(n)->flops(net, n);
        cnn_device_format(n->device, dev, sizeof dev);
        fprintf(out, "%-4d %-10s %-22s %-16s %12lld %12.1f  %s\n", id,
                cnn_layer_kind(n)->label, name, shape,
                (long long)params, flops / 1e6, dev);
        total_params += params;
        total_flops += flops;
    }
    fprintf(out, "total: %lld parameters, %.1f MFLOPs per image forward "
            "(%.2f GFLOPs), batch %lld\n", (long long)total_params,
            total_flops / 1e6, total_flops / 1e9, (long long)net->batch);
    return CNN_OK;
}
