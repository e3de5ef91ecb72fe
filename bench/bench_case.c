/* bench/bench_case.c - reads the shapes file of `cnn bench ops`. */
#include "bench_case.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_BATCHES 8

/* Appends one case per batch in `batches` (none: one case, no batch). */
static bool emit(bench_case **cases, int *count, int *capacity,
                 const bench_case *proto, const int64_t *batches, int nb)
{
    for (int b = 0; b < (nb ? nb : 1); ++b) {
        if (*count == *capacity) {
            int grown = *capacity ? 2 * *capacity : 64;
            bench_case *more = realloc(*cases, (size_t)grown * sizeof *more);
            if (!more)
                return false;
            *cases = more;
            *capacity = grown;
        }
        bench_case *c = &(*cases)[(*count)++];
        *c = *proto;
        if (nb) {
            snprintf(c->name, sizeof c->name, "%s/n%lld", proto->base,
                     (long long)batches[b]);
            for (int k = 0; k < c->keys; ++k)
                if (strcmp(c->key[k], "n") == 0)
                    snprintf(c->value[k], sizeof c->value[k], "%lld",
                             (long long)batches[b]);
        }
    }
    return true;
}

/* Parses one line's tokens into proto and its batch list. */
static bool parse_line(char *line, const char *source, int number,
                       bench_case *proto, int64_t *batches, int *nb)
{
    memset(proto, 0, sizeof *proto);
    proto->line = number;
    *nb = 0;
    char *save = NULL;
    char *name = strtok_r(line, " \t", &save);
    char *op = strtok_r(NULL, " \t", &save);
    if (!op) {
        fprintf(stderr, "%s:%d: a case needs a name and an op\n", source,
                number);
        return false;
    }
    snprintf(proto->base, sizeof proto->base, "%s", name);
    snprintf(proto->name, sizeof proto->name, "%s", name);
    snprintf(proto->op, sizeof proto->op, "%s", op);
    for (char *tok; (tok = strtok_r(NULL, " \t", &save));) {
        char *eq = strchr(tok, '=');
        if (!eq || eq == tok || proto->keys == BENCH_MAX_KEYS) {
            fprintf(stderr, "%s:%d: '%s' is not key=value (or too many)\n",
                    source, number, tok);
            return false;
        }
        *eq = '\0';
        int k = proto->keys++;
        snprintf(proto->key[k], sizeof proto->key[k], "%s", tok);
        snprintf(proto->value[k], sizeof proto->value[k], "%s", eq + 1);
        if (strcmp(tok, "n") != 0)
            continue;
        for (char *p = eq + 1; *p && *nb < MAX_BATCHES;) {
            char *end;
            errno = 0;
            long long v = strtoll(p, &end, 10);
            if (end == p || v < 1 || errno || (*end && *end != ',')) {
                fprintf(stderr, "%s:%d: bad batch list '%s'\n", source,
                        number, eq + 1);
                return false;
            }
            batches[(*nb)++] = v;
            p = *end ? end + 1 : end;
        }
    }
    return true;
}

bench_case *bench_cases_parse(const char *text, const char *source,
                              bool first_batch_only, int *count)
{
    bench_case *cases = NULL;
    int capacity = 0;
    *count = 0;
    int number = 0;
    for (const char *p = text; *p;) {
        const char *end = strchr(p, '\n');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char line[512];
        ++number;
        if (len >= sizeof line) {
            fprintf(stderr, "%s:%d: line too long\n", source, number);
            free(cases);
            return NULL;
        }
        memcpy(line, p, len);
        line[len] = '\0';
        p += len + (end ? 1 : 0);
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        if (strspn(line, " \t\r") == strlen(line))
            continue;
        line[strcspn(line, "\r")] = '\0';
        bench_case proto;
        int64_t batches[MAX_BATCHES];
        int nb;
        if (!parse_line(line, source, number, &proto, batches, &nb) ||
            !emit(&cases, count, &capacity, &proto, batches,
                  first_batch_only && nb > 1 ? 1 : nb)) {
            free(cases);
            return NULL;
        }
    }
    return cases;
}

const char *bench_case_text(const bench_case *c, const char *key)
{
    for (int k = 0; k < c->keys; ++k)
        if (strcmp(c->key[k], key) == 0)
            return c->value[k];
    return NULL;
}

bool bench_case_int(const bench_case *c, const char *key, int64_t *out)
{
    const char *text = bench_case_text(c, key);
    if (!text)
        return false;
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (end == text || *end || errno) {
        fprintf(stderr, "shapes line %d: %s=%s is not an integer\n", c->line,
                key, text);
        return false;
    }
    *out = v;
    return true;
}

bool bench_case_double(const bench_case *c, const char *key, double *out)
{
    const char *text = bench_case_text(c, key);
    if (!text)
        return false;
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (end == text || *end || errno) {
        fprintf(stderr, "shapes line %d: %s=%s is not a number\n", c->line,
                key, text);
        return false;
    }
    *out = v;
    return true;
}

void bench_case_describe(const bench_case *c, char *buf, int size)
{
    int used = 0;
    buf[0] = '\0';
    for (int k = 0; k < c->keys && used < size; ++k)
        used += snprintf(buf + used, (size_t)(size - used), "%s%s=%s",
                         k ? " " : "", c->key[k], c->value[k]);
}
