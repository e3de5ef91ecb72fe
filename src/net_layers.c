/* src/net_layers.c - what each kind of layer does: its output shape, its
 * parameters, its forward and backward pass on the op calls, and its FLOPs.
 * The kinds are listed in src/net_layers.def; net_setup.c, net_run.c and
 * net_info.c reach them only through cnn_layer_kinds. */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "checked.h"
#include "net_internal.h"

static cnn_status make(cnn_tensor **t, cnn_device dev, int ndim,
                       const int64_t *dims)
{
    return cnn_tensor_create(t, dev, CNN_F32, ndim, dims);
}

static const node *input_node(const cnn_net *net, const node *n, int i)
{
    return &net->nodes[n->inputs[i]];
}

/* Values per image of n's output. */
static double per_image(const node *n)
{
    double values = 1.0;
    for (int d = 1; d < n->ndim; ++d)
        values *= (double)n->dims[d];
    return values;
}

/* For a layer of one input: completes input 0's gradient after the op that
 * wrote it returned `s`. */
static cnn_status commit_first(cnn_net *net, const node *n, cnn_status s)
{
    return s == CNN_OK ? cnn_net_grad_commit(net, n, 0) : s;
}

/* ---- shared slots ---- */

static cnn_status no_params(const cnn_net *net, node *n)
{
    (void)net;
    (void)n;
    return CNN_OK;
}

static double no_flops(const cnn_net *net, const node *n)
{
    (void)net;
    (void)n;
    return 0.0;
}

/* Elementwise layers: one FLOP per output value. */
static double per_output_flops(const cnn_net *net, const node *n)
{
    (void)net;
    return per_image(n);
}

/* The input's shape (set before infer is called). */
static cnn_status same_infer(const cnn_net *net, node *n, char *why,
                             size_t size)
{
    (void)net;
    (void)n;
    (void)why;
    (void)size;
    return CNN_OK;
}

/* The input's shape, which must be an image batch [N, C, H, W]. */
static cnn_status image_infer(const cnn_net *net, node *n, char *why,
                              size_t size)
{
    const node *in = input_node(net, n, 0);
    if (in->ndim == 4)
        return CNN_OK;
    snprintf(why, size, "its input has %d dimensions, not 4 (an image batch)",
             in->ndim);
    return CNN_ERR_SHAPE;
}

/* ---- input ---- */

static cnn_status input_infer(const cnn_net *net, node *n, char *why,
                              size_t size)
{
    (void)why;
    (void)size;
    n->dims[0] = net->batch; /* cnn_net_input set the rest */
    return CNN_OK;
}

static cnn_status input_forward(cnn_net *net, cnn_node id, int training,
                                uint64_t step)
{
    (void)net; /* cnn_net_forward copied the batch in */
    (void)id;
    (void)training;
    (void)step;
    return CNN_OK;
}

static cnn_status input_backward(cnn_net *net, cnn_node id)
{
    (void)net;
    (void)id;
    return CNN_OK;
}

/* ---- conv2d ---- */

/* The whole weight's shape of conv node n reading `in`. */
static void conv_weight_dims(const node *n, const node *in, int64_t w[4])
{
    w[0] = n->out_channels;
    w[1] = n->conv.groups > 0 ? in->dims[1] / n->conv.groups : 0;
    w[2] = n->kernel_h;
    w[3] = n->kernel_w;
}

static cnn_status conv_infer(const cnn_net *net, node *n, char *why,
                             size_t size)
{
    cnn_status s = image_infer(net, n, why, size);
    if (s != CNN_OK)
        return s;
    const node *in = input_node(net, n, 0);
    if (n->conv.groups < 1 || in->dims[1] % n->conv.groups ||
        n->out_channels % n->conv.groups) {
        snprintf(why, size, "groups %lld must divide the %lld input and %lld "
                 "output channels", (long long)n->conv.groups,
                 (long long)in->dims[1], (long long)n->out_channels);
        return CNN_ERR_SHAPE;
    }
    int64_t w[4];
    conv_weight_dims(n, in, w);
    return cnn_conv2d_output_shape(in->dims, w, &n->conv, n->dims);
}

