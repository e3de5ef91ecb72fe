/* src/cpu/pool.c - max and average pooling and global average pooling on
 * the CPU, forward and backward, with PyTorch's semantics (cnn/pool.h).
 *
 * Both engines split the work over the N C planes, which are independent,
 * so results do not depend on the thread count. The reference engine walks
 * every window element by element. The native engine is separable: for
 * each output row it first reduces the kernel's input rows column by column
 * (contiguous, vectorisable), then reduces that one row across the kernel's
 * columns. Max pooling's backward has no index tensor: it finds each
 * window's winner again in x, carrying the winning row of every column
 * through the column pass so that the row pass can still pick the first
 * maximum in row-major order (and, like PyTorch, the last NaN).
 */
#include <math.h>
#include <string.h>

#include "cpu.h"
#include "simd.h"
#include "cnn/pool.h"

typedef struct pool_geom {
    int64_t planes, H, W, P, Q; /* x is [planes, H, W], y [planes, P, Q] */
    int64_t kh, kw, sh, sw, ph, pw;
} pool_geom;

typedef struct pool_ctx {
    pool_geom g;
    const float *x;  /* forward input (or the backward's x) */
    const float *dy; /* backward */
    float *out;      /* y or dx */
    char *scratch;   /* scratch_stride bytes per thread */
    size_t scratch_stride;
} pool_ctx;

static pool_geom geom_of(const cnn_tensor *x, const cnn_tensor *y,
                         const cnn_pool2d_params *p)
{
    pool_geom g = {
        .planes = x->dims[0] * x->dims[1],
        .H = x->dims[2], .W = x->dims[3], .P = y->dims[2], .Q = y->dims[3],
        .kh = p->kernel_h, .kw = p->kernel_w,
        .sh = p->stride_h, .sw = p->stride_w,
        .ph = p->pad_h, .pw = p->pad_w,
    };
    return g;
}

static int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }
static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

/* The larger of m and v, where a NaN v always wins (so a NaN anywhere in a
 * window makes the result NaN) and a tie keeps m (the earlier element). */
static inline float max_nan(float m, float v)
{
    return v > m || v != v ? v : m;
}

/* Plane items per thread so that each thread gets some 16k elements: a
 * thread team costs more than a few small planes. */
static int64_t plane_chunk(int64_t plane_size)
{
    return max64(1, (1 << 14) / plane_size);
}

static char *thread_scratch(const pool_ctx *c)
{
    return c->scratch + c->scratch_stride * (size_t)cnn_cpu_thread_index();
}

/* ------------------------------------------------------------ reference */

/* The index in its plane of the element of window (p, q) that PyTorch's
 * max pooling picks: the first maximum in row-major order, or the last NaN
 * if the window has one. */
static int64_t window_winner(const pool_geom *g, const float *x, int64_t p,
                             int64_t q)
{
    int64_t h0 = p * g->sh - g->ph, w0 = q * g->sw - g->pw;
    int64_t hs = max64(h0, 0), he = min64(h0 + g->kh, g->H);
    int64_t ws = max64(w0, 0), we = min64(w0 + g->kw, g->W);
    int64_t best_i = hs * g->W + ws;
    float best = -INFINITY;
    for (int64_t h = hs; h < he; ++h)
        for (int64_t w = ws; w < we; ++w) {
            float v = x[h * g->W + w];
            if (v > best || v != v) {
                best = v;
                best_i = h * g->W + w;
            }
        }
    return best_i;
}

static void ref_max_forward(int64_t begin, int64_t end, void *p)
{
    const pool_ctx *c = p;
    const pool_geom *g = &c->g;
    for (int64_t n = begin; n < end; ++n) {
        const float *x = c->x + n * g->H * g->W;
        float *y = c->out + n * g->P * g->Q;
        for (int64_t i = 0; i < g->P; ++i)
            for (int64_t j = 0; j < g->Q; ++j)
                y[i * g->Q + j] = x[window_winner(g, x, i, j)];
    }
}

