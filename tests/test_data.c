/* tests/test_data.c - IDX data sets (plain and gzip, and every way a file
 * can be wrong), Fashion-MNIST from Debian's package, the shuffle and the
 * loader (every sample once per epoch, partial batches, resuming).
 * Label: cpu. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <zlib.h>

#include "test_util.h"

static char folder[64];

static void make_folder(void)
{
    snprintf(folder, sizeof folder, "/tmp/cnn-test-data-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(folder));
}

static void remove_folder(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", folder);
    ck_assert_int_eq(system(cmd), 0);
}

/* Writes an IDX file of u8 with the given dims and bytes; gzip or not. */
static void write_idx(const char *name, int gz, int ndim, const uint32_t *dims,
                      const uint8_t *data, size_t bytes, size_t cut)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", folder, name);
    uint8_t header[16] = {0, 0, 0x08, (uint8_t)ndim};
    for (int i = 0; i < ndim; ++i) {
        header[4 + 4 * i] = (uint8_t)(dims[i] >> 24);
        header[5 + 4 * i] = (uint8_t)(dims[i] >> 16);
        header[6 + 4 * i] = (uint8_t)(dims[i] >> 8);
        header[7 + 4 * i] = (uint8_t)dims[i];
    }
    size_t header_bytes = 4 + 4 * (size_t)ndim;
    bytes -= cut; /* a truncated file */
    if (gz) {
        gzFile f = gzopen(path, "wb");
        ck_assert_ptr_nonnull(f);
        gzwrite(f, header, (unsigned)header_bytes);
        if (bytes)
            gzwrite(f, data, (unsigned)bytes);
        gzclose(f);
    } else {
        FILE *f = fopen(path, "wb");
        ck_assert_ptr_nonnull(f);
        fwrite(header, 1, header_bytes, f);
        fwrite(data, 1, bytes, f);
        fclose(f);
    }
}

/* 5 images of 3x2 where pixel k of image i is 10 i + k; label i % 3. */
static void write_small_set(int gz, size_t cut)
{
    uint8_t pixels[30], labels[5];
    for (int i = 0; i < 30; ++i)
        pixels[i] = (uint8_t)(10 * (i / 6) + i % 6);
    for (int i = 0; i < 5; ++i)
        labels[i] = (uint8_t)(i % 3);
    const uint32_t image_dims[3] = {5, 3, 2}, label_dims[1] = {5};
    write_idx("images", gz, 3, image_dims, pixels, sizeof pixels, cut);
    write_idx("labels", gz, 1, label_dims, labels, sizeof labels, 0);
}

static cnn_status open_small(cnn_dataset **ds, float mean, float std)
{
    char images[256], labels[256];
    snprintf(images, sizeof images, "%s/images", folder);
    snprintf(labels, sizeof labels, "%s/labels", folder);
    return cnn_dataset_open_idx(ds, images, labels, mean, std);
}

START_TEST(idx_plain_and_gzip)
{
    make_folder();
    for (int gz = 0; gz <= 1; ++gz) {
        write_small_set(gz, 0);
        cnn_dataset *ds = NULL;
        ck_assert_ok(open_small(&ds, 0.5f, 2.0f));
        ck_assert_int_eq(cnn_dataset_size(ds), 5);
        ck_assert_int_eq(cnn_dataset_classes(ds), 3);
        int64_t dims[3];
        cnn_dataset_image_shape(ds, dims);
        ck_assert_int_eq(dims[0], 1);
        ck_assert_int_eq(dims[1], 3);
        ck_assert_int_eq(dims[2], 2);
        float image[6];
        int32_t label;
        ck_assert_ok(cnn_dataset_get(ds, 4, image, &label));
        ck_assert_int_eq(label, 1);
        for (int k = 0; k < 6; ++k)
            ck_assert_float_eq_tol(image[k], ((40 + k) / 255.0f - 0.5f) / 2.0f,
                                   1e-6f);
        ck_assert_fails(cnn_dataset_get(ds, 5, image, &label),
                        CNN_ERR_INVALID_ARGUMENT, "index 5 is outside [0, 5)");
        cnn_dataset_free(ds);
    }
    remove_folder();
}
END_TEST

