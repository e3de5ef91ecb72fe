/* fuzz/fuzz_list.c - the list-file reader: the input is a list file in a
 * folder that holds one small PNG, a.png, so that lines naming it open; a
 * list that opens is read sample by sample (labels and images). */
#include <stdint.h>
#include <stdlib.h>

#include <cnn/cnn.h>

#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A 2 x 1 RGB PNG. */
static const uint8_t tiny_png[] = {
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d,
    0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x01,
    0x08, 0x02, 0x00, 0x00, 0x00, 0x7b, 0x40, 0xe8, 0xdd, 0x00, 0x00, 0x00,
    0x0f, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0xc0,
    0xf0, 0x9f, 0x01, 0x00, 0x07, 0xff, 0x01, 0xff, 0x01, 0x7f, 0x89, 0xa7,
    0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready) {
        cnn_fuzz_write(1, "a.png", tiny_png, sizeof tiny_png);
        ready = 1;
    }
    const char *list = cnn_fuzz_write(0, "list.txt", data, size);
    cnn_image_params p = cnn_image_params_default();
    p.transform = CNN_TRANSFORM_NONE;
    p.size = 4;
    cnn_dataset *ds = NULL;
    if (cnn_dataset_open_image_list(&ds, list, &p) != CNN_OK)
        return 0;
    float image[3 * 4 * 4];
    int64_t n = cnn_dataset_size(ds);
    for (int64_t i = 0; i < n && i < 8; ++i) {
        int32_t label = -1;
        cnn_status s = cnn_dataset_get_sample(ds, i, 1, 0, image, &label);
        if (label < 0 || label >= cnn_dataset_classes(ds) ||
            (s != CNN_OK && s != CNN_ERR_FORMAT && s != CNN_ERR_IO) ||
            !cnn_dataset_sample_path(ds, i))
            abort();
    }
    cnn_dataset_free(ds);
    return 0;
}
