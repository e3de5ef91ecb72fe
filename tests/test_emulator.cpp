/* tests/test_emulator.cpp - the CPU emulation of CUDA runs kernels as a
 * GPU would: a block reduction with shared memory and __syncthreads, warp
 * shuffles and votes, atomics from many blocks, dynamic shared memory of
 * several sizes, grids of many waves in three dimensions, and the runtime
 * calls the backend makes. Every launch runs in check mode (forward and
 * reversed thread order must agree). Label: emu; built only with
 * CNN_CUDA_EMULATION. The planted faults are in test_emulator_faults.cpp. */
#include <stdio.h>
#include <stdlib.h>

#include "emu_test_util.h"

/* ---- a block reduction through shared memory */

static __global__ void block_sum_kernel(float *sums, const float *x, int n)
{
    CNN_SHARED(float, partial, [256]);
    const unsigned t = threadIdx.x;
    float v = 0.0f;
    for (int i = (int)(blockIdx.x * blockDim.x + t); i < n;
         i += (int)(gridDim.x * blockDim.x))
        v += x[i];
    partial[t] = v;
    __syncthreads();
    for (unsigned half = blockDim.x / 2; half > 0; half /= 2) {
        if (t < half)
            partial[t] += partial[t + half];
        __syncthreads();
    }
    if (t == 0)
        sums[blockIdx.x] = partial[0];
}

/* __syncthreads_count, _and, _or: every thread gets the block's vote. */
static __global__ void barrier_votes_kernel(int *out)
{
    const unsigned t = threadIdx.x;
    int count = __syncthreads_count(t % 3 == 0);
    int all = __syncthreads_and(t < 1000);
    int any = __syncthreads_or(t == 5);
    out[t] = count * 100 + all * 10 + any;
}

START_TEST(reduction_with_shared_memory)
{
    cnn_emu_set_check(1);
    const int n = 100000, blocks = 40;
    std::vector<float> host(n);
    double want = 0.0;
    for (int i = 0; i < n; ++i) {
        host[i] = (float)(i % 17) - 8.0f; /* sums stay exact in float */
        want += host[i];
    }
    device_array<float> x(n), sums(blocks);
    x.write(host);
    ck_assert_cuda_ok(CNN_LAUNCH(block_sum_kernel, blocks, 256, 0, 0, sums.data,
                                 x.data, n));
    double got = 0.0;
    for (float s : sums.read())
        got += s;
    ck_assert_double_eq(got, want);

    device_array<int> votes(100);
    ck_assert_cuda_ok(CNN_LAUNCH(barrier_votes_kernel, 1, 100, 0, 0, votes.data));
    for (int v : votes.read())
        ck_assert_int_eq(v, 34 * 100 + 10 + 1);
}
END_TEST

/* ---- warp shuffles and votes */

struct warp_results {
    float down_sum;   /* lane 0: the warp's sum by __shfl_down_sync */
    float xor_sum;    /* every lane: the sum by __shfl_xor_sync */
    float scan;       /* inclusive prefix sum by __shfl_up_sync */
    float broadcast;  /* lane 3 of each group of 8 */
    unsigned ballot;  /* lanes with an odd index */
    int any, all;
    unsigned active;
};

static __global__ void warp_kernel(warp_results *out, const float *x)
{
    const unsigned t = threadIdx.x, lane = t % 32;
    const unsigned mask = __activemask(); /* a partial last warp too */
    const float v = x[t];
    float down = v;
    for (int offset = 16; offset > 0; offset /= 2) {
        float other = __shfl_down_sync(mask, down, (unsigned)offset);
        /* lanes past the warp's end give their own value: do not add */
        if (lane + (unsigned)offset < 32 && (mask >> (lane + offset) & 1u))
            down += other;
    }
    float butterfly = v;
    for (int m = 16; m > 0; m /= 2) {
        float other = __shfl_xor_sync(mask, butterfly, m);
        if (mask >> (lane ^ (unsigned)m) & 1u)
            butterfly += other;
    }
    float scan = v;
    for (unsigned d = 1; d < 32; d *= 2) {
        float other = __shfl_up_sync(mask, scan, d);
        if (lane >= d)
            scan += other;
    }
    warp_results r;
    r.down_sum = down;
    r.xor_sum = butterfly;
    r.scan = scan;
    r.broadcast = __shfl_sync(mask, v, 3, 8);
    r.ballot = __ballot_sync(mask, lane % 2 == 1);
    r.any = __any_sync(mask, lane == 7);
    r.all = __all_sync(mask, v >= 0.0f);
    r.active = mask;
    out[t] = r;
}

