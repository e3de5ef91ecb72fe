/* cnn/data.h - data sets and the mini-batch loader.
 *
 * A data set is a read-only collection of labelled images: IDX files such
 * as MNIST and Fashion-MNIST (gzip read directly, held in memory), CIFAR-10's
 * binary batches, folders of JPEG and PNG files (one sub-folder per class),
 * list files (a path and a label per line), and synthetic data of any shape.
 * CIFAR-10 records and image files are read on demand, one sample per call,
 * so memory does not grow with the data set. Images go through a transform
 * with torchvision's semantics (cnn_image_params); every random choice of a
 * transform is drawn from Philox(seed, epoch, sample index) (docs/random.md,
 * docs/data.md), so a sample does not depend on which thread makes it.
 * A loader cuts a data set into mini-batches, shuffled from (seed, epoch)
 * alone, and prepares the next batches in a background thread while the
 * caller trains.
 *
 * Ownership: cnn_dataset_* and cnn_loader_create hand the caller an object
 * to free with the matching _free (NULL is fine). A loader borrows its data
 * set, which must outlive it. Strings returned by a data set are its own and
 * live as long as it.
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

/* The transform applied to every decoded image (docs/data.md gives each
 * step's exact rule). Sizes are in pixels; "resize" scales the shorter side
 * with PIL's antialiased bilinear filter, as torchvision's Resize does on a
 * PIL image. */
typedef enum cnn_transform {
    /* Resize to `size`, then CenterCrop(size); nothing random. For CIFAR-10
     * with size 0: the 32x32 image as stored. */
    CNN_TRANSFORM_NONE = 0,
    /* AlexNet. Train: Resize(resize), RandomCrop(size),
     * RandomHorizontalFlip. Eval: Resize(resize), CenterCrop(size). Size
     * 227 and resize 256 by default. */
    CNN_TRANSFORM_ALEXNET = 1,
    /* ResNet. Train: RandomResizedCrop(size, scale 0.08-1, ratio 3/4-4/3),
     * RandomHorizontalFlip. Eval: Resize(resize), CenterCrop(size). Size
     * 224 and resize 256 by default. */
    CNN_TRANSFORM_RESNET = 2,
    /* The usual CIFAR recipe. Train: RandomCrop(size, padding) with zeros,
     * RandomHorizontalFlip. Eval: CenterCrop(size). Size 32, padding 4 by
     * default; no resize. */
    CNN_TRANSFORM_CIFAR = 3
} cnn_transform;

/* Parameters of an image source. Start from cnn_image_params_default()
 * and change what you need. */
typedef struct cnn_image_params {
    cnn_transform transform; /* the recipe (default CNN_TRANSFORM_RESNET) */
    int train;               /* 1: random augmentation; 0: evaluation
                                (deterministic) (default 1) */
    int64_t size;            /* output height and width; 0: the recipe's
                                (227 AlexNet, 224 ResNet and none, 32 CIFAR;
                                for CIFAR-10 with CNN_TRANSFORM_NONE, 32) */
    int64_t resize;          /* shorter side before a crop; 0: 256 for
                                AlexNet and ResNet, `size` for none */
    int64_t padding;         /* CNN_TRANSFORM_CIFAR's RandomCrop padding;
                                -1: 4 (default -1) */
    float mean[3], std[3];   /* Normalize: (x / 255 - mean) / std per
                                channel (default ImageNet's: mean 0.485,
                                0.456, 0.406; std 0.229, 0.224, 0.225) */
    int64_t max_pixels;      /* an image whose width * height exceeds this
                                is refused (decompression bombs); default
                                89478485 (PIL's MAX_IMAGE_PIXELS) */
    int dct_scaling;         /* 1: decode a JPEG at 1/2, 1/4 or 1/8 of its
                                size when the scaled crop still has at
                                least the pixels it is resampled to
                                (faster; differs from PIL); 0: always full
                                size, as torchvision (default 1) */
} cnn_image_params;

/* The defaults above: the ResNet training recipe at 224. */
CNN_API cnn_image_params cnn_image_params_default(void);