/* Weight and bias of a layer of `outputs` rows with weight shape w. */
static cnn_status weight_and_bias(node *n, int ndim, const int64_t *w,
                                  const int64_t *outputs)
{
    cnn_status s = make(&n->weight, n->device, ndim, w);
    if (s == CNN_OK)
        s = make(&n->dweight, n->device, ndim, w);
    if (s == CNN_OK && n->has_bias) {
        s = make(&n->bias, n->device, 1, outputs);
        if (s == CNN_OK)
            s = make(&n->dbias, n->device, 1, outputs);
    }
    return s;
}

static cnn_status conv_allocate(const cnn_net *net, node *n)
{
    int64_t w[4];
    conv_weight_dims(n, input_node(net, n, 0), w);
    return weight_and_bias(n, 4, w, &n->out_channels);
}

static cnn_status conv_forward(cnn_net *net, cnn_node id, int training,
                               uint64_t step)
{
    (void)training;
    (void)step;
    node *n = &net->nodes[id];
    return cnn_conv2d_forward(n->out, cnn_net_input_value(net, n, 0),
                              n->weight, n->bias, &n->conv);
}

static cnn_status conv_backward(cnn_net *net, cnn_node id)
{
    node *n = &net->nodes[id];
    cnn_tensor *dx = cnn_net_grad_target(net, n, 0);
    cnn_status s = cnn_conv2d_backward(dx, n->dweight, n->dbias, n->grad,
                                       cnn_net_input_value(net, n, 0),
                                       n->weight, &n->conv);
    return dx ? commit_first(net, n, s) : s;
}

static double conv_flops(const cnn_net *net, const node *n)
{
    (void)net;
    const int64_t *w = cnn_tensor_dims(n->weight);
    return 2.0 * per_image(n) * (double)(w[1] * w[2] * w[3]);
}

/* ---- batchnorm2d ---- */

static cnn_status batchnorm_allocate(const cnn_net *net, node *n)
{
    (void)net;
    const int64_t *c = &n->dims[1];
    cnn_tensor **all[] = {&n->weight, &n->dweight, &n->bias, &n->dbias,
                          &n->running_mean, &n->running_var, &n->save_mean,
                          &n->save_invstd};
    cnn_status s = CNN_OK;
    for (size_t k = 0; s == CNN_OK && k < sizeof all / sizeof all[0]; ++k)
        s = make(all[k], n->device, 1, c);
    return s;
}

static cnn_status batchnorm_forward(cnn_net *net, cnn_node id, int training,
                                    uint64_t step)
{
    (void)step;
    node *n = &net->nodes[id];
    cnn_batchnorm2d_params p = n->bn;
    p.training = training;
    return cnn_batchnorm2d_forward(n->out, cnn_net_input_value(net, n, 0),
                                   n->weight, n->bias, n->running_mean,
                                   n->running_var, n->save_mean,
                                   n->save_invstd, &p);
}

static cnn_status batchnorm_backward(cnn_net *net, cnn_node id)
{
    node *n = &net->nodes[id];
    cnn_batchnorm2d_params p = n->bn;
    p.training = net->last_training != 0;
    cnn_tensor *dx = cnn_net_grad_target(net, n, 0);
    cnn_status s = cnn_batchnorm2d_backward(dx, n->dweight, n->dbias, n->grad,
                                            cnn_net_input_value(net, n, 0),
                                            n->weight, n->save_mean,
                                            n->save_invstd, &p);
    return dx ? commit_first(net, n, s) : s;
}

/* ---- relu ---- */

static cnn_status relu_forward(cnn_net *net, cnn_node id, int training,
                               uint64_t step)
{
    (void)training;
    (void)step;
    node *n = &net->nodes[id];
    return cnn_relu_forward(n->out, cnn_net_input_value(net, n, 0));
}

static cnn_status relu_backward(cnn_net *net, cnn_node id)
{
    node *n = &net->nodes[id];
    cnn_tensor *dx = cnn_net_grad_target(net, n, 0);
    if (!dx) /* a layer right on the input: nothing to propagate */
        return CNN_OK;
    return commit_first(net, n, cnn_relu_backward(dx, n->grad, n->out));
}

