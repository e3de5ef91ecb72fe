/* src/cpu/conv_pack.c - packers that feed our GEMM a convolution's
 * operands straight from the tensors (see cnn_cpu_pack_fn), so that the
 * unfolded input is never written out in full and read back. They read
 * the input as conv_own.c prepares it (padded, rows split into stride
 * phases: cnn_cpu_unfold), where unfolding is plain copying of runs of
 * consecutive floats with no bounds to test:
 *   unfold     B of the forward: the unfolded input, k = (channel, kernel
 *              row, kernel column), rows = output pixels of the batch
 *   unfold_t   B of the filter gradient: the same transposed (rows = the
 *              kernel positions, k = output pixels)
 *   planes     A of the filter gradient: channel planes of dy, k = output
 *              pixels across the batch */
#include "conv.h"
#include "simd.h"

/* In the prepared input the unfolded value at kernel position
 * (ci, kr, ks) and output pixel (n, oh, ow) is x[base + koff] with
 *     base = ((n channels + g cg - first) height + oh stride_h) row + ow
 *     koff = (ci height + kr dilation_h) row
 *            + (ks dilation_w mod stride_w) phase
 *            + ks dilation_w / stride_w
 * so a run of output pixels along one output row reads consecutive floats
 * from a start that is a sum of two offsets, one per run and one per
 * kernel position. */
typedef struct pixel_run {
    int64_t at, len; /* place in the sliver, pixels */
    int64_t base;    /* x offset of its first pixel at koff 0 */
} pixel_run;

#define MAX_WIDTH 64 /* the widest sliver of any kernel */

/* The runs of output pixels [first, first + count), cut where output rows
 * end; returns their number (at most count). */
static int pixel_runs(const cnn_cpu_unfold *u, int64_t first, int64_t count,
                      pixel_run *runs)
{
    const cnn_cpu_conv_shape *s = u->sh;
    const int64_t pq = s->p * s->q;
    first += u->pixel0;
    /* When output rows are as long as input rows, one stride 1 apart
     * (kernels one column wide, no padding), an image's pixels are one
     * run. */
    const int64_t span = u->row == s->q && s->stride_h == 1 ? pq : s->q;
    int nruns = 0;
    for (int64_t j = first; j < first + count;) {
        int64_t n = j / pq, oh = j % pq / s->q, ow = j % s->q;
        int64_t left = span - (span == pq ? j % pq : ow);
        pixel_run *run = &runs[nruns++];
        run->at = j - first;
        run->len = left < first + count - j ? left : first + count - j;
        run->base = ((n * u->channels + u->g * s->cg - u->first) *
                         u->height +
                     oh * s->stride_h) * u->row + ow;
        j += run->len;
    }
    return nruns;
}

/* The x offset of kernel position k (channel, kernel row, kernel column
 * of the group). */
static inline int64_t kernel_offset(const cnn_cpu_unfold *u, int64_t k)
{
    const cnn_cpu_conv_shape *s = u->sh;
    int64_t ci = k / (s->r * s->s), kr = k / s->s % s->r, ks = k % s->s;
    int64_t col = ks * s->dilation_w;
    return (ci * u->height + kr * s->dilation_h) * u->row +
           col % s->stride_w * u->phase + col / s->stride_w;
}

CNN_CPU_CLONES
static void pack_unfold(const void *ctx, const cnn_cpu_gemm_kernel *kernel,
                        int64_t r0, int64_t rows, int64_t k0, int64_t kc,
                        int width, float *dst, float *tmp)
{
    (void)kernel, (void)tmp;
    const cnn_cpu_unfold *u = ctx;
    pixel_run runs[MAX_WIDTH];
    for (int64_t sl = 0; sl < rows; sl += width, dst += kc * width) {
        int64_t count = rows - sl < width ? rows - sl : width;
        int nruns = pixel_runs(u, r0 + sl, count, runs);
        for (int64_t p = 0; p < kc; ++p) {
            float *d = dst + p * width;
            const float *x = u->x + kernel_offset(u, k0 + p);
            for (int t = 0; t < nruns; ++t)
                cnn_cpu_copy_run(d + runs[t].at, x + runs[t].base,
                                 runs[t].len);
            for (int64_t i = count; i < width; ++i)
                d[i] = 0.0f;
        }
    }
}

cnn_cpu_operand cnn_cpu_operand_unfold(const cnn_cpu_unfold *u)
{
    return (cnn_cpu_operand){.pack = pack_unfold, .ctx = u};
}

/* Each kernel position's row of pixels, unfolded into tmp, then
 * transposed into the sliver. */
CNN_CPU_CLONES
static void pack_unfold_t(const void *ctx, const cnn_cpu_gemm_kernel *kernel,
                          int64_t r0, int64_t rows, int64_t k0, int64_t kc,
                          int width, float *dst, float *tmp)
{
    const cnn_cpu_unfold *u = ctx;
    /* The pixel runs of [k0, k0 + kc), a few at a time. */
    pixel_run runs[MAX_WIDTH];
    for (int64_t sl = 0; sl < rows; sl += width, dst += kc * width) {
        int64_t count = rows - sl < width ? rows - sl : width;
        for (int64_t j = 0; j < kc;) {
            int64_t chunk = kc - j < MAX_WIDTH ? kc - j : MAX_WIDTH;
            int nruns = pixel_runs(u, k0 + j, chunk, runs);
            for (int64_t i = 0; i < count; ++i) {
                const float *x = u->x + kernel_offset(u, r0 + sl + i);
                float *d = tmp + i * kc + j;
                for (int t = 0; t < nruns; ++t)
                    cnn_cpu_copy_run(d + runs[t].at, x + runs[t].base,
                                     runs[t].len);
            }
            j += chunk;
        }
        kernel->transpose(tmp, kc, count, kc, dst, width);
        if (count < width)
            for (int64_t p = 0; p < kc; ++p)
                for (int64_t i = count; i < width; ++i)
                    dst[p * width + i] = 0.0f;
    }
}

cnn_cpu_operand cnn_cpu_operand_unfold_t(const cnn_cpu_unfold *u)
{
    return (cnn_cpu_operand){.pack = pack_unfold_t, .ctx = u};
}

/* Rows are channels ch0 + r of an [n, channels, pq] tensor, k its pixels
 * across the batch: runs of pixels within one image are transposed in. */
CNN_CPU_CLONES
static void pack_planes(const void *ctx, const cnn_cpu_gemm_kernel *kernel,
                        int64_t r0, int64_t rows, int64_t k0, int64_t kc,
                        int width, float *dst, float *tmp)
{
    (void)tmp;
    const cnn_cpu_planes *pl = ctx;
    for (int64_t sl = 0; sl < rows; sl += width, dst += kc * width) {
        int64_t count = rows - sl < width ? rows - sl : width;
        int64_t ch = pl->ch0 + r0 + sl;
        for (int64_t j = k0; j < k0 + kc;) {
            int64_t n = j / pl->pq, off = j % pl->pq;
            int64_t run = pl->pq - off < k0 + kc - j ? pl->pq - off
                                                     : k0 + kc - j;
            kernel->transpose(pl->t + (n * pl->channels + ch) * pl->pq + off,
                              pl->pq, count, run, dst + (j - k0) * width,
                              width);
            j += run;
        }
        if (count < width)
            for (int64_t p = 0; p < kc; ++p)
                for (int64_t i = count; i < width; ++i)
                    dst[p * width + i] = 0.0f;
    }
}

cnn_cpu_operand cnn_cpu_operand_planes(const cnn_cpu_planes *pl)
{
    return (cnn_cpu_operand){.pack = pack_planes, .ctx = pl};
}
