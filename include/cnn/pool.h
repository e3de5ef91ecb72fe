/* cnn/pool.h - max and average pooling, and global average pooling.
 *
 * Semantics follow torch.nn.functional.max_pool2d / avg_pool2d with
 * ceil_mode=False: floor mode only; padding at most half the kernel; average
 * pooling counts the padding (count_include_pad=True); max pooling takes the
 * first maximum in row-major order within the window, and a NaN in a window
 * makes its output NaN. x [N, C, H, W] -> y [N, C, P, Q], F32, one device.
 * Outputs must not share memory with inputs (CNN_ERR_INVALID_ARGUMENT).
 */
#ifndef CNN_POOL_H
#define CNN_POOL_H

#include <stdint.h>

#include "export.h"
#include "status.h"
#include "tensor.h"

CNN_BEGIN_DECLS

typedef enum cnn_pool_mode {
    CNN_POOL_MAX = 0,
    CNN_POOL_AVG
} cnn_pool_mode;

typedef struct cnn_pool2d_params {
    cnn_pool_mode mode;
    int64_t kernel_h, kernel_w; /* >= 1 */
    int64_t stride_h, stride_w; /* >= 1 */
    int64_t pad_h, pad_w;       /* 0 .. kernel / 2 */
} cnn_pool2d_params;

/* The output shape [N, C, P, Q] for input dims x_dims. */
CNN_API cnn_status cnn_pool2d_output_shape(const int64_t x_dims[4],
                                           const cnn_pool2d_params *p,
                                           int64_t y_dims[4]);

CNN_API cnn_status cnn_pool2d_forward(cnn_tensor *y, const cnn_tensor *x,
                                      const cnn_pool2d_params *p);

/* dx (overwritten) from dy; x and y are the forward's input and output.
 * Max pooling finds each window's winner again in x (the first maximum in
 * row-major order; in a window with NaNs, the last NaN, as PyTorch picks
 * it), so x is required and y may be NULL; average pooling needs neither,
 * and both may be NULL for it. */
CNN_API cnn_status cnn_pool2d_backward(cnn_tensor *dx, const cnn_tensor *dy,
                                       const cnn_tensor *x,
                                       const cnn_tensor *y,
                                       const cnn_pool2d_params *p);

/* y [N, C, 1, 1] = mean of x [N, C, H, W] over H and W. */
CNN_API cnn_status cnn_global_avgpool_forward(cnn_tensor *y,
                                              const cnn_tensor *x);
/* dx [N, C, H, W] (overwritten) = dy / (H W), broadcast. */
CNN_API cnn_status cnn_global_avgpool_backward(cnn_tensor *dx,
                                               const cnn_tensor *dy);

CNN_END_DECLS

#endif /* CNN_POOL_H */
