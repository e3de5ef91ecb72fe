/* src/cpu/conv_own.c - convolution on our own GEMM. Per group, a GEMM
 * whose unfolded-input operand is packed straight from the input
 * (conv_pack.c) and, in the forward, whose C is y itself, its columns
 * running across the images of the batch: no im2col buffer, no copy of
 * the output.
 *
 * The input is first prepared: zero-padded, so that the packers test no
 * bounds, and with each row split into stride phases, so that a strided
 * layer's packing copies consecutive floats too (one pass over the input
 * buys that for every kernel position that reads it). It is prepared a
 * block of images at a time, a block small enough to stay in cache until
 * the GEMM has packed it; rows and phases that no kernel position reads
 * are skipped (the packers never read them).
 *
 * Each op is one parallel region: every thread prepares what it reads
 * into a buffer of its own and runs its GEMMs on its part of the output,
 * with no barrier in between. On a machine shared with other work a
 * barrier costs a time slice whenever one thread has been preempted, and
 * a region per block and step made strided layers ten times slower there.
 *
 *   forward   y_g = w_g unfold(x)_g: the threads split the pixels
 *   data      stride 1: the forward of dy with transposed, flipped weights
 *   filter    dw_g += dy_g unfold(x)_g^T: the threads split dw, each
 *             summing over all the pixels, blocks of images in order
 */
#include <string.h>

#include "conv.h"
#include "simd.h"

/* The prepared input's layout for layer s (channels and x set later): a
 * row holds min(stride, width) phases, the others being empty. */
static cnn_cpu_unfold layout(const cnn_cpu_conv_shape *s)
{
    int64_t width = s->w + 2 * s->pad_w;
    int64_t phase = (width + s->stride_w - 1) / s->stride_w;
    int64_t phases = s->stride_w < width ? s->stride_w : width;
    return (cnn_cpu_unfold){.sh = s, .height = s->h + 2 * s->pad_h,
                            .row = phase * phases, .phase = phase};
}

/* Whether some kernel row reads padded input row hp, and some kernel
 * column phase f: a strided layer skips the others (a 1x1 layer with
 * stride 2 reads one row in two and one phase of two). */
static bool row_read(const cnn_cpu_conv_shape *s, int64_t hp)
{
    for (int64_t kr = 0; kr < s->r; ++kr) {
        int64_t t = hp - kr * s->dilation_h;
        if (t >= 0 && t % s->stride_h == 0 && t / s->stride_h < s->p)
            return true;
    }
    return false;
}

static bool phase_read(const cnn_cpu_conv_shape *s, int64_t f)
{
    for (int64_t ks = 0; ks < s->s; ++ks)
        if (ks * s->dilation_w % s->stride_w == f)
            return true;
    return false;
}

/* Whether x can be read as it is (no padding, stride 1). */
static bool as_is(const cnn_cpu_conv_shape *s)
{
    return !s->pad_h && !s->pad_w && s->stride_w == 1;
}

/* Images per block: about 2 MB of the prepared input of all channels, but
 * at least 512 output pixels, so that a block makes a GEMM of useful width
 * (the whole batch when nothing needs preparing). The blocks cut the
 * filter gradient's sum over pixels, so they never depend on the thread
 * count. */
static int64_t block_images(const cnn_cpu_conv_shape *s)
{
    if (as_is(s))
        return s->n;
    cnn_cpu_unfold u = layout(s);
    int64_t per_image = s->c * u.height * u.row * (int64_t)sizeof(float);
    int64_t images = ((int64_t)2 << 20) / per_image;
    int64_t wide = (512 + s->p * s->q - 1) / (s->p * s->q);
    if (images < wide)
        images = wide;
    return images > s->n ? s->n : images;
}

static size_t round64(size_t bytes)
{
    return (bytes + 63) / 64 * 64;
}

/* The prepared block of one thread. */
static size_t prepared_bytes(const cnn_cpu_conv_shape *s)
{
    if (as_is(s))
        return 0;
    cnn_cpu_unfold u = layout(s);
    return round64((size_t)(block_images(s) * s->c * u.height * u.row) *
                   sizeof(float));
}

/* Channels [c0, c1) of images [n0, n1) of x, prepared into out (laid out
 * as u says), on the calling thread. */
