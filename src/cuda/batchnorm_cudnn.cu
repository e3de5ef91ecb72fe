/* src/cuda/batchnorm_cudnn.cu - the vendor engine's batchnorm ops. */
#include "cuda_common.cuh"

void cnn_cuda_register_batchnorm_cudnn(cnn_op_fn *vendor)
{
    (void)vendor; /* not yet */
}
