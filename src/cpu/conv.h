/* src/cpu/conv.h - what the CPU convolution files share: the layer's
 * sizes in one struct, the reference loops (conv_ref.c), the GEMM-based
 * fast path (conv_gemm.c) and its im2col/col2im (conv_im2col.c). */
#ifndef CNN_CPU_CONV_H
#define CNN_CPU_CONV_H

#include <stdint.h>

#include "cnn/conv.h"
#include "cpu.h"

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

/* The fast path: unfolded input times weights, in chunks of columns. */
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
 * into col (row stride ld), zero where the window reads padding. col2im
 * adds such a block back into dx. Both run on the device's threads. */
void cnn_cpu_im2col(int device, const cnn_cpu_conv_shape *sh, const float *x,
                    int64_t g, int64_t j0, int64_t j1, float *col, int64_t ld);
void cnn_cpu_col2im(int device, const cnn_cpu_conv_shape *sh,
                    const float *col, int64_t ld, int64_t g, int64_t j0,
                    int64_t j1, float *dx);

/* Copies channels [k0, k0 + kn) of the images in columns [j0, j1) of an
 * n x channels x (p q) tensor into rows of `out` (row stride ld), or back
 * (to_tensor: out holds the rows, t is written; `bias`, when not NULL, is
 * added per channel). */
void cnn_cpu_conv_gather(int device, const float *t, int64_t channels,
                         int64_t pq, int64_t k0, int64_t kn, int64_t j0,
                         int64_t j1, float *out, int64_t ld);
void cnn_cpu_conv_scatter(int device, const float *rows, int64_t ld,
                          int64_t channels, int64_t pq, int64_t k0,
                          int64_t kn, int64_t j0, int64_t j1,
                          const float *bias, float *t);

#endif /* CNN_CPU_CONV_H */