CNN_CPU_CLONES
static void prepare_block(const cnn_cpu_unfold *u, const float *x, int64_t n0,
                          int64_t n1, int64_t c0, int64_t c1, float *out)
{
    const cnn_cpu_conv_shape *s = u->sh;
    const int64_t sw = s->stride_w, phases = u->row / u->phase;
    for (int64_t n = n0; n < n1; ++n)
        for (int64_t ch = c0; ch < c1; ++ch) {
            const float *src = x + (n * s->c + ch) * s->h * s->w;
            float *dst = out + ((n - n0) * (c1 - c0) + ch - c0) * u->height *
                                   u->row;
            memset(dst, 0, (size_t)(s->pad_h * u->row) * sizeof *dst);
            dst += s->pad_h * u->row;
            for (int64_t r = 0; r < s->h; ++r, dst += u->row, src += s->w) {
                if (s->stride_h > 1 && !row_read(s, r + s->pad_h))
                    continue;
                if (sw == 1) {
                    memset(dst, 0, (size_t)s->pad_w * sizeof *dst);
                    memcpy(dst + s->pad_w, src, (size_t)s->w * sizeof *dst);
                    memset(dst + s->pad_w + s->w, 0,
                           (size_t)(u->row - s->pad_w - s->w) * sizeof *dst);
                    continue;
                }
                /* Phase f holds padded columns f + i sw, i < phase: input
                 * columns f + i sw - pad_w where they exist. */
                for (int64_t f = 0; f < phases; ++f) {
                    if (!phase_read(s, f))
                        continue;
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

/* The input of images [n0, n1), channels [c0, c1), as the packers read it:
 * prepared into buf, or x itself when it can be read as it is. */
static cnn_cpu_unfold input_of(const cnn_cpu_conv_shape *s, const float *x,
                               int64_t n0, int64_t n1, int64_t c0, int64_t c1,
                               float *buf)
{
    if (as_is(s))
        return (cnn_cpu_unfold){.sh = s, .x = x + n0 * s->c * s->h * s->w,
                                .height = s->h, .row = s->w, .phase = s->w,
                                .channels = s->c, .first = 0};
    cnn_cpu_unfold u = layout(s);
    prepare_block(&u, x, n0, n1, c0, c1, buf);
    u.x = buf;
    u.channels = c1 - c0;
    u.first = c0;
    return u;
}

/* One op's work, shared by its threads. */
typedef struct own_job {
    const cnn_cpu_conv_shape *sh;
    const float *x, *w, *b, *dy;
    float *out;
    unsigned char *scratch; /* per thread: GEMM scratch, then a block */
    size_t gemm_bytes, thread_bytes;
    float *packed;          /* forward: the weights, packed for the GEMM */
    size_t packed_group;    /* floats of them per group */
    int64_t parts;          /* forward: pixel ranges; filter: grid cells */
    int64_t grid_m;         /* filter: output-channel ranges */
} own_job;

static float *gemm_scratch(const own_job *j)
{
    return (float *)(j->scratch +
                     (size_t)cnn_cpu_thread_index() * j->thread_bytes);
}

static float *block_buffer(const own_job *j)
{
    return (float *)(j->scratch +
                     (size_t)cnn_cpu_thread_index() * j->thread_bytes +
                     j->gemm_bytes);
}

/* [begin, end) of `total` split in `parts`, in multiples of `align`. */
static void share(int64_t total, int64_t parts, int64_t part, int64_t align,
                  int64_t *begin, int64_t *end)
{
    int64_t units = (total + align - 1) / align;
    *begin = units * part / parts * align;
    *end = units * (part + 1) / parts * align;
    if (*begin > total)
        *begin = total;
    if (*end > total)
        *end = total;
}

/* Forward: part t takes whole images when there are at least as many as
 * parts, else a range of the pixels of the batch. */
static void forward_part(int64_t begin, int64_t end, void *p)
{
    const own_job *j = p;
    const cnn_cpu_conv_shape *s = j->sh;
    const cnn_cpu_gemm_kernel *kernel = cnn_cpu_gemm_kernel_best();
    const int64_t pq = s->p * s->q, step = block_images(s);
    for (int64_t t = begin; t < end; ++t) {
        int64_t c0, c1; /* pixels of the batch */
        if (s->n >= j->parts) {
            share(s->n, j->parts, t, 1, &c0, &c1);
            c0 *= pq, c1 *= pq;
        } else {
            share(s->n * pq, j->parts, t, kernel->nr, &c0, &c1);
        }
        for (int64_t n0 = c0 / pq; c0 < c1; n0 += step) {
            int64_t n1 = n0 + step < s->n ? n0 + step : s->n;
            int64_t b1 = n1 * pq < c1 ? n1 * pq : c1; /* block's pixels */
            cnn_cpu_unfold in = input_of(s, j->x, n0, n1, 0, s->c,
                                         block_buffer(j));
            for (int64_t g = 0; g < s->groups; ++g) {
                cnn_cpu_operand weights = {
                    .packed = j->packed + (size_t)g * j->packed_group};
                cnn_cpu_unfold unfold = in;
                unfold.g = g;
                cnn_cpu_gemm_out out = {
                    .data = j->out + (n0 * s->k + g * s->kg) * pq, .ld = pq,
                    .seg = pq, .seg_stride = s->k * pq,
                    .bias = j->b ? j->b + g * s->kg : NULL};
                cnn_cpu_gemm_own_block(kernel, 0, s->kg, c0 - n0 * pq,
                                       b1 - n0 * pq, s->rows, weights,
                                       cnn_cpu_operand_unfold(&unfold), false,
                                       out, gemm_scratch(j));
            }
            c0 = b1;
        }
    }
}

/* Scratch for `threads` threads, each with the GEMM's and a block, after
 * `reserve` bytes for the caller. */
static unsigned char *own_workspace(int device, const cnn_cpu_conv_shape *s,
                                    size_t reserve, own_job *j)
{
    j->gemm_bytes = cnn_cpu_gemm_thread_scratch_bytes();
    j->thread_bytes = j->gemm_bytes + prepared_bytes(s);
    reserve = round64(reserve);
    unsigned char *ws = cnn_cpu_workspace(
        device, reserve + (size_t)cnn_cpu_device_threads(device) *
                              j->thread_bytes);
    if (ws)
        j->scratch = ws + reserve;
    return ws;
}

static int64_t threads_for(int device, const cnn_cpu_conv_shape *s)
{
    /* Below about 2^18 multiply-adds a thread team costs more than it
     * saves. */
    double work = (double)s->n * (double)s->k * (double)(s->p * s->q) *
                  (double)s->rows;
    return work < 262144.0 ? 1 : cnn_cpu_device_threads(device);
}

/* The forward packs each group's weights once, for all the blocks of all
 * threads: packed again for every block of pixels they would cost as much
 * as the multiplication where images are small and weights large
 * (ResNet's 7x7 layers). One sliver of mr output channels per item. */
static void prepack_slivers(int64_t begin, int64_t end, void *p)
{
    const own_job *j = p;
    const cnn_cpu_conv_shape *s = j->sh;
    const cnn_cpu_gemm_kernel *kernel = cnn_cpu_gemm_kernel_best();
    const int64_t per_group = (s->kg + kernel->mr - 1) / kernel->mr;
    for (int64_t item = begin; item < end; ++item) {
        int64_t g = item / per_group, sl = item % per_group;
        cnn_cpu_matrix_operand storage;
        cnn_cpu_operand weights = cnn_cpu_operand_matrix(
            &storage, (cnn_cpu_matrix){j->w + g * s->kg * s->rows, s->rows,
                                       false},
            'a', 1.0f);
        cnn_cpu_gemm_prepack(kernel, weights, s->kg, s->rows, sl, sl + 1,
                             j->packed + (size_t)g * j->packed_group,
                             gemm_scratch(j));
    }
}

static size_t packed_bytes(const cnn_cpu_conv_shape *s)
{
    return round64((size_t)s->groups *
                   cnn_cpu_gemm_prepacked_floats(cnn_cpu_gemm_kernel_best(),
                                                 s->kg, s->rows) *
                   sizeof(float));
}

/* The forward of layer j->sh, its weights packed into `packed`. */
static void forward(int device, own_job *j, float *packed)
{
    const cnn_cpu_conv_shape *s = j->sh;
    const cnn_cpu_gemm_kernel *kernel = cnn_cpu_gemm_kernel_best();
    j->packed = packed;
    j->packed_group = cnn_cpu_gemm_prepacked_floats(kernel, s->kg, s->rows);
    int64_t slivers = s->groups * ((s->kg + kernel->mr - 1) / kernel->mr);
    cnn_cpu_parallel_for(device, slivers, 1, 1 + 65536 / (s->rows * kernel->mr),
                         prepack_slivers, j);
    j->parts = threads_for(device, s);
    cnn_cpu_parallel_for(device, j->parts, 1, 1, forward_part, j);
}

cnn_status cnn_cpu_conv_own_forward(int device, const cnn_cpu_conv_shape *s,
                                    const float *x, const float *w,
                                    const float *b, float *y)
{
    own_job j = {.sh = s, .x = x, .w = w, .b = b, .out = y};
    unsigned char *ws = own_workspace(device, s, packed_bytes(s), &j);
    if (!ws)
        return CNN_ERR_OUT_OF_MEMORY;
    forward(device, &j, (float *)ws);
    return CNN_OK;
}

cnn_status cnn_cpu_conv_own_backward_data(int device,
                                          const cnn_cpu_conv_shape *s,
                                          const float *dy, const float *w,
                                          float *dx)
{
    cnn_cpu_conv_shape t = cnn_cpu_conv_data_shape(s);
    size_t flipped = round64((size_t)(s->c * s->kg * s->r * s->s) *
                             sizeof(float));
    own_job j = {.sh = &t, .x = dy, .out = dx};
    unsigned char *ws = own_workspace(device, &t, flipped + packed_bytes(&t),
                                      &j);
    if (!ws)
        return CNN_ERR_OUT_OF_MEMORY;
    cnn_cpu_conv_flip_weights(device, s, w, (float *)ws);
    j.w = (const float *)ws;
    forward(device, &j, (float *)(ws + flipped));
    return CNN_OK;
}

/* Filter gradient: cell t of a grid_m x (parts / grid_m) grid over dw
 * takes a range of output channels and a range of dw's columns (the
 * kernel positions of all groups, one after the other), and prepares only
 * the input channels those columns read. */
static void filter_part(int64_t begin, int64_t end, void *p)
{
    const own_job *j = p;
    const cnn_cpu_conv_shape *s = j->sh;
    const cnn_cpu_gemm_kernel *kernel = cnn_cpu_gemm_kernel_best();
    const int64_t pq = s->p * s->q, rs = s->r * s->s, step = block_images(s);
    const int64_t grid_n = j->parts / j->grid_m;
    for (int64_t t = begin; t < end; ++t) {
        int64_t m0, m1, r0, r1; /* output channels of a group; columns */
        share(s->kg, j->grid_m, t / grid_n, kernel->mr, &m0, &m1);
        share(s->groups * s->rows, grid_n, t % grid_n, kernel->nr, &r0, &r1);
        if (m0 >= m1 || r0 >= r1)
            continue;
        /* Column g rows + ci rs + kr s + ks reads input channel
         * g cg + ci = column / rs. */
        int64_t u0 = r0 / rs, u1 = (r1 - 1) / rs + 1;
        for (int64_t n0 = 0; n0 < s->n; n0 += step) {
            int64_t n1 = n0 + step < s->n ? n0 + step : s->n;
            cnn_cpu_unfold in = input_of(s, j->x, n0, n1, u0, u1,
                                         block_buffer(j));
            for (int64_t g = r0 / s->rows; g * s->rows < r1; ++g) {
                int64_t lo = r0 > g * s->rows ? r0 - g * s->rows : 0;
                int64_t hi = r1 < (g + 1) * s->rows ? r1 - g * s->rows
                                                    : s->rows;
                cnn_cpu_planes planes = {.t = j->dy + n0 * s->k * pq,
                                         .channels = s->k, .pq = pq,
                                         .ch0 = g * s->kg};
                cnn_cpu_unfold unfold = in;
                unfold.g = g;
                cnn_cpu_gemm_out out = {.data = j->out + g * s->kg * s->rows,
                                        .ld = s->rows};
                cnn_cpu_gemm_own_block(kernel, m0, m1, lo, hi, (n1 - n0) * pq,
                                       cnn_cpu_operand_planes(&planes),
                                       cnn_cpu_operand_unfold_t(&unfold),
                                       true, out, gemm_scratch(j));
            }
        }
    }
}

cnn_status cnn_cpu_conv_own_backward_filter(int device,
                                            const cnn_cpu_conv_shape *s,
                                            const float *dy, const float *x,
                                            float *dw)
{
    own_job j = {.sh = s, .x = x, .dy = dy, .out = dw};
    if (!own_workspace(device, s, 0, &j))
        return CNN_ERR_OUT_OF_MEMORY;
    /* Each cell packs its rows of dy and its columns of the unfolded
     * input over every pixel: the grid whose cell does the least
     * multiply-adds plus packing (a packed value costs about as much as 50
     * multiply-adds) wins. */
    const cnn_cpu_gemm_kernel *kernel = cnn_cpu_gemm_kernel_best();
    j.parts = threads_for(device, s);
    j.grid_m = 1;
    double best = -1.0;
    for (int64_t gm = 1; gm <= j.parts; ++gm) {
        if (j.parts % gm)
            continue;
        int64_t gn = j.parts / gm;
        double tm = (double)((s->kg / kernel->mr + gm - 1) / gm * kernel->mr);
        double tn = (double)((s->groups * s->rows / kernel->nr + gn - 1) / gn *
                             kernel->nr);
        double cost = tm * tn + 50.0 * (tm + tn);
        if (best < 0.0 || cost < best)
            best = cost, j.grid_m = gm;
    }
    cnn_cpu_parallel_for(device, j.parts, 1, 1, filter_part, &j);
    return CNN_OK;
}
