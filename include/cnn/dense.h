/* cnn/dense.h - fully connected layers, dropout, softmax cross-entropy
 * and channel concat/split.
 *
 * Semantics follow torch.nn.functional: linear (w is [out, in]), dropout
 * (inverted: kept values are scaled by 1 / (1 - p)), cross_entropy with
 * mean reduction. F32 unless said; one device per call.
 */
#ifndef CNN_DENSE_H
#define CNN_DENSE_H

#include <stdint.h>

#include "export.h"
#include "status.h"
#include "tensor.h"

CNN_BEGIN_DECLS

/* y [N, out] = x [N, in] w^T + b; w [out, in], b [out] or NULL. A 4-d
 * activation is flattened first with cnn_tensor_reshape. y must not share
 * memory with x, w or b (CNN_ERR_INVALID_ARGUMENT). */
CNN_API cnn_status cnn_linear_forward(cnn_tensor *y, const cnn_tensor *x,
                                      const cnn_tensor *w,
                                      const cnn_tensor *b);

/* dx (overwritten), dw and db (accumulated); each may be NULL, and x (for
 * dw) or w (for dx) may be NULL when not needed. No output shares memory
 * with another argument. */
CNN_API cnn_status cnn_linear_backward(cnn_tensor *dx, cnn_tensor *dw,
                                       cnn_tensor *db, const cnn_tensor *dy,
                                       const cnn_tensor *x,
                                       const cnn_tensor *w);

/* Which mask: Philox keyed by seed, counted by (step, node, element), so
 * the forward and backward of one step agree, and every device gives the
 * same mask (docs/random.md). */
typedef struct cnn_dropout_params {
    float p;       /* drop probability, 0 <= p < 1 */
    uint64_t seed;
    uint64_t step; /* training step */
    uint32_t node; /* which dropout in the network (< 2^24) */
} cnn_dropout_params;

/* y = x * mask / (1 - p); y may be x. */
CNN_API cnn_status cnn_dropout_forward(cnn_tensor *y, const cnn_tensor *x,
                                       const cnn_dropout_params *p);
/* dx = dy * mask / (1 - p), the same mask as the forward; dx may be dy. */
CNN_API cnn_status cnn_dropout_backward(cnn_tensor *dx, const cnn_tensor *dy,
                                        const cnn_dropout_params *p);

/* loss [1] = mean over the batch of -log softmax(logits)[label];
 * dlogits [N, C] (overwritten, may be NULL) = (softmax - onehot) / N;
 * dlogits may be logits, and no other output shares memory with another
 * argument.
 * logits [N, C] F32; labels [N] I32 in [0, C): a label out of range is
 * CNN_ERR_INVALID_ARGUMENT (the inputs are read before anything is
 * written). */
CNN_API cnn_status cnn_softmax_cross_entropy(cnn_tensor *loss,
                                             cnn_tensor *dlogits,
                                             const cnn_tensor *logits,
                                             const cnn_tensor *labels);

/* out = the inputs side by side along dimension 1 (channels). All have
 * the same rank (>= 2) and the same sizes in every other dimension. */
CNN_API cnn_status cnn_concat(cnn_tensor *out, const cnn_tensor *const *inputs,
                              int count);
/* The inverse: outputs[i] receive consecutive channel ranges of in. */
CNN_API cnn_status cnn_split(cnn_tensor *const *outputs, int count,
                             const cnn_tensor *in);

CNN_END_DECLS

#endif /* CNN_DENSE_H */
