/* src/cpu/lrn.c - local response normalisation across channels on the CPU,
 * forward and backward, with PyTorch's semantics (cnn/norm.h):
 *
 *   s_c = k + alpha / size * sum_{j in W(c)} x_j^2,   y_c = x_c s_c^-beta
 *   W(c) = c - size/2 .. c + (size-1)/2, clipped to c's group of channels
 *   dx_i = dy_i s_i^-beta
 *          - 2 alpha beta / size * x_i
 *            * sum_{c : i in W(c)} dy_c x_c s_c^-beta / s_c
 *
 * (the second sum runs over the mirrored window i - (size-1)/2 .. i +
 * size/2, which differs from W(i) for even sizes).
 *
 * The reference engine computes every window sum afresh, in double, pixel
 * by pixel. The native engine takes a span of pixels of one image at a
 * time and works on rows of that span, one row per channel, so every loop
 * runs along contiguous pixels. Its window sums cost O(C) whatever the
 * window size, without the cancellation of a running sum (adding the
 * entering square and subtracting the leaving one): the channels are cut
 * into blocks of `size`, a window then covers the tail of one block and the
 * head of the next, and it is the sum of a suffix sum of the first and a
 * prefix sum of the second. Forward, every term is a square, so each sum
 * is a sum of nonnegative terms, accurate to a few ulps. Spans are
 * independent, so results do not depend on the thread count.
 */
#include <math.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "cpu.h"
#include "simd.h"
#include "cnn/norm.h"

/* s^-beta has fast exact-enough forms for AlexNet's beta and its kin. */
typedef enum pow_kind {
    POW_THREE_QUARTERS, /* 1 / (sqrt(s) sqrt(sqrt(s))) */
    POW_HALF,           /* 1 / sqrt(s) */
    POW_ONE,            /* 1 / s */
    POW_ANY             /* powf */
} pow_kind;

typedef struct lrn_ctx {
    int64_t N, C, HW;
    int64_t group;         /* channels per group */
    int64_t before, after; /* W(c) = c - before .. c + after */
    double alpha, beta, k; /* the parameters, for the reference */
    float alpha_n;         /* alpha / size, for the native engine */
    pow_kind kind;
    const float *x, *dy;
    float *out; /* y or dx */
    int64_t span, spans; /* native: pixels per item, items per image */
    char *scratch;       /* scratch_stride bytes per thread */
    size_t scratch_stride;
} lrn_ctx;

static void *thread_scratch(const lrn_ctx *c)
{
    return c->scratch + c->scratch_stride * (size_t)cnn_cpu_thread_index();
}

static int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }
static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

/* ------------------------------------------------------------ reference */

/* s_c of every channel of one pixel; x points at channel 0 of the pixel
 * (channels HW apart). */
static void ref_scales(const lrn_ctx *c, const float *x, double *s)
{
    const double size = (double)(c->before + c->after + 1);
    for (int64_t ch = 0; ch < c->C; ++ch) {
        int64_t g0 = ch / c->group * c->group;
        double sum = 0.0;
        for (int64_t j = max64(g0, ch - c->before);
             j <= min64(g0 + c->group - 1, ch + c->after); ++j)
            sum += (double)x[j * c->HW] * x[j * c->HW];
        s[ch] = c->k + c->alpha / size * sum;
    }
}

/* Items are pixels (n, hw); scratch: C doubles. */
static void ref_forward(int64_t begin, int64_t end, void *p)
{
    const lrn_ctx *c = p;
    double *s = thread_scratch(c);
    for (int64_t item = begin; item < end; ++item) {
        int64_t base = item / c->HW * c->C * c->HW + item % c->HW;
        const float *x = c->x + base;
        ref_scales(c, x, s);
        for (int64_t ch = 0; ch < c->C; ++ch)
            c->out[base + ch * c->HW] =
                (float)(x[ch * c->HW] * pow(s[ch], -c->beta));
    }
}

