/* src/cuda/version_cublas.cu - the cuBLAS version line of `cnn info`. A
 * vendor file: not part of the CNN_CUDA_EMULATION build. */
#include <cublas_v2.h>
#include <stdio.h>
#include <string.h>

#include "cuda_common.cuh"

void cnn_cuda_describe_cublas(char *buf, size_t size)
{
    size_t used = strlen(buf);
    if (used >= size)
        return;
    int major = 0, minor = 0, patch = 0;
    cublasGetProperty(MAJOR_VERSION, &major);
    cublasGetProperty(MINOR_VERSION, &minor);
    cublasGetProperty(PATCH_LEVEL, &patch);
    snprintf(buf + used, size - used, "cublas: %d.%d.%d\n", major, minor, patch);
}
