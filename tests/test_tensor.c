/* tests/test_tensor.c - tensors on the CPU: round trips, copies, shapes,
 * dtypes, views, wrapped memory, fills and the seeded inits. Label: cpu.
 * Also built statically and run alone in a folder without the CUDA module
 * (test_no_cuda_module), where CNN_TEST_EXPECT_NO_CUDA_MODULE=1 adds a case
 * checking that the CUDA backend is reported missing, not crashed on. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "../src/philox.h"
#include "test_util.h"

START_TEST(create_reports_shape)
{
    const int64_t dims[4] = {2, 3, 5, 7};
    cnn_tensor *t = NULL;
    ck_assert_ok(cnn_tensor_create(&t, cnn_cpu(), CNN_F32, 4, dims));
    ck_assert_int_eq(cnn_tensor_ndim(t), 4);
    for (int i = 0; i < 4; ++i) {
        ck_assert_int_eq(cnn_tensor_dim(t, i), dims[i]);
        ck_assert_int_eq(cnn_tensor_dims(t)[i], dims[i]);
    }
    ck_assert_int_eq(cnn_tensor_dim(t, -1), 7);
    ck_assert_int_eq(cnn_tensor_dim(t, -4), 2);
    ck_assert_int_eq(cnn_tensor_dim(t, 4), 0);
    ck_assert_int_eq(cnn_tensor_dim(t, -5), 0);
    ck_assert_int_eq(cnn_tensor_numel(t), 210);
    ck_assert_uint_eq(cnn_tensor_bytes(t), 840);
    ck_assert_int_eq(cnn_tensor_dtype(t), CNN_F32);
    ck_assert_int_eq(cnn_tensor_layout(t), CNN_NCHW);
    ck_assert_int_eq(cnn_tensor_device(t).type, CNN_CPU);
    ck_assert_int_eq(cnn_tensor_device(t).index, 0);
    ck_assert_int_eq(cnn_tensor_owns_data(t), 1);
    ck_assert_ptr_nonnull(cnn_tensor_data(t));
    ck_assert_uint_eq((uintptr_t)cnn_tensor_data(t) % 64, 0);
    ck_assert_ok(cnn_tensor_set_layout(t, CNN_NCHW));
    cnn_tensor_free(t);
    cnn_tensor_free(NULL);
}
END_TEST

START_TEST(round_trip_every_dtype)
{
    const cnn_dtype dtypes[] = {CNN_F32, CNN_I32, CNN_I64,
                                CNN_U8,  CNN_F16, CNN_BF16};
    const size_t sizes[] = {4, 4, 8, 1, 2, 2};
    const int64_t dims[3] = {3, 1, 17};
    for (int d = 0; d < 6; ++d) {
        ck_assert_uint_eq(cnn_dtype_size(dtypes[d]), sizes[d]);
        cnn_tensor *t = NULL;
        ck_assert_ok(cnn_tensor_create(&t, cnn_cpu(), dtypes[d], 3, dims));
        size_t bytes = 51 * sizes[d];
        ck_assert_uint_eq(cnn_tensor_bytes(t), bytes);
        unsigned char in[51 * 8], out[51 * 8];
        for (size_t i = 0; i < bytes; ++i)
            in[i] = (unsigned char)(i * 37 + (size_t)d);
        ck_assert_ok(cnn_tensor_write(t, in, bytes));
        memset(out, 0, sizeof out);
        ck_assert_ok(cnn_tensor_read(t, out, bytes));
        ck_assert_mem_eq(in, out, bytes);
        cnn_tensor_free(t);
    }
    ck_assert_str_eq(cnn_dtype_name(CNN_BF16), "bf16");
    ck_assert_str_eq(cnn_dtype_name((cnn_dtype)42), "unknown");
    ck_assert_uint_eq(cnn_dtype_size((cnn_dtype)42), 0);
}
END_TEST

START_TEST(fill_converts_to_each_dtype)
{
    const int64_t dims[1] = {5};
    cnn_tensor *t = NULL;
    float f[5];
    ck_assert_ok(cnn_tensor_create(&t, cnn_cpu(), CNN_F32, 1, dims));
    ck_assert_ok(cnn_tensor_fill(t, -2.5));
    ck_assert_ok(cnn_tensor_read(t, f, sizeof f));
    for (int i = 0; i < 5; ++i)
        ck_assert_float_eq(f[i], -2.5f);
    cnn_tensor_free(t);

    int32_t i32[5];
    ck_assert_ok(cnn_tensor_create(&t, cnn_cpu(), CNN_I32, 1, dims));
    ck_assert_ok(cnn_tensor_fill(t, -7.9)); /* toward zero */
    ck_assert_ok(cnn_tensor_read(t, i32, sizeof i32));
    ck_assert_int_eq(i32[4], -7);
    ck_assert_ok(cnn_tensor_fill(t, 1e12)); /* saturates */
    ck_assert_ok(cnn_tensor_read(t, i32, sizeof i32));
    ck_assert_int_eq(i32[0], INT32_MAX);
    ck_assert_ok(cnn_tensor_fill(t, NAN));
    ck_assert_ok(cnn_tensor_read(t, i32, sizeof i32));
    ck_assert_int_eq(i32[2], 0);
    cnn_tensor_free(t);

    int64_t i64[5];
    ck_assert_ok(cnn_tensor_create(&t, cnn_cpu(), CNN_I64, 1, dims));
    ck_assert_ok(cnn_tensor_fill(t, -1e30));
    ck_assert_ok(cnn_tensor_read(t, i64, sizeof i64));
    ck_assert(i64[3] == INT64_MIN);
    ck_assert_ok(cnn_tensor_fill(t, 123456789012.0));
    ck_assert_ok(cnn_tensor_read(t, i64, sizeof i64));
    ck_assert(i64[1] == 123456789012LL);
    cnn_tensor_free(t);

    uint8_t u8[5];
    ck_assert_ok(cnn_tensor_create(&t, cnn_cpu(), CNN_U8, 1, dims));
    ck_assert_ok(cnn_tensor_fill(t, 300.0));
    ck_assert_ok(cnn_tensor_read(t, u8, sizeof u8));
    ck_assert_uint_eq(u8[0], 255);
    ck_assert_ok(cnn_tensor_fill(t, -4.0));
    ck_assert_ok(cnn_tensor_read(t, u8, sizeof u8));
    ck_assert_uint_eq(u8[4], 0);
    cnn_tensor_free(t);

    uint16_t h[5];
    ck_assert_ok(cnn_tensor_create(&t, cnn_cpu(), CNN_F16, 1, dims));
    ck_assert_ok(cnn_tensor_fill(t, 1.0));
    ck_assert_ok(cnn_tensor_read(t, h, sizeof h));
    ck_assert_uint_eq(h[0], 0x3C00); /* IEEE half 1.0 */
    ck_assert_ok(cnn_tensor_fill(t, -65504.0));
    ck_assert_ok(cnn_tensor_read(t, h, sizeof h));
    ck_assert_uint_eq(h[2], 0xFBFF); /* the largest negative half */
    ck_assert_ok(cnn_tensor_fill(t, 1e6));
    ck_assert_ok(cnn_tensor_read(t, h, sizeof h));
    ck_assert_uint_eq(h[1], 0x7C00); /* overflow: infinity */
    ck_assert_ok(cnn_tensor_fill(t, ldexp(1.0, -24)));
    ck_assert_ok(cnn_tensor_read(t, h, sizeof h));
    ck_assert_uint_eq(h[3], 0x0001); /* the smallest subnormal */
    cnn_tensor_free(t);

    ck_assert_ok(cnn_tensor_create(&t, cnn_cpu(), CNN_BF16, 1, dims));
    ck_assert_ok(cnn_tensor_fill(t, -2.0));
    ck_assert_ok(cnn_tensor_read(t, h, sizeof h));
    ck_assert_uint_eq(h[0], 0xC000); /* bfloat16 -2.0 */
    cnn_tensor_free(t);
}
END_TEST

