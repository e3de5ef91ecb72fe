/* bench/bench_ops_dense.c - convolution and the linear layer in
 * `cnn bench ops`. Weights are uniform in +-1/sqrt(fan in), as PyTorch
 * initialises them, so activations stay of order one. */
#include <math.h>
#include <stdio.h>

#include "bench_op.h"

/* Tensor slots of both kinds. */
enum { X, W, B, Y, DY, DX, DW, DB };

/* The common part: x, w, b, y, dy, dx, dw, db and the two passes. */
static void dense_tensors(bench_op *op, int ndim_x, const int64_t *x_dims,
                          int ndim_w, const int64_t *w_dims, int ndim_y,
                          const int64_t *y_dims, int64_t fan_in)
{
    float a = (float)(1.0 / sqrt((double)fan_in));
    int64_t k = w_dims[0];
    bench_tensor(op, ndim_x, x_dims, -1.0f, 1.0f, 1);
    bench_tensor(op, ndim_w, w_dims, -a, a, 2);
    bench_tensor(op, 1, &k, -a, a, 3);
    bench_zeros(op, CNN_F32, ndim_y, y_dims);
    bench_tensor(op, ndim_y, y_dims, -1.0f, 1.0f, 4);
    bench_zeros(op, CNN_F32, ndim_x, x_dims);
    bench_zeros(op, CNN_F32, ndim_w, w_dims);
    bench_zeros(op, CNN_F32, 1, &k);
    bool bias = op->dims.bias;
    const int fwd_reads[] = {X, W, bias ? B : -1, -1};
    const int fwd_writes[] = {Y, -1};
    const int bwd_reads[] = {DY, X, W, -1};
    const int bwd_writes[] = {DX, DW, bias ? DB : -1, -1};
    const int bwd_adds[] = {DW, bias ? DB : -1, -1};
    bench_pass_set(op, BENCH_FWD, "fwd", fwd_reads, fwd_writes, NULL);
    bench_pass_set(op, BENCH_BWD, "bwd", bwd_reads, bwd_writes, bwd_adds);
}

static bool conv_setup(bench_op *op, const bench_case *c, int64_t n)
{
    bench_dims *d = &op->dims;
    int64_t stride = 1, pad = 0, bias = 1;
    d->groups = 1;
    if (!bench_need(c, "c", &d->c) || !bench_need(c, "h", &d->h) ||
        !bench_need(c, "w", &d->w) || !bench_need(c, "k", &d->k) ||
        !bench_need(c, "r", &d->r) || !bench_need(c, "s", &d->s))
        return false;
    if (!bench_optional(c, "stride", &stride) ||
        !bench_optional(c, "pad", &pad) ||
        !bench_optional(c, "groups", &d->groups) ||
        !bench_optional(c, "bias", &bias))
        return false;
    d->n = n;
    d->bias = bias != 0;
    d->p = (d->h + 2 * pad - d->r) / stride + 1;
    d->q = (d->w + 2 * pad - d->s) / stride + 1;
    if (stride < 1 || pad < 0 || d->groups < 1 || d->c % d->groups ||
        d->k % d->groups || d->p < 1 || d->q < 1) {
        fprintf(stderr, "shapes line %d (%s): the convolution does not fit\n",
                c->line, c->name);
        return false;
    }
    op->params.conv = (cnn_conv2d_params){
        .stride_h = stride, .stride_w = stride, .pad_h = pad, .pad_w = pad,
        .dilation_h = 1, .dilation_w = 1, .groups = d->groups};
    const int64_t x[4] = {n, d->c, d->h, d->w};
    const int64_t w[4] = {d->k, d->c / d->groups, d->r, d->s};
    const int64_t y[4] = {n, d->k, d->p, d->q};
    dense_tensors(op, 4, x, 4, w, 4, y, d->c / d->groups * d->r * d->s);
    return true;
}

static cnn_status conv_run(bench_op *op, int pass)
{
    cnn_tensor **t = op->t;
    cnn_tensor *b = op->dims.bias ? t[B] : NULL;
    cnn_tensor *db = op->dims.bias ? t[DB] : NULL;
    if (pass == BENCH_FWD)
        return cnn_conv2d_forward(t[Y], t[X], t[W], b, &op->params.conv);
    return cnn_conv2d_backward(t[DX], t[DW], db, t[DY], t[X], t[W],
                               &op->params.conv);
}

const bench_kind bench_conv2d = {"conv2d", conv_setup, conv_run};

static bool linear_setup(bench_op *op, const bench_case *c, int64_t n)
{
    bench_dims *d = &op->dims;
    if (!bench_need(c, "in", &d->c) || !bench_need(c, "out", &d->k))
        return false;
    d->n = n;
    d->bias = true;
    const int64_t x[2] = {n, d->c}, w[2] = {d->k, d->c}, y[2] = {n, d->k};
    dense_tensors(op, 2, x, 2, w, 2, y, d->c);
    return true;
}

static cnn_status linear_run(bench_op *op, int pass)
{
    cnn_tensor **t = op->t;
    if (pass == BENCH_FWD)
        return cnn_linear_forward(t[Y], t[X], t[W], t[B]);
    return cnn_linear_backward(t[DX], t[DW], t[DB], t[DY], t[X], t[W]);
}

const bench_kind bench_linear = {"linear", linear_setup, linear_run};
