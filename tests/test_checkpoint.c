/* tests/test_checkpoint.c - the checkpoint file: round trips, atomic
 * replacement, and every kind of damage (truncation at every length, a
 * flipped bit anywhere, a newer version, bad names) refused with a message
 * and without touching the caller's tensors. Label: cpu. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "test_util.h"

static char folder[64], path[128];

static void setup(void)
{
    snprintf(folder, sizeof folder, "/tmp/cnn-test-ckpt-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(folder));
    snprintf(path, sizeof path, "%s/model.ckpt", folder);
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", folder);
    ck_assert_int_eq(system(cmd), 0);
}

static unsigned char *slurp(const char *p, size_t *size)
{
    FILE *f = fopen(p, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    *size = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *data = malloc(*size);
    ck_assert_uint_eq(fread(data, 1, *size, f), *size);
    fclose(f);
    return data;
}

static void spit(const char *p, const unsigned char *data, size_t size)
{
    FILE *f = fopen(p, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, size, f), size);
    fclose(f);
}

/* Saves two tensors and two metadata entries. */
static void save_sample(float scale)
{
    const int64_t wd[4] = {3, 2, 2, 2}, ld[1] = {5};
    float w[24];
    int32_t l[5] = {4, -1, 7, 0, 123456};
    for (int i = 0; i < 24; ++i)
        w[i] = scale * (float)(i - 11);
    cnn_tensor *tw = cnn_test_tensor(4, wd, w), *tl = NULL;
    ck_assert_ok(cnn_tensor_create(&tl, cnn_cpu(), CNN_I32, 1, ld));
    ck_assert_ok(cnn_tensor_write(tl, l, sizeof l));
    const char *keys[2] = {"model", "epoch"}, *values[2] = {"tiny", "3"};
    const char *names[2] = {"features.0.weight", "labels"};
    const cnn_tensor *tensors[2] = {tw, tl};
    ck_assert_ok(cnn_checkpoint_save(path, keys, values, 2, names, tensors, 2));
    cnn_tensor_free(tw);
    cnn_tensor_free(tl);
}

START_TEST(round_trip)
{
    save_sample(0.5f);
    char tmp[160];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    ck_assert_int_ne(access(tmp, F_OK), 0); /* no temporary left */
    cnn_checkpoint *ck = NULL;
    ck_assert_ok(cnn_checkpoint_open(&ck, path));
    ck_assert_uint_eq(cnn_checkpoint_version(ck), CNN_CHECKPOINT_VERSION);
    ck_assert_int_eq(cnn_checkpoint_meta_count(ck), 2);
    ck_assert_str_eq(cnn_checkpoint_meta(ck, "model"), "tiny");
    ck_assert_str_eq(cnn_checkpoint_meta(ck, "epoch"), "3");
    ck_assert_ptr_null(cnn_checkpoint_meta(ck, "nope"));
    ck_assert_int_eq(cnn_checkpoint_tensor_count(ck), 2);
    ck_assert_str_eq(cnn_checkpoint_tensor_name(ck, 1), "labels");
    ck_assert_ptr_null(cnn_checkpoint_tensor_name(ck, 2));
    cnn_dtype dtype;
    int ndim;
    int64_t dims[8];
    ck_assert_ok(cnn_checkpoint_tensor_info(ck, "features.0.weight", &dtype,
                                            &ndim, dims));
    ck_assert_int_eq(dtype, CNN_F32);
    ck_assert_int_eq(ndim, 4);
    ck_assert_int_eq(dims[0], 3);
    const int64_t wd[4] = {3, 2, 2, 2};
    cnn_tensor *w = cnn_test_tensor(4, wd, NULL);
    ck_assert_ok(cnn_checkpoint_read_tensor(ck, "features.0.weight", w));
    float got[24];
    ck_assert_ok(cnn_tensor_read(w, got, sizeof got));
    for (int i = 0; i < 24; ++i)
        ck_assert_float_eq(got[i], 0.5f * (float)(i - 11));
    /* A wrong shape or dtype leaves the tensor untouched. */
    const int64_t other[2] = {4, 6};
    cnn_tensor *wrong = cnn_test_tensor(2, other, got);
    ck_assert_fails(cnn_checkpoint_read_tensor(ck, "features.0.weight", wrong),
                    CNN_ERR_SHAPE, "another shape");
    ck_assert_fails(cnn_checkpoint_read_tensor(ck, "labels", w),
                    CNN_ERR_INVALID_ARGUMENT, "i32 in the file");
    ck_assert_fails(cnn_checkpoint_read_tensor(ck, "missing", w),
                    CNN_ERR_INVALID_ARGUMENT, "no tensor 'missing'");
    cnn_checkpoint_close(ck);
    cnn_checkpoint_close(NULL);
    /* Saving again replaces the file whole. */
    save_sample(2.0f);
    ck_assert_ok(cnn_checkpoint_open(&ck, path));
    ck_assert_ok(cnn_checkpoint_read_tensor(ck, "features.0.weight", w));
    ck_assert_ok(cnn_tensor_read(w, got, sizeof got));
    ck_assert_float_eq(got[0], -22.0f);
    cnn_checkpoint_close(ck);
    cnn_tensor_free(w);
    cnn_tensor_free(wrong);
}
END_TEST