static void ref_avg_forward(int64_t begin, int64_t end, void *p)
{
    const pool_ctx *c = p;
    const pool_geom *g = &c->g;
    for (int64_t n = begin; n < end; ++n) {
        const float *x = c->x + n * g->H * g->W;
        float *y = c->out + n * g->P * g->Q;
        for (int64_t i = 0; i < g->P; ++i)
            for (int64_t j = 0; j < g->Q; ++j) {
                int64_t h0 = i * g->sh - g->ph, w0 = j * g->sw - g->pw;
                double sum = 0.0;
                for (int64_t h = max64(h0, 0); h < min64(h0 + g->kh, g->H); ++h)
                    for (int64_t w = max64(w0, 0);
                         w < min64(w0 + g->kw, g->W); ++w)
                        sum += x[h * g->W + w];
                /* Padding counts: the divisor is always the kernel's area
                 * (in floor mode no window reaches past the padding). */
                y[i * g->Q + j] = (float)(sum / (double)(g->kh * g->kw));
            }
    }
}

static void ref_max_backward(int64_t begin, int64_t end, void *p)
{
    const pool_ctx *c = p;
    const pool_geom *g = &c->g;
    for (int64_t n = begin; n < end; ++n) {
        const float *x = c->x + n * g->H * g->W;
        const float *dy = c->dy + n * g->P * g->Q;
        float *dx = c->out + n * g->H * g->W;
        memset(dx, 0, (size_t)(g->H * g->W) * sizeof *dx);
        for (int64_t i = 0; i < g->P; ++i)
            for (int64_t j = 0; j < g->Q; ++j)
                dx[window_winner(g, x, i, j)] += dy[i * g->Q + j];
    }
}

static void ref_avg_backward(int64_t begin, int64_t end, void *p)
{
    const pool_ctx *c = p;
    const pool_geom *g = &c->g;
    const float area = (float)(g->kh * g->kw);
    for (int64_t n = begin; n < end; ++n) {
        const float *dy = c->dy + n * g->P * g->Q;
        float *dx = c->out + n * g->H * g->W;
        memset(dx, 0, (size_t)(g->H * g->W) * sizeof *dx);
        for (int64_t i = 0; i < g->P; ++i)
            for (int64_t j = 0; j < g->Q; ++j) {
                int64_t h0 = i * g->sh - g->ph, w0 = j * g->sw - g->pw;
                float share = dy[i * g->Q + j] / area; /* as PyTorch rounds */
                for (int64_t h = max64(h0, 0); h < min64(h0 + g->kh, g->H); ++h)
                    for (int64_t w = max64(w0, 0);
                         w < min64(w0 + g->kw, g->W); ++w)
                        dx[h * g->W + w] += share;
            }
    }
}

/* --------------------------------------------------------------- native */

/* Rows of the window of output row i, clipped to the input. */
static void window_rows(const pool_geom *g, int64_t i, int64_t *hs,
                        int64_t *he)
{
    int64_t h0 = i * g->sh - g->ph;
    *hs = max64(h0, 0);
    *he = min64(h0 + g->kh, g->H);
}

/* The column pass of max pooling's forward: col[w] = the max of x[r W +
 * w] over rows r < rows (a NaN wins). The common window heights get their
 * own copy with the row loop unrolled, so the column loop vectorises. */
static inline void max_columns_n(const float *restrict x, int64_t W,
                                 int64_t rows, float *restrict col)
{
    for (int64_t w = 0; w < W; ++w) {
        float m = x[w];
        for (int64_t r = 1; r < rows; ++r)
            m = max_nan(m, x[r * W + w]);
        col[w] = m;
    }
}

static inline void max_columns(const float *x, int64_t W, int64_t rows,
                               float *col)
{
    switch (rows) {
    case 2: max_columns_n(x, W, 2, col); return;
    case 3: max_columns_n(x, W, 3, col); return;
    default: break;
    }
    memcpy(col, x, (size_t)W * sizeof *col);
    for (int64_t r = 1; r < rows; ++r)
        for (int64_t w = 0; w < W; ++w)
            col[w] = max_nan(col[w], x[r * W + w]);
}

