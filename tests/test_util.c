/* tests/test_util.c - helpers shared by the Check suites. */
#include "test_util.h"

#include <stdlib.h>

TCase *cnn_test_case(const char *name)
{
    TCase *tc = tcase_create(name);
    tcase_set_timeout(tc, CNN_TEST_TIMEOUT);
    return tc;
}

int cnn_test_run(Suite *suite)
{
    SRunner *runner = srunner_create(suite);
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? 0 : 1;
}

cnn_tensor *cnn_test_tensor(int ndim, const int64_t *dims, const float *values)
{
    cnn_tensor *t = NULL;
    ck_assert_ok(cnn_tensor_create(&t, cnn_cpu(), CNN_F32, ndim, dims));
    if (values)
        ck_assert_ok(cnn_tensor_write(t, values, cnn_tensor_bytes(t)));
    return t;
}

void cnn_test_values(float *out, int64_t n, uint32_t seed)
{
    uint32_t state = seed * 2654435761u + 1u;
    for (int64_t i = 0; i < n; ++i) {
        state = state * 1664525u + 1013904223u;
        float v = (float)(state >> 8) / 16777216.0f * 2.0f - 1.0f;
        if (v > -0.01f && v < 0.01f)
            v = 0.5f; /* keep away from the ReLU kink */
        out[i] = v;
    }
}

double cnn_test_dot(const float *a, const float *b, int64_t n)
{
    double s = 0.0;
    for (int64_t i = 0; i < n; ++i)
        s += (double)a[i] * b[i];
    return s;
}
