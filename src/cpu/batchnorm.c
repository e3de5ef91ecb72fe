/* src/cpu/batchnorm.c - 2-d batch normalisation on the CPU, forward
 * (training and inference) and backward, with PyTorch's semantics
 * (cnn/norm.h).
 *
 * The reference engine is the textbook two-pass form in double, channel by
 * channel. The native engine walks memory in order, plane by plane (one
 * plane is one image's channel), so that every pass streams: first each
 * plane's sums (float over short blocks, double across them), kept per
 * plane in the workspace; then, per channel, the planes' sums added in
 * image order and turned into a scale and shift (or the backward's
 * coefficients); then the elementwise pass. No sum depends on how planes
 * are split over threads, so results are the same bits for any thread
 * count. The forward reads x once for both moments, summing x - K and
 * (x - K)^2 with K the channel's first value (a shift that keeps the
 * one-pass variance free of cancellation when |mean| >> std), and
 * normalises with the float mean and 1/std it saves, as PyTorch does.
 */
#include <math.h>
#include <string.h>

#include "simd.h"
#include "cpu.h"
#include "cnn/norm.h"

typedef struct bn_ctx {
    int64_t N, C, HW;
    const float *x, *dy, *gamma, *beta;
    const float *mean_in, *invstd_in; /* backward: the forward's saves */
    float *y, *dx, *dgamma, *dbeta;
    float *running_mean, *running_var, *save_mean, *save_invstd;
    double momentum, eps;
    int training;
    /* native: per plane sums, then per channel coefficients */
    double *sum1, *sum2;    /* [N C] */
    float *ch_a, *ch_b, *ch_k; /* [C] */
} bn_ctx;

/* Offset of plane (n, ch). */
static int64_t at(const bn_ctx *c, int64_t n, int64_t ch)
{
    return (n * c->C + ch) * c->HW;
}

/* Items per thread so that each thread gets some 16k elements. */
static int64_t channel_chunk(const bn_ctx *c)
{
    int64_t per = c->N * c->HW;
    return per >= (1 << 14) ? 1 : (1 << 14) / per;
}

/* The batch statistics of channel ch: updates the running statistics
 * and returns the mean and 1/sqrt(var + eps) rounded to float, which is
 * what the output is computed from (and saved for the backward). */
static void finish_stats(const bn_ctx *c, int64_t ch, double mean, double var,
                         float *mean_f, float *invstd_f)
{
    double m = (double)c->N * (double)c->HW, mo = c->momentum;
    c->running_mean[ch] =
        (float)(mo * mean + (1.0 - mo) * c->running_mean[ch]);
    c->running_var[ch] =
        (float)(mo * var * m / (m - 1.0) + (1.0 - mo) * c->running_var[ch]);
    *mean_f = (float)mean;
    *invstd_f = (float)(1.0 / sqrt(var + c->eps));
    c->save_mean[ch] = *mean_f;
    c->save_invstd[ch] = *invstd_f;
}

/* Inference: the running statistics, saved when asked. */
static void running_stats(const bn_ctx *c, int64_t ch, float *mean_f,
                          float *invstd_f)
{
    *mean_f = c->running_mean[ch];
    *invstd_f = (float)(1.0 / sqrt((double)c->running_var[ch] + c->eps));
    if (c->save_mean)
        c->save_mean[ch] = *mean_f;
    if (c->save_invstd)
        c->save_invstd[ch] = *invstd_f;
}

/* ------------------------------------------------------------ reference */

static void ref_forward(int64_t begin, int64_t end, void *p)
{
    const bn_ctx *c = p;
    const double m = (double)c->N * (double)c->HW;
    for (int64_t ch = begin; ch < end; ++ch) {
        double mean, invstd;
        if (c->training) {
            double sum = 0.0, sq = 0.0;
            for (int64_t n = 0; n < c->N; ++n)
                for (int64_t i = 0; i < c->HW; ++i)
                    sum += c->x[at(c, n, ch) + i];
            mean = sum / m;
            for (int64_t n = 0; n < c->N; ++n)
                for (int64_t i = 0; i < c->HW; ++i) {
                    double d = c->x[at(c, n, ch) + i] - mean;
                    sq += d * d;
                }
            float mean_f, invstd_f;
            finish_stats(c, ch, mean, sq / m, &mean_f, &invstd_f);
            invstd = 1.0 / sqrt(sq / m + c->eps);
        } else {
            float mean_f, invstd_f;
            running_stats(c, ch, &mean_f, &invstd_f);
            mean = mean_f;
            invstd = 1.0 / sqrt((double)c->running_var[ch] + c->eps);
        }
        for (int64_t n = 0; n < c->N; ++n) {
            const float *x = c->x + at(c, n, ch);
            float *y = c->y + at(c, n, ch);
            for (int64_t i = 0; i < c->HW; ++i)
                y[i] = (float)((x[i] - mean) * invstd * c->gamma[ch] +
                               c->beta[ch]);
        }
    }
}