START_TEST(zeros_are_zero)
{
    const int64_t dims[2] = {33, 65};
    cnn_tensor *t = NULL;
    ck_assert_ok(cnn_tensor_zeros(&t, cnn_cpu(), CNN_F32, 2, dims));
    float *v = malloc(cnn_tensor_bytes(t));
    ck_assert_ok(cnn_tensor_read(t, v, cnn_tensor_bytes(t)));
    for (int i = 0; i < 33 * 65; ++i)
        ck_assert_float_eq(v[i], 0.0f);
    free(v);
    cnn_tensor_free(t);
}
END_TEST

START_TEST(copy_and_views_share_or_copy_as_documented)
{
    const int64_t dims[2] = {4, 6}, flat[1] = {24}, cube[3] = {2, 3, 4};
    float v[24], out[24];
    cnn_test_values(v, 24, 7);
    cnn_tensor *a = cnn_test_tensor(2, dims, v);
    cnn_tensor *b = cnn_test_tensor(1, flat, NULL);
    ck_assert_ok(cnn_tensor_copy(b, a)); /* shapes may differ */
    ck_assert_ok(cnn_tensor_read(b, out, sizeof out));
    ck_assert_mem_eq(v, out, sizeof v);
    ck_assert_ok(cnn_tensor_copy(a, a)); /* the same tensor is fine */

    cnn_tensor *view = NULL;
    ck_assert_ok(cnn_tensor_reshape(&view, a, 3, cube));
    ck_assert_int_eq(cnn_tensor_owns_data(view), 0);
    ck_assert_ptr_eq(cnn_tensor_data(view), cnn_tensor_data(a));
    ck_assert_int_eq(cnn_tensor_dim(view, 2), 4);
    ck_assert_ok(cnn_tensor_fill(view, 3.0)); /* writes through */
    ck_assert_ok(cnn_tensor_read(a, out, sizeof out));
    ck_assert_float_eq(out[23], 3.0f);
    cnn_tensor_free(view); /* never frees a's memory */
    ck_assert_ok(cnn_tensor_read(a, out, sizeof out));

    float user[24];
    cnn_tensor *wrapped = NULL;
    ck_assert_ok(cnn_tensor_wrap(&wrapped, cnn_cpu(), CNN_F32, 2, dims, user,
                                 sizeof user));
    ck_assert_int_eq(cnn_tensor_owns_data(wrapped), 0);
    ck_assert_ptr_eq(cnn_tensor_data(wrapped), user);
    ck_assert_ok(cnn_tensor_copy(wrapped, b));
    ck_assert_mem_eq(user, v, sizeof v);
    cnn_tensor_free(wrapped); /* user memory stays ours */
    user[0] = 1.0f;

    /* Overlapping views of one buffer are refused. */
    cnn_tensor *lo = NULL, *hi = NULL;
    const int64_t half[1] = {16};
    ck_assert_ok(cnn_tensor_wrap(&lo, cnn_cpu(), CNN_F32, 1, half, user,
                                 16 * sizeof(float)));
    ck_assert_ok(cnn_tensor_wrap(&hi, cnn_cpu(), CNN_F32, 1, half, user + 8,
                                 16 * sizeof(float)));
    ck_assert_fails(cnn_tensor_copy(lo, hi), CNN_ERR_INVALID_ARGUMENT,
                    "overlap");
    cnn_tensor_free(lo);
    cnn_tensor_free(hi);
    cnn_tensor_free(a);
    cnn_tensor_free(b);
}
END_TEST

