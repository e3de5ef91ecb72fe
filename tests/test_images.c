/* tests/test_images.c - decoding and transforms: JPEG and PNG files written
 * here with libjpeg-turbo and libpng decoded to known pixels (PIL's
 * convert("RGB") rules), every file kind and every transform against PIL
 * and torchvision 0.14 (tests/fixtures/images.bin, made by
 * tests/fixtures/make_images.py), each recipe's geometry, the Philox draws'
 * reproducibility, and the decoder's refusals (truncated, not an image,
 * empty, decompression bombs). Links the static library to reach the
 * decoder and the transform plans. Label: cpu. */
#include <math.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <turbojpeg.h>

#include "fixture.h"
#include "../src/image_decode.h"
#include "image_files.h"
#include "../src/image_transform.h"
#include "test_util.h"

static const char caller[] = "test";
#define LIMIT ((int64_t)1 << 26)

static uint8_t *decode_file(const char *path, int denom, int64_t *w,
                            int64_t *h)
{
    size_t size = 0;
    uint8_t *data = image_test_read(path, &size);
    cnn_image_rgb rgb;
    ck_assert_ok(cnn_image_decode(caller, path, data, size, LIMIT, denom,
                                  NULL, &rgb));
    ck_assert_int_eq(rgb.left, 0);
    ck_assert_int_eq(rgb.top, 0);
    ck_assert_int_eq(rgb.width, rgb.full_width);
    ck_assert_int_eq(rgb.height, rgb.full_height);
    free(data);
    *w = rgb.width;
    *h = rgb.height;
    return rgb.pixels;
}

/* ------------------------------------------------------------- decoding */

START_TEST(png_pixels_as_written)
{
    image_test_folder();
    enum { W = 5, H = 3 };
    uint8_t rgb[W * H * 3], rgba[W * H * 4], grey[W * H], grey16[W * H * 2];
    uint16_t g16[W * H] = {0, 1, 200, 255, 256, 257, 1000, 65535, 254, 100,
                           7, 300, 255, 512, 3};
    for (int i = 0; i < W * H; ++i) {
        int x = i % W, y = i / W;
        rgb[3 * i] = (uint8_t)(10 * x);
        rgb[3 * i + 1] = (uint8_t)(50 * y + 1);
        rgb[3 * i + 2] = (uint8_t)(255 - i);
        for (int c = 0; c < 3; ++c)
            rgba[4 * i + c] = rgb[3 * i + c];
        rgba[4 * i + 3] = (uint8_t)(17 * i); /* dropped */
        grey[i] = (uint8_t)(16 * i + 3);
        grey16[2 * i] = (uint8_t)(g16[i] >> 8);
        grey16[2 * i + 1] = (uint8_t)g16[i];
    }
    image_test_png("rgb.png", W, H, PNG_COLOR_TYPE_RGB, 8, rgb, NULL, 0);
    image_test_png("rgba.png", W, H, PNG_COLOR_TYPE_RGB_ALPHA, 8, rgba, NULL,
                   0);
    image_test_png("grey.png", W, H, PNG_COLOR_TYPE_GRAY, 8, grey, NULL, 0);
    image_test_png("grey16.png", W, H, PNG_COLOR_TYPE_GRAY, 16, grey16, NULL,
                   0);
    /* Palette: index i % 4 into four colours. */
    const uint8_t palette[12] = {1, 2, 3, 250, 0, 0, 0, 250, 0, 9, 99, 199};
    uint8_t indices[W * H];
    for (int i = 0; i < W * H; ++i)
        indices[i] = (uint8_t)(i % 4);
    image_test_png("pal.png", W, H, PNG_COLOR_TYPE_PALETTE, 8, indices,
                   palette, 4);
    /* 16-bit RGB keeps the high bytes; grey + alpha drops the alpha. */
    uint8_t rgb16[W * H * 6], la[W * H * 2];
    for (int i = 0; i < W * H * 3; ++i) {
        rgb16[2 * i] = rgb[i];
        rgb16[2 * i + 1] = (uint8_t)(255 - rgb[i]); /* low byte: dropped */
    }
    for (int i = 0; i < W * H; ++i) {
        la[2 * i] = grey[i];
        la[2 * i + 1] = (uint8_t)(3 * i);
    }
    image_test_png("rgb16.png", W, H, PNG_COLOR_TYPE_RGB, 16, rgb16, NULL, 0);
    image_test_png("la.png", W, H, PNG_COLOR_TYPE_GRAY_ALPHA, 8, la, NULL, 0);
    /* 1-bit grey, 8 pixels a byte, most significant first: 0 or 255. */
    const uint8_t bits[3] = {0xA0, 0x50, 0xF8}; /* rows of 5 pixels */
    image_test_png("bits.png", W, H, PNG_COLOR_TYPE_GRAY, 1, bits, NULL, 0);

    int64_t w, h;
    uint8_t *out = decode_file(image_test_path("rgb.png"), 1, &w, &h);
    ck_assert_int_eq(w, W);
    ck_assert_int_eq(h, H);
    ck_assert_mem_eq(out, rgb, sizeof rgb);
    free(out);
    out = decode_file(image_test_path("rgba.png"), 1, &w, &h);
    ck_assert_mem_eq(out, rgb, sizeof rgb);
    free(out);
    out = decode_file(image_test_path("rgb16.png"), 1, &w, &h);
    ck_assert_mem_eq(out, rgb, sizeof rgb);
    free(out);
    const char *greys[] = {"grey.png", "la.png"};
    for (int f = 0; f < 2; ++f) {
        out = decode_file(image_test_path(greys[f]), 1, &w, &h);
        for (int i = 0; i < W * H; ++i)
            for (int c = 0; c < 3; ++c)
                ck_assert_uint_eq(out[3 * i + c], grey[i]);
        free(out);
    }
    /* PIL opens 16-bit grey as 32-bit integers; convert("RGB") clips. */
    out = decode_file(image_test_path("grey16.png"), 1, &w, &h);
    for (int i = 0; i < W * H; ++i)
        ck_assert_uint_eq(out[3 * i], g16[i] > 255 ? 255 : g16[i]);
    free(out);
    out = decode_file(image_test_path("pal.png"), 1, &w, &h);
    for (int i = 0; i < W * H; ++i)
        ck_assert_mem_eq(out + 3 * i, palette + 3 * (i % 4), 3);
    free(out);
    out = decode_file(image_test_path("bits.png"), 1, &w, &h);
    for (int i = 0; i < W * H; ++i) {
        int x = i % W, y = i / W;
        int bit = bits[y] >> (7 - x) & 1;
        ck_assert_uint_eq(out[3 * i + 1], bit ? 255 : 0);
    }
    free(out);
    image_test_folder_remove();
}
END_TEST

