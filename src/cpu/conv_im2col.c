/* src/cpu/conv_im2col.c - unfolding the input into GEMM columns (im2col)
 * for the OpenBLAS path, folding column gradients back (col2im) for the
 * strided data gradient, and copying channel rows of a batch in and out of
 * GEMM operands. A block of columns may span images or cover part of one,
 * so a batch of small images makes one large GEMM and a huge image
 * several bounded ones. */
#include <string.h>

#include "conv.h"
#include "simd.h"

/* Output columns [lo, hi) whose kernel column `ks` reads inside the input
 * row (the others read padding). */
static inline void valid_columns(const cnn_cpu_conv_shape *s, int64_t ks,
                                 int64_t *lo, int64_t *hi)
{
    int64_t first = s->pad_w - ks * s->dilation_w; /* ow * stride >= this */
    int64_t last = s->w - 1 + s->pad_w - ks * s->dilation_w;
    *lo = first <= 0 ? 0 : (first + s->stride_w - 1) / s->stride_w;
    *hi = last < 0 ? 0 : last / s->stride_w + 1;
    if (*hi > s->q)
        *hi = s->q;
    if (*lo > *hi)
        *lo = *hi;
}

/* The unfolded values of output pixels [ow, ow + len) of output row oh for
 * kernel position (kr, ks) of one input plane, into d[0, len); [lo, hi)
 * from valid_columns. Zero where the window reads padding. */
static inline void unfold_run(const cnn_cpu_conv_shape *s, const float *plane,
                              int64_t oh, int64_t ow, int64_t len, int64_t kr,
                              int64_t ks, int64_t lo, int64_t hi,
                              float *restrict d)
{
    int64_t ih = oh * s->stride_h - s->pad_h + kr * s->dilation_h;
    int64_t end = ow + len;
    int64_t a = lo > ow ? lo : ow, b = hi < end ? hi : end;
    if (ih < 0 || ih >= s->h || a >= b) {
        for (int64_t t = 0; t < len; ++t)
            d[t] = 0.0f;
        return;
    }
    for (int64_t t = ow; t < a; ++t)
        d[t - ow] = 0.0f;
    /* Input column of output column t: t * stride + off. */
    const float *restrict x = plane + ih * s->w +
                              (a * s->stride_w + ks * s->dilation_w - s->pad_w);
    float *restrict out = d + (a - ow);
    if (s->stride_w == 1)
        cnn_cpu_copy_run(out, x, b - a);
    else
        for (int64_t t = 0; t < b - a; ++t)
            out[t] = x[t * s->stride_w];
    for (int64_t t = b; t < end; ++t)
        d[t - ow] = 0.0f;
}

/* A kernel row's worth of pixels (tens of values): a loop the compiler
 * vectorises beats a call to memcpy, and stride 1 gets its own loop. */
static inline void add_strided(float *restrict d, const float *restrict v,
                               int64_t n, int64_t stride)
{
    if (stride == 1)
        for (int64_t t = 0; t < n; ++t)
            d[t] += v[t];
    else
        for (int64_t t = 0; t < n; ++t)
            d[t * stride] += v[t];
}

typedef struct unfold_ctx {
    const cnn_cpu_conv_shape *sh;
    const float *src;
    float *dst;
    int64_t g, j0, j1, ld;
} unfold_ctx;

/* Row `row` (channel of group g, kernel row, kernel column) of the
 * unfolded input over columns [j0, j1) into out[0, j1 - j0). */
static void unfold_row(const cnn_cpu_conv_shape *s, const float *x, int64_t g,
                       int64_t row, int64_t j0, int64_t j1, float *out)
{
    const int64_t pq = s->p * s->q;
    int64_t ci = row / (s->r * s->s), kr = row / s->s % s->r;
    int64_t ks = row % s->s;
    int64_t lo, hi;
    valid_columns(s, ks, &lo, &hi);
    for (int64_t j = j0; j < j1;) {
        int64_t n = j / pq, oh = j % pq / s->q, ow = j % s->q;
        int64_t run = s->q - ow < j1 - j ? s->q - ow : j1 - j;
        const float *plane = x + (n * s->c + g * s->cg + ci) * s->h * s->w;
        unfold_run(s, plane, oh, ow, run, kr, ks, lo, hi,
                           out + (j - j0));
        j += run;
    }
}

CNN_CPU_CLONES
static void im2col_rows(int64_t begin, int64_t end, void *p)
{
    const unfold_ctx *c = p;
    for (int64_t row = begin; row < end; ++row)
        unfold_row(c->sh, c->src, c->g, row, c->j0, c->j1,
                           c->dst + row * c->ld);
}

void cnn_cpu_im2col(int device, const cnn_cpu_conv_shape *sh, const float *x,
                    int64_t g, int64_t j0, int64_t j1, float *col, int64_t ld)
{
    unfold_ctx c = {.sh = sh, .src = x, .dst = col, .g = g, .j0 = j0,
                    .j1 = j1, .ld = ld};
    /* A thread team pays off from about 16k copied values per thread. */
    int64_t per_row = j1 - j0;
    cnn_cpu_parallel_for(device, sh->rows, 1, (16384 + per_row - 1) / per_row,
                         im2col_rows, &c);
}

/* One item is (image, channel of the group): the rows of that channel,
 * kernel position by kernel position, are added into its dx plane, so no
 * two threads touch one plane and the order of additions is fixed. */