/* The data of every tensor starts at a multiple of 64 bytes. */
START_TEST(data_is_aligned)
{
    save_sample(1.0f);
    size_t size;
    unsigned char *file = slurp(path, &size);
    /* Find the float -11.0f that starts tensor 0's data. */
    const float first = -11.0f;
    size_t at = 0;
    for (; at + 4 <= size; ++at)
        if (memcmp(file + at, &first, 4) == 0)
            break;
    ck_assert_uint_lt(at, size);
    ck_assert_uint_eq(at % 64, 0);
    free(file);
}
END_TEST

START_TEST(every_truncation_and_flip_is_refused)
{
    save_sample(1.0f);
    size_t size;
    unsigned char *good = slurp(path, &size);
    char bad[160];
    snprintf(bad, sizeof bad, "%s/bad.ckpt", folder);
    cnn_checkpoint *ck = NULL;
    for (size_t len = 0; len < size; ++len) {
        spit(bad, good, len);
        cnn_status s = cnn_checkpoint_open(&ck, bad);
        ck_assert_msg(s == CNN_ERR_FORMAT, "truncated to %zu: %s", len,
                      cnn_status_string(s));
        ck_assert_ptr_null(ck);
    }
    unsigned char *copy = malloc(size);
    for (size_t at = 0; at < size; ++at) {
        memcpy(copy, good, size);
        copy[at] ^= 0x10;
        spit(bad, copy, size);
        cnn_status s = cnn_checkpoint_open(&ck, bad);
        ck_assert_msg(s == CNN_ERR_FORMAT, "flip at %zu: %s", at,
                      cnn_status_string(s));
    }
    /* Garbage appended is corruption too. */
    memcpy(copy, good, size);
    spit(bad, copy, size);
    FILE *f = fopen(bad, "ab");
    fputs("tail", f);
    fclose(f);
    ck_assert_fails(cnn_checkpoint_open(&ck, bad), CNN_ERR_FORMAT, "checksum");
    free(copy);
    free(good);
}
END_TEST

START_TEST(newer_versions_and_other_files)
{
    save_sample(1.0f);
    size_t size;
    unsigned char *file = slurp(path, &size);
    file[8] = 2; /* version 2, with a valid checksum */
    uint32_t crc = (uint32_t)crc32(0, file, (uInt)(size - 4));
    for (int i = 0; i < 4; ++i)
        file[size - 4 + (size_t)i] = (unsigned char)(crc >> (8 * i));
    spit(path, file, size);
    cnn_checkpoint *ck = NULL;
    ck_assert_fails(cnn_checkpoint_open(&ck, path), CNN_ERR_FORMAT,
                    "format version 2 but this cnn reads versions 1 to 1");
    static const char zip[] = "PK\003\004 a zip file";
    spit(path, (const unsigned char *)zip, sizeof zip - 1);
    ck_assert_fails(cnn_checkpoint_open(&ck, path), CNN_ERR_FORMAT,
                    "not a cnn checkpoint");
    char missing[160];
    snprintf(missing, sizeof missing, "%s/none.ckpt", folder);
    ck_assert_fails(cnn_checkpoint_open(&ck, missing), CNN_ERR_IO,
                    "cannot open");
    ck_assert_fails(cnn_checkpoint_open(NULL, path), CNN_ERR_INVALID_ARGUMENT,
                    "out is NULL");
    free(file);
}
END_TEST

START_TEST(bad_saves_change_nothing)
{
    save_sample(1.0f);
    size_t before_size;
    unsigned char *before = slurp(path, &before_size);
    const int64_t d[1] = {2};
    cnn_tensor *t = cnn_test_tensor(1, d, NULL);
    ck_assert_ok(cnn_tensor_fill(t, 1.0));
    const cnn_tensor *two[2] = {t, t};
    const char *dup[2] = {"a", "a"}, *empty[1] = {""};
    ck_assert_fails(cnn_checkpoint_save(path, NULL, NULL, 0, dup, two, 2),
                    CNN_ERR_INVALID_ARGUMENT, "'a' appears twice");
    ck_assert_fails(cnn_checkpoint_save(path, NULL, NULL, 0, empty, two, 1),
                    CNN_ERR_INVALID_ARGUMENT, "empty");
    const cnn_tensor *none[1] = {NULL};
    const char *one[1] = {"x"};
    ck_assert_fails(cnn_checkpoint_save(path, NULL, NULL, 0, one, none, 1),
                    CNN_ERR_INVALID_ARGUMENT, "tensor 'x' is NULL");
    char unwritable[160];
    snprintf(unwritable, sizeof unwritable, "%s/no/such/folder/x.ckpt", folder);
    ck_assert_fails(cnn_checkpoint_save(unwritable, NULL, NULL, 0, one, two, 1),
                    CNN_ERR_IO, "cannot create");
    size_t after_size;
    unsigned char *after = slurp(path, &after_size);
    ck_assert_uint_eq(before_size, after_size);
    ck_assert_mem_eq(before, after, before_size);
    free(before);
    free(after);
    cnn_tensor_free(t);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("checkpoint");
    TCase *tc = cnn_test_case("checkpoint");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, round_trip);
    tcase_add_test(tc, data_is_aligned);
    tcase_add_test(tc, every_truncation_and_flip_is_refused);
    tcase_add_test(tc, newer_versions_and_other_files);
    tcase_add_test(tc, bad_saves_change_nothing);
    suite_add_tcase(s, tc);
    return cnn_test_run(s);
}
