/* src/cpu/conv.c - the CPU backend's convolution slots: the layer's shape
 * from the tensors, the engine's choice between the reference loops
 * (conv_ref.c) and the GEMM path (conv_gemm.c), and the bias gradient,
 * which is one plain sum per channel in either engine. */
#include "conv.h"

cnn_cpu_conv_shape cnn_cpu_conv_shape_of(const int64_t x[4],
                                         const int64_t w[4],
                                         const cnn_conv2d_params *p)
{
    cnn_cpu_conv_shape s = {
        .n = x[0], .c = x[1], .h = x[2], .w = x[3],
        .k = w[0], .r = w[2], .s = w[3],
        .stride_h = p->stride_h, .stride_w = p->stride_w,
        .pad_h = p->pad_h, .pad_w = p->pad_w,
        .dilation_h = p->dilation_h, .dilation_w = p->dilation_w,
        .groups = p->groups, .cg = w[1], .kg = w[0] / p->groups,
    };
    s.p = (s.h + 2 * s.pad_h - s.dilation_h * (s.r - 1) - 1) / s.stride_h + 1;
    s.q = (s.w + 2 * s.pad_w - s.dilation_w * (s.s - 1) - 1) / s.stride_w + 1;
    s.rows = s.cg * s.r * s.s;
    return s;
}

static cnn_status conv_forward(const cnn_op_args *args)
{
    const cnn_tensor *x = args->in[0], *w = args->in[1], *b = args->in[2];
    cnn_cpu_conv_shape s = cnn_cpu_conv_shape_of(x->dims, w->dims,
                                                 args->params);
    const float *bias = b ? b->data : NULL;
    if (args->engine == CNN_ENGINE_REFERENCE) {
        cnn_cpu_conv_ref_forward(args->device, &s, x->data, w->data, bias,
                                 args->out[0]->data);
        return CNN_OK;
    }
    return cnn_cpu_conv_gemm_forward(args->device, &s, x->data, w->data, bias,
                                     args->out[0]->data);
}

static cnn_status conv_backward_data(const cnn_op_args *args)
{
    const cnn_tensor *dy = args->in[0], *w = args->in[1];
    cnn_tensor *dx = args->out[0];
    cnn_cpu_conv_shape s = cnn_cpu_conv_shape_of(dx->dims, w->dims,
                                                 args->params);
    if (args->engine == CNN_ENGINE_REFERENCE) {
        cnn_cpu_conv_ref_backward_data(args->device, &s, dy->data, w->data,
                                       dx->data);
        return CNN_OK;
    }
    return cnn_cpu_conv_gemm_backward_data(args->device, &s, dy->data,
                                           w->data, dx->data);
}

static cnn_status conv_backward_filter(const cnn_op_args *args)
{
    const cnn_tensor *dy = args->in[0], *x = args->in[1];
    cnn_tensor *dw = args->out[0];
    cnn_cpu_conv_shape s = cnn_cpu_conv_shape_of(x->dims, dw->dims,
                                                 args->params);
    if (args->engine == CNN_ENGINE_REFERENCE) {
        cnn_cpu_conv_ref_backward_filter(args->device, &s, dy->data, x->data,
                                         dw->data);
        return CNN_OK;
    }
    return cnn_cpu_conv_gemm_backward_filter(args->device, &s, dy->data,
                                             x->data, dw->data);
}

typedef struct bias_ctx {
    const float *dy;
    float *db;
    int64_t n, k, plane;
} bias_ctx;

/* db[k] += the sum of dy over images and pixels, in double, in a fixed
 * order: four interleaved partial sums per plane (so the loop pipelines),
 * combined in index order. */
static void bias_channels(int64_t begin, int64_t end, void *p)
{
    const bias_ctx *c = p;
    for (int64_t k = begin; k < end; ++k) {
        double total = 0.0;
        for (int64_t n = 0; n < c->n; ++n) {
            const float *v = c->dy + (n * c->k + k) * c->plane;
            double part[4] = {0.0, 0.0, 0.0, 0.0};
            int64_t i = 0;
            for (; i + 4 <= c->plane; i += 4)
                for (int t = 0; t < 4; ++t)
                    part[t] += v[i + t];
            for (; i < c->plane; ++i)
                part[0] += v[i];
            total += (part[0] + part[1]) + (part[2] + part[3]);
        }
        c->db[k] = (float)(c->db[k] + total);
    }
}

static cnn_status conv_backward_bias(const cnn_op_args *args)
{
    const cnn_tensor *dy = args->in[0];
    bias_ctx c = {.dy = dy->data, .db = args->out[0]->data, .n = dy->dims[0],
                  .k = dy->dims[1], .plane = dy->dims[2] * dy->dims[3]};
    int64_t per_channel = c.n * c.plane;
    cnn_cpu_parallel_for(args->device, c.k, 1,
                         (16384 + per_channel - 1) / per_channel,
                         bias_channels, &c);
    return CNN_OK;
}

void cnn_cpu_register_conv(cnn_op_fn *ops)
{
    ops[CNN_OP_CONV2D_FWD] = conv_forward;
    ops[CNN_OP_CONV2D_BWD_DATA] = conv_backward_data;
    ops[CNN_OP_CONV2D_BWD_FILTER] = conv_backward_filter;
    ops[CNN_OP_CONV2D_BWD_BIAS] = conv_backward_bias;
}
