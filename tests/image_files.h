/* tests/image_files.h - writes the small image files and folders the image
 * suites need (JPEG with libjpeg-turbo's TurboJPEG, PNG with libpng), and a
 * scratch folder per test. Each helper fails the current Check test on
 * error. */
#ifndef CNN_TEST_IMAGE_FILES_H
#define CNN_TEST_IMAGE_FILES_H

#include <stddef.h>
#include <stdint.h>

/* Makes a fresh scratch folder and returns its path (static storage). */
const char *image_test_folder(void);
/* Removes it and everything in it. */
void image_test_folder_remove(void);

/* <folder>/<rel> in a static buffer (one of 8 rotating slots). */
const char *image_test_path(const char *rel);

/* Makes the folder <folder>/<rel> (and its parents). */
void image_test_mkdir(const char *rel);

/* Writes bytes to <folder>/<rel>. */
void image_test_write(const char *rel, const void *data, size_t size);

/* A PNG of w x h: color_type and depth as libpng's (PNG_COLOR_TYPE_*);
 * samples row by row as stored (16-bit big-endian; depth < 8 packed).
 * palette: `colors` RGB triples for PNG_COLOR_TYPE_PALETTE, else NULL. */
void image_test_png(const char *rel, int w, int h, int color_type, int depth,
                    const uint8_t *samples, const uint8_t *palette,
                    int colors);

/* A JPEG of w x h from pixels in TurboJPEG pixel format `format` (TJPF_*)
 * with chroma subsampling `subsamp` (TJSAMP_*) and quality 1..100. */
void image_test_jpeg(const char *rel, int w, int h, int format, int subsamp,
                     int quality, const uint8_t *pixels);

/* A JPEG in memory (tjFree after use). */
void image_test_jpeg_memory(int w, int h, int format, int subsamp,
                            int quality, const uint8_t *pixels,
                            uint8_t **out, size_t *size);

/* Reads a whole file; malloc'ed, the caller frees. */
uint8_t *image_test_read(const char *path, size_t *size);

#endif /* CNN_TEST_IMAGE_FILES_H */
