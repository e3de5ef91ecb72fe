/* src/cuda/pool.cu - our own kernels for the pool ops (native engine; also
 * built under the CPU emulation of CUDA). */
#include "cuda_common.cuh"

void cnn_cuda_register_pool(cnn_op_fn *native)
{
    (void)native; /* no kernels yet */
}