START_TEST(warp_shuffle_reduction)
{
    cnn_emu_set_check(1);
    const int n = 64; /* two full warps */
    std::vector<float> host(n);
    for (int i = 0; i < n; ++i)
        host[i] = (float)(i + 1);
    device_array<float> x(n);
    x.write(host);
    device_array<warp_results> out(n);
    ck_assert_cuda_ok(CNN_LAUNCH(warp_kernel, 1, n, 0, 0, out.data, x.data));
    std::vector<warp_results> r = out.read();
    for (int w = 0; w < 2; ++w) {
        float total = 0.0f;
        for (int l = 0; l < 32; ++l)
            total += host[w * 32 + l];
        ck_assert_float_eq(r[w * 32].down_sum, total);
        float running = 0.0f;
        for (int l = 0; l < 32; ++l) {
            const warp_results &e = r[w * 32 + l];
            running += host[w * 32 + l];
            ck_assert_float_eq(e.xor_sum, total);
            ck_assert_float_eq(e.scan, running);
            ck_assert_float_eq(e.broadcast, host[w * 32 + l / 8 * 8 + 3]);
            ck_assert_uint_eq(e.ballot, 0xAAAAAAAAu);
            ck_assert_int_eq(e.any, 1);
            ck_assert_int_eq(e.all, 1);
            ck_assert_uint_eq(e.active, 0xFFFFFFFFu);
        }
    }

    /* A block of 40: the second warp has 8 lanes. */
    device_array<warp_results> part(40);
    ck_assert_cuda_ok(CNN_LAUNCH(warp_kernel, 1, 40, 0, 0, part.data, x.data));
    std::vector<warp_results> p = part.read();
    float tail = 0.0f;
    for (int l = 32; l < 40; ++l)
        tail += host[l];
    ck_assert_uint_eq(p[32].active, 0xFFu);
    ck_assert_float_eq(p[32].down_sum, tail);
    ck_assert_uint_eq(p[33].ballot, 0xAAu);
}
END_TEST

/* ---- atomics on global and shared memory from many blocks */

static __global__ void atomics_kernel(int *histogram, float *total,
                                      unsigned long long *big, int *extremes,
                                      unsigned *ticket, int n)
{
    CNN_SHARED(int, local, [8]);
    const unsigned t = threadIdx.x;
    if (t < 8)
        local[t] = 0;
    __syncthreads();
    for (int i = (int)(blockIdx.x * blockDim.x + t); i < n;
         i += (int)(gridDim.x * blockDim.x)) {
        atomicAdd(&local[i % 8], 1);
        atomicAdd(total, 1.0f);
        atomicAdd(big, 3ull);
        atomicMax(&extremes[0], i);
        atomicMin(&extremes[1], -i);
        int seen = atomicAdd(&extremes[2], 0);
        while (true) { /* a CAS loop: keep the largest multiple of 7 */
            int want = i % 7 == 0 && i > seen ? i : seen;
            int old = atomicCAS(&extremes[2], seen, want);
            if (old == seen)
                break;
            seen = old;
        }
    }
    __syncthreads();
    if (t < 8)
        atomicAdd(&histogram[t], local[t]);
    if (t == 0)
        atomicInc(ticket, 1000000u);
}

START_TEST(atomics_from_many_blocks)
{
    cnn_emu_set_check(1);
    const int n = 50000, blocks = 300;
    device_array<int> histogram(8), extremes(3);
    device_array<float> total(1);
    device_array<unsigned long long> big(1);
    device_array<unsigned> ticket(1);
    histogram.write(std::vector<int>(8, 0));
    extremes.write({0, 0, 0});
    total.write({0.0f});
    big.write({0ull});
    ticket.write({0u});
    ck_assert_cuda_ok(CNN_LAUNCH(atomics_kernel, blocks, 128, 0, 0, histogram.data,
                                 total.data, big.data, extremes.data,
                                 ticket.data, n));
    std::vector<int> h = histogram.read();
    for (int b = 0; b < 8; ++b)
        ck_assert_int_eq(h[b], n / 8 + (b < n % 8));
    ck_assert_float_eq(total.read()[0], (float)n);
    ck_assert_uint_eq(big.read()[0], 3ull * n);
    std::vector<int> e = extremes.read();
    ck_assert_int_eq(e[0], n - 1);
    ck_assert_int_eq(e[1], -(n - 1));
    ck_assert_int_eq(e[2], (n - 1) / 7 * 7);
    ck_assert_uint_eq(ticket.read()[0], (unsigned)blocks);
}
END_TEST