START_TEST(idx_bad_files)
{
    make_folder();
    cnn_dataset *ds = (cnn_dataset *)&ds;
    ck_assert_fails(open_small(&ds, 0.0f, 1.0f), CNN_ERR_IO, "cannot open");
    ck_assert_ptr_null(ds);
    write_small_set(1, 7); /* truncated images */
    ck_assert_fails(open_small(&ds, 0.0f, 1.0f), CNN_ERR_FORMAT,
                    "truncated or corrupt");
    write_small_set(0, 0);
    const uint32_t four[1] = {4};
    const uint8_t labels[4] = {0, 1, 2, 0};
    write_idx("labels", 0, 1, four, labels, 4, 0);
    ck_assert_fails(open_small(&ds, 0.0f, 1.0f), CNN_ERR_FORMAT,
                    "holds 5 images but");
    /* Not IDX at all. */
    char path[256];
    snprintf(path, sizeof path, "%s/labels", folder);
    FILE *f = fopen(path, "wb");
    fputs("this is not an IDX file", f);
    fclose(f);
    ck_assert_fails(open_small(&ds, 0.0f, 1.0f), CNN_ERR_FORMAT, "IDX");
    /* Images given as labels: wrong number of dimensions. */
    write_small_set(0, 0);
    char images[256];
    snprintf(images, sizeof images, "%s/images", folder);
    ck_assert_fails(cnn_dataset_open_idx(&ds, images, images, 0.0f, 1.0f),
                    CNN_ERR_FORMAT, "3 dimensions");
    ck_assert_fails(open_small(&ds, 0.0f, 0.0f), CNN_ERR_INVALID_ARGUMENT,
                    "std is 0");
    ck_assert_fails(cnn_dataset_open_idx(&ds, NULL, images, 0.0f, 1.0f),
                    CNN_ERR_INVALID_ARGUMENT, "images_path is NULL");
    ck_assert_fails(cnn_dataset_open_fashion_mnist(&ds, folder, 1),
                    CNN_ERR_IO, "install Debian's dataset-fashion-mnist");
    cnn_dataset_free(NULL);
    remove_folder();
}
END_TEST

START_TEST(fashion_mnist_from_debian)
{
    cnn_dataset *ds = NULL;
    ck_assert_ok(cnn_dataset_open_fashion_mnist(&ds, NULL, 0));
    ck_assert_int_eq(cnn_dataset_size(ds), 10000);
    ck_assert_int_eq(cnn_dataset_classes(ds), 10);
    int64_t dims[3];
    cnn_dataset_image_shape(ds, dims);
    ck_assert_int_eq(dims[1] * dims[2], 784);
    int counts[10] = {0};
    double sum = 0.0;
    float image[784];
    for (int64_t i = 0; i < 10000; ++i) {
        int32_t label;
        ck_assert_ok(cnn_dataset_get(ds, i, image, &label));
        counts[label]++;
        for (int k = 0; k < 784; ++k)
            sum += image[k];
    }
    for (int c = 0; c < 10; ++c)
        ck_assert_int_eq(counts[c], 1000); /* the test set is balanced */
    /* Normalised with the training statistics: mean near 0. */
    ck_assert_double_eq_tol(sum / (10000.0 * 784), 0.0, 0.05);
    cnn_dataset_free(ds);
}
END_TEST

START_TEST(shuffle_is_a_seeded_permutation)
{
    enum { N = 1000 };
    int64_t a[N], b[N];
    ck_assert_ok(cnn_shuffle_order(a, N, 7, 0));
    ck_assert_ok(cnn_shuffle_order(b, N, 7, 0));
    ck_assert_mem_eq(a, b, sizeof a);
    int seen[N] = {0}, fixed = 0;
    for (int i = 0; i < N; ++i) {
        ck_assert(a[i] >= 0 && a[i] < N);
        seen[a[i]]++;
        fixed += a[i] == i;
    }
    for (int i = 0; i < N; ++i)
        ck_assert_int_eq(seen[i], 1);
    ck_assert_int_lt(fixed, 10); /* about 1 expected */
    ck_assert_ok(cnn_shuffle_order(b, N, 7, 1)); /* another epoch */
    int same = 0;
    for (int i = 0; i < N; ++i)
        same += a[i] == b[i];
    ck_assert_int_lt(same, 10);
    /* Position of element 0 over many epochs is spread evenly. */
    int first_half = 0;
    for (int e = 0; e < 400; ++e) {
        int64_t c[10];
        ck_assert_ok(cnn_shuffle_order(c, 10, 99, e));
        first_half += c[0] < 5;
    }
    ck_assert_int_gt(first_half, 150);
    ck_assert_int_lt(first_half, 250);
}
END_TEST

