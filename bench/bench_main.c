/* bench/bench_main.c - `cnn bench`: the choice of mode, and for `ops`
 * (every op at AlexNet and ResNet-50 layer shapes) its options, the loop
 * over the cases and the summary. `models` (whole networks) is
 * bench_models.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "bench_case.h"
#include "bench_models.h"
#include "bench_op.h"
#include "bench_report.h"
#include "bench_run.h"
#include "../tools/options.h" /* option_int, option_float: ranges */

/* bench/shapes_ops.txt, compiled in (bench/bench.cmake). */
extern const char cnn_bench_shapes_ops[];

static void usage(FILE *out)
{
    fprintf(out,
        "usage: cnn bench ops [options]\n"
        "       cnn bench models [options]   (cnn bench models --help)\n"
        "\n"
        "Times every op, forward and backward, at AlexNet (227x227, one and\n"
        "two towers, batch 16 and 64) and ResNet-50 (224x224, batch 16) layer\n"
        "shapes, after checking each against the REFERENCE engine at batch 1.\n"
        "\n"
        "  --device D      cpu, cpu:N or cuda:N (default cpu)\n"
        "  --engine E      auto, native, vendor or reference (default: the\n"
        "                  device's engine, CNN_ENGINE or auto)\n"
        "  --threads T     threads of the CPU device (cnn_set_threads;\n"
        "                  default: its share of the machine, as\n"
        "                  OMP_NUM_THREADS sets it)\n"
        "  --repeat R      timed samples per pass, at least 5 (default 5)\n"
        "  --min-ms MS     a sample repeats a call until it lasts MS ms (20)\n"
        "  --filter LIST   only cases whose name or op contains one of the\n"
        "                  comma-separated words (conv2d,resnet50.layer1)\n"
        "  --quick         the first batch of each case only (no batch 64)\n"
        "  --no-validate   skip the check against the REFERENCE engine\n"
        "  --tolerance X   largest relative error the check accepts (1e-4)\n"
        "  --shapes FILE   cases from FILE instead of the built-in list\n"
        "                  (bench/shapes_ops.txt)\n"
        "  --json FILE     write every row as JSON (bench/bench_report.h)\n"
        "  --csv FILE      write every row as CSV\n"
        "  --list          print the cases and the FLOP formulas; run nothing\n"
        "\n"
        "Exit status: 0 when no case failed its check or errored (unsupported\n"
        "ops are listed as such), 1 otherwise, 2 for bad options.\n");
}

static bool matches(const bench_case *c, const char *filter)
{
    if (!filter)
        return true;
    char words[256];
    snprintf(words, sizeof words, "%s", filter);
    char *save = NULL;
    for (char *w = strtok_r(words, ",", &save); w;
         w = strtok_r(NULL, ",", &save))
        if (strstr(c->name, w) || strcmp(c->op, w) == 0)
            return true;
    return false;
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *text = NULL;
    size_t size = 0, used = 0;
    for (;;) {
        if (used + 4096 + 1 > size) {
            char *grown = realloc(text, size = 2 * size + 8192);
            if (!grown) {
                free(text);
                fclose(f);
                return NULL;
            }
            text = grown;
        }
        size_t got = fread(text + used, 1, 4096, f);
        used += got;
        if (got < 4096)
            break;
    }
    fclose(f);
    text[used] = '\0';
    return text;
}

static bool parse_engine(const char *text, cnn_engine *out)
{
    for (int e = CNN_ENGINE_AUTO; e <= CNN_ENGINE_REFERENCE; ++e)
        if (strcmp(text, cnn_engine_name((cnn_engine)e)) == 0) {
            *out = (cnn_engine)e;
            return true;
        }
    return false;
}

static bool takes_value(const char *opt)
{
    static const char *const options[] = {
        "--device", "--engine", "--threads", "--repeat", "--min-ms",
        "--tolerance", "--filter", "--shapes", "--json", "--csv"};
    for (size_t i = 0; i < sizeof options / sizeof options[0]; ++i)
        if (strcmp(opt, options[i]) == 0)
            return true;
    return false;
}

