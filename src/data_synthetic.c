/* src/data_synthetic.c - synthetic samples computed on demand from
 * Philox(seed, sample index), for benchmarks and tests. */
#include <stdlib.h>

#include "core.h"
#include "dataset_impl.h"
#include "philox.h"

typedef struct synthetic_data {
    uint64_t seed;
} synthetic_data;

static void synthetic_destroy(void *impl) { free(impl); }

/* Block `block` of sample `index`: counter {block, index low,
 * ((index >> 32) << 8) | 6, 0}. */
static cnn_philox_u32x4 synthetic_block(uint64_t seed, int64_t index,
                                        uint32_t block)
{
    cnn_philox_u32x4 c;
    c.v[0] = block;
    c.v[1] = (uint32_t)index;
    c.v[2] = (uint32_t)((uint64_t)index >> 32) << 8 |
             CNN_PHILOX_STREAM_SYNTHETIC;
    c.v[3] = 0;
    return cnn_philox4x32_10(c, (uint32_t)seed, (uint32_t)(seed >> 32));
}

static cnn_status synthetic_get(const cnn_dataset *ds, int64_t index,
                                uint64_t seed, int64_t epoch, float *image,
                                int32_t *label)
{
    (void)seed;
    (void)epoch;
    const synthetic_data *d = ds->impl;
    if (label) {
        cnn_philox_u32x4 r = synthetic_block(d->seed, index, 0xffffffffu);
        *label = (int32_t)(((uint64_t)r.v[0] * (uint64_t)ds->classes) >> 32);
    }
    if (image) {
        int64_t n = ds->channels * ds->height * ds->width;
        for (int64_t i = 0; i < n; i += 4) {
            cnn_philox_u32x4 r = synthetic_block(d->seed, index,
                                                 (uint32_t)(i / 4));
            for (int64_t k = 0; k < 4 && i + k < n; ++k)
                image[i + k] = 2.0f * cnn_philox_unit(r.v[k]) - 1.0f;
        }
    }
    return CNN_OK;
}

static const cnn_dataset_source synthetic_source = {
    "synthetic", synthetic_get, synthetic_destroy, NULL, NULL};

cnn_status cnn_dataset_open_synthetic(cnn_dataset **out, int64_t count,
                                      int64_t channels, int64_t height,
                                      int64_t width, int classes,
                                      uint64_t seed)
{
    static const char caller[] = "cnn_dataset_open_synthetic";
    if (!out)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT, "%s: out is NULL", caller);
    *out = NULL;
    if (count <= 0 || count >= ((int64_t)1 << 56))
        return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                         "%s: count %lld is outside [1, 2^56)", caller,
                         (long long)count);
    if (channels <= 0 || height <= 0 || width <= 0)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                         "%s: a sample of %lld x %lld x %lld: every dimension "
                         "must be positive", caller, (long long)channels,
                         (long long)height, (long long)width);
    if (classes <= 0)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                         "%s: classes %d must be positive", caller, classes);
    const int64_t limit = (int64_t)1 << 31;
    if (channels > limit || height > limit / channels ||
        width > limit / (channels * height))
        return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                         "%s: a sample of %lld x %lld x %lld is over 2^31 "
                         "floats", caller, (long long)channels,
                         (long long)height, (long long)width);
    synthetic_data *d = malloc(sizeof *d);
    if (!d)
        return cnn_error(CNN_ERR_OUT_OF_MEMORY, "%s: no memory", caller);
    d->seed = seed;
    return cnn_dataset_make(out, &synthetic_source, d, count, channels, height,
                            width, classes);
}
