/* src/cuda/concat.cu - channel concat and split on the GPU (native engine;
 * also built under the CPU emulation of CUDA).
 *
 * In bytes, the joined tensor is dims[0] rows, each the parts' slices side
 * by side (part i gives dims[1] * the product of the dimensions after 1 *
 * the element size bytes to each row; see src/cpu/concat.c). So each part
 * is a 2-D copy: dims[0] rows of `slice` bytes, with a pitch of one row of
 * the joined tensor on that side and of `slice` on the part's side. One
 * launch per part, in words as wide as the addresses, pitches and slice
 * allow, whatever the dtype. (The CPU emulation has no cudaMemcpy2DAsync;
 * a kernel serves both builds.) */
#include "cuda_common.cuh"

template <typename T>
static __global__ void copy_2d_kernel(char *dst, int64_t dst_pitch,
                                      const char *src, int64_t src_pitch,
                                      int64_t width, int64_t rows)
{
    const int64_t n = width * rows;
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
         i += (int64_t)gridDim.x * blockDim.x) {
        const int64_t row = i / width, col = i % width;
        reinterpret_cast<T *>(dst + row * dst_pitch)[col] =
            reinterpret_cast<const T *>(src + row * src_pitch)[col];
    }
}

template <typename T>
static cudaError_t launch_copy(cnn_cuda_context *ctx, char *dst,
                               int64_t dst_pitch, const char *src,
                               int64_t src_pitch, int64_t bytes, int64_t rows)
{
    const int64_t width = bytes / (int64_t)sizeof(T);
    return CNN_LAUNCH(copy_2d_kernel<T>, cnn_cuda_grid_for(ctx, width * rows),
                      CNN_CUDA_BLOCK, 0, ctx->stream, dst, dst_pitch, src,
                      src_pitch, width, rows);
}

/* rows rows of `bytes` bytes from src (rows `src_pitch` apart) to dst
 * (rows `dst_pitch` apart), in the widest word that divides everything. */
static cudaError_t copy_2d(cnn_cuda_context *ctx, char *dst, int64_t dst_pitch,
                           const char *src, int64_t src_pitch, int64_t bytes,
                           int64_t rows)
{
    const uint64_t all = (uint64_t)(uintptr_t)dst | (uint64_t)(uintptr_t)src |
                         (uint64_t)dst_pitch | (uint64_t)src_pitch |
                         (uint64_t)bytes;
    if (all % 8 == 0)
        return launch_copy<uint64_t>(ctx, dst, dst_pitch, src, src_pitch,
                                     bytes, rows);
    if (all % 4 == 0)
        return launch_copy<uint32_t>(ctx, dst, dst_pitch, src, src_pitch,
                                     bytes, rows);
    if (all % 2 == 0)
        return launch_copy<uint16_t>(ctx, dst, dst_pitch, src, src_pitch,
                                     bytes, rows);
    return launch_copy<uint8_t>(ctx, dst, dst_pitch, src, src_pitch, bytes,
                                rows);
}

static cnn_status concat_run(const cnn_op_args *args, bool to_whole)
{
    cnn_cuda_context *ctx = cnn_cuda_context_current(args->device);
    if (!ctx)
        return CNN_ERR_DEVICE;
    const cnn_concat_params *p =
        static_cast<const cnn_concat_params *>(args->params);
    const cnn_tensor *whole = to_whole ? args->out[0] : args->in[0];
    int64_t inner = (int64_t)(whole->bytes / (size_t)whole->numel);
    for (int d = 2; d < whole->ndim; ++d)
        inner *= whole->dims[d];
    const int64_t rows = whole->dims[0], row_bytes = whole->dims[1] * inner;
    char *base = static_cast<char *>(whole->data);
    int64_t offset = 0; /* of the part's slice within a row */
    for (int i = 0; i < p->count; ++i) {
        char *part = static_cast<char *>(p->parts[i]->data);
        const int64_t slice = p->parts[i]->dims[1] * inner;
        cudaError_t err =
            to_whole ? copy_2d(ctx, base + offset, row_bytes, part, slice,
                               slice, rows)
                     : copy_2d(ctx, part, slice, base + offset, row_bytes,
                               slice, rows);
        cnn_status s = cnn_cuda_check(ctx, err, "launching copy_2d_kernel");
        if (s != CNN_OK)
            return s;
        offset += slice;
    }
    return CNN_OK;
}

static cnn_status concat(const cnn_op_args *args)
{
    return concat_run(args, true);
}

static cnn_status split(const cnn_op_args *args)
{
    return concat_run(args, false);
}

void cnn_cuda_register_concat(cnn_op_fn *native)
{
    native[CNN_OP_CONCAT] = concat;
    native[CNN_OP_SPLIT] = split;
}
