/* src/cpu/linear.c - the fully connected layer on the CPU: three GEMMs
 * (NATIVE/AUTO) or plain loops summing in double (REFERENCE), and the bias
 * gradient, a column sum in a fixed order, shared by both engines.
 *   forward   y [n, out]  = x [n, in] w^T + b
 *   data      dx [n, in]  = dy [n, out] w [out, in]
 *   weight    dw [out, in] += dy^T x */
#include <string.h>

#include "cpu.h"
#include "gemm.h"

typedef struct ref_ctx {
    const float *a, *b, *bias;
    float *out;
    int64_t n, in, outs;
} ref_ctx;

/* One output element per item; the sums run in index order. */
static void ref_forward(int64_t begin, int64_t end, void *p)
{
    const ref_ctx *c = p; /* a = x, b = w */
    for (int64_t e = begin; e < end; ++e) {
        int64_t i = e / c->outs, o = e % c->outs;
        double acc = 0.0;
        for (int64_t t = 0; t < c->in; ++t)
            acc += (double)c->a[i * c->in + t] * c->b[o * c->in + t];
        if (c->bias)
            acc += c->bias[o];
        c->out[e] = (float)acc;
    }
}

static void ref_data(int64_t begin, int64_t end, void *p)
{
    const ref_ctx *c = p; /* a = dy, b = w */
    for (int64_t e = begin; e < end; ++e) {
        int64_t i = e / c->in, t = e % c->in;
        double acc = 0.0;
        for (int64_t o = 0; o < c->outs; ++o)
            acc += (double)c->a[i * c->outs + o] * c->b[o * c->in + t];
        c->out[e] = (float)acc;
    }
}

static void ref_weight(int64_t begin, int64_t end, void *p)
{
    const ref_ctx *c = p; /* a = dy, b = x */
    for (int64_t e = begin; e < end; ++e) {
        int64_t o = e / c->in, t = e % c->in;
        double acc = 0.0;
        for (int64_t i = 0; i < c->n; ++i)
            acc += (double)c->a[i * c->outs + o] * c->b[i * c->in + t];
        c->out[e] = (float)(c->out[e] + acc);
    }
}

static void *gemm_scratch(int device)
{
    return cnn_cpu_workspace(device, cnn_cpu_gemm_scratch_bytes(device));
}

static cnn_status linear_forward(const cnn_op_args *args)
{
    const cnn_tensor *x = args->in[0], *w = args->in[1], *b = args->in[2];
    float *y = args->out[0]->data;
    int64_t n = x->dims[0], in = x->dims[1], outs = w->dims[0];
    const float *bias = b ? b->data : NULL;
    if (args->engine == CNN_ENGINE_REFERENCE) {
        ref_ctx c = {.a = x->data, .b = w->data, .bias = bias, .out = y,
                     .n = n, .in = in, .outs = outs};
        cnn_cpu_parallel_for(args->device, n * outs, 1, 1, ref_forward, &c);
        return CNN_OK;
    }
    void *scratch = gemm_scratch(args->device);
    if (!scratch)
        return CNN_ERR_OUT_OF_MEMORY;
    if (bias) /* the GEMM adds onto the bias */
        for (int64_t i = 0; i < n; ++i)
            memcpy(y + i * outs, bias, (size_t)outs * sizeof *y);
    cnn_cpu_sgemm(args->device, n, outs, in, 1.0f,
                  (cnn_cpu_matrix){x->data, in, false},
                  (cnn_cpu_matrix){w->data, in, true}, bias ? 1.0f : 0.0f, y,
                  outs, scratch);
    return CNN_OK;
}

static cnn_status linear_backward_data(const cnn_op_args *args)
{
    const cnn_tensor *dy = args->in[0], *w = args->in[1];
    float *dx = args->out[0]->data;
    int64_t n = dy->dims[0], outs = dy->dims[1], in = w->dims[1];
    if (args->engine == CNN_ENGINE_REFERENCE) {
        ref_ctx c = {.a = dy->data, .b = w->data, .out = dx, .n = n,
                     .in = in, .outs = outs};
        cnn_cpu_parallel_for(args->device, n * in, 1, 1, ref_data, &c);
        return CNN_OK;
    }
    void *scratch = gemm_scratch(args->device);
    if (!scratch)
        return CNN_ERR_OUT_OF_MEMORY;
    cnn_cpu_sgemm(args->device, n, in, outs, 1.0f,
                  (cnn_cpu_matrix){dy->data, outs, false},
                  (cnn_cpu_matrix){w->data, in, false}, 0.0f, dx, in,
                  scratch);
    return CNN_OK;
}

static cnn_status linear_backward_weight(const cnn_op_args *args)
{
    const cnn_tensor *dy = args->in[0], *x = args->in[1];
    float *dw = args->out[0]->data;
    int64_t n = dy->dims[0], outs = dy->dims[1], in = x->dims[1];
    if (args->engine == CNN_ENGINE_REFERENCE) {
        ref_ctx c = {.a = dy->data, .b = x->data, .out = dw, .n = n,
                     .in = in, .outs = outs};
        cnn_cpu_parallel_for(args->device, outs * in, 1, 1, ref_weight, &c);
        return CNN_OK;
    }
    void *scratch = gemm_scratch(args->device);
    if (!scratch)
        return CNN_ERR_OUT_OF_MEMORY;
    cnn_cpu_sgemm(args->device, outs, in, n, 1.0f,
                  (cnn_cpu_matrix){dy->data, outs, true},
                  (cnn_cpu_matrix){x->data, in, false}, 1.0f, dw, in,
                  scratch);
    return CNN_OK;
}

typedef struct bias_ctx {
    const float *dy;
    float *db;
    int64_t n, outs;
} bias_ctx;

/* db[o] += sum over rows of dy[., o], in double, rows in order; a block of
 * columns at a time so that the rows are read contiguously. */
static void bias_columns(int64_t begin, int64_t end, void *p)
{
    const bias_ctx *c = p;
    enum { BLOCK = 256 };
    double acc[BLOCK];
    for (int64_t o0 = begin; o0 < end; o0 += BLOCK) {
        int64_t width = end - o0 < BLOCK ? end - o0 : BLOCK;
        for (int64_t o = 0; o < width; ++o)
            acc[o] = 0.0;
        for (int64_t i = 0; i < c->n; ++i) {
            const float *row = c->dy + i * c->outs + o0;
            for (int64_t o = 0; o < width; ++o)
                acc[o] += row[o];
        }
        for (int64_t o = 0; o < width; ++o)
            c->db[o0 + o] = (float)(c->db[o0 + o] + acc[o]);
    }
}

static cnn_status linear_backward_bias(const cnn_op_args *args)
{
    const cnn_tensor *dy = args->in[0];
    bias_ctx c = {.dy = dy->data, .db = args->out[0]->data,
                  .n = dy->dims[0], .outs = dy->dims[1]};
    cnn_cpu_parallel_for(args->device, c.outs, 16,
                         (16384 + c.n - 1) / c.n, bias_columns, &c);
    return CNN_OK;
}

void cnn_cpu_register_linear(cnn_op_fn *ops)
{
    ops[CNN_OP_LINEAR_FWD] = linear_forward;
    ops[CNN_OP_LINEAR_BWD_DATA] = linear_backward_data;
    ops[CNN_OP_LINEAR_BWD_WEIGHT] = linear_backward_weight;
    ops[CNN_OP_LINEAR_BWD_BIAS] = linear_backward_bias;
}
