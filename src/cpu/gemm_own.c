/* src/cpu/gemm_own.c - our blocked, packed single-precision GEMM on one
 * thread (the Goto/BLIS scheme): B is packed a kc x nc panel at a time
 * into slivers nr columns wide, A an mc x kc block at a time into slivers
 * mr rows tall, and a register-tiled micro-kernel multiplies one sliver of
 * each. Packing makes both operands contiguous in the order the kernel
 * reads them, whatever their layout, and pads the edges with zeros so the
 * kernel never branches; edge tiles go through a small buffer. Operands
 * are packed by callbacks: plain matrices here, a convolution's unfolded
 * input in conv_pack.c. gemm.c splits C over threads. */
#include <string.h>

#include "gemm.h"

/* A plain matrix: a sliver's rows run along k in memory (transpose them
 * into the sliver), or across it. In the second case each k is one row of
 * the matrix, read from end to end across all the slivers: reading a
 * sliver's worth of it and moving to the next row instead would jump a
 * whole row ahead at every step, which the prefetchers do not follow. */
static void pack_matrix(const void *ctx, const cnn_cpu_gemm_kernel *kernel,
                        int64_t r0, int64_t rows, int64_t k0, int64_t kc,
                        int width, float *dst, float *tmp)
{
    (void)tmp;
    const cnn_cpu_matrix_operand *op = ctx;
    const float *data = op->m.data;
    const int64_t ld = op->m.ld;
    if (op->k_contiguous) {
        for (int64_t s = 0; s < rows; s += width, dst += kc * width) {
            int64_t n = rows - s < width ? rows - s : width;
            kernel->transpose(data + (r0 + s) * ld + k0, ld, n, kc, dst,
                              width);
            for (int64_t p = 0; p < kc; ++p) {
                float *d = dst + p * width;
                if (op->alpha != 1.0f)
                    for (int64_t i = 0; i < n; ++i)
                        d[i] *= op->alpha;
                for (int64_t i = n; i < width; ++i)
                    d[i] = 0.0f;
            }
        }
        return;
    }
    /* Sixteen rows of k at a time: each sliver then gets a kilobyte or
     * two of consecutive writes, and sixteen streams are read. */
    for (int64_t p0 = 0; p0 < kc; p0 += 16) {
        int64_t p1 = p0 + 16 < kc ? p0 + 16 : kc;
        for (int64_t s = 0; s < rows; s += width) {
            int64_t n = rows - s < width ? rows - s : width;
            for (int64_t p = p0; p < p1; ++p) {
                /* A row of a sliver is a few dozen floats: a loop, not
                 * memcpy. */
                float *restrict d = dst + s * kc + p * width;
                const float *restrict in = data + (k0 + p) * ld + r0 + s;
                for (int64_t i = 0; i < n; ++i)
                    d[i] = op->alpha * in[i];
                for (int64_t i = n; i < width; ++i)
                    d[i] = 0.0f;
            }
        }
    }
}

cnn_cpu_operand cnn_cpu_operand_matrix(cnn_cpu_matrix_operand *storage,
                                       cnn_cpu_matrix m, char role,
                                       float alpha)
{
    /* op(A)[i, p]: A[i * ld + p], or A[p * ld + i] when transposed;
     * op(B)[p, j]: B[p * ld + j], or B[j * ld + p] when transposed. */
    storage->m = m;
    storage->k_contiguous = role == 'a' ? !m.trans : m.trans;
    storage->alpha = alpha;
    return (cnn_cpu_operand){.pack = pack_matrix, .ctx = storage};
}

size_t cnn_cpu_gemm_prepacked_floats(const cnn_cpu_gemm_kernel *kernel,
                                     int64_t m, int64_t k)
{
    return (size_t)((m + kernel->mr - 1) / kernel->mr * kernel->mr * k);
}

void cnn_cpu_gemm_prepack(const cnn_cpu_gemm_kernel *kernel,
                          cnn_cpu_operand a, int64_t m, int64_t k,
                          int64_t s0, int64_t s1, float *dst, float *tmp)
{
    const int mr = kernel->mr;
    for (int64_t sl = s0; sl < s1; ++sl) {
        int64_t r0 = sl * mr, rows = m - r0 < mr ? m - r0 : mr;
        a.pack(a.ctx, kernel, r0, rows, 0, k, mr, dst + sl * k * mr, tmp);
    }
}

static inline float *c_at(const cnn_cpu_gemm_out *c, int64_t i, int64_t j)
{
    if (!c->seg)
        return c->data + i * c->ld + j;
    return c->data + j / c->seg * c->seg_stride + i * c->ld + j % c->seg;
}

/* The tile's top-left element when the tile lies in one segment of C's
 * columns (it can then be written in place); NULL otherwise. */
static inline float *tile_at(const cnn_cpu_gemm_out *c, int64_t i, int64_t j,
                             int64_t cols)
{
    if (c->seg && j / c->seg != (j + cols - 1) / c->seg)
        return NULL;
    return c_at(c, i, j);
}

/* An edge tile, computed into `edge`, stored piece by piece: one piece
 * per segment of C's columns it covers. */