/* ---- pool2d ---- */

static cnn_status pool_infer(const cnn_net *net, node *n, char *why,
                             size_t size)
{
    cnn_status s = image_infer(net, n, why, size);
    if (s == CNN_OK)
        s = cnn_pool2d_output_shape(input_node(net, n, 0)->dims, &n->pool,
                                    n->dims);
    return s;
}

static cnn_status pool_forward(cnn_net *net, cnn_node id, int training,
                               uint64_t step)
{
    (void)training;
    (void)step;
    node *n = &net->nodes[id];
    return cnn_pool2d_forward(n->out, cnn_net_input_value(net, n, 0),
                              &n->pool);
}

static cnn_status pool_backward(cnn_net *net, cnn_node id)
{
    node *n = &net->nodes[id];
    cnn_tensor *dx = cnn_net_grad_target(net, n, 0);
    if (!dx)
        return CNN_OK;
    return commit_first(net, n,
                        cnn_pool2d_backward(dx, n->grad,
                                            cnn_net_input_value(net, n, 0),
                                            n->out, &n->pool));
}

static double pool_flops(const cnn_net *net, const node *n)
{
    (void)net;
    return per_image(n) * (double)(n->pool.kernel_h * n->pool.kernel_w);
}

/* ---- global_avgpool ---- */

static cnn_status global_avgpool_infer(const cnn_net *net, node *n, char *why,
                                       size_t size)
{
    cnn_status s = image_infer(net, n, why, size);
    if (s == CNN_OK)
        n->dims[2] = n->dims[3] = 1;
    return s;
}

static cnn_status global_avgpool_forward(cnn_net *net, cnn_node id,
                                         int training, uint64_t step)
{
    (void)training;
    (void)step;
    node *n = &net->nodes[id];
    return cnn_global_avgpool_forward(n->out, cnn_net_input_value(net, n, 0));
}

static cnn_status global_avgpool_backward(cnn_net *net, cnn_node id)
{
    node *n = &net->nodes[id];
    cnn_tensor *dx = cnn_net_grad_target(net, n, 0);
    if (!dx)
        return CNN_OK;
    return commit_first(net, n, cnn_global_avgpool_backward(dx, n->grad));
}

/* ---- lrn ---- */

static cnn_status lrn_forward(cnn_net *net, cnn_node id, int training,
                              uint64_t step)
{
    (void)training;
    (void)step;
    node *n = &net->nodes[id];
    return cnn_lrn_forward(n->out, cnn_net_input_value(net, n, 0), &n->lrn);
}

static cnn_status lrn_backward(cnn_net *net, cnn_node id)
{
    node *n = &net->nodes[id];
    cnn_tensor *dx = cnn_net_grad_target(net, n, 0);
    if (!dx)
        return CNN_OK;
    return commit_first(net, n,
                        cnn_lrn_backward(dx, n->grad,
                                         cnn_net_input_value(net, n, 0),
                                         n->out, &n->lrn));
}

static double lrn_flops(const cnn_net *net, const node *n)
{
    (void)net;
    return per_image(n) * (double)(n->lrn.size + 4);
}

/* ---- flatten ---- */

static cnn_status flatten_infer(const cnn_net *net, node *n, char *why,
                                size_t size)
{
    const node *in = input_node(net, n, 0);
    n->ndim = 2;
    if (!cnn_checked_product_i64(in->dims + 1, in->ndim - 1, &n->dims[1])) {
        char a[96];
        cnn_dims_text(in->ndim, in->dims, a, sizeof a);
        snprintf(why, size, "its input %s has too many values per image to "
                 "flatten (the count overflows)", a);
        return CNN_ERR_SHAPE;
    }
    n->dims[2] = n->dims[3] = 0;
    return CNN_OK;
}

/* A view of the input's activation when both live on one device (the
 * gradient is its own). */
static cnn_status flatten_allocate(const cnn_net *net, node *n)
{
    const node *in = input_node(net, n, 0);
    if (!cnn_device_same(in->device, n->device))
        return CNN_OK; /* staged: the net gives it its own activation */
    return cnn_tensor_reshape(&n->out, in->out, 2, n->dims);
}