/* Random123's known-answer vectors for Philox-4x32-10. */
START_TEST(philox_known_answers)
{
    static const uint32_t cases[3][10] = {
        {0, 0, 0, 0, 0, 0, 0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8},
        {0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff,
         0xffffffff, 0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd},
        {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822,
         0x299f31d0, 0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1},
    };
    for (int c = 0; c < 3; ++c) {
        cnn_philox_u32x4 ctr = {{cases[c][0], cases[c][1], cases[c][2],
                                 cases[c][3]}};
        cnn_philox_u32x4 r = cnn_philox4x32_10(ctr, cases[c][4], cases[c][5]);
        for (int k = 0; k < 4; ++k)
            ck_assert_uint_eq(r.v[k], cases[c][6 + k]);
    }
}
END_TEST

START_TEST(uniform_is_seeded_bounded_and_uniform)
{
    const int64_t n = 100003, dims[1] = {n};
    cnn_tensor *t = NULL;
    ck_assert_ok(cnn_tensor_create(&t, cnn_cpu(), CNN_F32, 1, dims));
    float *a = malloc((size_t)n * sizeof *a), *b = malloc((size_t)n * sizeof *b);
    ck_assert_ok(cnn_tensor_uniform(t, 1234, -2.0f, 3.0f));
    ck_assert_ok(cnn_tensor_read(t, a, (size_t)n * sizeof *a));
    ck_assert_ok(cnn_tensor_uniform(t, 1234, -2.0f, 3.0f));
    ck_assert_ok(cnn_tensor_read(t, b, (size_t)n * sizeof *b));
    ck_assert_mem_eq(a, b, (size_t)n * sizeof *a);
    double sum = 0.0;
    int differs = 0;
    for (int64_t i = 0; i < n; ++i) {
        ck_assert(a[i] >= -2.0f && a[i] < 3.0f);
        sum += a[i];
    }
    /* The documented stream: element i is lane i%4 of block i/4. */
    for (int64_t i = 0; i < 64; ++i) {
        cnn_philox_u32x4 ctr = {{(uint32_t)(i / 4), 0, 1, 0}};
        cnn_philox_u32x4 r = cnn_philox4x32_10(ctr, 1234, 0);
        double u = (double)(r.v[i % 4] >> 8) / 16777216.0;
        ck_assert_double_eq_tol(a[i], -2.0 + 5.0 * u, 1e-6);
    }
    /* Mean of U(-2, 3) is 0.5, standard error 5/sqrt(12 n) ~ 0.0046. */
    ck_assert_double_eq_tol(sum / (double)n, 0.5, 0.03);
    ck_assert_ok(cnn_tensor_uniform(t, 1235, -2.0f, 3.0f));
    ck_assert_ok(cnn_tensor_read(t, b, (size_t)n * sizeof *b));
    for (int64_t i = 0; i < n; ++i)
        differs += a[i] != b[i];
    ck_assert_int_gt(differs, n - 100);
    free(a);
    free(b);
    cnn_tensor_free(t);
}
END_TEST