static void store_edge(const cnn_cpu_gemm_out *c, int64_t i, int64_t j,
                       int64_t rows, int64_t cols, const float *edge, int nr,
                       bool acc, const float *bias)
{
    for (int64_t u0 = 0; u0 < cols;) {
        int64_t u1 = cols;
        if (c->seg) {
            int64_t seg_end = ((j + u0) / c->seg + 1) * c->seg - j;
            u1 = seg_end < cols ? seg_end : cols;
        }
        float *dst = c_at(c, i, j + u0);
        for (int64_t t = 0; t < rows; ++t) {
            float *restrict d = dst + t * c->ld;
            const float *restrict e = edge + t * nr + u0;
            if (acc)
                for (int64_t u = 0; u < u1 - u0; ++u)
                    d[u] += e[u];
            else if (bias)
                for (int64_t u = 0; u < u1 - u0; ++u)
                    d[u] = e[u] + bias[i + t];
            else
                for (int64_t u = 0; u < u1 - u0; ++u)
                    d[u] = e[u];
        }
        u0 = u1;
    }
}

static inline float *align64(float *p)
{
    return (float *)(((uintptr_t)p + 63) & ~(uintptr_t)63);
}

/* C over the block when k is 0: zeros or the bias, unless accumulating. */
static void fill_block(int64_t i0, int64_t i1, int64_t j0, int64_t j1,
                       const cnn_cpu_gemm_out *c)
{
    for (int64_t i = i0; i < i1; ++i)
        for (int64_t j = j0; j < j1; ++j)
            *c_at(c, i, j) = c->bias ? c->bias[i] : 0.0f;
}

void cnn_cpu_gemm_own_block(const cnn_cpu_gemm_kernel *kernel, int64_t i0,
                            int64_t i1, int64_t j0, int64_t j1, int64_t k,
                            cnn_cpu_operand a, cnn_cpu_operand b,
                            bool accumulate, cnn_cpu_gemm_out c,
                            float *scratch)
{
    if (i0 >= i1 || j0 >= j1)
        return;
    if (k <= 0) {
        if (!accumulate)
            fill_block(i0, i1, j0, j1, &c);
        return;
    }
    const int mr = kernel->mr, nr = kernel->nr;
    const int64_t mcb = kernel->mc, kcb = kernel->kc, ncb = kernel->nc;
    float *pa = align64(scratch);
    float *pb = align64(pa + mcb * kcb);
    float *edge = align64(pb + kcb * ncb);
    float *tmp = align64(edge + mr * nr);

    for (int64_t jc = j0; jc < j1; jc += ncb) {
        int64_t nc = j1 - jc < ncb ? j1 - jc : ncb;
        for (int64_t pc = 0; pc < k; pc += kcb) {
            int64_t kc = k - pc < kcb ? k - pc : kcb;
            bool acc = accumulate || pc > 0;
            /* The first block of an overwrite starts from the bias. */
            const float *bias = acc ? NULL : c.bias;
            b.pack(b.ctx, kernel, jc, nc, pc, kc, nr, pb, tmp);
            for (int64_t ic = i0; ic < i1; ic += mcb) {
                int64_t mc = i1 - ic < mcb ? i1 - ic : mcb;
                /* Slivers of A: packed now, or in place in a prepacked A
                 * (ic is a multiple of mr). */
                const float *ablock = pa;
                int64_t astride = kc * mr;
                if (a.packed) {
                    ablock = a.packed + ic / mr * k * mr + pc * mr;
                    astride = k * mr;
                } else {
                    a.pack(a.ctx, kernel, ic, mc, pc, kc, mr, pa, tmp);
                }
                for (int64_t jr = 0; jr < nc; jr += nr) {
                    int64_t cols = nc - jr < nr ? nc - jr : nr;
                    const float *bs = pb + jr * kc;
                    for (int64_t ir = 0; ir < mc; ir += mr) {
                        int64_t rows = mc - ir < mr ? mc - ir : mr;
                        int64_t i = ic + ir, j = jc + jr;
                        const float *as = ablock + ir / mr * astride;
                        float *ct = tile_at(&c, i, j, cols);
                        if (ct && rows == mr && cols == nr) {
                            if (bias)
                                for (int t = 0; t < mr; ++t)
                                    for (int u = 0; u < nr; ++u)
                                        ct[t * c.ld + u] = bias[i + t];
                            kernel->run(kc, as, bs, ct, c.ld, acc || bias);
                            continue;
                        }
                        kernel->run(kc, as, bs, edge, nr, false);
                        store_edge(&c, i, j, rows, cols, edge, nr, acc, bias);
                    }
                }
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
    cnn_cpu_matrix_operand as, bs;
    cnn_cpu_gemm_out out = {.data = c, .ld = ldc};
    cnn_cpu_gemm_own_block(kernel, 0, m, 0, n, k,
                           cnn_cpu_operand_matrix(&as, a, 'a', alpha),
                           cnn_cpu_operand_matrix(&bs, b, 'b', 1.0f),
                           beta != 0.0f, out, scratch);
}
