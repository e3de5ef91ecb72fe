/* src/cpu/conv.h - what the CPU convolution files share: the layer's
 * sizes in one struct, the reference loops (conv_ref.c), the NATIVE
 * engine (conv_gemm.c: the choice of path, and im2col over plain GEMMs;
 * conv_own.c and conv_pack.c: operands packed for our own GEMM;
 * conv_data.c: the data gradient) and im2col/col2im (conv_im2col.c). */
#ifndef CNN_CPU_CONV_H
#define CNN_CPU_CONV_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "cnn/conv.h"
#include "cpu.h"
#include "gemm.h"

typedef struct cnn_cpu_conv_shape {
    int64_t n, c, h, w;        /* x [n, c, h, w] */
    int64_t k, r, s;           /* w [k, c / groups, r, s] */
    int64_t p, q;              /* y [n, k, p, q] */
    int64_t stride_h, stride_w, pad_h, pad_w, dilation_h, dilation_w;
    int64_t groups, cg, kg;    /* channels per group: input, output */
    int64_t rows;              /* cg * r * s: a row of the unfolded input */
} cnn_cpu_conv_shape;

/* The shape from x's and w's dims (the core has checked they chain). */
cnn_cpu_conv_shape cnn_cpu_conv_shape_of(const int64_t x[4],
                                         const int64_t w[4],
                                         const cnn_conv2d_params *p);

/* Reference loops (accumulating in double); dw, db accumulate. */
void cnn_cpu_conv_ref_forward(int device, const cnn_cpu_conv_shape *sh,
                              const float *x, const float *w, const float *b,
                              float *y);
void cnn_cpu_conv_ref_backward_data(int device, const cnn_cpu_conv_shape *sh,
                                    const float *dy, const float *w,
                                    float *dx);
void cnn_cpu_conv_ref_backward_filter(int device,
                                      const cnn_cpu_conv_shape *sh,
                                      const float *dy, const float *x,
                                      float *dw);

/* Convolution on our own GEMM, operands packed from the tensors
 * (conv_own.c); the data gradient for stride 1 only. */
cnn_status cnn_cpu_conv_own_forward(int device, const cnn_cpu_conv_shape *sh,
                                    const float *x, const float *w,
                                    const float *b, float *y);
cnn_status cnn_cpu_conv_own_backward_data(int device,
                                          const cnn_cpu_conv_shape *sh,
                                          const float *dy, const float *w,
                                          float *dx);
cnn_status cnn_cpu_conv_own_backward_filter(int device,
                                            const cnn_cpu_conv_shape *sh,
                                            const float *dy, const float *x,
                                            float *dw);

/* With stride 1, dx is the convolution of dy, padded by
 * dilation (kernel - 1) - pad, with each group's weights transposed and
 * flipped (conv_data.c): whether a layer qualifies, that layer's shape,
 * and its weights [c, kg, r, s] written into out. */
bool cnn_cpu_conv_data_as_forward(const cnn_cpu_conv_shape *sh);
cnn_cpu_conv_shape cnn_cpu_conv_data_shape(const cnn_cpu_conv_shape *sh);
void cnn_cpu_conv_flip_weights(int device, const cnn_cpu_conv_shape *sh,
                               const float *w, float *out);
/* The data gradient of any layer, image by image (conv_data.c): for the
 * layers that cnn_cpu_conv_data_as_forward turns down. */
cnn_status cnn_cpu_conv_strided_backward_data(int device,
                                              const cnn_cpu_conv_shape *sh,
                                              const float *dy, const float *w,
                                              float *dx);

/* The NATIVE engine (conv_gemm.c): our GEMM's path or, when OpenBLAS is
 * the active GEMM, unfolded input times weights in blocks of columns. */
cnn_status cnn_cpu_conv_gemm_forward(int device, const cnn_cpu_conv_shape *sh,
                                     const float *x, const float *w,
                                     const float *b, float *y);
cnn_status cnn_cpu_conv_gemm_backward_data(int device,
                                           const cnn_cpu_conv_shape *sh,
                                           const float *dy, const float *w,
                                           float *dx);