START_TEST(loader_covers_each_epoch_and_resumes)
{
    make_folder();
    write_small_set(0, 0);
    cnn_dataset *ds = NULL;
    ck_assert_ok(open_small(&ds, 0.0f, 1.0f));
    cnn_loader_params p = {.batch_size = 2, .seed = 5, .shuffle = 1};
    cnn_loader *l = NULL;
    ck_assert_ok(cnn_loader_create(&l, ds, &p));
    ck_assert_int_eq(cnn_loader_batches(l), 3);
    const int64_t idims[4] = {2, 1, 3, 2}, ldims[1] = {2};
    cnn_tensor *images = NULL, *labels = NULL;
    ck_assert_ok(cnn_tensor_create(&images, cnn_cpu(), CNN_F32, 4, idims));
    ck_assert_ok(cnn_tensor_create(&labels, cnn_cpu(), CNN_I32, 1, ldims));
    float first_pixels[3][2];
    for (int epoch = 0; epoch < 2; ++epoch) {
        ck_assert_ok(cnn_loader_start_epoch(l, epoch, 0));
        int seen[5] = {0}, total = 0;
        for (int batch = 0; batch < 3; ++batch) {
            int64_t count = -1;
            ck_assert_ok(cnn_loader_next(l, images, labels, &count));
            ck_assert_int_eq(count, batch < 2 ? 2 : 1);
            float px[12];
            int32_t lb[2];
            ck_assert_ok(cnn_tensor_read(images, px, sizeof px));
            ck_assert_ok(cnn_tensor_read(labels, lb, sizeof lb));
            for (int k = 0; k < count; ++k) {
                int index = (int)(px[6 * k] * 255.0f + 0.5f) / 10;
                ck_assert_int_eq(lb[k], index % 3);
                seen[index]++;
                total++;
            }
            if (count == 1)
                ck_assert_float_eq(px[6], 0.0f); /* zero-padded row */
            if (epoch == 0)
                first_pixels[batch][0] = px[0];
            else
                first_pixels[batch][1] = px[0];
        }
        int64_t count = -1;
        ck_assert_ok(cnn_loader_next(l, images, labels, &count));
        ck_assert_int_eq(count, 0); /* end of the epoch */
        ck_assert_int_eq(total, 5);
        for (int i = 0; i < 5; ++i)
            ck_assert_int_eq(seen[i], 1);
    }
    /* Resuming epoch 1 at batch 2 gives the batch the full run gave. */
    ck_assert_ok(cnn_loader_start_epoch(l, 1, 2));
    int64_t count;
    float px[12];
    ck_assert_ok(cnn_loader_next(l, images, labels, &count));
    ck_assert_ok(cnn_tensor_read(images, px, sizeof px));
    ck_assert_float_eq(px[0], first_pixels[2][1]);
    ck_assert_fails(cnn_loader_start_epoch(l, 0, 4), CNN_ERR_INVALID_ARGUMENT,
                    "out of range");
    cnn_tensor *wrong = NULL;
    const int64_t wdims[4] = {3, 1, 3, 2};
    ck_assert_ok(cnn_tensor_create(&wrong, cnn_cpu(), CNN_F32, 4, wdims));
    ck_assert_fails(cnn_loader_next(l, wrong, labels, &count), CNN_ERR_SHAPE,
                    "images has shape [3x1x3x2] but must be [2x1x3x2]");
    cnn_tensor_free(wrong);
    cnn_loader_free(l);

    /* drop_last skips the partial batch; too few samples is an error. */
    p.drop_last = 1;
    ck_assert_ok(cnn_loader_create(&l, ds, &p));
    ck_assert_int_eq(cnn_loader_batches(l), 2);
    cnn_loader_free(l);
    p.batch_size = 6;
    ck_assert_fails(cnn_loader_create(&l, ds, &p), CNN_ERR_INVALID_ARGUMENT,
                    "fewer than one batch");
    p.batch_size = 0;
    ck_assert_fails(cnn_loader_create(&l, ds, &p), CNN_ERR_INVALID_ARGUMENT,
                    "batch_size is 0");
    cnn_loader_free(NULL);
    cnn_tensor_free(images);
    cnn_tensor_free(labels);
    cnn_dataset_free(ds);
    remove_folder();
}
END_TEST

int main(void)
{
    Suite *s = suite_create("data");
    TCase *tc = cnn_test_case("data");
    tcase_add_test(tc, idx_plain_and_gzip);
    tcase_add_test(tc, idx_bad_files);
    tcase_add_test(tc, fashion_mnist_from_debian);
    tcase_add_test(tc, shuffle_is_a_seeded_permutation);
    tcase_add_test(tc, loader_covers_each_epoch_and_resumes);
    suite_add_tcase(s, tc);
    return cnn_test_run(s);
}
