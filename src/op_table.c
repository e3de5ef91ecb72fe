/* src/op_table.c - the name of every op, indexed by enum cnn_op. */
#include "core.h"

static const char *const op_names[] = {
    [CNN_OP_FILL] = "fill",         [CNN_OP_UNIFORM] = "uniform",
    [CNN_OP_NORMAL] = "normal",     [CNN_OP_ADD] = "add",
    [CNN_OP_SCALE] = "scale",       [CNN_OP_RELU_FWD] = "relu_fwd",
    [CNN_OP_RELU_BWD] = "relu_bwd",
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
