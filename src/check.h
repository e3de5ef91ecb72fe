/* src/check.h - argument checks shared by the core's op files. Each
 * records a message that starts with the public call's name and names the
 * argument at fault, and returns its status (CNN_OK when all is well). */
#ifndef CNN_CHECK_H
#define CNN_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core.h"

/* Writes "[2x3x5]" into buf. */
void cnn_dims_text(int ndim, const int64_t *dims, char *buf, size_t size);
void cnn_shape_text(const cnn_tensor *t, char *buf, size_t size);

/* t is not NULL, has `dtype`, and has `ndim` dimensions (ndim < 0: any). */
cnn_status cnn_check_tensor(const char *caller, const char *name,
                            const cnn_tensor *t, cnn_dtype dtype, int ndim);

/* t is on the same device as ref. */
cnn_status cnn_check_device(const char *caller, const char *name,
                            const cnn_tensor *t, const char *ref_name,
                            const cnn_tensor *ref);

/* t has exactly the shape of ref (and lives on its device). */
cnn_status cnn_check_like(const char *caller, const char *name,
                          const cnn_tensor *t, const char *ref_name,
                          const cnn_tensor *ref);

/* t has exactly the shape dims[0..ndim). */
cnn_status cnn_check_dims(const char *caller, const char *name,
                          const cnn_tensor *t, int ndim, const int64_t *dims);

/* t is an F32 tensor of `ndim` dimensions, on ref's device when ref is not
 * NULL. */
cnn_status cnn_check_f32(const char *caller, const char *name,
                         const cnn_tensor *t, int ndim, const char *ref_name,
                         const cnn_tensor *ref);

/* t is an F32 vector [size] on ref's device (a bias, a per-channel
 * statistic). */
cnn_status cnn_check_vector(const char *caller, const char *name,
                            const cnn_tensor *t, int64_t size,
                            const char *ref_name, const cnn_tensor *ref);

/* The operands of a layer's backward pass (conv2d, linear): dy is an
 * `ndim`-d F32 tensor; x is given when dw is asked for and w when dx is;
 * every tensor given is `ndim`-d F32 on dy's device, dx shaped like x, dw
 * like w, and db a vector of dy's channels. The layer checks the rest. */
cnn_status cnn_check_gradients(const char *caller, int ndim,
                               const cnn_tensor *dx, const cnn_tensor *dw,
                               const cnn_tensor *db, const cnn_tensor *dy,
                               const cnn_tensor *x, const cnn_tensor *w);

/* out and in do not share memory (either may be NULL): for ops whose
 * backends read inputs after writing parts of the outputs. */
cnn_status cnn_check_apart(const char *caller, const char *out_name,
                           const cnn_tensor *out, const char *in_name,
                           const cnn_tensor *in);

/* One tensor argument of an op, for cnn_check_operands. */
typedef struct cnn_operand {
    const char *name;       /* as the public header names it */
    const cnn_tensor *t;    /* NULL: not given (skipped) */
    bool written;           /* an output of the call */
    const char *may_be;     /* the operands this output may be exactly (the
                               in-place uses its header documents; names
                               separated by spaces), or NULL */
} cnn_operand;

/* The aliasing rule of every public call that writes tensors: no output
 * shares memory with another operand (input or output), except that an
 * output may be, exactly, the operand its `may_be` names (same memory and
 * size: in place where the header says so). A partial overlap is never
 * allowed. CNN_ERR_INVALID_ARGUMENT with a message naming both. */
cnn_status cnn_check_operands(const char *caller, const cnn_operand *ops,
                              int count);

#endif /* CNN_CHECK_H */
