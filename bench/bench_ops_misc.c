/* bench/bench_ops_misc.c - ReLU, add, dropout, softmax cross-entropy,
 * concat (split as its backward) and the SGD step in `cnn bench ops`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_op.h"

/* [n, c] or [n, c, h, w] from the case, into dims; returns the rank. */
static int activation(bench_op *op, const bench_case *c, int64_t n,
                      int64_t *dims)
{
    bench_dims *d = &op->dims;
    if (!bench_need(c, "c", &d->c))
        return 0;
    d->n = n;
    d->h = d->w = 1;
    bool image = bench_case_text(c, "h") != NULL;
    if (image && (!bench_need(c, "h", &d->h) || !bench_need(c, "w", &d->w)))
        return 0;
    dims[0] = n;
    dims[1] = d->c;
    dims[2] = d->h;
    dims[3] = d->w;
    d->numel = n * d->c * d->h * d->w;
    return image ? 4 : 2;
}

enum { X, Y, DY, DX };

/* x, y, dy, dx of one shape; fwd x -> y, bwd (dy, bwd_also) -> dx. */
static bool unary_setup(bench_op *op, const bench_case *c, int64_t n,
                        int bwd_also)
{
    int64_t dims[4];
    int ndim = activation(op, c, n, dims);
    if (!ndim)
        return false;
    bench_tensor(op, ndim, dims, -1.0f, 1.0f, 1);
    bench_zeros(op, CNN_F32, ndim, dims);
    bench_tensor(op, ndim, dims, -1.0f, 1.0f, 4);
    bench_zeros(op, CNN_F32, ndim, dims);
    const int fwd_reads[] = {X, -1}, fwd_writes[] = {Y, -1};
    const int bwd_reads[] = {DY, bwd_also, -1}, bwd_writes[] = {DX, -1};
    bench_pass_set(op, BENCH_FWD, "fwd", fwd_reads, fwd_writes, NULL);
    bench_pass_set(op, BENCH_BWD, "bwd", bwd_reads, bwd_writes, NULL);
    return true;
}

static bool relu_setup(bench_op *op, const bench_case *c, int64_t n)
{
    return unary_setup(op, c, n, Y); /* the backward reads y */
}

static cnn_status relu_run(bench_op *op, int pass)
{
    cnn_tensor **t = op->t;
    return pass == BENCH_FWD ? cnn_relu_forward(t[Y], t[X])
                             : cnn_relu_backward(t[DX], t[DY], t[Y]);
}

const bench_kind bench_relu = {"relu", relu_setup, relu_run};

static bool dropout_setup(bench_op *op, const bench_case *c, int64_t n)
{
    double p = 0.5;
    if (!bench_optional_double(c, "p", &p) || !unary_setup(op, c, n, -1))
        return false;
    op->params.dropout = (cnn_dropout_params){.p = (float)p, .seed = 1234,
                                              .step = 1, .node = 0};
    return true;
}

static cnn_status dropout_run(bench_op *op, int pass)
{
    cnn_tensor **t = op->t;
    return pass == BENCH_FWD
               ? cnn_dropout_forward(t[Y], t[X], &op->params.dropout)
               : cnn_dropout_backward(t[DX], t[DY], &op->params.dropout);
}

const bench_kind bench_dropout = {"dropout", dropout_setup, dropout_run};

static bool add_setup(bench_op *op, const bench_case *c, int64_t n)
{
    int64_t dims[4];
    int ndim = activation(op, c, n, dims);
    if (!ndim)
        return false;
    bench_tensor(op, ndim, dims, -1.0f, 1.0f, 1);
    bench_tensor(op, ndim, dims, -1.0f, 1.0f, 2);
    bench_zeros(op, CNN_F32, ndim, dims);
    const int reads[] = {0, 1, -1}, writes[] = {2, -1};
    bench_pass_set(op, BENCH_FWD, "fwd", reads, writes, NULL);
    return true;
}

static cnn_status add_run(bench_op *op, int pass)
{
    (void)pass;
    return cnn_add(op->t[2], op->t[0], op->t[1]);
}

const bench_kind bench_add = {"add", add_setup, add_run};

enum { LOGITS, LABELS, LOSS, DLOGITS };

static bool xent_setup(bench_op *op, const bench_case *c, int64_t n)
{
    bench_dims *d = &op->dims;
    if (!bench_need(c, "classes", &d->c))
        return false;
    d->n = n;
    d->numel = n * d->c;
    const int64_t dims[2] = {n, d->c}, one[1] = {1};
    bench_tensor(op, 2, dims, -4.0f, 4.0f, 1);
    int labels = bench_zeros(op, CNN_I32, 1, dims);
    bench_zeros(op, CNN_F32, 1, one);
    bench_zeros(op, CNN_F32, 2, dims);
    if (labels >= 0) {
        int32_t *v = malloc((size_t)n * sizeof *v);
        if (!v) {
            op->status = CNN_ERR_OUT_OF_MEMORY;
            return true;
        }
        for (int64_t i = 0; i < n; ++i)
            v[i] = (int32_t)((i * 7919) % d->c);
        op->status = cnn_tensor_write(op->t[labels], v, (size_t)n * sizeof *v);
        free(v);
    }
    const int reads[] = {LOGITS, LABELS, -1};
    const int fwd_writes[] = {LOSS, -1}, bwd_writes[] = {LOSS, DLOGITS, -1};
    bench_pass_set(op, BENCH_FWD, "fwd", reads, fwd_writes, NULL);
    bench_pass_set(op, BENCH_BWD, "bwd", reads, bwd_writes, NULL);
    return true;
}

