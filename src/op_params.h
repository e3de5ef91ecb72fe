/* src/op_params.h - the hyperparameter struct of each op that has one,
 * passed to backends through cnn_op_args.params. Private to the library;
 * the core fills these after validating the public call's arguments. */
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

#endif /* CNN_OP_PARAMS_H */
