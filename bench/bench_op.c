/* bench/bench_op.c - what every op kind of `cnn bench ops` shares:
 * tensors, passes, setup and teardown, and the list of kinds. */
#include "bench_op.h"

#include <stdio.h>
#include <string.h>

extern const bench_kind bench_conv2d, bench_linear, bench_relu, bench_add,
    bench_lrn, bench_maxpool, bench_avgpool, bench_batchnorm,
    bench_global_avgpool, bench_dropout, bench_softmax_xent, bench_concat,
    bench_sgd;

static const bench_kind *const kinds[] = {
    &bench_conv2d, &bench_linear, &bench_relu, &bench_add, &bench_lrn,
    &bench_maxpool, &bench_avgpool, &bench_batchnorm, &bench_global_avgpool,
    &bench_dropout, &bench_softmax_xent, &bench_concat, &bench_sgd,
};

const bench_kind *bench_kind_find(const char *name)
{
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; ++i)
        if (strcmp(kinds[i]->name, name) == 0)
            return kinds[i];
    return NULL;
}

int bench_tensor(bench_op *op, int ndim, const int64_t *dims, float low,
                 float high, uint64_t seed)
{
    int i = bench_zeros(op, CNN_F32, ndim, dims);
    if (i >= 0 && (op->status = cnn_tensor_uniform(op->t[i], seed, low,
                                                   high)) != CNN_OK)
        return -1;
    return i;
}

int bench_zeros(bench_op *op, cnn_dtype dtype, int ndim, const int64_t *dims)
{
    if (op->status != CNN_OK || op->ntensors == BENCH_MAX_TENSORS)
        return -1;
    cnn_tensor *t = NULL;
    op->status = cnn_tensor_zeros(&t, op->device, dtype, ndim, dims);
    if (op->status != CNN_OK)
        return -1;
    op->t[op->ntensors] = t;
    return op->ntensors++;
}

void bench_pass_set(bench_op *op, int p, const char *name, const int *reads,
                    const int *writes, const int *accumulates)
{
    bench_pass *pass = &op->pass[p];
    pass->present = true;
    pass->name = name;
    for (; reads && *reads >= 0; ++reads)
        pass->reads[pass->nreads++] = *reads;
    for (; writes && *writes >= 0; ++writes)
        pass->writes[pass->nwrites++] = *writes;
    for (; accumulates && *accumulates >= 0; ++accumulates)
        pass->accumulates[pass->naccumulates++] = *accumulates;
}

bool bench_need(const bench_case *c, const char *key, int64_t *out)
{
    if (bench_case_int(c, key, out) && *out >= 1)
        return true;
    fprintf(stderr, "shapes line %d (%s): needs %s >= 1\n", c->line, c->name,
            key);
    return false;
}

bool bench_optional(const bench_case *c, const char *key, int64_t *inout)
{
    return !bench_case_text(c, key) || bench_case_int(c, key, inout);
}

bool bench_optional_double(const bench_case *c, const char *key,
                           double *inout)
{
    return !bench_case_text(c, key) || bench_case_double(c, key, inout);
}

static double tensor_bytes(const bench_op *op, int i)
{
    return i >= 0 && i < op->ntensors ? (double)cnn_tensor_bytes(op->t[i])
                                      : 0.0;
}

bool bench_op_setup(bench_op *op, const bench_kind *kind, const bench_case *c,
                    int64_t n, cnn_device dev)
{
    memset(op, 0, sizeof *op);
    op->kind = kind;
    op->device = dev;
    int64_t own;
    if (n < 1)
        n = bench_case_int(c, "n", &own) ? own : 1;
    if (!kind->setup(op, c, n))
        return false;
    for (int p = 0; p < BENCH_PASSES; ++p) {
        bench_pass *pass = &op->pass[p];
        if (!pass->present)
            continue;
        pass->flop = bench_flops(kind->name, &op->dims, p);
        for (int i = 0; i < pass->nreads; ++i)
            pass->bytes += tensor_bytes(op, pass->reads[i]);
        for (int i = 0; i < pass->nwrites; ++i)
            pass->bytes += tensor_bytes(op, pass->writes[i]);
    }
    return true;
}

void bench_op_free(bench_op *op)
{
    for (int i = 0; i < op->ntensors; ++i)
        cnn_tensor_free(op->t[i]);
    op->ntensors = 0;
}