START_TEST(jpeg_pixels_and_dct_scaling)
{
    image_test_folder();
    enum { W = 64, H = 48 };
    static uint8_t rgb[W * H * 3], grey[W * H], cmyk[W * H * 4];
    for (int i = 0; i < W * H; ++i) {
        rgb[3 * i] = 200;
        rgb[3 * i + 1] = 100;
        rgb[3 * i + 2] = 50;
        grey[i] = 77;
        /* Adobe's inverted CMYK as stored: with k stored 255 (no black)
         * the colour is (c, m, y) stored; k stored 128 halves it. */
        cmyk[4 * i] = 255;
        cmyk[4 * i + 1] = 128;
        cmyk[4 * i + 2] = 0;
        cmyk[4 * i + 3] = i < W * H / 2 ? 255 : 128;
    }
    image_test_jpeg("rgb.jpg", W, H, TJPF_RGB, TJSAMP_444, 100, rgb);
    image_test_jpeg("grey.jpg", W, H, TJPF_GRAY, TJSAMP_GRAY, 100, grey);
    image_test_jpeg("cmyk.jpg", W, H, TJPF_CMYK, TJSAMP_444, 100, cmyk);
    for (int denom = 1; denom <= 8; denom *= 2) {
        int64_t w, h;
        uint8_t *out = decode_file(image_test_path("rgb.jpg"), denom, &w, &h);
        ck_assert_int_eq(w, W / denom);
        ck_assert_int_eq(h, H / denom);
        for (int64_t i = 0; i < w * h; ++i) {
            ck_assert_int_le(abs(out[3 * i] - 200), 2);
            ck_assert_int_le(abs(out[3 * i + 1] - 100), 2);
            ck_assert_int_le(abs(out[3 * i + 2] - 50), 2);
        }
        free(out);
    }
    int64_t w, h;
    uint8_t *out = decode_file(image_test_path("grey.jpg"), 1, &w, &h);
    for (int64_t i = 0; i < w * h; ++i)
        for (int c = 0; c < 3; ++c)
            ck_assert_int_le(abs(out[3 * i + c] - 77), 1);
    free(out);
    /* PIL: r = K - (255 - C) K / 255 with C, K as stored. */
    out = decode_file(image_test_path("cmyk.jpg"), 1, &w, &h);
    const int top[3] = {255, 128, 0}, bottom[3] = {128, 64, 0};
    for (int c = 0; c < 3; ++c) {
        ck_assert_int_le(abs(out[3 * (W * 2 + 5) + c] - top[c]), 2);
        ck_assert_int_le(abs(out[3 * (W * (H - 3) + 9) + c] - bottom[c]), 2);
    }
    free(out);
    image_test_folder_remove();
}
END_TEST