/* The same for the backward, keeping each column's winning row (the first
 * maximum, or the last NaN; h0 is the first row's index). Returns whether
 * a column holds a NaN. Masks rather than branches, so it vectorises. */
static inline int max_columns_rows_n(const float *restrict x, int64_t W,
                                     int64_t rows, int32_t h0,
                                     float *restrict col,
                                     int32_t *restrict col_row)
{
    int32_t any_nan = 0;
    for (int64_t w = 0; w < W; ++w) {
        float m = x[w];
        int32_t mr = h0;
        for (int64_t r = 1; r < rows; ++r) {
            float v = x[r * W + w];
            int32_t take = -(int32_t)(v > m) | -(int32_t)(v != v);
            m = take ? v : m;
            mr = ((h0 + (int32_t)r) & take) | (mr & ~take);
        }
        col[w] = m;
        col_row[w] = mr;
        any_nan |= -(int32_t)(m != m);
    }
    return any_nan != 0;
}

static inline int max_columns_rows(const float *x, int64_t W, int64_t rows,
                                   int32_t h0, float *col, int32_t *col_row)
{
    switch (rows) {
    case 2: return max_columns_rows_n(x, W, 2, h0, col, col_row);
    case 3: return max_columns_rows_n(x, W, 3, h0, col, col_row);
    default: return max_columns_rows_n(x, W, rows, h0, col, col_row);
    }
}

/* Scratch: one row of W + 2 pw floats; the pad columns hold the reduction's
 * identity (-inf for max, 0 for sums) so the row pass needs no clipping. */
CNN_CPU_CLONES
static void fast_max_forward(int64_t begin, int64_t end, void *p)
{
    const pool_ctx *c = p;
    const pool_geom *g = &c->g;
    const int64_t W = g->W, Q = g->Q, sw = g->sw, kw = g->kw;
    float *pad_row = (float *)thread_scratch(c);
    float *row = pad_row + g->pw;
    for (int64_t k = 0; k < g->pw; ++k)
        pad_row[k] = row[W + k] = -INFINITY;
    for (int64_t n = begin; n < end; ++n) {
        const float *x = c->x + n * g->H * W;
        float *y = c->out + n * g->P * Q;
        for (int64_t i = 0; i < g->P; ++i) {
            int64_t hs, he;
            window_rows(g, i, &hs, &he);
            max_columns(x + hs * W, W, he - hs, row);
            float *yr = y + i * Q;
            for (int64_t j = 0; j < Q; ++j)
                yr[j] = pad_row[j * sw];
            for (int64_t k = 1; k < kw; ++k)
                for (int64_t j = 0; j < Q; ++j)
                    yr[j] = max_nan(yr[j], pad_row[j * sw + k]);
        }
    }
}

CNN_CPU_CLONES
static void fast_avg_forward(int64_t begin, int64_t end, void *p)
{
    const pool_ctx *c = p;
    const pool_geom *g = &c->g;
    const int64_t W = g->W, Q = g->Q, sw = g->sw, kw = g->kw;
    const float area = (float)(g->kh * g->kw);
    float *pad_row = (float *)thread_scratch(c);
    float *row = pad_row + g->pw;
    for (int64_t k = 0; k < g->pw; ++k)
        pad_row[k] = row[W + k] = 0.0f;
    for (int64_t n = begin; n < end; ++n) {
        const float *x = c->x + n * g->H * W;
        float *y = c->out + n * g->P * Q;
        for (int64_t i = 0; i < g->P; ++i) {
            int64_t hs, he;
            window_rows(g, i, &hs, &he);
            memcpy(row, x + hs * W, (size_t)W * sizeof *row);
            for (int64_t h = hs + 1; h < he; ++h) {
                const float *xr = x + h * W;
                for (int64_t w = 0; w < W; ++w)
                    row[w] += xr[w];
            }
            float *yr = y + i * Q;
            for (int64_t j = 0; j < Q; ++j)
                yr[j] = pad_row[j * sw];
            for (int64_t k = 1; k < kw; ++k)
                for (int64_t j = 0; j < Q; ++j)
                    yr[j] += pad_row[j * sw + k];
            for (int64_t j = 0; j < Q; ++j)
                yr[j] /= area;
        }
    }
}

