/* src/cuda/conv_cudnn.cu - the vendor engine's 2-d convolution on cuDNN:
 * forward (cudnnConvolutionForward, then cudnnAddTensor for the bias),
 * data gradient (cudnnConvolutionBackwardData, overwriting dx), filter
 * gradient (cudnnConvolutionBackwardFilter with beta 1: dw accumulates) and
 * bias gradient (cudnnConvolutionBackwardBias with beta 1: db accumulates),
 * as cross-correlation with stride, padding, dilation and groups.
 *
 * Algorithms. Each (direction, shapes, params, math, deterministic,
 * workspace limit) gets its algorithm once, from cudnnFind*AlgorithmEx,
 * cached in ctx->conv_algos. The Ex form, because it times the algorithms
 * on this GPU (the heuristics of cudnnGet*_v7 only guess) and runs them on
 * memory we hand it: the workspace comes from our allocator, sized to what
 * the largest algorithm within the limit needs, so the limit holds and
 * cuDNN allocates nothing behind the allocator's back (plain cudnnFind*
 * does). A search that finds nothing usable (or that cuDNN refuses as
 * unsupported) is cached too, so AUTO does not repeat it before each
 * fallback. When memory is short the search runs under a smaller limit
 * (what the device could give, rounded down to a power of two) and its
 * answer is cached under that limit, not the nominal one, so a later call
 * with memory free searches again and its answer wins.
 *
 * The filter gradient accumulates (dw += ...), but cudnnFind* times every
 * algorithm with beta 0, and an algorithm's speed and workspace may differ
 * with beta 1; so the gradient runs exactly as timed, beta 0 into scratch,
 * and is then added to dw (cudnnAddTensor). Its search writes into scratch,
 * not into dw.
 *
 * Math. FP32 is IEEE: the convolution's math type is CUDNN_FMA_MATH, and
 * algorithms reported with a tensor-op math type are skipped. TF32 sets
 * CUDNN_DEFAULT_MATH, which lets cuDNN use TF32 tensor cores for float
 * data, and runs each algorithm with the math type it was timed with;
 * CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION is refused even then, since it may
 * round float data to half, which TF32 mode does not promise. In
 * deterministic mode only algorithms reported CUDNN_DETERMINISTIC count. */
#include <algorithm>
#include <stdio.h>
#include <new>
#include <vector>

#include "vendor_cudnn.cuh"
#include "cnn/conv.h"

enum conv_dir { DIR_FORWARD, DIR_DATA, DIR_FILTER };

/* What one search was for, as a flat list of numbers. */
#define KEY_SIZE 20
struct conv_entry {
    int64_t key[KEY_SIZE]; /* with the nominal workspace limit */
    size_t limit;          /* the limit the search ran under */
    bool clamped;          /* limit < nominal: memory was short */
    bool found;            /* false: cached failure, `why` says what */
    int algo;
    cudnnMathType_t math;
    size_t memory; /* workspace bytes the algorithm needs */
    char why[320];
};

/* ctx->conv_algos: every search's answer (a network has few shapes, so a
 * linear search is fine); kept with the context until process exit. */
struct conv_cache {
    std::vector<conv_entry> entries;
};

/* The descriptors of one call. */
struct conv_call {
    cnn_cuda_context *ctx = nullptr;
    cudnnHandle_t handle = nullptr;
    const cnn_conv2d_params *p = nullptr;
    cnn_cudnn_tensor x, y;
    cudnnFilterDescriptor_t w = nullptr;
    cudnnConvolutionDescriptor_t conv = nullptr;
    ~conv_call()
    {
        if (w)
            cudnnDestroyFilterDescriptor(w);
        if (conv)
            cudnnDestroyConvolutionDescriptor(conv);
    }
};

static cudnnMathType_t search_math(const cnn_op_args *args)
{
    return args->math == CNN_MATH_TF32 ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH;
}