/* A region decode (only the rows and column blocks around it) gives the
 * whole decode's pixels over the region, at every scale, for every
 * subsampling, greyscale, CMYK and progressive files. */
START_TEST(jpeg_regions_equal_whole_decode)
{
    enum { W = 203, H = 157 };
    static uint8_t rgb[W * H * 4];
    for (int i = 0; i < W * H * 4; ++i)
        rgb[i] = (uint8_t)(128 + 100 * sin(i * 0.0007) + (i * 7919 % 41));
    const int samps[] = {TJSAMP_444, TJSAMP_422, TJSAMP_420, TJSAMP_440,
                         TJSAMP_411, TJSAMP_GRAY, TJSAMP_444};
    const int formats[] = {TJPF_RGB, TJPF_RGB, TJPF_RGB, TJPF_RGB, TJPF_RGB,
                           TJPF_GRAY, TJPF_CMYK};
    uint32_t state = 12345;
    int regions = 0;
    for (int f = 0; f < 8; ++f) {
        uint8_t *jpeg = NULL;
        size_t size = 0;
        if (f < 7) {
            image_test_jpeg_memory(W, H, formats[f], samps[f], 85, rgb, &jpeg,
                                   &size);
        } else { /* progressive, from the fixtures */
            char path[512];
            snprintf(path, sizeof path, "%s/images/progressive.jpg",
                     CNN_FIXTURE_DIR);
            jpeg = image_test_read(path, &size);
        }
        for (int denom = 1; denom <= 8; denom *= 2) {
            cnn_image_rgb whole, part;
            ck_assert_ok(cnn_image_decode(caller, "x", jpeg, size, LIMIT,
                                          denom, NULL, &whole));
            for (int t = 0; t < 12; ++t) {
                int64_t fw = whole.full_width, fh = whole.full_height, r[4];
                state = state * 1664525u + 1013904223u;
                r[0] = (int64_t)(state >> 8) % fw;
                state = state * 1664525u + 1013904223u;
                r[1] = (int64_t)(state >> 8) % fh;
                state = state * 1664525u + 1013904223u;
                r[2] = r[0] + 1 + (int64_t)(state >> 8) % (fw - r[0]);
                state = state * 1664525u + 1013904223u;
                r[3] = r[1] + 1 + (int64_t)(state >> 8) % (fh - r[1]);
                ck_assert_ok(cnn_image_decode(caller, "x", jpeg, size, LIMIT,
                                              denom, r, &part));
                ck_assert_int_le(part.left, r[0]);
                ck_assert_int_le(part.top, r[1]);
                ck_assert_int_ge(part.left + part.width, r[2]);
                ck_assert_int_ge(part.top + part.height, r[3]);
                for (int64_t y = r[1]; y < r[3]; ++y)
                    ck_assert_msg(
                        memcmp(part.pixels + ((y - part.top) * part.width +
                                              r[0] - part.left) * 3,
                               whole.pixels + (y * whole.width + r[0]) * 3,
                               (size_t)(r[2] - r[0]) * 3) == 0,
                        "file %d at 1/%d: row %lld of region %lld,%lld - "
                        "%lld,%lld differs from the whole decode", f, denom,
                        (long long)y, (long long)r[0], (long long)r[1],
                        (long long)r[2], (long long)r[3]);
                free(part.pixels);
                ++regions;
            }
            free(whole.pixels);
        }
        if (f < 7)
            tjFree(jpeg);
        else
            free(jpeg);
    }
    ck_assert_int_eq(regions, 8 * 4 * 12);
}
END_TEST

/* Every recipe's plan run on the region decode (what the image source
 * does) gives the bits of the same plan on the whole decode. */
