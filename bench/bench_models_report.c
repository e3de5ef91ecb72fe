/* bench/bench_models_report.c - the table, JSON and CSV of `cnn bench
 * models` (schema in bench_models.h); quoting from bench_report.c. */
#include "bench_models.h"

#include <string.h>

#include "bench_report.h"

static bool timed(const bench_model_row *r)
{
    return r->samples > 0 && strcmp(r->status, "ok") == 0;
}

double bench_model_images_per_s(const bench_model_row *r)
{
    return r->median_ms > 0.0 ? r->batch * 1e3 / r->median_ms : 0.0;
}

double bench_model_gflops(const bench_model_row *r)
{
    return r->median_ms > 0.0 ? r->gflop * 1e3 / r->median_ms : 0.0;
}

void bench_models_table_header(FILE *out)
{
    fprintf(out, "%-18s %-7s %-7s %5s %9s %9s %9s %9s %8s %6s  %s\n",
            "model", "device", "mode", "batch", "median ms", "min ms",
            "max ms", "images/s", "GFLOP/s", "peak", "note");
}

void bench_models_table_row(FILE *out, const bench_model_row *r)
{
    if (!timed(r)) {
        fprintf(out, "%-18s %-7s %-7s %5d %9s %9s %9s %9s %8s %6s  %s: %s\n",
                r->model, r->device, r->mode, r->batch, "-", "-", "-", "-",
                "-", "-", r->status, r->note[0] ? r->note : "not run");
        fflush(out);
        return;
    }
    char peak[16] = "-";
    if (r->peak_fraction >= 0.0)
        snprintf(peak, sizeof peak, "%.0f%%", 100.0 * r->peak_fraction);
    fprintf(out, "%-18s %-7s %-7s %5d %9.2f %9.2f %9.2f %9.1f %8.1f %6s  %s\n",
            r->model, r->device, r->mode, r->batch, r->median_ms, r->min_ms,
            r->max_ms, bench_model_images_per_s(r), bench_model_gflops(r),
            peak, r->note);
    fflush(out);
}

static void json_number(FILE *f, const char *key, double v, bool present)
{
    fprintf(f, ", \"%s\": ", key);
    if (present)
        fprintf(f, "%.6g", v);
    else
        fputs("null", f);
}

static int finish(FILE *f, const char *path)
{
    if (fclose(f) != 0) {
        fprintf(stderr, "cnn bench: error writing %s\n", path);
        return -1;
    }
    return 0;
}

int bench_models_write_json(const char *path, const bench_model_row *rows,
                            int count, int threads, double peak_gflops,
                            const char *peak_method)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "cnn bench: cannot write %s\n", path);
        return -1;
    }
    fprintf(f, "{\"schema\": \"cnn-bench-models/1\", \"tool\": \"cnn\", "
               "\"version\": ");
    bench_json_string(f, cnn_version());
    fprintf(f, ", \"threads\": %d", threads);
    json_number(f, "peak_gflops", peak_gflops, peak_gflops > 0.0);
    fputs(", \"peak_method\": ", f);
    bench_json_string(f, peak_method);
    fputs(", \"results\": [", f);
    for (int i = 0; i < count; ++i) {
        const bench_model_row *r = &rows[i];
        bool t = timed(r);
        fputs(i ? ",\n  {\"model\": " : "\n  {\"model\": ", f);
        bench_json_string(f, r->model);
        fputs(", \"device\": ", f);
        bench_json_string(f, r->device);
        fprintf(f, ", \"mode\": \"%s\", \"batch\": %d, \"status\": \"%s\"",
                r->mode, r->batch, r->status);
        fputs(", \"note\": ", f);
        bench_json_string(f, r->note);
        json_number(f, "median_ms", r->median_ms, t);
        json_number(f, "min_ms", r->min_ms, t);
        json_number(f, "max_ms", r->max_ms, t);
        json_number(f, "samples", r->samples, t);
        json_number(f, "inner", r->inner, t);
        fputs(", \"samples_ms\": [", f);
        for (int k = 0; k < r->samples; ++k)
            fprintf(f, k ? ", %.6g" : "%.6g", r->samples_ms[k]);
        fputc(']', f);
        json_number(f, "gflop", r->gflop, r->gflop > 0.0);
        json_number(f, "images_per_s", bench_model_images_per_s(r), t);
        json_number(f, "gflops", bench_model_gflops(r), t);
        json_number(f, "peak_fraction", r->peak_fraction,
                    t && r->peak_fraction >= 0.0);
        json_number(f, "loss", r->loss, t && strcmp(r->mode, "train") == 0);
        fputc('}', f);
    }
    fputs("\n]}\n", f);
    return finish(f, path);
}

int bench_models_write_csv(const char *path, const bench_model_row *rows,
                           int count)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "cnn bench: cannot write %s\n", path);
        return -1;
    }
    fputs("model,device,mode,batch,status,median_ms,min_ms,max_ms,samples,"
          "inner,gflop,images_per_s,gflops,peak_fraction,note\n", f);
    for (int i = 0; i < count; ++i) {
        const bench_model_row *r = &rows[i];
        fprintf(f, "%s,%s,%s,%d,%s,", r->model, r->device, r->mode, r->batch,
                r->status);
        if (timed(r))
            fprintf(f, "%.6g,%.6g,%.6g,%d,%d,%.6g,%.6g,%.6g,", r->median_ms,
                    r->min_ms, r->max_ms, r->samples, r->inner, r->gflop,
                    bench_model_images_per_s(r), bench_model_gflops(r));
        else
            fprintf(f, ",,,,,%.6g,,,", r->gflop);
        if (timed(r) && r->peak_fraction >= 0.0)
            fprintf(f, "%.4f", r->peak_fraction);
        fputc(',', f);
        bench_csv_field(f, r->note);
        fputc('\n', f);
    }
    return finish(f, path);
}
