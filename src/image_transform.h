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
#include "image_decode.h"

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

/* The part of the source decoded at 1/denom (full_w x full_h, each side
 * of the source rounded up) that the plan reads: region = {x0, y0, x1,
 * y1}, the crop in those coordinates (edges rounded outward). */
void cnn_image_plan_region(const cnn_image_plan *plan, int denom,
                           int64_t full_w, int64_t full_h, int64_t region[4]);

/* Runs the plan on img, the source decoded at 1/denom of its size and at
 * least over cnn_image_plan_region's region, into out (3 x out_h x out_w
 * floats): (v / 255 - mean[c]) / std[c] in float, as ToTensor and
 * Normalize compute it. CNN_ERR_OUT_OF_MEMORY (caller named) when scratch
 * memory runs out; CNN_ERR_INTERNAL if img misses part of the region. */
cnn_status cnn_image_plan_run(const char *caller, const cnn_image_plan *plan,
                              const cnn_image_rgb *img, int denom,
                              const float mean[3], const float std[3],
                              float *out);

/* Python's round() of x / 2 for an integer x (half to even), which
 * torchvision's CenterCrop uses. */
int64_t cnn_image_half_round_even(int64_t x);

#endif /* CNN_IMAGE_TRANSFORM_H */
