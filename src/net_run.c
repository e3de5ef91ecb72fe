/* src/net_run.c - running a net: forward, loss, backward. Each node runs
 * its kind's forward and backward (src/net_layers.c, on the public op
 * calls) on its own device and engine; gradients flow
 * back into each input's gradient buffer, the first contribution written in
 * place and later ones (a node read by several) added through a scratch
 * buffer. */
#include <stdio.h>

#include "check.h"
#include "net_internal.h"

/* Records which node failed in which pass, keeping the op's message. */
static cnn_status node_failed(const char *caller, const cnn_net *net,
                              cnn_node id, cnn_status s)
{
    char why[CNN_ERROR_CAPACITY];
    snprintf(why, sizeof why, "%s", cnn_last_error());
    const node *n = &net->nodes[id];
    return cnn_error(s, "%s: node %d%s%s: %s", caller, id,
                     n->name ? " " : "", n->name ? n->name : "", why);
}

const cnn_tensor *cnn_net_input_value(const cnn_net *net, const node *n,
                                      int i)
{
    return n->staged[i] ? n->staged[i] : net->nodes[n->inputs[i]].out;
}

/* Brings the inputs that live on other devices to node id's, then runs its
 * kind's forward. */
static cnn_status forward_node(cnn_net *net, cnn_node id, int training,
                               uint64_t step)
{
    node *n = &net->nodes[id];
    cnn_status s = CNN_OK;
    for (int i = 0; i < n->input_count && s == CNN_OK; ++i)
        if (n->staged[i]) /* an edge between devices */
            s = cnn_tensor_copy(n->staged[i], net->nodes[n->inputs[i]].out);
    if (s != CNN_OK)
        return s;
    return cnn_layer_kind(n)->forward(net, id, training, step);
}

cnn_status cnn_net_forward(cnn_net *net, const cnn_tensor *input, int training,
                           uint64_t step)
{
    static const char caller[] = "cnn_net_forward";
    if (!net || net->batch == 0)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT, "%s: %s", caller,
                         net ? "set the net up first" : "net is NULL");
    node *in = &net->nodes[net->input];
    cnn_status s = cnn_check_tensor(caller, "input", input, CNN_F32, 4);
    if (s == CNN_OK)
        s = cnn_check_dims(caller, "input", input, 4, in->dims);
    if (s == CNN_OK)
        s = cnn_tensor_copy(in->out, input);
    if (s != CNN_OK)
        return s;
    net->has_loss_grad = false;
    net->last_training = training;
    net->last_step = step;
    for (cnn_node id = 0; id < net->count && s == CNN_OK; ++id) {
        cnn_engine_override(net->nodes[id].engine);
        s = forward_node(net, id, training, step);
        cnn_engine_override(-1);
        if (s != CNN_OK)
            return node_failed(caller, net, id, s);
    }
    return CNN_OK;
}

cnn_tensor *cnn_net_output(cnn_net *net)
{
    return net && net->batch ? net->nodes[net->count - 1].out : NULL;
}

cnn_status cnn_net_loss(cnn_net *net, const cnn_tensor *labels, float *loss)
{
    static const char caller[] = "cnn_net_loss";
    if (!net || net->batch == 0 || !loss)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT, "%s: %s", caller,
                         !net ? "net is NULL" : !loss ? "loss is NULL"
                                                      : "set the net up first");
    node *out = &net->nodes[net->count - 1];
    if (out->ndim != 2)
        return cnn_error(CNN_ERR_SHAPE, "%s: the output has %d dimensions; "
                         "the loss needs logits [N, classes]", caller,
                         out->ndim);
    cnn_status s = CNN_OK;
    if (labels && !cnn_device_same(cnn_tensor_device(labels), out->device)) {
        /* Labels from a host loader for logits on a GPU: copy them over,
         * into a buffer kept for the next steps. */
        if (net->labels && cnn_tensor_numel(net->labels) !=
                               cnn_tensor_numel(labels)) {
            cnn_tensor_free(net->labels);
            net->labels = NULL;
        }
        if (!net->labels)
            s = cnn_tensor_create(&net->labels, out->device,
                                  cnn_tensor_dtype(labels),
                                  cnn_tensor_ndim(labels),
                                  cnn_tensor_dims(labels));
        if (s == CNN_OK)
            s = cnn_tensor_copy(net->labels, labels);
        if (s != CNN_OK)
            return cnn_error_prefix(caller, s);
        labels = net->labels;
    }
    s = cnn_softmax_cross_entropy(net->loss, out->grad, out->out, labels);
    if (s == CNN_OK)
        s = cnn_tensor_read(net->loss, loss, sizeof *loss);
    if (s != CNN_OK)
        return cnn_error_prefix(caller, s);
    net->has_loss_grad = true;
    return CNN_OK;
}

cnn_status cnn_net_zero_grad(cnn_net *net)
{
    if (!net)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                         "cnn_net_zero_grad: net is NULL");
    if (net->batch == 0)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                         "cnn_net_zero_grad: the net is not set up (call "
                         "cnn_net_setup first)");
    for (int i = 0; i < net->param_count; ++i) {
        cnn_status s = cnn_tensor_fill(net->grads[i], 0.0);
        if (s != CNN_OK)
            return cnn_error_prefix("cnn_net_zero_grad", s);
    }
    return CNN_OK;
}

/* Where node n writes the gradient for its input i: its staging buffer
 * when the input lives on another device; else the input's gradient if
 * nothing has been written there in this pass, else the input's scratch.
 * NULL when the input needs no gradient (the net's input). */
cnn_tensor *cnn_net_grad_target(cnn_net *net, const node *n, int i)
{
    node *in = &net->nodes[n->inputs[i]];
    if (!in->grad)
        return NULL;
    if (n->staged_grad[i])
        return n->staged_grad[i];
    return in->grad_written ? in->scratch : in->grad;
}

/* Completes the gradient for input i after the op wrote grad_target. */
cnn_status cnn_net_grad_commit(cnn_net *net, const node *n, int i)
{
    node *in = &net->nodes[n->inputs[i]];
    if (!in->grad)
        return CNN_OK;
    cnn_status s = CNN_OK;
    if (n->staged_grad[i]) /* bring it to the input's device */
        s = cnn_tensor_copy(in->grad_written ? in->scratch : in->grad,
                            n->staged_grad[i]);
    if (s == CNN_OK && in->grad_written)
        s = cnn_add(in->grad, in->grad, in->scratch);
    in->grad_written = true;
    return s;
}

cnn_status cnn_net_backward(cnn_net *net)
{
    static const char caller[] = "cnn_net_backward";
    if (!net || net->batch == 0)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT, "%s: %s", caller,
                         net ? "set the net up first" : "net is NULL");
    if (!net->has_loss_grad)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                         "%s: call cnn_net_loss after the forward pass first",
                         caller);
    for (int id = 0; id < net->count; ++id)
        net->nodes[id].grad_written = false;
    net->nodes[net->count - 1].grad_written = true; /* the loss's gradient */
    for (cnn_node id = net->count - 1; id > 0; --id) {
        node *n = &net->nodes[id];
        if (!n->grad_written)
            continue; /* nothing downstream of it reaches the loss */
        cnn_engine_override(n->engine);
        cnn_status s = cnn_layer_kind(n)->backward(net, id);
        cnn_engine_override(-1);
        if (s != CNN_OK)
            return node_failed(caller, net, id, s);
    }
    net->has_loss_grad = false; /* one backward per loss */
    return CNN_OK;
}