typedef struct args {
    bench_options o;
    const char *filter, *shapes, *json, *csv;
    bool quick, list;
} args;

/* 0 parsed, 1 help printed, 2 bad usage (usage follows), 3 a bad value
 * (explained). */
static int parse_args(int argc, char **argv, args *a)
{
    const char *device = "cpu", *engine = NULL;
    for (int i = 2; i < argc; ++i) {
        const char *opt = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        bool takes = true;
        if (strcmp(opt, "--help") == 0 || strcmp(opt, "-h") == 0) {
            usage(stdout);
            return 1;
        } else if (strcmp(opt, "--quick") == 0) {
            a->quick = true, takes = false;
        } else if (strcmp(opt, "--list") == 0) {
            a->list = true, takes = false;
        } else if (strcmp(opt, "--no-validate") == 0) {
            a->o.validate = false, takes = false;
        } else if (!takes_value(opt)) {
            fprintf(stderr, "cnn bench: unknown option '%s'\n\n", opt);
            return 2;
        } else if (!val) {
            fprintf(stderr, "cnn bench: %s needs a value\n\n", opt);
            return 2;
        } else if (strlen(val) > OPTION_TEXT_MAX) {
            fprintf(stderr, "cnn bench: the value of %s is %zu bytes long but "
                    "at most %d are accepted\n", opt, strlen(val),
                    OPTION_TEXT_MAX);
            return 3;
        } else if (strcmp(opt, "--device") == 0) {
            device = val;
        } else if (strcmp(opt, "--engine") == 0) {
            engine = val;
        } else if (strcmp(opt, "--threads") == 0) {
            int64_t v;
            if (!option_int("bench", "threads", val, 0, 4096, &v))
                return 3;
            a->o.threads = (int)v;
        } else if (strcmp(opt, "--repeat") == 0) {
            int64_t v;
            if (!option_int("bench", "repeat", val, 5, 100000, &v))
                return 3;
            a->o.repeat = (int)v;
        } else if (strcmp(opt, "--min-ms") == 0) {
            if (!option_float("bench", "min-ms", val, 0.0, 1e6,
                              &a->o.min_sample_ms))
                return 3;
        } else if (strcmp(opt, "--tolerance") == 0) {
            if (!option_float("bench", "tolerance", val, 1e-12, 1e6,
                              &a->o.tolerance))
                return 3;
        } else if (strcmp(opt, "--filter") == 0) {
            a->filter = val;
        } else if (strcmp(opt, "--shapes") == 0) {
            a->shapes = val;
        } else if (strcmp(opt, "--json") == 0) {
            a->json = val;
        } else if (strcmp(opt, "--csv") == 0) {
            a->csv = val;
        } else {
            fprintf(stderr, "cnn bench: unknown option '%s'\n\n", opt);
            return 2;
        }
        i += takes;
    }
    if (cnn_device_parse(device, &a->o.device) != CNN_OK ||
        cnn_device_check(a->o.device) != CNN_OK) {
        fprintf(stderr, "cnn bench: device '%s': %s\n", device,
                cnn_last_error());
        return 3;
    }
    a->o.engine = cnn_get_engine(a->o.device);
    if (engine && !parse_engine(engine, &a->o.engine)) {
        fprintf(stderr, "cnn bench: '%s' is not an engine\n\n", engine);
        return 2;
    }
    if (cnn_set_engine(a->o.device, a->o.engine) != CNN_OK) {
        fprintf(stderr, "cnn bench: --engine: %s\n", cnn_last_error());
        return 3;
    }
    if (a->o.repeat < 5 || a->o.threads < 0 || a->o.min_sample_ms < 0.0 ||
        !(a->o.tolerance > 0.0)) {
        fprintf(stderr, "cnn bench: --repeat needs at least 5, --threads, "
                        "--min-ms and --tolerance positive values\n\n");
        return 2;
    }
    if (a->o.threads > 0 &&
        cnn_set_threads(a->o.device, a->o.threads) != CNN_OK) {
        fprintf(stderr, "cnn bench: --threads: %s\n", cnn_last_error());
        return 3;
    }
    return 0;
}

