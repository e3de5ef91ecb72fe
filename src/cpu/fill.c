/* src/cpu/fill.c - constant fill and the seeded uniform and normal inits on
 * the CPU. Element i of an init depends only on (seed, i) (src/philox.h), so
 * any split over threads gives the same tensor. */
#include <string.h>

#include "../philox.h"
#include "cpu.h"

typedef struct fill_ctx {
    unsigned char *data;
    size_t size; /* bytes per element */
    uint64_t pattern;
    const cnn_random_params *random;
} fill_ctx;

static void fill_range(int64_t begin, int64_t end, void *p)
{
    fill_ctx *c = p;
    unsigned char bytes[8] = {0};
    for (size_t k = 0; k < c->size; ++k) /* little-endian element bytes */
        bytes[k] = (unsigned char)(c->pattern >> (8 * k));
    bool uniform = true;
    for (size_t k = 1; k < c->size; ++k)
        uniform = uniform && bytes[k] == bytes[0];
    unsigned char *dst = c->data + (size_t)begin * c->size;
    size_t count = (size_t)(end - begin);
    if (uniform) {
        memset(dst, bytes[0], count * c->size);
        return;
    }
    for (size_t i = 0; i < count; ++i)
        memcpy(dst + i * c->size, bytes, c->size);
}

cnn_status cnn_cpu_fill(const cnn_op_args *args)
{
    const cnn_fill_params *params = args->params;
    cnn_tensor *t = args->out[0];
    fill_ctx ctx = {.data = t->data, .size = t->bytes / (size_t)t->numel,
                    .pattern = params->pattern};
    cnn_cpu_parallel_for(args->device, t->numel, 64, 1 << 14, fill_range,
                         &ctx);
    return CNN_OK;
}

static void uniform_range(int64_t begin, int64_t end, void *p)
{
    fill_ctx *c = p;
    float *out = (float *)c->data;
    for (int64_t i = begin; i < end; ++i)
        out[i] = cnn_philox_uniform(c->random->seed, (uint64_t)i, c->random->a,
                                    c->random->b);
}

static void normal_range(int64_t begin, int64_t end, void *p)
{
    fill_ctx *c = p;
    float *out = (float *)c->data;
    for (int64_t i = begin; i < end; ++i)
        out[i] = cnn_philox_normal(c->random->seed, (uint64_t)i, c->random->a,
                                   c->random->b);
}

cnn_status cnn_cpu_uniform(const cnn_op_args *args)
{
    fill_ctx ctx = {.data = args->out[0]->data, .random = args->params};
    cnn_cpu_parallel_for(args->device, args->out[0]->numel, 16, 1 << 12,
                         uniform_range, &ctx);
    return CNN_OK;
}

cnn_status cnn_cpu_normal(const cnn_op_args *args)
{
    fill_ctx ctx = {.data = args->out[0]->data, .random = args->params};
    cnn_cpu_parallel_for(args->device, args->out[0]->numel, 16, 1 << 10,
                         normal_range, &ctx);
    return CNN_OK;
}
