/* src/image_transform.h - torchvision's transforms on 8-bit RGB images
 * (docs/data.md, "Transforms"): a plan holds one sample's geometry (drawn
 * from Philox(seed, epoch, index) for random recipes), and running it
 * resamples with PIL's antialiased bilinear filter in PIL's integer
 * arithmetic, crops, pads with zeros, flips and normalises into CHW floats.
 * Private to the library; the image tests call it with fixed plans. */
#ifndef CNN_IMAGE_TRANSFORM_H
#define CNN_IMAGE_TRANSFORM_H

#include <stdint.h>

#include "cnn/data.h"

/* One sample's geometry, in the coordinates of the full-size source:
 * take the region (crop_x, crop_y, crop_w, crop_h) of the source, resample
 * it to resize_w x resize_h (PIL's Image.resize, bilinear), then keep the
 * out_w x out_h window at (win_x, win_y) of that (pixels outside it are 0,
 * as torchvision's padding), mirrored left-right when flip. */
typedef struct cnn_image_plan {
    int64_t crop_x, crop_y, crop_w, crop_h;
    int64_t resize_w, resize_h;
    int64_t win_x, win_y, out_w, out_h;
    int flip;
} cnn_image_plan;

/* Checks *in (NULL: the defaults) and writes it to *out with every 0 or -1
 * replaced by the recipe's value. CNN_ERR_INVALID_ARGUMENT, naming the
 * field after "caller: ", for a value out of range. `cifar` selects the
 * defaults of a 32x32 source (size 32 for CNN_TRANSFORM_NONE). */
cnn_status cnn_image_params_resolve(const char *caller,
                                    const cnn_image_params *in, int cifar,
                                    cnn_image_params *out);

/* The plan of sample `index` of epoch `epoch` under `seed` for a source of
 * width x height (both > 0) under resolved params. */
void cnn_image_plan_make(const cnn_image_params *p, int64_t width,
                         int64_t height, uint64_t seed, int64_t epoch,
                         int64_t index, cnn_image_plan *plan);

/* The largest JPEG scale denominator (1, 2, 4 or 8) at which the plan's
 * crop region still has at least resize_w x resize_h pixels. */
int cnn_image_plan_denom(const cnn_image_plan *plan);

/* Runs the plan on rgb (width x height, R G B interleaved), which is the
 * source decoded at 1/denom of its size (each side rounded up), into out
 * (3 x out_h x out_w floats): (v / 255 - mean[c]) / std[c] in float, as
 * ToTensor and Normalize compute it. CNN_ERR_OUT_OF_MEMORY (caller named)
 * when scratch memory runs out. */
cnn_status cnn_image_plan_run(const char *caller, const cnn_image_plan *plan,
                              const uint8_t *rgb, int64_t width,
                              int64_t height, int denom, const float mean[3],
                              const float std[3], float *out);

/* Python's round() of x / 2 for an integer x (half to even), which
 * torchvision's CenterCrop uses. */
int64_t cnn_image_half_round_even(int64_t x);

#endif /* CNN_IMAGE_TRANSFORM_H */
