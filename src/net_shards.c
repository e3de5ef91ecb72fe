/* src/net_shards.c - layers split by output channel over several nodes,
 * usually on several devices (AlexNet's two towers). Shard k of a layer
 * holds rows [k*C, (k+1)*C) of the whole layer's weight and bias; since
 * tensors are row-major, that is one contiguous block at offset k times
 * the shard's size, which is all gather and scatter need. */
#include <stdlib.h>
#include <string.h>

#include "net_internal.h"

void cnn_net_full_dims(const node *n, const cnn_tensor *t, int64_t *dims)
{
    int ndim = cnn_tensor_ndim(t);
    memcpy(dims, cnn_tensor_dims(t), (size_t)ndim * sizeof *dims);
    if (n->shards > 1)
        dims[0] *= n->shards;
}

static bool same_dims(const cnn_tensor *a, const cnn_tensor *b)
{
    if (cnn_tensor_ndim(a) != cnn_tensor_ndim(b))
        return false;
    for (int d = 0; d < cnn_tensor_ndim(a); ++d)
        if (cnn_tensor_dims(a)[d] != cnn_tensor_dims(b)[d])
            return false;
    return true;
}

cnn_status cnn_net_shards_check(const char *caller, const cnn_net *net)
{
    for (int id = 0; id < net->count; ++id) {
        const node *n = &net->nodes[id];
        if (n->shards <= 1)
            continue;
        int found = 0;
        for (int k = 0; k < net->count; ++k) {
            const node *m = &net->nodes[k];
            if (!m->name || strcmp(m->name, n->name) != 0)
                continue;
            if (m->shards != n->shards || !same_dims(m->weight, n->weight) ||
                (m->bias == NULL) != (n->bias == NULL))
                return cnn_error(CNN_ERR_SHAPE,
                                 "%s: nodes %d and %d both hold layer '%s' "
                                 "but are not equal shards of it (shard "
                                 "counts %d and %d, or other shapes)",
                                 caller, id, k, n->name, n->shards,
                                 m->shards > 1 ? m->shards : 1);
            if (m->shard == n->shard && k != id)
                return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                                 "%s: nodes %d and %d are both shard %d of "
                                 "layer '%s'", caller, id, k, n->shard,
                                 n->name);
            found++;
        }
        if (found != n->shards)
            return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                             "%s: layer '%s' is split in %d shards but the "
                             "net has %d of them", caller, n->name, n->shards,
                             found);
    }
    return CNN_OK;
}

/* Calls fn for every shard tensor of parameter i's layer, with its place
 * in the whole tensor. */
static cnn_status each_shard(const cnn_net *net, int i, cnn_param_pick pick,
                             const void *ctx,
                             cnn_status (*fn)(cnn_tensor *shard, float *part),
                             float *full)
{
    int shards = cnn_net_param_shards(net, i);
    cnn_status s = CNN_OK;
    for (int k = 0; k < net->param_count && s == CNN_OK; ++k) {
        if (k != i && (shards == 1 ||
                       strcmp(net->param_names[k], net->param_names[i]) != 0))
            continue;
        cnn_tensor *t = pick(net, k, ctx);
        size_t offset = (size_t)(shards > 1 ? cnn_net_param_node(net, k)->shard
                                            : 0) *
                        (size_t)cnn_tensor_numel(t);
        s = fn(t, full + offset);
    }
    return s;
}

static cnn_status read_part(cnn_tensor *shard, float *part)
{
    return cnn_tensor_read(shard, part, cnn_tensor_bytes(shard));
}

static cnn_status write_part(cnn_tensor *shard, float *part)
{
    return cnn_tensor_write(shard, part, cnn_tensor_bytes(shard));
}

cnn_status cnn_net_gather(const cnn_net *net, int i, cnn_param_pick pick,
                          const void *ctx, float *full)
{
    return each_shard(net, i, pick, ctx, read_part, full);
}

cnn_status cnn_net_scatter(const cnn_net *net, int i, cnn_param_pick pick,
                           const void *ctx, const float *full)
{
    return each_shard(net, i, pick, ctx, write_part, (float *)full);
}
