/* src/cpu/loss.c - softmax cross-entropy on the CPU.
 *
 * Per row: m = max, s = sum exp(x - m) (the max subtracted so that no exp
 * overflows), loss = m + log s - x[label], gradient (exp(x - m) / s -
 * onehot) / N. Row losses are kept in double and summed in row order after
 * the parallel part, so the mean does not depend on the thread count.
 *
 * The reference engine works in double with libm's exp. The native one
 * takes the exponentials four at a time with xent_exp4 below and sums
 * them in a fixed order (exp_sum), so each row's result depends only on
 * the row. */
#include <math.h>
#include <string.h>

#include "cpu.h"

typedef struct xent_ctx {
    const float *logits;
    const int32_t *labels;
    float *dlogits; /* may be NULL, or logits itself */
    double *row_loss;
    int64_t classes;
    float inv_batch;
} xent_ctx;

/* Four floats at a time with GCC's vector extensions (SSE2 on x86-64,
 * NEON on aarch64): written out by hand because the compiler will not
 * vectorise the selects of a scalar loop while it honours floating-point
 * traps. */
typedef float xent_v4 __attribute__((vector_size(16)));
typedef int32_t xent_i4 __attribute__((vector_size(16)));
#define XENT_SPLAT(v) ((xent_v4){(v), (v), (v), (v)})

/* exp(x) lane by lane for x <= 0, within 2 ulp: Cody-Waite reduction by
 * ln 2, then Cephes' expf polynomial on |r| <= ln 2 / 2. 0 below -87.3
 * (where results turn denormal, which the workers flush anyway); NaN
 * stays NaN. */
static inline xent_v4 xent_exp4(xent_v4 x)
{
    const xent_i4 in_range = x >= XENT_SPLAT(-87.3f); /* false for NaN */
    const xent_i4 nan = x != x;
    xent_v4 c = (xent_v4)(((xent_i4)x & in_range) |
                          ((xent_i4)XENT_SPLAT(-87.3f) & ~in_range));
    xent_v4 t = c * XENT_SPLAT(1.44269504f) + XENT_SPLAT(12582912.0f);
    xent_v4 n = t - XENT_SPLAT(12582912.0f); /* round(c / ln 2) */
    xent_v4 r = c - n * XENT_SPLAT(0.693359375f) -
                n * XENT_SPLAT(-2.12194440e-4f);
    xent_v4 p = XENT_SPLAT(1.9875691500e-4f);
    p = p * r + XENT_SPLAT(1.3981999507e-3f);
    p = p * r + XENT_SPLAT(8.3334519073e-3f);
    p = p * r + XENT_SPLAT(4.1665795894e-2f);
    p = p * r + XENT_SPLAT(1.6666665459e-1f);
    p = p * r + XENT_SPLAT(5.0000001201e-1f);
    p = p * r * r + r + XENT_SPLAT(1.0f);
    xent_i4 k = __builtin_convertvector(n, xent_i4); /* in [-126, 0] */
    xent_v4 y = p * (xent_v4)((k + 127) << 23);       /* p * 2^k */
    return (xent_v4)(((xent_i4)y & in_range) | ((xent_i4)x & nan));
}

/* The row's maximum, four lanes at a time (a scalar max is one long
 * dependency chain). A NaN may be skipped here; it still makes its
 * exponential, hence the row's loss and gradient, NaN. */
static float row_max(const float *x, int64_t n)
{
    float m = x[0];
    int64_t j = 0;
    if (n >= 8) {
        xent_v4 m4;
        memcpy(&m4, x, sizeof m4);
        for (j = 4; j + 4 <= n; j += 4) {
            xent_v4 v;
            memcpy(&v, x + j, sizeof v);
            xent_i4 more = v > m4;
            m4 = (xent_v4)(((xent_i4)v & more) | ((xent_i4)m4 & ~more));
        }
        for (int l = 0; l < 4; ++l)
            m = m4[l] > m ? m4[l] : m;
    }
    for (; j < n; ++j)
        m = x[j] > m ? x[j] : m;
    return m;
}

/* sum exp(x - m) in a fixed order, so that the result depends on the row
 * alone: four float lanes (lane j % 4 takes element j) flushed into double
 * every 64 elements. Writes the terms into e when it is not NULL (e may be
 * x). */
static double exp_sum(const float *x, float *e, int64_t n, float m)
{
    double total = 0.0;
    int64_t j = 0;
    while (j + 4 <= n) {
        xent_v4 acc = XENT_SPLAT(0.0f);
        for (int64_t end = j + 64 < n ? j + 64 : n; j + 4 <= end; j += 4) {
            xent_v4 v;
            memcpy(&v, x + j, sizeof v);
            v = xent_exp4(v - XENT_SPLAT(m));
            if (e)
                memcpy(e + j, &v, sizeof v);
            acc += v;
        }
        total += (double)(acc[0] + acc[1]) + (double)(acc[2] + acc[3]);
    }
    if (j < n) { /* the last 1 to 3: exp(-inf) = 0 fills the lanes past n */
        xent_v4 v = XENT_SPLAT(-INFINITY);
        for (int l = 0; j + l < n; ++l)
            v[l] = x[j + l];
        v = xent_exp4(v - XENT_SPLAT(m));
        for (int l = 0; j + l < n; ++l) {
            if (e)
                e[j + l] = v[l];
            total += v[l];
        }
    }
    return total;
}

static void xent_rows(int64_t begin, int64_t end, void *arg)
{
    const xent_ctx *c = arg;
    const int64_t n = c->classes;
    for (int64_t r = begin; r < end; ++r) {
        const float *x = c->logits + r * n;
        const int32_t label = c->labels[r];
        const float m = row_max(x, n);
        const float picked = x[label]; /* before g overwrites x */
        float *g = c->dlogits ? c->dlogits + r * n : NULL;
        double s = exp_sum(x, g, n, m);
        if (g) {
            const float scale = (float)(1.0 / s) * c->inv_batch;
            for (int64_t j = 0; j < n; ++j)
                g[j] *= scale;
            g[label] -= c->inv_batch;
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
        double m = x[0];
        for (int64_t j = 1; j < n; ++j)
            m = x[j] > m || x[j] != x[j] ? x[j] : m; /* NaN wins */
        const double picked = x[label];
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
    else /* a thread team pays off from about 64k exponentials */
        cnn_cpu_parallel_for(args->device, rows, 1,
                             classes >= 65536 ? 1 : 65536 / classes,
                             xent_rows, &c);
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
