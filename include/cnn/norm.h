/* cnn/norm.h - batch normalisation and local response normalisation.
 *
 * Semantics follow torch.nn.functional.batch_norm and
 * local_response_norm. F32 tensors on one device; x [N, C, H, W].
 */
#ifndef CNN_NORM_H
#define CNN_NORM_H

#include <stdint.h>

#include "export.h"
#include "status.h"
#include "tensor.h"

CNN_BEGIN_DECLS

typedef struct cnn_batchnorm2d_params {
    int training;   /* 1: batch statistics; 0: running statistics */
    float momentum; /* running = (1 - momentum) running + momentum batch;
                       0 .. 1 */
    float eps;      /* added to the variance, > 0 */
} cnn_batchnorm2d_params;

/* Training: normalises each channel with the batch's mean and biased
 * variance, updates running_mean and running_var (with the unbiased
 * variance, as PyTorch does), and writes save_mean and save_invstd
 * (1 / sqrt(var + eps)) for the backward pass; one value per channel
 * (N H W == 1) is CNN_ERR_SHAPE. Inference: uses running_mean and
 * running_var and updates nothing; save_mean and save_invstd, when given,
 * receive the running mean and 1 / sqrt(running_var + eps).
 * gamma, beta, running_mean, running_var, save_mean, save_invstd: [C].
 * save_mean and save_invstd may be NULL in inference. No output (y, the
 * running and saved statistics) shares memory with another argument
 * (CNN_ERR_INVALID_ARGUMENT). */
CNN_API cnn_status cnn_batchnorm2d_forward(
    cnn_tensor *y, const cnn_tensor *x, const cnn_tensor *gamma,
    const cnn_tensor *beta, cnn_tensor *running_mean, cnn_tensor *running_var,
    cnn_tensor *save_mean, cnn_tensor *save_invstd,
    const cnn_batchnorm2d_params *p);

/* Gradients given dy, with save_mean and save_invstd from the forward (in
 * the same mode): dx (overwritten), dgamma and dbeta (accumulated). Any of
 * the three may be NULL; none shares memory with another argument. */
CNN_API cnn_status cnn_batchnorm2d_backward(
    cnn_tensor *dx, cnn_tensor *dgamma, cnn_tensor *dbeta,
    const cnn_tensor *dy, const cnn_tensor *x, const cnn_tensor *gamma,
    const cnn_tensor *save_mean, const cnn_tensor *save_invstd,
    const cnn_batchnorm2d_params *p);

typedef struct cnn_lrn_params {
    int64_t size;  /* window across channels, >= 1 */
    float alpha;   /* PyTorch's convention: divided by size */
    float beta;
    float k;
    int64_t groups; /* normalise within each of `groups` channel groups
                       (AlexNet's two towers: 2); >= 1, divides C */
} cnn_lrn_params;

/* y_c = x_c / (k + alpha / size * sum_{c' in window(c)} x_c'^2) ^ beta,
 * the window being channels c - size/2 .. c + (size-1)/2 of c's group (as
 * PyTorch pads it), clipped to the group. */
CNN_API cnn_status cnn_lrn_forward(cnn_tensor *y, const cnn_tensor *x,
                                   const cnn_lrn_params *p);
/* dx (overwritten) given dy, the forward's x and y. y may be NULL: the
 * backward recomputes what it needs from x. Outputs must not share memory
 * with inputs (CNN_ERR_INVALID_ARGUMENT), here and in the forward. */
CNN_API cnn_status cnn_lrn_backward(cnn_tensor *dx, const cnn_tensor *dy,
                                    const cnn_tensor *x, const cnn_tensor *y,
                                    const cnn_lrn_params *p);

CNN_END_DECLS

#endif /* CNN_NORM_H */