START_TEST(normal_has_its_moments)
{
    const int64_t n = 200000, dims[2] = {400, 500};
    cnn_tensor *t = NULL;
    ck_assert_ok(cnn_tensor_create(&t, cnn_cpu(), CNN_F32, 2, dims));
    float *v = malloc((size_t)n * sizeof *v);
    ck_assert_ok(cnn_tensor_normal(t, 99, 1.5f, 2.0f));
    ck_assert_ok(cnn_tensor_read(t, v, (size_t)n * sizeof *v));
    double sum = 0.0, sq = 0.0;
    for (int64_t i = 0; i < n; ++i) {
        ck_assert(isfinite(v[i]));
        sum += v[i];
    }
    double mean = sum / (double)n;
    for (int64_t i = 0; i < n; ++i)
        sq += (v[i] - mean) * (v[i] - mean);
    double sd = sqrt(sq / (double)(n - 1));
    ck_assert_double_eq_tol(mean, 1.5, 0.03); /* 6 standard errors */
    ck_assert_double_eq_tol(sd, 2.0, 0.03);
    free(v);
    cnn_tensor_free(t);
}
END_TEST

START_TEST(cuda_module_absent_is_reported)
{
    ck_assert_int_eq(cnn_device_count(CNN_CUDA), 0);
    ck_assert_fails(cnn_device_check(cnn_cuda(0)), CNN_ERR_DEVICE, "cuda:0");
    /* Either this build has no CUDA backend or the module is not found. */
    const char *why = cnn_last_error();
    ck_assert_msg(strstr(why, "libcnn-cuda.so") || strstr(why, "no CUDA backend"),
                  "unexpected reason: %s", why);
    cnn_tensor *t = (cnn_tensor *)&t; /* must be reset to NULL */
    const int64_t dims[1] = {4};
    ck_assert_fails(cnn_tensor_create(&t, cnn_cuda(0), CNN_F32, 1, dims),
                    CNN_ERR_DEVICE, "cnn_tensor_create: cuda:0 is not usable");
    ck_assert_ptr_null(t);
    ck_assert_ptr_nonnull(strstr(cnn_runtime_info(), "cuda: not available"));
}
END_TEST

