/* src/cuda/linear_cublas.cu - the vendor engine's linear ops. */
#include "cuda_common.cuh"

void cnn_cuda_register_linear_cublas(cnn_op_fn *vendor)
{
    (void)vendor; /* not yet */
}
