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
 * Strided layers: each thread takes whole images and, a block at a time
 * (several small images, or part of a large one), computes
 * dcol = w_g^T dy_g with a GEMM of its own and folds it into dx (col2im).
 * A block small enough to stay in cache keeps col2im's scattered
 * additions off memory; each image is computed the same whichever thread
 * runs it, and no two threads touch one image. */
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
    cnn_cpu_conv_shape dy_shape; /* dy as the input of a 1x1 layer */
    const float *dy, *w;
    float *dx;
    unsigned char *ws;
    size_t gemm_bytes, thread_bytes;
    int64_t images; /* per block */
    int64_t cols;   /* per GEMM, within a block */
    int64_t ld;
    bool own;       /* our GEMM: dy packed straight, across images */
} strided_ctx;

/* dcol [rows x len] = w_g^T dy_g over columns [j0, j0 + len) of the
 * images from n0: with our GEMM dy is an operand packed across the images;
 * OpenBLAS takes one image's columns as a plain matrix. */
static void dcol_block(const strided_ctx *c, int64_t n0, int64_t g,
                       int64_t j0, int64_t len, float *dcol, void *scratch)
{
    const cnn_cpu_conv_shape *s = c->sh;
    const int64_t pq = s->p * s->q;
    cnn_cpu_matrix a = {c->w + g * s->kg * s->rows, s->rows, true};
    if (!c->own) {
        cnn_cpu_matrix b = {c->dy + (n0 * s->k + g * s->kg) * pq + j0, pq,
                            false};
        cnn_cpu_sgemm_serial(s->rows, len, s->kg, 1.0f, a, b, 0.0f, dcol,
                             c->ld, scratch);
        return;
    }
    cnn_cpu_matrix_operand weights;
    cnn_cpu_unfold planes = {.sh = &c->dy_shape, .x = c->dy + n0 * s->k * pq,
                             .g = g, .height = s->p, .row = s->q,
                             .phase = s->q, .channels = s->k, .first = 0,
                             .pixel0 = j0};
    cnn_cpu_gemm_out out = {.data = dcol, .ld = c->ld};
    cnn_cpu_gemm_own_block(cnn_cpu_gemm_kernel_best(), 0, s->rows, 0, len,
                           s->kg, cnn_cpu_operand_matrix(&weights, a, 'a',
                                                         1.0f),
                           cnn_cpu_operand_unfold(&planes), false, out,
                           scratch);
}

static void strided_images(int64_t begin, int64_t end, void *p)
{
    const strided_ctx *c = p;
    const cnn_cpu_conv_shape *s = c->sh;
    const int64_t pq = s->p * s->q, plane = s->h * s->w;
    unsigned char *mine = c->ws + (size_t)cnn_cpu_thread_index() *
                                      c->thread_bytes;
    float *dcol = (float *)(mine + c->gemm_bytes);
    for (int64_t n0 = begin; n0 < end; n0 += c->images) {
        int64_t n1 = n0 + c->images < end ? n0 + c->images : end;
        memset(c->dx + n0 * s->c * plane, 0,
               (size_t)((n1 - n0) * s->c * plane) * sizeof(float));
        for (int64_t g = 0; g < s->groups; ++g)
            for (int64_t j0 = 0; j0 < (n1 - n0) * pq; j0 += c->cols) {
                int64_t len = (n1 - n0) * pq - j0 < c->cols
                                  ? (n1 - n0) * pq - j0 : c->cols;
                dcol_block(c, n0, g, j0, len, dcol, mine);
                cnn_cpu_col2im_serial(s, dcol, c->ld, g, n0 * pq + j0,
                                      n0 * pq + j0 + len, c->dx);
            }
    }
}

cnn_status cnn_cpu_conv_strided_backward_data(int device,
                                              const cnn_cpu_conv_shape *s,
                                              const float *dy, const float *w,
                                              float *dx)
{
    /* Up to 2 MB of dcol per block: whole images when they fit (so that
     * small images make one GEMM of useful width), else parts of one.
     * OpenBLAS reads one image at a time. */
    const int64_t pq = s->p * s->q;
    strided_ctx c = {.sh = s, .dy = dy, .w = w, .dx = dx,
                     .own = cnn_cpu_gemm_active() == CNN_CPU_GEMM_OWN,
                     .gemm_bytes = cnn_cpu_gemm_thread_scratch_bytes()};
    int64_t budget = ((int64_t)1 << 19) / s->rows;
    if (budget < 64)
        budget = 64;
    c.images = c.own && budget >= 2 * pq ? budget / pq : 1;
    int64_t threads = cnn_cpu_device_threads(device);
    if (c.images > (s->n + threads - 1) / threads) /* keep every thread busy */
        c.images = (s->n + threads - 1) / threads;
    c.cols = c.images > 1 ? c.images * pq : budget < pq ? budget : pq;
    c.ld = (c.cols + 15) / 16 * 16;
    c.dy_shape = (cnn_cpu_conv_shape){
        .n = s->n, .c = s->k, .h = s->p, .w = s->q, .k = s->c, .r = 1, .s = 1,
        .p = s->p, .q = s->q, .stride_h = 1, .stride_w = 1, .dilation_h = 1,
        .dilation_w = 1, .groups = s->groups, .cg = s->kg, .kg = s->cg,
        .rows = s->kg};
    c.thread_bytes = c.gemm_bytes + ((size_t)(s->rows * c.ld) * sizeof(float) +
                                     63) / 64 * 64;
    c.ws = cnn_cpu_workspace(device, (size_t)cnn_cpu_device_threads(device) *
                                         c.thread_bytes);
    if (!c.ws)
        return CNN_ERR_OUT_OF_MEMORY;
    cnn_cpu_parallel_for(device, s->n, c.images, 1, strided_images, &c);
    return CNN_OK;
}