cnn_status cnn_cpu_conv_gemm_backward_filter(int device,
                                             const cnn_cpu_conv_shape *sh,
                                             const float *dy, const float *x,
                                             float *dw);

/* The columns of the unfolded input: column j = (image, output pixel)
 * over the whole batch, j in [0, n * p * q); row = (channel of group g,
 * kernel row, kernel column). im2col writes rows x [j0, j1) of group g
 * into col (row stride ld), zero where the window reads padding, on the
 * device's threads. col2im adds such a block back into dx, on the calling
 * thread (inside a parallel body). */
void cnn_cpu_im2col(int device, const cnn_cpu_conv_shape *sh, const float *x,
                    int64_t g, int64_t j0, int64_t j1, float *col, int64_t ld);
void cnn_cpu_col2im_serial(const cnn_cpu_conv_shape *sh, const float *col,
                           int64_t ld, int64_t g, int64_t j0, int64_t j1,
                           float *dx);

/* gather copies channels [k0, k0 + kn) of the images in columns [j0, j1)
 * of an n x channels x (p q) tensor into rows of `out` (row stride ld);
 * scatter copies such rows back into the tensor, adding `bias` per channel
 * when it is not NULL. */
void cnn_cpu_conv_gather(int device, const float *t, int64_t channels,
                         int64_t pq, int64_t k0, int64_t kn, int64_t j0,
                         int64_t j1, float *out, int64_t ld);
void cnn_cpu_conv_scatter(int device, const float *rows, int64_t ld,
                          int64_t channels, int64_t pq, int64_t k0,
                          int64_t kn, int64_t j0, int64_t j1,
                          const float *bias, float *t);

/* Operands of our GEMM read straight from the tensors (conv_pack.c). The
 * unfold operands read the input as conv_own.c prepares it: zero-padded,
 * `height` rows of `row` floats per plane, and each row split into
 * stride_w phases of `phase` floats (phase f holds the padded row's
 * columns f, f + stride_w, ...), so that output pixels side by side read
 * floats side by side. It may hold a range of the channels: `channels`
 * planes per image, the first being channel `first` of the layer. The
 * operand's column j is output pixel pixel0 + j of the images in x. */
typedef struct cnn_cpu_unfold {
    const cnn_cpu_conv_shape *sh; /* the layer */
    const float *x;               /* the prepared input */
    int64_t g;                    /* group */
    int64_t height, row, phase;
    int64_t channels, first;
    int64_t pixel0;
} cnn_cpu_unfold;
typedef struct cnn_cpu_planes {
    const float *t; /* [n, channels, pq] */
    int64_t channels, pq, ch0;
} cnn_cpu_planes;
/* B = the unfolded input of group g: rows of op(B) are kernel positions
 * (k), its columns output pixels across the batch. */
cnn_cpu_operand cnn_cpu_operand_unfold(const cnn_cpu_unfold *u);
/* B = its transpose: k runs over output pixels. */
cnn_cpu_operand cnn_cpu_operand_unfold_t(const cnn_cpu_unfold *u);
/* A = channels ch0 ... of t as rows, pixels across the batch as k. */
cnn_cpu_operand cnn_cpu_operand_planes(const cnn_cpu_planes *pl);

/* out[0, n) = x[0, n) for the short runs of unfolding (tens of floats):
 * fixed-size moves, which compile to vector loads and stores, where a
 * plain loop would become a call to memcpy that costs more than the copy. */
static inline void cnn_cpu_copy_run(float *restrict out,
                                    const float *restrict x, int64_t n)
{
    int64_t t = 0;
    for (; t + 8 <= n; t += 8)
        memcpy(out + t, x + t, 8 * sizeof *out);
    if (n - t >= 4) {
        memcpy(out + t, x + t, 4 * sizeof *out);
        t += 4;
    }
    if (n - t >= 2) {
        memcpy(out + t, x + t, 2 * sizeof *out);
        t += 2;
    }
    if (t < n)
        out[t] = x[t];
}

#endif /* CNN_CPU_CONV_H */
