/* src/op_params.h - the hyperparameter struct of each op that has one,
 * passed to backends through cnn_op_args.params. The core fills them after
 * validating the public call's arguments.
 *
 * Ops whose hyperparameters are public structs get those directly:
 *   CONV2D_*              const cnn_conv2d_params *     (cnn/conv.h)
 *   POOL2D_*              const cnn_pool2d_params *     (cnn/pool.h)
 *   BATCHNORM2D_*         const cnn_batchnorm2d_params * (cnn/norm.h)
 *   LRN_*                 const cnn_lrn_params *        (cnn/norm.h)
 *   DROPOUT_*             const cnn_dropout_params *    (cnn/dense.h)
 *   SGD_STEP              const cnn_sgd_params *        (cnn/optim.h)
 * and the others get the structs below (or none). The in[] and out[] order
 * of each op is documented where the core dispatches it. */
#ifndef CNN_OP_PARAMS_H
#define CNN_OP_PARAMS_H

#include <stdint.h>

/* CNN_OP_FILL: every element set to the bit pattern in the low
 * cnn_dtype_size(dtype) bytes of `pattern` (the core converts the caller's
 * value to the tensor's dtype, so backends only replicate bytes). */
typedef struct cnn_fill_params {
    uint64_t pattern;
} cnn_fill_params;

/* CNN_OP_UNIFORM and CNN_OP_NORMAL: see src/philox.h for the streams.
 * uniform: a + (b - a) * u with u in [0, 1); normal: a + b * z. */
typedef struct cnn_random_params {
    uint64_t seed;
    float a;
    float b;
} cnn_random_params;

/* CNN_OP_SCALE: out = alpha * x. */
typedef struct cnn_scale_params {
    float alpha;
} cnn_scale_params;

/* CNN_OP_CONCAT and CNN_OP_SPLIT: the many side of the op (inputs of a
 * concat, outputs of a split), all checked by the core. */
typedef struct cnn_concat_params {
    struct cnn_tensor *const *parts;
    int count;
} cnn_concat_params;

#endif /* CNN_OP_PARAMS_H */
