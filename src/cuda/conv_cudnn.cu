/* src/cuda/conv_cudnn.cu - the vendor engine's conv ops. */
#include "cuda_common.cuh"

void cnn_cuda_register_conv_cudnn(cnn_op_fn *vendor)
{
    (void)vendor; /* not yet */
}
