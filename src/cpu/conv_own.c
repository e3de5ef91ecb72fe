/* src/cpu/conv_own.c - convolution on our own GEMM. Per group, one GEMM
 * whose unfolded-input operand is packed straight from the input
 * (conv_pack.c) and, in the forward, whose C is y itself, its columns
 * running across the images of the batch: no im2col buffer, no copy of
 * the output. The input is first prepared in the workspace: zero-padded,
 * so that the packers test no bounds, and with each row split into
 * stride phases, so that a strided layer's packing copies consecutive
 * floats too (one pass over the input buys that for every kernel
 * position that reads it). It is prepared a block of images at a time,
 * a block small enough to stay in cache until the GEMM has packed it.
 *
 *   forward   y_g  = w_g unfold(x)_g                 (threads split y)
 *   data      stride 1: the forward of dy with transposed, flipped weights
 *   filter    dw_g += dy_g unfold(x)_g^T             (threads split dw)
 */
#include <string.h>

#include "conv.h"
#include "simd.h"

/* The prepared input's layout for layer s. */
static cnn_cpu_unfold layout(const cnn_cpu_conv_shape *s)
{
    int64_t width = s->w + 2 * s->pad_w;
    int64_t phase = (width + s->stride_w - 1) / s->stride_w;
    return (cnn_cpu_unfold){.sh = s, .height = s->h + 2 * s->pad_h,
                            .row = phase * s->stride_w, .phase = phase};
}

/* Whether x can be read as it is (no padding, stride 1). */
static bool as_is(const cnn_cpu_conv_shape *s)
{
    return !s->pad_h && !s->pad_w && s->stride_w == 1;
}

/* Images per block: about 2 MB of prepared input (the whole batch when
 * nothing needs preparing). */
static int64_t block_images(const cnn_cpu_conv_shape *s)
{
    if (as_is(s))
        return s->n;
    cnn_cpu_unfold u = layout(s);
    int64_t per_image = s->c * u.height * u.row * (int64_t)sizeof(float);
    int64_t images = ((int64_t)2 << 20) / per_image;
    return images < 1 ? 1 : images > s->n ? s->n : images;
}

static size_t prepared_bytes(const cnn_cpu_conv_shape *s)
{
    if (as_is(s))
        return 0;
    cnn_cpu_unfold u = layout(s);
    size_t bytes = (size_t)(block_images(s) * s->c * u.height * u.row) *
                   sizeof(float);
    return (bytes + 63) / 64 * 64;
}

/* Layer s on `count` images. */
static cnn_cpu_conv_shape images_of(const cnn_cpu_conv_shape *s,
                                    int64_t count)
{
    cnn_cpu_conv_shape b = *s;
    b.n = count;
    return b;
}

typedef struct prepare_ctx {
    const cnn_cpu_unfold *u;
    const float *x;
    float *out;
} prepare_ctx;

CNN_CPU_CLONES
static void prepare_planes(int64_t begin, int64_t end, void *p)
{
    const prepare_ctx *c = p;
    const cnn_cpu_unfold *u = c->u;
    const cnn_cpu_conv_shape *s = u->sh;
    const int64_t sw = s->stride_w;
    for (int64_t plane = begin; plane < end; ++plane) {
        const float *src = c->x + plane * s->h * s->w;
        float *dst = c->out + plane * u->height * u->row;
        memset(dst, 0, (size_t)(s->pad_h * u->row) * sizeof *dst);
        dst += s->pad_h * u->row;
        for (int64_t r = 0; r < s->h; ++r, dst += u->row, src += s->w) {
            if (sw == 1) {
                memset(dst, 0, (size_t)s->pad_w * sizeof *dst);
                memcpy(dst + s->pad_w, src, (size_t)s->w * sizeof *dst);
                memset(dst + s->pad_w + s->w, 0,
                       (size_t)(u->row - s->pad_w - s->w) * sizeof *dst);
                continue;
            }
            /* Phase f holds padded columns f + i sw, i < phase: input
             * columns f + i sw - pad_w where they exist. */
            for (int64_t f = 0; f < sw; ++f) {
                float *restrict d = dst + f * u->phase;
                int64_t first = s->pad_w - f; /* i sw >= first */
                int64_t lo = first <= 0 ? 0 : (first + sw - 1) / sw;
                int64_t last = s->w - 1 + s->pad_w - f; /* i sw <= last */
                int64_t hi = last < 0 ? 0 : last / sw + 1;
                if (hi > u->phase)
                    hi = u->phase;
                if (lo > hi)
                    lo = hi;
                int64_t i = 0;
                for (; i < lo; ++i)
                    d[i] = 0.0f;
                for (; i < hi; ++i)
                    d[i] = src[i * sw + f - s->pad_w];
                for (; i < u->phase; ++i)
                    d[i] = 0.0f;
            }
        }
        memset(dst, 0, (size_t)(s->pad_h * u->row) * sizeof *dst);
    }
}

/* The workspace of one call: `reserve` bytes for the caller, the prepared
 * input of s, and the GEMM's scratch. */
typedef struct own_space {
    float *reserved;
    cnn_cpu_unfold input; /* .x and .g filled in later */
    float *prepared;
    void *gemm_scratch;
} own_space;

