/* tests/test_image_data.c - the image sources through the public API:
 * folders (torchvision's class and file order, class names, links, what is
 * skipped and what is refused), list files, CIFAR-10 batches, synthetic
 * data; every bad-data case (unreadable, truncated, non-image, zero-byte,
 * pixel-limit bomb, empty class folder, symbolic link loop, CIFAR file of
 * the wrong size) gives a clear error for that sample or a documented
 * refusal at open time; samples are the same bits for the same (seed,
 * epoch, index) from 1 or 4 threads. Label: cpu. */
#include <math.h>
#include <png.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <turbojpeg.h>
#include <unistd.h>

#include "image_files.h"
#include "test_util.h"

/* An RGB PNG of w x h whose pixel (x, y) is (x & 255, y & 255, x >> 8 |
 * (tag << 4)), so a crop shows where it came from. */
static void coded_png(const char *rel, int w, int h, int tag)
{
    uint8_t *rgb = malloc((size_t)w * (size_t)h * 3);
    ck_assert_ptr_nonnull(rgb);
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
            uint8_t *p = rgb + 3 * ((size_t)y * (size_t)w + (size_t)x);
            p[0] = (uint8_t)(x & 255);
            p[1] = (uint8_t)(y & 255);
            p[2] = (uint8_t)(x >> 8 | tag << 4);
        }
    image_test_png(rel, w, h, PNG_COLOR_TYPE_RGB, 8, rgb, NULL, 0);
    free(rgb);
}

/* A smooth RGB JPEG of w x h. */
static void smooth_jpeg(const char *rel, int w, int h)
{
    uint8_t *rgb = malloc((size_t)w * (size_t)h * 3);
    ck_assert_ptr_nonnull(rgb);
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
            uint8_t *p = rgb + 3 * ((size_t)y * (size_t)w + (size_t)x);
            p[0] = (uint8_t)(128 + 100 * sin(x / 23.0));
            p[1] = (uint8_t)(255 * y / h);
            p[2] = (uint8_t)(128 + 90 * cos((x + y) / 31.0));
        }
    image_test_jpeg(rel, w, h, TJPF_RGB, TJSAMP_420, 90, rgb);
    free(rgb);
}

static int symlink_at(const char *target, const char *rel)
{
    return symlink(target, image_test_path(rel));
}

/* The un-normalised byte of channel c at (x, y) of a [3, s, s] sample. */
static int byte_at(const float *img, const cnn_image_params *p, int64_t s,
                   int c, int64_t x, int64_t y)
{
    float v = img[(c * s + y) * s + x] * p->std[c] + p->mean[c];
    return (int)lrintf(v * 255.0f);
}

/* --------------------------------------------------------------- folders */

