/* src/net_checkpoint.c - a net (and its optimizer) to and from a
 * checkpoint file. Loading checks every tensor against the net before it
 * copies any, so a file that does not fit leaves the net as it was. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net_internal.h"

#define MOMENTUM_PREFIX "momentum."

/* Every tensor a save writes: parameters, buffers, momentum buffers. A
 * layer split over nodes (cnn_net_set_shard) is written whole, as the
 * unsplit net would write it: its entry is a host tensor of the whole
 * shape (`whole`), gathered from the shards before a save and scattered
 * to them after a load. */
typedef struct saved_set {
    int count;
    const char **names;     /* parameter and buffer names are the net's */
    char **owned;           /* momentum names, made here */
    cnn_tensor **tensors;
    cnn_tensor **whole;     /* per entry: the host tensor, or NULL */
    int *param;             /* per entry: its parameter (split layers) */
    bool *momentum;         /* per entry: a momentum buffer */
} saved_set;

static void set_free(saved_set *set)
{
    for (int i = 0; set->owned && i < set->count; ++i)
        free(set->owned[i]);
    for (int i = 0; set->whole && i < set->count; ++i)
        cnn_tensor_free(set->whole[i]);
    free(set->owned);
    free((void *)set->names);
    free(set->tensors);
    free(set->whole);
    free(set->param);
    free(set->momentum);
}

static cnn_tensor *pick_value(const cnn_net *net, int k, const void *opt)
{
    (void)opt;
    return net->params[k];
}

static cnn_tensor *pick_momentum(const cnn_net *net, int k, const void *opt)
{
    (void)net;
    return cnn_sgd_momentum((const cnn_sgd *)opt, k);
}

/* Adds parameter i (or its momentum) to the set; a shard after its
 * layer's first is left out (the first stands for the whole layer). */
static cnn_status add_param(const char *caller, const cnn_net *net, int i,
                            const char *name, cnn_tensor *t, bool momentum,
                            saved_set *set)
{
    const node *n = cnn_net_param_node(net, i);
    int at = set->count;
    if (cnn_net_param_shards(net, i) > 1) {
        if (n->shard != 0)
            return CNN_OK;
        int64_t dims[CNN_MAX_DIMS];
        cnn_net_full_dims(n, t, dims);
        cnn_status s = cnn_tensor_create(&set->whole[at], cnn_cpu(), CNN_F32,
                                         cnn_tensor_ndim(t), dims);
        if (s != CNN_OK)
            return cnn_error_prefix(caller, s);
        t = set->whole[at];
    }
    set->names[at] = name;
    set->tensors[at] = t;
    set->param[at] = i;
    set->momentum[at] = momentum;
    set->count++;
    return CNN_OK;
}

static cnn_status collect(const char *caller, cnn_net *net, const cnn_sgd *opt,
                          saved_set *set)
{
    size_t most = (size_t)(2 * net->param_count + net->buffer_count) + 1;
    set->names = calloc(most, sizeof *set->names);
    set->owned = calloc(most, sizeof *set->owned);
    set->tensors = calloc(most, sizeof *set->tensors);
    set->whole = calloc(most, sizeof *set->whole);
    set->param = calloc(most, sizeof *set->param);
    set->momentum = calloc(most, sizeof *set->momentum);
    if (!set->names || !set->owned || !set->tensors || !set->whole ||
        !set->param || !set->momentum)
        return cnn_error(CNN_ERR_OUT_OF_MEMORY, "%s: no memory", caller);
    cnn_status s = CNN_OK;
    for (int i = 0; i < net->param_count && s == CNN_OK; ++i)
        s = add_param(caller, net, i, net->param_names[i], net->params[i],
                      false, set);
    for (int i = 0; i < net->buffer_count; ++i) {
        set->names[set->count] = net->buffer_names[i];
        set->param[set->count] = -1;
        set->tensors[set->count++] = net->buffers[i];
    }
    for (int i = 0; opt && i < net->param_count && s == CNN_OK; ++i) {
        cnn_tensor *m = cnn_sgd_momentum(opt, i);
        if (!m)
            continue;
        size_t len = strlen(MOMENTUM_PREFIX) + strlen(net->param_names[i]) + 1;
        char *name = malloc(len);
        if (!name)
            return cnn_error(CNN_ERR_OUT_OF_MEMORY, "%s: no memory", caller);
        snprintf(name, len, "%s%s", MOMENTUM_PREFIX, net->param_names[i]);
        set->owned[set->count] = name;
        int before = set->count;
        s = add_param(caller, net, i, name, m, true, set);
        if (set->count == before) {
            set->owned[before] = NULL;
            free(name);
        }
    }
    return s;
}

