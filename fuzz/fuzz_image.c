/* fuzz/fuzz_image.c - the JPEG and PNG decoders and the transforms: the
 * input is an image file; its last byte picks the recipe (AlexNet, ResNet,
 * CIFAR or none; train or eval) at a small output size. As the image
 * source does, the recipe's plan picks the DCT scale and the region to
 * decode, and a file that decodes is run through the plan; the whole image
 * is decoded too. Images over 4 megapixels are refused (the pixel limit),
 * which keeps each run fast. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image_decode.h"
#include "image_transform.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char caller[] = "fuzz";
    const int64_t max_pixels = 4 << 20;
    cnn_image_kind kind;
    int64_t w = 0, h = 0;
    if (cnn_image_probe(caller, "input", data, size, max_pixels, &kind, &w,
                        &h) != CNN_OK)
        return 0;
    cnn_image_params p = cnn_image_params_default();
    uint8_t pick = data[size - 1];
    p.transform = (cnn_transform)(pick % 4);
    p.train = pick >> 2 & 1;
    p.size = 8;
    p.resize = 9 + (pick >> 3 & 7);
    p.padding = pick >> 6;
    cnn_image_params resolved;
    if (cnn_image_params_resolve(caller, &p, 0, &resolved) != CNN_OK)
        abort();
    cnn_image_plan plan;
    cnn_image_plan_make(&resolved, w, h, 3, 0, (int64_t)size, &plan);
    int denom = kind == CNN_IMAGE_JPEG ? cnn_image_plan_denom(&plan) : 1;
    int64_t region[4];
    cnn_image_plan_region(&plan, denom, (w + denom - 1) / denom,
                          (h + denom - 1) / denom, region);
    cnn_image_rgb rgb = {0}, whole = {0};
    if (cnn_image_decode(caller, "input", data, size, max_pixels, denom,
                         region, &rgb) != CNN_OK)
        return 0;
    if (rgb.full_width != (w + denom - 1) / denom ||
        rgb.full_height != (h + denom - 1) / denom)
        abort(); /* the decoded size must be the header's */
    float out[3 * 8 * 8];
    if (cnn_image_plan_run(caller, &plan, &rgb, denom, resolved.mean,
                           resolved.std, out) != CNN_OK)
        abort();
    /* The whole image at full size: where both decode, the crop's pixels
     * from the region decode are the whole decode's (at denom 1). */
    if (cnn_image_decode(caller, "input", data, size, max_pixels, 1, NULL,
                         &whole) == CNN_OK && denom == 1) {
        size_t bytes = (size_t)(region[2] - region[0]) * 3;
        for (int64_t y = region[1]; y < region[3]; ++y)
            if (memcmp(rgb.pixels + ((y - rgb.top) * rgb.width +
                                     region[0] - rgb.left) * 3,
                       whole.pixels + (y * whole.width + region[0]) * 3,
                       bytes) != 0)
                abort();
    }
    free(whole.pixels);
    free(rgb.pixels);
    return 0;
}
