/* src/net_init.c - cnn_net_init: seeded initialisation of every parameter
 * as torchvision's layers do it. A layer split over several nodes
 * (cnn_net_set_shard) gets, in each shard, that shard's slice of the whole
 * layer's initial weights, so one seed gives the same weights whether the
 * layer is split or not. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "net_internal.h"

static const char caller[] = "cnn_net_init";

/* A well-mixed 64-bit seed for parameter i (splitmix64 of seed + i), so
 * that each tensor has its own Philox stream. */
static uint64_t param_seed(uint64_t seed, int i)
{
    uint64_t z = seed + 0x9E3779B97F4A7C15ull * (uint64_t)(i + 1);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

typedef enum draw { DRAW_UNIFORM, DRAW_NORMAL } draw;

/* Fills t (a parameter of node n) with uniform(a, b) or normal(a, b)
 * values from stream `seed`. A shard draws the whole layer's tensor on its
 * own device and keeps its rows. */
static cnn_status fill_random(const node *n, cnn_tensor *t, draw kind,
                              uint64_t seed, float a, float b)
{
    int shards = n->shards > 1 ? n->shards : 1;
    cnn_tensor *full = t;
    if (shards > 1) {
        int64_t dims[CNN_MAX_DIMS];
        cnn_net_full_dims(n, t, dims);
        cnn_status s = cnn_tensor_create(&full, n->device, CNN_F32,
                                         cnn_tensor_ndim(t), dims);
        if (s != CNN_OK)
            return s;
    }
    cnn_status s = kind == DRAW_UNIFORM ? cnn_tensor_uniform(full, seed, a, b)
                                        : cnn_tensor_normal(full, seed, a, b);
    if (shards > 1) {
        float *host = s == CNN_OK ? malloc(cnn_tensor_bytes(full)) : NULL;
        if (s == CNN_OK && !host)
            s = cnn_error(CNN_ERR_OUT_OF_MEMORY, "%s: no memory", caller);
        if (s == CNN_OK)
            s = cnn_tensor_read(full, host, cnn_tensor_bytes(full));
        if (s == CNN_OK)
            s = cnn_tensor_write(t, host + (size_t)n->shard *
                                               (size_t)cnn_tensor_numel(t),
                                 cnn_tensor_bytes(t));
        free(host);
        cnn_tensor_free(full);
    }
    return s;
}

static cnn_status init_batchnorm(node *n)
{
    cnn_status s = cnn_tensor_fill(n->weight, 1.0);
    if (s == CNN_OK)
        s = cnn_tensor_fill(n->bias, 0.0);
    if (s == CNN_OK)
        s = cnn_tensor_fill(n->running_mean, 0.0);
    if (s == CNN_OK)
        s = cnn_tensor_fill(n->running_var, 1.0);
    return s;
}

/* Conv and linear: torchvision's kaiming-normal (fan out) for ResNet's
 * convolutions, PyTorch's default uniform(+-1/sqrt(fan_in)) otherwise.
 * `index` is the layer's place in the parameter list: its streams. */
static cnn_status init_layer(node *n, uint64_t seed, int index)
{
    int64_t w[CNN_MAX_DIMS];
    cnn_net_full_dims(n, n->weight, w);
    int64_t receptive = n->kind == NODE_CONV ? w[2] * w[3] : 1;
    double fan_in = (double)(w[1] * receptive);   /* inputs per output */
    double fan_out = (double)(w[0] * receptive);  /* outputs per input */
    if (n->init == CNN_INIT_KAIMING_NORMAL_FAN_OUT) {
        cnn_status s = fill_random(n, n->weight, DRAW_NORMAL,
                                   param_seed(seed, index), 0.0f,
                                   (float)sqrt(2.0 / fan_out));
        if (s == CNN_OK && n->bias)
            s = cnn_tensor_fill(n->bias, 0.0);
        return s;
    }
    float bound = (float)(1.0 / sqrt(fan_in));
    cnn_status s = fill_random(n, n->weight, DRAW_UNIFORM,
                               param_seed(seed, index), -bound, bound);
    if (s == CNN_OK && n->bias)
        s = fill_random(n, n->bias, DRAW_UNIFORM, param_seed(seed, index + 1),
                        -bound, bound);
    return s;
}

cnn_status cnn_net_init(cnn_net *net, uint64_t seed)
{
    if (!net || net->batch == 0)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT, "%s: %s", caller,
                         net ? "set the net up first" : "net is NULL");
    net->seed = seed;
    /* Each node's place in the parameter list of the unsplit net: shards
     * after the first reuse their layer's first shard's place. */
    int *first_index = malloc((size_t)net->count * sizeof *first_index);
    if (!first_index)
        return cnn_error(CNN_ERR_OUT_OF_MEMORY, "%s: no memory", caller);
    int index = 0;
    cnn_status s = CNN_OK;
    for (int id = 0; id < net->count && s == CNN_OK; ++id) {
        node *n = &net->nodes[id];
        first_index[id] = index;
        if (!n->weight)
            continue;
        int own = index;
        if (n->shards > 1 && n->shard > 0) /* checked at setup: one exists */
            for (int k = 0; k < id; ++k)
                if (net->nodes[k].shards > 1 && net->nodes[k].shard == 0 &&
                    strcmp(net->nodes[k].name, n->name) == 0)
                    own = first_index[k];
        s = n->kind == NODE_BATCHNORM ? init_batchnorm(n)
                                      : init_layer(n, seed, own);
        if (own == index) /* a new layer: it takes its places */
            index += n->bias ? 2 : 1;
    }
    free(first_index);
    return s == CNN_OK ? s : cnn_error_prefix(caller, s);
}