static cnn_status flatten_forward(cnn_net *net, cnn_node id, int training,
                                  uint64_t step)
{
    (void)training;
    (void)step;
    node *n = &net->nodes[id];
    const cnn_tensor *x = cnn_net_input_value(net, n, 0);
    return cnn_tensor_data_const(n->out) == cnn_tensor_data_const(x)
               ? CNN_OK
               : cnn_tensor_copy(n->out, x);
}

static cnn_status flatten_backward(cnn_net *net, cnn_node id)
{
    node *n = &net->nodes[id];
    cnn_tensor *dx = cnn_net_grad_target(net, n, 0);
    if (!dx)
        return CNN_OK;
    return commit_first(net, n, cnn_tensor_copy(dx, n->grad));
}

/* ---- linear ---- */

static cnn_status linear_infer(const cnn_net *net, node *n, char *why,
                               size_t size)
{
    const node *in = input_node(net, n, 0);
    if (in->ndim != 2) {
        snprintf(why, size, "its input has %d dimensions; flatten it first "
                 "(cnn_net_flatten)", in->ndim);
        return CNN_ERR_SHAPE;
    }
    n->dims[1] = n->out_features;
    return CNN_OK;
}

static cnn_status linear_allocate(const cnn_net *net, node *n)
{
    const int64_t w[2] = {n->out_features, input_node(net, n, 0)->dims[1]};
    return weight_and_bias(n, 2, w, &n->out_features);
}

static cnn_status linear_forward(cnn_net *net, cnn_node id, int training,
                                 uint64_t step)
{
    (void)training;
    (void)step;
    node *n = &net->nodes[id];
    return cnn_linear_forward(n->out, cnn_net_input_value(net, n, 0),
                              n->weight, n->bias);
}

static cnn_status linear_backward(cnn_net *net, cnn_node id)
{
    node *n = &net->nodes[id];
    cnn_tensor *dx = cnn_net_grad_target(net, n, 0);
    cnn_status s = cnn_linear_backward(dx, n->dweight, n->dbias, n->grad,
                                       cnn_net_input_value(net, n, 0),
                                       n->weight);
    return dx ? commit_first(net, n, s) : s;
}

static double linear_flops(const cnn_net *net, const node *n)
{
    return 2.0 * per_image(n) * (double)input_node(net, n, 0)->dims[1];
}

/* ---- dropout ---- */

/* The mask of node id at `step`: from the net's seed, so that CPU and GPU
 * draw the same. */
static cnn_dropout_params dropout_params(const cnn_net *net, cnn_node id,
                                         uint64_t step)
{
    cnn_dropout_params p = {.p = net->nodes[id].drop, .seed = net->seed,
                            .step = step, .node = (uint32_t)id};
    return p;
}

static cnn_status dropout_forward(cnn_net *net, cnn_node id, int training,
                                  uint64_t step)
{
    node *n = &net->nodes[id];
    const cnn_tensor *x = cnn_net_input_value(net, n, 0);
    if (!training || n->drop == 0.0f)
        return cnn_tensor_copy(n->out, x);
    cnn_dropout_params p = dropout_params(net, id, step);
    return cnn_dropout_forward(n->out, x, &p);
}

static cnn_status dropout_backward(cnn_net *net, cnn_node id)
{
    node *n = &net->nodes[id];
    cnn_tensor *dx = cnn_net_grad_target(net, n, 0);
    if (!dx)
        return CNN_OK;
    if (!net->last_training || n->drop == 0.0f)
        return commit_first(net, n, cnn_tensor_copy(dx, n->grad));
    cnn_dropout_params p = dropout_params(net, id, net->last_step);
    return commit_first(net, n, cnn_dropout_backward(dx, n->grad, &p));
}

/* ---- add and concat ---- */