/* Opens an ImageNet-style folder: one sub-folder per class, classes
 * numbered in the byte order of their names (torchvision's ImageFolder);
 * the files of a class are the *.jpg, *.jpeg and *.png files (any case)
 * anywhere below its folder, in sorted order; other files are ignored.
 * Symbolic links are followed; a folder already on the current path (a
 * link loop), an entry that cannot be examined (a dangling link) and a
 * zero-byte file are skipped and logged at CNN_LOG_WARN (see
 * cnn_dataset_skipped). Files are read when a sample is asked for; a file
 * that turns out unreadable or corrupt then fails that sample only.
 * p NULL means cnn_image_params_default(). CNN_ERR_IO when `dir` cannot be
 * read; CNN_ERR_FORMAT when it has no class folder, or when a class folder
 * holds no usable file (torchvision refuses an empty class too);
 * CNN_ERR_INVALID_ARGUMENT for bad parameters. Samples are [3, size, size].
 * docs/data.md lists every rule for bad data. */
CNN_API cnn_status cnn_dataset_open_images(cnn_dataset **out, const char *dir,
                                           const cnn_image_params *p);

/* Opens a list file: one sample per line, a path then whitespace then a
 * label (an integer in [0, 2^31 - 1)); the path may contain spaces (the
 * label is the last field); relative paths are relative to the list file's
 * folder; blank lines and lines starting with '#' are ignored. Missing and
 * zero-byte files are skipped and logged as for folders. Classes = 1 +
 * the largest label. CNN_ERR_IO when the list cannot be read; CNN_ERR_FORMAT
 * naming the line for a line without a valid label, or when no listed file
 * is usable. */
CNN_API cnn_status cnn_dataset_open_image_list(cnn_dataset **out,
                                               const char *list_file,
                                               const cnn_image_params *p);

/* Opens CIFAR-10's binary version in `dir`: data_batch_1.bin ..
 * data_batch_5.bin when train, else test_batch.bin; each record is a label
 * byte then 3072 bytes of pixels (red, green, blue planes of 32x32). A file
 * may hold any whole number of records (the real ones hold 10,000).
 * p NULL: no augmentation, 32x32, normalised with CIFAR-10's mean (0.4914,
 * 0.4822, 0.4465) and std (0.2470, 0.2435, 0.2616). With p, its transform
 * applies to the 32x32 image (CNN_TRANSFORM_CIFAR is the usual one).
 * CNN_ERR_IO when a file is missing or unreadable; CNN_ERR_FORMAT when a
 * file's size is zero or not a multiple of 3073 bytes. A record whose label
 * is not 0..9 fails that sample with CNN_ERR_FORMAT. */
CNN_API cnn_status cnn_dataset_open_cifar10(cnn_dataset **out, const char *dir,
                                            int train,
                                            const cnn_image_params *p);

/* Synthetic data for benchmarks and tests: `count` samples of [channels,
 * height, width] floats, uniform in [-1, 1), with labels in [0, classes);
 * sample i depends only on (seed, i) (docs/data.md). Nothing is read or
 * held: each sample is computed when asked for. CNN_ERR_INVALID_ARGUMENT
 * for a non-positive count, dimension or class count, or a sample of more
 * than 2^31 floats. */
CNN_API cnn_status cnn_dataset_open_synthetic(cnn_dataset **out, int64_t count,
                                              int64_t channels, int64_t height,
                                              int64_t width, int classes,
                                              uint64_t seed);

CNN_API void cnn_dataset_free(cnn_dataset *ds);

/* Number of samples; 0 for NULL. */
CNN_API int64_t cnn_dataset_size(const cnn_dataset *ds);
/* Shape of one image as [channels, height, width]; dims zero for NULL. */
CNN_API void cnn_dataset_image_shape(const cnn_dataset *ds, int64_t dims[3]);
/* Number of classes: 1 + the largest label. */
CNN_API int cnn_dataset_classes(const cnn_dataset *ds);

/* The name of class k: the folder name for an image folder, CIFAR-10's
 * names ("airplane" .. "truck"); NULL for other sources or k out of range.
 * The string belongs to the data set. */
CNN_API const char *cnn_dataset_class_name(const cnn_dataset *ds, int k);

/* The file that sample `index` is read from (image folders and lists);
 * NULL for other sources or an index out of range. The string belongs to
 * the data set. */
CNN_API const char *cnn_dataset_sample_path(const cnn_dataset *ds,
                                            int64_t index);

/* How many entries the data set's open skipped (link loops, entries that
 * could not be examined, zero-byte or missing files), each logged at
 * CNN_LOG_WARN; 0 for NULL and for sources that skip nothing. */
CNN_API int64_t cnn_dataset_skipped(const cnn_dataset *ds);

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