START_TEST(region_decode_gives_the_same_samples)
{
    enum { W = 333, H = 250 };
    static uint8_t rgb[W * H * 3];
    for (int i = 0; i < W * H * 3; ++i)
        rgb[i] = (uint8_t)(128 + 90 * sin(i * 0.0011) + (i * 7919 % 37));
    uint8_t *jpeg = NULL;
    size_t size = 0;
    image_test_jpeg_memory(W, H, TJPF_RGB, TJSAMP_420, 90, rgb, &jpeg, &size);
    cnn_image_rgb whole;
    ck_assert_ok(cnn_image_decode(caller, "x", jpeg, size, LIMIT, 1, NULL,
                                  &whole));
    const int64_t sizes[] = {24, 40, 100};
    int compared = 0, smaller = 0;
    for (int t = 0; t < 4; ++t)
        for (int train = 0; train < 2; ++train)
            for (int k = 0; k < 3; ++k) {
                cnn_image_params p = cnn_image_params_default(), r;
                p.transform = (cnn_transform)t;
                p.train = train;
                p.size = sizes[k];
                p.resize = sizes[k] + 8 * k;
                p.dct_scaling = 0;
                ck_assert_ok(cnn_image_params_resolve(caller, &p, 0, &r));
                int64_t n = 3 * r.size * r.size;
                float *a = malloc(sizeof *a * (size_t)n);
                float *b = malloc(sizeof *b * (size_t)n);
                for (int64_t index = 0; index < 6; ++index) {
                    cnn_image_plan plan;
                    cnn_image_plan_make(&r, W, H, 3, 1, index, &plan);
                    int64_t region[4];
                    cnn_image_plan_region(&plan, 1, W, H, region);
                    cnn_image_rgb part;
                    ck_assert_ok(cnn_image_decode(caller, "x", jpeg, size,
                                                  LIMIT, 1, region, &part));
                    ck_assert_ok(cnn_image_plan_run(caller, &plan, &part, 1,
                                                    r.mean, r.std, a));
                    ck_assert_ok(cnn_image_plan_run(caller, &plan, &whole, 1,
                                                    r.mean, r.std, b));
                    ck_assert_msg(memcmp(a, b, sizeof *a * (size_t)n) == 0,
                                  "recipe %d train %d size %lld sample %lld: "
                                  "the region decode changes the sample", t,
                                  train, (long long)r.size, (long long)index);
                    smaller += part.width * part.height < W * H;
                    free(part.pixels);
                    ++compared;
                }
                free(a);
                free(b);
            }
    ck_assert_int_eq(compared, 4 * 2 * 3 * 6);
    ck_assert_int_gt(smaller, compared / 2); /* most decode less */
    free(whole.pixels);
    tjFree(jpeg);
}
END_TEST

/* The fixture's files, in make_images.py's FILES order. */
static const char *const fixture_files[] = {
    "a.jpg", "b.png", "c.jpg", "grey.png", "grey16.png", "bilevel.png",
    "rgba.png", "la.png", "palette.png", "cmyk.jpg", "grey.jpg",
    "progressive.jpg", "interlaced.png"};
#define FIXTURE_FILES (int)(sizeof fixture_files / sizeof *fixture_files)
/* The transform cases make_images.py writes (case_0 .. case_12). */
#define FIXTURE_CASES 13

static const char *fixture_file(int k)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/images/%s", CNN_FIXTURE_DIR,
             fixture_files[k]);
    return path;
}

START_TEST(decoding_matches_pil)
{
    cnn_fixture *f = cnn_fixture_load("images.bin");
    for (int k = 0; k < FIXTURE_FILES; ++k) {
        char name[32];
        snprintf(name, sizeof name, "decode_%d", k);
        const cnn_fixture_tensor *t = cnn_fixture_get(f, name);
        int64_t w, h;
        uint8_t *out = decode_file(fixture_file(k), 1, &w, &h);
        ck_assert_int_eq(t->ndim, 3);
        ck_assert_int_eq(h, t->dims[0]);
        ck_assert_int_eq(w, t->dims[1]);
        const int32_t *expect = t->data;
        int64_t differ = 0;
        for (int64_t i = 0; i < w * h * 3; ++i)
            differ += out[i] != expect[i];
        ck_assert_msg(differ == 0, "%s: %lld of %lld values differ from PIL",
                      fixture_files[k], (long long)differ,
                      (long long)(w * h * 3));
        free(out);
    }
    cnn_fixture_free(f);
}
END_TEST

/* Every transform of the fixture with its fixed parameters, against
 * torchvision on PIL: crops, flips, padding and PIL's bilinear resampling
 * (reproduced in PIL's integer arithmetic), equal to the bit. */
