/* bench/bench_flops.c - the FLOP count of every op of `cnn bench ops`, in
 * one table, so the C harness and the comparison with PyTorch (which
 * reuses cnn's counts) rate both sides by the same formulas. A multiply
 * and an add count two, exp and pow one each; memory-bound ops count the
 * arithmetic they do, and their tables also give GB/s. */
#include <stdio.h>
#include <string.h>

#include "bench_op.h"

typedef double (*flop_fn)(const bench_dims *d, int pass);

static double conv(const bench_dims *d, int pass)
{
    double macs = (double)d->n * d->k * d->p * d->q * (d->c / d->groups) *
                  d->r * d->s;
    double bias = d->bias ? (double)d->n * d->k * d->p * d->q : 0.0;
    return (pass == BENCH_FWD ? 2.0 : 4.0) * macs + bias;
}

static double linear(const bench_dims *d, int pass)
{
    double macs = (double)d->n * d->c * d->k;
    double bias = d->bias ? (double)d->n * d->k : 0.0;
    return (pass == BENCH_FWD ? 2.0 : 4.0) * macs + bias;
}

static double per_element(const bench_dims *d, int pass)
{
    (void)pass;
    return (double)d->numel;
}

static double lrn(const bench_dims *d, int pass)
{
    return (double)d->numel * (2.0 * d->size + (pass == BENCH_FWD ? 4 : 6));
}

static double maxpool(const bench_dims *d, int pass)
{
    double out = (double)d->n * d->c * d->p * d->q;
    return pass == BENCH_FWD ? out * d->r * d->s : out;
}

static double avgpool(const bench_dims *d, int pass)
{
    double out = (double)d->n * d->c * d->p * d->q;
    return out * d->r * d->s + (pass == BENCH_FWD ? out : 0.0);
}

static double batchnorm(const bench_dims *d, int pass)
{
    return (double)d->numel * (pass == BENCH_FWD ? 7.0 : 9.0);
}

static double xent(const bench_dims *d, int pass)
{
    return (double)d->numel * (pass == BENCH_FWD ? 4.0 : 6.0);
}

static double none(const bench_dims *d, int pass)
{
    (void)d;
    (void)pass;
    return 0.0;
}

static double sgd(const bench_dims *d, int pass)
{
    (void)pass;
    return 2.0 * d->sgd_terms * (double)d->numel;
}

static const struct {
    const char *op;
    flop_fn fn;
    const char *fwd, *bwd;
} table[] = {
    {"conv2d", conv, "2 N K P Q (C/groups) R S, + N K P Q with bias",
     "twice the forward's (data and filter), + N K P Q with bias"},
    {"linear", linear, "2 N in out + N out", "4 N in out + N out"},
    {"relu", per_element, "numel", "numel"},
    {"add", per_element, "numel", "-"},
    {"lrn", lrn, "numel (2 size + 4)", "numel (2 size + 6)"},
    {"maxpool", maxpool, "N C P Q R S", "N C P Q"},
    {"avgpool", avgpool, "N C P Q (R S + 1)", "N C P Q R S"},
    {"batchnorm", batchnorm, "7 numel (statistics, normalise, scale)",
     "9 numel"},
    {"global_avgpool", per_element, "numel", "numel"},
    {"dropout", per_element, "numel", "numel"},
    {"softmax_xent", xent, "4 N C (max, subtract, exp, sum)",
     "6 N C (the loss again, and the gradient)"},
    {"concat", none, "0 (a copy: see GB/s)", "0 (split)"},
    {"sgd", sgd, "2 numel per term (update, weight decay, momentum, Nesterov)",
     "-"},
};

double bench_flops(const char *kind, const bench_dims *dims, int pass)
{
    for (size_t i = 0; i < sizeof table / sizeof table[0]; ++i)
        if (strcmp(table[i].op, kind) == 0)
            return table[i].fn(dims, pass);
    return 0.0;
}

void bench_flops_print(void)
{
    printf("%-15s %-48s %s\n", "op", "forward FLOP", "backward FLOP");
    for (size_t i = 0; i < sizeof table / sizeof table[0]; ++i)
        printf("%-15s %-48s %s\n", table[i].op, table[i].fwd, table[i].bwd);
}
