/* bench/bench.h - `cnn bench`, the benchmark harness (DESIGN.md,
 * Benchmarks). The cnn program hands it the arguments after "cnn". */
#ifndef CNN_BENCH_H
#define CNN_BENCH_H

/* argv[0] is "bench"; returns the exit status: 0 every case ran or was
 * unsupported, 1 a case failed its validation or errored, 2 usage. */
int cnn_bench_main(int argc, char **argv);

#endif /* CNN_BENCH_H */
