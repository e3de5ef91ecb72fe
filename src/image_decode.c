/* src/image_decode.c - JPEG and PNG decoding to 8-bit RGB with PIL's
 * conversions (docs/data.md, "Decoding"). */
#include "image_decode.h"

#include <png.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

#include "core.h"

static const uint8_t png_magic[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a,
                                     '\n'};

cnn_image_kind cnn_image_sniff(const uint8_t *data, size_t size)
{
    if (size >= 3 && data[0] == 0xff && data[1] == 0xd8 && data[2] == 0xff)
        return CNN_IMAGE_JPEG;
    if (size >= 8 && memcmp(data, png_magic, 8) == 0)
        return CNN_IMAGE_PNG;
    return CNN_IMAGE_UNKNOWN;
}

static cnn_status check_pixels(const char *caller, const char *name,
                               int64_t width, int64_t height,
                               int64_t max_pixels)
{
    if (width <= 0 || height <= 0)
        return cnn_error(CNN_ERR_FORMAT, "%s: %s claims a %lld x %lld image",
                         caller, name, (long long)width, (long long)height);
    if (width > max_pixels / height)
        return cnn_error(CNN_ERR_FORMAT,
                         "%s: %s is %lld x %lld pixels, over the limit of %lld "
                         "pixels (a decompression bomb?)", caller, name,
                         (long long)width, (long long)height,
                         (long long)max_pixels);
    return CNN_OK;
}

/* ------------------------------------------------------------------ JPEG */

/* TurboJPEG's sizes are ints: refuse anything past that before asking. */
static cnn_status jpeg_header(const char *caller, const char *name,
                              tjhandle tj, const uint8_t *data, size_t size,
                              int64_t max_pixels, int *width, int *height,
                              int *colorspace)
{
    int subsamp = 0;
    if (size > (size_t)0x7fffffff)
        return cnn_error(CNN_ERR_FORMAT, "%s: %s is too large for a JPEG",
                         caller, name);
    if (tjDecompressHeader3(tj, data, (unsigned long)size, width, height,
                            &subsamp, colorspace) != 0)
        return cnn_error(CNN_ERR_FORMAT, "%s: %s is not a readable JPEG: %s",
                         caller, name, tjGetErrorStr2(tj));
    if (*width <= 0 || *height <= 0)
        return cnn_error(CNN_ERR_FORMAT, "%s: %s is not a readable JPEG: its "
                         "header gives %d x %d pixels (truncated?)", caller,
                         name, *width, *height);
    return check_pixels(caller, name, *width, *height, max_pixels);
}

/* PIL reads a CMYK JPEG as inverted CMYK (Adobe's convention, which
 * libjpeg and Photoshop write): c' = 255 - stored c, k' = 255 - stored k;
 * then convert("RGB") gives r = (255 - k') - c' (255 - k') / 255, the
 * division rounded as PIL's MULDIV255 does. */
