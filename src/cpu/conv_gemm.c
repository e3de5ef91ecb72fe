/* src/cpu/conv_gemm.c - the NATIVE engine's convolution: each group is a
 * GEMM between its weights and the unfolded input (im2col), taken over a
 * block of columns at a time, where a column is one output pixel of one
 * image. Small images are batched into one large GEMM (AlexNet's 13x13 and
 * ResNet's 7x7 layers would otherwise make GEMMs too narrow to run fast);
 * large ones are cut so that the unfolded block stays within a bounded
 * workspace. A 1x1 convolution with stride 1 and no padding needs no
 * unfolding: the input itself is the GEMM operand.
 *
 *   forward        y_g [kg x cols]    = w_g [kg x rows] col [rows x cols]
 *   data           stride 1: the forward of dy with flipped weights;
 *                  else dcol [rows x cols] = w_g^T dy_g [kg x cols], col2im
 *   filter         dw_g [kg x rows]  += dy_g col^T
 *
 * All scratch comes from the device's workspace; nothing is allocated per
 * call once it has grown. Each GEMM runs on all the device's threads and
 * splits C, never the reduction, so results do not depend on timing. */
#include <string.h>

#include "conv.h"
#include "gemm.h"

/* Columns per block: enough for the GEMM to reach full speed, and an
 * unfolded block of at most UNFOLD_FLOATS. */
#define TARGET_COLUMNS 2048
#define UNFOLD_FLOATS ((int64_t)4 << 20)

typedef struct plan {
    int64_t pq, total; /* columns per image, in the batch */
    int64_t cols;      /* columns per block */
    int64_t ld;        /* row stride of the blocks in the workspace */
    bool pointwise;    /* 1x1, stride 1, no padding: no unfolding */
    float *reserved;   /* the caller's share of the workspace */
    float *gemm_scratch, *col, *tmp;
} plan;

/* Block sizes and workspace for layer s; `reserve` bytes at the start of
 * the workspace are the caller's. */
static cnn_status make_plan(int device, const cnn_cpu_conv_shape *s,
                            size_t reserve, plan *pl)
{
    pl->pq = s->p * s->q;
    pl->total = s->n * pl->pq;
    pl->pointwise = s->r == 1 && s->s == 1 && s->stride_h == 1 &&
                    s->stride_w == 1 && s->pad_h == 0 && s->pad_w == 0;
    int64_t cols = pl->pq >= TARGET_COLUMNS
                       ? pl->pq
                       : (TARGET_COLUMNS + pl->pq - 1) / pl->pq * pl->pq;
    int64_t fit = UNFOLD_FLOATS / s->rows;
    if (cols > fit) /* whole images if they fit, else parts of one */
        cols = fit >= pl->pq ? fit / pl->pq * pl->pq : (fit > 16 ? fit : 16);
    if (cols > pl->total)
        cols = pl->total;
    pl->cols = cols;
    pl->ld = (cols + 15) / 16 * 16;
    reserve = (reserve + 63) / 64 * 64;
    size_t gemm = cnn_cpu_gemm_scratch_bytes(device);
    size_t bytes = reserve + gemm + (size_t)(s->rows + s->kg) *
                                        (size_t)pl->ld * sizeof(float);
    unsigned char *ws = cnn_cpu_workspace(device, bytes);
    if (!ws)
        return CNN_ERR_OUT_OF_MEMORY;
    pl->reserved = (float *)ws;
    ws += reserve;
    pl->gemm_scratch = (float *)ws;
    pl->col = (float *)(ws + gemm);
    pl->tmp = pl->col + s->rows * pl->ld;
    return CNN_OK;
}

/* The end of the block that starts at column j0: whole images when a block
 * holds several, else at most the rest of the image. */
static int64_t block_end(const plan *pl, int64_t j0)
{
    int64_t end = j0 + pl->cols;
    if (pl->cols < pl->pq) {
        int64_t image_end = (j0 / pl->pq + 1) * pl->pq;
        if (end > image_end)
            end = image_end;
    }
    return end < pl->total ? end : pl->total;
}

