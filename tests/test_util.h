/* tests/test_util.h - helpers shared by the Check suites. */
#ifndef CNN_TEST_UTIL_H
#define CNN_TEST_UTIL_H

#include <check.h>
#include <stdint.h>
#include <string.h>

#include <cnn/cnn.h>

/* Every TCase gets this timeout: generous for a loaded 2-core machine under
 * the sanitizers (Check's default of 4 s is not). CK_TIMEOUT_MULTIPLIER
 * scales it further. */
#define CNN_TEST_TIMEOUT 120

/* Asserts that `call` returns CNN_OK, printing cnn_last_error() if not. */
#define ck_assert_ok(call)                                                  \
    do {                                                                    \
        cnn_status s_ = (call);                                             \
        ck_assert_msg(s_ == CNN_OK, "%s returned %s: %s", #call,            \
                      cnn_status_string(s_), cnn_last_error());             \
    } while (0)

/* Asserts that `call` fails with `expected` and leaves a message that
 * contains `fragment` (the call's name or the argument at fault). */
#define ck_assert_fails(call, expected, fragment)                           \
    do {                                                                    \
        cnn_clear_error();                                                  \
        cnn_status s_ = (call);                                             \
        ck_assert_msg(s_ == (expected), "%s returned %s, expected %s (%s)", \
                      #call, cnn_status_string(s_),                         \
                      cnn_status_string(expected), cnn_last_error());       \
        ck_assert_msg(strstr(cnn_last_error(), (fragment)) != NULL,         \
                      "%s: message '%s' does not mention '%s'", #call,      \
                      cnn_last_error(), (fragment));                        \
    } while (0)

/* A TCase with the suite's timeout. */
TCase *cnn_test_case(const char *name);

/* Runs a suite; returns 0 when every test passed, 1 otherwise. */
int cnn_test_run(Suite *suite);

/* Makes an F32 CPU tensor holding `values`. */
cnn_tensor *cnn_test_tensor(int ndim, const int64_t *dims, const float *values);

/* Fills `out` with n deterministic values in [-1, 1) away from 0 (so no
 * ReLU kink sits at an input): a small LCG seeded with `seed`. */
void cnn_test_values(float *out, int64_t n, uint32_t seed);

/* sum of a[i] * b[i] over n floats, accumulated in double. */
double cnn_test_dot(const float *a, const float *b, int64_t n);

#endif /* CNN_TEST_UTIL_H */
