/* src/cuda/activation_cudnn.cu - the vendor engine's activation ops. */
#include "cuda_common.cuh"

void cnn_cuda_register_activation_cudnn(cnn_op_fn *vendor)
{
    (void)vendor; /* not yet */
}
