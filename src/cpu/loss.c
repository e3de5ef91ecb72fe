/* src/cpu/loss.c - softmax cross-entropy on the CPU.
 *
 * Per row: m = max, s = sum exp(x - m) (the max subtracted so that no exp
 * overflows), loss = m + log s - x[label], gradient (exp(x - m) / s -
 * onehot) / N. Row losses are kept in double and summed in row order after
 * the parallel part, so the mean does not depend on the thread count. The
 * reference engine works in double throughout; the native one takes the
 * exponentials in float, summed in double. */
#include <math.h>

#include "cpu.h"

typedef struct xent_ctx {
    const float *logits;
    const int32_t *labels;
    float *dlogits; /* may be NULL, or logits itself */
    double *row_loss;
    int64_t classes;
    float inv_batch;
} xent_ctx;

static float row_max(const float *x, int64_t n)
{
    float m = x[0];
    for (int64_t j = 1; j < n; ++j)
        m = x[j] > m || x[j] != x[j] ? x[j] : m; /* NaN wins */
    return m;
}

static void xent_rows(int64_t begin, int64_t end, void *arg)
{
    const xent_ctx *c = arg;
    const int64_t n = c->classes;
    for (int64_t r = begin; r < end; ++r) {
        const float *x = c->logits + r * n;
        const int32_t label = c->labels[r];
        const float m = row_max(x, n);
        const float picked = x[label];
        double s = 0.0;
        if (c->dlogits) {
            float *g = c->dlogits + r * n; /* e_j first, scaled below */
            for (int64_t j = 0; j < n; ++j) {
                g[j] = expf(x[j] - m);
                s += g[j];
            }
            const float scale = (float)(1.0 / s) * c->inv_batch;
            for (int64_t j = 0; j < n; ++j)
                g[j] *= scale;
            g[label] -= c->inv_batch;
        } else {
            for (int64_t j = 0; j < n; ++j)
                s += expf(x[j] - m);
        }
        c->row_loss[r] = (double)m + log(s) - (double)picked;
    }
}

/* Plain loops in double: the engine the others are tested against. */
static void xent_reference(const xent_ctx *c, int64_t rows)
{
    const int64_t n = c->classes;
    for (int64_t r = 0; r < rows; ++r) {
        const float *x = c->logits + r * n;
        const int32_t label = c->labels[r];
        const double m = row_max(x, n), picked = x[label];
        double s = 0.0;
        for (int64_t j = 0; j < n; ++j)
            s += exp(x[j] - m);
        if (c->dlogits) {
            float *g = c->dlogits + r * n;
            for (int64_t j = 0; j < n; ++j)
                g[j] = (float)((exp(x[j] - m) / s - (j == label)) / rows);
        }
        c->row_loss[r] = m + log(s) - picked;
    }
}

static cnn_status softmax_xent(const cnn_op_args *args)
{
    const cnn_tensor *logits = args->in[0], *labels = args->in[1];
    const int64_t rows = logits->dims[0], classes = logits->dims[1];
    const int32_t *label = labels->data;
    for (int64_t r = 0; r < rows; ++r) /* before anything is written */
        if (label[r] < 0 || label[r] >= classes)
            return cnn_backend_error(cnn_cpu_host, CNN_ERR_INVALID_ARGUMENT,
                                     "labels[%lld] is %d, outside [0, %lld)",
                                     (long long)r, (int)label[r],
                                     (long long)classes);
    double *row_loss = cnn_cpu_workspace(args->device,
                                         (size_t)rows * sizeof(double));
    if (!row_loss)
        return CNN_ERR_OUT_OF_MEMORY;
    xent_ctx c = {
        .logits = logits->data,
        .labels = label,
        .dlogits = args->out[1] ? args->out[1]->data : NULL,
        .row_loss = row_loss,
        .classes = classes,
        .inv_batch = (float)(1.0 / (double)rows),
    };
    if (args->engine == CNN_ENGINE_REFERENCE)
        xent_reference(&c, rows);
    else /* a thread team pays off from about 8k exponentials */
        cnn_cpu_parallel_for(args->device, rows, 1,
                             classes >= 8192 ? 1 : 8192 / classes, xent_rows,
                             &c);
    double total = 0.0;
    for (int64_t r = 0; r < rows; ++r)
        total += row_loss[r];
    *(float *)args->out[0]->data = (float)(total / (double)rows);
    return CNN_OK;
}

void cnn_cpu_register_loss(cnn_op_fn *ops)
{
    ops[CNN_OP_SOFTMAX_XENT] = softmax_xent;
}