static void ref_backward(int64_t begin, int64_t end, void *p)
{
    const lrn_ctx *c = p;
    double *s = thread_scratch(c);
    const double size = (double)(c->before + c->after + 1);
    const double coef = 2.0 * c->alpha * c->beta / size;
    for (int64_t item = begin; item < end; ++item) {
        int64_t base = item / c->HW * c->C * c->HW + item % c->HW;
        const float *x = c->x + base, *dy = c->dy + base;
        ref_scales(c, x, s);
        for (int64_t i = 0; i < c->C; ++i) {
            int64_t g0 = i / c->group * c->group;
            double t = 0.0; /* over the c whose window holds i */
            for (int64_t ch = max64(g0, i - c->after);
                 ch <= min64(g0 + c->group - 1, i + c->before); ++ch)
                t += (double)dy[ch * c->HW] * x[ch * c->HW] *
                     pow(s[ch], -c->beta - 1.0);
            c->out[base + i * c->HW] =
                (float)(dy[i * c->HW] * pow(s[i], -c->beta) -
                        coef * x[i * c->HW] * t);
        }
    }
}

/* --------------------------------------------------------------- native */

/* Rows of L floats: out[c] = sum of in[j] over j in [c - before, c +
 * after] clipped to [0, G), for every c in [0, G). With S = before + after
 * + 1, number the rows u = j + before, so that c's window is u = c .. c +
 * S - 1 (rows outside [0, G) being zero), and cut u into blocks of S. For c
 * at a block start the window is that block: its suffix sum at c. Otherwise
 * it is the suffix sum at c of c's block plus the prefix sum up to c + S - 1
 * of the next, which grows by one row per c. Scratch: suf (min(S, G) rows),
 * pre and tmp (one row each). */
CNN_CPU_CLONES
static void window_sums(const float *in, float *out, int64_t G, int64_t L,
                        int64_t before, int64_t after, float *suf, float *pre,
                        float *tmp)
{
    const int64_t S = before + after + 1;
    const size_t row_bytes = (size_t)L * sizeof(float);
    for (int64_t c = 0; c < G; ++c) {
        int64_t r = c % S;
        float *o = out + c * L;
        if (r == 0) {
            /* Suffix sums of the block u = c .. c + S - 1, kept for the
             * positions that are window starts (c + i < G); only rows of
             * channels that exist are added. */
            int64_t keep = min64(S, G - c);
            int64_t top = min64(c + after, G - 1);
            int64_t bottom = max64(c - before, 0);
            const float *prev = NULL;
            for (int64_t j = top; j >= bottom; --j) {
                int64_t i = j + before - c;
                float *dst = i < keep ? suf + i * L : tmp;
                const float *row = in + j * L;
                if (prev)
                    for (int64_t l = 0; l < L; ++l)
                        dst[l] = prev[l] + row[l];
                else
                    memcpy(dst, row, row_bytes);
                prev = dst;
            }
            /* Window starts below channel 0 hold the whole sum. */
            for (int64_t i = 0; i < min64(bottom + before - c, keep); ++i)
                memcpy(suf + i * L, prev, row_bytes);
            memset(pre, 0, row_bytes);
            memcpy(o, suf, row_bytes);
            continue;
        }
        if (c + after < G) { /* the row entering the window */
            const float *row = in + (c + after) * L;
            for (int64_t l = 0; l < L; ++l)
                pre[l] += row[l];
        }
        const float *sr = suf + r * L;
        for (int64_t l = 0; l < L; ++l)
            o[l] = sr[l] + pre[l];
    }
}

/* p = s^-beta over L values. The vector and scalar forms round alike
 * (sqrt, division and product are correctly rounded in both). */
CNN_CPU_CLONES
static void inv_pow(pow_kind kind, float beta, const float *s, float *p,
                    int64_t L)
{
    int64_t l = 0;
    switch (kind) {
    case POW_THREE_QUARTERS:
#if defined(__SSE2__)
        for (; l + 4 <= L; l += 4) {
            __m128 r = _mm_sqrt_ps(_mm_loadu_ps(s + l));
            __m128 q = _mm_sqrt_ps(r);
            _mm_storeu_ps(p + l, _mm_div_ps(_mm_set1_ps(1.0f),
                                            _mm_mul_ps(r, q)));
        }
#endif
        for (; l < L; ++l) {
            float r = sqrtf(s[l]);
            p[l] = 1.0f / (r * sqrtf(r));
        }
        break;
    case POW_HALF:
#if defined(__SSE2__)
        for (; l + 4 <= L; l += 4)
            _mm_storeu_ps(p + l, _mm_div_ps(_mm_set1_ps(1.0f),
                                            _mm_sqrt_ps(_mm_loadu_ps(s + l))));
#endif
        for (; l < L; ++l)
            p[l] = 1.0f / sqrtf(s[l]);
        break;
    case POW_ONE:
        for (; l < L; ++l)
            p[l] = 1.0f / s[l];
        break;
    case POW_ANY:
        for (; l < L; ++l)
            p[l] = powf(s[l], -beta);
        break;
    }
}

