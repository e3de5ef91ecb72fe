/* src/dataset.c - labelled image data sets in host memory: the IDX format
 * (MNIST, Fashion-MNIST), read through zlib so that .gz files need no
 * unpacking. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "check.h"
#include "checked.h"
#include "core.h"
#include "dataset_impl.h"

/* An IDX data set's state: every image held in memory. */
typedef struct idx_data {
    uint8_t *pixels; /* count * channels * height * width */
    int32_t *labels; /* count */
    float mean, std;
} idx_data;

static void idx_destroy(void *impl)
{
    idx_data *d = impl;
    if (!d)
        return;
    free(d->pixels);
    free(d->labels);
    free(d);
}

static cnn_status idx_get(const cnn_dataset *ds, int64_t index, uint64_t seed,
                          int64_t epoch, float *image, int32_t *label)
{
    (void)seed;
    (void)epoch;
    const idx_data *d = ds->impl;
    if (image) {
        int64_t n = ds->channels * ds->height * ds->width;
        const uint8_t *src = d->pixels + index * n;
        const float scale = 1.0f / 255.0f, inv_std = 1.0f / d->std;
        for (int64_t i = 0; i < n; ++i)
            image[i] = ((float)src[i] * scale - d->mean) * inv_std;
    }
    if (label)
        *label = d->labels[index];
    return CNN_OK;
}

static const cnn_dataset_source idx_source = {"idx", idx_get, idx_destroy,
                                               NULL, NULL};

cnn_status cnn_dataset_make(cnn_dataset **out, const cnn_dataset_source *src,
                            void *impl, int64_t count, int64_t channels,
                            int64_t height, int64_t width, int classes)
{
    cnn_dataset *ds = calloc(1, sizeof *ds);
    if (!ds) {
        src->destroy(impl);
        return cnn_error(CNN_ERR_OUT_OF_MEMORY, "no memory for a %s data set",
                         src->kind);
    }
    *ds = (cnn_dataset){src, count, channels, height, width, classes, impl, 0};
    *out = ds;
    return CNN_OK;
}

/* Reads a whole file (gzip or plain) into memory. */
static cnn_status read_file(const char *caller, const char *path,
                            uint8_t **out, size_t *size)
{
    gzFile f = gzopen(path, "rb");
    if (!f)
        return cnn_error(CNN_ERR_IO, "%s: cannot open %s", caller, path);
    size_t capacity = 1 << 20, used = 0;
    uint8_t *data = malloc(capacity);
    for (;;) {
        if (!data) {
            gzclose(f);
            return cnn_error(CNN_ERR_OUT_OF_MEMORY,
                             "%s: no memory to read %s", caller, path);
        }
        if (used == capacity) {
            uint8_t *bigger = realloc(data, capacity * 2);
            if (!bigger)
                free(data);
            data = bigger;
            capacity *= 2;
            continue;
        }
        int n = gzread(f, data + used, (unsigned)(capacity - used));
        if (n < 0) {
            int code;
            const char *why = gzerror(f, &code);
            cnn_status s = cnn_error(CNN_ERR_FORMAT, "%s: cannot read %s: %s",
                                     caller, path, why);
            free(data);
            gzclose(f);
            return s;
        }
        if (n == 0)
            break;
        used += (size_t)n;
    }
    gzclose(f);
    *out = data;
    *size = used;
    return CNN_OK;
}

static uint32_t big_endian_u32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           p[3];
}

/* Parses an IDX header of u8 data with `ndim` dimensions; on success
 * dims[] holds them and *payload points at the data. */
