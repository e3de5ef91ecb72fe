/* tests/test_bad_input.c - every public call given bad input returns the
 * right status and a message naming the call and the argument, never
 * crashes, and leaks nothing (run under AddressSanitizer in CI). Runs with
 * two logical CPU devices so that device mismatches can be made. Label: cpu. */
#include <stdlib.h>

#include "test_util.h"

static cnn_tensor *make(cnn_device dev, cnn_dtype dtype, int64_t a, int64_t b)
{
    const int64_t dims[2] = {a, b};
    cnn_tensor *t = NULL;
    ck_assert_ok(cnn_tensor_create(&t, dev, dtype, 2, dims));
    return t;
}

START_TEST(null_pointers)
{
    const int64_t dims[1] = {4};
    float buf[4];
    cnn_tensor *t = make(cnn_cpu(), CNN_F32, 2, 2);
    ck_assert_fails(cnn_tensor_create(NULL, cnn_cpu(), CNN_F32, 1, dims),
                    CNN_ERR_INVALID_ARGUMENT, "out is NULL");
    cnn_tensor *out = t; /* create sets *out to NULL on failure */
    ck_assert_fails(cnn_tensor_create(&out, cnn_cpu(), CNN_F32, 1, NULL),
                    CNN_ERR_INVALID_ARGUMENT, "dims is NULL");
    ck_assert_ptr_null(out);
    ck_assert_fails(cnn_tensor_zeros(NULL, cnn_cpu(), CNN_F32, 1, dims),
                    CNN_ERR_INVALID_ARGUMENT, "out is NULL");
    ck_assert_fails(cnn_tensor_wrap(&out, cnn_cpu(), CNN_F32, 1, dims, NULL, 16),
                    CNN_ERR_INVALID_ARGUMENT, "data is NULL");
    ck_assert_fails(cnn_tensor_reshape(&out, NULL, 1, dims),
                    CNN_ERR_INVALID_ARGUMENT, "src is NULL");
    ck_assert_fails(cnn_tensor_reshape(NULL, t, 1, dims),
                    CNN_ERR_INVALID_ARGUMENT, "out is NULL");
    ck_assert_fails(cnn_tensor_write(NULL, buf, 16), CNN_ERR_INVALID_ARGUMENT,
                    "cnn_tensor_write: tensor is NULL");
    ck_assert_fails(cnn_tensor_write(t, NULL, 16), CNN_ERR_INVALID_ARGUMENT,
                    "host buffer is NULL");
    ck_assert_fails(cnn_tensor_read(NULL, buf, 16), CNN_ERR_INVALID_ARGUMENT,
                    "cnn_tensor_read: tensor is NULL");
    ck_assert_fails(cnn_tensor_read(t, NULL, 16), CNN_ERR_INVALID_ARGUMENT,
                    "host buffer is NULL");
    ck_assert_fails(cnn_tensor_copy(NULL, t), CNN_ERR_INVALID_ARGUMENT,
                    "dst is NULL");
    ck_assert_fails(cnn_tensor_copy(t, NULL), CNN_ERR_INVALID_ARGUMENT,
                    "src is NULL");
    ck_assert_fails(cnn_tensor_fill(NULL, 1.0), CNN_ERR_INVALID_ARGUMENT,
                    "cnn_tensor_fill: tensor is NULL");
    ck_assert_fails(cnn_tensor_uniform(NULL, 1, 0.0f, 1.0f),
                    CNN_ERR_INVALID_ARGUMENT, "tensor is NULL");
    ck_assert_fails(cnn_tensor_normal(NULL, 1, 0.0f, 1.0f),
                    CNN_ERR_INVALID_ARGUMENT, "tensor is NULL");
    ck_assert_fails(cnn_tensor_set_layout(NULL, CNN_NCHW),
                    CNN_ERR_INVALID_ARGUMENT, "tensor is NULL");
    ck_assert_fails(cnn_add(NULL, t, t), CNN_ERR_INVALID_ARGUMENT,
                    "cnn_add: out is NULL");
    ck_assert_fails(cnn_add(t, NULL, t), CNN_ERR_INVALID_ARGUMENT,
                    "cnn_add: a is NULL");
    ck_assert_fails(cnn_add(t, t, NULL), CNN_ERR_INVALID_ARGUMENT,
                    "cnn_add: b is NULL");
    ck_assert_fails(cnn_scale(t, NULL, 2.0f), CNN_ERR_INVALID_ARGUMENT,
                    "cnn_scale: x is NULL");
    ck_assert_fails(cnn_relu_forward(NULL, t), CNN_ERR_INVALID_ARGUMENT,
                    "cnn_relu_forward: y is NULL");
    ck_assert_fails(cnn_relu_backward(t, NULL, t), CNN_ERR_INVALID_ARGUMENT,
                    "cnn_relu_backward: dy is NULL");
    ck_assert_fails(cnn_relu_backward(t, t, NULL), CNN_ERR_INVALID_ARGUMENT,
                    "cnn_relu_backward: y is NULL");
    ck_assert_fails(cnn_device_parse("cpu", NULL), CNN_ERR_INVALID_ARGUMENT,
                    "out is NULL");
    /* Accessors answer NULL with neutral values instead of crashing. */
    ck_assert_int_eq(cnn_tensor_ndim(NULL), 0);
    ck_assert_int_eq(cnn_tensor_dim(NULL, 0), 0);
    ck_assert_ptr_null(cnn_tensor_dims(NULL));
    ck_assert_int_eq(cnn_tensor_numel(NULL), 0);
    ck_assert_uint_eq(cnn_tensor_bytes(NULL), 0);
    ck_assert_ptr_null(cnn_tensor_data(NULL));
    ck_assert_int_eq(cnn_tensor_device(NULL).index, -1);
    cnn_tensor_free(NULL);
    cnn_tensor_free(t);
}
END_TEST

