/* tests/test_emulator_faults.cpp - the CPU emulation of CUDA catches the
 * faults it is there to catch: a planted missing __syncthreads (check
 * mode's forward and reversed runs disagree), planted out-of-range
 * accesses (canary bytes, guard pages, freed memory, shared memory), warp
 * operations that can never complete or are misused, and launches beyond
 * the hardware's limits, each with CUDA's own error code and a report
 * that names the kernel and the place. Label: emu; built only with
 * CNN_CUDA_EMULATION. Each test runs in its own process (Check forks), so
 * a sticky error ends with the test. */
#include <stdio.h>
#include <stdlib.h>

#include "emu_test_util.h"

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#endif

/* ---- a missing __syncthreads */

static __global__ void rotate_kernel(float *out, const float *x, int sync)
{
    CNN_SHARED(float, cells, [128]);
    const unsigned t = threadIdx.x;
    cells[t] = x[t];
    if (sync)
        __syncthreads();
    out[t] = cells[(t + 1) % blockDim.x];
}

START_TEST(missing_syncthreads_is_caught)
{
    cnn_emu_set_check(1);
    std::vector<float> host(128);
    for (int i = 0; i < 128; ++i)
        host[i] = (float)i;
    device_array<float> x(128), out(128);
    x.write(host);
    ck_assert_cuda_ok(CNN_LAUNCH(rotate_kernel, 1, 128, 0, 0, out.data, x.data, 1));
    std::vector<float> got = out.read();
    for (int i = 0; i < 128; ++i)
        ck_assert_float_eq(got[i], host[(i + 1) % 128]);

    /* Without check mode the race goes unseen: the results are wrong. */
    cnn_emu_set_check(0);
    ck_assert_cuda_ok(CNN_LAUNCH(rotate_kernel, 1, 128, 0, 0, out.data, x.data, 0));
    cnn_emu_set_check(1);
    ck_assert_cuda(CNN_LAUNCH(rotate_kernel, 1, 128, 0, 0, out.data, x.data, 0),
                   cudaErrorLaunchFailure);
    ck_assert_report("rotate_kernel gives different results");
    ck_assert_report("forward and in reversed order");
    ck_assert_report("differs first at byte offset");
    /* Sticky, as on a GPU: every later call fails the same way. */
    void *p = nullptr;
    ck_assert_cuda(cudaMalloc(&p, 16), cudaErrorLaunchFailure);
    ck_assert_ptr_nonnull(strstr(cudaGetErrorString(cudaErrorLaunchFailure),
                                 "rotate_kernel"));
    ck_assert_cuda_ok(cudaDeviceReset());
    ck_assert_cuda_ok(cudaMalloc(&p, 16));
}
END_TEST

/* ---- out-of-range accesses */

static __global__ void write_kernel(float *p, long long index)
{
    if (blockIdx.x == 0 && threadIdx.x == 0)
        p[index] = 1.0f;
}

static __global__ void read_kernel(float *out, const float *p, long long index)
{
    if (blockIdx.x == 0 && threadIdx.x == 0)
        out[0] = p[index];
}

static __global__ void shared_overrun_kernel(float *out, int index)
{
    CNN_DYNAMIC_SHARED(float, cells);
    cells[threadIdx.x] = 1.0f;
    __syncthreads();
    if (threadIdx.x == 0)
        cells[index] = 2.0f;
    out[threadIdx.x] = cells[threadIdx.x];
}

/* The first element past a 1000-float allocation lies in the slack up to
 * its 256-byte rounded size, which holds canary bytes. (Under
 * AddressSanitizer those bytes are poisoned and the sanitizer stops the
 * process instead: that test then expects its exit.) */
START_TEST(write_past_the_end_is_caught)
{
    cnn_emu_set_check(1);
    device_array<float> a(1000);
    ck_assert_cuda(CNN_LAUNCH(write_kernel, 1, 32, 0, 0, a.data, 1000LL),
                   cudaErrorIllegalAddress);
    ck_assert_report("write_kernel wrote past the end of the allocation");
    ck_assert_report("byte offset 4000");
}
END_TEST

