/* fuzz/fuzz_idx.c - the IDX reader (plain and gzip): the input's first
 * byte b splits the rest into an image file (the first b * 16 bytes, capped
 * at the input) and a label file (the remainder); every sample of a data
 * set that opens is read. */
#include <stdint.h>
#include <stdlib.h>

#include <cnn/cnn.h>

#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t split = (size_t)data[0] * 16;
    if (split > size - 1)
        split = size - 1;
    const char *images = cnn_fuzz_write(0, "images", data + 1, split);
    const char *labels = cnn_fuzz_write(1, "labels", data + 1 + split,
                                        size - 1 - split);
    cnn_dataset *ds = NULL;
    if (cnn_dataset_open_idx(&ds, images, labels, 0.5f, 0.25f) != CNN_OK)
        return 0;
    int64_t dims[3];
    cnn_dataset_image_shape(ds, dims);
    int64_t n = cnn_dataset_size(ds), pixels = dims[0] * dims[1] * dims[2];
    float *image = malloc(sizeof *image * (size_t)pixels);
    for (int64_t i = 0; image && i < n && i < 64; ++i) {
        int32_t label;
        if (cnn_dataset_get_sample(ds, i, 1, 0, image, &label) != CNN_OK ||
            label < 0 || label >= cnn_dataset_classes(ds))
            abort(); /* a data set that opened must read every sample */
    }
    free(image);
    cnn_dataset_free(ds);
    return 0;
}
