/* src/cpu/concat.c - channel concat and split on the CPU.
 *
 * In bytes, the joined tensor is dims[0] rows of the parts' slices side
 * by side, part i contributing its dims[1] * (product of the dimensions
 * after 1) * element size bytes to each row. Both ops copy those
 * slices, concat towards the joined tensor and split away from it. The
 * native engine splits the joined tensor's bytes evenly over the threads,
 * whatever the parts' sizes; the reference copies slice by slice. */
#include <stdbool.h>
#include <string.h>

#include "cpu.h"

typedef struct concat_ctx {
    char *whole;
    cnn_tensor *const *parts;
    int count;
    int64_t row_bytes; /* of the joined tensor */
    int64_t inner;     /* bytes per channel: elements after dim 1 * size */
    bool to_whole;     /* concat: parts -> whole; split: whole -> parts */
} concat_ctx;

static void copy_bytes(const concat_ctx *c, char *whole, char *part,
                       int64_t bytes)
{
    if (c->to_whole)
        memcpy(whole, part, (size_t)bytes);
    else
        memcpy(part, whole, (size_t)bytes);
}

/* Copies bytes [begin, end) of the joined tensor to or from the parts. */
static void concat_range(int64_t begin, int64_t end, void *arg)
{
    const concat_ctx *c = arg;
    int64_t row = begin / c->row_bytes, offset = begin % c->row_bytes;
    int part = 0;
    int64_t part_start = 0; /* offset of part's slice within a row */
    while (begin < end) {
        int64_t slice = c->parts[part]->dims[1] * c->inner;
        if (offset >= part_start + slice) { /* not in this part's slice */
            part_start += slice;
            if (++part == c->count) {
                part = 0;
                part_start = 0;
                offset = 0;
                ++row;
            }
            continue;
        }
        int64_t within = offset - part_start;
        int64_t bytes = slice - within;
        if (bytes > end - begin)
            bytes = end - begin;
        copy_bytes(c, c->whole + begin,
                   (char *)c->parts[part]->data + row * slice + within,
                   bytes);
        begin += bytes;
        offset += bytes;
    }
}

static void concat_reference(const concat_ctx *c, int64_t rows)
{
    char *whole = c->whole;
    for (int64_t row = 0; row < rows; ++row)
        for (int i = 0; i < c->count; ++i) {
            int64_t slice = c->parts[i]->dims[1] * c->inner;
            copy_bytes(c, whole, (char *)c->parts[i]->data + row * slice,
                       slice);
            whole += slice;
        }
}

static cnn_status concat_run(const cnn_op_args *args, bool to_whole)
{
    const cnn_concat_params *p = args->params;
    const cnn_tensor *whole = to_whole ? args->out[0] : args->in[0];
    int64_t inner = (int64_t)(whole->bytes / (size_t)whole->numel);
    for (int d = 2; d < whole->ndim; ++d)
        inner *= whole->dims[d];
    concat_ctx c = {
        .whole = whole->data,
        .parts = p->parts,
        .count = p->count,
        .row_bytes = whole->dims[1] * inner,
        .inner = inner,
        .to_whole = to_whole,
    };
    if (args->engine == CNN_ENGINE_REFERENCE)
        concat_reference(&c, whole->dims[0]);
    else /* a memcpy of 256 kB per thread is worth a thread team */
        cnn_cpu_parallel_for(args->device, (int64_t)whole->bytes, 64,
                             1 << 18, concat_range, &c);
    return CNN_OK;
}

static cnn_status concat(const cnn_op_args *args)
{
    return concat_run(args, true);
}

static cnn_status split(const cnn_op_args *args)
{
    return concat_run(args, false);
}

void cnn_cpu_register_concat(cnn_op_fn *ops)
{
    ops[CNN_OP_CONCAT] = concat;
    ops[CNN_OP_SPLIT] = split;
}
