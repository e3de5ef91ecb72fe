/* src/cuda/vendor_emu/cudnn_conv.cpp - the conformance double of cuDNN 9's
 * convolution (cudnn_cnn library of the cuDNN 9 API reference): filter and
 * convolution descriptors, workspace queries, the algorithm searches and
 * the four convolution calls, computed in double and rounded once.
 *
 * Algorithms. Every algorithm computes the same sums here; what differs is
 * what the reference documents about them and what the caller must
 * handle: which ones are supported for a shape (DIRECT never; FFT and
 * Winograd only for unit stride and dilation, Winograd only for 3x3 or 5x5
 * filters), which are non-deterministic (forward none; data ALGO_0;
 * filter ALGO_0 and ALGO_3, cudnnConvolutionBwd*Algo_t), and that each
 * needs its own workspace. The sizes are the double's own model (cuDNN
 * documents no formula): zero for IMPLICIT_GEMM and the ALGO_0s, growing
 * through the others, so that a workspace limit changes the choice. The
 * search sorts by a modelled time that falls as the workspace grows. */
#include <math.h>

#include <string.h>

#include <algorithm>
#include <new>

#include "cudnn_core.h"

using namespace cnn_vemu;

namespace {

/* The shapes of one call, checked against each other. */
struct conv_shape {
    int N, C, H, W, K, R, S, P, Q, G;
};

enum dir { FWD, BWD_DATA, BWD_FILTER };

cudnnStatus_t shape_of(const char *call, const cnn_vemu_tensor *x,
                       const cnn_vemu_filter *w, const cnn_vemu_conv *cv,
                       const cnn_vemu_tensor *y, conv_shape *sh)
{
    cudnnStatus_t s;
    if ((s = check_tensor(call, "x", x)) || (s = check_tensor(call, "y", y)))
        return s;
    if (!w || !w->set || !cv || !cv->set)
        return fail(CUDNN_STATUS_BAD_PARAM, "%s: filter or convolution "
                    "descriptor NULL or unset", call);
    int n, c, h, ww;
    if ((s = cudnnGetConvolution2dForwardOutputDim(
             const_cast<cnn_vemu_conv *>(cv), const_cast<cnn_vemu_tensor *>(x),
             const_cast<cnn_vemu_filter *>(w), &n, &c, &h, &ww)))
        return fail(s, "%s: %s", call, last_error().c_str());
    if (y->n != n || y->c != c || y->h != h || y->w != ww)
        return fail(CUDNN_STATUS_BAD_PARAM, "%s: the output descriptor is "
                    "[%d, %d, %d, %d] but the convolution gives [%d, %d, %d, "
                    "%d]", call, y->n, y->c, y->h, y->w, n, c, h, ww);
    *sh = conv_shape{x->n, x->c, x->h, x->w, w->k, w->r, w->s, h, ww, cv->groups};
    return CUDNN_STATUS_SUCCESS;
}

/* The filter tap used for output tap (r, s): cross-correlation uses it as
 * stored, convolution flips it (cudnnConvolutionMode_t). */
inline size_t tap(const conv_shape &d, const cnn_vemu_conv *cv, int k, int c,
                  int r, int s)
{
    if (cv->mode == CUDNN_CONVOLUTION) {
        r = d.R - 1 - r;
        s = d.S - 1 - s;
    }
    return (((size_t)k * (d.C / d.G) + c) * d.R + r) * d.S + s;
}

/* Calls f(x index, w index, y index) for every product of the
 * convolution, in any order (the sums are in double). */
template <typename F>
void each_product(const conv_shape &d, const cnn_vemu_conv *cv, F f)
{
    const int cg = d.C / d.G, kg = d.K / d.G;
    for (int n = 0; n < d.N; ++n)
        for (int k = 0; k < d.K; ++k) {
            const int g = k / kg;
            for (int p = 0; p < d.P; ++p)
                for (int q = 0; q < d.Q; ++q) {
                    size_t yi = (((size_t)n * d.K + k) * d.P + p) * d.Q + q;
                    for (int c = 0; c < cg; ++c)
                        for (int r = 0; r < d.R; ++r) {
                            int h = p * cv->stride_h - cv->pad_h + r * cv->dil_h;
                            if (h < 0 || h >= d.H)
                                continue;
                            for (int s = 0; s < d.S; ++s) {
                                int w = q * cv->stride_w - cv->pad_w + s * cv->dil_w;
                                if (w < 0 || w >= d.W)
                                    continue;
                                size_t xi = (((size_t)n * d.C + g * cg + c) * d.H + h) *
                                                d.W + w;
                                f(xi, tap(d, cv, k, c, r, s), yi);
                            }
                        }
                }
        }
}

/* Whether an algorithm is documented as available for this shape. */
bool supported(dir dr, int algo, const conv_shape &d, const cnn_vemu_conv *cv)
{
    const bool unit = cv->stride_h == 1 && cv->stride_w == 1 &&
                      cv->dil_h == 1 && cv->dil_w == 1;
    const bool wino = unit && d.R == d.S && (d.R == 3 || d.R == 5);
    switch (dr) {
    case FWD:
        switch (algo) {
        case CUDNN_CONVOLUTION_FWD_ALGO_DIRECT: return false;
        case CUDNN_CONVOLUTION_FWD_ALGO_FFT:
        case CUDNN_CONVOLUTION_FWD_ALGO_FFT_TILING:
            return unit && cv->pad_h < d.R && cv->pad_w < d.S;
        case CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD: return wino && d.R == 3;
        case CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD_NONFUSED: return wino;
        default: return true;
        }
    case BWD_DATA:
        switch (algo) {
        case CUDNN_CONVOLUTION_BWD_DATA_ALGO_FFT:
        case CUDNN_CONVOLUTION_BWD_DATA_ALGO_FFT_TILING:
            return unit && cv->pad_h < d.R && cv->pad_w < d.S;
        case CUDNN_CONVOLUTION_BWD_DATA_ALGO_WINOGRAD: return wino && d.R == 3;
        case CUDNN_CONVOLUTION_BWD_DATA_ALGO_WINOGRAD_NONFUSED: return wino;
        default: return true;
        }
    default:
        switch (algo) {
        case CUDNN_CONVOLUTION_BWD_FILTER_ALGO_FFT:
        case CUDNN_CONVOLUTION_BWD_FILTER_ALGO_FFT_TILING:
            return unit && cv->pad_h < d.R && cv->pad_w < d.S;
        case CUDNN_CONVOLUTION_BWD_FILTER_ALGO_WINOGRAD: return false;
        case CUDNN_CONVOLUTION_BWD_FILTER_ALGO_WINOGRAD_NONFUSED: return wino;
        default: return true;
        }
    }
}

/* The double's workspace model: index 0 of each direction needs none,
 * then roughly the unfolded input, the padded transforms, ... */
size_t workspace(dir dr, int algo, const conv_shape &d)
{
    const size_t unfold = (size_t)(d.C / d.G) * d.R * d.S * d.P * d.Q * d.G * 4;
    const size_t padded = (size_t)(d.C + d.K) * (d.H + d.R) * (d.W + d.S) * 8;
    static const size_t fwd[8] = {0, 1, 2, 0, 3, 4, 0, 5};
    static const size_t data[6] = {0, 1, 3, 4, 0, 5};
    static const size_t filt[7] = {0, 1, 3, 2, 0, 5, 4};
    size_t step = dr == FWD ? fwd[algo] : dr == BWD_DATA ? data[algo] : filt[algo];
    switch (step) {
    case 0: return 0;
    case 1: return (size_t)d.R * d.S * (d.C / d.G) * 16 + 256;
    case 2: return unfold;
    case 3: return padded * (size_t)d.N;
    case 4: return padded * 2;
    default: return unfold + padded;
    }
}

bool deterministic(dir dr, int algo)
{
    if (dr == BWD_DATA)
        return algo != CUDNN_CONVOLUTION_BWD_DATA_ALGO_0;
    if (dr == BWD_FILTER)
        return algo != CUDNN_CONVOLUTION_BWD_FILTER_ALGO_0 &&
               algo != CUDNN_CONVOLUTION_BWD_FILTER_ALGO_3;
    return true;
}

int algo_count(dir dr)
{
    return dr == FWD        ? (int)CUDNN_CONVOLUTION_FWD_ALGO_COUNT
           : dr == BWD_DATA ? (int)CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT
                            : (int)CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT;
}

cudnnStatus_t workspace_query(const char *call, dir dr, int algo,
                              const cnn_vemu_tensor *x,
                              const cnn_vemu_filter *w,
                              const cnn_vemu_conv *cv,
                              const cnn_vemu_tensor *y, size_t *bytes)
{
    conv_shape d;
    cudnnStatus_t s = shape_of(call, x, w, cv, y, &d);
    if (s)
        return s;
    if (!bytes || algo < 0 || algo >= algo_count(dr))
        return fail(CUDNN_STATUS_BAD_PARAM, "%s: algorithm %d or NULL size",
                    call, algo);
    if (!supported(dr, algo, d, cv))
        return fail(CUDNN_STATUS_NOT_SUPPORTED, "%s: algorithm %d does not "
                    "support this convolution", call, algo);
    *bytes = workspace(dr, algo, d);
    return CUDNN_STATUS_SUCCESS;
}

/* The checks of an execution call: the algorithm supports the shape, and
 * the workspace holds at least what the query returns (BAD_PARAM when it
 * is smaller; a non-NULL workspace must be device memory). */
cudnnStatus_t check_run(const char *call, dir dr, int algo,
                        const conv_shape &d, const cnn_vemu_conv *cv,
                        const void *ws, size_t ws_bytes)
{
    if (algo < 0 || algo >= algo_count(dr))
        return fail(CUDNN_STATUS_BAD_PARAM, "%s: algorithm %d", call, algo);
    if (!supported(dr, algo, d, cv))
        return fail(CUDNN_STATUS_NOT_SUPPORTED, "%s: algorithm %d does not "
                    "support this convolution", call, algo);
    size_t need = workspace(dr, algo, d);
    if (ws_bytes < need)
        return fail(CUDNN_STATUS_BAD_PARAM, "%s: algorithm %d needs %zu bytes "
                    "of workspace, given %zu", call, algo, need, ws_bytes);
    if (ws_bytes > 0 && !ws)
        return fail(CUDNN_STATUS_BAD_PARAM, "%s: workspace NULL with size %zu",
                    call, ws_bytes);
    if (ws && need > 0)
        return status_of(check_range(call, "workSpace", ws, need));
    return CUDNN_STATUS_SUCCESS;
}

std::vector<double> forward(const conv_shape &d, const cnn_vemu_conv *cv,
                            const std::vector<double> &x,
                            const std::vector<double> &w)
{
    std::vector<double> y((size_t)d.N * d.K * d.P * d.Q, 0.0);
    each_product(d, cv, [&](size_t xi, size_t wi, size_t yi) { y[yi] += x[xi] * w[wi]; });
    return y;
}

std::vector<double> backward_data(const conv_shape &d, const cnn_vemu_conv *cv,
                                  const std::vector<double> &w,
                                  const std::vector<double> &dy)
{
    std::vector<double> dx((size_t)d.N * d.C * d.H * d.W, 0.0);
    each_product(d, cv, [&](size_t xi, size_t wi, size_t yi) { dx[xi] += w[wi] * dy[yi]; });
    return dx;
}

std::vector<double> backward_filter(const conv_shape &d, const cnn_vemu_conv *cv,
                                    const std::vector<double> &x,
                                    const std::vector<double> &dy)
{
    std::vector<double> dw((size_t)d.K * (d.C / d.G) * d.R * d.S, 0.0);
    each_product(d, cv, [&](size_t xi, size_t wi, size_t yi) { dw[wi] += x[xi] * dy[yi]; });
    return dw;
}

/* A filter's values as a packed [K, C/G, R, S] tensor, to read and blend
 * them with the tensor helpers. */
cnn_vemu_tensor as_tensor(const cnn_vemu_filter *w)
{
    cnn_vemu_tensor t;
    t.set = true;
    t.n = w->k, t.c = w->c, t.h = w->r, t.w = w->s;
    t.ws = 1, t.hs = w->s, t.cs = w->r * w->s, t.ns = w->c * w->r * w->s;
    return t;
}

/* A search's results: every algorithm, sorted by the modelled time; those
 * not supported or needing more workspace than given are not run and
 * carry a failing status after the others. */
template <typename Perf, typename Algo>
int search(dir dr, const conv_shape &d, const cnn_vemu_conv *cv,
           size_t ws_bytes, int requested, Perf *out)
{
    std::vector<Perf> all;
    for (int a = 0; a < algo_count(dr); ++a) {
        Perf p;
        memset(&p, 0, sizeof p);
        p.algo = (Algo)a;
        p.determinism = deterministic(dr, a) ? CUDNN_DETERMINISTIC
                                             : CUDNN_NON_DETERMINISTIC;
        /* With CUDNN_DEFAULT_MATH the GEMM-like algorithms report tensor
         * cores (TF32 for float data); with CUDNN_FMA_MATH none do. */
        p.mathType = cv->math == CUDNN_DEFAULT_MATH && a == 1
                         ? CUDNN_TENSOR_OP_MATH
                         : cv->math;
        if (!supported(dr, a, d, cv)) {
            p.status = CUDNN_STATUS_NOT_SUPPORTED;
            p.time = -1.0f;
        } else {
            p.memory = workspace(dr, a, d);
            p.status = p.memory <= ws_bytes ? CUDNN_STATUS_SUCCESS
                                            : CUDNN_STATUS_ALLOC_FAILED;
            p.time = p.status ? -1.0f
                              : 1.0f + 1.0f / (1.0f + (float)a) +
                                    100.0f / (1.0f + (float)(p.memory >> 10));
        }
        all.push_back(p);
    }
    std::stable_sort(all.begin(), all.end(), [](const Perf &a, const Perf &b) {
        if ((a.status == 0) != (b.status == 0))
            return a.status == 0;
        return a.status == 0 && a.time < b.time;
    });
    int n = std::min(requested, (int)all.size());
    std::copy(all.begin(), all.begin() + n, out);
    return n;
}

/* Find*Ex writes "arbitrary values" into the output it is given: NaN
 * here, so a caller that keeps them is seen. */
cudnnStatus_t spoil(const char *call, const char *role,
                    const cnn_vemu_tensor *t, void *p)
{
    std::vector<double> nan((size_t)t->n * t->c * t->h * t->w, NAN);
    return store(call, role, t, p, nan);
}

cudnnStatus_t find_common(const char *call, cudnnHandle_t handle,
                          int requested, int *returned, const void *perf,
                          const void *ws, size_t ws_bytes)
{
    cudnnStatus_t s = check_handle(call, handle);
    if (s)
        return s;
    if (requested <= 0 || !returned || !perf)
        return fail(CUDNN_STATUS_BAD_PARAM, "%s: requestedAlgoCount %d, or a "
                    "NULL result pointer", call, requested);
    if (ws_bytes > 0 && (!ws || (s = status_of(check_range(call, "workSpace",
                                                           ws, ws_bytes)))))
        return s ? s : fail(CUDNN_STATUS_BAD_PARAM, "%s: workspace NULL", call);
    return CUDNN_STATUS_SUCCESS;
}

} // namespace

