/* src/cuda/linear.cu - our own kernels for the linear ops (native engine; also
 * built under the CPU emulation of CUDA). */
#include "cuda_common.cuh"

void cnn_cuda_register_linear(cnn_op_fn *native)
{
    (void)native; /* no kernels yet */
}