CNN_CPU_CLONES
static void col2im_planes(int64_t begin, int64_t end, void *p)
{
    const unfold_ctx *c = p;
    const cnn_cpu_conv_shape *s = c->sh;
    const int64_t pq = s->p * s->q;
    const int64_t n_first = c->j0 / pq;
    for (int64_t item = begin; item < end; ++item) {
        int64_t n = n_first + item / s->cg, ci = item % s->cg;
        int64_t j_lo = n * pq > c->j0 ? n * pq : c->j0;
        int64_t j_hi = (n + 1) * pq < c->j1 ? (n + 1) * pq : c->j1;
        float *dx = c->dst + (n * s->c + c->g * s->cg + ci) * s->h * s->w;
        for (int64_t kr = 0; kr < s->r; ++kr)
            for (int64_t ks = 0; ks < s->s; ++ks) {
                int64_t row = (ci * s->r + kr) * s->s + ks;
                int64_t lo, hi;
                valid_columns(s, ks, &lo, &hi);
                const float *src = c->src + row * c->ld;
                const int64_t off = ks * s->dilation_w - s->pad_w;
                for (int64_t j = j_lo; j < j_hi;) {
                    int64_t oh = j % pq / s->q, ow = j % s->q;
                    int64_t run = s->q - ow < j_hi - j ? s->q - ow : j_hi - j;
                    int64_t ih = oh * s->stride_h - s->pad_h +
                                 kr * s->dilation_h;
                    if (ih >= 0 && ih < s->h) {
                        float *d = dx + ih * s->w;
                        const float *v = src + (j - c->j0); /* v[t - ow] */
                        int64_t a = lo > ow ? lo : ow;
                        int64_t b = hi < ow + run ? hi : ow + run;
                        if (b > a)
                            add_strided(d + a * s->stride_w + off,
                                        v + (a - ow), b - a, s->stride_w);
                    }
                    j += run;
                }
            }
    }
}

void cnn_cpu_col2im_serial(const cnn_cpu_conv_shape *sh, const float *col,
                           int64_t ld, int64_t g, int64_t j0, int64_t j1,
                           float *dx)
{
    const int64_t pq = sh->p * sh->q;
    int64_t images = (j1 - 1) / pq - j0 / pq + 1;
    unfold_ctx c = {.sh = sh, .src = col, .dst = dx, .g = g, .j0 = j0,
                    .j1 = j1, .ld = ld};
    col2im_planes(0, images * sh->cg, &c);
}

typedef struct rows_ctx {
    const float *src, *bias;
    float *dst;
    int64_t ld, channels, pq, k0, j0, j1;
} rows_ctx;

static void gather_rows(int64_t begin, int64_t end, void *p)
{
    const rows_ctx *c = p;
    for (int64_t kk = begin; kk < end; ++kk) {
        float *out = c->dst + kk * c->ld;
        for (int64_t j = c->j0; j < c->j1;) {
            int64_t n = j / c->pq, off = j % c->pq;
            int64_t run = c->pq - off < c->j1 - j ? c->pq - off : c->j1 - j;
            memcpy(out + (j - c->j0),
                   c->src + (n * c->channels + c->k0 + kk) * c->pq + off,
                   (size_t)run * sizeof *out);
            j += run;
        }
    }
}

static void scatter_rows(int64_t begin, int64_t end, void *p)
{
    const rows_ctx *c = p;
    for (int64_t kk = begin; kk < end; ++kk) {
        const float *in = c->src + kk * c->ld;
        float bias = c->bias ? c->bias[c->k0 + kk] : 0.0f;
        for (int64_t j = c->j0; j < c->j1;) {
            int64_t n = j / c->pq, off = j % c->pq;
            int64_t run = c->pq - off < c->j1 - j ? c->pq - off : c->j1 - j;
            float *out = c->dst + (n * c->channels + c->k0 + kk) * c->pq + off;
            if (c->bias)
                for (int64_t t = 0; t < run; ++t)
                    out[t] = in[j - c->j0 + t] + bias;
            else
                memcpy(out, in + (j - c->j0), (size_t)run * sizeof *out);
            j += run;
        }
    }
}

void cnn_cpu_conv_gather(int device, const float *t, int64_t channels,
                         int64_t pq, int64_t k0, int64_t kn, int64_t j0,
                         int64_t j1, float *out, int64_t ld)
{
    rows_ctx c = {.src = t, .dst = out, .ld = ld, .channels = channels,
                  .pq = pq, .k0 = k0, .j0 = j0, .j1 = j1};
    int64_t per_row = j1 - j0;
    cnn_cpu_parallel_for(device, kn, 1, (16384 + per_row - 1) / per_row,
                         gather_rows, &c);
}

void cnn_cpu_conv_scatter(int device, const float *rows, int64_t ld,
                          int64_t channels, int64_t pq, int64_t k0,
                          int64_t kn, int64_t j0, int64_t j1,
                          const float *bias, float *t)
{
    rows_ctx c = {.src = rows, .bias = bias, .dst = t, .ld = ld,
                  .channels = channels, .pq = pq, .k0 = k0, .j0 = j0,
                  .j1 = j1};
    int64_t per_row = j1 - j0;
    cnn_cpu_parallel_for(device, kn, 1, (16384 + per_row - 1) / per_row,
                         scatter_rows, &c);
}