/* ---- dynamic shared memory of several sizes, with static beside it */

static __global__ void dynamic_shared_kernel(unsigned *out, unsigned words)
{
    CNN_DYNAMIC_SHARED(unsigned, cells);
    CNN_SHARED(unsigned, flag, );
    const unsigned t = threadIdx.x;
    if (t == 0)
        flag = 0x5EEDu;
    for (unsigned i = t; i < words; i += blockDim.x)
        cells[i] = i * 2654435761u + blockIdx.x;
    __syncthreads();
    /* each thread reads cells another thread wrote */
    for (unsigned i = t; i < words; i += blockDim.x) {
        unsigned j = words - 1 - i;
        out[blockIdx.x * words + j] = cells[j] ^ flag;
    }
}

START_TEST(dynamic_shared_memory_sizes)
{
    cnn_emu_set_check(1);
    /* The static `flag` takes 16 bytes beside the dynamic ones. */
    const size_t sizes[] = {4,         1000,      16384,
                            48 * 1024 - 16, 64 * 1024, 227 * 1024 - 16};
    for (size_t bytes : sizes) {
        if (bytes > 48 * 1024)
            ck_assert_cuda_ok(cudaFuncSetAttribute(
                dynamic_shared_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                (int)bytes));
        const unsigned words = (unsigned)(bytes / 4), blocks = 3;
        device_array<unsigned> out(blocks * words);
        ck_assert_cuda_ok(CNN_LAUNCH(dynamic_shared_kernel, blocks, 96, bytes, 0,
                                     out.data, words));
        std::vector<unsigned> got = out.read();
        for (unsigned b = 0; b < blocks; ++b)
            for (unsigned i = 0; i < words; ++i)
                ck_assert_uint_eq(got[b * words + i],
                                  (i * 2654435761u + b) ^ 0x5EEDu);
    }
}
END_TEST

/* ---- grids of many waves, in three dimensions */

static __global__ void index_kernel(unsigned *hits, unsigned *bad)
{
    const unsigned bx = blockIdx.x, by = blockIdx.y, bz = blockIdx.z;
    const unsigned block = (bz * gridDim.y + by) * gridDim.x + bx;
    const unsigned thread =
        (threadIdx.z * blockDim.y + threadIdx.y) * blockDim.x + threadIdx.x;
    const unsigned per_block = blockDim.x * blockDim.y * blockDim.z;
    if (threadIdx.x >= blockDim.x || threadIdx.y >= blockDim.y ||
        threadIdx.z >= blockDim.z || bx >= gridDim.x || by >= gridDim.y ||
        bz >= gridDim.z)
        atomicAdd(bad, 1u);
    atomicAdd(&hits[block * per_block + thread], 1u);
}

START_TEST(grids_of_many_waves)
{
    cnn_emu_set_check(1);
    const dim3 grids[] = {dim3(37, 5, 3), dim3(5000), dim3(1, 300, 2)};
    const dim3 blocks[] = {dim3(8, 4, 2), dim3(33), dim3(2, 1, 64)};
    for (int c = 0; c < 3; ++c) {
        const dim3 g = grids[c], b = blocks[c];
        const size_t total = (size_t)g.x * g.y * g.z * b.x * b.y * b.z;
        device_array<unsigned> hits(total), bad(1);
        hits.write(std::vector<unsigned>(total, 0));
        bad.write({0u});
        ck_assert_cuda_ok(CNN_LAUNCH(index_kernel, g, b, 0, 0, hits.data, bad.data));
        ck_assert_uint_eq(bad.read()[0], 0);
        std::vector<unsigned> h = hits.read();
        for (size_t i = 0; i < total; ++i)
            ck_assert_msg(h[i] == 1, "case %d: thread %zu ran %u times", c, i, h[i]);
    }
}
END_TEST

/* ---- the runtime calls the backend makes */

