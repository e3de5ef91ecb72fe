/* src/cpu/batchnorm.c - 2-d batch normalisation on the CPU, forward
 * (training and inference) and backward, with PyTorch's semantics
 * (cnn/norm.h).
 *
 * Work is split over channels and every per-channel sum runs inside one
 * thread in a fixed order, in double, so results are the same bits for any
 * thread count. The reference engine is the textbook two-pass form in
 * double. The native engine reads x once for both moments: it sums x - K
 * and (x - K)^2 with K the channel's first value (a shift that keeps the
 * one-pass variance free of cancellation when |mean| >> std), in eight
 * double lanes the compiler can vectorise; then it normalises with the
 * float mean and 1/std that it saves, as PyTorch does.
 */
#include <math.h>

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
} bn_ctx;

#define LANES 8

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

/* Adds sum (x - k) and sum (x - k)^2 over x[0..n) into the lanes. */
static void moments(const float *x, int64_t n, double k, double s1[LANES],
                    double s2[LANES])
{
    int64_t i = 0;
    for (; i + LANES <= n; i += LANES)
        for (int j = 0; j < LANES; ++j) {
            double d = x[i + j] - k;
            s1[j] += d;
            s2[j] += d * d;
        }
    for (; i < n; ++i) {
        double d = x[i] - k;
        s1[0] += d;
        s2[0] += d * d;
    }
}

/* Adds sum dy and sum dy (x - mean) over [0..n) into the lanes. */
static void grad_sums(const float *dy, const float *x, int64_t n, double mean,
                      double s1[LANES], double s2[LANES])
{
    int64_t i = 0;
    for (; i + LANES <= n; i += LANES)
        for (int j = 0; j < LANES; ++j) {
            double g = dy[i + j];
            s1[j] += g;
            s2[j] += g * (x[i + j] - mean);
        }
    for (; i < n; ++i) {
        double g = dy[i];
        s1[0] += g;
        s2[0] += g * (x[i] - mean);
    }
}

static double lanes_total(const double s[LANES])
{
    double t = 0.0;
    for (int j = 0; j < LANES; ++j)
        t += s[j];
    return t;
}

static void fast_forward(int64_t begin, int64_t end, void *p)
{
    const bn_ctx *c = p;
    const double m = (double)c->N * (double)c->HW;
    for (int64_t ch = begin; ch < end; ++ch) {
        float mean, invstd;
        if (c->training) {
            double s1[LANES] = {0.0}, s2[LANES] = {0.0};
            double k = c->x[at(c, 0, ch)];
            for (int64_t n = 0; n < c->N; ++n)
                moments(c->x + at(c, n, ch), c->HW, k, s1, s2);
            double d1 = lanes_total(s1), d2 = lanes_total(s2);
            double var = (d2 - d1 * d1 / m) / m;
            finish_stats(c, ch, k + d1 / m, var > 0.0 ? var : 0.0, &mean,
                         &invstd);
        } else {
            running_stats(c, ch, &mean, &invstd);
        }
        const float scale = c->gamma[ch] * invstd, shift = c->beta[ch];
        for (int64_t n = 0; n < c->N; ++n) {
            const float *x = c->x + at(c, n, ch);
            float *y = c->y + at(c, n, ch);
            for (int64_t i = 0; i < c->HW; ++i)
                y[i] = (x[i] - mean) * scale + shift;
        }
    }
}

static void fast_backward(int64_t begin, int64_t end, void *p)
{
    const bn_ctx *c = p;
    const double m = (double)c->N * (double)c->HW;
    for (int64_t ch = begin; ch < end; ++ch) {
        const float mean = c->mean_in[ch], invstd = c->invstd_in[ch];
        double sum_dy = 0.0, sum_dy_xmu = 0.0;
        if (c->training || c->dgamma || c->dbeta) {
            double s1[LANES] = {0.0}, s2[LANES] = {0.0};
            for (int64_t n = 0; n < c->N; ++n)
                grad_sums(c->dy + at(c, n, ch), c->x + at(c, n, ch),
                          c->HW, mean, s1, s2);
            sum_dy = lanes_total(s1);
            sum_dy_xmu = lanes_total(s2);
        }
        if (c->dgamma)
            c->dgamma[ch] += (float)(sum_dy_xmu * invstd);
        if (c->dbeta)
            c->dbeta[ch] += (float)sum_dy;
        if (!c->dx)
            continue;
        /* dx = gamma invstd (dy - mean(dy) - (x - mean) invstd^2
         * mean(dy (x - mean))) in training; gamma invstd dy otherwise. */
        const float a = c->gamma[ch] * invstd;
        const float b = c->training ? (float)(sum_dy / m) : 0.0f;
        const float k = c->training
            ? (float)(sum_dy_xmu / m * (double)invstd * (double)invstd) : 0.0f;
        for (int64_t n = 0; n < c->N; ++n) {
            const float *x = c->x + at(c, n, ch);
            const float *dy = c->dy + at(c, n, ch);
            float *dx = c->dx + at(c, n, ch);
            for (int64_t i = 0; i < c->HW; ++i)
                dx[i] = (dy[i] - b - (x[i] - mean) * k) * a;
        }
    }
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
    cnn_cpu_parallel_for(args->device, c.C, 1, channel_chunk(&c),
                         args->engine == CNN_ENGINE_REFERENCE ? ref_forward
                                                              : fast_forward,
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
    cnn_cpu_parallel_for(args->device, c.C, 1, channel_chunk(&c),
                         args->engine == CNN_ENGINE_REFERENCE ? ref_backward
                                                              : fast_backward,
                         &c);
    return CNN_OK;
}

void cnn_cpu_register_batchnorm(cnn_op_fn *ops)
{
    ops[CNN_OP_BATCHNORM2D_FWD] = batchnorm2d_forward;
    ops[CNN_OP_BATCHNORM2D_BWD] = batchnorm2d_backward;
}
