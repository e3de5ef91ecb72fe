/* src/cpu/dropout.c - dropout forward and backward on the CPU.
 *
 * Both passes compute out = in * (keep ? 1 / (1 - p) : 0) with the mask of
 * src/philox.h, so the backward regenerates the forward's mask and the
 * product rounds exactly as PyTorch's input * noise does (a dropped NaN
 * stays NaN, a dropped -x gives -0). The scale is computed in float, as
 * PyTorch computes its noise tensor. The reference engine draws one block
 * per element; the native one draws each block once for its four lanes,
 * on every thread. Both give the same bits. */
#include <string.h>

#include "../philox.h"
#include "cnn/dense.h"
#include "cpu.h"

typedef struct dropout_ctx {
    float *out;
    const float *in;
    const cnn_dropout_params *p;
    float scale;
} dropout_ctx;

/* [begin, end) with begin a multiple of 4 (the split's alignment). */
static void dropout_range(int64_t begin, int64_t end, void *arg)
{
    const dropout_ctx *c = arg;
    const float p = c->p->p, scale = c->scale;
    for (int64_t i = begin; i < end; i += 4) {
        cnn_philox_u32x4 r = cnn_philox_dropout_block(
            c->p->seed, c->p->step, c->p->node, (uint64_t)i >> 2);
        int64_t lanes = end - i < 4 ? end - i : 4;
        for (int64_t k = 0; k < lanes; ++k)
            c->out[i + k] =
                c->in[i + k] *
                (cnn_philox_dropout_keeps(r.v[k], p) ? scale : 0.0f);
    }
}

static void copy_range(int64_t begin, int64_t end, void *arg)
{
    const dropout_ctx *c = arg;
    memcpy(c->out + begin, c->in + begin,
           (size_t)(end - begin) * sizeof(float));
}

static cnn_status dropout(const cnn_op_args *args)
{
    const cnn_dropout_params *p = args->params;
    dropout_ctx c = {.out = args->out[0]->data, .in = args->in[0]->data,
                     .p = p, .scale = 1.0f / (1.0f - p->p)};
    int64_t n = args->out[0]->numel;
    if (args->engine == CNN_ENGINE_REFERENCE) {
        for (int64_t i = 0; i < n; ++i)
            c.out[i] = c.in[i] * (cnn_philox_dropout_keep(p->seed, p->step,
                                                           p->node,
                                                           (uint64_t)i, p->p)
                                      ? c.scale
                                      : 0.0f);
        return CNN_OK;
    }
    if (p->p == 0.0f) { /* every element kept, scaled by exactly 1 */
        if (c.out != c.in)
            cnn_cpu_parallel_for(args->device, n, 16, 1 << 16, copy_range,
                                 &c);
        return CNN_OK;
    }
    /* A block costs about as much as 20 floats of a copy: split at 4k. */
    cnn_cpu_parallel_for(args->device, n, 16, 1 << 12, dropout_range, &c);
    return CNN_OK;
}

void cnn_cpu_register_dropout(cnn_op_fn *ops)
{
    ops[CNN_OP_DROPOUT_FWD] = dropout;
    ops[CNN_OP_DROPOUT_BWD] = dropout;
}
