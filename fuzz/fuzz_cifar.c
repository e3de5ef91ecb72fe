/* fuzz/fuzz_cifar.c - the CIFAR-10 reader: the input is test_batch.bin;
 * every record of a file that opens is read with the CIFAR training recipe
 * (random crop with padding and flip) and without augmentation. */
#include <stdint.h>
#include <stdlib.h>

#include <cnn/cnn.h>

#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cnn_fuzz_write(0, "test_batch.bin", data, size);
    cnn_image_params p = cnn_image_params_default();
    p.transform = CNN_TRANSFORM_CIFAR;
    float image[3 * 32 * 32];
    for (int recipe = 0; recipe < 2; ++recipe) {
        cnn_dataset *ds = NULL;
        if (cnn_dataset_open_cifar10(&ds, cnn_fuzz_dir(), 0,
                                     recipe ? &p : NULL) != CNN_OK)
            return 0;
        int64_t n = cnn_dataset_size(ds);
        for (int64_t i = 0; i < n && i < 16; ++i) {
            int32_t label = -1;
            cnn_status s = cnn_dataset_get_sample(ds, i, 7, 1, image, &label);
            if (s == CNN_OK && (label < 0 || label > 9))
                abort();
            if (s != CNN_OK && s != CNN_ERR_FORMAT)
                abort(); /* a bad label is the only way a record fails */
        }
        cnn_dataset_free(ds);
    }
    return 0;
}
