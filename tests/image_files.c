/* tests/image_files.c - writers of small JPEG and PNG files for the image
 * suites. */
#include "image_files.h"

#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <turbojpeg.h>

#include "test_util.h"

static char folder[64];

const char *image_test_folder(void)
{
    snprintf(folder, sizeof folder, "/tmp/cnn-test-images-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(folder));
    return folder;
}

void image_test_folder_remove(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", folder);
    ck_assert_int_eq(system(cmd), 0);
}

const char *image_test_path(const char *rel)
{
    static char paths[8][512];
    static int next;
    char *p = paths[next++ & 7];
    snprintf(p, sizeof paths[0], "%s/%s", folder, rel);
    return p;
}

void image_test_mkdir(const char *rel)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", image_test_path(rel));
    ck_assert_int_eq(system(cmd), 0);
}

void image_test_write(const char *rel, const void *data, size_t size)
{
    FILE *f = fopen(image_test_path(rel), "wb");
    ck_assert_ptr_nonnull(f);
    if (size)
        ck_assert_uint_eq(fwrite(data, 1, size, f), size);
    ck_assert_int_eq(fclose(f), 0);
}

void image_test_png(const char *rel, int w, int h, int color_type, int depth,
                    const uint8_t *samples, const uint8_t *palette,
                    int colors)
{
    FILE *f = fopen(image_test_path(rel), "wb");
    ck_assert_ptr_nonnull(f);
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL,
                                              NULL, NULL);
    ck_assert_ptr_nonnull(png);
    png_infop info = png_create_info_struct(png);
    ck_assert_ptr_nonnull(info);
    if (setjmp(png_jmpbuf(png)))
        ck_abort_msg("libpng could not write %s", rel);
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, depth, color_type,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    if (palette) {
        png_color pal[256];
        for (int i = 0; i < colors; ++i)
            pal[i] = (png_color){palette[3 * i], palette[3 * i + 1],
                                 palette[3 * i + 2]};
        png_set_PLTE(png, info, pal, colors);
    }
    png_write_info(png, info);
    int channels = color_type == PNG_COLOR_TYPE_RGB ? 3
                   : color_type == PNG_COLOR_TYPE_RGB_ALPHA ? 4
                   : color_type == PNG_COLOR_TYPE_GRAY_ALPHA ? 2 : 1;
    size_t row = ((size_t)w * (size_t)channels * (size_t)depth + 7) / 8;
    for (int y = 0; y < h; ++y)
        png_write_row(png, samples + row * (size_t)y);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    ck_assert_int_eq(fclose(f), 0);
}

void image_test_jpeg_memory(int w, int h, int format, int subsamp,
                            int quality, const uint8_t *pixels,
                            uint8_t **out, size_t *size)
{
    tjhandle tj = tjInitCompress();
    ck_assert_ptr_nonnull(tj);
    unsigned char *jpeg = NULL;
    unsigned long bytes = 0;
    ck_assert_msg(tjCompress2(tj, pixels, w, 0, h, format, &jpeg, &bytes,
                              subsamp, quality, 0) == 0,
                  "tjCompress2: %s", tjGetErrorStr2(tj));
    tjDestroy(tj);
    *out = jpeg;
    *size = bytes;
}

void image_test_jpeg(const char *rel, int w, int h, int format, int subsamp,
                     int quality, const uint8_t *pixels)
{
    uint8_t *jpeg = NULL;
    size_t bytes = 0;
    image_test_jpeg_memory(w, h, format, subsamp, quality, pixels, &jpeg,
                           &bytes);
    image_test_write(rel, jpeg, bytes);
    tjFree(jpeg);
}

uint8_t *image_test_read(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    ck_assert_int_ge(n, 0);
    rewind(f);
    uint8_t *data = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(data);
    ck_assert_uint_eq(fread(data, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *size = (size_t)n;
    return data;
}
