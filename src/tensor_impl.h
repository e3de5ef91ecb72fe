/* src/tensor_impl.h - the tensor struct, shared by the core and the
 * backends (which read shapes and data pointers but never allocate
 * tensors). Private to the library. */
#ifndef CNN_TENSOR_IMPL_H
#define CNN_TENSOR_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cnn/tensor.h"

struct cnn_tensor {
    cnn_device device;
    cnn_dtype dtype;
    cnn_layout layout;
    int ndim;
    int64_t dims[CNN_MAX_DIMS];
    int64_t numel; /* product of dims, >= 1 */
    size_t bytes;  /* numel * dtype size */
    void *data;    /* host or device memory */
    bool owns;     /* false for views and wrapped memory */
};

#endif /* CNN_TENSOR_IMPL_H */
