/* src/net_checkpoint.c - a net (and its optimizer) to and from a
 * checkpoint file. Loading checks every tensor against the net before it
 * copies any, so a file that does not fit leaves the net as it was. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net_internal.h"

#define MOMENTUM_PREFIX "momentum."

/* Every tensor a save writes: parameters, buffers, momentum buffers. */
typedef struct saved_set {
    int count;
    const char **names;     /* parameter and buffer names are the net's */
    char **owned;           /* momentum names, made here */
    cnn_tensor **tensors;
} saved_set;

static void set_free(saved_set *set)
{
    for (int i = 0; set->owned && i < set->count; ++i)
        free(set->owned[i]);
    free(set->owned);
    free((void *)set->names);
    free(set->tensors);
}

static cnn_status collect(const char *caller, cnn_net *net, const cnn_sgd *opt,
                          saved_set *set)
{
    int most = 2 * net->param_count + net->buffer_count;
    set->names = calloc((size_t)(most ? most : 1), sizeof *set->names);
    set->owned = calloc((size_t)(most ? most : 1), sizeof *set->owned);
    set->tensors = calloc((size_t)(most ? most : 1), sizeof *set->tensors);
    if (!set->names || !set->owned || !set->tensors)
        return cnn_error(CNN_ERR_OUT_OF_MEMORY, "%s: no memory", caller);
    for (int i = 0; i < net->param_count; ++i) {
        set->names[set->count] = net->param_names[i];
        set->tensors[set->count++] = net->params[i];
    }
    for (int i = 0; i < net->buffer_count; ++i) {
        set->names[set->count] = net->buffer_names[i];
        set->tensors[set->count++] = net->buffers[i];
    }
    for (int i = 0; opt && i < net->param_count; ++i) {
        cnn_tensor *m = cnn_sgd_momentum(opt, i);
        if (!m)
            continue;
        size_t len = strlen(MOMENTUM_PREFIX) + strlen(net->param_names[i]) + 1;
        char *name = malloc(len);
        if (!name)
            return cnn_error(CNN_ERR_OUT_OF_MEMORY, "%s: no memory", caller);
        snprintf(name, len, "%s%s", MOMENTUM_PREFIX, net->param_names[i]);
        set->owned[set->count] = name;
        set->names[set->count] = name;
        set->tensors[set->count++] = m;
    }
    return CNN_OK;
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
    set_free(&set);
    if (s == CNN_OK && meta)
        *meta = ck;
    else
        cnn_checkpoint_close(ck);
    return s;
}