/* The CPU's memory statistics count what tensors hold; the settings of
 * a device (deterministic mode, workspace limit) are kept and checked. */
START_TEST(cpu_memory_stats_and_device_settings)
{
    cnn_memory_stats before, during, after;
    ck_assert_ok(cnn_device_memory_stats(cnn_cpu(), &before));
    const int64_t n = 100000;
    cnn_tensor *t = NULL;
    ck_assert_ok(cnn_tensor_create(&t, cnn_cpu(), CNN_F32, 1, &n));
    ck_assert_ok(cnn_device_memory_stats(cnn_cpu(), &during));
    ck_assert_uint_ge(during.in_use, before.in_use + 4 * (size_t)n);
    ck_assert_uint_ge(during.peak, during.in_use);
    cnn_tensor_free(t);
    ck_assert_ok(cnn_device_memory_stats(cnn_cpu(), &after));
    ck_assert_uint_eq(after.in_use, before.in_use);
    ck_assert_uint_eq(after.cached, 0);
    ck_assert_ok(cnn_device_memory_trim(cnn_cpu()));
    ck_assert_ok(cnn_device_memory_reset_peak(cnn_cpu()));
    ck_assert_ok(cnn_device_memory_stats(cnn_cpu(), &after));
    ck_assert_uint_eq(after.peak, after.in_use);
    ck_assert_fails(cnn_device_memory_stats(cnn_cpu_n(40), &after),
                    CNN_ERR_DEVICE, "cpu:40 does not exist");

    ck_assert_ok(cnn_set_deterministic(cnn_cpu(), 1));
    ck_assert_int_eq(cnn_get_deterministic(cnn_cpu()), 1);
    ck_assert_ok(cnn_set_deterministic(cnn_cpu(), 0));
    ck_assert_int_eq(cnn_get_deterministic(cnn_cpu()), 0);
    ck_assert_uint_gt(cnn_get_workspace_limit(cnn_cpu()), 0);
    ck_assert_ok(cnn_set_workspace_limit(cnn_cpu(), 4096));
    ck_assert_uint_eq(cnn_get_workspace_limit(cnn_cpu()), 4096);
    ck_assert_fails(cnn_set_workspace_limit(cnn_cpu(), 0),
                    CNN_ERR_INVALID_ARGUMENT, "bytes is 0");
    ck_assert_fails(cnn_set_deterministic(cnn_cpu_n(40), 1), CNN_ERR_DEVICE,
                    "does not exist");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("tensor");
    TCase *tc = cnn_test_case("tensor");
    tcase_add_test(tc, create_reports_shape);
    tcase_add_test(tc, round_trip_every_dtype);
    tcase_add_test(tc, fill_converts_to_each_dtype);
    tcase_add_test(tc, zeros_are_zero);
    tcase_add_test(tc, copy_and_views_share_or_copy_as_documented);
    tcase_add_test(tc, cpu_memory_stats_and_device_settings);
    suite_add_tcase(s, tc);
    TCase *rng = cnn_test_case("random");
    tcase_add_test(rng, philox_known_answers);
    tcase_add_test(rng, uniform_is_seeded_bounded_and_uniform);
    tcase_add_test(rng, normal_has_its_moments);
    suite_add_tcase(s, rng);
    const char *expect = getenv("CNN_TEST_EXPECT_NO_CUDA_MODULE");
    if (expect && strcmp(expect, "1") == 0) {
        TCase *absent = cnn_test_case("no_cuda_module");
        tcase_add_test(absent, cuda_module_absent_is_reported);
        suite_add_tcase(s, absent);
    }
    return cnn_test_run(s);
}