static cnn_status own_workspace(int device, const cnn_cpu_conv_shape *s,
                                size_t reserve, own_space *out)
{
    reserve = (reserve + 63) / 64 * 64;
    size_t prepared = prepared_bytes(s);
    unsigned char *ws = cnn_cpu_workspace(
        device, reserve + prepared + cnn_cpu_gemm_scratch_bytes(device));
    if (!ws)
        return CNN_ERR_OUT_OF_MEMORY;
    out->reserved = (float *)ws;
    out->prepared = (float *)(ws + reserve);
    out->gemm_scratch = ws + reserve + prepared;
    return CNN_OK;
}

/* Prepares x (unless it can be read as it is) and sets ws->input. */
static void prepare(int device, const cnn_cpu_conv_shape *s, const float *x,
                    own_space *ws)
{
    if (as_is(s)) {
        ws->input = (cnn_cpu_unfold){.sh = s, .x = x, .height = s->h,
                                     .row = s->w, .phase = s->w};
        return;
    }
    ws->input = layout(s);
    ws->input.x = ws->prepared;
    prepare_ctx c = {.u = &ws->input, .x = x, .out = ws->prepared};
    int64_t plane = ws->input.height * ws->input.row;
    cnn_cpu_parallel_for(device, s->n * s->c, 1, 16384 / plane + 1,
                         prepare_planes, &c);
}

static void forward(int device, const own_space *ws, const float *w,
                    const float *b, float *y)
{
    const cnn_cpu_conv_shape *s = ws->input.sh;
    const int64_t pq = s->p * s->q;
    for (int64_t g = 0; g < s->groups; ++g) {
        cnn_cpu_matrix_operand weights;
        cnn_cpu_unfold unfold = ws->input;
        unfold.g = g;
        cnn_cpu_gemm_out out = {.data = y + g * s->kg * pq, .ld = pq,
                                .seg = pq, .seg_stride = s->k * pq,
                                .bias = b ? b + g * s->kg : NULL};
        cnn_cpu_gemm_own_parallel(
            device, s->kg, s->n * pq, s->rows,
            cnn_cpu_operand_matrix(
                &weights,
                (cnn_cpu_matrix){w + g * s->kg * s->rows, s->rows, false},
                'a', 1.0f),
            cnn_cpu_operand_unfold(&unfold), false, out, ws->gemm_scratch);
    }
}

/* The forward of layer s (x [n, c, h, w] to y [n, k, p, q]), a block of
 * images at a time, in the workspace ws. */
static void forward_blocks(int device, const cnn_cpu_conv_shape *s,
                           own_space *ws, const float *x, const float *w,
                           const float *b, float *y)
{
    const int64_t step = block_images(s);
    for (int64_t n0 = 0; n0 < s->n; n0 += step) {
        cnn_cpu_conv_shape block = images_of(s, s->n - n0 < step ? s->n - n0
                                                                 : step);
        prepare(device, &block, x + n0 * s->c * s->h * s->w, ws);
        forward(device, ws, w, b, y + n0 * s->k * s->p * s->q);
    }
}

cnn_status cnn_cpu_conv_own_forward(int device, const cnn_cpu_conv_shape *s,
                                    const float *x, const float *w,
                                    const float *b, float *y)
{
    own_space ws;
    cnn_status st = own_workspace(device, s, 0, &ws);
    if (st != CNN_OK)
        return st;
    forward_blocks(device, s, &ws, x, w, b, y);
    return CNN_OK;
}

cnn_status cnn_cpu_conv_own_backward_data(int device,
                                          const cnn_cpu_conv_shape *s,
                                          const float *dy, const float *w,
                                          float *dx)
{
    cnn_cpu_conv_shape t = cnn_cpu_conv_data_shape(s);
    own_space ws;
    size_t flipped = (size_t)(s->c * s->kg * s->r * s->s) * sizeof(float);
    cnn_status st = own_workspace(device, &t, flipped, &ws);
    if (st != CNN_OK)
        return st;
    cnn_cpu_conv_flip_weights(device, s, w, ws.reserved);
    forward_blocks(device, &t, &ws, dy, ws.reserved, NULL, dx);
    return CNN_OK;
}

cnn_status cnn_cpu_conv_own_backward_filter(int device,
                                            const cnn_cpu_conv_shape *s,
                                            const float *dy, const float *x,
                                            float *dw)
{
    own_space ws;
    cnn_status st = own_workspace(device, s, 0, &ws);
    if (st != CNN_OK)
        return st;
    /* Blocks of images in order, each adding its share into dw: the sum
     * over pixels runs in the same order whatever the thread count. */
    const int64_t pq = s->p * s->q, step = block_images(s);
    for (int64_t n0 = 0; n0 < s->n; n0 += step) {
        cnn_cpu_conv_shape block = images_of(s, s->n - n0 < step ? s->n - n0
                                                                 : step);
        prepare(device, &block, x + n0 * s->c * s->h * s->w, &ws);
        for (int64_t g = 0; g < s->groups; ++g) {
            cnn_cpu_planes planes = {.t = dy + n0 * s->k * pq,
                                     .channels = s->k, .pq = pq,
                                     .ch0 = g * s->kg};
            cnn_cpu_unfold unfold = ws.input;
            unfold.g = g;
            cnn_cpu_gemm_out out = {.data = dw + g * s->kg * s->rows,
                                    .ld = s->rows};
            cnn_cpu_gemm_own_parallel(device, s->kg, s->rows, block.n * pq,
                                      cnn_cpu_operand_planes(&planes),
                                      cnn_cpu_operand_unfold_t(&unfold), true,
                                      out, ws.gemm_scratch);
        }
    }
    return CNN_OK;
}