static cnn_status parse_idx(const char *caller, const char *path,
                            const uint8_t *data, size_t size, int ndim,
                            int64_t *dims, const uint8_t **payload)
{
    size_t header = 4 + 4 * (size_t)ndim;
    if (size < header || data[0] != 0 || data[1] != 0)
        return cnn_error(CNN_ERR_FORMAT, "%s: %s is not an IDX file", caller,
                         path);
    if (data[2] != 0x08 || data[3] != ndim)
        return cnn_error(CNN_ERR_FORMAT,
                         "%s: %s holds IDX type 0x%02x with %d dimensions but "
                         "%d dimensions of unsigned bytes (0x08) were expected",
                         caller, path, data[2], data[3], ndim);
    for (int i = 0; i < ndim; ++i) {
        dims[i] = big_endian_u32(data + 4 + 4 * i);
        if (dims[i] == 0)
            return cnn_error(CNN_ERR_FORMAT, "%s: %s has a zero dimension",
                             caller, path);
    }
    int64_t total = 0;
    if (!cnn_checked_product_i64(dims, ndim, &total) ||
        (uint64_t)total > SIZE_MAX) {
        char shape[128];
        cnn_dims_text(ndim, dims, shape, sizeof shape);
        return cnn_error(CNN_ERR_FORMAT,
                         "%s: %s declares dimensions %s, whose size "
                         "overflows (corrupt)", caller, path, shape);
    }
    if (size - header != (uint64_t)total)
        return cnn_error(CNN_ERR_FORMAT,
                         "%s: %s should hold %llu bytes of data but holds %zu "
                         "(truncated or corrupt)", caller, path,
                         (unsigned long long)total, size - header);
    *payload = data + header;
    return CNN_OK;
}

cnn_status cnn_dataset_open_idx(cnn_dataset **out, const char *images_path,
                                const char *labels_path, float mean, float std)
{
    static const char caller[] = "cnn_dataset_open_idx";
    if (!out)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT, "%s: out is NULL", caller);
    *out = NULL;
    if (!images_path || !labels_path)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT, "%s: %s is NULL", caller,
                         images_path ? "labels_path" : "images_path");
    if (!(std > 0.0f) || !isfinite(std))
        return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                         "%s: std is %g but must be positive and finite",
                         caller, (double)std);
    if (!isfinite(mean))
        return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                         "%s: mean is %g but must be finite", caller,
                         (double)mean);
    uint8_t *images = NULL, *labels = NULL;
    size_t images_size = 0, labels_size = 0;
    cnn_status s = read_file(caller, images_path, &images, &images_size);
    if (s == CNN_OK)
        s = read_file(caller, labels_path, &labels, &labels_size);
    int64_t image_dims[3] = {0}, label_dims[1] = {0};
    const uint8_t *pixels = NULL, *label_bytes = NULL;
    if (s == CNN_OK)
        s = parse_idx(caller, images_path, images, images_size, 3, image_dims,
                      &pixels);
    if (s == CNN_OK)
        s = parse_idx(caller, labels_path, labels, labels_size, 1, label_dims,
                      &label_bytes);
    if (s == CNN_OK && image_dims[0] != label_dims[0])
        s = cnn_error(CNN_ERR_FORMAT, "%s: %s holds %lld images but %s holds "
                      "%lld labels", caller, images_path,
                      (long long)image_dims[0], labels_path,
                      (long long)label_dims[0]);
    idx_data *d = NULL;
    int classes = 0;
    if (s == CNN_OK) {
        d = calloc(1, sizeof *d);
        /* parse_idx checked that these products fit (the file holds them) */
        int64_t pixel_count = 0;
        size_t pixel_bytes = 0, label_bytes_total = 0;
        bool sized = cnn_checked_product_i64(image_dims, 3, &pixel_count) &&
                     cnn_checked_bytes(pixel_count, 1, &pixel_bytes) &&
                     cnn_checked_bytes(label_dims[0], sizeof *d->labels,
                                       &label_bytes_total);
        if (d && sized) {
            d->pixels = malloc(pixel_bytes);
            d->labels = malloc(label_bytes_total);
        }
        if (!d || !d->pixels || !d->labels) {
            s = cnn_error(CNN_ERR_OUT_OF_MEMORY, "%s: no memory for %lld "
                          "images", caller, (long long)image_dims[0]);
        } else {
            memcpy(d->pixels, pixels, pixel_bytes);
            d->mean = mean;
            d->std = std;
            for (int64_t i = 0; i < label_dims[0]; ++i) {
                d->labels[i] = label_bytes[i];
                if (label_bytes[i] + 1 > classes)
                    classes = label_bytes[i] + 1;
            }
        }
    }
    free(images);
    free(labels);
    if (s != CNN_OK) {
        idx_destroy(d);
        return s;
    }
    return cnn_dataset_make(out, &idx_source, d, image_dims[0], 1,
                            image_dims[1], image_dims[2], classes);
}

