/* src/loss.c - checks and dispatch of the softmax cross-entropy loss.
 *
 * SOFTMAX_XENT: in[0] = logits [N, C], in[1] = labels [N] (I32);
 * out[0] = loss [1], out[1] = dlogits [N, C] or NULL; no params.
 * The label values live in device memory, so the backend checks them (all
 * of them, before it writes anything) and reports the first bad one.
 * dlogits may be logits exactly (each row is read in full before it is
 * written); no other output may share memory with another operand
 * (cnn_check_operands). */
#include <stdbool.h>

#include "check.h"

cnn_status cnn_softmax_cross_entropy(cnn_tensor *loss, cnn_tensor *dlogits,
                                     const cnn_tensor *logits,
                                     const cnn_tensor *labels)
{
    static const char caller[] = "cnn_softmax_cross_entropy";
    static const int64_t scalar[1] = {1};
    const cnn_tensor *x = logits;
    cnn_status s;
    if ((s = cnn_check_tensor(caller, "logits", x, CNN_F32, 2)) ||
        (s = cnn_check_tensor(caller, "labels", labels, CNN_I32, 1)) ||
        (s = cnn_check_device(caller, "labels", labels, "logits", x)) ||
        (s = cnn_check_dims(caller, "labels", labels, 1, x->dims)) ||
        (s = cnn_check_tensor(caller, "loss", loss, CNN_F32, 1)) ||
        (s = cnn_check_device(caller, "loss", loss, "logits", x)) ||
        (s = cnn_check_dims(caller, "loss", loss, 1, scalar)))
        return s;
    if (dlogits &&
        ((s = cnn_check_tensor(caller, "dlogits", dlogits, CNN_F32, 2)) ||
         (s = cnn_check_like(caller, "dlogits", dlogits, "logits", x))))
        return s;
    const cnn_operand ops[] = {{"loss", loss, true, NULL},
                               {"dlogits", dlogits, true, "logits"},
                               {"logits", logits, false, NULL},
                               {"labels", labels, false, NULL}};
    if ((s = cnn_check_operands(caller, ops, 4)) != CNN_OK)
        return s;
    cnn_op_args args = {.op = CNN_OP_SOFTMAX_XENT, .out = {loss, dlogits},
                        .in = {logits, labels}};
    return cnn_dispatch(caller, logits->device, &args);
}
