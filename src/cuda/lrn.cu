/* src/cuda/lrn.cu - our own kernels for the lrn ops (native engine; also
 * built under the CPU emulation of CUDA). */
#include "cuda_common.cuh"

void cnn_cuda_register_lrn(cnn_op_fn *native)
{
    (void)native; /* no kernels yet */
}