/* Moves the whole tensors of split layers from (gather) or to the shards. */
static cnn_status sync_whole(const cnn_net *net, const cnn_sgd *opt,
                             saved_set *set, bool gather)
{
    cnn_status s = CNN_OK;
    for (int e = 0; e < set->count && s == CNN_OK; ++e) {
        if (!set->whole[e])
            continue;
        cnn_param_pick pick = set->momentum[e] ? pick_momentum : pick_value;
        float *host = cnn_tensor_data(set->whole[e]);
        s = gather ? cnn_net_gather(net, set->param[e], pick, opt, host)
                   : cnn_net_scatter(net, set->param[e], pick, opt, host);
    }
    return s;
}

cnn_status cnn_net_save(cnn_net *net, const cnn_sgd *opt, const char *path,
                        const char *const *meta_keys,
                        const char *const *meta_values, int meta_count)
{
    static const char caller[] = "cnn_net_save";
    if (!net || net->batch == 0)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT, "%s: %s", caller,
                         net ? "set the net up first" : "net is NULL");
    saved_set set = {0};
    cnn_status s = collect(caller, net, opt, &set);
    if (s == CNN_OK)
        s = sync_whole(net, opt, &set, true);
    if (s == CNN_OK)
        s = cnn_checkpoint_save(path, meta_keys, meta_values, meta_count,
                                set.names,
                                (const cnn_tensor *const *)set.tensors,
                                set.count);
    set_free(&set);
    return s == CNN_OK ? s : cnn_error_prefix(caller, s);
}

cnn_status cnn_net_load(cnn_net *net, cnn_sgd *opt, const char *path,
                        cnn_checkpoint **meta)
{
    static const char caller[] = "cnn_net_load";
    if (meta)
        *meta = NULL;
    if (!net || net->batch == 0)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT, "%s: %s", caller,
                         net ? "set the net up first" : "net is NULL");
    cnn_checkpoint *ck = NULL;
    cnn_status s = cnn_checkpoint_open(&ck, path);
    if (s != CNN_OK)
        return cnn_error_prefix(caller, s);
    saved_set set = {0};
    s = collect(caller, net, opt, &set);
    /* First check that every tensor is there with the right dtype and
     * shape; only then copy, so a mismatch changes nothing. */
    for (int i = 0; i < set.count && s == CNN_OK; ++i) {
        cnn_dtype dtype;
        int ndim;
        int64_t dims[CNN_MAX_DIMS];
        const cnn_tensor *t = set.tensors[i];
        if (cnn_checkpoint_tensor_info(ck, set.names[i], &dtype, &ndim, dims)
            != CNN_OK) {
            s = cnn_error(CNN_ERR_FORMAT, "%s: %s has no tensor '%s' (was it "
                          "saved from another model%s?)", caller, path,
                          set.names[i], opt ? " or without its optimizer" : "");
            break;
        }
        bool same = dtype == CNN_F32 && ndim == cnn_tensor_ndim(t);
        for (int d = 0; same && d < ndim; ++d)
            same = dims[d] == cnn_tensor_dims(t)[d];
        if (!same)
            s = cnn_error(CNN_ERR_SHAPE, "%s: '%s' in %s has another shape or "
                          "dtype than the net's (was it saved from another "
                          "model or with another number of classes?)", caller,
                          set.names[i], path);
    }
    for (int i = 0; i < set.count && s == CNN_OK; ++i)
        s = cnn_checkpoint_read_tensor(ck, set.names[i], set.tensors[i]);
    if (s == CNN_OK)
        s = sync_whole(net, opt, &set, false);
    set_free(&set);
    if (s == CNN_OK && meta)
        *meta = ck;
    else
        cnn_checkpoint_close(ck);
    return s;
}