START_TEST(transforms_match_torchvision)
{
    cnn_fixture *f = cnn_fixture_load("images.bin");
    const float mean[3] = {0.485f, 0.456f, 0.406f},
                std[3] = {0.229f, 0.224f, 0.225f};
    int cases = 0;
    for (int n = 0; n < FIXTURE_CASES; ++n) {
        char name[32], plan_name[40];
        snprintf(name, sizeof name, "case_%d", n);
        snprintf(plan_name, sizeof plan_name, "case_%d_plan", n);
        const cnn_fixture_tensor *t = cnn_fixture_get(f, name);
        const int32_t *p = cnn_fixture_get(f, plan_name)->data;
        cnn_image_plan plan = {p[1], p[2], p[3], p[4], p[5],  p[6],
                               p[7], p[8], p[9], p[10], p[11]};
        int64_t w, h;
        uint8_t *rgb = decode_file(fixture_file(p[0]), 1, &w, &h);
        ck_assert_int_eq(t->numel, 3 * plan.out_w * plan.out_h);
        float *out = malloc(sizeof *out * (size_t)t->numel);
        const cnn_image_rgb img = {rgb, 0, 0, w, h, w, h};
        ck_assert_ok(cnn_image_plan_run(caller, &plan, &img, 1, mean, std,
                                        out));
        const float *expect = t->data;
        int64_t differ = 0;
        double worst = 0;
        for (int64_t i = 0; i < t->numel; ++i) {
            double d = fabs((double)out[i] - expect[i]);
            differ += out[i] != expect[i];
            worst = d > worst ? d : worst;
        }
        ck_assert_msg(differ == 0, "case %d (%s): %lld of %lld values differ "
                      "from torchvision, by up to %g", n,
                      fixture_files[p[0]], (long long)differ,
                      (long long)t->numel, worst);
        free(out);
        free(rgb);
        ++cases;
    }
    ck_assert_int_eq(cases, FIXTURE_CASES);
    cnn_fixture_free(f);
}
END_TEST

/* ----------------------------------------------------------- geometry */

static cnn_image_params resolved(cnn_transform transform, int train)
{
    cnn_image_params p = cnn_image_params_default(), r;
    p.transform = transform;
    p.train = train;
    ck_assert_ok(cnn_image_params_resolve(caller, &p, 0, &r));
    return r;
}

START_TEST(python_rounding)
{
    /* round(x / 2) in Python: halves go to the even neighbour. */
    const int64_t x[] = {0, 1, 2, 3, 5, 7, 9, 114, 117};
    const int64_t want[] = {0, 0, 1, 2, 2, 4, 4, 57, 58};
    for (int i = 0; i < 9; ++i)
        ck_assert_int_eq(cnn_image_half_round_even(x[i]), want[i]);
}
END_TEST

START_TEST(evaluation_plans)
{
    /* 500 x 375 (ImageNet's usual): Resize(256) gives int(256 * 500 / 375)
     * = 341 x 256; CenterCrop(224) at round(117 / 2) = 58 (half to even),
     * round(32 / 2) = 16; AlexNet's 227 at round(114 / 2) = 57, round(29 /
     * 2) = 14. A portrait 375 x 500 swaps them. */
    cnn_image_plan plan;
    cnn_image_params p = resolved(CNN_TRANSFORM_RESNET, 0);
    cnn_image_plan_make(&p, 500, 375, 1, 0, 0, &plan);
    ck_assert_int_eq(plan.crop_w, 500);
    ck_assert_int_eq(plan.crop_h, 375);
    ck_assert_int_eq(plan.resize_w, 341);
    ck_assert_int_eq(plan.resize_h, 256);
    ck_assert_int_eq(plan.win_x, 58);
    ck_assert_int_eq(plan.win_y, 16);
    ck_assert_int_eq(plan.out_w, 224);
    ck_assert_int_eq(plan.flip, 0);
    cnn_image_plan_make(&p, 375, 500, 1, 0, 0, &plan);
    ck_assert_int_eq(plan.resize_w, 256);
    ck_assert_int_eq(plan.resize_h, 341);
    ck_assert_int_eq(plan.win_x, 16);
    ck_assert_int_eq(plan.win_y, 58);
    p = resolved(CNN_TRANSFORM_ALEXNET, 0);
    cnn_image_plan_make(&p, 500, 375, 1, 0, 0, &plan);
    ck_assert_int_eq(plan.out_w, 227);
    ck_assert_int_eq(plan.win_x, 57);
    ck_assert_int_eq(plan.win_y, 14);
    /* The whole ImageNet-sized JPEG can be decoded at 1/2 for 341 x 256?
     * No: 500 < 2 * 341. A 1200 x 900 one can, at 1/2 (1200 >= 2 * 341). */
    ck_assert_int_eq(cnn_image_plan_denom(&plan), 1);
    cnn_image_plan_make(&p, 1200, 900, 1, 0, 0, &plan);
    ck_assert_int_eq(cnn_image_plan_denom(&plan), 2);
    cnn_image_plan_make(&p, 4000, 3000, 1, 0, 0, &plan);
    ck_assert_int_eq(cnn_image_plan_denom(&plan), 8);
    /* NONE: Resize(size), CenterCrop(size). */
    p = resolved(CNN_TRANSFORM_NONE, 1);
    cnn_image_plan_make(&p, 30, 40, 9, 3, 2, &plan);
    ck_assert_int_eq(plan.resize_w, 224);
    ck_assert_int_eq(plan.resize_h, 298); /* int(224 * 40 / 30) */
    ck_assert_int_eq(plan.win_x, 0);
    ck_assert_int_eq(plan.win_y, 37);     /* round(74 / 2) */
    ck_assert_int_eq(plan.flip, 0);
}
END_TEST