/* Whether columns [j0, j1) lie in one image (operands can then be read and
 * written in place, with row stride p * q). */
static bool one_image(const plan *pl, int64_t j0, int64_t j1)
{
    return j0 / pl->pq == (j1 - 1) / pl->pq;
}

typedef struct fill_ctx {
    float *out;
    const float *values; /* one per row; NULL: zeros */
    int64_t row_len, ld;
} fill_ctx;

static void fill_rows(int64_t begin, int64_t end, void *p)
{
    const fill_ctx *c = p;
    for (int64_t i = begin; i < end; ++i) {
        float *row = c->out + i * c->ld;
        if (!c->values) {
            memset(row, 0, (size_t)c->row_len * sizeof *row);
            continue;
        }
        for (int64_t j = 0; j < c->row_len; ++j)
            row[j] = c->values[i];
    }
}

static void fill(int device, float *out, int64_t rows, int64_t row_len,
                 int64_t ld, const float *values)
{
    fill_ctx c = {.out = out, .values = values, .row_len = row_len, .ld = ld};
    cnn_cpu_parallel_for(device, rows, 1,
                         (16384 + row_len - 1) / row_len, fill_rows, &c);
}

static void forward(int device, const cnn_cpu_conv_shape *s, const plan *p,
                    const float *x, const float *w, const float *b, float *y)
{
    const plan pl = *p;
    for (int64_t j0 = 0; j0 < pl.total;) {
        int64_t j1 = block_end(&pl, j0), len = j1 - j0;
        int64_t n = j0 / pl.pq, off = j0 % pl.pq;
        bool single = one_image(&pl, j0, j1);
        for (int64_t g = 0; g < s->groups; ++g) {
            cnn_cpu_matrix a = {w + g * s->kg * s->rows, s->rows, false};
            cnn_cpu_matrix bm = {pl.col, pl.ld, false};
            if (pl.pointwise && single)
                bm = (cnn_cpu_matrix){
                    x + (n * s->c + g * s->cg) * pl.pq + off, pl.pq, false};
            else if (pl.pointwise)
                cnn_cpu_conv_gather(device, x, s->c, pl.pq, g * s->cg, s->cg,
                                    j0, j1, pl.col, pl.ld);
            else
                cnn_cpu_im2col(device, s, x, g, j0, j1, pl.col, pl.ld);
            if (single) {
                float *c = y + (n * s->k + g * s->kg) * pl.pq + off;
                if (b)
                    fill(device, c, s->kg, len, pl.pq, b + g * s->kg);
                cnn_cpu_sgemm(device, s->kg, len, s->rows, 1.0f, a, bm,
                              b ? 1.0f : 0.0f, c, pl.pq, pl.gemm_scratch);
            } else {
                cnn_cpu_sgemm(device, s->kg, len, s->rows, 1.0f, a, bm, 0.0f,
                              pl.tmp, pl.ld, pl.gemm_scratch);
                cnn_cpu_conv_scatter(device, pl.tmp, pl.ld, s->k, pl.pq,
                                     g * s->kg, s->kg, j0, j1, b, y);
            }
        }
        j0 = j1;
    }
}

/* With our GEMM: per group, one GEMM whose B operand is packed straight
 * from x and whose C is y itself, columns running across the images. */
static void forward_own(int device, const cnn_cpu_conv_shape *s,
                        void *scratch, const float *x, const float *w,
                        const float *b, float *y)
{
    const int64_t pq = s->p * s->q;
    for (int64_t g = 0; g < s->groups; ++g) {
        cnn_cpu_matrix_operand weights;
        cnn_cpu_unfold unfold = {.sh = s, .x = x, .g = g};
        cnn_cpu_gemm_out out = {.data = y + g * s->kg * pq, .ld = pq,
                                .seg = pq, .seg_stride = s->k * pq,
                                .bias = b ? b + g * s->kg : NULL};
        cnn_cpu_gemm_own_parallel(
            device, s->kg, s->n * pq, s->rows,
            cnn_cpu_operand_matrix(
                &weights,
                (cnn_cpu_matrix){w + g * s->kg * s->rows, s->rows, false},
                'a', 1.0f),
            cnn_cpu_operand_unfold(&unfold), false, out, scratch);
    }
}

