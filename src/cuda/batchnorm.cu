/* src/cuda/batchnorm.cu - our own kernels for the batchnorm ops (native engine; also
 * built under the CPU emulation of CUDA). */
#include "cuda_common.cuh"

void cnn_cuda_register_batchnorm(cnn_op_fn *native)
{
    (void)native; /* no kernels yet */
}
