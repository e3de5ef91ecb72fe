/* bench/bench_models.h - `cnn bench models`: whole networks, forward in
 * inference mode and a full training step, on synthetic batches already on
 * the device. bench_models.c has the options and the loop,
 * bench_model_run.c times one model, bench_models_report.c writes the
 * table, JSON and CSV. The JSON schema (also written by
 * bench/peer_torch_models.py):
 *   {"schema": "cnn-bench-models/1", "tool": "cnn", "version", "threads",
 *    "peak_gflops", "peak_method", "results": [{"model", "device", "mode",
 *    "batch", "status", "note", "median_ms", "min_ms", "max_ms", "samples",
 *    "inner", "samples_ms": [...], "gflop", "images_per_s", "gflops",
 *    "peak_fraction", "loss"}]}
 * Times are per iteration (one forward, or one training step); gflop is
 * per iteration too; null where a mode did not run or no peak is known. */
#ifndef CNN_BENCH_MODELS_H
#define CNN_BENCH_MODELS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <cnn/cnn.h>

#define BENCH_MODEL_MAX_SAMPLES 64

typedef struct bench_model_options {
    int batch;          /* 0: the model's default */
    int samples;        /* timed samples per mode, 5 .. 64 */
    int warmup;         /* untimed iterations first, >= 1 */
    double min_ms;      /* a sample repeats iterations to last this long */
    uint64_t seed;      /* weights, images and labels */
    bool lockstep;      /* wait for a line on stdin before each phase */
    double peak_gflops; /* the CPU's FMA peak; 0: unknown */
} bench_model_options;

/* One model, one device, one mode. */
typedef struct bench_model_row {
    char model[32];
    char device[32];       /* cpu:0, cuda:0 */
    const char *mode;      /* "forward" or "train" */
    const char *status;    /* ok, error */
    char note[200];
    int batch;
    double median_ms, min_ms, max_ms;
    int samples, inner;    /* timed samples, iterations per sample */
    double samples_ms[BENCH_MODEL_MAX_SAMPLES];
    double gflop;          /* per iteration: 3x the forward's for train */
    double loss;           /* the last training step's (train only) */
    double peak_fraction;  /* < 0 when unknown */
} bench_model_row;

/* `cnn bench models ...` (argv[0] is "bench", argv[1] "models"). */
int bench_models_main(int argc, char **argv);

/* Whether the mode knows model `name`; its default batch and classes. */
bool bench_model_known(const char *name, int *batch, int64_t *classes);

/* Times model `name` on `device` in both modes into rows[0] (forward) and
 * rows[1] (train); returns 2, or 1 when only the forward row was made
 * (setup failed: rows[0] says why). */
int bench_model_run(const bench_model_options *o, const char *name,
                    cnn_device device, bench_model_row rows[2]);

/* In lockstep mode: waits for a line on stdin (false at its end). */
bool bench_models_gate(const bench_model_options *o);

double bench_model_images_per_s(const bench_model_row *r);
double bench_model_gflops(const bench_model_row *r);

void bench_models_table_header(FILE *out);
void bench_models_table_row(FILE *out, const bench_model_row *r);
/* 0 on success; -1 (and a message on stderr) when a file cannot be
 * written. */
int bench_models_write_json(const char *path, const bench_model_row *rows,
                            int count, int threads, double peak_gflops,
                            const char *peak_method);
int bench_models_write_csv(const char *path, const bench_model_row *rows,
                           int count);

#endif /* CNN_BENCH_MODELS_H */
