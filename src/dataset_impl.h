/* src/dataset_impl.h - what every kind of data set (IDX, CIFAR-10, image
 * folders, list files, synthetic) provides behind the public cnn_dataset.
 *
 * A source fills in the shape of one sample as the loader delivers it (after
 * its transform), the count and the number of classes, and a `get` that
 * produces sample `index` for epoch `epoch` of a run seeded with `seed`.
 * Every random choice of a transform is drawn from Philox(seed, epoch,
 * index), so a sample is the same whichever thread makes it and when.
 * `get` may be called from several threads at once. */
#ifndef CNN_DATASET_IMPL_H
#define CNN_DATASET_IMPL_H

#include <stdint.h>

#include "cnn/status.h"

typedef struct cnn_dataset cnn_dataset;

typedef struct cnn_dataset_source {
    const char *kind; /* "idx", "cifar10", "images", ... */
    /* Writes channels * height * width floats into image (when not NULL)
     * and the label into *label (when not NULL). CNN_ERR_FORMAT or
     * CNN_ERR_IO, with a message naming the file and why, for a sample
     * that cannot be read: the loader reports it and skips it. */
    cnn_status (*get)(const cnn_dataset *ds, int64_t index, uint64_t seed,
                      int64_t epoch, float *image, int32_t *label);
    void (*destroy)(void *impl); /* frees impl; NULL impl is fine */
    /* Optional (NULL: none): the name of class k, already range-checked,
     * and the file sample `index` comes from. Strings belong to impl. */
    const char *(*class_name)(const cnn_dataset *ds, int k);
    const char *(*sample_path)(const cnn_dataset *ds, int64_t index);
} cnn_dataset_source;

struct cnn_dataset {
    const cnn_dataset_source *source;
    int64_t count;
    int64_t channels, height, width; /* one sample as delivered */
    int classes;
    void *impl; /* the source's own state */
    int64_t skipped; /* entries the open skipped (cnn_dataset_skipped) */
};

/* Wraps a source's state into a new data set; on failure frees impl with
 * source->destroy and returns the error. */
cnn_status cnn_dataset_make(cnn_dataset **out, const cnn_dataset_source *src,
                            void *impl, int64_t count, int64_t channels,
                            int64_t height, int64_t width, int classes);

#endif /* CNN_DATASET_IMPL_H */