extern "C" {

/* cudnn_cnn: filter descriptors (cudnnSetFilter4dDescriptor: BAD_PARAM for
 * a dimension that is not positive; the double models float NCHW only). */
cudnnStatus_t cudnnCreateFilterDescriptor(cudnnFilterDescriptor_t *d)
{
    VEMU_ENTER("cudnnCreateFilterDescriptor");
    if (!d)
        return fail(CUDNN_STATUS_BAD_PARAM, "cudnnCreateFilterDescriptor: NULL");
    *d = new (std::nothrow) cnn_vemu_filter();
    return *d ? CUDNN_STATUS_SUCCESS : CUDNN_STATUS_ALLOC_FAILED;
}

cudnnStatus_t cudnnDestroyFilterDescriptor(cudnnFilterDescriptor_t d)
{
    VEMU_ENTER("cudnnDestroyFilterDescriptor");
    delete d;
    return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnSetFilter4dDescriptor(cudnnFilterDescriptor_t d,
                                         cudnnDataType_t dataType,
                                         cudnnTensorFormat_t format, int k,
                                         int c, int h, int w)
{
    static const char call[] = "cudnnSetFilter4dDescriptor";
    VEMU_ENTER(call);
    if (!d || k <= 0 || c <= 0 || h <= 0 || w <= 0)
        return fail(CUDNN_STATUS_BAD_PARAM, "%s: [%d, %d, %d, %d]", call, k, c,
                    h, w);
    if (dataType != CUDNN_DATA_FLOAT || format != CUDNN_TENSOR_NCHW)
        return fail(CUDNN_STATUS_NOT_SUPPORTED, "%s: the double models float "
                    "NCHW filters only", call);
    d->k = k, d->c = c, d->r = h, d->s = w;
    d->set = true;
    return CUDNN_STATUS_SUCCESS;
}

/* cudnn_cnn: convolution descriptors. cudnnSetConvolution2dDescriptor:
 * BAD_PARAM for a negative padding, a stride or dilation that is not
 * positive, or a mode that is neither CONVOLUTION nor CROSS_CORRELATION. */
cudnnStatus_t cudnnCreateConvolutionDescriptor(cudnnConvolutionDescriptor_t *d)
{
    VEMU_ENTER("cudnnCreateConvolutionDescriptor");
    if (!d)
        return fail(CUDNN_STATUS_BAD_PARAM, "cudnnCreateConvolutionDescriptor: NULL");
    *d = new (std::nothrow) cnn_vemu_conv();
    return *d ? CUDNN_STATUS_SUCCESS : CUDNN_STATUS_ALLOC_FAILED;
}

cudnnStatus_t cudnnDestroyConvolutionDescriptor(cudnnConvolutionDescriptor_t d)
{
    VEMU_ENTER("cudnnDestroyConvolutionDescriptor");
    delete d;
    return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnSetConvolution2dDescriptor(cudnnConvolutionDescriptor_t d,
                                              int pad_h, int pad_w, int u,
                                              int v, int dil_h, int dil_w,
                                              cudnnConvolutionMode_t mode,
                                              cudnnDataType_t computeType)
{
    static const char call[] = "cudnnSetConvolution2dDescriptor";
    VEMU_ENTER(call);
    if (!d || pad_h < 0 || pad_w < 0 || u <= 0 || v <= 0 || dil_h <= 0 ||
        dil_w <= 0 || (mode != CUDNN_CONVOLUTION && mode != CUDNN_CROSS_CORRELATION))
        return fail(CUDNN_STATUS_BAD_PARAM, "%s: padding %dx%d, stride %dx%d, "
                    "dilation %dx%d, mode %d", call, pad_h, pad_w, u, v, dil_h,
                    dil_w, (int)mode);
    if (computeType != CUDNN_DATA_FLOAT)
        return fail(CUDNN_STATUS_NOT_SUPPORTED, "%s: the double models float "
                    "compute only", call);
    d->pad_h = pad_h, d->pad_w = pad_w, d->stride_h = u, d->stride_w = v;
    d->dil_h = dil_h, d->dil_w = dil_w, d->mode = mode;
    d->set = true;
    return CUDNN_STATUS_SUCCESS;
}

/* cudnnSetConvolutionGroupCount(): BAD_PARAM for a count below 1. */
cudnnStatus_t cudnnSetConvolutionGroupCount(cudnnConvolutionDescriptor_t d,
                                            int groupCount)
{
    VEMU_ENTER("cudnnSetConvolutionGroupCount");
    if (!d || groupCount < 1)
        return fail(CUDNN_STATUS_BAD_PARAM, "cudnnSetConvolutionGroupCount: %d",
                    groupCount);
    d->groups = groupCount;
    return CUDNN_STATUS_SUCCESS;
}

/* cudnnSetConvolutionMathType(): BAD_PARAM for a value outside
 * cudnnMathType_t. */
cudnnStatus_t cudnnSetConvolutionMathType(cudnnConvolutionDescriptor_t d,
                                          cudnnMathType_t mathType)
{
    VEMU_ENTER("cudnnSetConvolutionMathType");
    if (!d || (unsigned)mathType > CUDNN_FMA_MATH)
        return fail(CUDNN_STATUS_BAD_PARAM, "cudnnSetConvolutionMathType: %d",
                    (int)mathType);
    d->math = mathType;
    return CUDNN_STATUS_SUCCESS;
}

/* cudnnGetConvolution2dForwardOutputDim(): outputDim = 1 + (inputDim + 2
 * pad - ((filterDim - 1) dilation + 1)) / stride; BAD_PARAM when the
 * filter's channels times the group count are not the input's, the
 * filter count is not a multiple of the groups, or the output is empty. */
cudnnStatus_t cudnnGetConvolution2dForwardOutputDim(
    const cudnnConvolutionDescriptor_t cv, const cudnnTensorDescriptor_t x,
    const cudnnFilterDescriptor_t w, int *n, int *c, int *h, int *ww)
{
    static const char call[] = "cudnnGetConvolution2dForwardOutputDim";
    VEMU_ENTER(call);
    if (!cv || !cv->set || !x || !x->set || !w || !w->set || !n || !c || !h || !ww)
        return fail(CUDNN_STATUS_BAD_PARAM, "%s: a descriptor or output is "
                    "NULL or unset", call);
    if (w->c * cv->groups != x->c || w->k % cv->groups != 0)
        return fail(CUDNN_STATUS_BAD_PARAM, "%s: filter [%d, %d, ...] with %d "
                    "groups does not match an input of %d channels", call,
                    w->k, w->c, cv->groups, x->c);
    int oh = 1 + (x->h + 2 * cv->pad_h - ((w->r - 1) * cv->dil_h + 1)) / cv->stride_h;
    int ow = 1 + (x->w + 2 * cv->pad_w - ((w->s - 1) * cv->dil_w + 1)) / cv->stride_w;
    if (x->h + 2 * cv->pad_h < (w->r - 1) * cv->dil_h + 1 ||
        x->w + 2 * cv->pad_w < (w->s - 1) * cv->dil_w + 1)
        return fail(CUDNN_STATUS_BAD_PARAM, "%s: the dilated filter is larger "
                    "than the padded input", call);
    *n = x->n, *c = w->k, *h = oh, *ww = ow;
    return CUDNN_STATUS_SUCCESS;
}

/* cudnnGetConvolution*WorkspaceSize(): the workspace an algorithm needs
 * (the double's model, above); NOT_SUPPORTED for an algorithm the shape
 * does not allow; BAD_PARAM for mismatched descriptors. */
cudnnStatus_t cudnnGetConvolutionForwardWorkspaceSize(
    cudnnHandle_t handle, const cudnnTensorDescriptor_t xDesc,
    const cudnnFilterDescriptor_t wDesc, const cudnnConvolutionDescriptor_t cv,
    const cudnnTensorDescriptor_t yDesc, cudnnConvolutionFwdAlgo_t algo,
    size_t *bytes)
{
    static const char call[] = "cudnnGetConvolutionForwardWorkspaceSize";
    VEMU_ENTER(call);
    cudnnStatus_t s = check_handle(call, handle);
    return s ? s : workspace_query(call, FWD, algo, xDesc, wDesc, cv, yDesc, bytes);
}

cudnnStatus_t cudnnGetConvolutionBackwardDataWorkspaceSize(
    cudnnHandle_t handle, const cudnnFilterDescriptor_t wDesc,
    const cudnnTensorDescriptor_t dyDesc, const cudnnConvolutionDescriptor_t cv,
    const cudnnTensorDescriptor_t dxDesc, cudnnConvolutionBwdDataAlgo_t algo,
    size_t *bytes)
{
    static const char call[] = "cudnnGetConvolutionBackwardDataWorkspaceSize";
    VEMU_ENTER(call);
    cudnnStatus_t s = check_handle(call, handle);
    return s ? s : workspace_query(call, BWD_DATA, algo, dxDesc, wDesc, cv, dyDesc, bytes);
}

cudnnStatus_t cudnnGetConvolutionBackwardFilterWorkspaceSize(
    cudnnHandle_t handle, const cudnnTensorDescriptor_t xDesc,
    const cudnnTensorDescriptor_t dyDesc, const cudnnConvolutionDescriptor_t cv,
    const cudnnFilterDescriptor_t dwDesc, cudnnConvolutionBwdFilterAlgo_t algo,
    size_t *bytes)
{
    static const char call[] = "cudnnGetConvolutionBackwardFilterWorkspaceSize";
    VEMU_ENTER(call);
    cudnnStatus_t s = check_handle(call, handle);
    return s ? s : workspace_query(call, BWD_FILTER, algo, xDesc, dwDesc, cv, dyDesc, bytes);
}

/* cudnnFind*AlgorithmEx(): runs every algorithm on the caller's memory and
 * workspace and returns up to requestedAlgoCount results sorted by time;
 * the output tensor is overwritten with arbitrary values. */
cudnnStatus_t cudnnFindConvolutionForwardAlgorithmEx(
    cudnnHandle_t handle, const cudnnTensorDescriptor_t xDesc, const void *x,
    const cudnnFilterDescriptor_t wDesc, const void *w,
    const cudnnConvolutionDescriptor_t cv, const cudnnTensorDescriptor_t yDesc,
    void *y, const int requested, int *returned,
    cudnnConvolutionFwdAlgoPerf_t *perf, void *ws, size_t ws_bytes)
{
    static const char call[] = "cudnnFindConvolutionForwardAlgorithmEx";
    VEMU_ENTER(call);
    conv_shape d;
    cudnnStatus_t s;
    std::vector<double> xv, wv;
    cnn_vemu_tensor wt;
    if ((s = find_common(call, handle, requested, returned, perf, ws, ws_bytes)) ||
        (s = shape_of(call, xDesc, wDesc, cv, yDesc, &d)) ||
        (s = load(call, "x", xDesc, x, xv)) ||
        (wt = as_tensor(wDesc), (s = load(call, "w", &wt, w, wv))) ||
        (s = spoil(call, "y", yDesc, y)))
        return s;
    *returned = search<cudnnConvolutionFwdAlgoPerf_t, cudnnConvolutionFwdAlgo_t>(
        FWD, d, cv, ws_bytes, requested, perf);
    return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnFindConvolutionBackwardDataAlgorithmEx(
    cudnnHandle_t handle, const cudnnFilterDescriptor_t wDesc, const void *w,
    const cudnnTensorDescriptor_t dyDesc, const void *dy,
    const cudnnConvolutionDescriptor_t cv, const cudnnTensorDescriptor_t dxDesc,
    void *dx, const int requested, int *returned,
    cudnnConvolutionBwdDataAlgoPerf_t *perf, void *ws, size_t ws_bytes)
{
    static const char call[] = "cudnnFindConvolutionBackwardDataAlgorithmEx";
    VEMU_ENTER(call);
    conv_shape d;
    cudnnStatus_t s;
    std::vector<double> dyv, wv;
    cnn_vemu_tensor wt;
    if ((s = find_common(call, handle, requested, returned, perf, ws, ws_bytes)) ||
        (s = shape_of(call, dxDesc, wDesc, cv, dyDesc, &d)) ||
        (s = load(call, "dy", dyDesc, dy, dyv)) ||
        (wt = as_tensor(wDesc), (s = load(call, "w", &wt, w, wv))) ||
        (s = spoil(call, "dx", dxDesc, dx)))
        return s;
    *returned = search<cudnnConvolutionBwdDataAlgoPerf_t, cudnnConvolutionBwdDataAlgo_t>(
        BWD_DATA, d, cv, ws_bytes, requested, perf);
    return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnFindConvolutionBackwardFilterAlgorithmEx(
    cudnnHandle_t handle, const cudnnTensorDescriptor_t xDesc, const void *x,
    const cudnnTensorDescriptor_t dyDesc, const void *dy,
    const cudnnConvolutionDescriptor_t cv, const cudnnFilterDescriptor_t dwDesc,
    void *dw, const int requested, int *returned,
    cudnnConvolutionBwdFilterAlgoPerf_t *perf, void *ws, size_t ws_bytes)
{
    static const char call[] = "cudnnFindConvolutionBackwardFilterAlgorithmEx";
    VEMU_ENTER(call);
    conv_shape d;
    cudnnStatus_t s;
    std::vector<double> xv, dyv;
    cnn_vemu_tensor wt;
    if ((s = find_common(call, handle, requested, returned, perf, ws, ws_bytes)) ||
        (s = shape_of(call, xDesc, dwDesc, cv, dyDesc, &d)) ||
        (s = load(call, "x", xDesc, x, xv)) || (s = load(call, "dy", dyDesc, dy, dyv)) ||
        (wt = as_tensor(dwDesc), (s = spoil(call, "dw", &wt, dw))))
        return s;
    *returned = search<cudnnConvolutionBwdFilterAlgoPerf_t, cudnnConvolutionBwdFilterAlgo_t>(
        BWD_FILTER, d, cv, ws_bytes, requested, perf);
    return CUDNN_STATUS_SUCCESS;
}

/* cudnnConvolutionForward(): y = alpha conv(x, w) + beta y. */
cudnnStatus_t cudnnConvolutionForward(
    cudnnHandle_t handle, const void *alpha, const cudnnTensorDescriptor_t xDesc,
    const void *x, const cudnnFilterDescriptor_t wDesc, const void *w,
    const cudnnConvolutionDescriptor_t cv, cudnnConvolutionFwdAlgo_t algo,
    void *ws, size_t ws_bytes, const void *beta,
    const cudnnTensorDescriptor_t yDesc, void *y)
{
    static const char call[] = "cudnnConvolutionForward";
    VEMU_ENTER(call);
    conv_shape d;
    cudnnStatus_t s;
    std::vector<double> xv, wv;
    cnn_vemu_tensor wt;
    if ((s = check_handle(call, handle)) || (s = shape_of(call, xDesc, wDesc, cv, yDesc, &d)) ||
        (s = check_run(call, FWD, algo, d, cv, ws, ws_bytes)) ||
        (s = load(call, "x", xDesc, x, xv)) ||
        (wt = as_tensor(wDesc), (s = load(call, "w", &wt, w, wv))))
        return s;
    return blend(call, "y", yDesc, y, forward(d, cv, xv, wv), scalar(alpha),
                 scalar(beta));
}

/* cudnnConvolutionBackwardData(): dx = alpha conv^T(dy, w) + beta dx. */
cudnnStatus_t cudnnConvolutionBackwardData(
    cudnnHandle_t handle, const void *alpha, const cudnnFilterDescriptor_t wDesc,
    const void *w, const cudnnTensorDescriptor_t dyDesc, const void *dy,
    const cudnnConvolutionDescriptor_t cv, cudnnConvolutionBwdDataAlgo_t algo,
    void *ws, size_t ws_bytes, const void *beta,
    const cudnnTensorDescriptor_t dxDesc, void *dx)
{
    static const char call[] = "cudnnConvolutionBackwardData";
    VEMU_ENTER(call);
    conv_shape d;
    cudnnStatus_t s;
    std::vector<double> dyv, wv;
    cnn_vemu_tensor wt;
    if ((s = check_handle(call, handle)) || (s = shape_of(call, dxDesc, wDesc, cv, dyDesc, &d)) ||
        (s = check_run(call, BWD_DATA, algo, d, cv, ws, ws_bytes)) ||
        (s = load(call, "dy", dyDesc, dy, dyv)) ||
        (wt = as_tensor(wDesc), (s = load(call, "w", &wt, w, wv))))
        return s;
    return blend(call, "dx", dxDesc, dx, backward_data(d, cv, wv, dyv),
                 scalar(alpha), scalar(beta));
}

/* cudnnConvolutionBackwardFilter(): dw = alpha (the filter gradient) +
 * beta dw. */
cudnnStatus_t cudnnConvolutionBackwardFilter(
    cudnnHandle_t handle, const void *alpha, const cudnnTensorDescriptor_t xDesc,
    const void *x, const cudnnTensorDescriptor_t dyDesc, const void *dy,
    const cudnnConvolutionDescriptor_t cv, cudnnConvolutionBwdFilterAlgo_t algo,
    void *ws, size_t ws_bytes, const void *beta,
    const cudnnFilterDescriptor_t dwDesc, void *dw)
{
    static const char call[] = "cudnnConvolutionBackwardFilter";
    VEMU_ENTER(call);
    conv_shape d;
    cudnnStatus_t s;
    std::vector<double> xv, dyv;
    if ((s = check_handle(call, handle)) || (s = shape_of(call, xDesc, dwDesc, cv, dyDesc, &d)) ||
        (s = check_run(call, BWD_FILTER, algo, d, cv, ws, ws_bytes)) ||
        (s = load(call, "x", xDesc, x, xv)) || (s = load(call, "dy", dyDesc, dy, dyv)))
        return s;
    cnn_vemu_tensor wt = as_tensor(dwDesc);
    return blend(call, "dw", &wt, dw, backward_filter(d, cv, xv, dyv),
                 scalar(alpha), scalar(beta));
}

/* cudnnConvolutionBackwardBias(): db = alpha (dy summed over N, H and W)
 * + beta db, db of dimensions [1, K, 1, 1] (BAD_PARAM otherwise). */
cudnnStatus_t cudnnConvolutionBackwardBias(cudnnHandle_t handle,
                                           const void *alpha,
                                           const cudnnTensorDescriptor_t dyDesc,
                                           const void *dy, const void *beta,
                                           const cudnnTensorDescriptor_t dbDesc,
                                           void *db)
{
    static const char call[] = "cudnnConvolutionBackwardBias";
    VEMU_ENTER(call);
    cudnnStatus_t s;
    if ((s = check_handle(call, handle)) || (s = check_tensor(call, "dy", dyDesc)) ||
        (s = check_tensor(call, "db", dbDesc)))
        return s;
    if (dbDesc->n != 1 || dbDesc->c != dyDesc->c || dbDesc->h != 1 || dbDesc->w != 1)
        return fail(CUDNN_STATUS_BAD_PARAM, "%s: db is [%d, %d, %d, %d], not "
                    "[1, %d, 1, 1]", call, dbDesc->n, dbDesc->c, dbDesc->h,
                    dbDesc->w, dyDesc->c);
    std::vector<double> dyv;
    if ((s = load(call, "dy", dyDesc, dy, dyv)))
        return s;
    std::vector<double> r((size_t)dyDesc->c, 0.0);
    const size_t plane = (size_t)dyDesc->h * dyDesc->w;
    for (int n = 0; n < dyDesc->n; ++n)
        for (int c = 0; c < dyDesc->c; ++c)
            for (size_t e = 0; e < plane; ++e)
                r[(size_t)c] += dyv[((size_t)n * dyDesc->c + c) * plane + e];
    return blend(call, "db", dbDesc, db, r, scalar(alpha), scalar(beta));
}

} /* extern "C" */
