/* src/cpu/sgd.c - the SGD step on the CPU, torch.optim.SGD's arithmetic
 * (dampening 0) element by element:
 *   d = g + wd * w            (when wd != 0: PyTorch skips it at 0, which
 *                              matters for an infinite w)
 *   buf = momentum * buf + d  (when momentum != 0)
 *   d = nesterov ? d + momentum * buf : buf
 *   w = w - lr * d
 * Each element is independent, so the native engine splits the tensor over
 * the threads and the reference runs the same loop on one; both give the
 * same bits. */
#include <stdbool.h>

#include "cnn/optim.h"
#include "cpu.h"

typedef struct sgd_ctx {
    float *w;
    float *buf; /* NULL when momentum is 0 */
    const float *g;
    float lr, momentum, wd;
    bool nesterov;
} sgd_ctx;

static void sgd_range(int64_t begin, int64_t end, void *arg)
{
    const sgd_ctx *c = arg;
    float *restrict w = c->w, *restrict buf = c->buf;
    const float *restrict g = c->g;
    const float lr = c->lr, m = c->momentum, wd = c->wd;
    const bool nesterov = c->nesterov;
    /* The branches are loop-invariant; the compiler unswitches them, so
     * each variant is one vectorised loop. */
    for (int64_t i = begin; i < end; ++i) {
        float d = g[i];
        if (wd != 0.0f)
            d = d + wd * w[i];
        if (buf) {
            float b = m * buf[i] + d;
            buf[i] = b;
            d = nesterov ? d + m * b : b;
        }
        w[i] = w[i] - lr * d;
    }
}

static cnn_status sgd_step(const cnn_op_args *args)
{
    const cnn_sgd_params *p = args->params;
    sgd_ctx c = {
        .w = args->out[0]->data,
        .buf = args->out[1] ? args->out[1]->data : NULL,
        .g = args->in[0]->data,
        .lr = p->lr,
        .momentum = p->momentum,
        .wd = p->weight_decay,
        .nesterov = p->nesterov != 0,
    };
    int64_t n = args->out[0]->numel;
    if (args->engine == CNN_ENGINE_REFERENCE)
        sgd_range(0, n, &c);
    else
        cnn_cpu_parallel_for(args->device, n, 16, 1 << 14, sgd_range, &c);
    return CNN_OK;
}

void cnn_cpu_register_sgd(cnn_op_fn *ops)
{
    ops[CNN_OP_SGD_STEP] = sgd_step;
}
