/* src/cuda/lrn_cudnn.cu - the vendor engine's local response normalisation
 * across channels on cudnnLRNCrossChannelForward/Backward.
 *
 * Groups: in NCHW, channel group g of image n is one contiguous block, so
 * x [N, C, H, W] with G groups is the packed tensor [N G, C / G, H, W], and
 * one cuDNN call normalises within every group at once.
 *
 * Convention: cuDNN divides lrnAlpha by the window size n inside the
 * library (y = x / (k + alpha / n sum x^2)^beta over channels c - (n-1)/2
 * .. c + (n-1)/2, clipped), which is PyTorch's and ours, so alpha passes
 * unchanged. cuDNN's window is centred, which equals ours for odd sizes
 * only; even sizes, and sizes, k or beta outside cuDNN's limits
 * (CUDNN_LRN_MIN_N..CUDNN_LRN_MAX_N, CUDNN_LRN_MIN_K, CUDNN_LRN_MIN_BETA),
 * are CNN_ERR_UNSUPPORTED on this engine. */
#include "vendor_cudnn.cuh"
#include "cnn/norm.h"

struct lrn_call {
    cnn_cuda_context *ctx = nullptr;
    cudnnHandle_t handle = nullptr;
    cnn_cudnn_tensor x; /* [N G, C / G, H, W] */
    cudnnLRNDescriptor_t lrn = nullptr;
    ~lrn_call()
    {
        if (lrn)
            cudnnDestroyLRNDescriptor(lrn);
    }
};

static cnn_status prepare(const cnn_op_args *args, const char *op,
                          const cnn_tensor *x, lrn_call *c)
{
    const cnn_lrn_params *p = static_cast<const cnn_lrn_params *>(args->params);
    if (p->size % 2 == 0 || p->size < CUDNN_LRN_MIN_N ||
        p->size > CUDNN_LRN_MAX_N)
        return cnn_backend_error(cnn_cuda_host, CNN_ERR_UNSUPPORTED,
                                 "%s: size %lld: cuDNN's LRN takes odd sizes "
                                 "from %d to %d (its window is centred); use "
                                 "the native engine", op, (long long)p->size,
                                 CUDNN_LRN_MIN_N, CUDNN_LRN_MAX_N);
    if ((double)p->k < CUDNN_LRN_MIN_K || (double)p->beta < CUDNN_LRN_MIN_BETA)
        return cnn_backend_error(cnn_cuda_host, CNN_ERR_UNSUPPORTED,
                                 "%s: k %g and beta %g: cuDNN's LRN needs k >= "
                                 "%g and beta >= %g; use the native engine", op,
                                 (double)p->k, (double)p->beta,
                                 (double)CUDNN_LRN_MIN_K,
                                 (double)CUDNN_LRN_MIN_BETA);
    cnn_status s;
    if ((s = cnn_cudnn_begin(args, &c->ctx, &c->handle)) != CNN_OK ||
        (s = c->x.set(c->ctx, op, x->dims[0] * p->groups,
                      x->dims[1] / p->groups, x->dims[2], x->dims[3])) !=
            CNN_OK ||
        (s = cnn_cudnn_check(c->ctx, cudnnCreateLRNDescriptor(&c->lrn),
                             "cudnnCreateLRNDescriptor")) != CNN_OK)
        return s;
    return cnn_cudnn_check(c->ctx,
                           cudnnSetLRNDescriptor(c->lrn, (unsigned)p->size,
                                                 (double)p->alpha,
                                                 (double)p->beta, (double)p->k),
                           "cudnnSetLRNDescriptor");
}

static cnn_status forward(const lrn_call *c, const void *x, void *y)
{
    const float one = 1.0f, zero = 0.0f;
    return cnn_cudnn_check(c->ctx,
                           cudnnLRNCrossChannelForward(
                               c->handle, c->lrn, CUDNN_LRN_CROSS_CHANNEL_DIM1,
                               &one, c->x.desc, x, &zero, c->x.desc, y),
                           "cudnnLRNCrossChannelForward");
}

/* out {y}  in {x} */
static cnn_status lrn_forward(const cnn_op_args *args)
{
    lrn_call c;
    cnn_status s = prepare(args, "lrn_forward", args->in[0], &c);
    return s != CNN_OK ? s : forward(&c, args->in[0]->data, args->out[0]->data);
}

/* out {dx} (overwritten)  in {dy, x, y}: cuDNN's backward reads y, so a
 * missing y is recomputed into the workspace. */
static cnn_status lrn_backward(const cnn_op_args *args)
{
    const cnn_tensor *dy = args->in[0], *x = args->in[1];
    lrn_call c;
    cnn_status s = prepare(args, "lrn_backward", x, &c);
    if (s != CNN_OK)
        return s;
    const void *y = args->in[2] ? args->in[2]->data : nullptr;
    if (!y) {
        void *scratch = nullptr;
        if ((s = cnn_cuda_workspace(c.ctx, x->bytes, &scratch)) != CNN_OK ||
            (s = forward(&c, x->data, scratch)) != CNN_OK)
            return s;
        y = scratch;
    }
    const float one = 1.0f, zero = 0.0f;
    return cnn_cudnn_check(c.ctx,
                           cudnnLRNCrossChannelBackward(
                               c.handle, c.lrn, CUDNN_LRN_CROSS_CHANNEL_DIM1,
                               &one, c.x.desc, y, c.x.desc, dy->data,
                               c.x.desc, x->data, &zero, c.x.desc,
                               args->out[0]->data),
                           "cudnnLRNCrossChannelBackward");
}

void cnn_cuda_register_lrn_cudnn(cnn_op_fn *vendor)
{
    vendor[CNN_OP_LRN_FWD] = lrn_forward;
    vendor[CNN_OP_LRN_BWD] = lrn_backward;
}