START_TEST(folder_order_names_and_labels)
{
    image_test_folder();
    /* Classes in byte order: "B" < "a" < "a b" < "zebra". */
    const char *classes[] = {"B", "a", "a b", "zebra"};
    for (int k = 0; k < 4; ++k) {
        char rel[64];
        snprintf(rel, sizeof rel, "root/%s", classes[k]);
        image_test_mkdir(rel);
    }
    coded_png("root/B/one.png", 8, 8, 0);
    coded_png("root/a/z.png", 8, 8, 1);
    image_test_mkdir("root/a/sub");
    image_test_mkdir("root/a/sub b");
    coded_png("root/a/sub/y.png", 8, 8, 2);
    coded_png("root/a/sub b/x.png", 8, 8, 3);
    coded_png("root/a/UPPER.PNG", 8, 8, 4);
    smooth_jpeg("root/a b/photo.jpeg", 20, 16);
    smooth_jpeg("root/zebra/1.jpg", 16, 20);
    image_test_write("root/zebra/notes.txt", "not an image", 12);
    image_test_write("root/zebra/picture.webp", "RIFF", 4);
    cnn_image_params p = cnn_image_params_default();
    p.transform = CNN_TRANSFORM_NONE;
    p.size = 8;
    cnn_dataset *ds = NULL;
    ck_assert_ok(cnn_dataset_open_images(&ds, image_test_path("root"), &p));
    /* torchvision: sorted(os.walk(class)) then sorted file names, so
     * "a" before "a/sub" before "a/sub b"; "UPPER.PNG" < "z.png". */
    const char *order[] = {"root/B/one.png", "root/a/UPPER.PNG",
                           "root/a/z.png", "root/a/sub/y.png",
                           "root/a/sub b/x.png", "root/a b/photo.jpeg",
                           "root/zebra/1.jpg"};
    const int labels[] = {0, 1, 1, 1, 1, 2, 3};
    ck_assert_int_eq(cnn_dataset_size(ds), 7);
    ck_assert_int_eq(cnn_dataset_classes(ds), 4);
    ck_assert_int_eq(cnn_dataset_skipped(ds), 0);
    int64_t dims[3];
    cnn_dataset_image_shape(ds, dims);
    ck_assert_int_eq(dims[0], 3);
    ck_assert_int_eq(dims[1], 8);
    ck_assert_int_eq(dims[2], 8);
    for (int k = 0; k < 4; ++k)
        ck_assert_str_eq(cnn_dataset_class_name(ds, k), classes[k]);
    ck_assert_ptr_null(cnn_dataset_class_name(ds, 4));
    ck_assert_ptr_null(cnn_dataset_class_name(ds, -1));
    float img[3 * 8 * 8];
    for (int i = 0; i < 7; ++i) {
        ck_assert_str_eq(cnn_dataset_sample_path(ds, i),
                         image_test_path(order[i]));
        int32_t label = -1;
        ck_assert_ok(cnn_dataset_get_sample(ds, i, 1, 0, img, &label));
        ck_assert_int_eq(label, labels[i]);
    }
    ck_assert_ptr_null(cnn_dataset_sample_path(ds, 7));
    /* The 8x8 coded PNGs pass through NONE at size 8 unchanged. */
    ck_assert_ok(cnn_dataset_get_sample(ds, 4, 1, 0, img, NULL));
    for (int y = 0; y < 8; ++y)
        for (int x = 0; x < 8; ++x) {
            ck_assert_int_eq(byte_at(img, &p, 8, 0, x, y), x);
            ck_assert_int_eq(byte_at(img, &p, 8, 1, x, y), y);
            ck_assert_int_eq(byte_at(img, &p, 8, 2, x, y), 3 << 4);
        }
    cnn_dataset_free(ds);
    image_test_folder_remove();
}
END_TEST

START_TEST(folder_skips_links_and_empty_files)
{
    image_test_folder();
    image_test_mkdir("root/cat/deep");
    image_test_mkdir("root/dog");
    coded_png("root/cat/a.png", 8, 8, 0);
    coded_png("root/dog/b.png", 8, 8, 1);
    image_test_write("root/dog/empty.png", "", 0);           /* zero bytes */
    ck_assert_int_eq(symlink_at("nowhere.png", "root/dog/dangling.png"), 0);
    ck_assert_int_eq(symlink_at("self.png", "root/dog/self.png"), 0);
    ck_assert_int_eq(symlink_at("..", "root/cat/deep/up"), 0); /* a loop */
    ck_assert_int_eq(symlink_at("dog", "root/linked"), 0);  /* a class */
    cnn_dataset *ds = NULL;
    cnn_image_params p = cnn_image_params_default();
    p.size = 4;
    p.resize = 6;
    ck_assert_ok(cnn_dataset_open_images(&ds, image_test_path("root"), &p));
    /* cat/a.png, dog/b.png, linked/b.png; skipped: empty.png,
     * dangling.png, self.png in dog and again in linked, and the loop. */
    ck_assert_int_eq(cnn_dataset_size(ds), 3);
    ck_assert_int_eq(cnn_dataset_classes(ds), 3);
    ck_assert_str_eq(cnn_dataset_class_name(ds, 2), "linked");
    ck_assert_int_eq(cnn_dataset_skipped(ds), 7);
    float img[3 * 4 * 4];
    for (int i = 0; i < 3; ++i)
        ck_assert_ok(cnn_dataset_get_sample(ds, i, 3, 1, img, NULL));
    cnn_dataset_free(ds);
    image_test_folder_remove();
}
END_TEST

