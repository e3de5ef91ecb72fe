/* cnn/ops.h - the ops, one call each, on tensors of one device.
 *
 * Every op checks its arguments (NULL tensors, dtypes, shapes, devices) and
 * returns a status with a message in cnn_last_error(); then it runs on the
 * backend of the tensors' device with that device's engine (cnn_set_engine).
 * Outputs are written in full; inputs are borrowed for the call.
 *
 * Aliasing, in every op header: an output must not share memory with any
 * other argument (CNN_ERR_INVALID_ARGUMENT), except where a call says "y
 * may be x": then y may be x itself (the same memory, e.g. the same tensor
 * or a reshape of it), and still not overlap it in part.
 *
 * Asynchrony: on a CUDA device an op is queued on the device's stream and
 * returns before it runs; read a result with cnn_tensor_read, which waits.
 * CPU ops are synchronous.
 *
 * Thread safety: ops on distinct tensors may be called from distinct
 * threads; calls on one device are serialised inside the library.
 */
#ifndef CNN_OPS_H
#define CNN_OPS_H

#include "device.h"
#include "export.h"
#include "status.h"
#include "tensor.h"

CNN_BEGIN_DECLS

/* Every op a backend implements, in one list that tests and benchmarks
 * iterate (cnn_op_count, cnn_op_name). Values may be added between
 * releases; iterate rather than hard-code them. */
typedef enum cnn_op {
    CNN_OP_FILL = 0,            /* cnn_tensor_fill                  */
    CNN_OP_UNIFORM,             /* cnn_tensor_uniform               */
    CNN_OP_NORMAL,              /* cnn_tensor_normal                */
    CNN_OP_ADD,                 /* cnn_add                          */
    CNN_OP_SCALE,               /* cnn_scale                        */
    CNN_OP_RELU_FWD,            /* cnn_relu_forward                 */
    CNN_OP_RELU_BWD,            /* cnn_relu_backward                */
    CNN_OP_CONV2D_FWD,          /* cnn_conv2d_forward (conv.h)      */
    CNN_OP_CONV2D_BWD_DATA,     /* cnn_conv2d_backward: dx          */
    CNN_OP_CONV2D_BWD_FILTER,   /* cnn_conv2d_backward: dw          */
    CNN_OP_CONV2D_BWD_BIAS,     /* cnn_conv2d_backward: db          */
    CNN_OP_POOL2D_FWD,          /* cnn_pool2d_forward (pool.h)      */
    CNN_OP_POOL2D_BWD,          /* cnn_pool2d_backward              */
    CNN_OP_GLOBAL_AVGPOOL_FWD,  /* cnn_global_avgpool_forward       */
    CNN_OP_GLOBAL_AVGPOOL_BWD,  /* cnn_global_avgpool_backward      */
    CNN_OP_BATCHNORM2D_FWD,     /* cnn_batchnorm2d_forward (norm.h) */
    CNN_OP_BATCHNORM2D_BWD,     /* cnn_batchnorm2d_backward         */
    CNN_OP_LRN_FWD,             /* cnn_lrn_forward                  */
    CNN_OP_LRN_BWD,             /* cnn_lrn_backward                 */
    CNN_OP_LINEAR_FWD,          /* cnn_linear_forward (dense.h)     */
    CNN_OP_LINEAR_BWD_DATA,     /* cnn_linear_backward: dx          */
    CNN_OP_LINEAR_BWD_WEIGHT,   /* cnn_linear_backward: dw          */
    CNN_OP_LINEAR_BWD_BIAS,     /* cnn_linear_backward: db          */
    CNN_OP_DROPOUT_FWD,         /* cnn_dropout_forward              */
    CNN_OP_DROPOUT_BWD,         /* cnn_dropout_backward             */
    CNN_OP_SOFTMAX_XENT,        /* cnn_softmax_cross_entropy        */
    CNN_OP_CONCAT,              /* cnn_concat                       */
    CNN_OP_SPLIT,               /* cnn_split                        */
    CNN_OP_SGD_STEP,            /* cnn_sgd_step (optim.h)           */
    CNN_OP_COUNT
} cnn_op;

/* CNN_OP_COUNT. */
CNN_API int cnn_op_count(void);
/* Lower-case name ("relu_fwd"); "unknown" outside the enum. Static. */
CNN_API const char *cnn_op_name(cnn_op op);

/* out = a + b, elementwise (the residual connection). F32 tensors of one
 * shape on one device; out may be a or b. */
CNN_API cnn_status cnn_add(cnn_tensor *out, const cnn_tensor *a,
                           const cnn_tensor *b);

/* out = alpha * x, elementwise. F32, same shape; out may be x. */
CNN_API cnn_status cnn_scale(cnn_tensor *out, const cnn_tensor *x,
                             float alpha);

/* y = max(x, 0), elementwise. F32, same shape; y may be x. NaN stays NaN. */
CNN_API cnn_status cnn_relu_forward(cnn_tensor *y, const cnn_tensor *x);

/* dx = dy where y > 0, else 0; `y` is the forward output. F32, same
 * shapes; dx may be dy. Overwrites dx. */
CNN_API cnn_status cnn_relu_backward(cnn_tensor *dx, const cnn_tensor *dy,
                                     const cnn_tensor *y);

CNN_END_DECLS

#endif /* CNN_OPS_H */