static uint8_t cmyk_channel(uint8_t c, uint8_t k)
{
    int ci = 255 - c, nk = k; /* nk = 255 - k' */
    int t = ci * nk + 128;
    int v = nk - ((t + (t >> 8)) >> 8);
    return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

static cnn_status jpeg_decode(const char *caller, const char *name,
                              const uint8_t *data, size_t size,
                              int64_t max_pixels, int denom, uint8_t **rgb,
                              int64_t *out_w, int64_t *out_h)
{
    tjhandle tj = tjInitDecompress();
    if (!tj)
        return cnn_error(CNN_ERR_OUT_OF_MEMORY,
                         "%s: no memory for a JPEG decoder", caller);
    int width = 0, height = 0, colorspace = 0;
    cnn_status s = jpeg_header(caller, name, tj, data, size, max_pixels,
                               &width, &height, &colorspace);
    uint8_t *pixels = NULL;
    int cmyk = colorspace == TJCS_CMYK || colorspace == TJCS_YCCK;
    tjscalingfactor factor = {1, denom};
    int w = TJSCALED(width, factor), h = TJSCALED(height, factor);
    if (s == CNN_OK) {
        pixels = malloc((size_t)w * (size_t)h * (cmyk ? 4 : 3));
        if (!pixels)
            s = cnn_error(CNN_ERR_OUT_OF_MEMORY,
                          "%s: no memory to decode %s (%d x %d)", caller,
                          name, w, h);
    }
    if (s == CNN_OK &&
        tjDecompress2(tj, data, (unsigned long)size, pixels, w, 0, h,
                      cmyk ? TJPF_CMYK : TJPF_RGB, TJFLAG_LIMITSCANS) != 0) {
        const char *why = tjGetErrorStr2(tj);
        /* A warning leaves a whole image; PIL refuses a truncated file
         * ("image file is truncated") and accepts the rest. */
        if (tjGetErrorCode(tj) != TJERR_WARNING ||
            strstr(why, "Premature end") != NULL)
            s = cnn_error(CNN_ERR_FORMAT, "%s: %s is a corrupt or truncated "
                          "JPEG: %s", caller, name, why);
        else
            cnn_log(CNN_LOG_DEBUG, "%s: %s: %s", caller, name, why);
    }
    tjDestroy(tj);
    if (s != CNN_OK) {
        free(pixels);
        return s;
    }
    if (cmyk) {
        size_t n = (size_t)w * (size_t)h;
        for (size_t i = 0; i < n; ++i) {
            const uint8_t *p = pixels + 4 * i;
            uint8_t r = cmyk_channel(p[0], p[3]), g = cmyk_channel(p[1], p[3]),
                    b = cmyk_channel(p[2], p[3]);
            pixels[3 * i] = r;
            pixels[3 * i + 1] = g;
            pixels[3 * i + 2] = b;
        }
        uint8_t *smaller = realloc(pixels, n * 3);
        if (smaller)
            pixels = smaller;
    }
    *rgb = pixels;
    *out_w = w;
    *out_h = h;
    return CNN_OK;
}

/* ------------------------------------------------------------------- PNG */

typedef struct png_reader {
    const uint8_t *data;
    size_t size, pos;
    char message[160];
} png_reader;

static void png_fail(png_structp png, png_const_charp message)
{
    png_reader *r = png_get_error_ptr(png);
    snprintf(r->message, sizeof r->message, "%s", message);
    png_longjmp(png, 1);
}

static void png_quiet(png_structp png, png_const_charp message)
{
    (void)png;
    (void)message;
}

static void png_read_memory(png_structp png, png_bytep out, size_t n)
{
    png_reader *r = png_get_io_ptr(png);
    if (n > r->size - r->pos)
        png_error(png, "truncated file");
    memcpy(out, r->data + r->pos, n);
    r->pos += n;
}

/* IHDR: the first chunk, width and height big-endian at bytes 16 and 20. */
static cnn_status png_probe(const char *caller, const char *name,
                            const uint8_t *data, size_t size,
                            int64_t max_pixels, int64_t *width,
                            int64_t *height)
{
    if (size < 24 || memcmp(data + 12, "IHDR", 4) != 0)
        return cnn_error(CNN_ERR_FORMAT, "%s: %s is a PNG without a header "
                         "(truncated?)", caller, name);
    const uint8_t *p = data + 16;
    *width = (int64_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
    *height = (int64_t)p[4] << 24 | p[5] << 16 | p[6] << 8 | p[7];
    return check_pixels(caller, name, *width, *height, max_pixels);
}

static cnn_status png_decode(const char *caller, const char *name,
                             const uint8_t *data, size_t size,
                             int64_t max_pixels, uint8_t **rgb,
                             int64_t *out_w, int64_t *out_h)
{
    int64_t probe_w = 0, probe_h = 0;
    cnn_status s = png_probe(caller, name, data, size, max_pixels, &probe_w,
                             &probe_h);
    if (s != CNN_OK)
        return s;
    png_reader reader = {data, size, 0, ""};
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &reader,
                                             png_fail, png_quiet);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info) {
        png_destroy_read_struct(&png, NULL, NULL);
        return cnn_error(CNN_ERR_OUT_OF_MEMORY,
                         "%s: no memory for a PNG decoder", caller);
    }
    /* Written after setjmp and read after a longjmp: volatile. */
    uint8_t *volatile raw = NULL;
    uint8_t **volatile rows = NULL;
    uint8_t *volatile out = NULL;
    volatile int oom = 0;
    if (setjmp(png_jmpbuf(png))) {
        free(raw);
        free(rows);
        free(out);
        png_destroy_read_struct(&png, &info, NULL);
        if (oom)
            return cnn_error(CNN_ERR_OUT_OF_MEMORY,
                             "%s: no memory to decode %s", caller, name);
        return cnn_error(CNN_ERR_FORMAT,
                         "%s: %s is a corrupt or truncated PNG: %s", caller,
                         name, reader.message);
    }
    png_set_read_fn(png, &reader, png_read_memory);
    png_set_user_limits(png, 0x7fffffff, 0x7fffffff);
    png_read_info(png, info);
    png_uint_32 w = png_get_image_width(png, info),
                h = png_get_image_height(png, info);
    if (w != probe_w || h != probe_h)
        png_error(png, "the header changed while reading");
    int depth = png_get_bit_depth(png, info);
    int type = png_get_color_type(png, info);
    /* PIL opens 16-bit greyscale as 32-bit integers ("I") and convert("RGB")
     * clips them to 255; every other 16-bit PNG keeps its high bytes. */
    int clip16 = depth == 16 && type == PNG_COLOR_TYPE_GRAY;
    if (type == PNG_COLOR_TYPE_PALETTE)
        png_set_palette_to_rgb(png);
    if (type == PNG_COLOR_TYPE_GRAY && depth < 8)
        png_set_expand_gray_1_2_4_to_8(png);
    if (depth == 16 && !clip16)
        png_set_strip_16(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    size_t row_bytes = png_get_rowbytes(png, info);
    int channels = png_get_channels(png, info);
    if (row_bytes != (size_t)w * (size_t)channels * (clip16 ? 2 : 1))
        png_error(png, "unexpected row layout");
    raw = malloc(row_bytes * h);
    rows = malloc(sizeof *rows * h);
    out = malloc((size_t)w * h * 3);
    if (!raw || !rows || !out) {
        oom = 1;
        png_error(png, "out of memory");
    }
    for (png_uint_32 y = 0; y < h; ++y)
        rows[y] = raw + row_bytes * y;
    png_read_image(png, rows);
    png_read_end(png, NULL);
    size_t n = (size_t)w * h;
    for (size_t i = 0; i < n; ++i) {
        uint8_t *o = out + 3 * i;
        if (clip16) {
            int v = raw[2 * i] << 8 | raw[2 * i + 1];
            o[0] = o[1] = o[2] = (uint8_t)(v > 255 ? 255 : v);
        } else if (channels <= 2) { /* grey, grey + alpha */
            o[0] = o[1] = o[2] = raw[channels * i];
        } else { /* RGB, RGBA: alpha dropped, as convert("RGB") does */
            const uint8_t *p = raw + channels * i;
            o[0] = p[0];
            o[1] = p[1];
            o[2] = p[2];
        }
    }
    free(raw);
    free(rows);
    png_destroy_read_struct(&png, &info, NULL);
    *rgb = out;
    *out_w = w;
    *out_h = h;
    return CNN_OK;
}

/* ------------------------------------------------------------ both kinds */

cnn_status cnn_image_probe(const char *caller, const char *name,
                           const uint8_t *data, size_t size,
                           int64_t max_pixels, cnn_image_kind *kind,
                           int64_t *width, int64_t *height)
{
    if (size == 0)
        return cnn_error(CNN_ERR_FORMAT, "%s: %s is empty (0 bytes)", caller,
                         name);
    *kind = cnn_image_sniff(data, size);
    if (*kind == CNN_IMAGE_PNG)
        return png_probe(caller, name, data, size, max_pixels, width, height);
    if (*kind != CNN_IMAGE_JPEG)
        return cnn_error(CNN_ERR_FORMAT, "%s: %s is neither a JPEG nor a PNG "
                         "file", caller, name);
    tjhandle tj = tjInitDecompress();
    if (!tj)
        return cnn_error(CNN_ERR_OUT_OF_MEMORY,
                         "%s: no memory for a JPEG decoder", caller);
    int w = 0, h = 0, colorspace = 0;
    cnn_status s = jpeg_header(caller, name, tj, data, size, max_pixels, &w,
                               &h, &colorspace);
    tjDestroy(tj);
    *width = w;
    *height = h;
    return s;
}

cnn_status cnn_image_decode(const char *caller, const char *name,
                            const uint8_t *data, size_t size,
                            int64_t max_pixels, int denom, uint8_t **rgb,
                            int64_t *width, int64_t *height)
{
    if (size == 0)
        return cnn_error(CNN_ERR_FORMAT, "%s: %s is empty (0 bytes)", caller,
                         name);
    if (denom != 1 && denom != 2 && denom != 4 && denom != 8)
        return cnn_error(CNN_ERR_INTERNAL, "%s: scale 1/%d for %s", caller,
                         denom, name);
    switch (cnn_image_sniff(data, size)) {
    case CNN_IMAGE_JPEG:
        return jpeg_decode(caller, name, data, size, max_pixels, denom, rgb,
                           width, height);
    case CNN_IMAGE_PNG:
        return png_decode(caller, name, data, size, max_pixels, rgb, width,
                          height);
    default:
        return cnn_error(CNN_ERR_FORMAT, "%s: %s is neither a JPEG nor a PNG "
                         "file", caller, name);
    }
}