static void ref_backward(int64_t begin, int64_t end, void *p)
{
    const bn_ctx *c = p;
    const double m = (double)c->N * (double)c->HW;
    for (int64_t ch = begin; ch < end; ++ch) {
        double mean = c->mean_in[ch], invstd = c->invstd_in[ch];
        double sum_dy = 0.0, sum_dy_xhat = 0.0;
        for (int64_t n = 0; n < c->N; ++n)
            for (int64_t i = 0; i < c->HW; ++i) {
                double dy = c->dy[at(c, n, ch) + i];
                sum_dy += dy;
                sum_dy_xhat += dy * (c->x[at(c, n, ch) + i] - mean) * invstd;
            }
        if (c->dgamma)
            c->dgamma[ch] += (float)sum_dy_xhat;
        if (c->dbeta)
            c->dbeta[ch] += (float)sum_dy;
        if (!c->dx)
            continue;
        double g = c->gamma[ch];
        for (int64_t n = 0; n < c->N; ++n) {
            const float *x = c->x + at(c, n, ch);
            const float *dy = c->dy + at(c, n, ch);
            float *dx = c->dx + at(c, n, ch);
            for (int64_t i = 0; i < c->HW; ++i) {
                double v = dy[i];
                if (c->training) {
                    /* The mean and variance depend on x too. */
                    double xhat = (x[i] - mean) * invstd;
                    v -= (sum_dy + xhat * sum_dy_xhat) / m;
                }
                dx[i] = (float)(v * g * invstd);
            }
        }
    }
}

/* --------------------------------------------------------------- native */

/* Items per thread so that each thread gets some 16k elements. */
static int64_t plane_chunk(const bn_ctx *c)
{
    return c->HW >= (1 << 14) ? 1 : (1 << 14) / c->HW;
}

/* Per-plane sums run in float over blocks of BLOCK elements (eight lanes of
 * BLOCK / 8 terms each: a few roundings) and in double across blocks. */
#define BLOCK 64

/* sum (x - k) and sum (x - k)^2 over x[0..n). */
static inline void shifted_moments(const float *x, int64_t n, float k,
                                   double *m1, double *m2)
{
    cnn_f64x4 s1lo = {0.0}, s1hi = {0.0}, s2lo = {0.0}, s2hi = {0.0};
    int64_t i = 0;
    while (i + 8 <= n) {
        cnn_f32x8 b1 = {0.0f}, b2 = {0.0f};
        int64_t end = i + BLOCK <= n ? i + BLOCK : n;
        for (; i + 8 <= end; i += 8) {
            cnn_f32x8 d;
            memcpy(&d, x + i, sizeof d);
            d -= k;
            b1 += d;
            b2 += d * d;
        }
        cnn_f64x8_add(&s1lo, &s1hi, &b1);
        cnn_f64x8_add(&s2lo, &s2hi, &b2);
    }
    double t1 = 0.0, t2 = 0.0;
    for (; i < n; ++i) {
        double d = x[i] - k;
        t1 += d;
        t2 += d * d;
    }
    *m1 = cnn_f64x8_total(&s1lo, &s1hi, t1);
    *m2 = cnn_f64x8_total(&s2lo, &s2hi, t2);
}

/* sum dy and sum dy (x - mean) over [0..n). */
static inline void grad_moments(const float *dy, const float *x, int64_t n,
                                float mean, double *m1, double *m2)
{
    cnn_f64x4 s1lo = {0.0}, s1hi = {0.0}, s2lo = {0.0}, s2hi = {0.0};
    int64_t i = 0;
    while (i + 8 <= n) {
        cnn_f32x8 b1 = {0.0f}, b2 = {0.0f};
        int64_t end = i + BLOCK <= n ? i + BLOCK : n;
        for (; i + 8 <= end; i += 8) {
            cnn_f32x8 g, v;
            memcpy(&g, dy + i, sizeof g);
            memcpy(&v, x + i, sizeof v);
            b1 += g;
            b2 += g * (v - mean);
        }
        cnn_f64x8_add(&s1lo, &s1hi, &b1);
        cnn_f64x8_add(&s2lo, &s2hi, &b2);
    }
    double t1 = 0.0, t2 = 0.0;
    for (; i < n; ++i) {
        t1 += dy[i];
        t2 += (double)dy[i] * (x[i] - mean);
    }
    *m1 = cnn_f64x8_total(&s1lo, &s1hi, t1);
    *m2 = cnn_f64x8_total(&s2lo, &s2hi, t2);
}

