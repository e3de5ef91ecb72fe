/* src/cuda/sgd.cu - our own kernels for the sgd ops (native engine; also
 * built under the CPU emulation of CUDA). */
#include "cuda_common.cuh"

void cnn_cuda_register_sgd(cnn_op_fn *native)
{
    (void)native; /* no kernels yet */
}
