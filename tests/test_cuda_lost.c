/* tests/test_cuda_lost.c - a fatal fault on a CUDA device: a kernel that
 * writes to an address no allocation holds (a tensor wrapped around it)
 * makes the device report CNN_ERR_DEVICE_LOST, for that call or the next
 * synchronisation and for every later call on the device, with a message
 * that says to restart; the CPU keeps working. A fault poisons the device
 * for the whole process, so this suite is a program of its own. Label:
 * cuda (skips with 77 without a GPU); as test_cuda_lost_emu, label emu, on
 * the CPU emulation of CUDA, whose workers turn the fault into CUDA's
 * sticky illegal-address error. Runs with CK_FORK=no. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "test_util.h"

START_TEST(a_fault_loses_the_device_for_good)
{
    const cnn_device gpu = cnn_cuda(0);
    const int64_t n = 4096;
    cnn_tensor *ok = NULL, *wild = NULL;
    ck_assert_ok(cnn_tensor_create(&ok, gpu, CNN_F32, 1, &n));
    ck_assert_ok(cnn_tensor_fill(ok, 2.0));
    /* Page 1 of the address space: never device memory, never mapped. */
    ck_assert_ok(cnn_tensor_wrap(&wild, gpu, CNN_F32, 1, &n,
                                 (void *)(uintptr_t)0x1000,
                                 (size_t)n * sizeof(float)));
    cnn_status fill = cnn_tensor_fill(wild, 1.0);
    cnn_status sync = cnn_device_synchronize(gpu);
    /* The launch is asynchronous: the fault shows at the fill or at the
     * synchronisation after it, as DEVICE_LOST. */
    ck_assert(fill == CNN_ERR_DEVICE_LOST || sync == CNN_ERR_DEVICE_LOST);
    ck_assert_fails(cnn_tensor_fill(ok, 3.0), CNN_ERR_DEVICE_LOST, "restart");
    cnn_tensor *more = NULL;
    ck_assert_fails(cnn_tensor_create(&more, gpu, CNN_F32, 1, &n),
                    CNN_ERR_DEVICE_LOST, "restart");
    ck_assert_fails(cnn_device_check(gpu), CNN_ERR_DEVICE_LOST, "restart");
    /* The CPU is not affected. */
    cnn_tensor *c = NULL;
    ck_assert_ok(cnn_tensor_create(&c, cnn_cpu(), CNN_F32, 1, &n));
    ck_assert_ok(cnn_tensor_fill(c, 1.0));
    cnn_tensor_free(c);
    cnn_tensor_free(wild);
    cnn_tensor_free(ok); /* freeing on a lost device must not crash */
}
END_TEST

int main(void)
{
    if (cnn_device_count(CNN_CUDA) == 0) {
        cnn_device_check(cnn_cuda(0));
        if (getenv("CNN_TEST_REQUIRE_CUDA")) {
            printf("test_cuda_lost: FAILED: CNN_TEST_REQUIRE_CUDA is set but "
                   "there is no CUDA device: %s\n", cnn_last_error());
            return 1;
        }
        printf("test_cuda_lost: skipped, no usable GPU: %s\n",
               cnn_last_error());
        return 77;
    }
    Suite *s = suite_create("cuda_lost");
    TCase *tc = cnn_test_case("cuda_lost");
    tcase_add_test(tc, a_fault_loses_the_device_for_good);
    suite_add_tcase(s, tc);
    return cnn_test_run(s);
}
