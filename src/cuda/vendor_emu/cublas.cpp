/* src/cuda/vendor_emu/cublas.cpp - the conformance double of cuBLAS: the
 * handle (cuBLAS library reference, section 2.4 "cuBLAS Helper Function
 * Reference"), cublasSgemm_64 (2.7.1 "cublas<t>gemm()", with the 64-bit
 * integer interface of section 2.8) and cublasSgemv_64 (2.6.7
 * "cublas<t>gemv()"), column-major, computed in double and rounded once.
 *
 * cuBLAS keeps no error text, so for a pointer that is not device memory
 * (which faults on a GPU) the double returns CUBLAS_STATUS_EXECUTION_FAILED
 * and prints the emulation's report on stderr, so a test log says which
 * pointer it was. */
#include <stdio.h>

#include <mutex>
#include <new>
#include <set>

#include <cublas_v2.h>

#include "common.h"

struct cnn_vemu_cublas {
    cudaStream_t stream = 0;
    cublasMath_t math = CUBLAS_DEFAULT_MATH;
};

using namespace cnn_vemu;

namespace {
std::mutex lock;
std::set<cnn_vemu_cublas *> live;

cublasStatus_t enter(const char *name)
{
    trace(name);
    int code = injected(name);
    if (code == CUBLAS_STATUS_EXECUTION_FAILED)
        fault_device();
    return (cublasStatus_t)code;
}

#define CUBLAS_ENTER(name)                                                    \
    do {                                                                      \
        cublasStatus_t injected_ = enter(name);                               \
        if (injected_ != CUBLAS_STATUS_SUCCESS)                               \
            return injected_;                                                 \
    } while (0)

bool valid(cublasHandle_t h)
{
    std::lock_guard<std::mutex> guard(lock);
    return h && live.count(h);
}

cublasStatus_t status_of(io r)
{
    if (r == io::ok)
        return CUBLAS_STATUS_SUCCESS;
    fprintf(stderr, "cuBLAS double: %s\n", last_error().c_str());
    return CUBLAS_STATUS_EXECUTION_FAILED;
}

/* The elements a column-major rows x cols matrix with leading dimension ld
 * spans. */
size_t span(int64_t rows, int64_t cols, int64_t ld)
{
    return rows == 0 || cols == 0 ? 0 : (size_t)((cols - 1) * ld + rows);
}
} // namespace

