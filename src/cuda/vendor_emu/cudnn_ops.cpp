/* src/cuda/vendor_emu/cudnn_ops.cpp - the conformance double of cuDNN 9's
 * pooling, activation, LRN and batch normalisation (cudnn_ops library of
 * the cuDNN 9 API reference), computed in double on the CPU and rounded
 * once to float. */
#include <math.h>

#include <new>

#include "cudnn_core.h"

using namespace cnn_vemu;

extern "C" {

/* ---- pooling (cudnn_ops: cudnnSetPooling2dDescriptor, cudnnPoolingForward,
 * cudnnPoolingBackward, cudnnGetPooling2dForwardOutputDim) */

cudnnStatus_t cudnnCreatePoolingDescriptor(cudnnPoolingDescriptor_t *d)
{
    VEMU_ENTER("cudnnCreatePoolingDescriptor");
    if (!d)
        return fail(CUDNN_STATUS_BAD_PARAM, "cudnnCreatePoolingDescriptor: NULL");
    *d = new (std::nothrow) cnn_vemu_pool();
    return *d ? CUDNN_STATUS_SUCCESS : CUDNN_STATUS_ALLOC_FAILED;
}

cudnnStatus_t cudnnDestroyPoolingDescriptor(cudnnPoolingDescriptor_t d)
{
    VEMU_ENTER("cudnnDestroyPoolingDescriptor");
    delete d;
    return CUDNN_STATUS_SUCCESS;
}

/* cudnnSetPooling2dDescriptor(): BAD_PARAM when a window or stride is not
 * positive, or a padding is negative, or the mode or NaN option is not one
 * of the enumerators. */
cudnnStatus_t cudnnSetPooling2dDescriptor(cudnnPoolingDescriptor_t d,
                                          cudnnPoolingMode_t mode,
                                          cudnnNanPropagation_t nan, int wh,
                                          int ww, int ph, int pw, int sh,
                                          int sw)
{
    static const char call[] = "cudnnSetPooling2dDescriptor";
    VEMU_ENTER(call);
    if (!d || wh <= 0 || ww <= 0 || sh <= 0 || sw <= 0 || ph < 0 || pw < 0 ||
        (unsigned)mode > CUDNN_POOLING_MAX_DETERMINISTIC ||
        (unsigned)nan > CUDNN_PROPAGATE_NAN)
        return fail(CUDNN_STATUS_BAD_PARAM, "%s: window %dx%d, padding %dx%d, "
                    "stride %dx%d, mode %d", call, wh, ww, ph, pw, sh, sw,
                    (int)mode);
    d->mode = mode, d->nan = nan;
    d->wh = wh, d->ww = ww, d->ph = ph, d->pw = pw, d->sh = sh, d->sw = sw;
    d->set = true;
    return CUDNN_STATUS_SUCCESS;
}

/* cudnnGetPooling2dForwardOutputDim(): out = 1 + (in + 2 pad - window) /
 * stride, rounded down. */
cudnnStatus_t cudnnGetPooling2dForwardOutputDim(const cudnnPoolingDescriptor_t d,
                                                const cudnnTensorDescriptor_t x,
                                                int *n, int *c, int *h, int *w)
{
    static const char call[] = "cudnnGetPooling2dForwardOutputDim";
    VEMU_ENTER(call);
    if (!d || !d->set || !x || !x->set || !n || !c || !h || !w)
        return fail(CUDNN_STATUS_BAD_PARAM, "%s: a descriptor is NULL or unset",
                    call);
    *n = x->n;
    *c = x->c;
    *h = 1 + (x->h + 2 * d->ph - d->wh) / d->sh;
    *w = 1 + (x->w + 2 * d->pw - d->ww) / d->sw;
    return CUDNN_STATUS_SUCCESS;
}

static cudnnStatus_t pool_shapes(const char *call,
                                 const cnn_vemu_pool *p,
                                 const cnn_vemu_tensor *x,
                                 const cnn_vemu_tensor *y)
{
    if (!p || !p->set)
        return fail(CUDNN_STATUS_BAD_PARAM, "%s: pooling descriptor is %s",
                    call, p ? "not set" : "NULL");
    int n, c, h, w;
    cudnnGetPooling2dForwardOutputDim(const_cast<cnn_vemu_pool *>(p),
                                      const_cast<cnn_vemu_tensor *>(x), &n, &c,
                                      &h, &w);
    if (h <= 0 || w <= 0 || y->n != n || y->c != c || y->h != h || y->w != w)
        return fail(CUDNN_STATUS_BAD_PARAM, "%s: y is [%d, %d, %d, %d] but "
                    "pooling x [%d, %d, %d, %d] gives [%d, %d, %d, %d]", call,
                    y->n, y->c, y->h, y->w, x->n, x->c, x->h, x->w, n, c, h, w);
    return CUDNN_STATUS_SUCCESS;
}

static bool is_max(cudnnPoolingMode_t m)
{
    return m == CUDNN_POOLING_MAX || m == CUDNN_POOLING_MAX_DETERMINISTIC;
}

/* One window of a pooling: its in-bounds elements (padding is never read:
 * max pooling ignores it, the average divides by the whole window with
 * COUNT_INCLUDE_PADDING and by the elements inside without). */
struct window {
    int h0, h1, w0, w1; /* in-bounds [h0, h1) x [w0, w1) */
    int count_all, count_in;
};

static window window_of(const cnn_vemu_pool *p, const cnn_vemu_tensor *x,
                        int oh, int ow)
{
    window win;
    int hs = oh * p->sh - p->ph, ws = ow * p->sw - p->pw;
    win.h0 = hs < 0 ? 0 : hs;
    win.w0 = ws < 0 ? 0 : ws;
    win.h1 = hs + p->wh > x->h ? x->h : hs + p->wh;
    win.w1 = ws + p->ww > x->w ? x->w : ws + p->ww;
    win.count_all = p->wh * p->ww;
    win.count_in = (win.h1 - win.h0) * (win.w1 - win.w0);
    return win;
}

cudnnStatus_t cudnnPoolingForward(cudnnHandle_t handle,
                                  const cudnnPoolingDescriptor_t p,
                                  const void *alpha,
                                  const cudnnTensorDescriptor_t xDesc,
                                  const void *x, const void *beta,
                                  const cudnnTensorDescriptor_t yDesc, void *y)
{
    static const char call[] = "cudnnPoolingForward";
    VEMU_ENTER(call);
    cudnnStatus_t s;
    if ((s = check_handle(call, handle)) || (s = check_tensor(call, "x", xDesc)) ||
        (s = check_tensor(call, "y", yDesc)) ||
        (s = pool_shapes(call, p, xDesc, yDesc)))
        return s;
    std::vector<double> xv;
    if ((s = load(call, "x", xDesc, x, xv)))
        return s;
    const cnn_vemu_tensor &X = *xDesc, &Y = *yDesc;
    std::vector<double> r((size_t)Y.n * Y.c * Y.h * Y.w);
    size_t i = 0;
    for (int n = 0; n < Y.n; ++n)
        for (int c = 0; c < Y.c; ++c)
            for (int oh = 0; oh < Y.h; ++oh)
                for (int ow = 0; ow < Y.w; ++ow) {
                    window win = window_of(p, &X, oh, ow);
                    const double *plane = &xv[((size_t)n * X.c + c) * X.h * X.w];
                    double acc = is_max(p->mode) ? -INFINITY : 0.0;
                    bool saw_nan = false;
                    for (int h = win.h0; h < win.h1; ++h)
                        for (int w = win.w0; w < win.w1; ++w) {
                            double v = plane[(size_t)h * X.w + w];
                            if (isnan(v))
                                saw_nan = true;
                            else if (is_max(p->mode))
                                acc = v > acc ? v : acc;
                            else
                                acc += v;
                        }
                    if (!is_max(p->mode))
                        acc /= p->mode == CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING
                                   ? win.count_all
                                   : win.count_in;
                    /* CUDNN_PROPAGATE_NAN: a NaN in the window is the
                     * result; otherwise NaNs are skipped. */
                    if (saw_nan && (p->nan == CUDNN_PROPAGATE_NAN || !is_max(p->mode)))
                        acc = NAN;
                    r[i++] = acc;
                }
    return blend(call, "y", yDesc, y, r, scalar(alpha), scalar(beta));
}

/* cudnnPoolingBackward(): dx from dy; for max pooling the gradient goes to
 * the element of x equal to y. cuDNN documents no rule for a window with
 * several such elements, so the double gives it to the LAST in row-major
 * order: code that depends on the CPU's rule (the first) fails here, as it
 * may on a GPU. Average pooling spreads dy over the window's elements. */
cudnnStatus_t cudnnPoolingBackward(
    cudnnHandle_t handle, const cudnnPoolingDescriptor_t p, const void *alpha,
    const cudnnTensorDescriptor_t yDesc, const void *y,
    const cudnnTensorDescriptor_t dyDesc, const void *dy,
    const cudnnTensorDescriptor_t xDesc, const void *x, const void *beta,
    const cudnnTensorDescriptor_t dxDesc, void *dx)
{
    static const char call[] = "cudnnPoolingBackward";
    VEMU_ENTER(call);
    cudnnStatus_t s;
    if ((s = check_handle(call, handle)) || (s = check_tensor(call, "y", yDesc)) ||
        (s = check_tensor(call, "dy", dyDesc)) || (s = check_tensor(call, "x", xDesc)) ||
        (s = check_tensor(call, "dx", dxDesc)) ||
        (s = pool_shapes(call, p, xDesc, yDesc)))
        return s;
    if (!dyDesc->same_dims(*yDesc) || !dxDesc->same_dims(*xDesc))
        return fail(CUDNN_STATUS_BAD_PARAM, "%s: dy must match y and dx x",
                    call);
    std::vector<double> xv, yv, dyv;
    if ((s = load(call, "dy", dyDesc, dy, dyv)) || (s = load(call, "x", xDesc, x, xv)) ||
        (s = load(call, "y", yDesc, y, yv)))
        return s;
    const cnn_vemu_tensor &X = *xDesc, &Y = *yDesc;
    std::vector<double> r(xv.size(), 0.0);
    size_t i = 0;
    for (int n = 0; n < Y.n; ++n)
        for (int c = 0; c < Y.c; ++c)
            for (int oh = 0; oh < Y.h; ++oh)
                for (int ow = 0; ow < Y.w; ++ow, ++i) {
                    window win = window_of(p, &X, oh, ow);
                    size_t base = ((size_t)n * X.c + c) * X.h * X.w;
                    if (is_max(p->mode)) {
                        long long at = -1;
                        for (int h = win.h0; h < win.h1; ++h)
                            for (int w = win.w0; w < win.w1; ++w) {
                                double v = xv[base + (size_t)h * X.w + w];
                                if (v == yv[i] || (isnan(v) && isnan(yv[i])))
                                    at = (long long)(base + (size_t)h * X.w + w);
                            }
                        if (at >= 0)
                            r[(size_t)at] += dyv[i];
                    } else {
                        double share = dyv[i] /
                                       (p->mode == CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING
                                            ? win.count_all
                                            : win.count_in);
                        for (int h = win.h0; h < win.h1; ++h)
                            for (int w = win.w0; w < win.w1; ++w)
                                r[base + (size_t)h * X.w + w] += share;
                    }
                }
    return blend(call, "dx", dxDesc, dx, r, scalar(alpha), scalar(beta));
}

/* ---- activation (cudnn_ops: cudnnSetActivationDescriptor,
 * cudnnActivationForward, cudnnActivationBackward) */

cudnnStatus_t cudnnCreateActivationDescriptor(cudnnActivationDescriptor_t *d)
{
    VEMU_ENTER("cudnnCreateActivationDescriptor");
    if (!d)
        return fail(CUDNN_STATUS_BAD_PARAM, "cudnnCreateActivationDescriptor: NULL");
    *d = new (std::nothrow) cnn_vemu_act();
    return *d ? CUDNN_STATUS_SUCCESS : CUDNN_STATUS_ALLOC_FAILED;
}

cudnnStatus_t cudnnDestroyActivationDescriptor(cudnnActivationDescriptor_t d)
{
    VEMU_ENTER("cudnnDestroyActivationDescriptor");
    delete d;
    return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnSetActivationDescriptor(cudnnActivationDescriptor_t d,
                                           cudnnActivationMode_t mode,
                                           cudnnNanPropagation_t nan,
                                           double coef)
{
    static const char call[] = "cudnnSetActivationDescriptor";
    VEMU_ENTER(call);
    if (!d || (unsigned)mode > CUDNN_ACTIVATION_SWISH ||
        (unsigned)nan > CUDNN_PROPAGATE_NAN)
        return fail(CUDNN_STATUS_BAD_PARAM, "%s: mode %d, NaN option %d", call,
                    (int)mode, (int)nan);
    d->mode = mode, d->nan = nan, d->coef = coef;
    d->set = true;
    return CUDNN_STATUS_SUCCESS;
}

static cudnnStatus_t relu_only(const char *call, const cnn_vemu_act *a)
{
    if (!a || !a->set)
        return fail(CUDNN_STATUS_BAD_PARAM, "%s: activation descriptor is %s",
                    call, a ? "not set" : "NULL");
    if (a->mode != CUDNN_ACTIVATION_RELU)
        return fail(CUDNN_STATUS_NOT_SUPPORTED, "%s: the double models "
                    "CUDNN_ACTIVATION_RELU only", call);
    return CUDNN_STATUS_SUCCESS;
}

/* cudnnActivationForward(): y = max(0, x) for RELU, x and y of the same
 * dimensions (BAD_PARAM otherwise); in place allowed. A NaN stays NaN
 * with CUDNN_PROPAGATE_NAN. */
cudnnStatus_t cudnnActivationForward(cudnnHandle_t handle,
                                     cudnnActivationDescriptor_t a,
                                     const void *alpha,
                                     const cudnnTensorDescriptor_t xDesc,
                                     const void *x, const void *beta,
                                     const cudnnTensorDescriptor_t yDesc,
                                     void *y)
{
    static const char call[] = "cudnnActivationForward";
    VEMU_ENTER(call);
    cudnnStatus_t s;
    if ((s = check_handle(call, handle)) || (s = check_tensor(call, "x", xDesc)) ||
        (s = check_tensor(call, "y", yDesc)) || (s = relu_only(call, a)))
        return s;
    if (!xDesc->same_dims(*yDesc))
        return fail(CUDNN_STATUS_BAD_PARAM, "%s: x and y differ in shape", call);
    std::vector<double> v;
    if ((s = load(call, "x", xDesc, x, v)))
        return s;
    for (double &e : v)
        e = isnan(e) ? (a->nan == CUDNN_PROPAGATE_NAN ? e : 0.0)
                     : (e > 0.0 ? e : 0.0);
    return blend(call, "y", yDesc, y, v, scalar(alpha), scalar(beta));
}

/* cudnnActivationBackward(): dx = dy f'(x), for RELU dy where x > 0 and 0
 * elsewhere; y, dy, x and dx of one shape (BAD_PARAM otherwise). */
cudnnStatus_t cudnnActivationBackward(
    cudnnHandle_t handle, cudnnActivationDescriptor_t a, const void *alpha,
    const cudnnTensorDescriptor_t yDesc, const void *y,
    const cudnnTensorDescriptor_t dyDesc, const void *dy,
    const cudnnTensorDescriptor_t xDesc, const void *x, const void *beta,
    const cudnnTensorDescriptor_t dxDesc, void *dx)
{
    static const char call[] = "cudnnActivationBackward";
    VEMU_ENTER(call);
    cudnnStatus_t s;
    if ((s = check_handle(call, handle)) || (s = check_tensor(call, "y", yDesc)) ||
        (s = check_tensor(call, "dy", dyDesc)) || (s = check_tensor(call, "x", xDesc)) ||
        (s = check_tensor(call, "dx", dxDesc)) || (s = relu_only(call, a)))
        return s;
    if (!yDesc->same_dims(*dyDesc) || !yDesc->same_dims(*xDesc) ||
        !yDesc->same_dims(*dxDesc))
        return fail(CUDNN_STATUS_BAD_PARAM, "%s: y, dy, x and dx differ in "
                    "shape", call);
    std::vector<double> yv, dyv, xv;
    if ((s = load(call, "y", yDesc, y, yv)) || (s = load(call, "dy", dyDesc, dy, dyv)) ||
        (s = load(call, "x", xDesc, x, xv)))
        return s;
    for (size_t i = 0; i < dyv.size(); ++i)
        dyv[i] = xv[i] > 0.0 ? dyv[i] : 0.0;
    return blend(call, "dx", dxDesc, dx, dyv, scalar(alpha), scalar(beta));
}

/* ---- LRN (cudnn_ops: cudnnSetLRNDescriptor, cudnnLRNCrossChannelForward,
 * cudnnLRNCrossChannelBackward) */

cudnnStatus_t cudnnCreateLRNDescriptor(cudnnLRNDescriptor_t *d)
{
    VEMU_ENTER("cudnnCreateLRNDescriptor");
    if (!d)
        return fail(CUDNN_STATUS_BAD_PARAM, "cudnnCreateLRNDescriptor: NULL");
    *d = new (std::nothrow) cnn_vemu_lrn();
    return *d ? CUDNN_STATUS_SUCCESS : CUDNN_STATUS_ALLOC_FAILED;
}

cudnnStatus_t cudnnDestroyLRNDescriptor(cudnnLRNDescriptor_t d)
{
    VEMU_ENTER("cudnnDestroyLRNDescriptor");
    delete d;
    return CUDNN_STATUS_SUCCESS;
}

/* cudnnSetLRNDescriptor(): BAD_PARAM for lrnN outside
 * [CUDNN_LRN_MIN_N, CUDNN_LRN_MAX_N], lrnK below CUDNN_LRN_MIN_K or
 * lrnBeta below CUDNN_LRN_MIN_BETA. */
cudnnStatus_t cudnnSetLRNDescriptor(cudnnLRNDescriptor_t d, unsigned lrnN,
                                    double lrnAlpha, double lrnBeta,
                                    double lrnK)
{
    static const char call[] = "cudnnSetLRNDescriptor";
    VEMU_ENTER(call);
    if (!d || lrnN < CUDNN_LRN_MIN_N || lrnN > CUDNN_LRN_MAX_N ||
        lrnK < CUDNN_LRN_MIN_K || lrnBeta < CUDNN_LRN_MIN_BETA)
        return fail(CUDNN_STATUS_BAD_PARAM, "%s: n %u, k %g, beta %g outside "
                    "cuDNN's limits", call, lrnN, lrnK, lrnBeta);
    d->n = lrnN, d->alpha = lrnAlpha, d->beta = lrnBeta, d->k = lrnK;
    return CUDNN_STATUS_SUCCESS;
}

/* The documented cross-channel window of channel c: from c - floor((n-1)/2)
 * to c + ceil((n-1)/2), clipped to [0, C). scale[i] = k + alpha / n times
 * the sum of squares over it. */
static void lrn_scale(const cnn_vemu_lrn *d, const cnn_vemu_tensor &X,
                      const std::vector<double> &x, std::vector<double> &scale)
{
    const int lo = ((int)d->n - 1) / 2, hi = (int)d->n - 1 - lo;
    scale.assign(x.size(), 0.0);
    const size_t plane = (size_t)X.h * X.w;
    for (int n = 0; n < X.n; ++n)
        for (int c = 0; c < X.c; ++c)
            for (size_t e = 0; e < plane; ++e) {
                double sum = 0.0;
                for (int j = c - lo; j <= c + hi; ++j)
                    if (j >= 0 && j < X.c) {
                        double v = x[((size_t)n * X.c + j) * plane + e];
                        sum += v * v;
                    }
                scale[((size_t)n * X.c + c) * plane + e] =
                    d->k + d->alpha / d->n * sum;
            }
}

static cudnnStatus_t lrn_common(const char *call, cudnnHandle_t handle,
                                cudnnLRNDescriptor_t d, cudnnLRNMode_t mode)
{
    cudnnStatus_t s = check_handle(call, handle);
    if (s)
        return s;
    if (!d)
        return fail(CUDNN_STATUS_BAD_PARAM, "%s: LRN descriptor is NULL", call);
    if (mode != CUDNN_LRN_CROSS_CHANNEL_DIM1)
        return fail(CUDNN_STATUS_BAD_PARAM, "%s: mode %d", call, (int)mode);
    return CUDNN_STATUS_SUCCESS;
}

/* cudnnLRNCrossChannelForward(): y = x scale^-beta; x and y of one shape
 * (BAD_PARAM otherwise). */
cudnnStatus_t cudnnLRNCrossChannelForward(cudnnHandle_t handle,
                                          cudnnLRNDescriptor_t d,
                                          cudnnLRNMode_t mode,
                                          const void *alpha,
                                          const cudnnTensorDescriptor_t xDesc,
                                          const void *x, const void *beta,
                                          const cudnnTensorDescriptor_t yDesc,
                                          void *y)
{
    static const char call[] = "cudnnLRNCrossChannelForward";
    VEMU_ENTER(call);
    cudnnStatus_t s;
    if ((s = lrn_common(call, handle, d, mode)) || (s = check_tensor(call, "x", xDesc)) ||
        (s = check_tensor(call, "y", yDesc)))
        return s;
    if (!xDesc->same_dims(*yDesc))
        return fail(CUDNN_STATUS_BAD_PARAM, "%s: x and y differ in shape", call);
    std::vector<double> xv, scale;
    if ((s = load(call, "x", xDesc, x, xv)))
        return s;
    lrn_scale(d, *xDesc, xv, scale);
    for (size_t i = 0; i < xv.size(); ++i)
        xv[i] *= pow(scale[i], -d->beta);
    return blend(call, "y", yDesc, y, xv, scalar(alpha), scalar(beta));
}

/* cudnnLRNCrossChannelBackward(): the derivative of the forward formula,
 * dx_c = dy_c scale_c^-beta - 2 alpha beta / n x_c sum over the channels j
 * whose window holds c of dy_j y_j / scale_j, with y the forward's output
 * as passed; all four tensors of one shape (BAD_PARAM otherwise). */
cudnnStatus_t cudnnLRNCrossChannelBackward(
    cudnnHandle_t handle, cudnnLRNDescriptor_t d, cudnnLRNMode_t mode,
    const void *alpha, const cudnnTensorDescriptor_t yDesc, const void *y,
    const cudnnTensorDescriptor_t dyDesc, const void *dy,
    const cudnnTensorDescriptor_t xDesc, const void *x, const void *beta,
    const cudnnTensorDescriptor_t dxDesc, void *dx)
{
    static const char call[] = "cudnnLRNCrossChannelBackward";
    VEMU_ENTER(call);
    cudnnStatus_t s;
    if ((s = lrn_common(call, handle, d, mode)) || (s = check_tensor(call, "y", yDesc)) ||
        (s = check_tensor(call, "dy", dyDesc)) || (s = check_tensor(call, "x", xDesc)) ||
        (s = check_tensor(call, "dx", dxDesc)))
        return s;
    if (!yDesc->same_dims(*dyDesc) || !yDesc->same_dims(*xDesc) ||
        !yDesc->same_dims(*dxDesc))
        return fail(CUDNN_STATUS_BAD_PARAM, "%s: y, dy, x and dx differ in "
                    "shape", call);
    std::vector<double> yv, dyv, xv, scale;
    if ((s = load(call, "y", yDesc, y, yv)) || (s = load(call, "dy", dyDesc, dy, dyv)) ||
        (s = load(call, "x", xDesc, x, xv)))
        return s;
    const cnn_vemu_tensor &X = *xDesc;
    lrn_scale(d, X, xv, scale);
    const int lo = ((int)d->n - 1) / 2, hi = (int)d->n - 1 - lo;
    const size_t plane = (size_t)X.h * X.w;
    std::vector<double> r(xv.size());
    for (int n = 0; n < X.n; ++n)
        for (int c = 0; c < X.c; ++c)
            for (size_t e = 0; e < plane; ++e) {
                size_t i = ((size_t)n * X.c + c) * plane + e;
                double sum = 0.0;
                /* j's window [j - lo, j + hi] holds c: j in [c - hi, c + lo]. */
                for (int j = c - hi; j <= c + lo; ++j)
                    if (j >= 0 && j < X.c) {
                        size_t k = ((size_t)n * X.c + j) * plane + e;
                        sum += dyv[k] * yv[k] / scale[k];
                    }
                r[i] = dyv[i] * pow(scale[i], -d->beta) -
                       2.0 * d->alpha * d->beta / d->n * xv[i] * sum;
            }
    return blend(call, "dx", dxDesc, dx, r, scalar(alpha), scalar(beta));
}

/* ---- batch normalisation (cudnn_ops: cudnnBatchNormalizationForward-
 * Training, ...ForwardInference, ...Backward) */

/* The least epsilon that the batch-norm function reference accepts. */
static const double bn_min_epsilon = 1e-5;

static cudnnStatus_t bn_common(const char *call, cudnnHandle_t handle,
                               cudnnBatchNormMode_t mode,
                               const cnn_vemu_tensor *x,
                               const cnn_vemu_tensor *y,
                               const cnn_vemu_tensor *ch, double epsilon)
{
    cudnnStatus_t s;
    if ((s = check_handle(call, handle)) || (s = check_tensor(call, "x", x)) ||
        (s = check_tensor(call, "y", y)) ||
        (s = check_tensor(call, "bnScaleBiasMeanVarDesc", ch)))
        return s;
    if (mode != CUDNN_BATCHNORM_SPATIAL)
        return fail(CUDNN_STATUS_NOT_SUPPORTED, "%s: the double models "
                    "CUDNN_BATCHNORM_SPATIAL only", call);
    if (!x->same_dims(*y))
        return fail(CUDNN_STATUS_BAD_PARAM, "%s: x and y differ in shape", call);
    if (ch->n != 1 || ch->c != x->c || ch->h != 1 || ch->w != 1)
        return fail(CUDNN_STATUS_BAD_PARAM, "%s: the scale/bias descriptor is "
                    "[%d, %d, %d, %d], not [1, %d, 1, 1] as SPATIAL mode "
                    "requires", call, ch->n, ch->c, ch->h, ch->w, x->c);
    if (!(epsilon >= bn_min_epsilon))
        return fail(CUDNN_STATUS_BAD_PARAM, "%s: epsilon %g is below %g", call,
                    epsilon, bn_min_epsilon);
    return CUDNN_STATUS_SUCCESS;
}

/* Mean and biased variance of each channel over N, H and W. */
static void channel_stats(const cnn_vemu_tensor &X, const std::vector<double> &x,
                          std::vector<double> &mean, std::vector<double> &var)
{
    const size_t plane = (size_t)X.h * X.w, m = plane * X.n;
    mean.assign((size_t)X.c, 0.0);
    var.assign((size_t)X.c, 0.0);
    for (int c = 0; c < X.c; ++c) {
        double sum = 0.0;
        for (int n = 0; n < X.n; ++n)
            for (size_t e = 0; e < plane; ++e)
                sum += x[((size_t)n * X.c + c) * plane + e];
        double mu = sum / (double)m, sq = 0.0;
        for (int n = 0; n < X.n; ++n)
            for (size_t e = 0; e < plane; ++e) {
                double d = x[((size_t)n * X.c + c) * plane + e] - mu;
                sq += d * d;
            }
        mean[(size_t)c] = mu;
        var[(size_t)c] = sq / (double)m;
    }
}

static void normalise(const cnn_vemu_tensor &X, const std::vector<double> &x,
                      const std::vector<double> &gamma,
                      const std::vector<double> &beta,
                      const std::vector<double> &mean,
                      const std::vector<double> &invstd, std::vector<double> &y)
{
    const size_t plane = (size_t)X.h * X.w;
    y.resize(x.size());
    for (int n = 0; n < X.n; ++n)
        for (int c = 0; c < X.c; ++c)
            for (size_t e = 0; e < plane; ++e) {
                size_t i = ((size_t)n * X.c + c) * plane + e;
                y[i] = gamma[(size_t)c] * (x[i] - mean[(size_t)c]) *
                           invstd[(size_t)c] + beta[(size_t)c];
            }
}

/* cudnnBatchNormalizationForwardTraining(): y = scale (x - mean) / sqrt(var
 * + epsilon) + bias with the batch's mean and (biased) variance; the running
 * statistics, when given (both or neither), are updated as running =
 * (1 - factor) running + factor batch, the variance's with the unbiased
 * batch variance; resultSaveMean / resultSaveInvVariance, when given (both
 * or neither), receive the mean and 1 / sqrt(var + epsilon). */
cudnnStatus_t cudnnBatchNormalizationForwardTraining(
    cudnnHandle_t handle, cudnnBatchNormMode_t mode, const void *alpha,
    const void *beta, const cudnnTensorDescriptor_t xDesc, const void *x,
    const cudnnTensorDescriptor_t yDesc, void *y,
    const cudnnTensorDescriptor_t chDesc, const void *bnScale,
    const void *bnBias, double factor, void *runMean, void *runVar,
    double epsilon, void *saveMean, void *saveInvVar)
{
    static const char call[] = "cudnnBatchNormalizationForwardTraining";
    VEMU_ENTER(call);
    cudnnStatus_t s;
    if ((s = bn_common(call, handle, mode, xDesc, yDesc, chDesc, epsilon)))
        return s;
    if (!runMean != !runVar || !saveMean != !saveInvVar)
        return fail(CUDNN_STATUS_BAD_PARAM, "%s: the running (or saved) mean "
                    "and variance must both be given or both be NULL", call);
    std::vector<double> xv, g, b, mean, var;
    if ((s = load(call, "x", xDesc, x, xv)) || (s = load(call, "bnScale", chDesc, bnScale, g)) ||
        (s = load(call, "bnBias", chDesc, bnBias, b)))
        return s;
    const cnn_vemu_tensor &X = *xDesc;
    channel_stats(X, xv, mean, var);
    std::vector<double> invstd(var.size()), yv;
    for (size_t c = 0; c < var.size(); ++c)
        invstd[c] = 1.0 / sqrt(var[c] + epsilon);
    normalise(X, xv, g, b, mean, invstd, yv);
    if ((s = blend(call, "y", yDesc, y, yv, scalar(alpha), scalar(beta))))
        return s;
    if (runMean) {
        const double m = (double)X.n * X.h * X.w;
        std::vector<double> rm, rv;
        if ((s = load(call, "resultRunningMean", chDesc, runMean, rm)) ||
            (s = load(call, "resultRunningVariance", chDesc, runVar, rv)))
            return s;
        for (size_t c = 0; c < rm.size(); ++c) {
            double unbiased = m > 1 ? var[c] * m / (m - 1) : var[c];
            rm[c] = (1.0 - factor) * rm[c] + factor * mean[c];
            rv[c] = (1.0 - factor) * rv[c] + factor * unbiased;
        }
        if ((s = store(call, "resultRunningMean", chDesc, runMean, rm)) ||
            (s = store(call, "resultRunningVariance", chDesc, runVar, rv)))
            return s;
    }
    if (saveMean &&
        ((s = store(call, "resultSaveMean", chDesc, saveMean, mean)) ||
         (s = store(call, "resultSaveInvVariance", chDesc, saveInvVar, invstd))))
        return s;
    return CUDNN_STATUS_SUCCESS;
}

/* cudnnBatchNormalizationForwardInference(): y = scale (x - estimatedMean)
 * / sqrt(estimatedVariance + epsilon) + bias. */
cudnnStatus_t cudnnBatchNormalizationForwardInference(
    cudnnHandle_t handle, cudnnBatchNormMode_t mode, const void *alpha,
    const void *beta, const cudnnTensorDescriptor_t xDesc, const void *x,
    const cudnnTensorDescriptor_t yDesc, void *y,
    const cudnnTensorDescriptor_t chDesc, const void *bnScale,
    const void *bnBias, const void *estMean, const void *estVar,
    double epsilon)
{
    static const char call[] = "cudnnBatchNormalizationForwardInference";
    VEMU_ENTER(call);
    cudnnStatus_t s;
    if ((s = bn_common(call, handle, mode, xDesc, yDesc, chDesc, epsilon)))
        return s;
    std::vector<double> xv, g, b, mean, var, yv;
    if ((s = load(call, "x", xDesc, x, xv)) || (s = load(call, "bnScale", chDesc, bnScale, g)) ||
        (s = load(call, "bnBias", chDesc, bnBias, b)) ||
        (s = load(call, "estimatedMean", chDesc, estMean, mean)) ||
        (s = load(call, "estimatedVariance", chDesc, estVar, var)))
        return s;
    for (double &v : var)
        v = 1.0 / sqrt(v + epsilon);
    normalise(*xDesc, xv, g, b, mean, var, yv);
    return blend(call, "y", yDesc, y, yv, scalar(alpha), scalar(beta));
}

/* cudnnBatchNormalizationBackward(): the gradients of the training-mode
 * forward (the batch statistics depend on x): with xhat = (x - mean)
 * invstd and M values per channel, dBias = sum dy, dScale = sum dy xhat,
 * dx = scale invstd / M (M dy - dBias - xhat dScale). dx is blended with
 * alphaDataDiff / betaDataDiff, dScale and dBias with alphaParamDiff /
 * betaParamDiff. savedMean and savedInvVariance are both given (the
 * forward's) or both NULL (then recomputed). */
cudnnStatus_t cudnnBatchNormalizationBackward(
    cudnnHandle_t handle, cudnnBatchNormMode_t mode, const void *alphaData,
    const void *betaData, const void *alphaParam, const void *betaParam,
    const cudnnTensorDescriptor_t xDesc, const void *x,
    const cudnnTensorDescriptor_t dyDesc, const void *dy,
    const cudnnTensorDescriptor_t dxDesc, void *dx,
    const cudnnTensorDescriptor_t chDesc, const void *bnScale,
    void *dScale, void *dBias, double epsilon, const void *savedMean,
    const void *savedInvVar)
{
    static const char call[] = "cudnnBatchNormalizationBackward";
    VEMU_ENTER(call);
    cudnnStatus_t s;
    if ((s = bn_common(call, handle, mode, xDesc, dyDesc, chDesc, epsilon)) ||
        (s = check_tensor(call, "dx", dxDesc)))
        return s;
    if (!xDesc->same_dims(*dxDesc))
        return fail(CUDNN_STATUS_BAD_PARAM, "%s: x and dx differ in shape", call);
    if (!savedMean != !savedInvVar)
        return fail(CUDNN_STATUS_BAD_PARAM, "%s: savedMean and "
                    "savedInvVariance must both be given or both be NULL", call);
    std::vector<double> xv, dyv, g, mean, invstd;
    if ((s = load(call, "x", xDesc, x, xv)) || (s = load(call, "dy", dyDesc, dy, dyv)) ||
        (s = load(call, "bnScale", chDesc, bnScale, g)))
        return s;
    const cnn_vemu_tensor &X = *xDesc;
    if (savedMean) {
        if ((s = load(call, "savedMean", chDesc, savedMean, mean)) ||
            (s = load(call, "savedInvVariance", chDesc, savedInvVar, invstd)))
            return s;
    } else {
        channel_stats(X, xv, mean, invstd);
        for (double &v : invstd)
            v = 1.0 / sqrt(v + epsilon);
    }
    const size_t plane = (size_t)X.h * X.w;
    const double m = (double)plane * X.n;
    std::vector<double> db((size_t)X.c, 0.0), dg((size_t)X.c, 0.0),
        r(xv.size());
    for (int n = 0; n < X.n; ++n)
        for (int c = 0; c < X.c; ++c)
            for (size_t e = 0; e < plane; ++e) {
                size_t i = ((size_t)n * X.c + c) * plane + e;
                db[(size_t)c] += dyv[i];
                dg[(size_t)c] += dyv[i] * (xv[i] - mean[(size_t)c]) *
                                 invstd[(size_t)c];
            }
    for (int n = 0; n < X.n; ++n)
        for (int c = 0; c < X.c; ++c)
            for (size_t e = 0; e < plane; ++e) {
                size_t i = ((size_t)n * X.c + c) * plane + e;
                size_t k = (size_t)c;
                double xhat = (xv[i] - mean[k]) * invstd[k];
                r[i] = g[k] * invstd[k] / m * (m * dyv[i] - db[k] - xhat * dg[k]);
            }
    if ((s = blend(call, "dx", dxDesc, dx, r, scalar(alphaData), scalar(betaData))) ||
        (s = blend(call, "dBnScaleResult", chDesc, dScale, dg, scalar(alphaParam),
                   scalar(betaParam))) ||
        (s = blend(call, "dBnBiasResult", chDesc, dBias, db, scalar(alphaParam),
                   scalar(betaParam))))
        return s;
    return CUDNN_STATUS_SUCCESS;
}

} /* extern "C" */