START_TEST(folder_refusals)
{
    image_test_folder();
    cnn_dataset *ds = (cnn_dataset *)&ds;
    ck_assert_fails(cnn_dataset_open_images(&ds, image_test_path("none"),
                                            NULL),
                    CNN_ERR_IO, "cnn_dataset_open_images");
    ck_assert_ptr_null(ds);
    ck_assert_fails(cnn_dataset_open_images(NULL, "x", NULL),
                    CNN_ERR_INVALID_ARGUMENT, "out");
    ck_assert_fails(cnn_dataset_open_images(&ds, NULL, NULL),
                    CNN_ERR_INVALID_ARGUMENT, "dir");
    image_test_mkdir("flat");
    coded_png("flat/a.png", 4, 4, 0);
    ck_assert_fails(cnn_dataset_open_images(&ds, image_test_path("flat"),
                                            NULL),
                    CNN_ERR_FORMAT, "no class folders");
    image_test_mkdir("root/full");
    image_test_mkdir("root/hollow/inner");
    coded_png("root/full/a.png", 4, 4, 0);
    image_test_write("root/hollow/readme.txt", "x", 1);
    ck_assert_fails(cnn_dataset_open_images(&ds, image_test_path("root"),
                                            NULL),
                    CNN_ERR_FORMAT, "hollow");
    cnn_image_params p = cnn_image_params_default();
    p.std[2] = -1;
    ck_assert_fails(cnn_dataset_open_images(&ds, image_test_path("root"), &p),
                    CNN_ERR_INVALID_ARGUMENT, "p->std[2]");
    ck_assert_ptr_null(ds);
    image_test_folder_remove();
}
END_TEST

/* Each bad sample fails alone, naming its file; the others still read. */
START_TEST(bad_samples_fail_alone)
{
    image_test_folder();
    image_test_mkdir("root/c");
    smooth_jpeg("root/c/0good.jpg", 40, 30);
    smooth_jpeg("root/c/1truncated.jpg", 40, 30);
    coded_png("root/c/2truncated.png", 40, 30, 0);
    image_test_write("root/c/3text.jpg", "this is not a picture\n", 22);
    coded_png("root/c/4bomb.png", 4, 4, 0);
    smooth_jpeg("root/c/5deleted.jpg", 40, 30);
    smooth_jpeg("root/c/6emptied.jpg", 40, 30);
    coded_png("root/c/7good.png", 40, 30, 1);
    /* Cut the truncated ones in half; make the bomb's header claim 20000
     * x 20000 (400 megapixels, over the default limit). */
    const char *cut[] = {"root/c/1truncated.jpg", "root/c/2truncated.png"};
    for (int i = 0; i < 2; ++i) {
        size_t n = 0;
        uint8_t *data = image_test_read(image_test_path(cut[i]), &n);
        image_test_write(cut[i], data, n / 2);
        free(data);
    }
    size_t n = 0;
    uint8_t *bomb = image_test_read(image_test_path("root/c/4bomb.png"), &n);
    const uint8_t big[8] = {0, 0, 0x4e, 0x20, 0, 0, 0x4e, 0x20};
    memcpy(bomb + 16, big, 8);
    image_test_write("root/c/4bomb.png", bomb, n);
    free(bomb);
    cnn_image_params p = cnn_image_params_default();
    p.size = 16;
    p.resize = 20;
    cnn_dataset *ds = NULL;
    ck_assert_ok(cnn_dataset_open_images(&ds, image_test_path("root"), &p));
    ck_assert_int_eq(cnn_dataset_size(ds), 8);
    /* After opening: one file goes away, one becomes empty. */
    ck_assert_int_eq(unlink(image_test_path("root/c/5deleted.jpg")), 0);
    image_test_write("root/c/6emptied.jpg", "", 0);
    static const struct {
        int index;
        cnn_status status;
        const char *file, *why;
    } bad[] = {
        {1, CNN_ERR_FORMAT, "1truncated.jpg", "truncated"},
        {2, CNN_ERR_FORMAT, "2truncated.png", "truncated"},
        {3, CNN_ERR_FORMAT, "3text.jpg", "neither a JPEG nor a PNG"},
        {4, CNN_ERR_FORMAT, "4bomb.png", "over the limit"},
        {5, CNN_ERR_IO, "5deleted.jpg", "cannot open"},
        {6, CNN_ERR_FORMAT, "6emptied.jpg", "empty"},
    };
    float img[3 * 16 * 16];
    for (int round = 0; round < 2; ++round) {
        ck_assert_ok(cnn_dataset_get_sample(ds, 0, 1, round, img, NULL));
        for (size_t i = 0; i < sizeof bad / sizeof *bad; ++i) {
            int32_t label = -1;
            ck_assert_fails(cnn_dataset_get_sample(ds, bad[i].index, 1, round,
                                                   img, &label),
                            bad[i].status, bad[i].file);
            ck_assert_msg(strstr(cnn_last_error(), bad[i].why) != NULL,
                          "'%s' does not say '%s'", cnn_last_error(),
                          bad[i].why);
            ck_assert_msg(strstr(cnn_last_error(), "cnn_dataset_get_sample"),
                          "'%s' does not name the call", cnn_last_error());
            /* The label alone needs no decoding. */
            ck_assert_ok(cnn_dataset_get_sample(ds, bad[i].index, 1, round,
                                                NULL, &label));
            ck_assert_int_eq(label, 0);
        }
        ck_assert_ok(cnn_dataset_get_sample(ds, 7, 1, round, img, NULL));
    }
    cnn_dataset_free(ds);
    image_test_folder_remove();
}
END_TEST