/* Descriptors for x [N, C, H, W], w [K, C/groups, R, S], y [N, K, P, Q]. */
static cnn_status prepare(const cnn_op_args *args, const char *op,
                          const int64_t *x_dims, const int64_t *w_dims,
                          const int64_t *y_dims, conv_call *c)
{
    const cnn_conv2d_params *p =
        static_cast<const cnn_conv2d_params *>(args->params);
    c->p = p;
    /* The filter's element count too: its strides are ints inside cuDNN. */
    const int64_t sizes[12] = {w_dims[0], w_dims[1], w_dims[2], w_dims[3],
                               p->pad_h, p->pad_w, p->stride_h, p->stride_w,
                               p->dilation_h, p->dilation_w, p->groups,
                               w_dims[0] * w_dims[1] * w_dims[2] * w_dims[3]};
    cnn_status s;
    if ((s = cnn_cudnn_begin(args, &c->ctx, &c->handle)) != CNN_OK)
        return s;
    if (!cnn_cudnn_fits_int(op, 12, sizes))
        return CNN_ERR_UNSUPPORTED;
    if ((s = c->x.set(c->ctx, op, x_dims)) != CNN_OK ||
        (s = c->y.set(c->ctx, op, y_dims)) != CNN_OK ||
        (s = cnn_cudnn_check(c->ctx, cudnnCreateFilterDescriptor(&c->w),
                             "cudnnCreateFilterDescriptor")) != CNN_OK ||
        (s = cnn_cudnn_check(c->ctx,
                             cudnnSetFilter4dDescriptor(c->w, CUDNN_DATA_FLOAT,
                                                        CUDNN_TENSOR_NCHW,
                                                        (int)w_dims[0],
                                                        (int)w_dims[1],
                                                        (int)w_dims[2],
                                                        (int)w_dims[3]),
                             "cudnnSetFilter4dDescriptor")) != CNN_OK ||
        (s = cnn_cudnn_check(c->ctx, cudnnCreateConvolutionDescriptor(&c->conv),
                             "cudnnCreateConvolutionDescriptor")) != CNN_OK ||
        (s = cnn_cudnn_check(c->ctx,
                             cudnnSetConvolution2dDescriptor(
                                 c->conv, (int)p->pad_h, (int)p->pad_w,
                                 (int)p->stride_h, (int)p->stride_w,
                                 (int)p->dilation_h, (int)p->dilation_w,
                                 CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT),
                             "cudnnSetConvolution2dDescriptor")) != CNN_OK ||
        (s = cnn_cudnn_check(c->ctx,
                             cudnnSetConvolutionGroupCount(c->conv,
                                                           (int)p->groups),
                             "cudnnSetConvolutionGroupCount")) != CNN_OK)
        return s;
    return cnn_cudnn_check(c->ctx,
                           cudnnSetConvolutionMathType(c->conv,
                                                       search_math(args)),
                           "cudnnSetConvolutionMathType");
}

/* The alignment the three buffers share, up to 256 bytes: some cuDNN
 * algorithms need aligned pointers, so an algorithm found on our
 * allocator's (256-byte aligned) blocks may not run on a wrapped buffer
 * that is only 4-byte aligned; each alignment gets its own search. */
static int64_t shared_alignment(const void *x, const void *w, const void *y)
{
    uintptr_t bits = (uintptr_t)x | (uintptr_t)w | (uintptr_t)y | 256;
    return (int64_t)(bits & (~bits + 1)); /* the lowest set bit */
}

static void make_key(const cnn_op_args *args, conv_dir dir,
                     const int64_t *x_dims, const int64_t *w_dims,
                     int64_t alignment, int64_t key[KEY_SIZE])
{
    const cnn_conv2d_params *p =
        static_cast<const cnn_conv2d_params *>(args->params);
    const int64_t k[KEY_SIZE] = {
        dir, x_dims[0], x_dims[1], x_dims[2], x_dims[3], w_dims[0], w_dims[1],
        w_dims[2], w_dims[3], p->stride_h, p->stride_w, p->pad_h, p->pad_w,
        p->dilation_h, p->dilation_w, p->groups, args->math,
        args->deterministic, (int64_t)args->workspace_limit, alignment};
    std::copy(k, k + KEY_SIZE, key);
}

/* Whether a found algorithm may run under this call's settings and the
 * search's workspace limit. */
static bool acceptable(const cnn_op_args *args, size_t limit,
                       cudnnStatus_t status, size_t memory,
                       cudnnDeterminism_t determinism, cudnnMathType_t math)
{
    if (status != CUDNN_STATUS_SUCCESS || memory > limit)
        return false;
    if (args->deterministic && determinism != CUDNN_DETERMINISTIC)
        return false;
    if (math == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION)
        return false;
    return args->math == CNN_MATH_TF32 || math != CUDNN_TENSOR_OP_MATH;
}

