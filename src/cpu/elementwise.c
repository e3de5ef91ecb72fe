/* src/cpu/elementwise.c - add, scale and ReLU on the CPU. The same loops
 * serve the reference and native engines: they are already as simple as
 * the reference and as fast as memory allows. */
#include "cpu.h"

typedef struct binary_ctx {
    float *out;
    const float *a;
    const float *b;
    float alpha;
} binary_ctx;

static void add_range(int64_t begin, int64_t end, void *p)
{
    binary_ctx *c = p;
    for (int64_t i = begin; i < end; ++i)
        c->out[i] = c->a[i] + c->b[i];
}

static void scale_range(int64_t begin, int64_t end, void *p)
{
    binary_ctx *c = p;
    for (int64_t i = begin; i < end; ++i)
        c->out[i] = c->alpha * c->a[i];
}

static void relu_forward_range(int64_t begin, int64_t end, void *p)
{
    binary_ctx *c = p;
    for (int64_t i = begin; i < end; ++i) {
        float x = c->a[i];
        c->out[i] = x > 0.0f || x != x ? x : 0.0f; /* NaN propagates */
    }
}

static void relu_backward_range(int64_t begin, int64_t end, void *p)
{
    binary_ctx *c = p; /* a = dy, b = y */
    for (int64_t i = begin; i < end; ++i) {
        /* Both loads unconditional, so the loop vectorises into a blend. */
        float dy = c->a[i], y = c->b[i];
        c->out[i] = y > 0.0f ? dy : 0.0f;
    }
}

static cnn_status run(const cnn_op_args *args, cnn_cpu_range_fn body,
                      float alpha)
{
    binary_ctx ctx = {
        .out = args->out[0]->data,
        .a = args->in[0]->data,
        .b = args->in[1] ? args->in[1]->data : NULL,
        .alpha = alpha,
    };
    /* Chunks of 16 floats keep every thread's range 64-byte aligned; below
     * 16k elements per thread a thread team costs more than it saves. */
    cnn_cpu_parallel_for(args->device, args->out[0]->numel, 16, 1 << 14, body,
                         &ctx);
    return CNN_OK;
}

cnn_status cnn_cpu_add(const cnn_op_args *args)
{
    return run(args, add_range, 0.0f);
}

cnn_status cnn_cpu_scale(const cnn_op_args *args)
{
    const cnn_scale_params *params = args->params;
    return run(args, scale_range, params->alpha);
}

cnn_status cnn_cpu_relu_forward(const cnn_op_args *args)
{
    return run(args, relu_forward_range, 0.0f);
}

cnn_status cnn_cpu_relu_backward(const cnn_op_args *args)
{
    return run(args, relu_backward_range, 0.0f);
}
