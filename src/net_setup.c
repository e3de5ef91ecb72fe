/* src/net_setup.c - cnn_net_setup: shape inference and allocation, all at
 * once so that a training step allocates nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "net_internal.h"

static const char caller[] = "cnn_net_setup";

static const char *kind_name(node_kind kind)
{
    static const char *const names[] = {
        "input", "conv2d", "batchnorm2d", "relu", "pool2d", "global_avgpool",
        "lrn", "flatten", "linear", "dropout", "add", "concat"};
    return names[kind];
}

/* Records a shape error about node `id` and returns it. */
static cnn_status node_error(const cnn_net *net, cnn_node id, cnn_status s,
                             const char *what)
{
    const node *n = &net->nodes[id];
    return cnn_error(s, "%s: node %d (%s%s%s%s): %s", caller, id,
                     kind_name(n->kind), n->name ? " '" : "",
                     n->name ? n->name : "", n->name ? "'" : "", what);
}

/* Infers node id's output shape from its inputs'. */
static cnn_status infer_shape(cnn_net *net, cnn_node id)
{
    node *n = &net->nodes[id];
    const node *in = n->input_count ? &net->nodes[n->inputs[0]] : NULL;
    char why[CNN_ERROR_CAPACITY];
    bool needs_image = n->kind == NODE_CONV || n->kind == NODE_BATCHNORM ||
                       n->kind == NODE_POOL || n->kind == NODE_GLOBAL_AVGPOOL ||
                       n->kind == NODE_LRN;
    if (needs_image && in->ndim != 4) {
        snprintf(why, sizeof why, "its input has %d dimensions, not 4 (an "
                 "image batch)", in->ndim);
        return node_error(net, id, CNN_ERR_SHAPE, why);
    }
    cnn_status s = CNN_OK;
    n->ndim = in ? in->ndim : 4;
    if (in)
        memcpy(n->dims, in->dims, sizeof n->dims);
    switch (n->kind) {
    case NODE_INPUT:
        n->dims[0] = net->batch;
        break;
    case NODE_CONV: {
        const int64_t w[4] = {n->out_channels,
                              n->conv.groups > 0 ? in->dims[1] / n->conv.groups
                                                 : 0,
                              n->kernel_h, n->kernel_w};
        if (n->conv.groups < 1 || in->dims[1] % n->conv.groups ||
            n->out_channels % n->conv.groups) {
            snprintf(why, sizeof why, "groups %lld must divide the %lld input "
                     "and %lld output channels", (long long)n->conv.groups,
                     (long long)in->dims[1], (long long)n->out_channels);
            return node_error(net, id, CNN_ERR_SHAPE, why);
        }
        s = cnn_conv2d_output_shape(in->dims, w, &n->conv, n->dims);
        break;
    }
    case NODE_POOL:
        s = cnn_pool2d_output_shape(in->dims, &n->pool, n->dims);
        break;
    case NODE_GLOBAL_AVGPOOL:
        n->dims[2] = n->dims[3] = 1;
        break;
    case NODE_FLATTEN:
        n->ndim = 2;
        for (int d = 2; d < in->ndim; ++d)
            n->dims[1] *= in->dims[d];
        n->dims[2] = n->dims[3] = 0;
        break;
    case NODE_LINEAR:
        if (in->ndim != 2) {
            snprintf(why, sizeof why, "its input has %d dimensions; flatten "
                     "it first (cnn_net_flatten)", in->ndim);
            return node_error(net, id, CNN_ERR_SHAPE, why);
        }
        n->dims[1] = n->out_features;
        break;
    case NODE_ADD:
    case NODE_CONCAT:
        if (n->kind == NODE_CONCAT) {
            if (n->input_count > 64)
                return node_error(net, id, CNN_ERR_UNSUPPORTED,
                                  "more than 64 inputs");
            for (int i = 0; i < n->input_count; ++i) {
                bool bad = net->nodes[n->inputs[i]].kind == NODE_INPUT;
                for (int j = 0; j < i; ++j)
                    bad = bad || n->inputs[j] == n->inputs[i];
                if (bad)
                    return node_error(net, id, CNN_ERR_UNSUPPORTED,
                                      "concat inputs must be distinct layers, "
                                      "not the net's input");
            }
        }
        for (int i = 1; i < n->input_count; ++i) {
            const node *other = &net->nodes[n->inputs[i]];
            bool fits = other->ndim == in->ndim;
            for (int d = 0; fits && d < in->ndim; ++d)
                fits = other->dims[d] == in->dims[d] ||
                       (d == 1 && n->kind == NODE_CONCAT);
            if (!fits) {
                char a[64], b[64];
                cnn_dims_text(in->ndim, in->dims, a, sizeof a);
                cnn_dims_text(other->ndim, other->dims, b, sizeof b);
                snprintf(why, sizeof why, "input 0 has shape %s but input %d "
                         "has %s", a, i, b);
                return node_error(net, id, CNN_ERR_SHAPE, why);
            }
            if (n->kind == NODE_CONCAT)
                n->dims[1] += other->dims[1];
        }
        break;
    default: /* batch norm, relu, lrn, dropout: the input's shape */
        break;
    }
    if (s != CNN_OK) {
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
    cnn_status s = CNN_OK;
    if (n->kind == NODE_FLATTEN) {
        /* A view of the input's activation; the gradient is its own. */
        const node *in = &net->nodes[n->inputs[0]];
        if (in->device.type == dev.type && in->device.index == dev.index)
            s = cnn_tensor_reshape(&n->out, in->out, 2, n->dims);
        else
            s = make(&n->out, dev, 2, n->dims);
    } else {
        s = make(&n->out, dev, n->ndim, n->dims);
    }
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
    if (s != CNN_OK)
        return s;
    const node *in = n->input_count ? &net->nodes[n->inputs[0]] : NULL;
    switch (n->kind) {
    case NODE_CONV: {
        const int64_t w[4] = {n->out_channels, in->dims[1] / n->conv.groups,
                              n->kernel_h, n->kernel_w};
        s = make(&n->weight, dev, 4, w);
        if (s == CNN_OK)
            s = make(&n->dweight, dev, 4, w);
        if (s == CNN_OK && n->has_bias) {
            s = make(&n->bias, dev, 1, &n->out_channels);
            if (s == CNN_OK)
                s = make(&n->dbias, dev, 1, &n->out_channels);
        }
        break;
    }
    case NODE_LINEAR: {
        const int64_t w[2] = {n->out_features, in->dims[1]};
        s = make(&n->weight, dev, 2, w);
        if (s == CNN_OK)
            s = make(&n->dweight, dev, 2, w);
        if (s == CNN_OK && n->has_bias) {
            s = make(&n->bias, dev, 1, &n->out_features);
            if (s == CNN_OK)
                s = make(&n->dbias, dev, 1, &n->out_features);
        }
        break;
    }
    case NODE_BATCHNORM: {
        const int64_t *c = &n->dims[1];
        cnn_tensor **all[] = {&n->weight, &n->dweight, &n->bias, &n->dbias,
                              &n->running_mean, &n->running_var,
                              &n->save_mean, &n->save_invstd};
        for (size_t k = 0; s == CNN_OK && k < sizeof all / sizeof all[0]; ++k)
            s = make(all[k], dev, 1, c);
        break;
    }
    default:
        break;
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