/* Per plane: the moments of x shifted by its channel's first value. */
CNN_CPU_CLONES
static void plane_moments(int64_t begin, int64_t end, void *p)
{
    const bn_ctx *c = p;
    for (int64_t t = begin; t < end; ++t)
        shifted_moments(c->x + t * c->HW, c->HW, c->x[at(c, 0, t % c->C)],
                        &c->sum1[t], &c->sum2[t]);
}

/* Per plane: sum dy and sum dy (x - mean). */
CNN_CPU_CLONES
static void plane_grad_sums(int64_t begin, int64_t end, void *p)
{
    const bn_ctx *c = p;
    for (int64_t t = begin; t < end; ++t)
        grad_moments(c->dy + t * c->HW, c->x + t * c->HW, c->HW,
                     c->mean_in[t % c->C], &c->sum1[t], &c->sum2[t]);
}

/* The sums of channel ch's planes, in image order. */
static void channel_sums(const bn_ctx *c, int64_t ch, double *s1, double *s2)
{
    *s1 = *s2 = 0.0;
    for (int64_t n = 0; n < c->N; ++n) {
        *s1 += c->sum1[n * c->C + ch];
        *s2 += c->sum2[n * c->C + ch];
    }
}

/* Forward, per channel: y = (x - a) * k + b. */
static void forward_coefficients(const bn_ctx *c)
{
    const double m = (double)c->N * (double)c->HW;
    for (int64_t ch = 0; ch < c->C; ++ch) {
        float mean, invstd;
        if (c->training) {
            double d1, d2, k = c->x[at(c, 0, ch)];
            channel_sums(c, ch, &d1, &d2);
            double var = (d2 - d1 * d1 / m) / m;
            finish_stats(c, ch, k + d1 / m, var > 0.0 ? var : 0.0, &mean,
                         &invstd);
        } else {
            running_stats(c, ch, &mean, &invstd);
        }
        c->ch_a[ch] = mean;
        c->ch_k[ch] = c->gamma[ch] * invstd;
        c->ch_b[ch] = c->beta[ch];
    }
}

/* Backward, per channel: dgamma and dbeta, and dx = (dy - b - (x - mean)
 * k) a, where a = gamma invstd and, in training (the mean and variance
 * depend on x too), b = mean(dy) and k = invstd^2 mean(dy (x - mean)). */
static void backward_coefficients(const bn_ctx *c, int have_sums)
{
    const double m = (double)c->N * (double)c->HW;
    for (int64_t ch = 0; ch < c->C; ++ch) {
        const double invstd = c->invstd_in[ch];
        double sum_dy = 0.0, sum_dy_xmu = 0.0;
        if (have_sums)
            channel_sums(c, ch, &sum_dy, &sum_dy_xmu);
        if (c->dgamma)
            c->dgamma[ch] += (float)(sum_dy_xmu * invstd);
        if (c->dbeta)
            c->dbeta[ch] += (float)sum_dy;
        c->ch_a[ch] = c->gamma[ch] * (float)invstd;
        c->ch_b[ch] = c->training ? (float)(sum_dy / m) : 0.0f;
        c->ch_k[ch] =
            c->training ? (float)(sum_dy_xmu / m * invstd * invstd) : 0.0f;
    }
}

CNN_CPU_CLONES
static void plane_forward(int64_t begin, int64_t end, void *p)
{
    const bn_ctx *c = p;
    for (int64_t t = begin; t < end; ++t) {
        const int64_t ch = t % c->C;
        const float mean = c->ch_a[ch], scale = c->ch_k[ch];
        const float shift = c->ch_b[ch];
        const float *x = c->x + t * c->HW;
        float *y = c->y + t * c->HW;
        for (int64_t i = 0; i < c->HW; ++i)
            y[i] = (x[i] - mean) * scale + shift;
    }
}

CNN_CPU_CLONES
static void plane_backward(int64_t begin, int64_t end, void *p)
{
    const bn_ctx *c = p;
    for (int64_t t = begin; t < end; ++t) {
        const int64_t ch = t % c->C;
        const float a = c->ch_a[ch], b = c->ch_b[ch], k = c->ch_k[ch];
        const float mean = c->mean_in[ch];
        const float *x = c->x + t * c->HW, *dy = c->dy + t * c->HW;
        float *dx = c->dx + t * c->HW;
        for (int64_t i = 0; i < c->HW; ++i)
            dx[i] = (dy[i] - b - (x[i] - mean) * k) * a;
    }
}

