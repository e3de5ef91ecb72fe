/* src/cpu/conv_ref.c - the REFERENCE engine's convolution: the definition
 * written as loops, each output element summed in double in one thread,
 * so that it is as plain as the formula and a trustworthy yardstick for
 * every other path. Threads split the outputs, never a sum. */
#include "conv.h"

typedef struct ref_ctx {
    const cnn_cpu_conv_shape *sh;
    const float *a, *b, *bias;
    float *out;
} ref_ctx;

/* y[n, k] planes, one (n, k) per item. */
static void forward_planes(int64_t begin, int64_t end, void *p)
{
    const ref_ctx *c = p;
    const cnn_cpu_conv_shape *s = c->sh;
    for (int64_t item = begin; item < end; ++item) {
        int64_t n = item / s->k, k = item % s->k, g = k / s->kg;
        float *y = c->out + item * s->p * s->q;
        for (int64_t oh = 0; oh < s->p; ++oh)
            for (int64_t ow = 0; ow < s->q; ++ow) {
                double acc = 0.0;
                for (int64_t ci = 0; ci < s->cg; ++ci) {
                    const float *x = c->a + (n * s->c + g * s->cg + ci) *
                                                s->h * s->w;
                    const float *w = c->b + ((k * s->cg + ci) * s->r) * s->s;
                    for (int64_t r = 0; r < s->r; ++r) {
                        int64_t ih = oh * s->stride_h - s->pad_h +
                                     r * s->dilation_h;
                        if (ih < 0 || ih >= s->h)
                            continue;
                        for (int64_t q = 0; q < s->s; ++q) {
                            int64_t iw = ow * s->stride_w - s->pad_w +
                                         q * s->dilation_w;
                            if (iw >= 0 && iw < s->w)
                                acc += (double)x[ih * s->w + iw] *
                                       w[r * s->s + q];
                        }
                    }
                }
                if (c->bias)
                    acc += c->bias[k];
                y[oh * s->q + ow] = (float)acc;
            }
    }
}

void cnn_cpu_conv_ref_forward(int device, const cnn_cpu_conv_shape *sh,
                              const float *x, const float *w, const float *b,
                              float *y)
{
    ref_ctx c = {.sh = sh, .a = x, .b = w, .bias = b, .out = y};
    cnn_cpu_parallel_for(device, sh->n * sh->k, 1, 1, forward_planes, &c);
}

/* dx[n, c] planes: every output that read an input pixel sends its
 * gradient back through the weight that joined them. */
static void data_planes(int64_t begin, int64_t end, void *p)
{
    const ref_ctx *c = p;
    const cnn_cpu_conv_shape *s = c->sh;
    for (int64_t item = begin; item < end; ++item) {
        int64_t n = item / s->c, ch = item % s->c, g = ch / s->cg;
        int64_t ci = ch % s->cg;
        float *dx = c->out + item * s->h * s->w;
        for (int64_t ih = 0; ih < s->h; ++ih)
            for (int64_t iw = 0; iw < s->w; ++iw) {
                double acc = 0.0;
                for (int64_t k = g * s->kg; k < (g + 1) * s->kg; ++k) {
                    const float *dy = c->a + (n * s->k + k) * s->p * s->q;
                    const float *w = c->b + ((k * s->cg + ci) * s->r) * s->s;
                    for (int64_t r = 0; r < s->r; ++r) {
                        int64_t th = ih + s->pad_h - r * s->dilation_h;
                        if (th < 0 || th % s->stride_h)
                            continue;
                        int64_t oh = th / s->stride_h;
                        if (oh >= s->p)
                            continue;
                        for (int64_t q = 0; q < s->s; ++q) {
                            int64_t tw = iw + s->pad_w - q * s->dilation_w;
                            if (tw < 0 || tw % s->stride_w)
                                continue;
                            int64_t ow = tw / s->stride_w;
                            if (ow < s->q)
                                acc += (double)dy[oh * s->q + ow] *
                                       w[r * s->s + q];
                        }
                    }
                }
                dx[ih * s->w + iw] = (float)acc;
            }
    }
}

void cnn_cpu_conv_ref_backward_data(int device, const cnn_cpu_conv_shape *sh,
                                    const float *dy, const float *w,
                                    float *dx)
{
    ref_ctx c = {.sh = sh, .a = dy, .b = w, .out = dx};
    cnn_cpu_parallel_for(device, sh->n * sh->c, 1, 1, data_planes, &c);
}

/* dw[k, ci] kernels, one (k, ci) per item, summed over the batch and the
 * output pixels. */
static void filter_kernels(int64_t begin, int64_t end, void *p)
{
    const ref_ctx *c = p;
    const cnn_cpu_conv_shape *s = c->sh;
    for (int64_t item = begin; item < end; ++item) {
        int64_t k = item / s->cg, ci = item % s->cg, g = k / s->kg;
        float *dw = c->out + item * s->r * s->s;
        for (int64_t r = 0; r < s->r; ++r)
            for (int64_t q = 0; q < s->s; ++q) {
                double acc = 0.0;
                for (int64_t n = 0; n < s->n; ++n) {
                    const float *dy = c->a + (n * s->k + k) * s->p * s->q;
                    const float *x = c->b + (n * s->c + g * s->cg + ci) *
                                                s->h * s->w;
                    for (int64_t oh = 0; oh < s->p; ++oh) {
                        int64_t ih = oh * s->stride_h - s->pad_h +
                                     r * s->dilation_h;
                        if (ih < 0 || ih >= s->h)
                            continue;
                        for (int64_t ow = 0; ow < s->q; ++ow) {
                            int64_t iw = ow * s->stride_w - s->pad_w +
                                         q * s->dilation_w;
                            if (iw >= 0 && iw < s->w)
                                acc += (double)dy[oh * s->q + ow] *
                                       x[ih * s->w + iw];
                        }
                    }
                }
                dw[r * s->s + q] = (float)(dw[r * s->s + q] + acc);
            }
    }
}

void cnn_cpu_conv_ref_backward_filter(int device,
                                      const cnn_cpu_conv_shape *sh,
                                      const float *dy, const float *x,
                                      float *dw)
{
    ref_ctx c = {.sh = sh, .a = dy, .b = x, .out = dw};
    cnn_cpu_parallel_for(device, sh->k * sh->cg, 1, 1, filter_kernels, &c);
}
