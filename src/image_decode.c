/* src/image_decode.c - JPEG and PNG decoding to 8-bit RGB with PIL's
 * conversions (docs/data.md, "Decoding"). */
#include "image_decode.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* jpeglib.h needs size_t and FILE before it; setjmp.h before png.h. */
#include <setjmp.h>
#include <jpeglib.h>
#include <jerror.h>
#include <png.h>

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

/* ------------------------------------------------------------------ JPEG */

/* A progressive JPEG may hold thousands of tiny scans that each cost a
 * pass over the image (a known way to make decoders crawl): refuse more
 * than this many, as TurboJPEG's TJFLAG_LIMITSCANS does. */
#define MAX_SCANS 500
/* Pixels decoded around a region on each side, so that the smooth
 * upsampling of chroma at the region's edges sees its true neighbours (the
 * tests check that the region's pixels equal a whole decode). */
#define REGION_MARGIN 16

typedef struct jpeg_state {
    struct jpeg_error_mgr mgr;
    struct jpeg_progress_mgr progress;
    jmp_buf jump;
    char message[JMSG_LENGTH_MAX];
    int truncated;
} jpeg_state;

static void jpeg_fail(j_common_ptr c)
{
    jpeg_state *st = (jpeg_state *)c->err;
    c->err->format_message(c, st->message);
    longjmp(st->jump, 1);
}

/* Warnings (level -1) are kept quiet; a premature end of data is noted:
 * PIL refuses a truncated file, and so do we. */
static void jpeg_note(j_common_ptr c, int level)
{
    jpeg_state *st = (jpeg_state *)c->err;
    if (level < 0 && c->err->msg_code == JWRN_JPEG_EOF)
        st->truncated = 1;
    if (level < 0)
        c->err->num_warnings++;
}

static void jpeg_count_scans(j_common_ptr c)
{
    j_decompress_ptr d = (j_decompress_ptr)c;
    if (c->is_decompressor && d->input_scan_number > MAX_SCANS) {
        jpeg_state *st = (jpeg_state *)c->err;
        snprintf(st->message, sizeof st->message,
                 "more than %d progressive scans", MAX_SCANS);
        longjmp(st->jump, 1);
    }
}

/* An end-of-image marker after the start of the first scan: in entropy-
 * coded data 0xff is always followed by 0x00 or a restart marker, so a
 * 0xff 0xd9 there is the end. A file cut short has none. */
static int has_end_marker(const uint8_t *data, size_t from, size_t size)
{
    for (size_t i = from; i + 1 < size; ++i) {
        const uint8_t *p = memchr(data + i, 0xff, size - 1 - i);
        if (!p)
            return 0;
        i = (size_t)(p - data);
        if (p[1] == 0xd9)
            return 1;
    }
    return 0;
}