/* AlexNet's training crop on a 300 x 256 image (already 256 on the short
 * side, so no resampling): every sample is an exact 227 x 227 window at an
 * offset within bounds, mirrored or not. */
START_TEST(alexnet_crops_are_windows)
{
    image_test_folder();
    image_test_mkdir("root/only");
    coded_png("root/only/a.png", 300, 256, 0);
    for (int i = 1; i < 6; ++i) {
        char rel[64];
        snprintf(rel, sizeof rel, "root/only/copy%d.png", i);
        ck_assert_int_eq(symlink_at("a.png", rel), 0);
    }
    cnn_image_params p = cnn_image_params_default();
    p.transform = CNN_TRANSFORM_ALEXNET;
    cnn_dataset *ds = NULL;
    ck_assert_ok(cnn_dataset_open_images(&ds, image_test_path("root"), &p));
    ck_assert_int_eq(cnn_dataset_size(ds), 6);
    const int64_t s = 227;
    float *img = malloc(sizeof *img * 3 * s * s);
    int offsets[6][3];
    for (int i = 0; i < 6; ++i) {
        ck_assert_ok(cnn_dataset_get_sample(ds, i, 77, 0, img, NULL));
        int x0 = byte_at(img, &p, s, 0, 0, 0) | (byte_at(img, &p, s, 2, 0, 0) & 15) << 8;
        int x1 = byte_at(img, &p, s, 0, 1, 0) | (byte_at(img, &p, s, 2, 1, 0) & 15) << 8;
        int flip = x1 < x0;
        int left = flip ? x0 - (int)s + 1 : x0;
        int top = byte_at(img, &p, s, 1, 0, 0);
        ck_assert_int_ge(left, 0);
        ck_assert_int_le(left, 300 - 227);
        ck_assert_int_le(top, 256 - 227);
        for (int64_t y = 0; y < s; y += 13)
            for (int64_t x = 0; x < s; x += 7) {
                int sx = flip ? left + (int)(s - 1 - x) : left + (int)x;
                ck_assert_int_eq(byte_at(img, &p, s, 0, x, y), sx & 255);
                ck_assert_int_eq(byte_at(img, &p, s, 1, x, y), top + (int)y);
                ck_assert_int_eq(byte_at(img, &p, s, 2, x, y) & 15, sx >> 8);
            }
        offsets[i][0] = left;
        offsets[i][1] = top;
        offsets[i][2] = flip;
    }
    /* The same file under six indices: six draws, not all alike. */
    int same = 0;
    for (int i = 1; i < 6; ++i)
        same += memcmp(offsets[i], offsets[0], sizeof offsets[0]) == 0;
    ck_assert_int_lt(same, 5);
    free(img);
    cnn_dataset_free(ds);
    image_test_folder_remove();
}
END_TEST

/* ------------------------------------------------------- reproducibility */

typedef struct worker {
    const cnn_dataset *ds;
    int first, step, count;
    int64_t floats;
    float *out; /* count * floats */
    cnn_status status;
} worker;

static void *work(void *arg)
{
    worker *w = arg;
    w->status = CNN_OK;
    for (int i = w->first; i < w->count && w->status == CNN_OK; i += w->step)
        w->status = cnn_dataset_get_sample(w->ds, i, 1234, 5,
                                           w->out + i * w->floats, NULL);
    return NULL;
}

