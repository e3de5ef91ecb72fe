/* src/cuda/pool_cudnn.cu - the vendor engine's pool ops. */
#include "cuda_common.cuh"

void cnn_cuda_register_pool_cudnn(cnn_op_fn *vendor)
{
    (void)vendor; /* not yet */
}
