/* src/data_cifar10.c - CIFAR-10's binary batches, read one record per
 * sample with pread (nothing is held in memory but the open files). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core.h"
#include "dataset_impl.h"
#include "image_transform.h"

#define RECORD 3073 /* a label byte, then 3 planes of 32 x 32 */
#define SIDE 32
#define MAX_FILES 5

typedef struct cifar_data {
    cnn_image_params params; /* resolved */
    int files;
    int fds[MAX_FILES];
    int64_t first[MAX_FILES + 1]; /* first record of each file; total last */
    char paths[MAX_FILES][4096];
} cifar_data;

static const char *const cifar_names[10] = {
    "airplane", "automobile", "bird", "cat", "deer",
    "dog", "frog", "horse", "ship", "truck"};

static void cifar_destroy(void *impl)
{
    cifar_data *d = impl;
    if (!d)
        return;
    for (int i = 0; i < d->files; ++i)
        if (d->fds[i] >= 0)
            close(d->fds[i]);
    free(d);
}

static const char *cifar_class_name(const cnn_dataset *ds, int k)
{
    (void)ds;
    return cifar_names[k];
}

static cnn_status cifar_get(const cnn_dataset *ds, int64_t index,
                            uint64_t seed, int64_t epoch, float *image,
                            int32_t *label)
{
    static const char caller[] = "cnn_dataset_get_sample";
    const cifar_data *d = ds->impl;
    int f = 0;
    while (index >= d->first[f + 1])
        ++f;
    int64_t record = index - d->first[f];
    uint8_t buf[RECORD];
    size_t got = 0;
    while (got < RECORD) {
        ssize_t n = pread(d->fds[f], buf + got, RECORD - got,
                          (off_t)(record * RECORD + (int64_t)got));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return cnn_error(CNN_ERR_IO, "%s: cannot read record %lld of %s: "
                             "%s", caller, (long long)record, d->paths[f],
                             strerror(errno));
        if (n == 0)
            return cnn_error(CNN_ERR_FORMAT, "%s: %s ends before record %lld "
                             "(it was truncated after it was opened)", caller,
                             d->paths[f], (long long)record);
        got += (size_t)n;
    }
    if (buf[0] > 9)
        return cnn_error(CNN_ERR_FORMAT, "%s: record %lld of %s has label %d, "
                         "not 0..9", caller, (long long)record, d->paths[f],
                         buf[0]);
    if (label)
        *label = buf[0];
    if (!image)
        return CNN_OK;
    uint8_t rgb[SIDE * SIDE * 3];
    for (int i = 0; i < SIDE * SIDE; ++i)
        for (int c = 0; c < 3; ++c)
            rgb[3 * i + c] = buf[1 + c * SIDE * SIDE + i];
    cnn_image_plan plan;
    cnn_image_plan_make(&d->params, SIDE, SIDE, seed, epoch, index, &plan);
    const cnn_image_rgb img = {rgb, 0, 0, SIDE, SIDE, SIDE, SIDE};
    return cnn_image_plan_run(caller, &plan, &img, 1, d->params.mean,
                              d->params.std, image);
}

static const cnn_dataset_source cifar_source = {
    "cifar10", cifar_get, cifar_destroy, cifar_class_name, NULL};

cnn_status cnn_dataset_open_cifar10(cnn_dataset **out, const char *dir,
                                    int train, const cnn_image_params *p)
{
    static const char caller[] = "cnn_dataset_open_cifar10";
    if (!out)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT, "%s: out is NULL", caller);
    *out = NULL;
    if (!dir)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT, "%s: dir is NULL", caller);
    cifar_data *d = calloc(1, sizeof *d);
    if (!d)
        return cnn_error(CNN_ERR_OUT_OF_MEMORY, "%s: no memory", caller);
    cnn_image_params none = cnn_image_params_default();
    if (!p) { /* no augmentation, CIFAR-10's own statistics */
        none.transform = CNN_TRANSFORM_NONE;
        none.train = 0;
        const float mean[3] = {0.4914f, 0.4822f, 0.4465f},
                    std[3] = {0.2470f, 0.2435f, 0.2616f};
        memcpy(none.mean, mean, sizeof mean);
        memcpy(none.std, std, sizeof std);
        p = &none;
    }
    cnn_status s = cnn_image_params_resolve(caller, p, 1, &d->params);
    d->files = train ? 5 : 1;
    for (int i = 0; i < d->files; ++i)
        d->fds[i] = -1;
    for (int i = 0; s == CNN_OK && i < d->files; ++i) {
        char *path = d->paths[i];
        int len = train ? snprintf(path, sizeof d->paths[i],
                                   "%s/data_batch_%d.bin", dir, i + 1)
                        : snprintf(path, sizeof d->paths[i],
                                   "%s/test_batch.bin", dir);
        if (len >= (int)sizeof d->paths[i]) {
            s = cnn_error(CNN_ERR_INVALID_ARGUMENT, "%s: dir is too long",
                          caller);
            break;
        }
        d->fds[i] = open(path, O_RDONLY | O_CLOEXEC);
        struct stat st;
        if (d->fds[i] < 0)
            s = cnn_error(CNN_ERR_IO, "%s: cannot open %s: %s (expected "
                          "CIFAR-10's binary version: data_batch_1.bin .. "
                          "data_batch_5.bin, test_batch.bin)", caller, path,
                          strerror(errno));
        else if (fstat(d->fds[i], &st) != 0)
            s = cnn_error(CNN_ERR_IO, "%s: cannot examine %s: %s", caller,
                          path, strerror(errno));
        else if (!S_ISREG(st.st_mode))
            s = cnn_error(CNN_ERR_FORMAT, "%s: %s is not a regular file",
                          caller, path);
        else if (st.st_size == 0 || st.st_size % RECORD != 0)
            s = cnn_error(CNN_ERR_FORMAT, "%s: %s is %lld bytes, not a whole "
                          "number of %d-byte records (truncated, or not "
                          "CIFAR-10's binary version)", caller, path,
                          (long long)st.st_size, RECORD);
        else
            d->first[i + 1] = d->first[i] + (int64_t)st.st_size / RECORD;
    }
    if (s != CNN_OK) {
        cifar_destroy(d);
        return s;
    }
    for (int i = d->files; i < MAX_FILES; ++i)
        d->first[i + 1] = d->first[d->files];
    int64_t size = d->params.size;
    return cnn_dataset_make(out, &cifar_source, d, d->first[d->files], 3, size,
                            size, 10);
}