static void list_cases(const bench_case *cases, int count, const args *a)
{
    for (int i = 0; i < count; ++i)
        if (matches(&cases[i], a->filter)) {
            char shape[256];
            bench_case_describe(&cases[i], shape, sizeof shape);
            printf("%-34s %-15s %s\n", cases[i].name, cases[i].op, shape);
        }
    printf("\n");
    bench_flops_print();
}

static int run_ops(int argc, char **argv)
{
    args a = {.o = {.repeat = 5, .min_sample_ms = 20.0, .validate = true,
                    .tolerance = 1e-4}};
    int parsed = parse_args(argc, argv, &a);
    if (parsed)
        return parsed == 1 ? 0 : parsed == 3 ? 2 : (usage(stderr), 2);
    char *text = NULL;
    if (a.shapes && !(text = read_file(a.shapes))) {
        fprintf(stderr, "cnn bench: cannot read %s\n", a.shapes);
        return 2;
    }
    int count;
    bench_case *cases = bench_cases_parse(
        text ? text : cnn_bench_shapes_ops,
        a.shapes ? a.shapes : "bench/shapes_ops.txt", a.quick, &count);
    free(text);
    if (!cases)
        return 2;
    if (a.list) {
        list_cases(cases, count, &a);
        free(cases);
        return 0;
    }
    bench_result *rows = malloc((size_t)(2 * count + 1) * sizeof *rows);
    if (!rows) {
        free(cases);
        return 1;
    }
    int threads = a.o.threads;
    const char *name = cnn_device_name(a.o.device);
    printf("cnn bench ops: cnn %s, %s, engine %s, repeat %d%s\n\n",
           cnn_version(), name, cnn_engine_name(a.o.engine), a.o.repeat,
           a.o.validate ? ", checked against reference at batch 1" : "");
    bench_table_header(stdout);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int nrows = 0, bad = 0, unsupported = 0;
    for (int i = 0; i < count; ++i) {
        if (!matches(&cases[i], a.filter))
            continue;
        int got = bench_run_case(&a.o, &cases[i], rows + nrows);
        for (int k = 0; k < got; ++k) {
            const bench_result *r = &rows[nrows + k];
            bench_table_row(stdout, r);
            bad += strcmp(r->status, "failed") == 0 ||
                   strcmp(r->status, "error") == 0;
            unsupported += strcmp(r->status, "unsupported") == 0;
        }
        nrows += got;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double seconds = (double)(t1.tv_sec - t0.tv_sec) +
                     1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    printf("\n%d rows in %.0f s: %d failed or errored, %d unsupported\n",
           nrows, seconds, bad, unsupported);
    if (threads == 0) /* the default share: read it from the device name */
        sscanf(strstr(name, "(") ? strstr(name, "(") : "", "(%*[^,], %d",
               &threads);
    bench_meta meta = {.version = cnn_version(), .device = name,
                       .engine = cnn_engine_name(a.o.engine),
                       .threads = threads, .repeat = a.o.repeat};
    int io = 0;
    if (a.json)
        io |= bench_write_json(a.json, &meta, rows, nrows);
    if (a.csv)
        io |= bench_write_csv(a.csv, rows, nrows);
    free(rows);
    free(cases);
    return bad || io ? 1 : 0;
}

int cnn_bench_main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "ops") == 0)
        return run_ops(argc, argv);
    if (strcmp(argv[1], "models") == 0)
        return bench_models_main(argc, argv);
    fprintf(stderr, "cnn bench: unknown mode '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