START_TEST(same_bits_from_one_or_four_threads)
{
    image_test_folder();
    image_test_mkdir("root/a");
    image_test_mkdir("root/b");
    smooth_jpeg("root/a/x.jpg", 90, 70);
    coded_png("root/b/y.png", 50, 64, 1);
    for (int i = 0; i < 6; ++i) {
        char rel[64];
        snprintf(rel, sizeof rel, "root/a/x%d.jpg", i);
        ck_assert_int_eq(symlink_at("x.jpg", rel), 0);
        snprintf(rel, sizeof rel, "root/b/y%d.png", i);
        ck_assert_int_eq(symlink_at("y.png", rel), 0);
    }
    cnn_image_params p = cnn_image_params_default();
    p.size = 24;
    p.resize = 28;
    cnn_dataset *ds = NULL;
    ck_assert_ok(cnn_dataset_open_images(&ds, image_test_path("root"), &p));
    const int n = (int)cnn_dataset_size(ds);
    ck_assert_int_eq(n, 14);
    const int64_t floats = 3 * 24 * 24;
    float *one = malloc(sizeof *one * (size_t)(n * floats));
    float *four = malloc(sizeof *four * (size_t)(n * floats));
    worker w = {ds, 0, 1, n, floats, one, CNN_OK};
    work(&w);
    ck_assert_ok(w.status);
    worker ws[4];
    pthread_t threads[4];
    for (int t = 0; t < 4; ++t) {
        ws[t] = (worker){ds, t, 4, n, floats, four, CNN_OK};
        ck_assert_int_eq(pthread_create(&threads[t], NULL, work, &ws[t]), 0);
    }
    for (int t = 0; t < 4; ++t) {
        pthread_join(threads[t], NULL);
        ck_assert_ok(ws[t].status);
    }
    ck_assert_mem_eq(one, four, sizeof *one * (size_t)(n * floats));
    /* Copies of one file under different indices get different crops; the
     * next epoch differs too. */
    int same_index = 0, same_epoch = 0;
    float *other = malloc(sizeof *other * (size_t)floats);
    for (int i = 1; i < 7; ++i)
        same_index += memcmp(one, one + i * floats,
                             sizeof *one * (size_t)floats) == 0;
    for (int i = 0; i < n; ++i) {
        ck_assert_ok(cnn_dataset_get_sample(ds, i, 1234, 6, other, NULL));
        same_epoch += memcmp(other, one + i * floats,
                             sizeof *one * (size_t)floats) == 0;
    }
    ck_assert_int_eq(same_index, 0);
    ck_assert_int_le(same_epoch, 1);
    free(other);
    free(one);
    free(four);
    cnn_dataset_free(ds);
    image_test_folder_remove();
}
END_TEST

/* DCT scaling decodes a large JPEG at 1/8 for a small output: close to the
 * full decode, not equal (it is not PIL's path). */
START_TEST(dct_scaling_stays_close)
{
    image_test_folder();
    image_test_mkdir("root/a");
    smooth_jpeg("root/a/big.jpg", 400, 300);
    cnn_image_params p = cnn_image_params_default();
    p.train = 0;
    p.size = 32;
    p.resize = 36; /* 300 >= 8 * 36: decoded at 1/8 */
    cnn_dataset *fast = NULL, *exact = NULL;
    ck_assert_ok(cnn_dataset_open_images(&fast, image_test_path("root"), &p));
    p.dct_scaling = 0;
    ck_assert_ok(cnn_dataset_open_images(&exact, image_test_path("root"), &p));
    float a[3 * 32 * 32], b[3 * 32 * 32];
    ck_assert_ok(cnn_dataset_get_sample(fast, 0, 0, 0, a, NULL));
    ck_assert_ok(cnn_dataset_get_sample(exact, 0, 0, 0, b, NULL));
    double sum = 0, worst = 0;
    for (int i = 0; i < 3 * 32 * 32; ++i) {
        double d = fabs((double)a[i] - b[i]) * 0.229 * 255; /* in levels */
        sum += d;
        worst = d > worst ? d : worst;
    }
    ck_assert_msg(sum / (3 * 32 * 32) < 3.0 && worst < 24.0,
                  "1/8 decode differs by %g levels on average, %g at most",
                  sum / (3 * 32 * 32), worst);
    ck_assert_int_ne(memcmp(a, b, sizeof a), 0);
    cnn_dataset_free(fast);
    cnn_dataset_free(exact);
    image_test_folder_remove();
}
END_TEST

