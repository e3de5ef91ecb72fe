/* src/cuda/loss.cu - softmax cross-entropy on the GPU (native engine; also
 * built under the CPU emulation of CUDA).
 *
 * The same arithmetic as src/cpu/loss.c, per row: m = max, s = sum
 * exp(x - m), loss = m + log s - x[label] (in double, where m and x[label]
 * may nearly cancel), gradient (exp(x - m) / s - onehot) / N. One block per
 * row (blocks stride over the rows); the max and the sum are tree
 * reductions in shared memory, so each row's result depends on the row
 * alone, and the mean of the row losses is one block's fixed-order sum in
 * double: no float atomics, the same bits on every run.
 *
 * Labels live in device memory and the CPU backend's contract (src/loss.c)
 * is that a label outside [0, C) is CNN_ERR_INVALID_ARGUMENT before
 * anything is written, so a first kernel finds the first bad label and the
 * host waits for its answer: one synchronisation per call, which a
 * training step pays anyway when it reads the loss. */
#include <math.h>

#include "cuda_common.cuh"

/* Threads per block of the three kernels (a power of two: the reductions
 * halve it). */
#define XENT_THREADS 256

/* found[0] = the first row whose label is outside [0, classes) (rows when
 * none is), found[1] = that label. One block. */
static __global__ void xent_check_labels_kernel(long long *found,
                                                const int32_t *labels,
                                                int64_t rows, int64_t classes)
{
    CNN_SHARED(long long, first, [XENT_THREADS]);
    const int t = threadIdx.x;
    long long mine = rows;
    for (int64_t r = t; r < rows && mine == rows; r += XENT_THREADS)
        if (labels[r] < 0 || labels[r] >= classes)
            mine = r;
    first[t] = mine;
    __syncthreads();
    for (int half = XENT_THREADS / 2; half > 0; half /= 2) {
        if (t < half && first[t + half] < first[t])
            first[t] = first[t + half];
        __syncthreads();
    }
    if (t == 0) {
        found[0] = first[0];
        found[1] = first[0] < rows ? labels[first[0]] : 0;
    }
}

/* Row losses into row_loss, and the gradient when dlogits is not NULL
 * (dlogits may be logits: each thread reads an element before it writes
 * it, and x[label] is read before the first barrier). */
static __global__ void xent_rows_kernel(double *row_loss, float *dlogits,
                                        const float *logits,
                                        const int32_t *labels, int64_t rows,
                                        int64_t classes, float inv_batch)
{
    CNN_SHARED(float, part, [XENT_THREADS]);
    const int t = threadIdx.x;
    for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
        const float *x = logits + r * classes;
        const int32_t label = labels[r];
        const float picked = t == 0 ? x[label] : 0.0f;
        float m = -INFINITY; /* fmaxf skips a NaN; its exp makes s NaN */
        for (int64_t j = t; j < classes; j += XENT_THREADS)
            m = fmaxf(m, x[j]);
        part[t] = m;
        __syncthreads();
        for (int half = XENT_THREADS / 2; half > 0; half /= 2) {
            if (t < half)
                part[t] = fmaxf(part[t], part[t + half]);
            __syncthreads();
        }
        m = part[0];
        __syncthreads(); /* everyone has m before part is reused */
        float s = 0.0f;
        for (int64_t j = t; j < classes; j += XENT_THREADS)
            s += expf(x[j] - m);
        part[t] = s;
        __syncthreads();
        for (int half = XENT_THREADS / 2; half > 0; half /= 2) {
            if (t < half)
                part[t] = part[t] + part[t + half];
            __syncthreads();
        }
        s = part[0];
        if (dlogits) {
            float *g = dlogits + r * classes;
            const float scale = (1.0f / s) * inv_batch;
            for (int64_t j = t; j < classes; j += XENT_THREADS) {
                float v = expf(x[j] - m) * scale;
                g[j] = j == label ? v - inv_batch : v;
            }
        }
        if (t == 0)
            row_loss[r] = (double)m + log((double)s) - (double)picked;
        __syncthreads(); /* part[0] read by all before the next row */
    }
}

/* loss[0] = the mean of row_loss: thread t sums rows t, t + XENT_THREADS,
 * ..., then a tree; one block. */
static __global__ void xent_mean_kernel(float *loss, const double *row_loss,
                                        int64_t rows)
{
    CNN_SHARED(double, part, [XENT_THREADS]);
    const int t = threadIdx.x;
    double s = 0.0;
    for (int64_t r = t; r < rows; r += XENT_THREADS)
        s += row_loss[r];
    part[t] = s;
    __syncthreads();
    for (int half = XENT_THREADS / 2; half > 0; half /= 2) {
        if (t < half)
            part[t] = part[t] + part[t + half];
        __syncthreads();
    }
    if (t == 0)
        loss[0] = (float)(part[0] / (double)rows);
}

static cnn_status softmax_xent(const cnn_op_args *args)
{
    cnn_cuda_context *ctx = cnn_cuda_context_current(args->device);
    if (!ctx)
        return CNN_ERR_DEVICE;
    const cnn_tensor *logits = args->in[0], *labels = args->in[1];
    const int64_t rows = logits->dims[0], classes = logits->dims[1];
    const int32_t *label = static_cast<const int32_t *>(labels->data);
    void *scratch = NULL;
    cnn_status s = cnn_cuda_workspace(
        ctx, 2 * sizeof(long long) + (size_t)rows * sizeof(double), &scratch);
    if (s != CNN_OK)
        return s;
    long long *found = static_cast<long long *>(scratch);
    double *row_loss = reinterpret_cast<double *>(found + 2);

    long long bad[2] = {0, 0};
    cudaError_t err = CNN_LAUNCH(xent_check_labels_kernel, 1, XENT_THREADS, 0,
                                 ctx->stream, found, label, rows, classes);
    if (err == cudaSuccess)
        err = cudaMemcpyAsync(bad, found, sizeof bad, cudaMemcpyDeviceToHost,
                              ctx->stream);
    if (err == cudaSuccess)
        err = cudaStreamSynchronize(ctx->stream);
    if ((s = cnn_cuda_check(ctx, err, "checking the labels")) != CNN_OK)
        return s;
    if (bad[0] < rows)
        return cnn_backend_error(cnn_cuda_host, CNN_ERR_INVALID_ARGUMENT,
                                 "labels[%lld] is %d, outside [0, %lld)",
                                 bad[0], (int)bad[1], (long long)classes);

    float *dlogits =
        args->out[1] ? static_cast<float *>(args->out[1]->data) : NULL;
    const int64_t cap = (int64_t)ctx->sm_count * 32;
    err = CNN_LAUNCH(xent_rows_kernel,
                     (unsigned)(rows < cap ? rows : cap), XENT_THREADS, 0,
                     ctx->stream, row_loss, dlogits,
                     static_cast<const float *>(logits->data), label, rows,
                     classes, (float)(1.0 / (double)rows));
    if ((s = cnn_cuda_check(ctx, err, "launching xent_rows_kernel")) != CNN_OK)
        return s;
    return cnn_cuda_check(ctx,
                          CNN_LAUNCH(xent_mean_kernel, 1, XENT_THREADS, 0,
                                     ctx->stream,
                                     static_cast<float *>(args->out[0]->data),
                                     row_loss, rows),
                          "launching xent_mean_kernel");
}

void cnn_cuda_register_loss(cnn_op_fn *native)
{
    native[CNN_OP_SOFTMAX_XENT] = softmax_xent;
}
