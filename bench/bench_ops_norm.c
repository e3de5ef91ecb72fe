/* bench/bench_ops_norm.c - pooling, batch norm, LRN and global average
 * pooling in `cnn bench ops`. */
#include <stdio.h>

#include "bench_op.h"

/* x [n, c, h, w] of the case, into op->dims; false on a missing key. */
static bool image(bench_op *op, const bench_case *c, int64_t n)
{
    bench_dims *d = &op->dims;
    if (!bench_need(c, "c", &d->c) || !bench_need(c, "h", &d->h) ||
        !bench_need(c, "w", &d->w))
        return false;
    d->n = n;
    d->numel = n * d->c * d->h * d->w;
    return true;
}

/* Slots of the kinds whose backward takes dy, x and y. */
enum { X, Y, DY, DX };

/* x, y [y_dims], dy [y_dims], dx; fwd x -> y; bwd (dy, x, y) -> dx, or
 * dy -> dx when the backward needs neither x nor y (the -1 ends the list). */
static void xy_tensors(bench_op *op, const int64_t *y_dims, bool bwd_reads_xy)
{
    const bench_dims *d = &op->dims;
    const int64_t x_dims[4] = {d->n, d->c, d->h, d->w};
    bench_tensor(op, 4, x_dims, -1.0f, 1.0f, 1);
    bench_zeros(op, CNN_F32, 4, y_dims);
    bench_tensor(op, 4, y_dims, -1.0f, 1.0f, 4);
    bench_zeros(op, CNN_F32, 4, x_dims);
    const int fwd_reads[] = {X, -1}, fwd_writes[] = {Y, -1};
    const int bwd_reads[] = {DY, bwd_reads_xy ? X : -1, Y, -1};
    const int bwd_writes[] = {DX, -1};
    bench_pass_set(op, BENCH_FWD, "fwd", fwd_reads, fwd_writes, NULL);
    bench_pass_set(op, BENCH_BWD, "bwd", bwd_reads, bwd_writes, NULL);
}

static bool lrn_setup(bench_op *op, const bench_case *c, int64_t n)
{
    double alpha = 1e-4, beta = 0.75, k = 1.0;
    int64_t groups = 1;
    if (!image(op, c, n) || !bench_need(c, "size", &op->dims.size) ||
        !bench_optional_double(c, "alpha", &alpha) ||
        !bench_optional_double(c, "beta", &beta) ||
        !bench_optional_double(c, "k", &k) ||
        !bench_optional(c, "groups", &groups))
        return false;
    op->params.lrn = (cnn_lrn_params){.size = op->dims.size,
                                      .alpha = (float)alpha,
                                      .beta = (float)beta, .k = (float)k,
                                      .groups = groups};
    const int64_t y[4] = {n, op->dims.c, op->dims.h, op->dims.w};
    xy_tensors(op, y, true);
    return true;
}

static cnn_status lrn_run(bench_op *op, int pass)
{
    cnn_tensor **t = op->t;
    if (pass == BENCH_FWD)
        return cnn_lrn_forward(t[Y], t[X], &op->params.lrn);
    return cnn_lrn_backward(t[DX], t[DY], t[X], t[Y], &op->params.lrn);
}

const bench_kind bench_lrn = {"lrn", lrn_setup, lrn_run};

static bool pool_setup(bench_op *op, const bench_case *c, int64_t n,
                       cnn_pool_mode mode)
{
    bench_dims *d = &op->dims;
    int64_t kernel, stride, pad = 0;
    if (!image(op, c, n) || !bench_need(c, "kernel", &kernel) ||
        !bench_need(c, "stride", &stride) || !bench_optional(c, "pad", &pad))
        return false;
    d->r = d->s = kernel;
    d->p = (d->h + 2 * pad - kernel) / stride + 1;
    d->q = (d->w + 2 * pad - kernel) / stride + 1;
    if (pad < 0 || 2 * pad > kernel || d->p < 1 || d->q < 1) {
        fprintf(stderr, "shapes line %d (%s): the pooling does not fit\n",
                c->line, c->name);
        return false;
    }
    op->params.pool = (cnn_pool2d_params){
        .mode = mode, .kernel_h = kernel, .kernel_w = kernel,
        .stride_h = stride, .stride_w = stride, .pad_h = pad, .pad_w = pad};
    const int64_t y[4] = {n, d->c, d->p, d->q};
    xy_tensors(op, y, mode == CNN_POOL_MAX);
    return true;
}

