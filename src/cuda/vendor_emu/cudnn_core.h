/* src/cuda/vendor_emu/cudnn_core.h - the conformance double's cuDNN
 * objects (handles and descriptors) and the checks its functions share. */
#ifndef CNN_VENDOR_EMU_CUDNN_CORE_H
#define CNN_VENDOR_EMU_CUDNN_CORE_H

#include <cudnn.h>

#include "common.h"

struct cnn_vemu_handle {
    cudaStream_t stream = 0;
};

struct cnn_vemu_tensor {
    bool set = false;
    cudnnDataType_t type = CUDNN_DATA_FLOAT;
    int n = 0, c = 0, h = 0, w = 0;
    int ns = 0, cs = 0, hs = 0, ws = 0;
    /* Elements from the first to the last one addressed, inclusive. */
    size_t extent() const
    {
        return (size_t)(n - 1) * ns + (size_t)(c - 1) * cs +
               (size_t)(h - 1) * hs + (size_t)(w - 1) * ws + 1;
    }
    size_t at(int in, int ic, int ih, int iw) const
    {
        return (size_t)in * ns + (size_t)ic * cs + (size_t)ih * hs +
               (size_t)iw * ws;
    }
    bool same_dims(const cnn_vemu_tensor &o) const
    {
        return n == o.n && c == o.c && h == o.h && w == o.w;
    }
};

struct cnn_vemu_filter {
    bool set = false;
    int k = 0, c = 0, r = 0, s = 0;
    size_t count() const { return (size_t)k * c * r * s; }
};

struct cnn_vemu_conv {
    bool set = false;
    int pad_h = 0, pad_w = 0, stride_h = 1, stride_w = 1, dil_h = 1, dil_w = 1;
    cudnnConvolutionMode_t mode = CUDNN_CROSS_CORRELATION;
    int groups = 1;
    cudnnMathType_t math = CUDNN_DEFAULT_MATH;
};

struct cnn_vemu_pool {
    bool set = false;
    cudnnPoolingMode_t mode = CUDNN_POOLING_MAX;
    cudnnNanPropagation_t nan = CUDNN_NOT_PROPAGATE_NAN;
    int wh = 0, ww = 0, ph = 0, pw = 0, sh = 0, sw = 0;
};

struct cnn_vemu_lrn {
    unsigned n = 5;
    double alpha = 1e-4, beta = 0.75, k = 2.0; /* cuDNN's documented defaults */
};

struct cnn_vemu_act {
    bool set = false;
    cudnnActivationMode_t mode = CUDNN_ACTIVATION_RELU;
    cudnnNanPropagation_t nan = CUDNN_NOT_PROPAGATE_NAN;
    double coef = 0.0;
};

namespace cnn_vemu {

/* Every entry point starts here: the call is traced, an injected status
 * returned (with a sticky fault for execution failures). */
cudnnStatus_t enter(const char *name);
#define VEMU_ENTER(name)                                                      \
    do {                                                                      \
        cudnnStatus_t injected_ = ::cnn_vemu::enter(name);                    \
        if (injected_ != CUDNN_STATUS_SUCCESS)                                \
            return injected_;                                                 \
    } while (0)

/* Records a message for cudnnGetLastErrorString and returns `status`. */
cudnnStatus_t fail(cudnnStatus_t status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* BAD_PARAM unless `h` is a live handle. */
cudnnStatus_t check_handle(const char *call, cudnnHandle_t h);
/* BAD_PARAM unless `d` is non-NULL and set; NOT_SUPPORTED for data types
 * other than float (the double models float only). */
cudnnStatus_t check_tensor(const char *call, const char *role,
                           const cnn_vemu_tensor *d);
/* BAD_PARAM for a NULL data pointer; BAD_PARAM_MISALIGNED_POINTER for one
 * not aligned to the element size (4 bytes). */
cudnnStatus_t check_pointer(const char *call, const char *role, const void *p);

/* A tensor's elements read from device memory (every element of its
 * extent, so strides are honoured); BAD_PARAM for memory that is not a
 * live allocation, EXECUTION_FAILED when the device has faulted. */
cudnnStatus_t load(const char *call, const char *role,
                   const cnn_vemu_tensor *d, const void *p,
                   std::vector<double> &v);
cudnnStatus_t store(const char *call, const char *role,
                    const cnn_vemu_tensor *d, void *p,
                    const std::vector<double> &v);
/* Blends `result` (one value per element, NCHW order of d) into the output
 * as alpha result + beta out, where out is not read when beta is 0 (the
 * cuDNN developer guide's "Scaling Parameters"). */
cudnnStatus_t blend(const char *call, const char *role,
                    const cnn_vemu_tensor *d, void *p,
                    const std::vector<double> &result, double alpha,
                    double beta);
cudnnStatus_t status_of(io r);

} // namespace cnn_vemu

#endif /* CNN_VENDOR_EMU_CUDNN_CORE_H */
