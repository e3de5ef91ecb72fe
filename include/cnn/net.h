/* cnn/net.h - networks as graphs of layers.
 *
 * Build a net node by node (cnn_net_input, cnn_net_conv2d, ... each returns
 * the new node's id), then cnn_net_setup fixes the batch size, infers every
 * shape and allocates parameters, gradients, activations and scratch once;
 * after that a training step (forward, loss, backward, optimizer step)
 * allocates nothing. Layers are written once, on top of the op calls, for
 * every device.
 *
 * Every layer node has a device (the net's by default) and an engine (the
 * device's by default); cnn_net_set_device and cnn_net_set_engine change
 * them before setup. Where an edge crosses devices the net copies the
 * activation (and its gradient) itself.
 *
 * Parameters are named as torchvision names them: a node built with name
 * "features.0" owns "features.0.weight" and "features.0.bias"; a batch norm
 * named "bn1" also owns the buffers "bn1.running_mean" and
 * "bn1.running_var".
 *
 * Ownership: cnn_net_create hands the caller a net to free with
 * cnn_net_free. Tensors returned by accessors belong to the net and live
 * until it is freed. Thread safety: one net is used by one thread at a time.
 */
#ifndef CNN_NET_H
#define CNN_NET_H

#include <stdint.h>
#include <stdio.h>

#include "conv.h"
#include "device.h"
#include "export.h"
#include "norm.h"
#include "pool.h"
#include "status.h"
#include "tensor.h"

CNN_BEGIN_DECLS

typedef struct cnn_net cnn_net;

/* A node's id: 0, 1, 2, ... in the order nodes were added. */
typedef int cnn_node;

/* Most inputs of one cnn_net_concat node. */
#define CNN_NET_MAX_CONCAT_INPUTS 64
/* Most shards of one layer (cnn_net_set_shard). */
#define CNN_NET_MAX_SHARDS 64

/* How a layer's weights start (cnn_net_init). */
typedef enum cnn_init {
    /* PyTorch's default for conv and linear layers: weight and bias
     * uniform in +-1/sqrt(fan_in) (kaiming_uniform with a = sqrt(5)). */
    CNN_INIT_TORCH_DEFAULT = 0,
    /* torchvision ResNet's convs: weight normal(0, sqrt(2 / fan_out)),
     * kaiming_normal_(mode="fan_out", nonlinearity="relu"); no bias. */
    CNN_INIT_KAIMING_NORMAL_FAN_OUT
} cnn_init;

CNN_API cnn_status cnn_net_create(cnn_net **out, cnn_device device);
CNN_API void cnn_net_free(cnn_net *net);

/* The input of images of shape [channels, height, width] (the batch
 * dimension comes at setup). Exactly one per net. */
CNN_API cnn_status cnn_net_input(cnn_net *net, int64_t channels,
                                 int64_t height, int64_t width,
                                 cnn_node *out);

/* Layers. `name` is the torchvision prefix of the layer's parameters
 * (copied); in is an earlier node. */
CNN_API cnn_status cnn_net_conv2d(cnn_net *net, cnn_node in, const char *name,
                                  int64_t out_channels, int64_t kernel_h,
                                  int64_t kernel_w,
                                  const cnn_conv2d_params *p, int bias,
                                  cnn_init init, cnn_node *out);
CNN_API cnn_status cnn_net_batchnorm2d(cnn_net *net, cnn_node in,
                                       const char *name, float momentum,
                                       float eps, cnn_node *out);
CNN_API cnn_status cnn_net_relu(cnn_net *net, cnn_node in, cnn_node *out);
CNN_API cnn_status cnn_net_pool2d(cnn_net *net, cnn_node in,
                                  const cnn_pool2d_params *p, cnn_node *out);
CNN_API cnn_status cnn_net_global_avgpool(cnn_net *net, cnn_node in,
                                          cnn_node *out);
CNN_API cnn_status cnn_net_lrn(cnn_net *net, cnn_node in,
                               const cnn_lrn_params *p, cnn_node *out);
/* [N, C, H, W] -> [N, C*H*W], a view. */
CNN_API cnn_status cnn_net_flatten(cnn_net *net, cnn_node in, cnn_node *out);
CNN_API cnn_status cnn_net_linear(cnn_net *net, cnn_node in, const char *name,
                                  int64_t out_features, int bias,
                                  cnn_init init, cnn_node *out);
/* Inverted dropout with drop probability p in training; identity in
 * inference. */
CNN_API cnn_status cnn_net_dropout(cnn_net *net, cnn_node in, float p,
                                   cnn_node *out);
/* a + b (a residual connection); same shapes. */
CNN_API cnn_status cnn_net_add(cnn_net *net, cnn_node a, cnn_node b,
                               cnn_node *out);
