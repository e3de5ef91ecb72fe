/* bench/bench_models.c - `cnn bench models`: options, the loop over models
 * and devices, the FMA peak, and the summary (bench_models.h). */
#include "bench_models.h"

#include <stdlib.h>
#include <string.h>

#include "bench_peak.h"
#include "../tools/options.h" /* option_int, option_float: ranges */

#define DEFAULT_MODELS "alexnet,alexnet-one-tower,resnet18,resnet50,small"

static void usage(FILE *out)
{
    fprintf(out,
        "usage: cnn bench models [options]\n"
        "\n"
        "Times whole networks on synthetic batches already on the device:\n"
        "forward in inference mode, and a training step (forward, softmax\n"
        "cross-entropy, backward, SGD momentum 0.9 weight decay 5e-4).\n"
        "\n"
        "  --models LIST   comma-separated, of alexnet (the paper's two\n"
        "                  towers), alexnet-one-tower, resnet18, resnet50\n"
        "                  and small (default: all)\n"
        "  --device D      cpu, cpu:N or cuda:N (default: the CPU, and\n"
        "                  cuda:0 when a real GPU is present)\n"
        "  --batch N       every model's batch (default: AlexNet 64,\n"
        "                  ResNet 32, small 64)\n"
        "  --threads T     threads of the CPU device (default: its share\n"
        "                  of the machine, as OMP_NUM_THREADS sets it)\n"
        "  --samples S     timed samples per mode, 5 to 64 (default 5)\n"
        "  --warmup W      untimed iterations first, at least 1 (default 2)\n"
        "  --min-ms MS     a sample repeats iterations until it lasts MS ms\n"
        "                  (default 100)\n"
        "  --seed S        weights, images and labels (default 1)\n"
        "  --json FILE     every row as JSON (bench/bench_models.h)\n"
        "  --csv FILE      every row as CSV\n"
        "  --lockstep      before each phase (the FMA peak, a model's setup,\n"
        "                  a mode's warm-up, each sample) wait for a line on\n"
        "                  stdin, and print an '@' line after it: so\n"
        "                  bench/compare_models.py alternates cnn and\n"
        "                  PyTorch sample by sample\n"
        "\n"
        "Exit status: 0 when every mode ran, 1 otherwise, 2 for bad\n"
        "options.\n");
}

bool bench_models_gate(const bench_model_options *o)
{
    if (!o->lockstep)
        return true;
    fflush(stdout);
    char line[64];
    return fgets(line, sizeof line, stdin) != NULL;
}

static bool takes_value(const char *opt)
{
    static const char *const options[] = {
        "--models", "--device", "--batch", "--threads", "--samples",
        "--warmup", "--min-ms", "--seed", "--json", "--csv"};
    for (size_t i = 0; i < sizeof options / sizeof options[0]; ++i)
        if (strcmp(opt, options[i]) == 0)
            return true;
    return false;
}

typedef struct args {
    bench_model_options o;
    const char *models, *device, *json, *csv;
    int threads;
} args;

/* 0 parsed, 1 help printed, 2 bad usage. */
static int parse_args(int argc, char **argv, args *a)
{
    for (int i = 2; i < argc; ++i) {
        const char *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(opt, "--help") == 0 || strcmp(opt, "-h") == 0) {
            usage(stdout);
            return 1;
        }
        if (strcmp(opt, "--lockstep") == 0) {
            a->o.lockstep = true;
            continue;
        }
        if (!takes_value(opt)) {
            fprintf(stderr, "cnn bench: unknown option '%s'\n\n", opt);
            return 2;
        }
        if (!val) {
            fprintf(stderr, "cnn bench: %s needs a value\n\n", opt);
            return 2;
        }
        if (strlen(val) > OPTION_TEXT_MAX) {
            fprintf(stderr, "cnn bench: the value of %s is %zu bytes long but "
                    "at most %d are accepted\n\n", opt, strlen(val),
                    OPTION_TEXT_MAX);
            return 2;
        }
        ++i;
        if (strcmp(opt, "--models") == 0)
            a->models = val;
        else if (strcmp(opt, "--device") == 0)
            a->device = val;
        else if (strcmp(opt, "--batch") == 0 ||
                 strcmp(opt, "--threads") == 0 ||
                 strcmp(opt, "--samples") == 0 ||
                 strcmp(opt, "--warmup") == 0 || strcmp(opt, "--seed") == 0) {
            /* Each with its range (the message names it). */
            int64_t v, low = 0, high = 4096;
            int *into = strcmp(opt, "--batch") == 0     ? &a->o.batch
                        : strcmp(opt, "--threads") == 0 ? &a->threads
                        : strcmp(opt, "--samples") == 0 ? &a->o.samples
                        : strcmp(opt, "--warmup") == 0  ? &a->o.warmup
                                                        : NULL;
            if (into == &a->o.batch)
                high = 1 << 16;
            else if (into == &a->o.samples)
                low = 5, high = BENCH_MODEL_MAX_SAMPLES;
            else if (into == &a->o.warmup)
                low = 1, high = 100000;
            else if (!into)
                high = INT64_MAX;
            if (!option_int("bench", opt + 2, val, low, high, &v))
                return 2;
            if (into)
                *into = (int)v;
            else
                a->o.seed = (uint64_t)v;
        } else if (strcmp(opt, "--min-ms") == 0) {
            if (!option_float("bench", "min-ms", val, 0.0, 1e6, &a->o.min_ms))
                return 2;
        } else if (strcmp(opt, "--json") == 0)
            a->json = val;
        else
            a->csv = val;
    }
    if (a->o.samples < 5 || a->o.samples > BENCH_MODEL_MAX_SAMPLES ||
        a->o.warmup < 1 || a->o.batch < 0 || a->threads < 0 ||
        a->o.min_ms < 0.0) {
        fprintf(stderr, "cnn bench: --samples takes 5 to %d, --warmup at "
                "least 1, --batch, --threads and --min-ms positive values\n\n",
                BENCH_MODEL_MAX_SAMPLES);
        return 2;
    }
    return 0;
}

