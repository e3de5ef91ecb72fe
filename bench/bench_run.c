/* bench/bench_run.c - validates and times one case of `cnn bench ops`.
 *
 * Validation (STYLE.md 15: a case is checked before it is timed): the op
 * is set up twice at batch 1 from the same seeds and run, forward then
 * backward, once on the REFERENCE engine and once on the engine being
 * timed; every tensor a pass writes must agree within the tolerance,
 * relative to the largest reference value, and hold no NaN the reference
 * lacks. The result is kept per layer, so a layer listed at two batches
 * is validated once.
 *
 * Timing: each pass runs once to warm up (and to size a sample: calls are
 * repeated until a sample lasts min_sample_ms), then `repeat` samples are
 * taken; the rows report the median, min and max time per call. The
 * backward pass is timed after one forward call, so it sees real inputs.
 */
#include "bench_run.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_op.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

/* Validation results per layer (bench_case.base). */
typedef struct validation {
    char base[96];
    const char *status[2]; /* per pass: ok, unsupported, failed, error */
    char note[2][200];
    double err[2];
} validation;

static validation *validations;
static int nvalidations;

static int compare(cnn_tensor *ref, cnn_tensor *got, double *err)
{
    if (cnn_tensor_dtype(ref) != CNN_F32)
        return 0;
    size_t bytes = cnn_tensor_bytes(ref);
    int64_t n = cnn_tensor_numel(ref);
    float *a = malloc(bytes), *b = malloc(bytes);
    int bad = -1;
    if (a && b && cnn_tensor_read(ref, a, bytes) == CNN_OK &&
        cnn_tensor_read(got, b, bytes) == CNN_OK) {
        double scale = 0.0, diff = 0.0;
        bad = 0;
        for (int64_t i = 0; i < n; ++i) {
            if (isnan(b[i]) && !isnan(a[i]))
                bad = 1;
            scale = fmax(scale, fabs(a[i]));
            diff = fmax(diff, fabs((double)a[i] - (double)b[i]));
        }
        *err = fmax(*err, diff / fmax(scale, 1e-30));
    }
    free(a);
    free(b);
    return bad;
}

static const char *status_of(cnn_status s)
{
    return s == CNN_OK ? "ok" : s == CNN_ERR_UNSUPPORTED ? "unsupported"
                                                         : "error";
}

static void validate(const bench_options *o, const bench_kind *kind,
                     const bench_case *c, validation *v)
{
    bench_op ops[2];
    const cnn_engine engines[2] = {CNN_ENGINE_REFERENCE, o->engine};
    cnn_status s[2][BENCH_PASSES] = {{CNN_OK, CNN_OK}, {CNN_OK, CNN_OK}};
    /* The reference is the CPU's plain loops: on a GPU the same seeded
     * inputs are made on the CPU for it. */
    const cnn_device devices[2] = {
        o->device.type == CNN_CPU ? o->device : cnn_cpu(), o->device};
    cnn_engine saved[2] = {cnn_get_engine(devices[0]),
                           cnn_get_engine(devices[1])};
    for (int e = 0; e < 2; ++e) {
        cnn_status setup = bench_op_setup(&ops[e], kind, c, 1, devices[e])
                               ? ops[e].status
                               : CNN_ERR_INVALID_ARGUMENT;
        cnn_set_engine(devices[e], engines[e]);
        for (int p = 0; p < BENCH_PASSES; ++p)
            if (ops[e].pass[p].present)
                s[e][p] = setup != CNN_OK ? setup : kind->run(&ops[e], p);
    }
    cnn_set_engine(devices[1], saved[1]);
    cnn_set_engine(devices[0], saved[0]);
    for (int p = 0; p < BENCH_PASSES; ++p) {
        const bench_pass *pass = &ops[0].pass[p];
        v->err[p] = -1.0;
        if (!pass->present)
            continue;
        cnn_status bad = s[0][p] != CNN_OK ? s[0][p] : s[1][p];
        if (bad != CNN_OK) {
            v->status[p] = status_of(bad);
            snprintf(v->note[p], sizeof v->note[p], "%s%s",
                     s[0][p] != CNN_OK ? "reference: " : "",
                     bad == CNN_ERR_UNSUPPORTED ? "not implemented"
                                                : cnn_last_error());
            continue;
        }
        double err = 0.0;
        int nan = 0;
        for (int i = 0; i < pass->nwrites; ++i)
            nan |= compare(ops[0].t[pass->writes[i]],
                           ops[1].t[pass->writes[i]], &err);
        v->err[p] = err;
        v->status[p] = nan || err > o->tolerance ? "failed" : "ok";
        snprintf(v->note[p], sizeof v->note[p], "%s rel err %.1e vs reference",
                 nan ? "NaN," : "max", err);
    }
    bench_op_free(&ops[0]);
    bench_op_free(&ops[1]);
}