START_TEST(random_resized_crop_geometry)
{
    cnn_image_params p = resolved(CNN_TRANSFORM_RESNET, 1);
    const int64_t W = 500, H = 375;
    int flips = 0, full = 0;
    double smallest = 1, largest = 0;
    for (int64_t i = 0; i < 2000; ++i) {
        cnn_image_plan plan;
        cnn_image_plan_make(&p, W, H, 42, 3, i, &plan);
        ck_assert_int_ge(plan.crop_x, 0);
        ck_assert_int_ge(plan.crop_y, 0);
        ck_assert_int_gt(plan.crop_w, 0);
        ck_assert_int_gt(plan.crop_h, 0);
        ck_assert_int_le(plan.crop_x + plan.crop_w, W);
        ck_assert_int_le(plan.crop_y + plan.crop_h, H);
        ck_assert_int_eq(plan.resize_w, 224);
        ck_assert_int_eq(plan.resize_h, 224);
        ck_assert_int_eq(plan.win_x, 0);
        ck_assert_int_eq(plan.out_w, 224);
        double area = (double)(plan.crop_w * plan.crop_h) / (double)(W * H);
        double ratio = (double)plan.crop_w / (double)plan.crop_h;
        /* w and h are rounded: allow a pixel either way. */
        double ratio_lo = (double)(plan.crop_w - 1) / (plan.crop_h + 1),
               ratio_hi = (double)(plan.crop_w + 1) / (plan.crop_h - 1 > 0
                                                            ? plan.crop_h - 1
                                                            : 1);
        ck_assert_msg(ratio_hi >= 3.0 / 4.0 && ratio_lo <= 4.0 / 3.0,
                      "crop %lld x %lld has ratio %g", (long long)plan.crop_w,
                      (long long)plan.crop_h, ratio);
        ck_assert_double_ge(area, 0.075);
        smallest = area < smallest ? area : smallest;
        largest = area > largest ? area : largest;
        full += plan.crop_w == W && plan.crop_h == H;
        flips += plan.flip;
    }
    ck_assert_double_lt(smallest, 0.1);  /* scale reaches down to 0.08 */
    ck_assert_double_gt(largest, 0.9);
    ck_assert_int_gt(flips, 900);        /* p = 0.5 of 2000 */
    ck_assert_int_lt(flips, 1100);
    (void)full;
    /* 200 x 10: no try can fit (h <= 10 needs a ratio over 4/3), so the
     * fallback: the ratio clamped to 4/3, h = 10, w = round(13.33) = 13,
     * centred: x = (200 - 13) / 2 = 93. */
    cnn_image_plan plan;
    for (int64_t i = 0; i < 50; ++i) {
        cnn_image_plan_make(&p, 200, 10, 1, 0, i, &plan);
        ck_assert_int_eq(plan.crop_w, 13);
        ck_assert_int_eq(plan.crop_h, 10);
        ck_assert_int_eq(plan.crop_x, 93);
        ck_assert_int_eq(plan.crop_y, 0);
    }
    /* And 10 x 200: w = 10, h = round(10 / (3/4)) = 13, y = 93. */
    cnn_image_plan_make(&p, 10, 200, 1, 0, 0, &plan);
    ck_assert_int_eq(plan.crop_w, 10);
    ck_assert_int_eq(plan.crop_h, 13);
    ck_assert_int_eq(plan.crop_y, 93);
}
END_TEST

