/* src/cpu/conv_gemm.c - the NATIVE engine's convolution: which path runs
 * each op, and the path for OpenBLAS (or any GEMM that takes plain
 * matrices). With our own GEMM the operands are packed straight from the
 * tensors (conv_own.c); a strided layer's data gradient goes image by
 * image (conv_data.c). Here each group is a GEMM between its weights and
 * the unfolded input (im2col), taken over a block of columns at a time,
 * where a column is one output pixel of one image. Small images are
 * batched into one large GEMM (AlexNet's 13x13 and ResNet's 7x7 layers
 * would otherwise make GEMMs too narrow to run fast); large ones are cut
 * so that the unfolded block stays within a bounded workspace. A 1x1
 * convolution with stride 1 and no padding needs no unfolding: the input
 * itself is the GEMM operand.
 *
 *   forward        y_g [kg x cols]    = w_g [kg x rows] col [rows x cols]
 *   data           stride 1: the forward of dy with flipped weights
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

static bool own_gemm(void)
{
    return cnn_cpu_gemm_active() == CNN_CPU_GEMM_OWN;
}

cnn_status cnn_cpu_conv_gemm_forward(int device, const cnn_cpu_conv_shape *s,
                                     const float *x, const float *w,
                                     const float *b, float *y)
{
    if (own_gemm())
        return cnn_cpu_conv_own_forward(device, s, x, w, b, y);
    plan pl;
    cnn_status st = make_plan(device, s, 0, &pl);
    if (st == CNN_OK)
        forward(device, s, &pl, x, w, b, y);
    return st;
}

cnn_status cnn_cpu_conv_gemm_backward_data(int device,
                                           const cnn_cpu_conv_shape *s,
                                           const float *dy, const float *w,
                                           float *dx)
{
    if (!cnn_cpu_conv_data_as_forward(s))
        return cnn_cpu_conv_strided_backward_data(device, s, dy, w, dx);
    if (own_gemm())
        return cnn_cpu_conv_own_backward_data(device, s, dy, w, dx);
    cnn_cpu_conv_shape t = cnn_cpu_conv_data_shape(s);
    size_t flipped = (size_t)(s->c * s->kg * s->r * s->s) * sizeof(float);
    plan pl;
    cnn_status st = make_plan(device, &t, flipped, &pl);
    if (st != CNN_OK)
        return st;
    cnn_cpu_conv_flip_weights(device, s, w, pl.reserved);
    forward(device, &t, &pl, dy, pl.reserved, NULL, dx);
    return CNN_OK;
}

cnn_status cnn_cpu_conv_gemm_backward_filter(int device,
                                             const cnn_cpu_conv_shape *s,
                                             const float *dy, const float *x,
                                             float *dw)
{
    if (own_gemm())
        return cnn_cpu_conv_own_backward_filter(device, s, dy, x, dw);
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