/* Every input's shape equal to input 0's, or (concat) all but channels. */
static cnn_status shapes_fit(const cnn_net *net, node *n, bool concat,
                             char *why, size_t size)
{
    const node *in = input_node(net, n, 0);
    for (int i = 1; i < n->input_count; ++i) {
        const node *other = input_node(net, n, i);
        bool fits = other->ndim == in->ndim;
        for (int d = 0; fits && d < in->ndim; ++d)
            fits = other->dims[d] == in->dims[d] || (d == 1 && concat);
        if (!fits) {
            char a[64], b[64];
            cnn_dims_text(in->ndim, in->dims, a, sizeof a);
            cnn_dims_text(other->ndim, other->dims, b, sizeof b);
            snprintf(why, size, "input 0 has shape %s but input %d has %s", a,
                     i, b);
            return CNN_ERR_SHAPE;
        }
        if (concat &&
            !cnn_checked_add_i64(n->dims[1], other->dims[1], &n->dims[1])) {
            snprintf(why, size, "its inputs have too many channels in all "
                     "(the count overflows)");
            return CNN_ERR_SHAPE;
        }
    }
    return CNN_OK;
}

static cnn_status add_infer(const cnn_net *net, node *n, char *why,
                            size_t size)
{
    return shapes_fit(net, n, false, why, size);
}

static cnn_status add_forward(cnn_net *net, cnn_node id, int training,
                              uint64_t step)
{
    (void)training;
    (void)step;
    node *n = &net->nodes[id];
    return cnn_add(n->out, cnn_net_input_value(net, n, 0),
                   cnn_net_input_value(net, n, 1));
}

static cnn_status add_backward(cnn_net *net, cnn_node id)
{
    node *n = &net->nodes[id];
    cnn_status s = CNN_OK;
    /* One input at a time: a + a is allowed. */
    for (int i = 0; i < n->input_count && s == CNN_OK; ++i) {
        cnn_tensor *target = cnn_net_grad_target(net, n, i);
        if (!target)
            continue;
        s = cnn_tensor_copy(target, n->grad);
        if (s == CNN_OK)
            s = cnn_net_grad_commit(net, n, i);
    }
    return s;
}

static cnn_status concat_infer(const cnn_net *net, node *n, char *why,
                               size_t size)
{
    /* Every part needs a gradient buffer of its own (backward splits into
     * all of them at once). */
    for (int i = 0; i < n->input_count; ++i) {
        bool bad = input_node(net, n, i)->kind == NODE_INPUT;
        for (int j = 0; j < i; ++j)
            bad = bad || n->inputs[j] == n->inputs[i];
        if (bad) {
            snprintf(why, size, "concat inputs must be distinct layers, not "
                     "the net's input");
            return CNN_ERR_UNSUPPORTED;
        }
    }
    return shapes_fit(net, n, true, why, size);
}

static cnn_status concat_forward(cnn_net *net, cnn_node id, int training,
                                 uint64_t step)
{
    (void)training;
    (void)step;
    node *n = &net->nodes[id];
    const cnn_tensor *parts[CNN_NET_MAX_CONCAT_INPUTS];
    for (int i = 0; i < n->input_count; ++i) /* count checked at setup */
        parts[i] = cnn_net_input_value(net, n, i);
    return cnn_concat(n->out, parts, n->input_count);
}

static cnn_status concat_backward(cnn_net *net, cnn_node id)
{
    node *n = &net->nodes[id];
    /* Setup made sure the inputs are distinct layers (not the net's
     * input), so every part has a target of its own. */
    cnn_tensor *parts[CNN_NET_MAX_CONCAT_INPUTS];
    for (int i = 0; i < n->input_count; ++i)
        parts[i] = cnn_net_grad_target(net, n, i);
    cnn_status s = cnn_split(parts, n->input_count, n->grad);
    for (int i = 0; i < n->input_count && s == CNN_OK; ++i)
        s = cnn_net_grad_commit(net, n, i);
    return s;
}

/* ---- the table ---- */

const layer_kind cnn_layer_kinds[NODE_KIND_COUNT] = {
#define CNN_LAYER(KIND, name, label, inputs, infer, allocate, forward,         \
                  backward, flops)                                             \
    [NODE_##KIND] = {#name, label, inputs, infer, allocate, forward, backward, \
                     flops},
#include "net_layers.def"
#undef CNN_LAYER
};