/* Carves the per plane sums and per channel coefficients out of the
 * device's workspace. */
static cnn_status carve(bn_ctx *c, int device)
{
    size_t planes = (size_t)(c->N * c->C), ch = (size_t)c->C;
    char *ws = cnn_cpu_workspace(device, 2 * planes * sizeof(double) +
                                             3 * ch * sizeof(float));
    if (!ws)
        return CNN_ERR_OUT_OF_MEMORY;
    c->sum1 = (double *)ws;
    c->sum2 = c->sum1 + planes;
    c->ch_a = (float *)(c->sum2 + planes);
    c->ch_b = c->ch_a + ch;
    c->ch_k = c->ch_b + ch;
    return CNN_OK;
}

static cnn_status fast_forward(const cnn_op_args *args, bn_ctx *c)
{
    cnn_status s = carve(c, args->device);
    if (s != CNN_OK)
        return s;
    const int64_t planes = c->N * c->C;
    if (c->training)
        cnn_cpu_parallel_for(args->device, planes, 1, plane_chunk(c),
                             plane_moments, c);
    forward_coefficients(c);
    cnn_cpu_parallel_for(args->device, planes, 1, plane_chunk(c),
                         plane_forward, c);
    return CNN_OK;
}

static cnn_status fast_backward(const cnn_op_args *args, bn_ctx *c)
{
    cnn_status s = carve(c, args->device);
    if (s != CNN_OK)
        return s;
    const int64_t planes = c->N * c->C;
    int have_sums = c->training || c->dgamma || c->dbeta;
    if (have_sums)
        cnn_cpu_parallel_for(args->device, planes, 1, plane_chunk(c),
                             plane_grad_sums, c);
    backward_coefficients(c, have_sums);
    if (c->dx)
        cnn_cpu_parallel_for(args->device, planes, 1, plane_chunk(c),
                             plane_backward, c);
    return CNN_OK;
}

/* ------------------------------------------------------------- dispatch */

static float *data_of(cnn_tensor *t) { return t ? t->data : NULL; }
static const float *cdata_of(const cnn_tensor *t) { return t ? t->data : NULL; }

static cnn_status batchnorm2d_forward(const cnn_op_args *args)
{
    const cnn_batchnorm2d_params *p = args->params;
    const cnn_tensor *x = args->in[0];
    bn_ctx c = {
        .N = x->dims[0], .C = x->dims[1], .HW = x->dims[2] * x->dims[3],
        .x = x->data, .gamma = cdata_of(args->in[1]),
        .beta = cdata_of(args->in[2]),
        .y = data_of(args->out[0]), .running_mean = data_of(args->out[1]),
        .running_var = data_of(args->out[2]),
        .save_mean = data_of(args->out[3]),
        .save_invstd = data_of(args->out[4]),
        .momentum = p->momentum, .eps = p->eps, .training = p->training != 0,
    };
    if (args->engine != CNN_ENGINE_REFERENCE)
        return fast_forward(args, &c);
    cnn_cpu_parallel_for(args->device, c.C, 1, channel_chunk(&c), ref_forward,
                         &c);
    return CNN_OK;
}

static cnn_status batchnorm2d_backward(const cnn_op_args *args)
{
    const cnn_batchnorm2d_params *p = args->params;
    const cnn_tensor *x = args->in[1];
    bn_ctx c = {
        .N = x->dims[0], .C = x->dims[1], .HW = x->dims[2] * x->dims[3],
        .dy = cdata_of(args->in[0]), .x = x->data,
        .gamma = cdata_of(args->in[2]), .mean_in = cdata_of(args->in[3]),
        .invstd_in = cdata_of(args->in[4]),
        .dx = data_of(args->out[0]), .dgamma = data_of(args->out[1]),
        .dbeta = data_of(args->out[2]),
        .momentum = p->momentum, .eps = p->eps, .training = p->training != 0,
    };
    if (args->engine != CNN_ENGINE_REFERENCE)
        return fast_backward(args, &c);
    cnn_cpu_parallel_for(args->device, c.C, 1, channel_chunk(&c),
                         ref_backward, &c);
    return CNN_OK;
}

void cnn_cpu_register_batchnorm(cnn_op_fn *ops)
{
    ops[CNN_OP_BATCHNORM2D_FWD] = batchnorm2d_forward;
    ops[CNN_OP_BATCHNORM2D_BWD] = batchnorm2d_backward;
}
