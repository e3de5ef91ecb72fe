/* src/concat.c - checks and dispatch of channel concat and split.
 *
 * CONCAT: out[0] = the joined tensor, params.parts = the inputs;
 * SPLIT: in[0] = the joined tensor, params.parts = the outputs; both with
 * a cnn_concat_params. Any dtype (the op moves bytes), the same for every
 * tensor of a call; any rank >= 2, dimension 1 being the one joined. No
 * part may share memory with the joined tensor, nor (split) with another
 * part. */
#include <stdbool.h>
#include <stdio.h>

#include "check.h"

static bool overlap(const cnn_tensor *a, const cnn_tensor *b)
{
    const char *pa = a->data, *pb = b->data;
    return pa < pb + b->bytes && pb < pa + a->bytes;
}

/* Checks the joined tensor `whole` and the `count` parts, which are called
 * `parts_name`[i] in messages. */
static cnn_status check(const char *caller, const char *whole_name,
                        const cnn_tensor *whole, const char *parts_name,
                        const cnn_tensor *const *parts, int count,
                        bool parts_written)
{
    if (!whole)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT, "%s: %s is NULL", caller,
                         whole_name);
    if (whole->ndim < 2) {
        char shape[128];
        cnn_shape_text(whole, shape, sizeof shape);
        return cnn_error(CNN_ERR_SHAPE,
                         "%s: %s has shape %s but needs at least 2 "
                         "dimensions (channels are dimension 1)",
                         caller, whole_name, shape);
    }
    if (!parts)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT, "%s: %s is NULL", caller,
                         parts_name);
    if (count < 1)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                         "%s: count must be >= 1 (got %d)", caller, count);
    int64_t channels = 0;
    for (int i = 0; i < count; ++i) {
        char name[64];
        snprintf(name, sizeof name, "%s[%d]", parts_name, i);
        const cnn_tensor *t = parts[i];
        cnn_status s;
        if ((s = cnn_check_tensor(caller, name, t, whole->dtype,
                                  whole->ndim)) != CNN_OK ||
            (s = cnn_check_device(caller, name, t, whole_name, whole)) !=
                CNN_OK)
            return s;
        for (int d = 0; d < whole->ndim; ++d) {
            if (d == 1 || t->dims[d] == whole->dims[d])
                continue;
            char a[128], b[128];
            cnn_shape_text(t, a, sizeof a);
            cnn_shape_text(whole, b, sizeof b);
            return cnn_error(CNN_ERR_SHAPE,
                             "%s: %s has shape %s but %s has %s; only "
                             "dimension 1 may differ",
                             caller, name, a, whole_name, b);
        }
        channels += t->dims[1];
        if (channels > whole->dims[1])
            break; /* reported below; stop before the sum can overflow */
    }
    if (channels != whole->dims[1]) {
        bool more = channels > whole->dims[1];
        return cnn_error(CNN_ERR_SHAPE,
                         "%s: %s has %lld channels but %s have %s%lld in all",
                         caller, whole_name, (long long)whole->dims[1],
                         parts_name, more ? "more than " : "",
                         (long long)(more ? whole->dims[1] : channels));
    }
    for (int i = 0; i < count; ++i) {
        bool bad = overlap(parts[i], whole);
        for (int j = 0; parts_written && !bad && j < i; ++j)
            bad = overlap(parts[i], parts[j]);
        if (bad)
            return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                             "%s: %s[%d] shares memory with %s%s", caller,
                             parts_name, i, whole_name,
                             parts_written ? " or another output" : "");
    }
    return CNN_OK;
}

cnn_status cnn_concat(cnn_tensor *out, const cnn_tensor *const *inputs,
                      int count)
{
    static const char caller[] = "cnn_concat";
    cnn_status s = check(caller, "out", out, "inputs", inputs, count, false);
    if (s != CNN_OK)
        return s;
    /* The backend only reads the inputs; the params type is shared with
     * split, whose parts are written. */
    cnn_concat_params params = {.parts = (cnn_tensor *const *)inputs,
                                .count = count};
    cnn_op_args args = {.op = CNN_OP_CONCAT, .out = {out}, .params = &params};
    return cnn_dispatch(caller, out->device, &args);
}

cnn_status cnn_split(cnn_tensor *const *outputs, int count,
                     const cnn_tensor *in)
{
    static const char caller[] = "cnn_split";
    cnn_status s = check(caller, "in", in, "outputs",
                         (const cnn_tensor *const *)outputs, count, true);
    if (s != CNN_OK)
        return s;
    cnn_concat_params params = {.parts = outputs, .count = count};
    cnn_op_args args = {.op = CNN_OP_SPLIT, .in = {in}, .params = &params};
    return cnn_dispatch(caller, in->device, &args);
}