/* The row pass of max pooling's backward without NaNs: per output j, over
 * the window's columns k, the larger value and then the earlier row win (a
 * later column never wins a tie). Written with masks so that it has no
 * branches (a window's winner is unpredictable) and vectorises. */
CNN_CPU_CLONES
static void max_row_pass(const float *restrict col,
                         const int32_t *restrict col_row,
                         float *restrict best, int32_t *restrict best_row,
                         int32_t *restrict best_col, int64_t Q, int64_t sw,
                         int64_t kw)
{
    for (int64_t k = 1; k < kw; ++k)
        for (int64_t j = 0; j < Q; ++j) {
            float v = col[j * sw + k], b = best[j];
            int32_t r = col_row[j * sw + k], br = best_row[j];
            /* All-ones where column k takes over (masks, not branches). */
            int32_t take = -(int32_t)(v > b) |
                           (-(int32_t)(v == b) & -(int32_t)(r < br));
            best[j] = take ? v : b;
            best_row[j] = (r & take) | (br & ~take);
            best_col[j] = ((int32_t)(j * sw + k) & take) |
                          (best_col[j] & ~take);
        }
}

/* The same when a column holds a NaN: the last NaN in row-major order
 * wins, as in PyTorch. */
static void max_row_pass_nan(const float *col, const int32_t *col_row,
                             float *best, int32_t *best_row, int32_t *best_col,
                             int64_t Q, int64_t sw, int64_t kw)
{
    for (int64_t k = 1; k < kw; ++k)
        for (int64_t j = 0; j < Q; ++j) {
            float v = col[j * sw + k], b = best[j];
            int32_t r = col_row[j * sw + k], br = best_row[j];
            int take;
            if (v != v)
                take = b == b || r >= br;
            else
                take = b == b && (v > b || (v == b && r < br));
            if (take) {
                best[j] = v;
                best_row[j] = r;
                best_col[j] = (int32_t)(j * sw + k);
            }
        }
}

/* Scratch: the column maxima of a window row and the row each came from
 * (W + 2 pw floats and int32s; the caller falls back to the reference when
 * an index does not fit), then per output of the row its best value, row and
 * column (Q each). The column pass keeps, per column, the first maximum or
 * the last NaN; the row pass then ranks a window's columns by value, and
 * ties by the earlier row, which together give PyTorch's row-major winner.
 * Pad columns hold -inf from row INT32_MAX, which loses every comparison,
 * so the row pass needs no clipping. */
CNN_CPU_CLONES
static void fast_max_backward(int64_t begin, int64_t end, void *p)
{
    const pool_ctx *c = p;
    const pool_geom *g = &c->g;
    const int64_t W = g->W, Q = g->Q, Wp = W + 2 * g->pw, sw = g->sw;
    float *pad_col = (float *)thread_scratch(c);
    int32_t *pad_row = (int32_t *)(pad_col + Wp);
    float *best = (float *)(pad_row + Wp);
    int32_t *best_row = (int32_t *)(best + Q), *best_col = best_row + Q;
    float *col = pad_col + g->pw;
    int32_t *col_row = pad_row + g->pw;
    for (int64_t k = 0; k < g->pw; ++k) {
        pad_col[k] = col[W + k] = -INFINITY;
        pad_row[k] = col_row[W + k] = INT32_MAX;
    }
    for (int64_t n = begin; n < end; ++n) {
        const float *x = c->x + n * g->H * W;
        const float *dy = c->dy + n * g->P * Q;
        float *dx = c->out + n * g->H * W;
        memset(dx, 0, (size_t)(g->H * W) * sizeof *dx);
        for (int64_t i = 0; i < g->P; ++i) {
            int64_t hs, he;
            window_rows(g, i, &hs, &he);
            int any_nan = max_columns_rows(x + hs * W, W, he - hs,
                                           (int32_t)hs, col, col_row);
            for (int64_t j = 0; j < Q; ++j) {
                best[j] = pad_col[j * sw];
                best_row[j] = pad_row[j * sw];
                best_col[j] = (int32_t)(j * sw);
            }
            if (!any_nan)
                max_row_pass(pad_col, pad_row, best, best_row, best_col, Q,
                             sw, g->kw);
            else
                max_row_pass_nan(pad_col, pad_row, best, best_row, best_col,
                                 Q, sw, g->kw);
            for (int64_t j = 0; j < Q; ++j)
                dx[best_row[j] * W + best_col[j] - g->pw] += dy[i * Q + j];
        }
    }
}

