/* tests/test_status.c - statuses, messages, version, build information,
 * the log sink, device values and engines. Label: cpu. */
#include <pthread.h>
#include <stdio.h>

#include "test_util.h"

START_TEST(status_strings_name_every_code)
{
    const cnn_status all[] = {
        CNN_OK, CNN_ERR_INVALID_ARGUMENT, CNN_ERR_SHAPE, CNN_ERR_DEVICE,
        CNN_ERR_DEVICE_LOST, CNN_ERR_OUT_OF_MEMORY, CNN_ERR_IO,
        CNN_ERR_FORMAT, CNN_ERR_UNSUPPORTED, CNN_ERR_INTERNAL};
    const int n = (int)(sizeof all / sizeof all[0]);
    ck_assert_int_eq(CNN_OK, 0);
    ck_assert_str_eq(cnn_status_string(CNN_OK), "CNN_OK");
    ck_assert_str_eq(cnn_status_string(CNN_ERR_SHAPE), "CNN_ERR_SHAPE");
    ck_assert_str_eq(cnn_status_string(CNN_ERR_DEVICE_LOST),
                     "CNN_ERR_DEVICE_LOST");
    for (int i = 0; i < n; ++i) {
        ck_assert_int_eq((int)all[i], i); /* values are stable and dense */
        for (int j = 0; j < i; ++j)
            ck_assert_str_ne(cnn_status_string(all[i]),
                             cnn_status_string(all[j]));
    }
    ck_assert_str_eq(cnn_status_string((cnn_status)n), "unknown status");
    ck_assert_str_eq(cnn_status_string((cnn_status)-1), "unknown status");
}
END_TEST

static void *fail_in_thread(void *arg)
{
    (void)arg;
    int64_t dims[1] = {0};
    cnn_tensor *t;
    cnn_tensor_create(&t, cnn_cpu(), CNN_F32, 1, dims);
    return NULL;
}

START_TEST(last_error_is_thread_local_and_clearable)
{
    cnn_clear_error();
    ck_assert_str_eq(cnn_last_error(), "");
    ck_assert_fails(cnn_tensor_create(NULL, cnn_cpu(), CNN_F32, 1, NULL),
                    CNN_ERR_INVALID_ARGUMENT, "cnn_tensor_create: out is NULL");
    char mine[512];
    snprintf(mine, sizeof mine, "%s", cnn_last_error());
    pthread_t thread;
    ck_assert_int_eq(pthread_create(&thread, NULL, fail_in_thread, NULL), 0);
    pthread_join(thread, NULL);
    ck_assert_str_eq(cnn_last_error(), mine);
    cnn_clear_error();
    ck_assert_str_eq(cnn_last_error(), "");
}
END_TEST

START_TEST(version_and_build_info)
{
    ck_assert_str_eq(cnn_version(), CNN_VERSION_STRING);
    char expect[64];
    snprintf(expect, sizeof expect, "%d.%d.%d", CNN_VERSION_MAJOR,
             CNN_VERSION_MINOR, CNN_VERSION_PATCH);
    ck_assert_str_eq(cnn_version(), expect);
    const char *build = cnn_build_info();
    ck_assert_ptr_nonnull(strstr(build, "cnn " CNN_VERSION_STRING));
    ck_assert_ptr_nonnull(strstr(build, "blas: "));
    ck_assert_ptr_nonnull(strstr(build, "cuda: "));
    ck_assert_ptr_nonnull(strstr(build, "cudnn: "));
    const char *runtime = cnn_runtime_info();
    ck_assert_ptr_nonnull(strstr(runtime, "blas: "));
    ck_assert_ptr_nonnull(strstr(runtime, "cuda"));
}
END_TEST

typedef struct log_record {
    int calls;
    cnn_log_level level;
    char last[1024];
} log_record;

static void record_log(cnn_log_level level, const char *message, void *user)
{
    log_record *r = user;
    r->calls++;
    r->level = level;
    snprintf(r->last, sizeof r->last, "%s", message);
}

START_TEST(log_sink_gets_messages_at_its_level)
{
    log_record r = {0};
    int64_t dims[1] = {-3};
    cnn_tensor *t;
    /* Errors are logged at debug: a warn-level sink hears nothing. */
    cnn_log_set(record_log, CNN_LOG_WARN, &r);
    cnn_tensor_create(&t, cnn_cpu(), CNN_F32, 1, dims);
    ck_assert_int_eq(r.calls, 0);
    cnn_log_set(record_log, CNN_LOG_DEBUG, &r);
    cnn_tensor_create(&t, cnn_cpu(), CNN_F32, 1, dims);
    ck_assert_int_eq(r.calls, 1);
    ck_assert_int_eq(r.level, CNN_LOG_DEBUG);
    ck_assert_ptr_nonnull(strstr(r.last, "dims[0] is -3"));
    /* Trace logs every op. */
    cnn_log_set(record_log, CNN_LOG_TRACE, &r);
    int64_t one[1] = {4};
    ck_assert_ok(cnn_tensor_create(&t, cnn_cpu(), CNN_F32, 1, one));
    ck_assert_ok(cnn_relu_forward(t, t));
    ck_assert_ptr_nonnull(strstr(r.last, "relu_fwd"));
    cnn_tensor_free(t);
    cnn_log_set(NULL, CNN_LOG_ERROR, NULL);
    int before = r.calls;
    cnn_tensor_create(&t, cnn_cpu(), CNN_F32, 1, dims);
    ck_assert_int_eq(r.calls, before);
}
END_TEST