static bool own_gemm(void)
{
    return cnn_cpu_gemm_active() == CNN_CPU_GEMM_OWN;
}

/* Our GEMM's packers read the input without bounds checks: a padded layer
 * runs on a zero-padded copy of its input, as the same layer without
 * padding. */
static size_t padded_bytes(const cnn_cpu_conv_shape *s)
{
    if (!s->pad_h && !s->pad_w)
        return 0;
    size_t bytes = (size_t)(s->n * s->c * (s->h + 2 * s->pad_h) *
                            (s->w + 2 * s->pad_w)) * sizeof(float);
    return (bytes + 63) / 64 * 64;
}

typedef struct pad_ctx {
    const cnn_cpu_conv_shape *sh;
    const float *x;
    float *out;
} pad_ctx;

static void pad_planes(int64_t begin, int64_t end, void *p)
{
    const pad_ctx *c = p;
    const cnn_cpu_conv_shape *s = c->sh;
    const int64_t wp = s->w + 2 * s->pad_w, hp = s->h + 2 * s->pad_h;
    for (int64_t plane = begin; plane < end; ++plane) {
        const float *src = c->x + plane * s->h * s->w;
        float *dst = c->out + plane * hp * wp;
        memset(dst, 0, (size_t)(s->pad_h * wp) * sizeof *dst);
        dst += s->pad_h * wp;
        for (int64_t row = 0; row < s->h; ++row, dst += wp, src += s->w) {
            memset(dst, 0, (size_t)s->pad_w * sizeof *dst);
            memcpy(dst + s->pad_w, src, (size_t)s->w * sizeof *dst);
            memset(dst + s->pad_w + s->w, 0, (size_t)s->pad_w * sizeof *dst);
        }
        memset(dst, 0, (size_t)(s->pad_h * wp) * sizeof *dst);
    }
}

/* x padded into buf (when the layer pads), and the layer as seen on it. */
static const float *pad_input(int device, const cnn_cpu_conv_shape *s,
                              const float *x, float *buf,
                              cnn_cpu_conv_shape *seen)
{
    *seen = *s;
    if (!s->pad_h && !s->pad_w)
        return x;
    pad_ctx c = {.sh = s, .x = x, .out = buf};
    int64_t plane = (s->h + 2 * s->pad_h) * (s->w + 2 * s->pad_w);
    cnn_cpu_parallel_for(device, s->n * s->c, 1, 16384 / plane + 1,
                         pad_planes, &c);
    seen->h += 2 * s->pad_h, seen->w += 2 * s->pad_w;
    seen->pad_h = seen->pad_w = 0;
    return buf;
}

/* The workspace for our GEMM's path: `reserve` bytes for the caller, the
 * padded input of s, and the GEMM's scratch. */
typedef struct own_space {
    float *reserved, *padded;
    void *gemm_scratch;
} own_space;

static cnn_status own_workspace(int device, const cnn_cpu_conv_shape *s,
                                size_t reserve, own_space *out)
{
    reserve = (reserve + 63) / 64 * 64;
    size_t pad = padded_bytes(s);
    unsigned char *ws = cnn_cpu_workspace(
        device, reserve + pad + cnn_cpu_gemm_scratch_bytes(device));
    if (!ws)
        return CNN_ERR_OUT_OF_MEMORY;
    out->reserved = (float *)ws;
    out->padded = (float *)(ws + reserve);
    out->gemm_scratch = ws + reserve + pad;
    return CNN_OK;
}