static bool maxpool_setup(bench_op *op, const bench_case *c, int64_t n)
{
    return pool_setup(op, c, n, CNN_POOL_MAX);
}

static bool avgpool_setup(bench_op *op, const bench_case *c, int64_t n)
{
    return pool_setup(op, c, n, CNN_POOL_AVG);
}

static cnn_status pool_run(bench_op *op, int pass)
{
    cnn_tensor **t = op->t;
    bool max = op->params.pool.mode == CNN_POOL_MAX;
    if (pass == BENCH_FWD)
        return cnn_pool2d_forward(t[Y], t[X], &op->params.pool);
    return cnn_pool2d_backward(t[DX], t[DY], max ? t[X] : NULL,
                               max ? t[Y] : NULL, &op->params.pool);
}

const bench_kind bench_maxpool = {"maxpool", maxpool_setup, pool_run};
const bench_kind bench_avgpool = {"avgpool", avgpool_setup, pool_run};

static bool gap_setup(bench_op *op, const bench_case *c, int64_t n)
{
    if (!image(op, c, n))
        return false;
    const int64_t y[4] = {n, op->dims.c, 1, 1};
    xy_tensors(op, y, false);
    return true;
}

static cnn_status gap_run(bench_op *op, int pass)
{
    cnn_tensor **t = op->t;
    if (pass == BENCH_FWD)
        return cnn_global_avgpool_forward(t[Y], t[X]);
    return cnn_global_avgpool_backward(t[DX], t[DY]);
}

const bench_kind bench_global_avgpool = {"global_avgpool", gap_setup,
                                         gap_run};

/* Batch norm in training mode, PyTorch's defaults (momentum 0.1, eps
 * 1e-5). Slots: */
enum { BX, GAMMA, BETA, RMEAN, RVAR, SMEAN, SINV, BY, BDY, BDX, DGAMMA,
       DBETA };

static bool bn_setup(bench_op *op, const bench_case *c, int64_t n)
{
    if (!image(op, c, n))
        return false;
    const bench_dims *d = &op->dims;
    const int64_t x[4] = {n, d->c, d->h, d->w}, ch[1] = {d->c};
    bench_tensor(op, 4, x, -1.0f, 1.0f, 1);
    bench_tensor(op, 1, ch, 0.5f, 1.5f, 5);
    bench_tensor(op, 1, ch, -0.5f, 0.5f, 6);
    bench_zeros(op, CNN_F32, 1, ch);
    int rvar = bench_zeros(op, CNN_F32, 1, ch);
    if (rvar >= 0)
        op->status = cnn_tensor_fill(op->t[rvar], 1.0);
    bench_zeros(op, CNN_F32, 1, ch);
    bench_zeros(op, CNN_F32, 1, ch);
    bench_zeros(op, CNN_F32, 4, x);
    bench_tensor(op, 4, x, -1.0f, 1.0f, 4);
    bench_zeros(op, CNN_F32, 4, x);
    bench_zeros(op, CNN_F32, 1, ch);
    bench_zeros(op, CNN_F32, 1, ch);
    op->params.bn = (cnn_batchnorm2d_params){.training = 1, .momentum = 0.1f,
                                             .eps = 1e-5f};
    const int fwd_reads[] = {BX, GAMMA, BETA, RMEAN, RVAR, -1};
    const int fwd_writes[] = {BY, SMEAN, SINV, RMEAN, RVAR, -1};
    const int bwd_reads[] = {BDY, BX, GAMMA, SMEAN, SINV, -1};
    const int bwd_writes[] = {BDX, DGAMMA, DBETA, -1};
    const int bwd_adds[] = {DGAMMA, DBETA, -1};
    bench_pass_set(op, BENCH_FWD, "fwd", fwd_reads, fwd_writes, NULL);
    bench_pass_set(op, BENCH_BWD, "bwd", bwd_reads, bwd_writes, bwd_adds);
    return true;
}

static cnn_status bn_run(bench_op *op, int pass)
{
    cnn_tensor **t = op->t;
    if (pass == BENCH_FWD)
        return cnn_batchnorm2d_forward(t[BY], t[BX], t[GAMMA], t[BETA],
                                       t[RMEAN], t[RVAR], t[SMEAN], t[SINV],
                                       &op->params.bn);
    return cnn_batchnorm2d_backward(t[BDX], t[DGAMMA], t[DBETA], t[BDY], t[BX],
                                    t[GAMMA], t[SMEAN], t[SINV],
                                    &op->params.bn);
}

const bench_kind bench_batchnorm = {"batchnorm", bn_setup, bn_run};