START_TEST(random_crop_geometry)
{
    cnn_image_params p = resolved(CNN_TRANSFORM_ALEXNET, 1);
    int seen_x[74] = {0}, flips = 0;
    for (int64_t i = 0; i < 3000; ++i) {
        cnn_image_plan plan;
        cnn_image_plan_make(&p, 300, 256, 5, 0, i, &plan);
        ck_assert_int_eq(plan.resize_w, 300); /* already 256 short */
        ck_assert_int_eq(plan.resize_h, 256);
        ck_assert_int_ge(plan.win_x, 0);
        ck_assert_int_le(plan.win_x, 300 - 227);
        ck_assert_int_ge(plan.win_y, 0);
        ck_assert_int_le(plan.win_y, 256 - 227);
        seen_x[plan.win_x]++;
        flips += plan.flip;
    }
    for (int x = 0; x <= 73; ++x)
        ck_assert_msg(seen_x[x] > 0, "offset %d never drawn", x);
    ck_assert_int_gt(flips, 1350);
    ck_assert_int_lt(flips, 1650);
    /* CIFAR: RandomCrop(32, padding 4): offsets -4 .. 4 in the image. */
    cnn_image_params c = cnn_image_params_default(), r;
    c.transform = CNN_TRANSFORM_CIFAR;
    ck_assert_ok(cnn_image_params_resolve(caller, &c, 1, &r));
    int seen[9][9] = {{0}};
    for (int64_t i = 0; i < 3000; ++i) {
        cnn_image_plan plan;
        cnn_image_plan_make(&r, 32, 32, 5, 1, i, &plan);
        ck_assert_int_ge(plan.win_x, -4);
        ck_assert_int_le(plan.win_x, 4);
        ck_assert_int_ge(plan.win_y, -4);
        ck_assert_int_le(plan.win_y, 4);
        ck_assert_int_eq(plan.resize_w, 32);
        seen[plan.win_y + 4][plan.win_x + 4]++;
    }
    for (int y = 0; y < 9; ++y)
        for (int x = 0; x < 9; ++x)
            ck_assert_int_gt(seen[y][x], 0);
}
END_TEST

START_TEST(plans_are_reproducible)
{
    cnn_image_params p = resolved(CNN_TRANSFORM_RESNET, 1);
    int differ_index = 0, differ_epoch = 0, differ_seed = 0;
    for (int64_t i = 0; i < 100; ++i) {
        cnn_image_plan a, b, c, d, e;
        cnn_image_plan_make(&p, 400, 300, 11, 2, i, &a);
        cnn_image_plan_make(&p, 400, 300, 11, 2, i, &b);
        ck_assert_mem_eq(&a, &b, sizeof a);
        cnn_image_plan_make(&p, 400, 300, 11, 2, i + 1, &c);
        cnn_image_plan_make(&p, 400, 300, 11, 3, i, &d);
        cnn_image_plan_make(&p, 400, 300, 12, 2, i, &e);
        differ_index += memcmp(&a, &c, sizeof a) != 0;
        differ_epoch += memcmp(&a, &d, sizeof a) != 0;
        differ_seed += memcmp(&a, &e, sizeof a) != 0;
    }
    ck_assert_int_ge(differ_index, 99);
    ck_assert_int_ge(differ_epoch, 99);
    ck_assert_int_ge(differ_seed, 99);
}
END_TEST

START_TEST(bad_parameters)
{
    cnn_image_params p = cnn_image_params_default(), r;
    p.std[1] = 0;
    ck_assert_fails(cnn_image_params_resolve(caller, &p, 0, &r),
                    CNN_ERR_INVALID_ARGUMENT, "p->std[1]");
    p = cnn_image_params_default();
    p.size = -3;
    ck_assert_fails(cnn_image_params_resolve(caller, &p, 0, &r),
                    CNN_ERR_INVALID_ARGUMENT, "p->size");
    p = cnn_image_params_default();
    p.transform = (cnn_transform)99;
    ck_assert_fails(cnn_image_params_resolve(caller, &p, 0, &r),
                    CNN_ERR_INVALID_ARGUMENT, "p->transform");
    p = cnn_image_params_default();
    p.transform = CNN_TRANSFORM_ALEXNET;
    p.resize = 200;
    ck_assert_fails(cnn_image_params_resolve(caller, &p, 0, &r),
                    CNN_ERR_INVALID_ARGUMENT, "p->resize");
    p = cnn_image_params_default();
    p.max_pixels = 0;
    ck_assert_fails(cnn_image_params_resolve(caller, &p, 0, &r),
                    CNN_ERR_INVALID_ARGUMENT, "p->max_pixels");
    p = cnn_image_params_default();
    p.mean[0] = NAN;
    ck_assert_fails(cnn_image_params_resolve(caller, &p, 0, &r),
                    CNN_ERR_INVALID_ARGUMENT, "p->mean[0]");
}
END_TEST

/* ------------------------------------------------------------- refusals */

