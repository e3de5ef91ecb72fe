/* bench/bench_run.h - validating and timing one case of `cnn bench ops`,
 * and the rows that come out of it. */
#ifndef CNN_BENCH_RUN_H
#define CNN_BENCH_RUN_H

#include <stdbool.h>
#include <stdio.h>

#include <cnn/cnn.h>

#include "bench_case.h"

typedef struct bench_options {
    cnn_device device;
    cnn_engine engine;     /* the engine timed (and validated) */
    int threads;           /* 0: the device's default */
    int repeat;            /* timed samples per pass, >= 5 */
    double min_sample_ms;  /* a sample repeats the call to last this long */
    bool validate;         /* against REFERENCE at batch 1 first */
    double tolerance;      /* largest relative error accepted */
} bench_options;

/* One timed pass of one case. */
typedef struct bench_result {
    char name[96];
    char op[32];
    char pass[8];          /* fwd, bwd, step */
    char shape[256];       /* the case's keys */
    const char *status;    /* ok, unsupported, failed (validation), error */
    char note[200];        /* validation result or the error */
    double median_ms, min_ms, max_ms;
    int runs, inner;       /* samples, and calls per sample */
    double flop, bytes;    /* per call */
    double max_rel_err;    /* of the validation; < 0 when not validated */
} bench_result;

/* Validates (once per layer, at batch 1) and times the passes of case c,
 * writing up to two rows into out; returns how many. */
int bench_run_case(const bench_options *o, const bench_case *c,
                   bench_result out[2]);

#endif /* CNN_BENCH_RUN_H */