/* Far out of range: guard pages, freed memory, shared memory's end. */
START_TEST(accesses_beyond_the_guards_are_caught)
{
    cnn_emu_set_check(1);
    struct {
        const char *what;
        long long index;
    } cases[] = {
        {"bytes past the end of the allocation", 1024 + 10}, /* guard page */
        {"bytes before the start of the allocation", -1},
    };
    for (const auto &c : cases) {
        device_array<float> a(1024);
        ck_assert_cuda(CNN_LAUNCH(write_kernel, 2, 32, 0, 0, a.data, c.index),
                       cudaErrorIllegalAddress);
        ck_assert_report("write_kernel, block (0,0,0), thread (0,0,0)");
        ck_assert_report(c.what);
        ck_assert_cuda_ok(cudaDeviceReset());
        a.data = nullptr;
    }
    {
        device_array<float> a(1024), out(1);
        ck_assert_cuda(CNN_LAUNCH(read_kernel, 1, 32, 0, 0, out.data, a.data,
                                  1024LL + 4000),
                       cudaErrorIllegalAddress);
        ck_assert_report("read_kernel");
        ck_assert_report("past the end of the allocation");
        ck_assert_cuda_ok(cudaDeviceReset());
        a.data = out.data = nullptr;
    }
    {
        float *freed = nullptr;
        ck_assert_cuda_ok(cudaMalloc(&freed, 4096));
        ck_assert_cuda_ok(cudaFree(freed));
        ck_assert_cuda(CNN_LAUNCH(write_kernel, 1, 32, 0, 0, freed, 5LL),
                       cudaErrorIllegalAddress);
        ck_assert_report("freed allocation");
        ck_assert_cuda_ok(cudaDeviceReset());
    }
    {
        device_array<float> out(64);
        ck_assert_cuda(CNN_LAUNCH(shared_overrun_kernel, 1, 64, 64 * sizeof(float),
                                  0, out.data, 64 + 100),
                       cudaErrorIllegalAddress);
        ck_assert_report("past the end of the block's shared memory");
    }
}
END_TEST

/* ---- warp operations that cannot complete, or are misused */

static __global__ void deadlock_kernel(int *out)
{
    int v = (int)threadIdx.x;
    if (threadIdx.x == 0)
        __syncthreads(); /* lane 0 never reaches the shuffle */
    else
        v = __shfl_sync(0xFFFFFFFFu, v, 0);
    out[threadIdx.x] = v;
}

static __global__ void warp_misuse_kernel(int *out, int which)
{
    const unsigned lane = threadIdx.x % 32;
    if (which == 0 && lane == 0) /* a mask without the caller */
        out[0] = __shfl_sync(0x2u, 1, 1);
    if (which == 1 && lane < 3) /* lanes 0..2 meet with different masks */
        __syncwarp(lane == 0 ? 0x3u : 0x7u);
}

START_TEST(warp_misuse_is_caught)
{
    cnn_emu_set_check(1);
    device_array<int> out(32);
    ck_assert_cuda(CNN_LAUNCH(deadlock_kernel, 1, 32, 0, 0, out.data),
                   cudaErrorLaunchFailure);
    ck_assert_report("deadlock");
    ck_assert_cuda_ok(cudaDeviceReset());
    out.data = nullptr;
    const char *reports[] = {"does not name the calling lane",
                             "meet in different warp operations"};
    for (int which = 0; which < 2; ++which) {
        device_array<int> o(32);
        ck_assert_cuda(CNN_LAUNCH(warp_misuse_kernel, 1, 32, 0, 0, o.data, which),
                       cudaErrorLaunchFailure);
        ck_assert_report(reports[which]);
        ck_assert_cuda_ok(cudaDeviceReset());
        o.data = nullptr;
    }
}
END_TEST

/* ---- launches beyond the hardware's limits */

static __global__ void small_kernel(int *out)
{
    if (threadIdx.x == 0)
        out[blockIdx.x % 4] = 1;
}

static __global__ void dynamic_kernel(int *out)
{
    CNN_DYNAMIC_SHARED(int, cells);
    cells[threadIdx.x] = 1;
    __syncthreads();
    out[0] = cells[0];
}

static __global__ void big_static_kernel(float *out)
{
    CNN_SHARED(float, cells, [12 * 1024 + 1]); /* 48 KiB and 4 bytes */
    cells[threadIdx.x] = 1.0f;
    __syncthreads();
    out[0] = cells[0];
}

static __global__ void static_and_dynamic_kernel(float *out)
{
    CNN_SHARED(float, cells, [10 * 1024]); /* 40 KiB */
    CNN_DYNAMIC_SHARED(float, more);
    cells[threadIdx.x] = 1.0f;
    more[threadIdx.x] = 2.0f;
    __syncthreads();
    out[0] = cells[0] + more[0];
}

