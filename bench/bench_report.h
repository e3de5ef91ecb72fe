/* bench/bench_report.h - the outputs of `cnn bench ops`: a table on the
 * terminal (a row as each pass finishes), and JSON and CSV files with
 * every field. The JSON schema (also written by bench/peer_torch.py):
 *   {"schema": "cnn-bench-ops/1", "tool": "cnn", "version", "device",
 *    "engine", "threads", "repeat", "results": [{"case", "op", "pass",
 *    "shape", "status", "note", "median_ms", "min_ms", "max_ms", "runs",
 *    "inner", "gflop", "gbytes", "gflops", "gbs", "max_rel_err"}]}
 * Times are per call; null where a pass did not run. */
#ifndef CNN_BENCH_REPORT_H
#define CNN_BENCH_REPORT_H

#include <stdio.h>

#include "bench_run.h"

typedef struct bench_meta {
    const char *version;
    const char *device;
    const char *engine;
    int threads;
    int repeat;
} bench_meta;

void bench_table_header(FILE *out);
void bench_table_row(FILE *out, const bench_result *r);

/* 0 on success; -1 (and a message on stderr) when the file cannot be
 * written. */
int bench_write_json(const char *path, const bench_meta *meta,
                     const bench_result *rows, int count);
int bench_write_csv(const char *path, const bench_result *rows, int count);

/* s as a JSON string (quoted, escaped); as a CSV field (quoted when it
 * holds a comma, quote or newline). Shared with bench_models_report.c. */
void bench_json_string(FILE *f, const char *s);
void bench_csv_field(FILE *f, const char *s);

#endif /* CNN_BENCH_REPORT_H */