static const char *dir_name(conv_dir dir)
{
    return dir == DIR_FORWARD ? "forward"
           : dir == DIR_DATA  ? "backward data"
                              : "backward filter";
}

/* The workspace for a search: the most that one algorithm within the limit
 * needs (an algorithm whose size query fails is left to the search to
 * reject). Sizes beyond what the device could give are skipped as well:
 * cuDNN has reported absurd sizes (2^63 and more) for some algorithms, and
 * with a large limit one of those would fail the whole search with an
 * out-of-memory (or wrap the aligned size computed from it) instead of
 * leaving that one algorithm out. */
/* The workspace limit a search can honour now: the nominal one, or when
 * the device could not give that much (free to the driver, or ours to
 * give back: the cache and the workspace the search replaces), that
 * amount rounded down to a power of two (so that the answers under
 * pressure are few) with *clamped set. */
static size_t usable_limit(const cnn_op_args *args, const conv_call *c,
                           bool *clamped)
{
    size_t limit = args->workspace_limit;
    *clamped = false;
    cnn_memory_stats mem = {};
    cnn_cuda_memory_stats(c->ctx, &mem);
    if (mem.device_total > 0) {
        size_t could = mem.device_free + mem.cached + c->ctx->workspace_size;
        if (could < limit) {
            size_t bucket = 1;
            while (bucket <= could / 2)
                bucket *= 2;
            limit = could == 0 ? 0 : bucket;
            *clamped = true;
        }
    }
    return limit;
}

static size_t search_workspace(conv_dir dir, const conv_call *c, size_t limit)
{
    size_t most = 0;
    int count = dir == DIR_FORWARD ? (int)CUDNN_CONVOLUTION_FWD_ALGO_COUNT
                : dir == DIR_DATA  ? (int)CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT
                                   : (int)CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT;
    for (int a = 0; a < count; ++a) {
        size_t bytes = 0;
        cudnnStatus_t st;
        if (dir == DIR_FORWARD)
            st = cudnnGetConvolutionForwardWorkspaceSize(
                c->handle, c->x.desc, c->w, c->conv, c->y.desc,
                (cudnnConvolutionFwdAlgo_t)a, &bytes);
        else if (dir == DIR_DATA)
            st = cudnnGetConvolutionBackwardDataWorkspaceSize(
                c->handle, c->w, c->y.desc, c->conv, c->x.desc,
                (cudnnConvolutionBwdDataAlgo_t)a, &bytes);
        else
            st = cudnnGetConvolutionBackwardFilterWorkspaceSize(
                c->handle, c->x.desc, c->y.desc, c->conv, c->w,
                (cudnnConvolutionBwdFilterAlgo_t)a, &bytes);
        if (st == CUDNN_STATUS_SUCCESS && bytes <= limit)
            most = std::max(most, bytes);
    }
    return most;
}

/* Picks the first (fastest) acceptable result of a search. */
template <typename Perf>
static bool pick(const cnn_op_args *args, size_t limit, const Perf *perf,
                 int count, conv_entry *e)
{
    for (int i = 0; i < count; ++i)
        if (acceptable(args, limit, perf[i].status, perf[i].memory,
                       perf[i].determinism, perf[i].mathType)) {
            e->algo = (int)perf[i].algo;
            e->memory = perf[i].memory;
            /* FP32 runs with FMA whatever the report says (see above). */
            e->math = args->math == CNN_MATH_TF32 ? perf[i].mathType
                                                  : CUDNN_FMA_MATH;
            return true;
        }
    return false;
}

/* Scratch for the filter gradient after a workspace of ws_bytes: at dw's
 * own offset within 256 bytes, so that it has dw's alignment (the cache
 * key has it). Sets *ws_aligned to where the scratch region starts. */
static size_t dw_scratch_offset(size_t ws_bytes, const void *dw,
                                size_t *ws_aligned)
{
    *ws_aligned = (ws_bytes + 255) & ~(size_t)255;
    return *ws_aligned + ((uintptr_t)dw & 255);
}

/* Runs cuDNN's search for `dir` on x, w and y (the direction's output is
 * written: the filter gradient's search gets scratch instead of dw) under
 * e->limit. CNN_ERR_UNSUPPORTED with e->why set when nothing is usable or
 * cuDNN refuses the shape. */