static cnn_status jpeg_decode(const char *caller, const char *name,
                              const uint8_t *data, size_t size,
                              int64_t max_pixels, int denom, int probe_only,
                              const int64_t *region, cnn_image_rgb *out)
{
    struct jpeg_decompress_struct cinfo;
    jpeg_state st;
    memset(&st, 0, sizeof st);
    cinfo.err = jpeg_std_error(&st.mgr);
    st.mgr.error_exit = jpeg_fail;
    st.mgr.emit_message = jpeg_note;
    st.progress.progress_monitor = jpeg_count_scans;
    /* Written after setjmp and read after a longjmp: volatile. */
    uint8_t *volatile pixels = NULL;
    volatile int created = 0;
    if (setjmp(st.jump)) {
        free(pixels);
        if (created)
            jpeg_destroy_decompress(&cinfo);
        return cnn_error(CNN_ERR_FORMAT, "%s: %s is a corrupt or truncated "
                         "JPEG: %s", caller, name, st.message);
    }
    jpeg_create_decompress(&cinfo);
    created = 1;
    cinfo.progress = &st.progress;
    if (size > (size_t)0x7fffffff)
        ERREXIT(&cinfo, JERR_INPUT_EOF);
    jpeg_mem_src(&cinfo, data, (unsigned long)size);
    jpeg_read_header(&cinfo, TRUE);
    int64_t width = cinfo.image_width, height = cinfo.image_height;
    size_t scan_start = size - cinfo.src->bytes_in_buffer;
    cnn_status s = check_pixels(caller, name, width, height, max_pixels);
    if (s == CNN_OK && (st.truncated || !has_end_marker(data, scan_start,
                                                        size)))
        s = cnn_error(CNN_ERR_FORMAT, "%s: %s is a truncated JPEG (it has "
                      "no end-of-image marker)", caller, name);
    if (s != CNN_OK || probe_only) {
        jpeg_destroy_decompress(&cinfo);
        out->full_width = width;
        out->full_height = height;
        return s;
    }
    int cmyk = cinfo.jpeg_color_space == JCS_CMYK ||
               cinfo.jpeg_color_space == JCS_YCCK;
    cinfo.out_color_space = cmyk ? JCS_CMYK : JCS_RGB;
    cinfo.scale_num = 1;
    cinfo.scale_denom = (unsigned)denom;
    /* PIL's settings, which are libjpeg's defaults: the accurate integer
     * DCT and smooth upsampling. */
    cinfo.dct_method = JDCT_ISLOW;
    cinfo.do_fancy_upsampling = TRUE;
    jpeg_start_decompress(&cinfo);
    int64_t fw = cinfo.output_width, fh = cinfo.output_height;
    int64_t x0 = 0, y0 = 0, x1 = fw, y1 = fh;
    if (region) {
        x0 = region[0] - REGION_MARGIN;
        y0 = region[1] - REGION_MARGIN;
        x1 = region[2] + REGION_MARGIN;
        y1 = region[3] + REGION_MARGIN;
        x0 = x0 < 0 ? 0 : x0 > fw - 1 ? fw - 1 : x0;
        y0 = y0 < 0 ? 0 : y0 > fh - 1 ? fh - 1 : y0;
        x1 = x1 > fw ? fw : x1 <= x0 ? x0 + 1 : x1;
        y1 = y1 > fh ? fh : y1 <= y0 ? y0 + 1 : y1;
    }
    JDIMENSION left = (JDIMENSION)x0, columns = (JDIMENSION)(x1 - x0);
    if (columns < cinfo.output_width)
        jpeg_crop_scanline(&cinfo, &left, &columns); /* to block edges */
    int channels = cmyk ? 4 : 3;
    size_t row_bytes = (size_t)columns * (size_t)channels;
    pixels = malloc(row_bytes * (size_t)(y1 - y0));
    if (!pixels) {
        jpeg_destroy_decompress(&cinfo);
        return cnn_error(CNN_ERR_OUT_OF_MEMORY, "%s: no memory to decode %s "
                         "(%lld x %lld)", caller, name, (long long)columns,
                         (long long)(y1 - y0));
    }
    if (y0 > 0)
        jpeg_skip_scanlines(&cinfo, (JDIMENSION)y0);
    while ((int64_t)cinfo.output_scanline < y1) {
        JSAMPROW row = pixels + row_bytes * (cinfo.output_scanline - y0);
        if (jpeg_read_scanlines(&cinfo, &row, 1) != 1 || st.truncated)
            ERREXIT(&cinfo, JERR_INPUT_EOF);
    }
    if (y1 == fh)
        jpeg_finish_decompress(&cinfo);
    if (st.truncated)
        ERREXIT(&cinfo, JERR_INPUT_EOF);
    jpeg_destroy_decompress(&cinfo);
    uint8_t *rgb = pixels;
    size_t n = (size_t)columns * (size_t)(y1 - y0);
    if (cmyk) {
        for (size_t i = 0; i < n; ++i) {
            const uint8_t *p = rgb + 4 * i;
            uint8_t r = cmyk_channel(p[0], p[3]), g = cmyk_channel(p[1], p[3]),
                    b = cmyk_channel(p[2], p[3]);
            rgb[3 * i] = r;
            rgb[3 * i + 1] = g;
            rgb[3 * i + 2] = b;
        }
        uint8_t *smaller = realloc(rgb, n * 3);
        if (smaller)
            rgb = smaller;
    }
    *out = (cnn_image_rgb){rgb, left, y0, columns, y1 - y0, fw, fh};
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
                             int64_t max_pixels, cnn_image_rgb *result)
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
    *result = (cnn_image_rgb){out, 0, 0, w, h, w, h};
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
    cnn_image_rgb header = {0};
    cnn_status s = jpeg_decode(caller, name, data, size, max_pixels, 1, 1,
                               NULL, &header);
    *width = header.full_width;
    *height = header.full_height;
    return s;
}

cnn_status cnn_image_decode(const char *caller, const char *name,
                            const uint8_t *data, size_t size,
                            int64_t max_pixels, int denom,
                            const int64_t *region, cnn_image_rgb *out)
{
    if (size == 0)
        return cnn_error(CNN_ERR_FORMAT, "%s: %s is empty (0 bytes)", caller,
                         name);
    if (denom != 1 && denom != 2 && denom != 4 && denom != 8)
        return cnn_error(CNN_ERR_INTERNAL, "%s: scale 1/%d for %s", caller,
                         denom, name);
    switch (cnn_image_sniff(data, size)) {
    case CNN_IMAGE_JPEG:
        return jpeg_decode(caller, name, data, size, max_pixels, denom, 0,
                           region, out);
    case CNN_IMAGE_PNG:
        return png_decode(caller, name, data, size, max_pixels, out);
    default:
        return cnn_error(CNN_ERR_FORMAT, "%s: %s is neither a JPEG nor a PNG "
                         "file", caller, name);
    }
}
