/* src/cuda/version_cudnn.cu - the cuDNN version line of `cnn info`. A
 * vendor file: not part of the CNN_CUDA_EMULATION build. */
#include <stdio.h>
#include <string.h>

#ifdef CNN_HAVE_CUDNN
#include <cudnn.h>
#endif

#include "cuda_common.cuh"

void cnn_cuda_describe_cudnn(char *buf, size_t size)
{
    size_t used = strlen(buf);
    if (used >= size)
        return;
#ifdef CNN_HAVE_CUDNN
    size_t v = cudnnGetVersion();
    snprintf(buf + used, size - used, "cudnn: %zu.%zu.%zu\n", v / 10000,
             v % 10000 / 100, v % 100);
#else
    snprintf(buf + used, size - used, "cudnn: not built in (CNN_CUDNN=OFF)\n");
#endif
}