START_TEST(runtime_calls)
{
    int count = 0, device = -1, value = 0;
    ck_assert_cuda_ok(cudaGetDeviceCount(&count));
    ck_assert_int_eq(count, 1);
    ck_assert_cuda_ok(cudaSetDevice(0));
    ck_assert_cuda_ok(cudaGetDevice(&device));
    ck_assert_int_eq(device, 0);
    ck_assert_cuda(cudaSetDevice(1), cudaErrorInvalidDevice);
    ck_assert_cuda(cudaGetLastError(), cudaErrorInvalidDevice);
    ck_assert_cuda_ok(cudaGetLastError()); /* cleared */
    cudaDeviceProp prop;
    ck_assert_cuda_ok(cudaGetDeviceProperties(&prop, 0));
    ck_assert_ptr_nonnull(strstr(prop.name, "emulation"));
    ck_assert_int_eq(prop.maxThreadsPerBlock, 1024);
    ck_assert_cuda_ok(cudaDeviceGetAttribute(
        &value, cudaDevAttrMaxSharedMemoryPerBlockOptin, 0));
    ck_assert_int_eq(value, 232448);
    ck_assert_cuda_ok(cudaDeviceGetAttribute(&value, cudaDevAttrMultiProcessorCount, 0));
    ck_assert_int_eq(value, cnn_emu_worker_count());

    void *p = nullptr;
    ck_assert_cuda(cudaMalloc(&p, (size_t)1 << 40), cudaErrorMemoryAllocation);
    ck_assert_ptr_null(p);
    cudaGetLastError();
    size_t free_bytes = 0, total_bytes = 0;
    ck_assert_cuda_ok(cudaMemGetInfo(&free_bytes, &total_bytes));
    ck_assert_uint_eq(free_bytes, total_bytes);

    cudaStream_t stream;
    cudaEvent_t start, stop;
    ck_assert_cuda_ok(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
    ck_assert_cuda_ok(cudaEventCreate(&start));
    ck_assert_cuda_ok(cudaEventCreate(&stop));
    ck_assert_cuda_ok(cudaEventRecord(start, stream));
    device_array<unsigned char> a(1000), b(1000);
    ck_assert_uint_eq((uintptr_t)a.data % 256, 0);
    ck_assert_cuda_ok(cudaMemsetAsync(a.data, 7, 1000, stream));
    ck_assert_cuda_ok(cudaMemcpyAsync(b.data, a.data, 1000,
                                      cudaMemcpyDeviceToDevice, stream));
    ck_assert_cuda_ok(cudaEventRecord(stop, stream));
    ck_assert_cuda_ok(cudaStreamSynchronize(stream));
    float ms = -1.0f;
    ck_assert_cuda_ok(cudaEventElapsedTime(&ms, start, stop));
    ck_assert_float_ge(ms, 0.0f);
    for (unsigned char c : b.read())
        ck_assert_uint_eq(c, 7);

    /* Copies must fit their allocations and match their direction. */
    std::vector<unsigned char> host(2000, 1);
    ck_assert_cuda(cudaMemcpy(a.data, host.data(), 1001, cudaMemcpyHostToDevice),
                   cudaErrorInvalidValue);
    ck_assert_report("do not fit the allocation");
    ck_assert_cuda(cudaMemcpy(a.data, b.data, 10, cudaMemcpyHostToDevice),
                   cudaErrorInvalidValue);
    ck_assert_report("device memory but the copy's kind says host");
    ck_assert_cuda(cudaMemcpy(host.data(), host.data() + 1000, 10,
                              cudaMemcpyDeviceToHost),
                   cudaErrorInvalidValue);
    ck_assert_report("is not device memory");
    ck_assert_cuda(cudaFree(a.data + 1), cudaErrorInvalidValue);
    ck_assert_cuda(cudaStreamSynchronize((cudaStream_t)&host), cudaErrorInvalidResourceHandle);
    cudaGetLastError();
    ck_assert_cuda_ok(cudaStreamDestroy(stream));
    ck_assert_cuda_ok(cudaEventDestroy(start));
    ck_assert_cuda_ok(cudaEventDestroy(stop));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("emulator");
    TCase *tc = cnn_test_case("emulator");
    tcase_add_test(tc, reduction_with_shared_memory);
    tcase_add_test(tc, warp_shuffle_reduction);
    tcase_add_test(tc, atomics_from_many_blocks);
    tcase_add_test(tc, dynamic_shared_memory_sizes);
    tcase_add_test(tc, grids_of_many_waves);
    tcase_add_test(tc, runtime_calls);
    suite_add_tcase(s, tc);
    return cnn_test_run(s);
}
