/* src/cpu/gemm_own.c - our blocked, packed single-precision GEMM on one
 * thread (the Goto/BLIS scheme): B is packed a kc x nc panel at a time
 * into slivers nr columns wide, A an mc x kc block at a time into slivers
 * mr rows tall, and a register-tiled micro-kernel multiplies one sliver of
 * each. Packing makes both operands contiguous in the order the kernel
 * reads them, whatever their transposition, and pads the edges with zeros
 * so the kernel never branches; edge tiles are written through a small
 * buffer. gemm.c splits C over threads and calls this on each piece. */
#include <string.h>

#include "gemm.h"

/* A[i0 .. i0+mc) x [p0 .. p0+kc), times alpha, into slivers of mr rows:
 * dst[s * kc * mr + p * mr + i]. Rows past m are zero. */
static void pack_a(cnn_cpu_matrix a, int64_t m, int64_t i0, int64_t mc,
                   int64_t p0, int64_t kc, int mr, float alpha, float *dst)
{
    for (int64_t s = 0; s < mc; s += mr, dst += kc * mr) {
        int64_t i = i0 + s;
        int64_t rows = m - i < mr ? m - i : mr;
        if (a.trans) {
            /* Rows of op(A) are columns of A: mr values are contiguous. */
            for (int64_t p = 0; p < kc; ++p) {
                const float *src = a.data + (p0 + p) * a.ld + i;
                float *d = dst + p * mr;
                int64_t r = 0;
                for (; r < rows; ++r)
                    d[r] = alpha * src[r];
                for (; r < mr; ++r)
                    d[r] = 0.0f;
            }
        } else {
            for (int64_t r = 0; r < rows; ++r) {
                const float *src = a.data + (i + r) * a.ld + p0;
                for (int64_t p = 0; p < kc; ++p)
                    dst[p * mr + r] = alpha * src[p];
            }
            for (int64_t r = rows; r < mr; ++r)
                for (int64_t p = 0; p < kc; ++p)
                    dst[p * mr + r] = 0.0f;
        }
    }
}

/* B[p0 .. p0+kc) x [j0 .. j0+nc) into slivers of nr columns:
 * dst[s * kc * nr + p * nr + j]. Columns past n are zero. */
static void pack_b(cnn_cpu_matrix b, int64_t n, int64_t p0, int64_t kc,
                   int64_t j0, int64_t nc, int nr, float *dst)
{
    for (int64_t s = 0; s < nc; s += nr, dst += kc * nr) {
        int64_t j = j0 + s;
        int64_t cols = n - j < nr ? n - j : nr;
        if (b.trans) {
            for (int64_t c = 0; c < cols; ++c) {
                const float *src = b.data + (j + c) * b.ld + p0;
                for (int64_t p = 0; p < kc; ++p)
                    dst[p * nr + c] = src[p];
            }
            for (int64_t c = cols; c < nr; ++c)
                for (int64_t p = 0; p < kc; ++p)
                    dst[p * nr + c] = 0.0f;
        } else {
            for (int64_t p = 0; p < kc; ++p) {
                float *d = dst + p * nr;
                memcpy(d, b.data + (p0 + p) * b.ld + j,
                       (size_t)cols * sizeof *d);
                for (int64_t c = cols; c < nr; ++c)
                    d[c] = 0.0f;
            }
        }
    }
}

/* C *= beta over m x n (beta == 0 writes zeros without reading C). */
static void scale_c(int64_t m, int64_t n, float beta, float *c, int64_t ldc)
{
    for (int64_t i = 0; i < m; ++i) {
        float *row = c + i * ldc;
        if (beta == 0.0f)
            memset(row, 0, (size_t)n * sizeof *row);
        else
            for (int64_t j = 0; j < n; ++j)
                row[j] *= beta;
    }
}

static inline float *align64(float *p)
{
    return (float *)(((uintptr_t)p + 63) & ~(uintptr_t)63);
}

void cnn_cpu_gemm_own(const cnn_cpu_gemm_kernel *kernel, int64_t m, int64_t n,
                      int64_t k, float alpha, cnn_cpu_matrix a,
                      cnn_cpu_matrix b, float beta, float *c, int64_t ldc,
                      float *scratch)
{
    if (m <= 0 || n <= 0)
        return;
    if (k <= 0 || alpha == 0.0f) {
        if (beta != 1.0f)
            scale_c(m, n, beta, c, ldc);
        return;
    }
    if (beta != 0.0f && beta != 1.0f) {
        scale_c(m, n, beta, c, ldc);
        beta = 1.0f;
    }
    const int mr = kernel->mr, nr = kernel->nr;
    const int64_t mcb = kernel->mc, kcb = kernel->kc, ncb = kernel->nc;
    float *pa = align64(scratch);
    float *pb = align64(pa + mcb * kcb);
    float *edge = align64(pb + kcb * ncb);

    for (int64_t jc = 0; jc < n; jc += ncb) {
        int64_t nc = n - jc < ncb ? n - jc : ncb;
        for (int64_t pc = 0; pc < k; pc += kcb) {
            int64_t kc = k - pc < kcb ? k - pc : kcb;
            bool accumulate = pc > 0 || beta != 0.0f;
            pack_b(b, n, pc, kc, jc, nc, nr, pb);
            for (int64_t ic = 0; ic < m; ic += mcb) {
                int64_t mc = m - ic < mcb ? m - ic : mcb;
                pack_a(a, m, ic, mc, pc, kc, mr, alpha, pa);
                for (int64_t jr = 0; jr < nc; jr += nr) {
                    int64_t cols = nc - jr < nr ? nc - jr : nr;
                    const float *bs = pb + jr * kc;
                    for (int64_t ir = 0; ir < mc; ir += mr) {
                        int64_t rows = mc - ir < mr ? mc - ir : mr;
                        const float *as = pa + ir * kc;
                        float *ct = c + (ic + ir) * ldc + jc + jr;
                        if (rows == mr && cols == nr) {
                            kernel->run(kc, as, bs, ct, ldc, accumulate);
                            continue;
                        }
                        kernel->run(kc, as, bs, edge, nr, false);
                        for (int64_t i = 0; i < rows; ++i)
                            for (int64_t j = 0; j < cols; ++j)
                                ct[i * ldc + j] = accumulate
                                    ? ct[i * ldc + j] + edge[i * nr + j]
                                    : edge[i * nr + j];
                    }
                }
            }
        }
    }
}