/* Scratch: one padded row (W + 2 pw floats) that gathers the shares of an
 * output row; it is then added to each input row of the window. */
CNN_CPU_CLONES
static void fast_avg_backward(int64_t begin, int64_t end, void *p)
{
    const pool_ctx *c = p;
    const pool_geom *g = &c->g;
    const int64_t W = g->W, Q = g->Q, Wp = W + 2 * g->pw;
    const float area = (float)(g->kh * g->kw);
    float *pad_row = (float *)thread_scratch(c);
    const float *row = pad_row + g->pw;
    for (int64_t n = begin; n < end; ++n) {
        const float *dy = c->dy + n * g->P * Q;
        float *dx = c->out + n * g->H * W;
        memset(dx, 0, (size_t)(g->H * W) * sizeof *dx);
        for (int64_t i = 0; i < g->P; ++i) {
            memset(pad_row, 0, (size_t)Wp * sizeof *pad_row);
            for (int64_t j = 0; j < Q; ++j) {
                float share = dy[i * Q + j] / area;
                float *win = pad_row + j * g->sw;
                for (int64_t k = 0; k < g->kw; ++k)
                    win[k] += share;
            }
            int64_t hs, he;
            window_rows(g, i, &hs, &he);
            for (int64_t h = hs; h < he; ++h) {
                float *dxr = dx + h * W;
                for (int64_t w = 0; w < W; ++w)
                    dxr[w] += row[w];
            }
        }
    }
}

/* ------------------------------------------------------------- dispatch */

static cnn_status run(const cnn_op_args *args, pool_ctx *c,
                      cnn_cpu_range_fn body, size_t scratch_bytes)
{
    if (scratch_bytes) {
        size_t stride = (scratch_bytes + 63) / 64 * 64;
        int threads = cnn_cpu_device_threads(args->device);
        c->scratch = cnn_cpu_workspace(args->device, stride * (size_t)threads);
        if (!c->scratch)
            return CNN_ERR_OUT_OF_MEMORY;
        c->scratch_stride = stride;
    }
    cnn_cpu_parallel_for(args->device, c->g.planes, 1,
                         plane_chunk(c->g.H * c->g.W), body, c);
    return CNN_OK;
}

static cnn_status pool2d_forward(const cnn_op_args *args)
{
    const cnn_pool2d_params *p = args->params;
    pool_ctx c = {.g = geom_of(args->in[0], args->out[0], p),
                  .x = args->in[0]->data, .out = args->out[0]->data};
    int max = p->mode == CNN_POOL_MAX;
    if (args->engine == CNN_ENGINE_REFERENCE)
        return run(args, &c, max ? ref_max_forward : ref_avg_forward, 0);
    size_t row = (size_t)(c.g.W + 2 * c.g.pw) * sizeof(float);
    return run(args, &c, max ? fast_max_forward : fast_avg_forward, row);
}

static cnn_status pool2d_backward(const cnn_op_args *args)
{
    const cnn_pool2d_params *p = args->params;
    const cnn_tensor *dy = args->in[0], *x = args->in[1];
    pool_ctx c = {.g = geom_of(args->out[0], dy, p),
                  .x = x ? x->data : NULL, .dy = dy->data,
                  .out = args->out[0]->data};
    int max = p->mode == CNN_POOL_MAX;
    /* The native backward keeps rows and columns in int32. */
    int wide = c.g.H > INT32_MAX || c.g.W + 2 * c.g.pw > INT32_MAX;
    if (args->engine == CNN_ENGINE_REFERENCE || (max && wide))
        return run(args, &c, max ? ref_max_backward : ref_avg_backward, 0);
    if (max)
        return run(args, &c, fast_max_backward,
                   (size_t)(c.g.W + 2 * c.g.pw + c.g.Q) *
                       (sizeof(float) + sizeof(int32_t)) +
                   (size_t)c.g.Q * sizeof(int32_t));
    return run(args, &c, fast_avg_backward,
               (size_t)(c.g.W + 2 * c.g.pw) * sizeof(float));
}