START_TEST(bad_shapes_and_sizes)
{
    cnn_tensor *t = NULL;
    const int64_t zero[2] = {3, 0}, negative[3] = {2, -5, 2};
    ck_assert_fails(cnn_tensor_create(&t, cnn_cpu(), CNN_F32, 2, zero),
                    CNN_ERR_INVALID_ARGUMENT, "dims[1] is 0");
    ck_assert_fails(cnn_tensor_create(&t, cnn_cpu(), CNN_F32, 3, negative),
                    CNN_ERR_INVALID_ARGUMENT, "dims[1] is -5");
    ck_assert_fails(cnn_tensor_create(&t, cnn_cpu(), CNN_F32, 0, zero),
                    CNN_ERR_INVALID_ARGUMENT, "ndim is 0");
    const int64_t nine[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    ck_assert_fails(cnn_tensor_create(&t, cnn_cpu(), CNN_F32, 9, nine),
                    CNN_ERR_INVALID_ARGUMENT, "ndim is 9");
    ck_assert_fails(cnn_tensor_create(&t, cnn_cpu(), CNN_F32, -1, nine),
                    CNN_ERR_INVALID_ARGUMENT, "ndim is -1");
    /* Products that overflow size_t, int64 or the address space. */
    const int64_t huge[3] = {INT64_C(1) << 40, INT64_C(1) << 40, 2};
    ck_assert_fails(cnn_tensor_create(&t, cnn_cpu(), CNN_F32, 3, huge),
                    CNN_ERR_INVALID_ARGUMENT, "overflows");
    const int64_t big[2] = {INT64_MAX, 2};
    ck_assert_fails(cnn_tensor_create(&t, cnn_cpu(), CNN_U8, 2, big),
                    CNN_ERR_INVALID_ARGUMENT, "overflows");
    const int64_t i64big[2] = {INT64_C(1) << 31, INT64_C(1) << 30};
    ck_assert_fails(cnn_tensor_create(&t, cnn_cpu(), CNN_I64, 2, i64big),
                    CNN_ERR_INVALID_ARGUMENT, "overflows");
    /* Within the limit but more than the machine has: out of memory. */
    const int64_t many[2] = {INT64_C(1) << 30, INT64_C(1) << 30};
    ck_assert_fails(cnn_tensor_create(&t, cnn_cpu(), CNN_U8, 2, many),
                    CNN_ERR_OUT_OF_MEMORY,
                    "cnn_tensor_create: cpu: out of host memory allocating "
                    "1152921504606846976 bytes");
    ck_assert_ptr_null(t);
    ck_assert_fails(cnn_tensor_create(&t, cnn_cpu(), (cnn_dtype)77, 1, nine),
                    CNN_ERR_INVALID_ARGUMENT, "dtype 77");
}
END_TEST

START_TEST(wrong_byte_counts)
{
    cnn_tensor *t = make(cnn_cpu(), CNN_F32, 3, 4);
    float buf[13] = {0};
    ck_assert_fails(cnn_tensor_write(t, buf, 44), CNN_ERR_INVALID_ARGUMENT,
                    "the buffer has 44 bytes but the tensor holds 48");
    ck_assert_fails(cnn_tensor_write(t, buf, 52), CNN_ERR_INVALID_ARGUMENT,
                    "52 bytes");
    ck_assert_fails(cnn_tensor_read(t, buf, 0), CNN_ERR_INVALID_ARGUMENT,
                    "cnn_tensor_read: the buffer has 0 bytes");
    const int64_t dims[2] = {3, 4};
    cnn_tensor *w = NULL;
    ck_assert_fails(cnn_tensor_wrap(&w, cnn_cpu(), CNN_F32, 2, dims, buf, 52),
                    CNN_ERR_INVALID_ARGUMENT, "the shape needs 48");
    ck_assert_ptr_null(w);
    const int64_t five[1] = {5};
    ck_assert_fails(cnn_tensor_reshape(&w, t, 1, five), CNN_ERR_SHAPE,
                    "5 elements but src has 12");
    cnn_tensor_free(t);
}
END_TEST

START_TEST(mismatched_shapes_dtypes_devices)
{
    cnn_tensor *a = make(cnn_cpu(), CNN_F32, 2, 3);
    cnn_tensor *b = make(cnn_cpu(), CNN_F32, 3, 2);
    cnn_tensor *c = make(cnn_cpu(), CNN_F32, 2, 4);
    cnn_tensor *i = make(cnn_cpu(), CNN_I32, 2, 3);
    cnn_tensor *other = make(cnn_cpu_n(1), CNN_F32, 2, 3);
    ck_assert_fails(cnn_add(a, a, b), CNN_ERR_SHAPE,
                    "cnn_add: b has shape [3x2] but a has [2x3]");
    ck_assert_fails(cnn_add(c, a, a), CNN_ERR_SHAPE, "out has shape [2x4]");
    ck_assert_fails(cnn_add(a, a, i), CNN_ERR_INVALID_ARGUMENT,
                    "cnn_add: b is i32 but must be f32");
    ck_assert_fails(cnn_relu_forward(i, a), CNN_ERR_INVALID_ARGUMENT,
                    "y is i32");
    ck_assert_fails(cnn_relu_backward(a, a, c), CNN_ERR_SHAPE, "dy has shape");
    ck_assert_fails(cnn_scale(b, a, 1.0f), CNN_ERR_SHAPE, "cnn_scale");
    ck_assert_fails(cnn_add(a, a, other), CNN_ERR_DEVICE,
                    "cnn_add: b is on cpu:1 but a is on cpu:0");
    ck_assert_fails(cnn_relu_forward(other, a), CNN_ERR_DEVICE,
                    "y is on cpu:1");
    ck_assert_fails(cnn_tensor_copy(i, a), CNN_ERR_INVALID_ARGUMENT,
                    "dst is i32 but src is f32");
    ck_assert_fails(cnn_tensor_copy(c, a), CNN_ERR_SHAPE,
                    "dst has 8 elements but src has 6");
    ck_assert_ok(cnn_tensor_copy(other, a)); /* across devices is fine */
    ck_assert_ok(cnn_tensor_copy(b, other)); /* and back, any shape */
    ck_assert_fails(cnn_tensor_uniform(i, 1, 0.0f, 1.0f),
                    CNN_ERR_INVALID_ARGUMENT, "i32 but must be f32");
    ck_assert_fails(cnn_tensor_uniform(a, 1, 1.0f, 1.0f),
                    CNN_ERR_INVALID_ARGUMENT, "low (1) must be below high (1)");
    ck_assert_fails(cnn_tensor_uniform(a, 1, 0.0f, INFINITY),
                    CNN_ERR_INVALID_ARGUMENT, "finite");
    ck_assert_fails(cnn_tensor_normal(a, 1, 0.0f, -1.0f),
                    CNN_ERR_INVALID_ARGUMENT, "stddev (-1) must be >= 0");
    ck_assert_fails(cnn_tensor_normal(a, 1, 0.0f, NAN),
                    CNN_ERR_INVALID_ARGUMENT, "stddev");
    ck_assert_fails(cnn_tensor_set_layout(a, CNN_NHWC), CNN_ERR_UNSUPPORTED,
                    "NHWC is reserved");
    ck_assert_fails(cnn_tensor_set_layout(a, (cnn_layout)3),
                    CNN_ERR_INVALID_ARGUMENT, "not a cnn_layout");
    cnn_tensor_free(a);
    cnn_tensor_free(b);
    cnn_tensor_free(c);
    cnn_tensor_free(i);
    cnn_tensor_free(other);
}
END_TEST

START_TEST(devices_that_do_not_exist)
{
    const int64_t dims[1] = {4};
    cnn_tensor *t = NULL;
    ck_assert_int_eq(cnn_device_count(CNN_CPU), 2);
    ck_assert_fails(cnn_tensor_create(&t, cnn_cpu_n(2), CNN_F32, 1, dims),
                    CNN_ERR_DEVICE, "cpu:2 does not exist");
    ck_assert_fails(cnn_tensor_create(&t, cnn_cpu_n(-1), CNN_F32, 1, dims),
                    CNN_ERR_DEVICE, "cpu:-1");
    ck_assert_fails(cnn_device_check(cnn_cpu_n(1000)), CNN_ERR_DEVICE,
                    "cnn_device_check: cpu:1000");
    ck_assert_fails(cnn_tensor_create(&t, cnn_cuda(63), CNN_F32, 1, dims),
                    CNN_ERR_DEVICE, "cuda:63");
    ck_assert_fails(cnn_device_synchronize(cnn_cuda(1000)), CNN_ERR_DEVICE,
                    "cuda:1000");
    cnn_device bogus = {(cnn_device_type)5, 0};
    ck_assert_fails(cnn_tensor_create(&t, bogus, CNN_F32, 1, dims),
                    CNN_ERR_INVALID_ARGUMENT, "device type 5");
    ck_assert_fails(cnn_set_engine(cnn_cpu_n(9), CNN_ENGINE_NATIVE),
                    CNN_ERR_DEVICE, "cpu:9");
    ck_assert_ptr_null(t);
    float host[4] = {0};
    ck_assert_fails(cnn_tensor_wrap(&t, cnn_cpu_n(3), CNN_F32, 1, dims, host,
                                    sizeof host),
                    CNN_ERR_DEVICE, "cpu:3");
}
END_TEST

int main(void)
{
    /* Before any library call: the library reads this once. */
    setenv("CNN_CPU_DEVICES", "2", 1);
    Suite *s = suite_create("bad_input");
    TCase *tc = cnn_test_case("bad_input");
    tcase_add_test(tc, null_pointers);
    tcase_add_test(tc, bad_shapes_and_sizes);
    tcase_add_test(tc, wrong_byte_counts);
    tcase_add_test(tc, mismatched_shapes_dtypes_devices);
    tcase_add_test(tc, devices_that_do_not_exist);
    suite_add_tcase(s, tc);
    return cnn_test_run(s);
}
