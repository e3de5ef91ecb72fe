/* src/cpu/parallel.c - the CPU backend's worker threads (OpenMP) and their
 * floating-point environment. Denormal floats are up to 100x slower on x86
 * cores, so every worker flushes them to zero (FTZ) and reads them as zero
 * (DAZ) while it runs our code; the caller's own setting is restored. */
#include <stdlib.h>

#ifdef _OPENMP
#include <omp.h>
#endif
#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#endif

#include "cpu.h"

unsigned cnn_cpu_fpenv_enter(void)
{
#if defined(__x86_64__) || defined(__i386__)
    unsigned saved = _mm_getcsr();
    _mm_setcsr(saved | 0x8040u); /* FTZ (bit 15) | DAZ (bit 6) */
    return saved;
#elif defined(__aarch64__)
    uint64_t fpcr;
    __asm__ volatile("mrs %0, fpcr" : "=r"(fpcr));
    __asm__ volatile("msr fpcr, %0" ::"r"(fpcr | (1u << 24))); /* FZ */
    return (unsigned)fpcr;
#else
    return 0;
#endif
}

void cnn_cpu_fpenv_restore(unsigned saved)
{
#if defined(__x86_64__) || defined(__i386__)
    _mm_setcsr(saved);
#elif defined(__aarch64__)
    uint64_t fpcr = saved;
    __asm__ volatile("msr fpcr, %0" ::"r"(fpcr));
#else
    (void)saved;
#endif
}

int cnn_cpu_device_count(void)
{
    static _Atomic int count;
    if (count == 0) { /* every thread that races here computes the same */
        const char *env = getenv("CNN_CPU_DEVICES");
        int n = env ? atoi(env) : 1;
        count = n < 1 ? 1 : n > CNN_CPU_MAX_DEVICES ? CNN_CPU_MAX_DEVICES : n;
    }
    return count;
}

/* Threads set with cnn_set_threads, per logical device; 0: the share. */
static _Atomic int chosen_threads[CNN_CPU_MAX_DEVICES];

void cnn_cpu_set_threads(int device, int threads)
{
    chosen_threads[device] = threads;
}

int cnn_cpu_device_threads(int device)
{
    if (chosen_threads[device] > 0)
        return chosen_threads[device];
#ifdef _OPENMP
    int total = omp_get_max_threads();
#else
    int total = 1;
#endif
    int devices = cnn_cpu_device_count();
    int share = total / devices;
    /* Spread the remainder over the first devices. */
    if (device < total % devices)
        ++share;
    return share < 1 ? 1 : share;
}

/* Chunk t of n split into `parts` nearly equal pieces, rounded to `align`. */
static void chunk(int64_t n, int64_t align, int parts, int t, int64_t *begin,
                  int64_t *end)
{
    int64_t blocks = (n + align - 1) / align;
    int64_t b0 = blocks * t / parts, b1 = blocks * (t + 1) / parts;
    *begin = b0 * align < n ? b0 * align : n;
    *end = b1 * align < n ? b1 * align : n;
}

int cnn_cpu_thread_index(void)
{
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

void cnn_cpu_parallel_for(int device, int64_t n, int64_t align,
                          int64_t min_chunk, cnn_cpu_range_fn body, void *ctx)
{
    if (n <= 0)
        return;
    if (align < 1)
        align = 1;
    if (min_chunk < 1)
        min_chunk = 1;
    int threads = cnn_cpu_device_threads(device);
    if (n / min_chunk < threads)
        threads = n / min_chunk > 0 ? (int)(n / min_chunk) : 1;
    if (threads == 1) {
        unsigned saved = cnn_cpu_fpenv_enter();
        body(0, n, ctx);
        cnn_cpu_fpenv_restore(saved);
        return;
    }
#ifdef _OPENMP
#pragma omp parallel num_threads(threads)
    {
        int parts = omp_get_num_threads();
        int64_t begin, end;
        chunk(n, align, parts, omp_get_thread_num(), &begin, &end);
        unsigned saved = cnn_cpu_fpenv_enter();
        if (begin < end)
            body(begin, end, ctx);
        cnn_cpu_fpenv_restore(saved);
    }
#else
    unsigned saved = cnn_cpu_fpenv_enter();
    for (int t = 0; t < threads; ++t) {
        int64_t begin, end;
        chunk(n, align, threads, t, &begin, &end);
        if (begin < end)
            body(begin, end, ctx);
    }
    cnn_cpu_fpenv_restore(saved);
#endif
}
