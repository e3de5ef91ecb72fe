/* bench/bench_peak.c - the CPU's float32 FMA peak, measured.
 *
 * Why measure rather than multiply out cores x GHz x FMA units x lanes x 2:
 * the flags in /proc/cpuinfo give the vector width (avx512f: 16 floats) but
 * not how many FMA units a core has (Zen 4 runs a 512-bit FMA on two 256-bit
 * halves, Zen 5 and most Intel server cores have two full 512-bit units),
 * and in a virtual machine "cpu MHz" is the TSC's nominal rate, not the
 * boost clock the cores actually run at. A loop of independent FMA chains,
 * enough to cover the FMA latency times the units, runs at the rate the
 * hardware really issues them; cores x that rate x lanes x 2 is the peak
 * the benchmark's GFLOP/s are measured against. The nominal product is
 * printed next to it for comparison. */
#include "bench_peak.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
#define BENCH_PEAK_X86 1
#include <immintrin.h>
#endif

#define CHAINS 12         /* latency 4 x 2 units = 8 in flight, and spare */
#define ROUNDS 5000000L   /* some 10 ms a pass at 3 GHz */

typedef struct job {
    int isa;  /* 2 AVX-512, 1 AVX2, 0 generic */
    float sink;
} job;

#ifdef BENCH_PEAK_X86
__attribute__((target("avx512f"))) static float loop_avx512(void)
{
    __m512 acc[CHAINS];
    const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
    for (int c = 0; c < CHAINS; ++c)
        acc[c] = _mm512_set1_ps((float)c);
    for (long r = 0; r < ROUNDS; ++r)
        for (int c = 0; c < CHAINS; ++c)
            acc[c] = _mm512_fmadd_ps(acc[c], a, b);
    float sum = 0.0f;
    for (int c = 0; c < CHAINS; ++c)
        sum += _mm512_reduce_add_ps(acc[c]);
    return sum;
}

__attribute__((target("avx2,fma"))) static float loop_avx2(void)
{
    __m256 acc[CHAINS];
    const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
    for (int c = 0; c < CHAINS; ++c)
        acc[c] = _mm256_set1_ps((float)c);
    for (long r = 0; r < ROUNDS; ++r)
        for (int c = 0; c < CHAINS; ++c)
            acc[c] = _mm256_fmadd_ps(acc[c], a, b);
    float out[8], sum = 0.0f;
    for (int c = 0; c < CHAINS; ++c) {
        _mm256_storeu_ps(out, acc[c]);
        for (int i = 0; i < 8; ++i)
            sum += out[i];
    }
    return sum;
}
#endif

typedef float v4 __attribute__((vector_size(16)));

static float loop_generic(void)
{
    v4 acc[CHAINS];
    const v4 a = {0.999999f, 0.999999f, 0.999999f, 0.999999f};
    const v4 b = {1e-7f, 1e-7f, 1e-7f, 1e-7f};
    for (int c = 0; c < CHAINS; ++c)
        acc[c] = a * (float)c;
    for (long r = 0; r < ROUNDS; ++r)
        for (int c = 0; c < CHAINS; ++c)
            acc[c] = acc[c] * a + b;
    float sum = 0.0f;
    for (int c = 0; c < CHAINS; ++c)
        sum += acc[c][0] + acc[c][1] + acc[c][2] + acc[c][3];
    return sum;
}

static void *run_job(void *arg)
{
    job *j = arg;
#ifdef BENCH_PEAK_X86
    j->sink = j->isa == 2 ? loop_avx512() : j->isa == 1 ? loop_avx2()
                                                        : loop_generic();
#else
    j->sink = loop_generic();
#endif
    return NULL;
}

static double seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Wall time of `threads` loops at once (the caller's thread runs one). */
static double run_threads(int threads, int isa)
{
    pthread_t tid[256];
    job jobs[256];
    bool started[256] = {false};
    double t0 = seconds();
    for (int t = 1; t < threads && t < 256; ++t) {
        jobs[t].isa = isa;
        started[t] = pthread_create(&tid[t], NULL, run_job, &jobs[t]) == 0;
    }
    jobs[0].isa = isa;
    run_job(&jobs[0]);
    for (int t = 1; t < threads && t < 256; ++t)
        if (started[t])
            pthread_join(tid[t], NULL);
    return seconds() - t0;
}

static double nominal_mhz(void)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    double mhz = 0.0;
    char line[512];
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "cpu MHz", 7) == 0 &&
            sscanf(strchr(line, ':') ? strchr(line, ':') + 1 : "", "%lf",
                   &mhz) == 1)
            break;
    if (f)
        fclose(f);
    return mhz;
}

void bench_peak_measure(int threads, bench_peak *out)
{
    memset(out, 0, sizeof *out);
    int isa = 0;
    out->isa = "generic";
    out->lanes = 4;
#ifdef BENCH_PEAK_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f"))
        isa = 2, out->isa = "AVX-512", out->lanes = 16;
    else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        isa = 1, out->isa = "AVX2+FMA", out->lanes = 8;
#endif
    threads = threads < 1 ? 1 : threads > 256 ? 256 : threads;
    out->threads = threads;
    const double fmas = (double)ROUNDS * CHAINS; /* vector FMAs per thread */
    double best1 = 1e30, bestn = 1e30;
    for (int pass = 0; pass < 3; ++pass) {
        double tn = run_threads(threads, isa);
        bestn = tn < bestn ? tn : bestn;
    }
    /* One thread in short runs, best of ten: on a loaded machine one of
     * them is likely to run on a core of its own. */
    for (int pass = 0; pass < 10; ++pass) {
        double t1 = run_threads(1, isa);
        best1 = t1 < best1 ? t1 : best1;
    }
    /* The peak is one thread's rate times the threads: on a machine that
     * others load, all threads at once measure the load, not the cores. */
    out->per_thread = fmas / best1 * 1e-9;
    out->gflops = threads * out->per_thread * 2.0 * out->lanes;
    out->nominal_mhz = nominal_mhz();
    int len = snprintf(out->method, sizeof out->method,
        "%d threads x %.2f G %d-lane FMAs/s (one thread, %s, %d independent "
        "chains, best of 10) x %d lanes x 2 FLOPs = %.0f GFLOP/s; all %d "
        "threads at once gave %.0f",
        threads, out->per_thread, out->lanes, out->isa, CHAINS, out->lanes,
        out->gflops, threads, threads * fmas / bestn * 2.0 * out->lanes * 1e-9);
    if (out->nominal_mhz > 0.0 && len > 0 && len < (int)sizeof out->method)
        snprintf(out->method + len, sizeof out->method - (size_t)len,
                 "; %.2f FMAs per cycle at the nominal %.0f MHz of "
                 "/proc/cpuinfo", out->per_thread * 1e3 / out->nominal_mhz,
                 out->nominal_mhz);
}
