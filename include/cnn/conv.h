/* cnn/conv.h - 2-d convolution, forward and backward.
 *
 * Semantics follow torch.nn.functional.conv2d: cross-correlation, NCHW.
 *   x [N, C, H, W], w [K, C/groups, R, S], b [K] (optional), y [N, K, P, Q]
 *   P = (H + 2 pad_h - dilation_h (R - 1) - 1) / stride_h + 1 (floor)
 * All F32 on one device. The asynchrony and thread-safety notes of ops.h
 * apply.
 */
#ifndef CNN_CONV_H
#define CNN_CONV_H

#include <stdint.h>

#include "export.h"
#include "status.h"
#include "tensor.h"

CNN_BEGIN_DECLS

typedef struct cnn_conv2d_params {
    int64_t stride_h, stride_w;     /* >= 1 */
    int64_t pad_h, pad_w;           /* >= 0, zero padding on both sides */
    int64_t dilation_h, dilation_w; /* >= 1 */
    int64_t groups;                 /* >= 1, divides C and K */
} cnn_conv2d_params;

/* Stride 1, no padding, dilation 1, one group. */
CNN_API cnn_conv2d_params cnn_conv2d_params_default(void);

/* The output shape [N, K, P, Q] for input dims x_dims and weight dims
 * w_dims. CNN_ERR_INVALID_ARGUMENT for bad params, CNN_ERR_SHAPE when the
 * shapes do not fit (channels, groups, a kernel larger than the padded
 * input). */
CNN_API cnn_status cnn_conv2d_output_shape(const int64_t x_dims[4],
                                           const int64_t w_dims[4],
                                           const cnn_conv2d_params *p,
                                           int64_t y_dims[4]);

/* y = conv(x, w) + b. b may be NULL. y must have the output shape and
 * must not share memory with x, w or b (CNN_ERR_INVALID_ARGUMENT). */
CNN_API cnn_status cnn_conv2d_forward(cnn_tensor *y, const cnn_tensor *x,
                                      const cnn_tensor *w,
                                      const cnn_tensor *b,
                                      const cnn_conv2d_params *p);

/* Gradients of conv2d_forward given dy [N, K, P, Q]:
 *   dx (overwritten) = d loss / d x      (NULL: not computed)
 *   dw (accumulated) += d loss / d w     (NULL: not computed)
 *   db (accumulated) += sum of dy over N, P, Q  (NULL: not computed)
 * x is needed for dw, w for dx; either may be NULL when its gradient is
 * not asked for. No output shares memory with another argument. */
CNN_API cnn_status cnn_conv2d_backward(cnn_tensor *dx, cnn_tensor *dw,
                                       cnn_tensor *db, const cnn_tensor *dy,
                                       const cnn_tensor *x,
                                       const cnn_tensor *w,
                                       const cnn_conv2d_params *p);

CNN_END_DECLS

#endif /* CNN_CONV_H */
