/* cnn/optim.h - the SGD step, matching torch.optim.SGD (dampening 0).
 * Asynchrony and thread safety as in ops.h. */
#ifndef CNN_OPTIM_H
#define CNN_OPTIM_H

#include "export.h"
#include "status.h"
#include "tensor.h"

CNN_BEGIN_DECLS

typedef struct cnn_sgd_params {
    float lr;           /* > 0 */
    float momentum;     /* >= 0 */
    float weight_decay; /* >= 0 */
    int nesterov;       /* needs momentum > 0 */
} cnn_sgd_params;

/* One step on one parameter tensor, as torch.optim.SGD does it:
 *   d = grad + weight_decay * param
 *   buf = momentum * buf + d              (buf starts as zeros)
 *   d = nesterov ? d + momentum * buf : buf   (when momentum > 0)
 *   param -= lr * d
 * momentum_buf has param's shape; it may be NULL when momentum is 0.
 * param, grad and momentum_buf must not share memory. */
CNN_API cnn_status cnn_sgd_step(cnn_tensor *param, const cnn_tensor *grad,
                                cnn_tensor *momentum_buf,
                                const cnn_sgd_params *p);

CNN_END_DECLS

#endif /* CNN_OPTIM_H */
