/* src/cpu/conv_data.c - the data gradient (dx) of the NATIVE engine's
 * convolution, in two shapes:
 *
 * Stride 1: dx is itself a convolution, of dy padded by
 * dilation (kernel - 1) - pad, with each group's weights transposed (input
 * and output channels swapped) and flipped in both spatial directions.
 * Computed as that forward (conv_own.c, conv_gemm.c) it is written
 * straight into dx, with no col2im and its scattered additions. Here: the
 * test, the shape, and the flipped weights.
 *
 * Strided layers: each thread takes whole images and, a block of an
 * image's pixels at a time, computes dcol = w_g^T dy_g with a GEMM of its
 * own and folds it into the image's dx (col2im). A block small enough to
 * stay in cache keeps col2im's scattered additions off memory; each image
 * is computed the same whichever thread runs it, and no two threads touch
 * one image. */
#include <string.h>

#include "conv.h"

bool cnn_cpu_conv_data_as_forward(const cnn_cpu_conv_shape *s)
{
    return s->stride_h == 1 && s->stride_w == 1 &&
           s->pad_h <= s->dilation_h * (s->r - 1) &&
           s->pad_w <= s->dilation_w * (s->s - 1);
}

cnn_cpu_conv_shape cnn_cpu_conv_data_shape(const cnn_cpu_conv_shape *s)
{
    cnn_cpu_conv_shape t = *s;
    t.c = s->k, t.h = s->p, t.w = s->q;
    t.k = s->c, t.p = s->h, t.q = s->w;
    t.cg = s->kg, t.kg = s->cg;
    t.pad_h = s->dilation_h * (s->r - 1) - s->pad_h;
    t.pad_w = s->dilation_w * (s->s - 1) - s->pad_w;
    t.rows = t.cg * t.r * t.s;
    return t;
}

typedef struct flip_ctx {
    const cnn_cpu_conv_shape *sh;
    const float *w;
    float *out;
} flip_ctx;

/* out [c, kg, r, s] (c across all groups) from w [k, cg, r, s]. */
static void flip_rows(int64_t begin, int64_t end, void *p)
{
    const flip_ctx *f = p;
    const cnn_cpu_conv_shape *s = f->sh;
    const int64_t rs = s->r * s->s;
    for (int64_t ch = begin; ch < end; ++ch) {
        int64_t g = ch / s->cg, ci = ch % s->cg;
        for (int64_t k = 0; k < s->kg; ++k) {
            const float *src = f->w + ((g * s->kg + k) * s->cg + ci) * rs;
            float *dst = f->out + (ch * s->kg + k) * rs;
            for (int64_t t = 0; t < rs; ++t)
                dst[t] = src[rs - 1 - t];
        }
    }
}

void cnn_cpu_conv_flip_weights(int device, const cnn_cpu_conv_shape *s,
                               const float *w, float *out)
{
    flip_ctx f = {.sh = s, .w = w, .out = out};
    cnn_cpu_parallel_for(device, s->c, 1, 16384 / (s->kg * s->r * s->s) + 1,
                         flip_rows, &f);
}

typedef struct strided_ctx {
    const cnn_cpu_conv_shape *sh;
    const float *dy, *w;
    float *dx;
    unsigned char *ws;
    size_t gemm_bytes, thread_bytes;
    int64_t cols, ld;
} strided_ctx;

static void strided_images(int64_t begin, int64_t end, void *p)
{
    const strided_ctx *c = p;
    const cnn_cpu_conv_shape *s = c->sh;
    const int64_t pq = s->p * s->q, plane = s->h * s->w;
    unsigned char *mine = c->ws + (size_t)cnn_cpu_thread_index() *
                                      c->thread_bytes;
    float *dcol = (float *)(mine + c->gemm_bytes);
    for (int64_t n = begin; n < end; ++n) {
        memset(c->dx + n * s->c * plane, 0,
               (size_t)(s->c * plane) * sizeof(float));
        for (int64_t g = 0; g < s->groups; ++g)
            for (int64_t j0 = 0; j0 < pq; j0 += c->cols) {
                int64_t len = pq - j0 < c->cols ? pq - j0 : c->cols;
                cnn_cpu_matrix a = {c->w + g * s->kg * s->rows, s->rows, true};
                cnn_cpu_matrix b = {
                    c->dy + (n * s->k + g * s->kg) * pq + j0, pq, false};
                cnn_cpu_sgemm_serial(s->rows, len, s->kg, 1.0f, a, b, 0.0f,
                                     dcol, c->ld, mine);
                cnn_cpu_col2im_serial(s, dcol, c->ld, g, n * pq + j0,
                                      n * pq + j0 + len, c->dx);
            }
    }
}

cnn_status cnn_cpu_conv_strided_backward_data(int device,
                                              const cnn_cpu_conv_shape *s,
                                              const float *dy, const float *w,
                                              float *dx)
{
    /* About a megabyte of dcol per block. */
    const int64_t pq = s->p * s->q;
    int64_t cols = ((int64_t)1 << 18) / s->rows;
    cols = cols < 64 ? 64 : cols > pq ? pq : cols;
    strided_ctx c = {.sh = s, .dy = dy, .w = w, .dx = dx, .cols = cols,
                     .ld = (cols + 15) / 16 * 16,
                     .gemm_bytes = cnn_cpu_gemm_thread_scratch_bytes()};
    c.thread_bytes = c.gemm_bytes + ((size_t)(s->rows * c.ld) * sizeof(float) +
                                     63) / 64 * 64;
    c.ws = cnn_cpu_workspace(device, (size_t)cnn_cpu_device_threads(device) *
                                         c.thread_bytes);
    if (!c.ws)
        return CNN_ERR_OUT_OF_MEMORY;
    cnn_cpu_parallel_for(device, s->n, 1, 1, strided_images, &c);
    return CNN_OK;
}
