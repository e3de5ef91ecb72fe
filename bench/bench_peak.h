/* bench/bench_peak.h - the CPU's float32 FMA peak, the yardstick of
 * `cnn bench models`' "fraction of peak" column. */
#ifndef CNN_BENCH_PEAK_H
#define CNN_BENCH_PEAK_H

typedef struct bench_peak {
    double gflops;       /* threads x one thread's measured peak */
    int threads;
    int lanes;           /* floats per vector of the widest FMA measured */
    const char *isa;     /* "AVX-512", "AVX2+FMA" or "generic" */
    double per_thread;   /* G vector FMAs per second, one thread */
    double nominal_mhz;  /* /proc/cpuinfo's "cpu MHz"; 0 when unknown */
    char method[400];    /* how it was obtained, for the report */
} bench_peak;

/* Measures one thread's peak with a tight loop of independent FMA chains
 * (best of ten; also all `threads` at once, best of three, for the
 * report), and fills *out with `threads` times it. */
void bench_peak_measure(int threads, bench_peak *out);

#endif /* CNN_BENCH_PEAK_H */