cnn_status cnn_cpu_conv_gemm_forward(int device, const cnn_cpu_conv_shape *s,
                                     const float *x, const float *w,
                                     const float *b, float *y)
{
    if (own_gemm()) {
        own_space ws;
        cnn_status st = own_workspace(device, s, 0, &ws);
        if (st != CNN_OK)
            return st;
        cnn_cpu_conv_shape seen;
        const float *xp = pad_input(device, s, x, ws.padded, &seen);
        forward_own(device, &seen, ws.gemm_scratch, xp, w, b, y);
        return CNN_OK;
    }
    plan pl;
    cnn_status st = make_plan(device, s, 0, &pl);
    if (st == CNN_OK)
        forward(device, s, &pl, x, w, b, y);
    return st;
}

/* With stride 1, dx is itself a convolution: of dy, padded by
 * dilation (kernel - 1) - pad, with each group's weights transposed
 * (input and output channels swapped) and flipped in both spatial
 * directions. Computed that way it is written straight into dx, with no
 * col2im and its scattered additions. */
static bool data_as_forward(const cnn_cpu_conv_shape *s)
{
    return s->stride_h == 1 && s->stride_w == 1 &&
           s->pad_h <= s->dilation_h * (s->r - 1) &&
           s->pad_w <= s->dilation_w * (s->s - 1);
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

static cnn_status data_by_forward(int device, const cnn_cpu_conv_shape *s,
                                  const float *dy, const float *w, float *dx)
{
    cnn_cpu_conv_shape t = *s;
    t.c = s->k, t.h = s->p, t.w = s->q;
    t.k = s->c, t.p = s->h, t.q = s->w;
    t.cg = s->kg, t.kg = s->cg;
    t.pad_h = s->dilation_h * (s->r - 1) - s->pad_h;
    t.pad_w = s->dilation_w * (s->s - 1) - s->pad_w;
    t.rows = t.cg * t.r * t.s;
    size_t flipped = (size_t)(s->c * s->kg * s->r * s->s) * sizeof(float);
    flip_ctx f = {.sh = s, .w = w};
    if (own_gemm()) {
        own_space ws;
        cnn_status st = own_workspace(device, &t, flipped, &ws);
        if (st != CNN_OK)
            return st;
        f.out = ws.reserved;
        cnn_cpu_parallel_for(device, s->c, 1,
                             16384 / (s->kg * s->r * s->s) + 1, flip_rows,
                             &f);
        cnn_cpu_conv_shape seen;
        const float *dyp = pad_input(device, &t, dy, ws.padded, &seen);
        forward_own(device, &seen, ws.gemm_scratch, dyp, ws.reserved, NULL,
                    dx);
        return CNN_OK;
    }
    plan pl;
    cnn_status st = make_plan(device, &t, flipped, &pl);
    if (st != CNN_OK)
        return st;
    f.out = pl.reserved;
    cnn_cpu_parallel_for(device, s->c, 1,
                         16384 / (s->kg * s->r * s->s) + 1, flip_rows, &f);
    forward(device, &t, &pl, dy, pl.reserved, NULL, dx);
    return CNN_OK;
}

cnn_status cnn_cpu_conv_gemm_backward_data(int device,
                                           const cnn_cpu_conv_shape *s,
                                           const float *dy, const float *w,
                                           float *dx)
{
    if (data_as_forward(s))
        return data_by_forward(device, s, dy, w, dx);
    plan pl;
    cnn_status st = make_plan(device, s, 0, &pl);
    if (st != CNN_OK)
        return st;
    /* Strided layers: col2im adds each block's columns into zeros. */
    fill(device, dx, s->n * s->c, s->h * s->w, s->h * s->w, NULL);
    for (int64_t j0 = 0; j0 < pl.total;) {
        int64_t j1 = block_end(&pl, j0), len = j1 - j0;
        int64_t n = j0 / pl.pq, off = j0 % pl.pq;
        bool single = one_image(&pl, j0, j1);
        for (int64_t g = 0; g < s->groups; ++g) {
            cnn_cpu_matrix a = {w + g * s->kg * s->rows, s->rows, true};
            cnn_cpu_matrix bm = {pl.tmp, pl.ld, false};
            if (single)
                bm = (cnn_cpu_matrix){
                    dy + (n * s->k + g * s->kg) * pl.pq + off, pl.pq, false};
            else
                cnn_cpu_conv_gather(device, dy, s->k, pl.pq, g * s->kg, s->kg,
                                    j0, j1, pl.tmp, pl.ld);
            cnn_cpu_sgemm(device, s->rows, len, s->kg, 1.0f, a, bm, 0.0f,
                          pl.col, pl.ld, pl.gemm_scratch);
            cnn_cpu_col2im(device, s, pl.col, pl.ld, g, j0, j1, dx);
        }
        j0 = j1;
    }
    return CNN_OK;
}

cnn_status cnn_cpu_conv_gemm_backward_filter(int device,
                                             const cnn_cpu_conv_shape *s,
                                             const float *dy, const float *x,
                                             float *dw)
{
    if (own_gemm()) {
        /* Per group, dw_g += dy_g unfold^T with both operands packed
         * straight from the tensors; the threads split dw, never the sum
         * over pixels. */
        own_space ws;
        cnn_status st = own_workspace(device, s, 0, &ws);
        if (st != CNN_OK)
            return st;
        cnn_cpu_conv_shape seen;
        const float *xp = pad_input(device, s, x, ws.padded, &seen);
        const int64_t pq = s->p * s->q;
        for (int64_t g = 0; g < s->groups; ++g) {
            cnn_cpu_planes planes = {.t = dy, .channels = s->k, .pq = pq,
                                     .ch0 = g * s->kg};
            cnn_cpu_unfold unfold = {.sh = &seen, .x = xp, .g = g};
            cnn_cpu_gemm_out out = {.data = dw + g * s->kg * s->rows,
                                    .ld = s->rows};
            cnn_cpu_gemm_own_parallel(device, s->kg, s->rows, s->n * pq,
                                      cnn_cpu_operand_planes(&planes),
                                      cnn_cpu_operand_unfold_t(&unfold), true,
                                      out, ws.gemm_scratch);
        }
        return CNN_OK;
    }
    plan pl;
    cnn_status st = make_plan(device, s, 0, &pl);
    if (st != CNN_OK)
        return st;
    for (int64_t j0 = 0; j0 < pl.total;) {
        int64_t j1 = block_end(&pl, j0), len = j1 - j0;
        int64_t n = j0 / pl.pq, off = j0 % pl.pq;
        bool single = one_image(&pl, j0, j1);
        for (int64_t g = 0; g < s->groups; ++g) {
            cnn_cpu_matrix a = {pl.tmp, pl.ld, false};
            cnn_cpu_matrix bm = {pl.col, pl.ld, true};
            if (single)
                a = (cnn_cpu_matrix){
                    dy + (n * s->k + g * s->kg) * pl.pq + off, pl.pq, false};
            else
                cnn_cpu_conv_gather(device, dy, s->k, pl.pq, g * s->kg, s->kg,
                                    j0, j1, pl.tmp, pl.ld);
            if (pl.pointwise && single)
                bm = (cnn_cpu_matrix){
                    x + (n * s->c + g * s->cg) * pl.pq + off, pl.pq, true};
            else if (pl.pointwise)
                cnn_cpu_conv_gather(device, x, s->c, pl.pq, g * s->cg, s->cg,
                                    j0, j1, pl.col, pl.ld);
            else
                cnn_cpu_im2col(device, s, x, g, j0, j1, pl.col, pl.ld);
            cnn_cpu_sgemm(device, s->kg, s->rows, len, 1.0f, a, bm, 1.0f,
                          dw + g * s->kg * s->rows, s->rows, pl.gemm_scratch);
        }
        j0 = j1;
    }
    return CNN_OK;
}
