/* src/cuda/vendor_emu/cudnn_core.cpp - the conformance double of cuDNN 9:
 * the handle, statuses and error text, tensor descriptors, device memory
 * access and cudnnAddTensor. Written from the cuDNN 9 API reference
 * (cudnn_graph and cudnn_ops libraries) and the developer guide; each
 * function names the section it follows. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <mutex>
#include <new>
#include <set>

#include "cudnn_core.h"

namespace cnn_vemu {
namespace {
std::mutex handles_lock;
std::set<cnn_vemu_handle *> handles;
} // namespace

cudnnStatus_t enter(const char *name)
{
    trace(name);
    int code = injected(name);
    if (code == 0)
        return CUDNN_STATUS_SUCCESS;
    if (CUDNN_STATUS_CATEGORY(code) == CUDNN_STATUS_EXECUTION_FAILED)
        fault_device();
    return (cudnnStatus_t)code;
}

cudnnStatus_t fail(cudnnStatus_t status, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    set_error("%s", buf);
    return status;
}

cudnnStatus_t check_handle(const char *call, cudnnHandle_t h)
{
    std::lock_guard<std::mutex> guard(handles_lock);
    if (!h || !handles.count(h))
        return fail(CUDNN_STATUS_BAD_PARAM, "%s: handle %p is not a live "
                    "cuDNN handle", call, (void *)h);
    return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t check_tensor(const char *call, const char *role,
                           const cnn_vemu_tensor *d)
{
    if (!d || !d->set)
        return fail(CUDNN_STATUS_BAD_PARAM, "%s: %s descriptor is %s", call,
                    role, d ? "not set" : "NULL");
    if (d->type != CUDNN_DATA_FLOAT)
        return fail(CUDNN_STATUS_NOT_SUPPORTED, "%s: %s: the double models "
                    "CUDNN_DATA_FLOAT only", call, role);
    return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t check_pointer(const char *call, const char *role, const void *p)
{
    if (!p)
        return fail(CUDNN_STATUS_BAD_PARAM_NULL_POINTER, "%s: %s is NULL",
                    call, role);
    if ((uintptr_t)p % sizeof(float) != 0)
        return fail(CUDNN_STATUS_BAD_PARAM_MISALIGNED_POINTER,
                    "%s: %s %p is not aligned to its 4-byte elements", call,
                    role, p);
    return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t status_of(io r)
{
    return r == io::ok            ? CUDNN_STATUS_SUCCESS
           : r == io::bad_pointer ? CUDNN_STATUS_BAD_PARAM
                                  : CUDNN_STATUS_EXECUTION_FAILED;
}

cudnnStatus_t load(const char *call, const char *role,
                   const cnn_vemu_tensor *d, const void *p,
                   std::vector<double> &v)
{
    cudnnStatus_t s = check_pointer(call, role, p);
    if (s != CUDNN_STATUS_SUCCESS)
        return s;
    std::vector<double> raw;
    s = status_of(read_floats(call, role, p, d->extent(), raw));
    if (s != CUDNN_STATUS_SUCCESS)
        return s;
    v.resize((size_t)d->n * d->c * d->h * d->w);
    size_t i = 0;
    for (int n = 0; n < d->n; ++n)
        for (int c = 0; c < d->c; ++c)
            for (int h = 0; h < d->h; ++h)
                for (int w = 0; w < d->w; ++w)
                    v[i++] = raw[d->at(n, c, h, w)];
    return CUDNN_STATUS_SUCCESS;
}

/* Writes the NCHW-ordered values into the tensor's elements, keeping the
 * bytes between strided elements. */
static cudnnStatus_t scatter(const char *call, const char *role,
                             const cnn_vemu_tensor *d, void *p,
                             const std::vector<double> &v,
                             std::vector<double> &raw)
{
    size_t i = 0;
    for (int n = 0; n < d->n; ++n)
        for (int c = 0; c < d->c; ++c)
            for (int h = 0; h < d->h; ++h)
                for (int w = 0; w < d->w; ++w)
                    raw[d->at(n, c, h, w)] = v[i++];
    return status_of(write_floats(call, role, p, raw));
}