static cnn_status search(const cnn_op_args *args, conv_dir dir,
                         const conv_call *c, const void *x, const void *w,
                         const void *y, conv_entry *e)
{
    cnn_cuda_context *ctx = c->ctx;
    size_t ws_bytes = search_workspace(dir, c, e->limit);
    /* Scratch for the filter gradient's output after the workspace, at
     * dw's own offset within 256 bytes, so that the search sees dw's
     * alignment (the cache key has it). */
    size_t ws_aligned = ws_bytes, out_offset = 0, total = ws_bytes;
    if (dir == DIR_FILTER) {
        out_offset = dw_scratch_offset(ws_bytes, w, &ws_aligned);
        total = out_offset + args->out[0]->bytes;
    }
    void *scratch = nullptr;
    cnn_status s = cnn_cuda_workspace(ctx, total, &scratch);
    if (s != CNN_OK)
        return s;
    cudnnStatus_t st;
    int returned = 0;
    bool found;
    if (dir == DIR_FORWARD) {
        cudnnConvolutionFwdAlgoPerf_t perf[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
        st = cudnnFindConvolutionForwardAlgorithmEx(
            c->handle, c->x.desc, x, c->w, w, c->conv, c->y.desc,
            const_cast<void *>(y), CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &returned,
            perf, scratch, ws_bytes);
        found = st == CUDNN_STATUS_SUCCESS && pick(args, e->limit, perf, returned, e);
    } else if (dir == DIR_DATA) {
        cudnnConvolutionBwdDataAlgoPerf_t
            perf[CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT];
        st = cudnnFindConvolutionBackwardDataAlgorithmEx(
            c->handle, c->w, w, c->y.desc, y, c->conv, c->x.desc,
            const_cast<void *>(x), CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT,
            &returned, perf, scratch, ws_bytes);
        found = st == CUDNN_STATUS_SUCCESS && pick(args, e->limit, perf, returned, e);
    } else {
        cudnnConvolutionBwdFilterAlgoPerf_t
            perf[CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT];
        void *dw_scratch = static_cast<char *>(scratch) + out_offset;
        st = cudnnFindConvolutionBackwardFilterAlgorithmEx(
            c->handle, c->x.desc, x, c->y.desc, y, c->conv, c->w, dw_scratch,
            CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT, &returned, perf, scratch,
            ws_bytes);
        found = st == CUDNN_STATUS_SUCCESS && pick(args, e->limit, perf, returned, e);
    }
    if (st != CUDNN_STATUS_SUCCESS) {
        const char *call = dir == DIR_FORWARD
                               ? "cudnnFindConvolutionForwardAlgorithmEx"
                           : dir == DIR_DATA
                               ? "cudnnFindConvolutionBackwardDataAlgorithmEx"
                               : "cudnnFindConvolutionBackwardFilterAlgorithmEx";
        s = cnn_cudnn_check(ctx, st, call);
        snprintf(e->why, sizeof e->why, "conv2d %s: %s refused this shape "
                 "earlier: %s (%d)", dir_name(dir), call,
                 cudnnGetErrorString(st), (int)st);
        return s;
    }
    if (!found) {
        snprintf(e->why, sizeof e->why,
                 "conv2d %s: cuDNN has no algorithm for this shape that is "
                 "%s, uses %s math and needs at most %zu bytes of workspace "
                 "(of %d tried); use the native engine or raise the "
                 "workspace limit", dir_name(dir),
                 args->deterministic ? "deterministic" : "usable",
                 args->math == CNN_MATH_TF32 ? "FP32 or TF32" : "IEEE FP32",
                 e->limit, returned);
        return cnn_backend_error(cnn_cuda_host, CNN_ERR_UNSUPPORTED, "%s",
                                 e->why);
    }
    return CNN_OK;
}

/* The algorithm for this call, searched for on first use. */
static cnn_status choose(const cnn_op_args *args, conv_dir dir,
                         const int64_t *x_dims, const int64_t *w_dims,
                         const conv_call *c, const void *x, const void *w,
                         const void *y, conv_entry *out)
{
    cnn_cuda_context *ctx = c->ctx;
    conv_cache *cache = static_cast<conv_cache *>(ctx->conv_algos);
    if (!cache) {
        cache = new (std::nothrow) conv_cache();
        if (!cache)
            return cnn_backend_error(cnn_cuda_host, CNN_ERR_OUT_OF_MEMORY,
                                     "conv2d: no host memory for cuDNN's "
                                     "algorithm cache");
        ctx->conv_algos = cache;
    }
    conv_entry e = {};
    make_key(args, dir, x_dims, w_dims, shared_alignment(x, w, y), e.key);
    /* An answer found with the whole limit wins; else one found under the
     * limit that memory allows now. */
    bool clamped = false;
    const conv_entry *hit = nullptr;
    for (int pass = 0; pass < 2 && !hit; ++pass) {
        if (pass == 1) {
            e.limit = usable_limit(args, c, &clamped);
            if (!clamped)
                break;
        }
        for (const conv_entry &known : cache->entries)
            if (std::equal(e.key, e.key + KEY_SIZE, known.key) &&
                known.clamped == (pass == 1) &&
                (pass == 0 || known.limit == e.limit)) {
                hit = &known;
                break;
            }
    }
    if (hit) {
        if (!hit->found)
            return cnn_backend_error(cnn_cuda_host, CNN_ERR_UNSUPPORTED, "%s",
                                     hit->why);
        *out = *hit;
        return CNN_OK;
    }
    e.clamped = clamped;
    cnn_status s = search(args, dir, c, x, w, y, &e);
    e.found = s == CNN_OK;
    /* A failed search is remembered when it means "not on cuDNN" (no
     * usable algorithm, or a refusal), not when it was a device error. */
    if (s != CNN_OK && s != CNN_ERR_UNSUPPORTED)
        return s;
    try {
        cache->entries.push_back(e);
    } catch (const std::bad_alloc &) {
        /* Not cached: the next call searches again. */
    }
    if (s != CNN_OK)
        return s;
    *out = e;
    return CNN_OK;
}

/* The chosen algorithm's math type and workspace, ready to run. */
static cnn_status ready(const conv_call *c, const conv_entry &e, void **ws)
{
    cnn_status s = cnn_cudnn_check(c->ctx,
                                   cudnnSetConvolutionMathType(c->conv, e.math),
                                   "cudnnSetConvolutionMathType");
    return s != CNN_OK ? s : cnn_cuda_workspace(c->ctx, e.memory, ws);
}

/* out {y}  in {x, w, b or NULL} */
static cnn_status conv2d_forward(const cnn_op_args *args)
{
    static const char op[] = "conv2d_forward";
    const cnn_tensor *x = args->in[0], *w = args->in[1], *b = args->in[2];
    cnn_tensor *y = args->out[0];
    conv_call c;
    conv_entry e;
    void *ws = nullptr;
    cnn_status s;
    if ((s = prepare(args, op, x->dims, w->dims, y->dims, &c)) != CNN_OK ||
        (s = choose(args, DIR_FORWARD, x->dims, w->dims, &c, x->data, w->data,
                    y->data, &e)) != CNN_OK ||
        (s = ready(&c, e, &ws)) != CNN_OK)
        return s;
    const float one = 1.0f, zero = 0.0f;
    s = cnn_cudnn_check(c.ctx,
                        cudnnConvolutionForward(
                            c.handle, &one, c.x.desc, x->data, c.w, w->data,
                            c.conv, (cudnnConvolutionFwdAlgo_t)e.algo, ws,
                            e.memory, &zero, c.y.desc, y->data),
                        "cudnnConvolutionForward");
    if (s != CNN_OK || !b)
        return s;
    /* y += b, b broadcast as [1, K, 1, 1]. */
    cnn_cudnn_tensor bias;
    if ((s = bias.set(c.ctx, op, 1, b->numel, 1, 1)) != CNN_OK)
        return s;
    return cnn_cudnn_check(c.ctx,
                           cudnnAddTensor(c.handle, &one, bias.desc, b->data,
                                          &one, c.y.desc, y->data),
                           "cudnnAddTensor (conv2d bias)");
}

/* out {dx} (overwritten)  in {dy, w} */
static cnn_status conv2d_backward_data(const cnn_op_args *args)
{
    const cnn_tensor *dy = args->in[0], *w = args->in[1];
    cnn_tensor *dx = args->out[0];
    conv_call c;
    conv_entry e;
    void *ws = nullptr;
    cnn_status s;
    if ((s = prepare(args, "conv2d_backward_data", dx->dims, w->dims,
                     dy->dims, &c)) != CNN_OK ||
        (s = choose(args, DIR_DATA, dx->dims, w->dims, &c, dx->data, w->data,
                    dy->data, &e)) != CNN_OK ||
        (s = ready(&c, e, &ws)) != CNN_OK)
        return s;
    const float one = 1.0f, zero = 0.0f;
    return cnn_cudnn_check(c.ctx,
                           cudnnConvolutionBackwardData(
                               c.handle, &one, c.w, w->data, c.y.desc,
                               dy->data, c.conv,
                               (cudnnConvolutionBwdDataAlgo_t)e.algo, ws,
                               e.memory, &zero, c.x.desc, dx->data),
                           "cudnnConvolutionBackwardData");
}

/* out {dw} (accumulated)  in {dy, x}: the gradient as the search timed it
 * (beta 0) into scratch with dw's alignment, then dw += scratch. */
static cnn_status conv2d_backward_filter(const cnn_op_args *args)
{
    static const char op[] = "conv2d_backward_filter";
    const cnn_tensor *dy = args->in[0], *x = args->in[1];
    cnn_tensor *dw = args->out[0];
    conv_call c;
    conv_entry e;
    cnn_cudnn_tensor dw_desc;
    void *ws = nullptr;
    cnn_status s;
    if ((s = prepare(args, op, x->dims, dw->dims, dy->dims, &c)) != CNN_OK ||
        (s = choose(args, DIR_FILTER, x->dims, dw->dims, &c, x->data,
                    dw->data, dy->data, &e)) != CNN_OK ||
        (s = dw_desc.set(c.ctx, op, dw->dims)) != CNN_OK ||
        (s = cnn_cudnn_check(c.ctx,
                             cudnnSetConvolutionMathType(c.conv, e.math),
                             "cudnnSetConvolutionMathType")) != CNN_OK)
        return s;
    size_t ws_aligned = 0;
    size_t offset = dw_scratch_offset(e.memory, dw->data, &ws_aligned);
    if ((s = cnn_cuda_workspace(c.ctx, offset + dw->bytes, &ws)) != CNN_OK)
        return s;
    void *grad = static_cast<char *>(ws) + offset;
    const float one = 1.0f, zero = 0.0f;
    if ((s = cnn_cudnn_check(c.ctx,
                             cudnnConvolutionBackwardFilter(
                                 c.handle, &one, c.x.desc, x->data, c.y.desc,
                                 dy->data, c.conv,
                                 (cudnnConvolutionBwdFilterAlgo_t)e.algo,
                                 e.memory ? ws : nullptr, e.memory, &zero, c.w,
                                 grad),
                             "cudnnConvolutionBackwardFilter")) != CNN_OK)
        return s;
    return cnn_cudnn_check(c.ctx,
                           cudnnAddTensor(c.handle, &one, dw_desc.desc, grad,
                                          &one, dw_desc.desc, dw->data),
                           "cudnnAddTensor (conv2d filter gradient)");
}

/* out {db} (accumulated)  in {dy}: db += the sum of dy over N, P and Q. */
static cnn_status conv2d_backward_bias(const cnn_op_args *args)
{
    static const char op[] = "conv2d_backward_bias";
    const cnn_tensor *dy = args->in[0];
    cnn_tensor *db = args->out[0];
    cnn_cuda_context *ctx;
    cudnnHandle_t handle;
    cnn_cudnn_tensor dy_desc, db_desc;
    cnn_status s;
    if ((s = cnn_cudnn_begin(args, &ctx, &handle)) != CNN_OK ||
        (s = dy_desc.set(ctx, op, dy->dims)) != CNN_OK ||
        (s = db_desc.set(ctx, op, 1, db->numel, 1, 1)) != CNN_OK)
        return s;
    const float one = 1.0f;
    return cnn_cudnn_check(ctx,
                           cudnnConvolutionBackwardBias(handle, &one,
                                                        dy_desc.desc, dy->data,
                                                        &one, db_desc.desc,
                                                        db->data),
                           "cudnnConvolutionBackwardBias");
}

void cnn_cuda_register_conv_cudnn(cnn_op_fn *vendor)
{
    vendor[CNN_OP_CONV2D_FWD] = conv2d_forward;
    vendor[CNN_OP_CONV2D_BWD_DATA] = conv2d_backward_data;
    vendor[CNN_OP_CONV2D_BWD_FILTER] = conv2d_backward_filter;
    vendor[CNN_OP_CONV2D_BWD_BIAS] = conv2d_backward_bias;
}