/* The inputs side by side along channels: 1 to CNN_NET_MAX_CONCAT_INPUTS
 * distinct layers (not the net's input). */
CNN_API cnn_status cnn_net_concat(cnn_net *net, const cnn_node *inputs,
                                  int count, cnn_node *out);

/* Places a node on a device / gives it an engine. Before setup only
 * (CNN_ERR_INVALID_ARGUMENT after it). */
CNN_API cnn_status cnn_net_set_device(cnn_net *net, cnn_node node,
                                      cnn_device device);
CNN_API cnn_status cnn_net_set_engine(cnn_net *net, cnn_node node,
                                      cnn_engine engine);

/* Makes a conv or linear node shard `shard` of `shards` of the layer named
 * by its name: the node computes that share of the layer's output channels
 * (its own out_channels / out_features, C), and its parameters are rows
 * [shard*C, (shard+1)*C) of the whole layer's weight and bias. Give every
 * shard the same name and shape; setup checks that all are there. The
 * shards of a layer usually sit on different devices (model parallelism,
 * as AlexNet's two towers). cnn_net_init gives each shard its slice of the
 * weights the whole layer would get from the same seed, and checkpoints
 * hold whole tensors, so a split net and the same net unsplit load each
 * other's checkpoints. cnn_net_param lists each shard (its tensor is the
 * shard's), under the layer's name. Before setup only. */
CNN_API cnn_status cnn_net_set_shard(cnn_net *net, cnn_node node, int shard,
                                     int shards);

/* Fixes the batch size, checks that every shape chains (a message names
 * the node that does not), and allocates everything. The last node added is
 * the output (logits [N, classes] for training). After setup the graph is
 * frozen. */
CNN_API cnn_status cnn_net_setup(cnn_net *net, int64_t batch_size);

/* Initialises every parameter from `seed` as each layer's cnn_init says,
 * batch norms to weight 1, bias 0, running mean 0, running variance 1.
 * Parameter i gets its own stream, so the weights do not depend on the
 * device or on how many threads run. */
CNN_API cnn_status cnn_net_init(cnn_net *net, uint64_t seed);

/* Runs the net on input [N, C, H, W] (copied in; any device). training:
 * batch statistics and dropout (whose masks come from the seed given to
 * cnn_net_init, the step and the node); else running statistics and no
 * dropout. */
CNN_API cnn_status cnn_net_forward(cnn_net *net, const cnn_tensor *input,
                                   int training, uint64_t step);
/* The output of the last forward (logits), owned by the net. */
CNN_API cnn_tensor *cnn_net_output(cnn_net *net);

/* Softmax cross-entropy of the output against labels [N] (I32): writes
 * the mean loss into *loss and keeps its gradient for backward. */
CNN_API cnn_status cnn_net_loss(cnn_net *net, const cnn_tensor *labels,
                                float *loss);

/* Backpropagates the loss's gradient: adds into every parameter gradient
 * (call cnn_net_zero_grad first in each step). Both after setup
 * (CNN_ERR_INVALID_ARGUMENT before it). */
CNN_API cnn_status cnn_net_backward(cnn_net *net);
CNN_API cnn_status cnn_net_zero_grad(cnn_net *net);

/* Parameters (trainable tensors), in the order torchvision lists them; a
 * layer split with cnn_net_set_shard appears once per shard, each under
 * the layer's name. */
CNN_API int cnn_net_param_count(const cnn_net *net);
CNN_API cnn_status cnn_net_param(cnn_net *net, int i, const char **name,
                                 cnn_tensor **value, cnn_tensor **grad);
/* Total number of trainable values. */
CNN_API int64_t cnn_net_param_elements(const cnn_net *net);
/* Buffers (batch norm running statistics), by name. */
CNN_API int cnn_net_buffer_count(const cnn_net *net);
CNN_API cnn_status cnn_net_buffer(cnn_net *net, int i, const char **name,
                                  cnn_tensor **value);

/* Number of nodes and the output shape of a node: after setup, or before
 * it for the input (whose batch size reads 0 until setup). */
CNN_API int cnn_net_node_count(const cnn_net *net);
CNN_API cnn_status cnn_net_node_shape(const cnn_net *net, cnn_node node,
                                      int *ndim, int64_t dims[4]);

/* Prints one line per layer (kind, name, output shape as the paper draws
 * it, e.g. 55x55x96, parameters, FLOPs of a forward pass for one image, and
 * device), then the totals. After setup. */
CNN_API cnn_status cnn_net_summary(const cnn_net *net, FILE *out);

CNN_END_DECLS

#endif /* CNN_NET_H */
