/* bench/bench_op.h - one op of `cnn bench ops` set up at a case's shape:
 * its tensors, its forward and backward calls, which tensors each pass
 * reads and writes (for validation and bytes moved), and its FLOP count.
 * Each op kind lives in bench_ops_<family>.c; bench_kinds.c lists them. */
#ifndef CNN_BENCH_OP_H
#define CNN_BENCH_OP_H

#include <stdbool.h>
#include <stdint.h>

#include <cnn/cnn.h>

#include "bench_case.h"

#define BENCH_MAX_TENSORS 16
#define BENCH_MAX_PARTS 6

enum { BENCH_FWD = 0, BENCH_BWD = 1, BENCH_PASSES = 2 };

typedef struct bench_pass {
    bool present;
    const char *name;  /* "fwd", "bwd" or "step" */
    int reads[BENCH_MAX_TENSORS], nreads;    /* tensor indices */
    int writes[BENCH_MAX_TENSORS], nwrites;
    /* Outputs that the call adds into (dw, db): zeroed before validation. */
    int accumulates[BENCH_MAX_TENSORS], naccumulates;
    double flop;  /* from the table in bench_flops.c */
    double bytes; /* the tensors it reads and writes, once each */
} bench_pass;

/* The sizes the FLOP formulas use; each kind fills those it has. Images
 * are [n, c, h, w] in and [n, k, p, q] out; r x s is a kernel. */
typedef struct bench_dims {
    int64_t n, c, h, w, k, p, q, r, s, groups;
    int64_t numel;   /* elements of the op's main tensor */
    int64_t size;    /* LRN window */
    bool bias;
    int sgd_terms;   /* SGD: 1 + (weight decay) + (momentum) + (nesterov) */
} bench_dims;

typedef struct bench_op bench_op;

typedef struct bench_kind {
    const char *name; /* the op column of the shapes file */
    /* Checks the case's keys, creates and initialises the tensors on
     * op->device (seeded, so two setups are identical) with batch `n`,
     * fills in op->dims and the passes. false, with a message on stderr,
     * on bad keys; a library failure is left in op->status. */
    bool (*setup)(bench_op *op, const bench_case *c, int64_t n);
    cnn_status (*run)(bench_op *op, int pass);
} bench_kind;

struct bench_op {
    const bench_kind *kind;
    cnn_device device;
    bench_pass pass[BENCH_PASSES];
    cnn_tensor *t[BENCH_MAX_TENSORS];
    int ntensors;
    cnn_status status; /* of the setup's library calls */
    bench_dims dims;
    /* Hyperparameters and sizes the run functions need. */
    union {
        cnn_conv2d_params conv;
        cnn_pool2d_params pool;
        cnn_batchnorm2d_params bn;
        cnn_lrn_params lrn;
        cnn_dropout_params dropout;
        cnn_sgd_params sgd;
    } params;
    int parts;
    cnn_tensor *part[BENCH_MAX_PARTS];
};

/* The kind called `name`; NULL when there is none. */
const bench_kind *bench_kind_find(const char *name);

/* Sets up `kind` for case c with batch n (the case's own when n < 1). */
bool bench_op_setup(bench_op *op, const bench_kind *kind, const bench_case *c,
                    int64_t n, cnn_device dev);
void bench_op_free(bench_op *op);

/* For the kinds' setup functions: a new tensor (index returned, -1 after a
 * failure, recorded in op->status), uniform in [low, high) from `seed`. */
int bench_tensor(bench_op *op, int ndim, const int64_t *dims, float low,
                 float high, uint64_t seed);
/* A tensor of zeros, of any dtype. */
int bench_zeros(bench_op *op, cnn_dtype dtype, int ndim, const int64_t *dims);
/* Declares pass p: its name and tensor lists (each ended by -1). */
void bench_pass_set(bench_op *op, int p, const char *name, const int *reads,
                    const int *writes, const int *accumulates);

/* The FLOP count of pass p of op kind `kind` at `dims` (bench_flops.c). */
double bench_flops(const char *kind, const bench_dims *dims, int pass);
/* Prints the FLOP table (for --list). */
void bench_flops_print(void);

/* A key the kind needs, >= 1; false (and a message) when it is absent. */
bool bench_need(const bench_case *c, const char *key, int64_t *out);
/* A key with a default: *inout keeps the default when the key is absent;
 * false (and a message) when it is malformed. */
bool bench_optional(const bench_case *c, const char *key, int64_t *inout);
bool bench_optional_double(const bench_case *c, const char *key,
                           double *inout);

#endif /* CNN_BENCH_OP_H */
