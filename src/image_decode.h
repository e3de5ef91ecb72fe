/* src/image_decode.h - JPEG (libjpeg-turbo's TurboJPEG API) and PNG
 * (libpng) files in memory decoded to 8-bit RGB, converted the way PIL's
 * convert("RGB") does (docs/data.md). Private to the library; the fuzz
 * targets and the image tests call it directly. Thread-safe: every call
 * has its own decoder state. */
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

/* Decodes data[0..size) into *rgb (malloc'ed, width * height * 3 bytes,
 * rows top to bottom, R G B interleaved; the caller frees it). A JPEG is
 * decoded at 1/denom of its size (denom 1, 2, 4 or 8; its DCT scaling,
 * each side rounded up); a PNG always at full size (denom is ignored).
 * *width and *height receive the decoded size. CNN_ERR_FORMAT for a file
 * that is not a readable JPEG or PNG, truncated, or over max_pixels;
 * CNN_ERR_OUT_OF_MEMORY. Nothing is written on failure. */
cnn_status cnn_image_decode(const char *caller, const char *name,
                            const uint8_t *data, size_t size,
                            int64_t max_pixels, int denom, uint8_t **rgb,
                            int64_t *width, int64_t *height);

#endif /* CNN_IMAGE_DECODE_H */
