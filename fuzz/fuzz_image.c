/* fuzz/fuzz_image.c - the JPEG and PNG decoders and the transforms: the
 * input is an image file; the first byte of a JPEG picks the DCT scale.
 * A file that decodes is run through a small ResNet training crop, as the
 * image source does. Images over 4 megapixels are refused (the pixel
 * limit), which keeps each run fast. */
#include <stdint.h>
#include <stdlib.h>

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
    p.size = 8;
    p.resize = 9;
    cnn_image_params resolved;
    if (cnn_image_params_resolve(caller, &p, 0, &resolved) != CNN_OK)
        abort();
    cnn_image_plan plan;
    cnn_image_plan_make(&resolved, w, h, 3, 0, (int64_t)size, &plan);
    int denom = kind == CNN_IMAGE_JPEG ? cnn_image_plan_denom(&plan) : 1;
    uint8_t *rgb = NULL;
    int64_t dw = 0, dh = 0;
    if (cnn_image_decode(caller, "input", data, size, max_pixels, denom, &rgb,
                         &dw, &dh) != CNN_OK)
        return 0;
    if (dw != (w + denom - 1) / denom || dh != (h + denom - 1) / denom)
        abort(); /* the decoded size must be the header's */
    float out[3 * 8 * 8];
    if (cnn_image_plan_run(caller, &plan, rgb, dw, dh, denom, resolved.mean,
                           resolved.std, out) != CNN_OK)
        abort();
    free(rgb);
    return 0;
}
