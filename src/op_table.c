/* src/op_table.c - the name of every op, indexed by enum cnn_op. */
#include "core.h"

static const char *const op_names[] = {
    [CNN_OP_FILL] = "fill",
    [CNN_OP_UNIFORM] = "uniform",
    [CNN_OP_NORMAL] = "normal",
    [CNN_OP_ADD] = "add",
    [CNN_OP_SCALE] = "scale",
    [CNN_OP_RELU_FWD] = "relu_fwd",
    [CNN_OP_RELU_BWD] = "relu_bwd",
    [CNN_OP_CONV2D_FWD] = "conv2d_fwd",
    [CNN_OP_CONV2D_BWD_DATA] = "conv2d_bwd_data",
    [CNN_OP_CONV2D_BWD_FILTER] = "conv2d_bwd_filter",
    [CNN_OP_CONV2D_BWD_BIAS] = "conv2d_bwd_bias",
    [CNN_OP_POOL2D_FWD] = "pool2d_fwd",
    [CNN_OP_POOL2D_BWD] = "pool2d_bwd",
    [CNN_OP_GLOBAL_AVGPOOL_FWD] = "global_avgpool_fwd",
    [CNN_OP_GLOBAL_AVGPOOL_BWD] = "global_avgpool_bwd",
    [CNN_OP_BATCHNORM2D_FWD] = "batchnorm2d_fwd",
    [CNN_OP_BATCHNORM2D_BWD] = "batchnorm2d_bwd",
    [CNN_OP_LRN_FWD] = "lrn_fwd",
    [CNN_OP_LRN_BWD] = "lrn_bwd",
    [CNN_OP_LINEAR_FWD] = "linear_fwd",
    [CNN_OP_LINEAR_BWD_DATA] = "linear_bwd_data",
    [CNN_OP_LINEAR_BWD_WEIGHT] = "linear_bwd_weight",
    [CNN_OP_LINEAR_BWD_BIAS] = "linear_bwd_bias",
    [CNN_OP_DROPOUT_FWD] = "dropout_fwd",
    [CNN_OP_DROPOUT_BWD] = "dropout_bwd",
    [CNN_OP_SOFTMAX_XENT] = "softmax_xent",
    [CNN_OP_CONCAT] = "concat",
    [CNN_OP_SPLIT] = "split",
    [CNN_OP_SGD_STEP] = "sgd_step",
};
_Static_assert(sizeof op_names / sizeof op_names[0] == CNN_OP_COUNT,
               "every op needs a name");

int cnn_op_count(void) { return CNN_OP_COUNT; }

const char *cnn_op_name(cnn_op op)
{
    if ((unsigned)op >= CNN_OP_COUNT || !op_names[op])
        return "unknown";
    return op_names[op];
}