/* ------------------------------------------------------------ list files */

START_TEST(list_files)
{
    image_test_folder();
    image_test_mkdir("lists");
    image_test_mkdir("pics/with space");
    coded_png("pics/a.png", 8, 8, 0);
    coded_png("pics/with space/b c.png", 8, 8, 1);
    char text[1024];
    snprintf(text, sizeof text,
             "# comment\n"
             "../pics/a.png 3\n"
             "\n"
             "  ../pics/with space/b c.png\t0  \n"
             "%s 7\n"
             "../pics/missing.png 1\n",
             image_test_path("pics/a.png"));
    image_test_write("lists/train.txt", text, strlen(text));
    cnn_image_params p = cnn_image_params_default();
    p.transform = CNN_TRANSFORM_NONE;
    p.size = 8;
    cnn_dataset *ds = NULL;
    ck_assert_ok(cnn_dataset_open_image_list(
        &ds, image_test_path("lists/train.txt"), &p));
    ck_assert_int_eq(cnn_dataset_size(ds), 3);
    ck_assert_int_eq(cnn_dataset_classes(ds), 8);
    ck_assert_int_eq(cnn_dataset_skipped(ds), 1);
    ck_assert_ptr_null(cnn_dataset_class_name(ds, 0));
    ck_assert_str_eq(cnn_dataset_sample_path(ds, 1),
                     image_test_path("lists/../pics/with space/b c.png"));
    const int want[3] = {3, 0, 7};
    float img[3 * 8 * 8];
    for (int i = 0; i < 3; ++i) {
        int32_t label = -1;
        ck_assert_ok(cnn_dataset_get_sample(ds, i, 0, 0, img, &label));
        ck_assert_int_eq(label, want[i]);
    }
    ck_assert_int_eq(byte_at(img, &p, 8, 0, 5, 2), 5);
    cnn_dataset_free(ds);

    const char *bad_lines[] = {"../pics/a.png\n", "../pics/a.png -1\n",
                               "../pics/a.png 2x\n",
                               "../pics/a.png 99999999999\n"};
    for (int i = 0; i < 4; ++i) {
        snprintf(text, sizeof text, "../pics/a.png 1\n# fine\n%s",
                 bad_lines[i]);
        image_test_write("lists/bad.txt", text, strlen(text));
        ck_assert_fails(cnn_dataset_open_image_list(
                            &ds, image_test_path("lists/bad.txt"), &p),
                        CNN_ERR_FORMAT, "line 3");
        ck_assert_ptr_null(ds);
    }
    image_test_write("lists/none.txt", "gone.png 0\n", 11);
    ck_assert_fails(cnn_dataset_open_image_list(
                        &ds, image_test_path("lists/none.txt"), &p),
                    CNN_ERR_FORMAT, "no usable file");
    ck_assert_fails(cnn_dataset_open_image_list(
                        &ds, image_test_path("lists/absent.txt"), &p),
                    CNN_ERR_IO, "absent.txt");
    image_test_folder_remove();
}
END_TEST

/* --------------------------------------------------------------- CIFAR-10 */

/* Record r of file f: label (f + r) % 10, pixel i of plane c is
 * (i * 3 + c * 50 + f * 7 + r) & 255. */
static void cifar_file(const char *name, int f, int records, int label_bias)
{
    uint8_t *data = malloc((size_t)records * 3073);
    for (int r = 0; r < records; ++r) {
        uint8_t *rec = data + (size_t)r * 3073;
        rec[0] = (uint8_t)((f + r) % 10 + label_bias);
        for (int c = 0; c < 3; ++c)
            for (int i = 0; i < 1024; ++i)
                rec[1 + c * 1024 + i] = (uint8_t)((i * 3 + c * 50 + f * 7 + r) & 255);
    }
    image_test_write(name, data, (size_t)records * 3073);
    free(data);
}