/* --------------------------------------------------- global avg pooling */

typedef struct global_ctx {
    int64_t plane;
    const float *in;
    float *out;
} global_ctx;

/* Sum of n floats: eight float lanes over blocks of 64, moved into eight
 * double lanes after each block, added in lane order (src/cpu/simd.h). */
static inline double sum_floats(const float *x, int64_t n)
{
    cnn_f64x4 lo = {0.0}, hi = {0.0};
    int64_t i = 0;
    while (i + 8 <= n) {
        cnn_f32x8 block = {0.0f};
        int64_t end = i + 64 <= n ? i + 64 : n;
        for (; i + 8 <= end; i += 8) {
            cnn_f32x8 v;
            memcpy(&v, x + i, sizeof v);
            block += v;
        }
        cnn_f64x8_add(&lo, &hi, &block);
    }
    double tail = 0.0;
    for (; i < n; ++i)
        tail += x[i];
    return cnn_f64x8_total(&lo, &hi, tail);
}

CNN_CPU_CLONES
static void global_forward(int64_t begin, int64_t end, void *p)
{
    const global_ctx *c = p;
    for (int64_t n = begin; n < end; ++n)
        c->out[n] = (float)(sum_floats(c->in + n * c->plane, c->plane) /
                            (double)c->plane);
}

static void global_forward_ref(int64_t begin, int64_t end, void *p)
{
    const global_ctx *c = p;
    for (int64_t n = begin; n < end; ++n) {
        double sum = 0.0;
        for (int64_t i = 0; i < c->plane; ++i)
            sum += c->in[n * c->plane + i];
        c->out[n] = (float)(sum / (double)c->plane);
    }
}

CNN_CPU_CLONES
static void global_backward(int64_t begin, int64_t end, void *p)
{
    const global_ctx *c = p;
    const float area = (float)c->plane;
    for (int64_t n = begin; n < end; ++n) {
        float share = c->in[n] / area; /* rounded as PyTorch's mean does */
        float *dx = c->out + n * c->plane;
        for (int64_t i = 0; i < c->plane; ++i)
            dx[i] = share;
    }
}

static cnn_status global_avgpool_forward(const cnn_op_args *args)
{
    const cnn_tensor *x = args->in[0];
    global_ctx c = {.plane = x->dims[2] * x->dims[3], .in = x->data,
                    .out = args->out[0]->data};
    cnn_cpu_parallel_for(args->device, x->dims[0] * x->dims[1], 1,
                         plane_chunk(c.plane),
                         args->engine == CNN_ENGINE_REFERENCE
                             ? global_forward_ref : global_forward, &c);
    return CNN_OK;
}

static cnn_status global_avgpool_backward(const cnn_op_args *args)
{
    const cnn_tensor *dx = args->out[0];
    global_ctx c = {.plane = dx->dims[2] * dx->dims[3],
                    .in = args->in[0]->data, .out = dx->data};
    /* One loop serves both engines: it is already the plain broadcast. */
    cnn_cpu_parallel_for(args->device, dx->dims[0] * dx->dims[1], 1,
                         plane_chunk(c.plane), global_backward, &c);
    return CNN_OK;
}

void cnn_cpu_register_pool(cnn_op_fn *ops)
{
    ops[CNN_OP_POOL2D_FWD] = pool2d_forward;
    ops[CNN_OP_POOL2D_BWD] = pool2d_backward;
    ops[CNN_OP_GLOBAL_AVGPOOL_FWD] = global_avgpool_forward;
    ops[CNN_OP_GLOBAL_AVGPOOL_BWD] = global_avgpool_backward;
}