static const validation *validated(const bench_options *o,
                                   const bench_kind *kind,
                                   const bench_case *c)
{
    for (int i = 0; i < nvalidations; ++i)
        if (strcmp(validations[i].base, c->base) == 0)
            return &validations[i];
    validation *grown = realloc(validations,
                                (size_t)(nvalidations + 1) * sizeof *grown);
    if (!grown)
        return NULL;
    validations = grown;
    validation *v = &validations[nvalidations++];
    memset(v, 0, sizeof *v);
    snprintf(v->base, sizeof v->base, "%s", c->base);
    validate(o, kind, c, v);
    return v;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Times pass p of op into r. */
static void time_pass(const bench_options *o, bench_op *op, int p,
                      bench_result *r)
{
    double t0 = now_ms();
    cnn_status s = op->kind->run(op, p);
    cnn_device_synchronize(o->device);
    double first = now_ms() - t0;
    if (s != CNN_OK) {
        r->status = status_of(s);
        snprintf(r->note, sizeof r->note, "%s",
                 s == CNN_ERR_UNSUPPORTED ? "not implemented"
                                          : cnn_last_error());
        return;
    }
    int inner = first >= o->min_sample_ms
                    ? 1
                    : (int)fmin(10000.0, ceil(o->min_sample_ms /
                                              fmax(first, 1e-4)));
    double *samples = malloc((size_t)o->repeat * sizeof *samples);
    if (!samples) {
        r->status = "error";
        snprintf(r->note, sizeof r->note, "out of memory");
        return;
    }
    for (int k = 0; k < o->repeat && s == CNN_OK; ++k) {
        t0 = now_ms();
        for (int i = 0; i < inner && s == CNN_OK; ++i)
            s = op->kind->run(op, p);
        cnn_device_synchronize(o->device);
        samples[k] = (now_ms() - t0) / inner;
    }
    if (s != CNN_OK) {
        r->status = "error";
        snprintf(r->note, sizeof r->note, "%s", cnn_last_error());
    } else {
        qsort(samples, (size_t)o->repeat, sizeof *samples, by_value);
        int m = o->repeat;
        r->median_ms = m % 2 ? samples[m / 2]
                             : 0.5 * (samples[m / 2 - 1] + samples[m / 2]);
        r->min_ms = samples[0];
        r->max_ms = samples[m - 1];
        r->runs = m;
        r->inner = inner;
    }
    free(samples);
}

int bench_run_case(const bench_options *o, const bench_case *c,
                   bench_result out[2])
{
    const bench_kind *kind = bench_kind_find(c->op);
    memset(out, 0, 2 * sizeof *out);
    snprintf(out[0].name, sizeof out[0].name, "%s", c->name);
    snprintf(out[0].op, sizeof out[0].op, "%s", c->op);
    bench_case_describe(c, out[0].shape, sizeof out[0].shape);
    out[0].max_rel_err = -1.0;
    snprintf(out[0].pass, sizeof out[0].pass, "fwd");
    out[0].status = "error";
    if (!kind) {
        snprintf(out[0].note, sizeof out[0].note, "unknown op '%s'", c->op);
        return 1;
    }
    const validation *v = o->validate && o->engine != CNN_ENGINE_REFERENCE
                              ? validated(o, kind, c)
                              : NULL;
    bench_op op;
    cnn_engine saved = cnn_get_engine(o->device);
    cnn_set_engine(o->device, o->engine);
    if (!bench_op_setup(&op, kind, c, 0, o->device)) {
        snprintf(out[0].note, sizeof out[0].note, "bad case (line %d)",
                 c->line);
        bench_op_free(&op);
        cnn_set_engine(o->device, saved);
        return 1;
    }
    int rows = 0;
    for (int p = 0; p < BENCH_PASSES; ++p) {
        if (!op.pass[p].present)
            continue;
        bench_result *r = &out[rows++];
        if (r != &out[0])
            *r = out[0];
        snprintf(r->pass, sizeof r->pass, "%s", op.pass[p].name);
        r->flop = op.pass[p].flop;
        r->bytes = op.pass[p].bytes;
        r->status = "ok";
        r->note[0] = '\0';
        if (op.status != CNN_OK) {
            r->status = status_of(op.status);
            snprintf(r->note, sizeof r->note, "setup: %s", cnn_last_error());
            continue;
        }
        if (v) {
            r->status = v->status[p];
            r->max_rel_err = v->err[p];
            snprintf(r->note, sizeof r->note, "%s", v->note[p]);
            if (strcmp(r->status, "ok") != 0)
                continue; /* never time what failed validation */
        }
        if (p == BENCH_BWD && kind->run(&op, BENCH_FWD) != CNN_OK) {
            r->status = "error";
            snprintf(r->note, sizeof r->note, "forward: %s", cnn_last_error());
            continue;
        }
        time_pass(o, &op, p, r);
    }
    bench_op_free(&op);
    cnn_set_engine(o->device, saved);
    return rows;
}
