/* src/cuda/lrn_cudnn.cu - the vendor engine's lrn ops. */
#include "cuda_common.cuh"

void cnn_cuda_register_lrn_cudnn(cnn_op_fn *vendor)
{
    (void)vendor; /* not yet */
}
