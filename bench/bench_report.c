/* bench/bench_report.c - the table, JSON and CSV of `cnn bench ops`, and
 * the JSON and CSV quoting `cnn bench models` shares. */
#include "bench_report.h"

#include <string.h>

static bool timed(const bench_result *r)
{
    return r->runs > 0;
}

static double rate(double amount, double ms)
{
    return ms > 0.0 ? amount / (ms * 1e6) : 0.0; /* per ms -> G per s */
}

void bench_table_header(FILE *out)
{
    fprintf(out, "%-34s %-4s %-11s %9s %9s %9s %8s %7s  %s\n", "case", "pass",
            "status", "median ms", "min ms", "max ms", "GFLOP/s", "GB/s",
            "check");
}

void bench_table_row(FILE *out, const bench_result *r)
{
    if (!timed(r)) {
        fprintf(out, "%-34s %-4s %-11s %9s %9s %9s %8s %7s  %s\n", r->name,
                r->pass, r->status, "-", "-", "-", "-", "-", r->note);
        fflush(out);
        return;
    }
    char flops[16] = "-";
    if (r->flop > 0.0)
        snprintf(flops, sizeof flops, "%.1f", rate(r->flop, r->median_ms));
    fprintf(out, "%-34s %-4s %-11s %9.3f %9.3f %9.3f %8s %7.1f  %s\n",
            r->name, r->pass, r->status, r->median_ms, r->min_ms, r->max_ms,
            flops, rate(r->bytes, r->median_ms), r->note);
    fflush(out);
}

void bench_json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; ++s) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(f, "\\u%04x", ch);
        else
            fputc(ch, f);
    }
    fputc('"', f);
}

static void json_number(FILE *f, const char *key, double v, bool present)
{
    fprintf(f, ", \"%s\": ", key);
    if (present)
        fprintf(f, "%.6g", v);
    else
        fputs("null", f);
}

int bench_write_json(const char *path, const bench_meta *meta,
                     const bench_result *rows, int count)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "cnn bench: cannot write %s\n", path);
        return -1;
    }
    fprintf(f, "{\"schema\": \"cnn-bench-ops/1\", \"tool\": \"cnn\", "
               "\"version\": ");
    bench_json_string(f, meta->version);
    fputs(", \"device\": ", f);
    bench_json_string(f, meta->device);
    fputs(", \"engine\": ", f);
    bench_json_string(f, meta->engine);
    fprintf(f, ", \"threads\": %d, \"repeat\": %d, \"results\": [",
            meta->threads, meta->repeat);
    for (int i = 0; i < count; ++i) {
        const bench_result *r = &rows[i];
        bool t = timed(r);
        fputs(i ? ",\n  {\"case\": " : "\n  {\"case\": ", f);
        bench_json_string(f, r->name);
        fputs(", \"op\": ", f);
        bench_json_string(f, r->op);
        fputs(", \"pass\": ", f);
        bench_json_string(f, r->pass);
        fputs(", \"shape\": ", f);
        bench_json_string(f, r->shape);
        fputs(", \"status\": ", f);
        bench_json_string(f, r->status);
        fputs(", \"note\": ", f);
        bench_json_string(f, r->note);
        json_number(f, "median_ms", r->median_ms, t);
        json_number(f, "min_ms", r->min_ms, t);
        json_number(f, "max_ms", r->max_ms, t);
        json_number(f, "runs", r->runs, t);
        json_number(f, "inner", r->inner, t);
        json_number(f, "gflop", r->flop * 1e-9, true);
        json_number(f, "gbytes", r->bytes * 1e-9, true);
        json_number(f, "gflops", rate(r->flop, r->median_ms), t);
        json_number(f, "gbs", rate(r->bytes, r->median_ms), t);
        json_number(f, "max_rel_err", r->max_rel_err, r->max_rel_err >= 0.0);
        fputc('}', f);
    }
    fputs("\n]}\n", f);
    if (fclose(f) != 0) {
        fprintf(stderr, "cnn bench: error writing %s\n", path);
        return -1;
    }
    return 0;
}

void bench_csv_field(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; ++s) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

int bench_write_csv(const char *path, const bench_result *rows, int count)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "cnn bench: cannot write %s\n", path);
        return -1;
    }
    fputs("case,op,pass,shape,status,median_ms,min_ms,max_ms,runs,inner,"
          "gflop,gbytes,gflops,gbs,max_rel_err,note\n", f);
    for (int i = 0; i < count; ++i) {
        const bench_result *r = &rows[i];
        bench_csv_field(f, r->name);
        fputc(',', f);
        bench_csv_field(f, r->op);
        fprintf(f, ",%s,", r->pass);
        bench_csv_field(f, r->shape);
        fprintf(f, ",%s,", r->status);
        if (timed(r))
            fprintf(f, "%.6g,%.6g,%.6g,%d,%d,", r->median_ms, r->min_ms,
                    r->max_ms, r->runs, r->inner);
        else
            fputs(",,,,,", f);
        fprintf(f, "%.6g,%.6g,", r->flop * 1e-9, r->bytes * 1e-9);
        if (timed(r))
            fprintf(f, "%.6g,%.6g,", rate(r->flop, r->median_ms),
                    rate(r->bytes, r->median_ms));
        else
            fputs(",,", f);
        if (r->max_rel_err >= 0.0)
            fprintf(f, "%.3g", r->max_rel_err);
        fputc(',', f);
        bench_csv_field(f, r->note);
        fputc('\n', f);
    }
    if (fclose(f) != 0) {
        fprintf(stderr, "cnn bench: error writing %s\n", path);
        return -1;
    }
    return 0;
}