cnn_status cnn_dataset_open_fashion_mnist(cnn_dataset **out,
                                          const char *folder, int train)
{
    if (!folder)
        folder = getenv("CNN_FASHION_MNIST");
    if (!folder)
        folder = "/usr/share/datasets/fashion-mnist";
    const char *prefix = train ? "train" : "t10k";
    char images[4096], labels[4096];
    if (strlen(folder) > sizeof images - 64)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                         "cnn_dataset_open_fashion_mnist: the folder's path "
                         "is %zu bytes long; at most %zu are accepted",
                         strlen(folder), sizeof images - 64);
    /* Debian ships the files gzipped; accept them unpacked too. */
    for (int gz = 1; gz >= 0; --gz) {
        snprintf(images, sizeof images, "%s/%s-images-idx3-ubyte%s", folder,
                 prefix, gz ? ".gz" : "");
        snprintf(labels, sizeof labels, "%s/%s-labels-idx1-ubyte%s", folder,
                 prefix, gz ? ".gz" : "");
        FILE *probe = fopen(images, "rb");
        if (probe) {
            fclose(probe);
            break;
        }
    }
    cnn_status s = cnn_dataset_open_idx(out, images, labels, 0.2860f, 0.3530f);
    if (s == CNN_ERR_IO)
        return cnn_error(s, "cnn_dataset_open_fashion_mnist: Fashion-MNIST is "
                         "not in %s (install Debian's dataset-fashion-mnist, "
                         "or set CNN_FASHION_MNIST to its folder)", folder);
    return s;
}

void cnn_dataset_free(cnn_dataset *ds)
{
    if (!ds)
        return;
    ds->source->destroy(ds->impl);
    free(ds);
}

int64_t cnn_dataset_size(const cnn_dataset *ds) { return ds ? ds->count : 0; }

int cnn_dataset_classes(const cnn_dataset *ds) { return ds ? ds->classes : 0; }

void cnn_dataset_image_shape(const cnn_dataset *ds, int64_t dims[3])
{
    dims[0] = ds ? ds->channels : 0;
    dims[1] = ds ? ds->height : 0;
    dims[2] = ds ? ds->width : 0;
}

cnn_status cnn_dataset_get_sample(const cnn_dataset *ds, int64_t index,
                                  uint64_t seed, int64_t epoch, float *image,
                                  int32_t *label)
{
    if (!ds)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                         "cnn_dataset_get_sample: ds is NULL");
    if (index < 0 || index >= ds->count)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                         "cnn_dataset_get_sample: index %lld is outside "
                         "[0, %lld)", (long long)index, (long long)ds->count);
    if (epoch < 0)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                         "cnn_dataset_get_sample: epoch %lld is negative",
                         (long long)epoch);
    return ds->source->get(ds, index, seed, epoch, image, label);
}

cnn_status cnn_dataset_get(const cnn_dataset *ds, int64_t index, float *image,
                           int32_t *label)
{
    if (!ds)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT, "cnn_dataset_get: ds is NULL");
    if (index < 0 || index >= ds->count)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                         "cnn_dataset_get: index %lld is outside [0, %lld)",
                         (long long)index, (long long)ds->count);
    return ds->source->get(ds, index, 0, 0, image, label);
}

const char *cnn_dataset_class_name(const cnn_dataset *ds, int k)
{
    if (!ds || k < 0 || k >= ds->classes || !ds->source->class_name)
        return NULL;
    return ds->source->class_name(ds, k);
}

const char *cnn_dataset_sample_path(const cnn_dataset *ds, int64_t index)
{
    if (!ds || index < 0 || index >= ds->count || !ds->source->sample_path)
        return NULL;
    return ds->source->sample_path(ds, index);
}

int64_t cnn_dataset_skipped(const cnn_dataset *ds)
{
    return ds ? ds->skipped : 0;
}
