/* tests/backend_ops.h - the table of the cross-backend test
 * (test_backend_ops.c): one case is one op call with its tensors, their
 * roles and initial contents, its hyperparameters and its tolerance. The
 * cases live in backend_ops_cases.c; the runner gives every case the same
 * inputs on the CPU (the reference) and on each GPU engine and compares
 * what the op wrote. */
#ifndef CNN_TESTS_BACKEND_OPS_H
#define CNN_TESTS_BACKEND_OPS_H

#include <cnn/cnn.h>

#define BO_MAX_TENSORS 8

typedef enum bo_role {
    BO_IN,    /* read by the op */
    BO_OUT,   /* written in full by the op: starts as a NaN pattern */
    BO_INOUT  /* starts with values, then updated (accumulated gradients,
                 running statistics, parameters): compared afterwards */
} bo_role;

typedef enum bo_init {
    BO_INIT_NONE,     /* outputs */
    BO_INIT_VALUES,   /* [-1, 1), away from 0 (cnn_test_values) */
    BO_INIT_DISTINCT, /* distinct values in (-1, 1): no ties in a max */
    BO_INIT_POSITIVE, /* [0.5, 1.5): variances, inverse deviations */
    BO_INIT_LARGE,    /* [-60, 60): logits whose exp would overflow */
    BO_INIT_LABELS,   /* I32 in [0, classes) */
    BO_INIT_BYTES,    /* random bytes, for any dtype */
    BO_INIT_DERIVED   /* written by the case's prepare(), on the CPU */
} bo_init;

typedef struct bo_tensor {
    const char *name;
    bo_role role;
    bo_init init;
    cnn_dtype dtype;
    int ndim;
    int64_t dims[4];
} bo_tensor;

typedef struct bo_case bo_case;
/* Runs the op on tensors t[0 .. count) of one device. */
typedef cnn_status (*bo_run_fn)(const bo_case *c, cnn_tensor *const *t);

struct bo_case {
    cnn_op op;
    char what[112]; /* the shape and hyperparameters, for messages */
    int count;
    bo_tensor t[BO_MAX_TENSORS];
    union {
        cnn_conv2d_params conv;
        cnn_pool2d_params pool;
        cnn_batchnorm2d_params bn;
        cnn_lrn_params lrn;
        cnn_dropout_params dropout;
        cnn_sgd_params sgd;
        struct {
            double value;
            uint64_t seed;
            float a, b;
        } init;
        float alpha;
    } p;
    int64_t classes;   /* BO_INIT_LABELS */
    int64_t reduction; /* terms summed into one output: scales tolerance */
    int exact;         /* outputs must match bit for bit */
    bo_run_fn run;
    bo_run_fn prepare; /* NULL, or fills BO_INIT_DERIVED inputs (on CPU) */
};

/* Every case, built on the first call; *count receives how many. */
const bo_case *bo_cases(int *count);

#endif /* CNN_TESTS_BACKEND_OPS_H */
