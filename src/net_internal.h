/* src/net_internal.h - the graph behind cnn_net, shared by the net's files
 * (net_build.c: adding nodes; net_setup.c: shapes, memory, init;
 * net_layers.c: what each kind of layer does; net_run.c: forward and
 * backward; net_info.c: accessors and summary). */
#ifndef CNN_NET_INTERNAL_H
#define CNN_NET_INTERNAL_H

#include "cnn/net.h"
#include "cnn/train.h"
#include "core.h"

/* The layer kinds, one per line of src/net_layers.def. */
typedef enum node_kind {
#define CNN_LAYER(KIND, ...) NODE_##KIND,
#include "net_layers.def"
#undef CNN_LAYER
    NODE_KIND_COUNT
} node_kind;

typedef struct node {
    node_kind kind;
    char *name;          /* parameter prefix; NULL for layers without */
    cnn_node *inputs;    /* earlier nodes */
    int input_count;
    cnn_device device;
    int engine;          /* a cnn_engine, or -1: the device's */
    /* cnn_net_set_shard: this node computes output channels
     * [shard*C, (shard+1)*C) of the layer `name` (C its own out channels);
     * shards 0 means the whole layer. */
    int shard, shards;

    /* Hyperparameters, by kind. */
    cnn_conv2d_params conv;
    int64_t out_channels, kernel_h, kernel_w, out_features;
    int has_bias;
    cnn_init init;
    cnn_batchnorm2d_params bn;
    cnn_pool2d_params pool;
    cnn_lrn_params lrn;
    float drop;

    /* After setup. */
    int ndim;
    int64_t dims[4];      /* output shape, batch first */
    int consumers;        /* how many nodes read this one's output */
    cnn_tensor *out;      /* activation */
    cnn_tensor *grad;     /* d loss / d out */
    cnn_tensor *scratch;  /* a second gradient buffer when consumers > 1 */
    bool grad_written;    /* grad holds this backward's first contribution */
    cnn_tensor **staged;  /* per input: a copy on this node's device, or NULL */
    cnn_tensor **staged_grad;
    cnn_tensor *weight, *bias, *dweight, *dbias;
    cnn_tensor *running_mean, *running_var, *save_mean, *save_invstd;
} node;

struct cnn_net {
    cnn_device device;
    node *nodes;
    int count, capacity;
    cnn_node input;     /* -1 until cnn_net_input */
    int64_t batch;      /* 0 until setup */
    uint64_t seed;      /* from cnn_net_init: dropout masks */

    /* Parameters and their gradients, in torchvision's order. */
    int param_count;
    const char **param_names; /* owned */
    cnn_tensor **params, **grads;
    cnn_node *param_nodes; /* the node that owns parameter i */
    int buffer_count;
    const char **buffer_names; /* owned */
    cnn_tensor **buffers;

    int last_training;  /* the mode of the last forward */
    uint64_t last_step; /* and its step (dropout masks) */
    cnn_tensor *loss;   /* [1] on the output's device */
    cnn_tensor *labels; /* labels copied to the output's device, when the
                         * caller's live elsewhere (made on first need) */
    bool has_loss_grad; /* cnn_net_loss filled the output's gradient */
};

/* The momentum buffer of parameter i (src/sgd_optimizer.c), or NULL. */
cnn_tensor *cnn_sgd_momentum(const cnn_sgd *opt, int i);

/* src/net_shards.c: layers split over several nodes (cnn_net_set_shard).
 * check: every shard of every split layer is there once, with equal
 * shapes. full_dims: the whole layer's dims of parameter tensor `t` of
 * node n. gather/scatter: the whole tensor from/to the shards of parameter
 * i (every parameter with i's name), through a host buffer `full` of
 * full_numel floats; `pick` chooses which tensor of parameter k (the
 * value, or its momentum buffer). */
cnn_status cnn_net_shards_check(const char *caller, const cnn_net *net);
void cnn_net_full_dims(const node *n, const cnn_tensor *t, int64_t *dims);
typedef cnn_tensor *(*cnn_param_pick)(const cnn_net *net, int k,
                                      const void *ctx);
cnn_status cnn_net_gather(const cnn_net *net, int i, cnn_param_pick pick,
                          const void *ctx, float *full);
cnn_status cnn_net_scatter(const cnn_net *net, int i, cnn_param_pick pick,
                           const void *ctx, const float *full);
/* The node of parameter i, its shard and its count of shards (1: whole). */
static inline const node *cnn_net_param_node(const cnn_net *net, int i)
{
    return &net->nodes[net->param_nodes[i]];
}
static inline int cnn_net_param_shards(const cnn_net *net, int i)
{
    int shards = cnn_net_param_node(net, i)->shards;
    return shards > 1 ? shards : 1;
}

/* What a kind of layer does, one entry per line of src/net_layers.def
 * (cnn_layer_kinds[n->kind]); src/net_layers.c holds the functions. */
#define CNN_LAYER_VARIADIC (-1) /* inputs: 1 to CNN_NET_MAX_CONCAT_INPUTS */
typedef struct layer_kind {
    const char *name;  /* in errors: "conv2d" */
    const char *label; /* the summary's layer column: "conv" */
    int inputs;        /* how many it reads, or CNN_LAYER_VARIADIC */
    /* Sets n->ndim and n->dims from the inputs' (already inferred). On an
     * error returns its status and writes why into `why` (or leaves it
     * empty when cnn_last_error() says it). */
    cnn_status (*infer)(const cnn_net *net, node *n, char *why, size_t size);
    /* Before the net allocates the node's activation and gradient: makes
     * its parameters and buffers, or sets n->out to a view. */
    cnn_status (*allocate)(const cnn_net *net, node *n);
    /* Computes n->out from the inputs (cnn_net_input_value). */
    cnn_status (*forward)(cnn_net *net, cnn_node id, int training,
                          uint64_t step);
    /* From n->grad: adds into the parameter gradients and writes each
     * input's gradient into cnn_net_grad_target, then
     * cnn_net_grad_commit. */
    cnn_status (*backward)(cnn_net *net, cnn_node id);
    /* FLOPs of one image's forward pass (a multiply-add counts 2). */
    double (*flops)(const cnn_net *net, const node *n);
} layer_kind;

extern const layer_kind cnn_layer_kinds[NODE_KIND_COUNT];

static inline const layer_kind *cnn_layer_kind(const node *n)
{
    return &cnn_layer_kinds[n->kind];
}

/* src/net_run.c: the edges as a layer's forward and backward see them.
 * input_value: input i's activation on node n's device (staged there when
 * its producer lives elsewhere). grad_target: where n writes the gradient
 * of its input i (NULL when that input needs none: the net's input);
 * grad_commit: completes it once written (brings it to the input's device,
 * adds it to what other readers wrote). Take one input's target and commit
 * it before the next input's: an input read twice (a + a) gets both. */
const cnn_tensor *cnn_net_input_value(const cnn_net *net, const node *n,
                                      int i);
cnn_tensor *cnn_net_grad_target(cnn_net *net, const node *n, int i);
cnn_status cnn_net_grad_commit(cnn_net *net, const node *n, int i);

/* The node, or NULL with an error naming `caller` when id is not one. */
node *cnn_net_node(const char *caller, const cnn_net *net, cnn_node id);

#endif /* CNN_NET_INTERNAL_H */
