/* bench/bench_case.h - the cases of `cnn bench ops`, read from a shapes
 * file (bench/shapes_ops.txt, whose header gives the format). */
#ifndef CNN_BENCH_CASE_H
#define CNN_BENCH_CASE_H

#include <stdbool.h>
#include <stdint.h>

#define BENCH_MAX_KEYS 16

typedef struct bench_case {
    char name[96];  /* alexnet.conv1/n16 */
    char base[96];  /* alexnet.conv1: the same layer at every batch */
    char op[32];    /* conv2d */
    int line;       /* in the shapes file */
    int keys;
    char key[BENCH_MAX_KEYS][16];
    char value[BENCH_MAX_KEYS][48];
} bench_case;

/* Parses `text` (the shapes file's contents; `source` names it in
 * messages) into a new array of *count cases, batch lists expanded; with
 * first_batch_only, a batch list gives only its first batch. NULL, with
 * the reason printed on stderr, on a malformed line. Free with free(). */
bench_case *bench_cases_parse(const char *text, const char *source,
                              bool first_batch_only, int *count);

/* The value of `key`: false when it is absent. A malformed number is
 * reported on stderr and also gives false. */
bool bench_case_int(const bench_case *c, const char *key, int64_t *out);
bool bench_case_double(const bench_case *c, const char *key, double *out);
const char *bench_case_text(const bench_case *c, const char *key);

/* The case's keys as "n=16 c=3 ...", for tables and JSON. */
void bench_case_describe(const bench_case *c, char *buf, int size);

#endif /* CNN_BENCH_CASE_H */