/* The devices to run on: --device, else the CPU and the first real GPU
 * ("auto" never picks an emulated one). */
static int pick_devices(const char *text, cnn_device out[2])
{
    if (text) {
        if (cnn_device_parse(text, &out[0]) != CNN_OK ||
            cnn_device_check(out[0]) != CNN_OK) {
            fprintf(stderr, "cnn bench: device '%s': %s\n", text,
                    cnn_last_error());
            return 0;
        }
        return 1;
    }
    out[0] = cnn_cpu();
    cnn_device best;
    if (cnn_device_parse("auto", &best) == CNN_OK && best.type == CNN_CUDA)
        return out[1] = best, 2;
    return 1;
}

/* The thread count the CPU device runs with, from its name. */
static int cpu_threads(void)
{
    const char *name = cnn_device_name(cnn_cpu());
    int threads = 1;
    if (strstr(name, "("))
        sscanf(strstr(name, "("), "(%*[^,], %d", &threads);
    return threads;
}

int bench_models_main(int argc, char **argv)
{
    args a = {.o = {.samples = 5, .warmup = 2, .min_ms = 100.0, .seed = 1}};
    int parsed = parse_args(argc, argv, &a);
    if (parsed)
        return parsed == 1 ? 0 : (usage(stderr), 2);
    char list[512];
    snprintf(list, sizeof list, "%s", a.models ? a.models : DEFAULT_MODELS);
    const char *names[16];
    int nmodels = 0;
    char *save = NULL;
    for (char *w = strtok_r(list, ",", &save); w && nmodels < 16;
         w = strtok_r(NULL, ",", &save)) {
        if (!bench_model_known(w, NULL, NULL)) {
            fprintf(stderr, "cnn bench: unknown model '%s' (%s)\n", w,
                    DEFAULT_MODELS);
            return 2;
        }
        names[nmodels++] = w;
    }
    cnn_device devices[2];
    int ndevices = pick_devices(a.device, devices);
    if (ndevices == 0)
        return 2;
    if (a.threads > 0 && cnn_set_threads(cnn_cpu(), a.threads) != CNN_OK) {
        fprintf(stderr, "cnn bench: --threads: %s\n", cnn_last_error());
        return 2;
    }
    int threads = cpu_threads();
    bench_peak peak;
    if (!bench_models_gate(&a.o)) /* the peak is a phase of its own */
        return 1;
    bench_peak_measure(threads, &peak);
    if (a.o.lockstep)
        printf("@ peak %.1f\n", peak.gflops);
    a.o.peak_gflops = peak.gflops;
    printf("cnn bench models: cnn %s, %d samples after %d warm-up "
           "iterations, samples of at least %.0f ms\n", cnn_version(),
           a.o.samples, a.o.warmup, a.o.min_ms);
    for (int d = 0; d < ndevices; ++d)
        printf("device %s\n", cnn_device_name(devices[d]));
    printf("CPU FMA peak: %s\n", peak.method);
    printf("GFLOP/s count a forward's FLOPs (cnn_net_summary); a training "
           "step counts 3x them\n\n");
    bench_models_table_header(stdout);
    bench_model_row *rows = calloc((size_t)(2 * nmodels * ndevices),
                                   sizeof *rows);
    if (!rows)
        return 1;
    int nrows = 0, bad = 0;
    for (int m = 0; m < nmodels; ++m)
        for (int d = 0; d < ndevices; ++d) {
            int got = bench_model_run(&a.o, names[m], devices[d],
                                      rows + nrows);
            for (int k = 0; k < got; ++k) {
                bench_models_table_row(stdout, &rows[nrows + k]);
                bad += strcmp(rows[nrows + k].status, "ok") != 0;
            }
            nrows += got;
            if (got == 0) { /* lockstep: stdin closed */
                bad = 1;
                m = nmodels;
                break;
            }
        }
    int io = 0;
    if (a.json)
        io |= bench_models_write_json(a.json, rows, nrows, threads,
                                      peak.gflops, peak.method);
    if (a.csv)
        io |= bench_models_write_csv(a.csv, rows, nrows);
    free(rows);
    return bad || io ? 1 : 0;
}