/* A thread's scratch for one span of L pixels and G channels. */
typedef struct span_rows {
    float *a, *b, *d;      /* G rows each (d: backward only) */
    float *suf, *pre, *tmp, *p;
} span_rows;

static int64_t suffix_rows(const lrn_ctx *c)
{
    return min64(c->before + c->after + 1, c->group);
}

static span_rows carve(const lrn_ctx *c, int backward)
{
    float *f = thread_scratch(c);
    const int64_t GL = c->group * c->span;
    span_rows r;
    r.a = f;
    r.b = r.a + GL;
    r.d = backward ? r.b + GL : NULL;
    r.suf = r.b + GL * (backward ? 2 : 1);
    r.pre = r.suf + suffix_rows(c) * c->span;
    r.tmp = r.pre + c->span;
    r.p = r.tmp + c->span;
    return r;
}

static size_t scratch_floats(const lrn_ctx *c, int backward)
{
    return (size_t)((backward ? 3 : 2) * c->group + suffix_rows(c) + 3) *
           (size_t)c->span;
}

/* Items are (image, span of pixels); each runs every group. */
CNN_CPU_CLONES
static void fast_forward(int64_t begin, int64_t end, void *p)
{
    const lrn_ctx *c = p;
    span_rows r = carve(c, 0);
    const int64_t G = c->group, HW = c->HW;
    const float k = (float)c->k, an = c->alpha_n, beta = (float)c->beta;
    for (int64_t item = begin; item < end; ++item) {
        int64_t n = item / c->spans, p0 = item % c->spans * c->span;
        int64_t L = min64(c->span, HW - p0);
        for (int64_t g = 0; g < c->C / G; ++g) {
            int64_t base = (n * c->C + g * G) * HW + p0;
            const float *x = c->x + base;
            float *y = c->out + base;
            for (int64_t j = 0; j < G; ++j) {
                const float *xr = x + j * HW;
                float *sq = r.a + j * L;
                for (int64_t l = 0; l < L; ++l)
                    sq[l] = xr[l] * xr[l];
            }
            window_sums(r.a, r.b, G, L, c->before, c->after, r.suf, r.pre,
                        r.tmp);
            for (int64_t ch = 0; ch < G; ++ch) {
                float *s = r.b + ch * L;
                for (int64_t l = 0; l < L; ++l)
                    s[l] = k + an * s[l];
                inv_pow(c->kind, beta, s, r.p, L);
                const float *xr = x + ch * HW;
                float *yr = y + ch * HW;
                for (int64_t l = 0; l < L; ++l)
                    yr[l] = xr[l] * r.p[l];
            }
        }
    }
}

