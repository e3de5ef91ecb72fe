/* cnn/data.h - data sets and the mini-batch loader.
 *
 * A data set is a read-only collection of labelled images held in host
 * memory (IDX files such as MNIST and Fashion-MNIST, gzip read directly).
 * A loader cuts it into mini-batches, shuffled from (seed, epoch) alone, and
 * prepares the next batches in a background thread while the caller trains.
 *
 * Ownership: cnn_dataset_* and cnn_loader_create hand the caller an object
 * to free with the matching _free (NULL is fine). A loader borrows its data
 * set, which must outlive it.
 *
 * Thread safety: a data set may be read from any number of threads. A
 * loader is used by one thread at a time (its own prefetch thread is
 * internal).
 */
#ifndef CNN_DATA_H
#define CNN_DATA_H

#include <stdint.h>

#include "export.h"
#include "status.h"
#include "tensor.h"

CNN_BEGIN_DECLS

typedef struct cnn_dataset cnn_dataset;

/* Opens an IDX image file (u8, [count, rows, cols]) and its IDX label file
 * (u8, [count]); either may be gzip-compressed. Pixels are scaled to [0, 1],
 * then normalised as (x - mean) / std (pass 0 and 1 to keep [0, 1]).
 * CNN_ERR_IO when a file cannot be read, CNN_ERR_FORMAT when it is not IDX,
 * is truncated, or the two files disagree on the count. */
CNN_API cnn_status cnn_dataset_open_idx(cnn_dataset **out,
                                        const char *images_path,
                                        const char *labels_path, float mean,
                                        float std);

/* Fashion-MNIST from `folder` (the four files with their usual names,
 * train-*-ubyte[.gz] and t10k-*-ubyte[.gz]); folder NULL means the
 * CNN_FASHION_MNIST environment variable, else Debian's
 * dataset-fashion-mnist package (/usr/share/datasets/fashion-mnist).
 * train selects the 60,000 training images, else the 10,000 test images.
 * Normalised with the training set's mean 0.2860 and std 0.3530. */
CNN_API cnn_status cnn_dataset_open_fashion_mnist(cnn_dataset **out,
                                                  const char *folder,
                                                  int train);

CNN_API void cnn_dataset_free(cnn_dataset *ds);

/* Number of samples; 0 for NULL. */
CNN_API int64_t cnn_dataset_size(const cnn_dataset *ds);
/* Shape of one image as [channels, height, width]; dims zero for NULL. */
CNN_API void cnn_dataset_image_shape(const cnn_dataset *ds, int64_t dims[3]);
/* Number of classes: 1 + the largest label. */
CNN_API int cnn_dataset_classes(const cnn_dataset *ds);

/* Copies sample `index` into image (channels * height * width floats,
 * normalised) and *label. Either output may be NULL. For a data set with a
 * random transform this is the sample of epoch 0 under seed 0.
 * CNN_ERR_INVALID_ARGUMENT for an index out of range. */
CNN_API cnn_status cnn_dataset_get(const cnn_dataset *ds, int64_t index,
                                   float *image, int32_t *label);

/* Sample `index` as a loader delivers it in epoch `epoch` of a run seeded
 * with `seed`: every random choice of the data set's transform is drawn from
 * Philox(seed, epoch, index), so the result does not depend on which thread
 * asks or when. Either output may be NULL. CNN_ERR_INVALID_ARGUMENT for an
 * index out of range or a negative epoch; CNN_ERR_IO or CNN_ERR_FORMAT, with
 * the file and the reason in cnn_last_error(), for a sample that cannot be
 * read. Thread-safe. */
CNN_API cnn_status cnn_dataset_get_sample(const cnn_dataset *ds, int64_t index,
                                          uint64_t seed, int64_t epoch,
                                          float *image, int32_t *label);

typedef struct cnn_loader cnn_loader;

typedef struct cnn_loader_params {
    int64_t batch_size; /* >= 1 */
    uint64_t seed;      /* the order of epoch e is a function of (seed, e) */
    int shuffle;        /* 0: data set order */
    int drop_last;      /* 1: skip a final batch smaller than batch_size */
} cnn_loader_params;

/* Creates a loader over `ds` (borrowed). Batches are prepared in a
 * background thread, one batch ahead. */
CNN_API cnn_status cnn_loader_create(cnn_loader **out, const cnn_dataset *ds,
                                     const cnn_loader_params *p);
CNN_API void cnn_loader_free(cnn_loader *loader);

/* Batches in one epoch (the last may be partial unless drop_last). */
CNN_API int64_t cnn_loader_batches(const cnn_loader *loader);

/* Positions the loader at batch `first_batch` of epoch `epoch`, e.g. to
 * resume from a checkpoint; the order is the same as in a run that never
 * stopped. */
CNN_API cnn_status cnn_loader_start_epoch(cnn_loader *loader, int64_t epoch,
                                          int64_t first_batch);

/* Writes the next batch of the current epoch into images [B, C, H, W] (F32)
 * and labels [B] (I32), on any device, where B is the loader's batch size;
 * *count receives the number of samples written (B, fewer for a partial
 * last batch, whose remaining rows are left as they were, and 0 at the end
 * of the epoch). Synchronous with respect to the host: the tensors hold the
 * batch when it returns. */
CNN_API cnn_status cnn_loader_next(cnn_loader *loader, cnn_tensor *images,
                                   cnn_tensor *labels, int64_t *count);

/* The permutation of epoch `epoch` under `seed` (what a shuffling loader
 * uses): order[0..n) receives 0..n-1 shuffled by Fisher-Yates with Philox
 * draws (docs/random.md). */
CNN_API cnn_status cnn_shuffle_order(int64_t *order, int64_t n, uint64_t seed,
                                     int64_t epoch);

CNN_END_DECLS

#endif /* CNN_DATA_H */
