/* src/cuda/activation_cudnn.cu - the vendor engine's ReLU, forward and
 * backward, on cudnnActivationForward/Backward (CUDNN_ACTIVATION_RELU,
 * NaN propagated). Tensors of any rank are run as one [1, 1, 1, n] vector:
 * ReLU is elementwise. Both calls may run in place (y = x, dx = dy), which
 * cuDNN allows for activations. */
#include "vendor_cudnn.cuh"

/* The descriptors of one call: a vector of n floats and the ReLU. */
struct relu_call {
    cnn_cuda_context *ctx = nullptr;
    cudnnHandle_t handle = nullptr;
    cnn_cudnn_tensor vec;
    cudnnActivationDescriptor_t relu = nullptr;
    ~relu_call()
    {
        if (relu)
            cudnnDestroyActivationDescriptor(relu);
    }
};

static cnn_status prepare(const cnn_op_args *args, const char *op,
                          relu_call *c)
{
    cnn_status s;
    if ((s = cnn_cudnn_begin(args, &c->ctx, &c->handle)) != CNN_OK ||
        (s = c->vec.set(c->ctx, op, 1, 1, 1, args->out[0]->numel)) != CNN_OK ||
        (s = cnn_cudnn_check(c->ctx, cudnnCreateActivationDescriptor(&c->relu),
                             "cudnnCreateActivationDescriptor")) != CNN_OK)
        return s;
    /* coef is ReLU's ceiling for CLIPPED_RELU only; 0 for plain ReLU. */
    return cnn_cudnn_check(c->ctx,
                           cudnnSetActivationDescriptor(c->relu,
                                                        CUDNN_ACTIVATION_RELU,
                                                        CUDNN_PROPAGATE_NAN, 0.0),
                           "cudnnSetActivationDescriptor");
}

/* out {y}  in {x} */
static cnn_status relu_forward(const cnn_op_args *args)
{
    relu_call c;
    cnn_status s = prepare(args, "relu_forward", &c);
    if (s != CNN_OK)
        return s;
    const float one = 1.0f, zero = 0.0f;
    return cnn_cudnn_check(c.ctx,
                           cudnnActivationForward(c.handle, c.relu, &one,
                                                  c.vec.desc, args->in[0]->data,
                                                  &zero, c.vec.desc,
                                                  args->out[0]->data),
                           "cudnnActivationForward (ReLU)");
}

/* out {dx}  in {dy, y}. Our backward has the forward's output, not its
 * input; for ReLU, x > 0 exactly where y > 0, so y stands for x as well
 * (cuDNN's ReLU gradient tests the sign of y: dx = dy where y > 0, else 0,
 * which is the CPU's rule). A NaN in y: the CPU gives 0; cuDNN documents
 * no rule for it, so the cross-backend test must check that case. */
static cnn_status relu_backward(const cnn_op_args *args)
{
    relu_call c;
    cnn_status s = prepare(args, "relu_backward", &c);
    if (s != CNN_OK)
        return s;
    const float one = 1.0f, zero = 0.0f;
    const void *dy = args->in[0]->data, *y = args->in[1]->data;
    return cnn_cudnn_check(c.ctx,
                           cudnnActivationBackward(c.handle, c.relu, &one,
                                                   c.vec.desc, y, c.vec.desc,
                                                   dy, c.vec.desc, y, &zero,
                                                   c.vec.desc,
                                                   args->out[0]->data),
                           "cudnnActivationBackward (ReLU)");
}

void cnn_cuda_register_activation_cudnn(cnn_op_fn *vendor)
{
    vendor[CNN_OP_RELU_FWD] = relu_forward;
    vendor[CNN_OP_RELU_BWD] = relu_backward;
}
