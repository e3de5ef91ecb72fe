/* src/net_setup.c - cnn_net_setup: shape inference and allocation, all at
 * once so that a training step allocates nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "net_internal.h"

static const char caller[] = "cnn_net_setup";

/* Records a shape error about node `id` and returns it. */
static cnn_status node_error(const cnn_net *net, cnn_node id, cnn_status s,
                             const char *what)
{
    const node *n = &net->nodes[id];
    return cnn_error(s, "%s: node %d (%s%s%s%s): %s", caller, id,
                     cnn_layer_kind(n)->name, n->name ? " '" : "",
                     n->name ? n->name : "", n->name ? "'" : "", what);
}

/* Infers node id's output shape from its inputs' (its kind's infer, after
 * the checks every kind shares). */
static cnn_status infer_shape(cnn_net *net, cnn_node id)
{
    node *n = &net->nodes[id];
    const layer_kind *kind = cnn_layer_kind(n);
    char why[CNN_ERROR_CAPACITY];
    bool fits = kind->inputs == CNN_LAYER_VARIADIC
                    ? n->input_count >= 1 &&
                          n->input_count <= CNN_NET_MAX_CONCAT_INPUTS
                    : n->input_count == kind->inputs;
    if (!fits) { /* the builders make this impossible */
        snprintf(why, sizeof why, "it has %d inputs", n->input_count);
        return node_error(net, id, CNN_ERR_INTERNAL, why);
    }
    const node *in = n->input_count ? &net->nodes[n->inputs[0]] : NULL;
    n->ndim = in ? in->ndim : 4;
    if (in)
        memcpy(n->dims, in->dims, sizeof n->dims);
    why[0] = '\0';
    cnn_status s = kind->infer(net, n, why, sizeof why);
    if (s != CNN_OK) {
        if (!why[0])
            snprintf(why, sizeof why, "%s", cnn_last_error());
        return node_error(net, id, s, why);
    }
    return CNN_OK;
}

static cnn_status make(cnn_tensor **t, cnn_device dev, int ndim,
                       const int64_t *dims)
{
    return cnn_tensor_create(t, dev, CNN_F32, ndim, dims);
}

/* Adds a named tensor to the parameter or buffer list. */
static cnn_status list_add(const char ***names, cnn_tensor ***values,
                           cnn_tensor ***grads, int *count, const char *prefix,
                           const char *suffix, cnn_tensor *value,
                           cnn_tensor *grad)
{
    int n = *count;
    const char **more_names = realloc((void *)*names, (size_t)(n + 1) *
                                                          sizeof *more_names);
    if (more_names)
        *names = more_names;
    cnn_tensor **more_values = realloc(*values, (size_t)(n + 1) *
                                                    sizeof *more_values);
    if (more_values)
        *values = more_values;
    cnn_tensor **more_grads = grads ? realloc(*grads, (size_t)(n + 1) *
                                                          sizeof *more_grads)
                                    : NULL;
    if (more_grads)
        *grads = more_grads;
    size_t len = strlen(prefix) + strlen(suffix) + 2;
    char *name = malloc(len);
    if (!more_names || !more_values || (grads && !more_grads) || !name) {
        free(name);
        return cnn_error(CNN_ERR_OUT_OF_MEMORY, "%s: no memory", caller);
    }
    snprintf(name, len, "%s.%s", prefix, suffix);
    (*names)[n] = name;
    (*values)[n] = value;
    if (grads)
        (*grads)[n] = grad;
    *count = n + 1;
    return CNN_OK;
}