START_TEST(cifar10_records)
{
    image_test_folder();
    for (int f = 1; f <= 5; ++f) {
        char name[32];
        snprintf(name, sizeof name, "data_batch_%d.bin", f);
        cifar_file(name, f, 2, 0);
    }
    cifar_file("test_batch.bin", 0, 3, 0);
    cnn_dataset *ds = NULL;
    ck_assert_ok(cnn_dataset_open_cifar10(&ds, image_test_path(""), 1, NULL));
    ck_assert_int_eq(cnn_dataset_size(ds), 10);
    ck_assert_int_eq(cnn_dataset_classes(ds), 10);
    ck_assert_str_eq(cnn_dataset_class_name(ds, 0), "airplane");
    ck_assert_str_eq(cnn_dataset_class_name(ds, 9), "truck");
    int64_t dims[3];
    cnn_dataset_image_shape(ds, dims);
    ck_assert_int_eq(dims[1], 32);
    const float mean[3] = {0.4914f, 0.4822f, 0.4465f},
                std[3] = {0.2470f, 0.2435f, 0.2616f};
    float img[3 * 32 * 32];
    for (int index = 0; index < 10; ++index) {
        int f = index / 2 + 1, r = index % 2;
        int32_t label = -1;
        ck_assert_ok(cnn_dataset_get_sample(ds, index, 9, 4, img, &label));
        ck_assert_int_eq(label, (f + r) % 10);
        for (int c = 0; c < 3; ++c)
            for (int i = 0; i < 1024; i += 37) {
                int v = (i * 3 + c * 50 + f * 7 + r) & 255;
                float want = ((float)v / 255.0f - mean[c]) / std[c];
                ck_assert_float_eq(img[c * 1024 + i], want);
            }
    }
    cnn_dataset_free(ds);
    /* The test batch, with the usual augmentation: each sample is the
     * record shifted by -4..4 each way (zeros outside), maybe mirrored. */
    cnn_image_params p = cnn_image_params_default();
    p.transform = CNN_TRANSFORM_CIFAR;
    ck_assert_ok(cnn_dataset_open_cifar10(&ds, image_test_path(""), 0, &p));
    ck_assert_int_eq(cnn_dataset_size(ds), 3);
    for (int index = 0; index < 3; ++index) {
        ck_assert_ok(cnn_dataset_get_sample(ds, index, 9, 4, img, NULL));
        int matches = 0;
        for (int dy = -4; dy <= 4; ++dy)
            for (int dx = -4; dx <= 4; ++dx)
                for (int flip = 0; flip < 2; ++flip) {
                    int ok = 1;
                    for (int c = 0; c < 3 && ok; ++c)
                        for (int y = 0; y < 32 && ok; ++y)
                            for (int x = 0; x < 32 && ok; ++x) {
                                int sx = (flip ? 31 - x : x) + dx, sy = y + dy;
                                int v = sx < 0 || sy < 0 || sx > 31 || sy > 31
                                            ? 0
                                            : (((sy * 32 + sx) * 3 + c * 50 +
                                                index) & 255);
                                ok = byte_at(img, &p, 32, c, x, y) == v;
                            }
                    matches += ok;
                }
        ck_assert_int_eq(matches, 1);
    }
    cnn_dataset_free(ds);
    image_test_folder_remove();
}
END_TEST

START_TEST(cifar10_bad_files)
{
    image_test_folder();
    cnn_dataset *ds = NULL;
    ck_assert_fails(cnn_dataset_open_cifar10(&ds, image_test_path(""), 0,
                                             NULL),
                    CNN_ERR_IO, "test_batch.bin");
    cifar_file("test_batch.bin", 0, 2, 0);
    size_t n = 0;
    uint8_t *data = image_test_read(image_test_path("test_batch.bin"), &n);
    image_test_write("test_batch.bin", data, n - 1);
    ck_assert_fails(cnn_dataset_open_cifar10(&ds, image_test_path(""), 0,
                                             NULL),
                    CNN_ERR_FORMAT, "not a whole number of 3073-byte records");
    image_test_write("test_batch.bin", "", 0);
    ck_assert_fails(cnn_dataset_open_cifar10(&ds, image_test_path(""), 0,
                                             NULL),
                    CNN_ERR_FORMAT, "test_batch.bin is 0 bytes");
    free(data);
    ck_assert_ptr_null(ds);
    /* A label outside 0..9 fails that record only. */
    cifar_file("test_batch.bin", 0, 2, 0);
    data = image_test_read(image_test_path("test_batch.bin"), &n);
    data[3073] = 12;
    image_test_write("test_batch.bin", data, n);
    free(data);
    ck_assert_ok(cnn_dataset_open_cifar10(&ds, image_test_path(""), 0, NULL));
    float img[3 * 32 * 32];
    ck_assert_ok(cnn_dataset_get_sample(ds, 0, 0, 0, img, NULL));
    ck_assert_fails(cnn_dataset_get_sample(ds, 1, 0, 0, img, NULL),
                    CNN_ERR_FORMAT, "label 12");
    cnn_dataset_free(ds);
    image_test_folder_remove();
}
END_TEST