extern "C" {

/* 2.4.1 cublasCreate(). */
cublasStatus_t cublasCreate(cublasHandle_t *handle)
{
    CUBLAS_ENTER("cublasCreate");
    if (!handle)
        return CUBLAS_STATUS_INVALID_VALUE;
    cnn_vemu_cublas *h = new (std::nothrow) cnn_vemu_cublas();
    if (!h)
        return CUBLAS_STATUS_ALLOC_FAILED;
    std::lock_guard<std::mutex> guard(lock);
    live.insert(h);
    *handle = h;
    return CUBLAS_STATUS_SUCCESS;
}

/* 2.4.2 cublasDestroy(): NOT_INITIALIZED for a handle that is not one. */
cublasStatus_t cublasDestroy(cublasHandle_t handle)
{
    CUBLAS_ENTER("cublasDestroy");
    std::lock_guard<std::mutex> guard(lock);
    if (!live.erase(handle))
        return CUBLAS_STATUS_NOT_INITIALIZED;
    delete handle;
    return CUBLAS_STATUS_SUCCESS;
}

/* 2.4.5 cublasSetStream(). */
cublasStatus_t cublasSetStream(cublasHandle_t handle, cudaStream_t streamId)
{
    CUBLAS_ENTER("cublasSetStream");
    if (!valid(handle))
        return CUBLAS_STATUS_NOT_INITIALIZED;
    handle->stream = streamId;
    return CUBLAS_STATUS_SUCCESS;
}

/* 2.4.18 cublasSetMathMode(): INVALID_VALUE for a mode outside
 * cublasMath_t (the reduction flag may be or-ed in). */
cublasStatus_t cublasSetMathMode(cublasHandle_t handle, cublasMath_t mode)
{
    CUBLAS_ENTER("cublasSetMathMode");
    if (!valid(handle))
        return CUBLAS_STATUS_NOT_INITIALIZED;
    unsigned base = (unsigned)mode & ~(unsigned)CUBLAS_MATH_DISALLOW_REDUCED_PRECISION_REDUCTION;
    if (base > CUBLAS_TF32_TENSOR_OP_MATH)
        return CUBLAS_STATUS_INVALID_VALUE;
    handle->math = mode;
    return CUBLAS_STATUS_SUCCESS;
}

/* 2.4.26 cublasGetStatusString(). */
const char *cublasGetStatusString(cublasStatus_t status)
{
    switch (status) {
    case CUBLAS_STATUS_SUCCESS: return "the operation completed successfully";
    case CUBLAS_STATUS_NOT_INITIALIZED: return "the library was not initialized";
    case CUBLAS_STATUS_ALLOC_FAILED: return "the resource allocation failed";
    case CUBLAS_STATUS_INVALID_VALUE: return "an invalid numeric value was used as an argument";
    case CUBLAS_STATUS_ARCH_MISMATCH: return "an absent device architectural feature is required";
    case CUBLAS_STATUS_EXECUTION_FAILED: return "the GPU program failed to execute";
    case CUBLAS_STATUS_NOT_SUPPORTED: return "the functionality requested is not supported";
    default: return "unknown cuBLAS status";
    }
}

/* 2.7.1 cublas<t>gemm(): C = alpha op(A) op(B) + beta C, op(A) m x k,
 * op(B) k x n, C m x n, column-major. INVALID_VALUE when m, n or k < 0, a
 * transpose is not N, T or C, lda < max(1, m) for op N (max(1, k)
 * otherwise), ldb < max(1, k) for op N (max(1, n) otherwise) or ldc <
 * max(1, m). C is not read when beta is 0; m or n 0 does nothing. */
cublasStatus_t cublasSgemm_64(cublasHandle_t handle, cublasOperation_t ta,
                              cublasOperation_t tb, int64_t m, int64_t n,
                              int64_t k, const float *alpha, const float *A,
                              int64_t lda, const float *B, int64_t ldb,
                              const float *beta, float *C, int64_t ldc)
{
    static const char call[] = "cublasSgemm_64";
    CUBLAS_ENTER(call);
    if (!valid(handle))
        return CUBLAS_STATUS_NOT_INITIALIZED;
    auto ok_op = [](cublasOperation_t t) { return t == CUBLAS_OP_N || t == CUBLAS_OP_T || t == CUBLAS_OP_C; };
    auto at_least = [](int64_t v) { return v < 1 ? (int64_t)1 : v; };
    if (m < 0 || n < 0 || k < 0 || !ok_op(ta) || !ok_op(tb) ||
        lda < at_least(ta == CUBLAS_OP_N ? m : k) ||
        ldb < at_least(tb == CUBLAS_OP_N ? k : n) || ldc < at_least(m) ||
        !alpha || !beta)
        return CUBLAS_STATUS_INVALID_VALUE;
    if (m == 0 || n == 0)
        return CUBLAS_STATUS_SUCCESS;
    const int64_t a_rows = ta == CUBLAS_OP_N ? m : k, a_cols = ta == CUBLAS_OP_N ? k : m;
    const int64_t b_rows = tb == CUBLAS_OP_N ? k : n, b_cols = tb == CUBLAS_OP_N ? n : k;
    std::vector<double> a, b, c;
    io r;
    if ((r = read_floats(call, "A", A, span(a_rows, a_cols, lda), a)) != io::ok ||
        (r = read_floats(call, "B", B, span(b_rows, b_cols, ldb), b)) != io::ok ||
        (r = read_floats(call, "C", C, span(m, n, ldc), c)) != io::ok)
        return status_of(r);
    const double al = *alpha, be = *beta;
    for (int64_t j = 0; j < n; ++j)
        for (int64_t i = 0; i < m; ++i) {
            double sum = 0.0;
            for (int64_t l = 0; l < k; ++l) {
                double av = ta == CUBLAS_OP_N ? a[(size_t)(l * lda + i)] : a[(size_t)(i * lda + l)];
                double bv = tb == CUBLAS_OP_N ? b[(size_t)(j * ldb + l)] : b[(size_t)(l * ldb + j)];
                sum += av * bv;
            }
            double &out = c[(size_t)(j * ldc + i)];
            out = be == 0.0 ? al * sum : al * sum + be * out;
        }
    return status_of(write_floats(call, "C", C, c));
}

/* 2.6.7 cublas<t>gemv(): y = alpha op(A) x + beta y, A m x n column-major.
 * INVALID_VALUE when m or n < 0, incx or incy is 0, lda < max(1, m) or
 * trans is not N, T or C. The double models positive increments only. */
cublasStatus_t cublasSgemv_64(cublasHandle_t handle, cublasOperation_t trans,
                              int64_t m, int64_t n, const float *alpha,
                              const float *A, int64_t lda, const float *x,
                              int64_t incx, const float *beta, float *y,
                              int64_t incy)
{
    static const char call[] = "cublasSgemv_64";
    CUBLAS_ENTER(call);
    if (!valid(handle))
        return CUBLAS_STATUS_NOT_INITIALIZED;
    if (m < 0 || n < 0 || incx == 0 || incy == 0 || lda < (m < 1 ? 1 : m) ||
        (trans != CUBLAS_OP_N && trans != CUBLAS_OP_T && trans != CUBLAS_OP_C) ||
        !alpha || !beta)
        return CUBLAS_STATUS_INVALID_VALUE;
    if (incx < 0 || incy < 0)
        return CUBLAS_STATUS_NOT_SUPPORTED;
    if (m == 0 || n == 0)
        return CUBLAS_STATUS_SUCCESS;
    const int64_t xl = trans == CUBLAS_OP_N ? n : m, yl = trans == CUBLAS_OP_N ? m : n;
    std::vector<double> a, xv, yv;
    io r;
    if ((r = read_floats(call, "A", A, span(m, n, lda), a)) != io::ok ||
        (r = read_floats(call, "x", x, (size_t)((xl - 1) * incx + 1), xv)) != io::ok ||
        (r = read_floats(call, "y", y, (size_t)((yl - 1) * incy + 1), yv)) != io::ok)
        return status_of(r);
    const double al = *alpha, be = *beta;
    for (int64_t i = 0; i < yl; ++i) {
        double sum = 0.0;
        for (int64_t l = 0; l < xl; ++l) {
            double av = trans == CUBLAS_OP_N ? a[(size_t)(l * lda + i)] : a[(size_t)(i * lda + l)];
            sum += av * xv[(size_t)(l * incx)];
        }
        double &out = yv[(size_t)(i * incy)];
        out = be == 0.0 ? al * sum : al * sum + be * out;
    }
    return status_of(write_floats(call, "y", y, yv));
}

} /* extern "C" */