/* Allocates a node's activation, gradient and parameters. */
static cnn_status allocate(cnn_net *net, cnn_node id)
{
    node *n = &net->nodes[id];
    cnn_device dev = n->device;
    /* Parameters and buffers first; the kind may make its activation a
     * view. */
    cnn_status s = cnn_layer_kind(n)->allocate(net, n);
    if (s == CNN_OK && !n->out)
        s = make(&n->out, dev, n->ndim, n->dims);
    if (s == CNN_OK && n->kind != NODE_INPUT)
        s = make(&n->grad, dev, n->ndim, n->dims);
    if (s == CNN_OK && n->consumers > 1)
        s = make(&n->scratch, dev, n->ndim, n->dims);
    /* Inputs on another device are staged here (activation and gradient). */
    if (s == CNN_OK && n->input_count) {
        n->staged = calloc((size_t)n->input_count, sizeof *n->staged);
        n->staged_grad = calloc((size_t)n->input_count, sizeof *n->staged_grad);
        if (!n->staged || !n->staged_grad)
            s = cnn_error(CNN_ERR_OUT_OF_MEMORY, "%s: no memory", caller);
    }
    for (int i = 0; s == CNN_OK && i < n->input_count; ++i) {
        const node *in = &net->nodes[n->inputs[i]];
        if (in->device.type == dev.type && in->device.index == dev.index)
            continue;
        s = make(&n->staged[i], dev, in->ndim, in->dims);
        if (s == CNN_OK && in->kind != NODE_INPUT)
            s = make(&n->staged_grad[i], dev, in->ndim, in->dims);
    }
    if (s != CNN_OK || !n->weight)
        return s;
    cnn_node *owners = realloc(net->param_nodes, (size_t)(net->param_count + 2)
                                                     * sizeof *owners);
    if (!owners)
        return cnn_error(CNN_ERR_OUT_OF_MEMORY, "%s: no memory", caller);
    net->param_nodes = owners;
    owners[net->param_count] = owners[net->param_count + 1] = id;
    s = list_add(&net->param_names, &net->params, &net->grads,
                 &net->param_count, n->name, "weight", n->weight, n->dweight);
    if (s == CNN_OK && n->bias)
        s = list_add(&net->param_names, &net->params, &net->grads,
                     &net->param_count, n->name, "bias", n->bias, n->dbias);
    if (s == CNN_OK && n->running_mean)
        s = list_add(&net->buffer_names, &net->buffers, NULL,
                     &net->buffer_count, n->name, "running_mean",
                     n->running_mean, NULL);
    if (s == CNN_OK && n->running_var)
        s = list_add(&net->buffer_names, &net->buffers, NULL,
                     &net->buffer_count, n->name, "running_var",
                     n->running_var, NULL);
    return s;
}

cnn_status cnn_net_setup(cnn_net *net, int64_t batch_size)
{
    if (!net)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT, "%s: net is NULL", caller);
    if (net->batch > 0)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT, "%s: the net is already set "
                         "up", caller);
    if (batch_size < 1)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                         "%s: batch_size is %lld", caller,
                         (long long)batch_size);
    if (net->input < 0 || net->count < 2)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                         "%s: the net needs an input and at least one layer",
                         caller);
    net->batch = batch_size;
    cnn_status s = CNN_OK;
    for (cnn_node id = 0; id < net->count && s == CNN_OK; ++id) {
        node *n = &net->nodes[id];
        for (int i = 0; i < n->input_count; ++i)
            net->nodes[n->inputs[i]].consumers++;
        s = infer_shape(net, id);
    }
    for (cnn_node id = 0; id < net->count && s == CNN_OK; ++id)
        s = allocate(net, id);
    if (s == CNN_OK)
        s = cnn_net_shards_check(caller, net);
    if (s == CNN_OK) {
        const int64_t one = 1;
        node *last = &net->nodes[net->count - 1];
        s = make(&net->loss, last->device, 1, &one);
    }
    if (s == CNN_OK)
        s = cnn_net_zero_grad(net);
    if (s != CNN_OK) {
        /* Leave the net as it was before setup: free what was made. */
        char why[CNN_ERROR_CAPACITY];
        snprintf(why, sizeof why, "%s", cnn_last_error());
        for (int id = 0; id < net->count; ++id) {
            node *n = &net->nodes[id];
            cnn_tensor **owned[] = {&n->out, &n->grad, &n->scratch,
                                    &n->weight, &n->bias, &n->dweight,
                                    &n->dbias, &n->running_mean,
                                    &n->running_var, &n->save_mean,
                                    &n->save_invstd};
            for (size_t k = 0; k < sizeof owned / sizeof owned[0]; ++k) {
                cnn_tensor_free(*owned[k]);
                *owned[k] = NULL;
            }
            for (int i = 0; i < n->input_count; ++i) {
                if (n->staged)
                    cnn_tensor_free(n->staged[i]);
                if (n->staged_grad)
                    cnn_tensor_free(n->staged_grad[i]);
            }
            free(n->staged);
            free(n->staged_grad);
            n->staged = n->staged_grad = NULL;
            n->consumers = 0;
        }
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
        net->param_nodes = NULL;
        net->param_names = net->buffer_names = NULL;
        net->params = net->grads = net->buffers = NULL;
        net->param_count = net->buffer_count = 0;
        cnn_tensor_free(net->loss);
        net->loss = NULL;
        net->batch = 0;
        return cnn_error(s, "%s", why);
    }
    return CNN_OK;
}