CNN_CPU_CLONES
static void fast_backward(int64_t begin, int64_t end, void *p)
{
    const lrn_ctx *c = p;
    span_rows r = carve(c, 1);
    const int64_t G = c->group, HW = c->HW;
    const float k = (float)c->k, an = c->alpha_n, beta = (float)c->beta;
    const float coef = 2.0f * an * beta;
    for (int64_t item = begin; item < end; ++item) {
        int64_t n = item / c->spans, p0 = item % c->spans * c->span;
        int64_t L = min64(c->span, HW - p0);
        for (int64_t g = 0; g < c->C / G; ++g) {
            int64_t base = (n * c->C + g * G) * HW + p0;
            const float *x = c->x + base, *dy = c->dy + base;
            float *dx = c->out + base;
            for (int64_t j = 0; j < G; ++j) {
                const float *xr = x + j * HW;
                float *sq = r.a + j * L;
                for (int64_t l = 0; l < L; ++l)
                    sq[l] = xr[l] * xr[l];
            }
            window_sums(r.a, r.b, G, L, c->before, c->after, r.suf, r.pre,
                        r.tmp);
            /* Row ch of a becomes s^-beta, row ch of b dy x s^-beta / s. */
            for (int64_t ch = 0; ch < G; ++ch) {
                float *s = r.b + ch * L, *pw = r.a + ch * L;
                const float *xr = x + ch * HW, *dyr = dy + ch * HW;
                for (int64_t l = 0; l < L; ++l)
                    s[l] = k + an * s[l];
                inv_pow(c->kind, beta, s, pw, L);
                for (int64_t l = 0; l < L; ++l)
                    s[l] = dyr[l] * xr[l] * pw[l] / s[l];
            }
            /* The mirrored window: c - after .. c + before. */
            window_sums(r.b, r.d, G, L, c->after, c->before, r.suf, r.pre,
                        r.tmp);
            for (int64_t ch = 0; ch < G; ++ch) {
                const float *pw = r.a + ch * L, *t = r.d + ch * L;
                const float *xr = x + ch * HW, *dyr = dy + ch * HW;
                float *dxr = dx + ch * HW;
                for (int64_t l = 0; l < L; ++l)
                    dxr[l] = dyr[l] * pw[l] - coef * xr[l] * t[l];
            }
        }
    }
}

/* ------------------------------------------------------------- dispatch */

static lrn_ctx context(const cnn_op_args *args, const cnn_tensor *x)
{
    const cnn_lrn_params *p = args->params;
    lrn_ctx c = {
        .N = x->dims[0], .C = x->dims[1], .HW = x->dims[2] * x->dims[3],
        .group = x->dims[1] / p->groups,
        .before = p->size / 2, .after = (p->size - 1) / 2,
        .alpha = p->alpha, .beta = p->beta, .k = p->k,
        .alpha_n = p->alpha / (float)p->size,
        .kind = p->beta == 0.75f ? POW_THREE_QUARTERS
                : p->beta == 0.5f ? POW_HALF
                : p->beta == 1.0f ? POW_ONE : POW_ANY,
        .x = x->data,
    };
    /* Spans of pixels: a multiple of 16 (aligned vector loops) with some
     * 16k floats per block of rows (64 KiB; two or three blocks stay in a
     * thread's L2), long enough per channel for the prefetcher. */
    int64_t span = 16384 / c.group / 16 * 16;
    span = span < 16 ? 16 : span > 1024 ? 1024 : span;
    int64_t hw16 = (c.HW + 15) / 16 * 16;
    c.span = span < hw16 ? span : hw16;
    c.spans = (c.HW + c.span - 1) / c.span;
    return c;
}

static cnn_status run(const cnn_op_args *args, lrn_ctx *c, int backward)
{
    int threads = cnn_cpu_device_threads(args->device);
    int reference = args->engine == CNN_ENGINE_REFERENCE;
    size_t bytes = reference ? (size_t)c->C * sizeof(double)
                             : scratch_floats(c, backward) * sizeof(float);
    c->scratch_stride = (bytes + 63) / 64 * 64;
    c->scratch = cnn_cpu_workspace(args->device,
                                   c->scratch_stride * (size_t)threads);
    if (!c->scratch)
        return CNN_ERR_OUT_OF_MEMORY;
    if (reference) {
        cnn_cpu_parallel_for(args->device, c->N * c->HW, 1,
                             max64(1, 4096 / c->C),
                             backward ? ref_backward : ref_forward, c);
        return CNN_OK;
    }
    cnn_cpu_parallel_for(args->device, c->N * c->spans, 1,
                         max64(1, (1 << 14) / (c->C * c->span)),
                         backward ? fast_backward : fast_forward, c);
    return CNN_OK;
}

static cnn_status lrn_forward(const cnn_op_args *args)
{
    lrn_ctx c = context(args, args->in[0]);
    c.out = args->out[0]->data;
    return run(args, &c, 0);
}

static cnn_status lrn_backward(const cnn_op_args *args)
{
    lrn_ctx c = context(args, args->in[1]);
    c.dy = args->in[0]->data;
    c.out = args->out[0]->data;
    return run(args, &c, 1);
}

void cnn_cpu_register_lrn(cnn_op_fn *ops)
{
    ops[CNN_OP_LRN_FWD] = lrn_forward;
    ops[CNN_OP_LRN_BWD] = lrn_backward;
}