cudnnStatus_t store(const char *call, const char *role,
                    const cnn_vemu_tensor *d, void *p,
                    const std::vector<double> &v)
{
    cudnnStatus_t s = check_pointer(call, role, p);
    if (s != CUDNN_STATUS_SUCCESS)
        return s;
    std::vector<double> raw;
    if ((s = status_of(read_floats(call, role, p, d->extent(), raw))) !=
        CUDNN_STATUS_SUCCESS)
        return s;
    return scatter(call, role, d, p, v, raw);
}

/* Developer guide, "Scaling Parameters": dst = alpha result + beta dst,
 * and when beta is zero the output is not read (it may hold NaN). */
cudnnStatus_t blend(const char *call, const char *role,
                    const cnn_vemu_tensor *d, void *p,
                    const std::vector<double> &result, double alpha,
                    double beta)
{
    cudnnStatus_t s = check_pointer(call, role, p);
    if (s != CUDNN_STATUS_SUCCESS)
        return s;
    std::vector<double> raw, old;
    if ((s = status_of(read_floats(call, role, p, d->extent(), raw))) !=
        CUDNN_STATUS_SUCCESS)
        return s;
    std::vector<double> out(result.size());
    size_t i = 0;
    for (int n = 0; n < d->n; ++n)
        for (int c = 0; c < d->c; ++c)
            for (int h = 0; h < d->h; ++h)
                for (int w = 0; w < d->w; ++w, ++i) {
                    double r = alpha * result[i];
                    out[i] = beta == 0.0 ? r : r + beta * raw[d->at(n, c, h, w)];
                }
    return scatter(call, role, d, p, out, raw);
}

} // namespace cnn_vemu

using namespace cnn_vemu;