static cnn_status xent_run(bench_op *op, int pass)
{
    cnn_tensor **t = op->t;
    return cnn_softmax_cross_entropy(t[LOSS],
                                     pass == BENCH_FWD ? NULL : t[DLOGITS],
                                     t[LOGITS], t[LABELS]);
}

const bench_kind bench_softmax_xent = {"softmax_xent", xent_setup, xent_run};

/* Slots: the parts, the joined tensor, its gradient, the parts' grads. */
static bool concat_setup(bench_op *op, const bench_case *c, int64_t n)
{
    bench_dims *d = &op->dims;
    const char *list = bench_case_text(c, "parts");
    if (!list || !bench_need(c, "c", &d->c) || !bench_need(c, "h", &d->h) ||
        !bench_need(c, "w", &d->w)) {
        fprintf(stderr, "shapes line %d (%s): concat needs c, h, w, parts\n",
                c->line, c->name);
        return false;
    }
    int64_t channels[BENCH_MAX_PARTS], sum = 0;
    int parts = 0;
    for (const char *p = list; *p && parts < BENCH_MAX_PARTS;) {
        char *end;
        channels[parts] = strtoll(p, &end, 10);
        if (end == p || channels[parts] < 1 || (*end && *end != '+'))
            break;
        sum += channels[parts++];
        p = *end ? end + 1 : end;
    }
    if (parts < 1 || sum != d->c) {
        fprintf(stderr, "shapes line %d (%s): parts=%s must add up to c\n",
                c->line, c->name, list);
        return false;
    }
    d->n = n;
    d->numel = n * d->c * d->h * d->w;
    op->parts = parts;
    int reads[BENCH_MAX_PARTS + 1], writes[BENCH_MAX_PARTS + 1];
    for (int i = 0; i < parts; ++i) {
        const int64_t dims[4] = {n, channels[i], d->h, d->w};
        reads[i] = bench_tensor(op, 4, dims, -1.0f, 1.0f, 10u + (unsigned)i);
    }
    const int64_t whole[4] = {n, d->c, d->h, d->w};
    int joined = bench_zeros(op, CNN_F32, 4, whole);
    int grad = bench_tensor(op, 4, whole, -1.0f, 1.0f, 4);
    for (int i = 0; i < parts; ++i) {
        const int64_t dims[4] = {n, channels[i], d->h, d->w};
        writes[i] = bench_zeros(op, CNN_F32, 4, dims);
    }
    if (op->status != CNN_OK)
        return true;
    reads[parts] = writes[parts] = -1;
    const int fwd_writes[] = {joined, -1}, bwd_reads[] = {grad, -1};
    bench_pass_set(op, BENCH_FWD, "fwd", reads, fwd_writes, NULL);
    bench_pass_set(op, BENCH_BWD, "bwd", bwd_reads, writes, NULL);
    return true;
}

static cnn_status concat_run(bench_op *op, int pass)
{
    int parts = op->parts;
    cnn_tensor **t = op->t;
    if (pass == BENCH_FWD)
        return cnn_concat(t[parts], (const cnn_tensor *const *)t, parts);
    return cnn_split(t + parts + 2, parts, t[parts + 1]);
}

const bench_kind bench_concat = {"concat", concat_setup, concat_run};

static bool sgd_setup(bench_op *op, const bench_case *c, int64_t n)
{
    (void)n; /* parameters have no batch */
    const char *text = bench_case_text(c, "dims");
    int64_t dims[CNN_MAX_DIMS];
    int ndim = 0;
    for (const char *p = text; p && *p && ndim < CNN_MAX_DIMS;) {
        char *end;
        dims[ndim] = strtoll(p, &end, 10);
        if (end == p || dims[ndim] < 1 || (*end && *end != 'x')) {
            ndim = 0;
            break;
        }
        ++ndim;
        p = *end ? end + 1 : end;
    }
    double lr = 0.01, momentum = 0.9, wd = 5e-4;
    int64_t nesterov = 0;
    if (!ndim || !bench_optional_double(c, "lr", &lr) ||
        !bench_optional_double(c, "momentum", &momentum) ||
        !bench_optional_double(c, "wd", &wd) ||
        !bench_optional(c, "nesterov", &nesterov)) {
        fprintf(stderr, "shapes line %d (%s): sgd needs dims=AxBx...\n",
                c->line, c->name);
        return false;
    }
    bench_dims *d = &op->dims;
    d->numel = 1;
    for (int i = 0; i < ndim; ++i)
        d->numel *= dims[i];
    d->sgd_terms = 1 + (wd != 0.0) + (momentum != 0.0) + (nesterov != 0);
    op->params.sgd = (cnn_sgd_params){.lr = (float)lr,
                                      .momentum = (float)momentum,
                                      .weight_decay = (float)wd,
                                      .nesterov = nesterov != 0};
    bench_tensor(op, ndim, dims, -0.05f, 0.05f, 1);
    bench_tensor(op, ndim, dims, -0.01f, 0.01f, 2);
    bench_zeros(op, CNN_F32, ndim, dims);
    const int reads[] = {0, 1, 2, -1}, writes[] = {0, 2, -1};
    bench_pass_set(op, BENCH_FWD, "step", reads, writes, NULL);
    return true;
}

static cnn_status sgd_run(bench_op *op, int pass)
{
    (void)pass;
    return cnn_sgd_step(op->t[0], op->t[1], op->t[2], &op->params.sgd);
}

const bench_kind bench_sgd = {"sgd", sgd_setup, sgd_run};
