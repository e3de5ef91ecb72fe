/* src/image_decode.h - JPEG (libjpeg-turbo, through its libjpeg API) and
 * PNG (libpng) files in memory decoded to 8-bit RGB, converted the way
 * PIL's convert("RGB") does (docs/data.md). A JPEG can be decoded at 1/2,
 * 1/4 or 1/8 of its size (DCT scaling) and only around a region (the rows
 * and column blocks a crop needs), with the same pixels there as a whole
 * decode. Private to the library; the fuzz targets and the image tests call
 * it directly. Thread-safe: every call has its own decoder state. */
#ifndef CNN_IMAGE_DECODE_H
#define CNN_IMAGE_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "cnn/status.h"

typedef enum cnn_image_kind {
    CNN_IMAGE_UNKNOWN = 0,
    CNN_IMAGE_JPEG,
    CNN_IMAGE_PNG
} cnn_image_kind;

/* The kind of file from its first bytes (magic numbers). */
cnn_image_kind cnn_image_sniff(const uint8_t *data, size_t size);

/* Reads the size of the image in data[0..size) without decoding it. On
 * failure records an error "caller: name ..." and returns CNN_ERR_FORMAT:
 * empty, not a JPEG or PNG, a header that cannot be read, or width *
 * height over max_pixels. */
cnn_status cnn_image_probe(const char *caller, const char *name,
                           const uint8_t *data, size_t size,
                           int64_t max_pixels, cnn_image_kind *kind,
                           int64_t *width, int64_t *height);

/* Decoded pixels: rows top to bottom, R G B interleaved, `width` x
 * `height` of them, which are the part of the image (scaled) whose top
 * left pixel is (left, top); the whole scaled image is full_width x
 * full_height. */
typedef struct cnn_image_rgb {
    uint8_t *pixels; /* malloc'ed: free() it */
    int64_t left, top, width, height;
    int64_t full_width, full_height;
} cnn_image_rgb;

/* Decodes data[0..size) at 1/denom of its size (denom 1, 2, 4 or 8; a
 * JPEG's DCT scaling, each side rounded up; a PNG ignores denom and is
 * decoded whole) into *out. region (NULL: the whole image) is {x0, y0, x1,
 * y1} in the scaled image: a JPEG is then decoded only over the rows and
 * column blocks around it (out->left, out->top say where the pixels start),
 * with the same values there as a whole decode. CNN_ERR_FORMAT for a file
 * that is not a readable JPEG or PNG, truncated, or over max_pixels;
 * CNN_ERR_OUT_OF_MEMORY. Nothing is allocated on failure. */
cnn_status cnn_image_decode(const char *caller, const char *name,
                            const uint8_t *data, size_t size,
                            int64_t max_pixels, int denom,
                            const int64_t *region, cnn_image_rgb *out);

#endif /* CNN_IMAGE_DECODE_H */