START_TEST(over_limit_launches_fail)
{
    device_array<int> out(4);
    device_array<float> f(1);
    const struct {
        dim3 grid, block;
        const char *report;
    } shapes[] = {
        {dim3(1), dim3(1025), "a block of (1025,1,1) threads"},
        {dim3(1), dim3(32, 32, 2), "a block of (32,32,2) threads"},
        {dim3(1), dim3(1, 1, 65), "a block of (1,1,65) threads"},
        {dim3(1), dim3(0), "a block of (0,1,1) threads"},
        {dim3(1, 65536), dim3(32), "a grid of (1,65536,1) blocks"},
        {dim3(0), dim3(32), "a grid of (0,1,1) blocks"},
    };
    for (const auto &s : shapes) {
        ck_assert_cuda(CNN_LAUNCH(small_kernel, s.grid, s.block, 0, 0, out.data),
                       cudaErrorInvalidConfiguration);
        ck_assert_report(s.report);
    }
    ck_assert_cuda_ok(CNN_LAUNCH(small_kernel, dim3(1, 65535), 1, 0, 0, out.data));

    /* Dynamic shared memory: 48 KiB unless the kernel opted in. */
    ck_assert_cuda_ok(CNN_LAUNCH(dynamic_kernel, 1, 32, 48 * 1024, 0, out.data));
    ck_assert_cuda(CNN_LAUNCH(dynamic_kernel, 1, 32, 49 * 1024, 0, out.data),
                   cudaErrorInvalidValue);
    ck_assert_report("49152"); /* names the limit */
    ck_assert_cuda(cudaFuncSetAttribute(dynamic_kernel,
                                        cudaFuncAttributeMaxDynamicSharedMemorySize,
                                        300 * 1024),
                   cudaErrorInvalidValue);
    ck_assert_cuda(cudaGetLastError(), cudaErrorInvalidValue);
    ck_assert_cuda_ok(cudaFuncSetAttribute(
        dynamic_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, 227 * 1024));
    ck_assert_cuda_ok(CNN_LAUNCH(dynamic_kernel, 1, 32, 100 * 1024, 0, out.data));
    ck_assert_cuda_ok(CNN_LAUNCH(dynamic_kernel, 1, 32, 227 * 1024, 0, out.data));
    ck_assert_cuda(CNN_LAUNCH(dynamic_kernel, 1, 32, 300 * 1024, 0, out.data),
                   cudaErrorInvalidValue);

    /* Static shared memory: 48 KiB, and 48 KiB with the dynamic part. */
    ck_assert_cuda(CNN_LAUNCH(big_static_kernel, 1, 32, 0, 0, f.data),
                   cudaErrorInvalidValue);
    ck_assert_report("static shared memory");
    ck_assert_cuda_ok(CNN_LAUNCH(static_and_dynamic_kernel, 1, 32, 8 * 1024, 0,
                                 f.data));
    ck_assert_cuda(CNN_LAUNCH(static_and_dynamic_kernel, 1, 32, 10 * 1024, 0,
                              f.data),
                   cudaErrorInvalidValue);
    ck_assert_report("static_and_dynamic_kernel");

    /* None of these is sticky: the device still works. */
    ck_assert_cuda_ok(CNN_LAUNCH(small_kernel, 4, 32, 0, 0, out.data));
    for (int v : out.read())
        ck_assert_int_eq(v, 1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("emulator_faults");
    TCase *sync = cnn_test_case("sync");
    tcase_add_test(sync, missing_syncthreads_is_caught);
    suite_add_tcase(s, sync);
    TCase *memory = cnn_test_case("memory");
#ifdef UNDER_ASAN
    tcase_add_exit_test(memory, write_past_the_end_is_caught, 1);
#else
    tcase_add_test(memory, write_past_the_end_is_caught);
#endif
    tcase_add_test(memory, accesses_beyond_the_guards_are_caught);
    suite_add_tcase(s, memory);
    TCase *warps = cnn_test_case("warps");
    tcase_add_test(warps, warp_misuse_is_caught);
    suite_add_tcase(s, warps);
    TCase *limits = cnn_test_case("limits");
    tcase_add_test(limits, over_limit_launches_fail);
    suite_add_tcase(s, limits);
    return cnn_test_run(s);
}
