/* src/cuda/gemm.cu - our own SGEMM and per-channel sum (gemm.cuh): the
 * native engine's linear layer and convolution are built on them.
 *
 * The GEMM is the textbook shared-memory tiling: a block of 256 threads
 * computes a 32x32 tile of C, each thread a 2x2 register block (rows ty and
 * ty + 16, columns tx and tx + 16), walking k in slices of 16 that the
 * block stages in shared memory (A's slice stored k-major so that op(A)'s
 * transposition costs nothing in the inner loop). Every element sums its
 * products in k order with fmaf, so the result is the same bits whatever
 * the launch shape or thread order, on a GPU and under the emulation.
 * Speed is secondary: a real GPU takes cuBLAS/cuDNN by default, and this is
 * the emulable reference engine. */
#include "gemm.cuh"

#define GEMM_TM 32      /* rows of C per block */
#define GEMM_TN 32      /* columns of C per block */
#define GEMM_TK 16      /* k per shared-memory slice */
#define GEMM_THREADS 256 /* 16 x 16, each a 2x2 block of C */

/* Grid: x = column tiles, y = row tiles, z = matrices of the batch; y and
 * z stride so that any size fits the grid's limits. */
static __global__ void sgemm_kernel(cnn_cuda_gemm_args g)
{
    CNN_SHARED(float, as, [GEMM_TK][GEMM_TM + 1]);
    CNN_SHARED(float, bs, [GEMM_TK][GEMM_TN + 1]);
    const int t = threadIdx.x, tx = t % 16, ty = t / 16;
    const int64_t tiles_m = (g.m + GEMM_TM - 1) / GEMM_TM;
    const int64_t j0 = (int64_t)blockIdx.x * GEMM_TN;
    for (int64_t z = blockIdx.z; z < g.batch; z += gridDim.z) {
        const float *a = g.a + z * g.stride_a;
        const float *b = g.b + z * g.stride_b;
        float *c = g.c + z * g.stride_c;
        for (int64_t tm = blockIdx.y; tm < tiles_m; tm += gridDim.y) {
            const int64_t i0 = tm * GEMM_TM;
            float acc[2][2] = {{0.0f, 0.0f}, {0.0f, 0.0f}};
            for (int64_t k0 = 0; k0 < g.k; k0 += GEMM_TK) {
                /* Stage op(A)[i0.., k0..] and op(B)[k0.., j0..], zero
                 * outside the matrices; consecutive threads read
                 * consecutive addresses in either storage order. */
                for (int e = t; e < GEMM_TM * GEMM_TK; e += GEMM_THREADS) {
                    int mm, kk;
                    if (g.trans_a) {
                        kk = e / GEMM_TM;
                        mm = e % GEMM_TM;
                    } else {
                        mm = e / GEMM_TK;
                        kk = e % GEMM_TK;
                    }
                    const int64_t i = i0 + mm, k = k0 + kk;
                    float v = 0.0f;
                    if (i < g.m && k < g.k)
                        v = g.trans_a ? a[k * g.lda + i] : a[i * g.lda + k];
                    as[kk][mm] = v;
                }
                for (int e = t; e < GEMM_TN * GEMM_TK; e += GEMM_THREADS) {
                    int nn, kk;
                    if (g.trans_b) {
                        nn = e / GEMM_TK;
                        kk = e % GEMM_TK;
                    } else {
                        kk = e / GEMM_TN;
                        nn = e % GEMM_TN;
                    }
                    const int64_t j = j0 + nn, k = k0 + kk;
                    float v = 0.0f;
                    if (j < g.n && k < g.k)
                        v = g.trans_b ? b[j * g.ldb + k] : b[k * g.ldb + j];
                    bs[kk][nn] = v;
                }
                __syncthreads();
                CNN_UNROLL
                for (int kk = 0; kk < GEMM_TK; ++kk) {
                    const float a0 = as[kk][ty], a1 = as[kk][ty + 16];
                    const float b0 = bs[kk][tx], b1 = bs[kk][tx + 16];
                    acc[0][0] = fmaf(a0, b0, acc[0][0]);
                    acc[0][1] = fmaf(a0, b1, acc[0][1]);
                    acc[1][0] = fmaf(a1, b0, acc[1][0]);
                    acc[1][1] = fmaf(a1, b1, acc[1][1]);
                }
                __syncthreads(); /* all have read the slice before the next */
            }
            const float *rb = g.row_bias ? g.row_bias + z * g.stride_bias
                                         : NULL;
            for (int di = 0; di < 2; ++di)
                for (int dj = 0; dj < 2; ++dj) {
                    const int64_t i = i0 + ty + 16 * di, j = j0 + tx + 16 * dj;
                    if (i >= g.m || j >= g.n)
                        continue;
                    float *out = c + i * g.ldc + j;
                    float v = g.alpha * acc[di][dj];
                    if (g.beta != 0.0f)
                        v += g.beta * *out;
                    if (rb)
                        v += rb[i];
                    if (g.col_bias)
                        v += g.col_bias[j];
                    *out = v;
                }
        }
    }
}

static unsigned grid_limit(int64_t n, int64_t limit)
{
    return (unsigned)(n < 1 ? 1 : n > limit ? limit : n);
}

cudaError_t cnn_cuda_sgemm(cnn_cuda_context *ctx, const cnn_cuda_gemm_args *g)
{
    if (g->m < 1 || g->n < 1 || g->batch < 1)
        return cudaSuccess;
    dim3 grid(grid_limit((g->n + GEMM_TN - 1) / GEMM_TN, 0x7fffffff),
              grid_limit((g->m + GEMM_TM - 1) / GEMM_TM, 65535),
              grid_limit(g->batch, 65535));
    return CNN_LAUNCH(sgemm_kernel, grid, GEMM_THREADS, 0, ctx->stream, *g);
}

#define SUM_THREADS 256

/* One block per channel (blocks stride over the channels): thread t sums
 * elements t, t + SUM_THREADS, ... of the channel in double, then a tree
 * in shared memory; the same order on every run. */
static __global__ void channel_sum_kernel(float *sum, const float *x,
                                          int64_t channels, int64_t outer,
                                          int64_t outer_stride,
                                          int64_t channel_stride,
                                          int64_t inner)
{
    CNN_SHARED(double, part, [SUM_THREADS]);
    const int t = threadIdx.x;
    const int64_t count = outer * inner;
    for (int64_t ch = blockIdx.x; ch < channels; ch += gridDim.x) {
        const float *base = x + ch * channel_stride;
        double s = 0.0;
        for (int64_t e = t; e < count; e += SUM_THREADS) {
            const int64_t o = e / inner, j = e % inner;
            s += base[o * outer_stride + j];
        }
        part[t] = s;
        __syncthreads();
        for (int half = SUM_THREADS / 2; half > 0; half /= 2) {
            if (t < half)
                part[t] = part[t] + part[t + half];
            __syncthreads();
        }
        if (t == 0)
            sum[ch] = (float)(sum[ch] + part[0]);
        __syncthreads(); /* part[0] read before the next channel */
    }
}

cudaError_t cnn_cuda_channel_sum(cnn_cuda_context *ctx, float *sum,
                                 const float *x, int64_t channels,
                                 int64_t outer, int64_t outer_stride,
                                 int64_t channel_stride, int64_t inner)
{
    if (channels < 1)
        return cudaSuccess;
    unsigned blocks = grid_limit(channels, (int64_t)ctx->sm_count * 32);
    return CNN_LAUNCH(channel_sum_kernel, blocks, SUM_THREADS, 0, ctx->stream,
                      sum, x, channels, outer, outer_stride, channel_stride,
                      inner);
}