extern "C" {

/* cudnn_graph, cudnnGetVersion(). */
size_t cudnnGetVersion(void) { return CUDNN_VERSION; }

/* cudnn_graph, cudnnGetErrorString(): a static string per status. */
const char *cudnnGetErrorString(cudnnStatus_t status)
{
    switch (status) {
    case CUDNN_STATUS_SUCCESS: return "CUDNN_STATUS_SUCCESS";
    case CUDNN_STATUS_NOT_INITIALIZED: return "CUDNN_STATUS_NOT_INITIALIZED";
    case CUDNN_STATUS_SUBLIBRARY_LOADING_FAILED: return "CUDNN_STATUS_SUBLIBRARY_LOADING_FAILED";
    case CUDNN_STATUS_BAD_PARAM: return "CUDNN_STATUS_BAD_PARAM";
    case CUDNN_STATUS_BAD_PARAM_NULL_POINTER: return "CUDNN_STATUS_BAD_PARAM_NULL_POINTER";
    case CUDNN_STATUS_BAD_PARAM_MISALIGNED_POINTER: return "CUDNN_STATUS_BAD_PARAM_MISALIGNED_POINTER";
    case CUDNN_STATUS_NOT_SUPPORTED: return "CUDNN_STATUS_NOT_SUPPORTED";
    case CUDNN_STATUS_INTERNAL_ERROR: return "CUDNN_STATUS_INTERNAL_ERROR";
    case CUDNN_STATUS_INTERNAL_ERROR_HOST_ALLOCATION_FAILED: return "CUDNN_STATUS_INTERNAL_ERROR_HOST_ALLOCATION_FAILED";
    case CUDNN_STATUS_INTERNAL_ERROR_DEVICE_ALLOCATION_FAILED: return "CUDNN_STATUS_INTERNAL_ERROR_DEVICE_ALLOCATION_FAILED";
    case CUDNN_STATUS_EXECUTION_FAILED: return "CUDNN_STATUS_EXECUTION_FAILED";
    default: return "CUDNN_STATUS (another code; the double names the common ones)";
    }
}

/* cudnn_graph, cudnnGetLastErrorString() (cuDNN 9.0): the latest error
 * message of this thread, truncated to max_size, then cleared. */
void cudnnGetLastErrorString(char *message, size_t max_size)
{
    if (!message || max_size == 0)
        return;
    snprintf(message, max_size, "%s", last_error().c_str());
    set_error("%s", "");
}

/* cudnn_graph, cudnnCreate(). */
cudnnStatus_t cudnnCreate(cudnnHandle_t *handle)
{
    VEMU_ENTER("cudnnCreate");
    if (!handle)
        return fail(CUDNN_STATUS_BAD_PARAM, "cudnnCreate: handle is NULL");
    cnn_vemu_handle *h = new (std::nothrow) cnn_vemu_handle();
    if (!h)
        return fail(CUDNN_STATUS_ALLOC_FAILED, "cudnnCreate: no host memory");
    std::lock_guard<std::mutex> guard(handles_lock);
    handles.insert(h);
    *handle = h;
    return CUDNN_STATUS_SUCCESS;
}

/* cudnn_graph, cudnnDestroy(). */
cudnnStatus_t cudnnDestroy(cudnnHandle_t handle)
{
    VEMU_ENTER("cudnnDestroy");
    std::lock_guard<std::mutex> guard(handles_lock);
    if (!handles.erase(handle))
        return fail(CUDNN_STATUS_BAD_PARAM, "cudnnDestroy: %p is not a live "
                    "handle", (void *)handle);
    delete handle;
    return CUDNN_STATUS_SUCCESS;
}

/* cudnn_graph, cudnnSetStream(): BAD_PARAM for an invalid handle; the
 * stream must exist (a stream query fails on one that does not). */
cudnnStatus_t cudnnSetStream(cudnnHandle_t handle, cudaStream_t streamId)
{
    VEMU_ENTER("cudnnSetStream");
    cudnnStatus_t s = check_handle("cudnnSetStream", handle);
    if (s != CUDNN_STATUS_SUCCESS)
        return s;
    if (streamId && cudaStreamQuery(streamId) == cudaErrorInvalidResourceHandle) {
        cudaGetLastError();
        return fail(CUDNN_STATUS_BAD_PARAM, "cudnnSetStream: %p is not a "
                    "stream", (void *)streamId);
    }
    handle->stream = streamId;
    return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnGetStream(cudnnHandle_t handle, cudaStream_t *streamId)
{
    VEMU_ENTER("cudnnGetStream");
    cudnnStatus_t s = check_handle("cudnnGetStream", handle);
    if (s == CUDNN_STATUS_SUCCESS)
        *streamId = handle->stream;
    return s;
}

/* cudnn_graph, cudnnCreateTensorDescriptor(). */
cudnnStatus_t cudnnCreateTensorDescriptor(cudnnTensorDescriptor_t *tensorDesc)
{
    VEMU_ENTER("cudnnCreateTensorDescriptor");
    if (!tensorDesc)
        return fail(CUDNN_STATUS_BAD_PARAM, "cudnnCreateTensorDescriptor: NULL");
    *tensorDesc = new (std::nothrow) cnn_vemu_tensor();
    return *tensorDesc ? CUDNN_STATUS_SUCCESS : CUDNN_STATUS_ALLOC_FAILED;
}

cudnnStatus_t cudnnDestroyTensorDescriptor(cudnnTensorDescriptor_t tensorDesc)
{
    VEMU_ENTER("cudnnDestroyTensorDescriptor");
    delete tensorDesc;
    return CUDNN_STATUS_SUCCESS;
}

/* cudnn_graph, cudnnSetTensor4dDescriptorEx(): BAD_PARAM when a dimension
 * is not positive or a stride is negative. */
cudnnStatus_t cudnnSetTensor4dDescriptorEx(cudnnTensorDescriptor_t d,
                                           cudnnDataType_t dataType, int n,
                                           int c, int h, int w, int nStride,
                                           int cStride, int hStride,
                                           int wStride)
{
    VEMU_ENTER("cudnnSetTensor4dDescriptorEx");
    if (!d)
        return fail(CUDNN_STATUS_BAD_PARAM, "cudnnSetTensor4dDescriptorEx: "
                    "descriptor is NULL");
    if (n <= 0 || c <= 0 || h <= 0 || w <= 0 || nStride < 0 || cStride < 0 ||
        hStride < 0 || wStride < 0)
        return fail(CUDNN_STATUS_BAD_PARAM, "cudnnSetTensor4dDescriptorEx: "
                    "dimensions [%d, %d, %d, %d] strides [%d, %d, %d, %d]",
                    n, c, h, w, nStride, cStride, hStride, wStride);
    if (dataType != CUDNN_DATA_FLOAT)
        return fail(CUDNN_STATUS_NOT_SUPPORTED, "cudnnSetTensor4dDescriptorEx: "
                    "the double models CUDNN_DATA_FLOAT only");
    d->type = dataType;
    d->n = n, d->c = c, d->h = h, d->w = w;
    d->ns = nStride, d->cs = cStride, d->hs = hStride, d->ws = wStride;
    d->set = true;
    return CUDNN_STATUS_SUCCESS;
}

/* cudnn_graph, cudnnSetTensor4dDescriptor(): a fully packed tensor in the
 * given format. */
cudnnStatus_t cudnnSetTensor4dDescriptor(cudnnTensorDescriptor_t d,
                                         cudnnTensorFormat_t format,
                                         cudnnDataType_t dataType, int n,
                                         int c, int h, int w)
{
    VEMU_ENTER("cudnnSetTensor4dDescriptor");
    if (format == CUDNN_TENSOR_NCHW)
        return cudnnSetTensor4dDescriptorEx(d, dataType, n, c, h, w, c * h * w,
                                            h * w, w, 1);
    if (format == CUDNN_TENSOR_NHWC)
        return cudnnSetTensor4dDescriptorEx(d, dataType, n, c, h, w, h * w * c,
                                            1, w * c, c);
    return fail(CUDNN_STATUS_BAD_PARAM, "cudnnSetTensor4dDescriptor: format "
                "%d is not NCHW or NHWC", (int)format);
}

/* cudnn_ops, cudnnAddTensor(): C = alpha A + beta C, where each dimension
 * of A equals C's or is 1 (broadcast); BAD_PARAM otherwise. */
cudnnStatus_t cudnnAddTensor(cudnnHandle_t handle, const void *alpha,
                             const cudnnTensorDescriptor_t aDesc,
                             const void *A, const void *beta,
                             const cudnnTensorDescriptor_t cDesc, void *C)
{
    static const char call[] = "cudnnAddTensor";
    VEMU_ENTER(call);
    cudnnStatus_t s;
    if ((s = check_handle(call, handle)) || (s = check_tensor(call, "A", aDesc)) ||
        (s = check_tensor(call, "C", cDesc)))
        return s;
    if (!alpha || !beta)
        return fail(CUDNN_STATUS_BAD_PARAM, "%s: alpha or beta is NULL", call);
    const int ad[4] = {aDesc->n, aDesc->c, aDesc->h, aDesc->w};
    const int cd[4] = {cDesc->n, cDesc->c, cDesc->h, cDesc->w};
    for (int i = 0; i < 4; ++i)
        if (ad[i] != cd[i] && ad[i] != 1)
            return fail(CUDNN_STATUS_BAD_PARAM, "%s: A's dimension %d is %d, "
                        "neither C's %d nor 1", call, i, ad[i], cd[i]);
    std::vector<double> a;
    if ((s = load(call, "A", aDesc, A, a)))
        return s;
    std::vector<double> r((size_t)cd[0] * cd[1] * cd[2] * cd[3]);
    size_t i = 0;
    for (int n = 0; n < cd[0]; ++n)
        for (int c = 0; c < cd[1]; ++c)
            for (int h = 0; h < cd[2]; ++h)
                for (int w = 0; w < cd[3]; ++w)
                    r[i++] = a[(((size_t)(ad[0] == 1 ? 0 : n) * ad[1] +
                                 (ad[1] == 1 ? 0 : c)) * ad[2] +
                                (ad[2] == 1 ? 0 : h)) * ad[3] +
                               (ad[3] == 1 ? 0 : w)];
    return blend(call, "C", cDesc, C, r, scalar(alpha), scalar(beta));
}

} /* extern "C" */