static void expect_refused(const uint8_t *data, size_t size, int64_t limit,
                           const char *fragment)
{
    cnn_image_kind kind;
    int64_t w = 0, h = 0;
    uint8_t untouched[] = "untouched";
    cnn_image_rgb rgb = {untouched, 0, 0, 0, 0, 0, 0};
    const int64_t region[4] = {0, 0, 1, 1};
    cnn_status probe = cnn_image_probe(caller, "the file", data, size, limit,
                                       &kind, &w, &h);
    if (probe == CNN_OK) {
        ck_assert_fails(cnn_image_decode(caller, "the file", data, size,
                                         limit, 1, NULL, &rgb),
                        CNN_ERR_FORMAT, fragment);
    } else {
        ck_assert_int_eq(probe, CNN_ERR_FORMAT);
        ck_assert_msg(strstr(cnn_last_error(), fragment) != NULL,
                      "'%s' does not mention '%s'", cnn_last_error(),
                      fragment);
        ck_assert_fails(cnn_image_decode(caller, "the file", data, size,
                                         limit, 1, NULL, &rgb),
                        CNN_ERR_FORMAT, fragment);
    }
    /* A region decode refuses the file too. */
    ck_assert_fails(cnn_image_decode(caller, "the file", data, size, limit, 1,
                                     region, &rgb),
                    CNN_ERR_FORMAT, fragment);
    ck_assert_ptr_eq(rgb.pixels, untouched);
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

START_TEST(decoder_refusals)
{
    enum { W = 40, H = 30 };
    static uint8_t rgb[W * H * 3];
    for (int i = 0; i < W * H * 3; ++i)
        rgb[i] = (uint8_t)(i * 7);
    uint8_t *jpeg = NULL;
    size_t jpeg_size = 0;
    image_test_jpeg_memory(W, H, TJPF_RGB, TJSAMP_420, 90, rgb, &jpeg,
                           &jpeg_size);
    expect_refused(jpeg, 0, LIMIT, "empty");
    expect_refused((const uint8_t *)"hello, world\n", 13, LIMIT,
                   "neither a JPEG nor a PNG");
    expect_refused(jpeg, jpeg_size / 2, LIMIT, "truncated");
    expect_refused(jpeg, 40, LIMIT, "JPEG");
    expect_refused(jpeg, jpeg_size, W * H - 1, "over the limit");
    /* A bomb: the JPEG's frame header claims 60000 x 60000. */
    uint8_t *bomb = malloc(jpeg_size);
    memcpy(bomb, jpeg, jpeg_size);
    for (size_t i = 0; i + 9 < jpeg_size; ++i)
        if (bomb[i] == 0xff && bomb[i + 1] == 0xc0) { /* SOF0 */
            bomb[i + 5] = 60000 >> 8;
            bomb[i + 6] = 60000 & 255;
            bomb[i + 7] = 60000 >> 8;
            bomb[i + 8] = 60000 & 255;
            break;
        }
    expect_refused(bomb, jpeg_size, 89478485, "over the limit");
    free(bomb);
    tjFree(jpeg);

    image_test_folder();
    image_test_png("a.png", W, H, PNG_COLOR_TYPE_RGB, 8, rgb, NULL, 0);
    size_t png_size = 0;
    uint8_t *png = image_test_read(image_test_path("a.png"), &png_size);
    expect_refused(png, png_size - 20, LIMIT, "truncated");
    expect_refused(png, 20, LIMIT, "PNG");
    /* A bomb: IHDR claims 100000 x 100000 (refused before libpng). */
    put_be32(png + 16, 100000);
    put_be32(png + 20, 100000);
    expect_refused(png, png_size, 89478485, "over the limit");
    /* Within the limit but inconsistent: libpng's CRC check refuses it. */
    put_be32(png + 16, 41);
    put_be32(png + 20, 30);
    expect_refused(png, png_size, LIMIT, "PNG");
    /* Corrupt pixel data (inside IDAT). */
    put_be32(png + 16, W);
    put_be32(png + 20, H);
    for (size_t i = 60; i < png_size - 20; i += 7)
        png[i] ^= 0x5a;
    expect_refused(png, png_size, LIMIT, "PNG");
    free(png);
    image_test_folder_remove();
}
END_TEST

int main(void)
{
    Suite *s = suite_create("images");
    TCase *tc = cnn_test_case("decode");
    tcase_add_test(tc, png_pixels_as_written);
    tcase_add_test(tc, jpeg_pixels_and_dct_scaling);
    tcase_add_test(tc, jpeg_regions_equal_whole_decode);
    tcase_add_test(tc, decoding_matches_pil);
    tcase_add_test(tc, decoder_refusals);
    suite_add_tcase(s, tc);
    tc = cnn_test_case("transform");
    tcase_add_test(tc, transforms_match_torchvision);
    tcase_add_test(tc, region_decode_gives_the_same_samples);
    tcase_add_test(tc, python_rounding);
    tcase_add_test(tc, evaluation_plans);
    tcase_add_test(tc, random_resized_crop_geometry);
    tcase_add_test(tc, random_crop_geometry);
    tcase_add_test(tc, plans_are_reproducible);
    tcase_add_test(tc, bad_parameters);
    suite_add_tcase(s, tc);
    return cnn_test_run(s);
}