/* -------------------------------------------------------------- synthetic */

START_TEST(synthetic_data)
{
    cnn_dataset *ds = NULL, *other = NULL;
    ck_assert_ok(cnn_dataset_open_synthetic(&ds, 1000, 3, 5, 7, 10, 99));
    ck_assert_ok(cnn_dataset_open_synthetic(&other, 1000, 3, 5, 7, 10, 100));
    ck_assert_int_eq(cnn_dataset_size(ds), 1000);
    ck_assert_int_eq(cnn_dataset_classes(ds), 10);
    int64_t dims[3];
    cnn_dataset_image_shape(ds, dims);
    ck_assert_int_eq(dims[0] * dims[1] * dims[2], 105);
    float a[105], b[105], c[105];
    int counts[10] = {0};
    double sum = 0;
    for (int i = 0; i < 1000; ++i) {
        int32_t label = -1, label2 = -1;
        ck_assert_ok(cnn_dataset_get_sample(ds, i, 1, 0, a, &label));
        ck_assert_ok(cnn_dataset_get_sample(ds, i, 2, 3, b, &label2));
        ck_assert_mem_eq(a, b, sizeof a);
        ck_assert_int_eq(label, label2);
        ck_assert_int_ge(label, 0);
        ck_assert_int_lt(label, 10);
        counts[label]++;
        ck_assert_ok(cnn_dataset_get_sample(other, i, 1, 0, c, NULL));
        ck_assert_int_ne(memcmp(a, c, sizeof a), 0);
        for (int k = 0; k < 105; ++k) {
            ck_assert_float_ge(a[k], -1.0f);
            ck_assert_float_lt(a[k], 1.0f);
            sum += a[k];
        }
    }
    for (int k = 0; k < 10; ++k)
        ck_assert_int_gt(counts[k], 50);
    ck_assert_double_lt(fabs(sum / 105000.0), 0.02);
    cnn_dataset_free(ds);
    cnn_dataset_free(other);
    ck_assert_fails(cnn_dataset_open_synthetic(&ds, 0, 3, 5, 7, 10, 1),
                    CNN_ERR_INVALID_ARGUMENT, "count");
    ck_assert_fails(cnn_dataset_open_synthetic(&ds, 5, 3, 0, 7, 10, 1),
                    CNN_ERR_INVALID_ARGUMENT, "positive");
    ck_assert_fails(cnn_dataset_open_synthetic(&ds, 5, 3, 5, 7, 0, 1),
                    CNN_ERR_INVALID_ARGUMENT, "classes");
    ck_assert_fails(cnn_dataset_open_synthetic(&ds, 5, 3, 1 << 20, 1 << 20,
                                               2, 1),
                    CNN_ERR_INVALID_ARGUMENT, "2^31");
    ck_assert_ptr_null(ds);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("image_data");
    TCase *tc = cnn_test_case("folders");
    tcase_add_test(tc, folder_order_names_and_labels);
    tcase_add_test(tc, folder_skips_links_and_empty_files);
    tcase_add_test(tc, folder_refusals);
    tcase_add_test(tc, bad_samples_fail_alone);
    tcase_add_test(tc, alexnet_crops_are_windows);
    tcase_add_test(tc, same_bits_from_one_or_four_threads);
    tcase_add_test(tc, dct_scaling_stays_close);
    suite_add_tcase(s, tc);
    tc = cnn_test_case("other sources");
    tcase_add_test(tc, list_files);
    tcase_add_test(tc, cifar10_records);
    tcase_add_test(tc, cifar10_bad_files);
    tcase_add_test(tc, synthetic_data);
    suite_add_tcase(s, tc);
    return cnn_test_run(s);
}