START_TEST(devices_parse_and_format)
{
    cnn_device d;
    char text[32];
    ck_assert_ok(cnn_device_parse("cpu", &d));
    ck_assert_int_eq(d.type, CNN_CPU);
    ck_assert_int_eq(d.index, 0);
    ck_assert_ok(cnn_device_parse("cuda:3", &d));
    ck_assert_int_eq(d.type, CNN_CUDA);
    ck_assert_int_eq(d.index, 3);
    ck_assert_int_eq(cnn_device_format(d, text, sizeof text), 6);
    ck_assert_str_eq(text, "cuda:3");
    ck_assert_ok(cnn_device_parse("auto", &d));
    ck_assert_ok(cnn_device_check(d));
    if (cnn_device_count(CNN_CUDA) == 0)
        ck_assert_int_eq(d.type, CNN_CPU);
    ck_assert_fails(cnn_device_parse("gpu", &d), CNN_ERR_INVALID_ARGUMENT,
                    "'gpu' is not a device");
    ck_assert_fails(cnn_device_parse("cuda:x", &d), CNN_ERR_INVALID_ARGUMENT,
                    "cnn_device_parse");
    ck_assert_fails(cnn_device_parse("cpu:-1", &d), CNN_ERR_INVALID_ARGUMENT,
                    "cnn_device_parse");
    ck_assert_fails(cnn_device_parse(NULL, &d), CNN_ERR_INVALID_ARGUMENT,
                    "text is NULL");
    ck_assert_int_ge(cnn_device_count(CNN_CPU), 1);
    ck_assert_int_eq(cnn_device_count((cnn_device_type)7), 0);
    ck_assert_ptr_nonnull(strstr(cnn_device_name(cnn_cpu()), "cpu:0"));
    ck_assert_ptr_nonnull(strstr(cnn_device_name(cnn_cpu_n(40)),
                                 "not available"));
    ck_assert_ok(cnn_device_synchronize(cnn_cpu()));
}
END_TEST

START_TEST(engines_and_math_modes)
{
    ck_assert_str_eq(cnn_engine_name(CNN_ENGINE_REFERENCE), "reference");
    ck_assert_str_eq(cnn_engine_name((cnn_engine)99), "unknown");
    cnn_engine before = cnn_get_engine(cnn_cpu());
    ck_assert_ok(cnn_set_engine(cnn_cpu(), CNN_ENGINE_REFERENCE));
    ck_assert_int_eq(cnn_get_engine(cnn_cpu()), CNN_ENGINE_REFERENCE);
    ck_assert_fails(cnn_set_engine(cnn_cpu(), CNN_ENGINE_VENDOR),
                    CNN_ERR_UNSUPPORTED, "no vendor engine");
    ck_assert_fails(cnn_set_engine(cnn_cpu(), (cnn_engine)9),
                    CNN_ERR_INVALID_ARGUMENT, "not a cnn_engine");
    ck_assert_ok(cnn_set_engine(cnn_cpu(), before));
    ck_assert_int_eq(cnn_get_math(cnn_cpu()), CNN_MATH_FP32);
    ck_assert_ok(cnn_set_math(cnn_cpu(), CNN_MATH_TF32));
    ck_assert_int_eq(cnn_get_math(cnn_cpu()), CNN_MATH_TF32);
    ck_assert_ok(cnn_set_math(cnn_cpu(), CNN_MATH_FP32));
    ck_assert_fails(cnn_set_math(cnn_cpu(), (cnn_math)5),
                    CNN_ERR_INVALID_ARGUMENT, "not a cnn_math");
    ck_assert_fails(cnn_set_threads(cnn_cpu(), 0), CNN_ERR_INVALID_ARGUMENT,
                    "threads is 0");
    ck_assert_ok(cnn_set_threads(cnn_cpu(), 1));
    ck_assert_ptr_nonnull(strstr(cnn_device_name(cnn_cpu()), "1 thread"));
    ck_assert_ok(cnn_set_threads(cnn_cpu(), 3));
    const int64_t dims[1] = {100000};
    cnn_tensor *t = NULL;
    ck_assert_ok(cnn_tensor_zeros(&t, cnn_cpu(), CNN_F32, 1, dims));
    ck_assert_ok(cnn_relu_forward(t, t)); /* three workers on any machine */
    cnn_tensor_free(t);
    if (cnn_device_count(CNN_CUDA) > 0)
        ck_assert_fails(cnn_set_threads(cnn_cuda(0), 2), CNN_ERR_UNSUPPORTED,
                        "only CPU devices");
}
END_TEST

START_TEST(op_list_is_complete)
{
    ck_assert_int_eq(cnn_op_count(), CNN_OP_COUNT);
    for (int i = 0; i < cnn_op_count(); ++i) {
        ck_assert_str_ne(cnn_op_name((cnn_op)i), "unknown");
        for (int j = 0; j < i; ++j)
            ck_assert_str_ne(cnn_op_name((cnn_op)i), cnn_op_name((cnn_op)j));
    }
    ck_assert_str_eq(cnn_op_name(CNN_OP_COUNT), "unknown");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("status");
    TCase *tc = cnn_test_case("status");
    tcase_add_test(tc, status_strings_name_every_code);
    tcase_add_test(tc, last_error_is_thread_local_and_clearable);
    tcase_add_test(tc, version_and_build_info);
    tcase_add_test(tc, log_sink_gets_messages_at_its_level);
    tcase_add_test(tc, devices_parse_and_format);
    tcase_add_test(tc, engines_and_math_modes);
    tcase_add_test(tc, op_list_is_complete);
    suite_add_tcase(s, tc);
    return cnn_test_run(s);
}
