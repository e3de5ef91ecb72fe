/* tools/metrics_csv.c - opening metrics.csv for a new or a resumed run. */
#include "metrics_csv.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static const char header[] = "epoch,step,lr,train_loss,train_acc,test_loss,"
                             "test_acc,images_per_s,seconds\n";

/* Whether `line` is a row of an epoch after `epochs_done` (or no row at
 * all: a torn line from a kill mid-write). */
static bool drop_row(const char *line, int64_t epochs_done)
{
    char *end = NULL;
    errno = 0;
    long long epoch = strtoll(line, &end, 10);
    return errno || end == line || *end != ',' || epoch < 1 ||
           epoch > epochs_done || !strchr(line, '\n');
}

/* Copies the header and the rows to keep from `in` into `tmp`. */
static int copy_kept(FILE *in, FILE *tmp, int64_t epochs_done)
{
    char line[1024];
    bool first = true, skipping = false;
    while (fgets(line, sizeof line, in)) {
        bool whole = strchr(line, '\n') != NULL;
        if (skipping) { /* the rest of an overlong line */
            skipping = !whole;
            continue;
        }
        bool keep = first || !drop_row(line, epochs_done);
        if (keep && fputs(line, tmp) == EOF)
            return -1;
        first = false;
        skipping = !whole && !keep;
    }
    if (first && fputs(header, tmp) == EOF) /* an empty file */
        return -1;
    return ferror(in) ? -1 : 0;
}

int metrics_csv_open(const char *path, int resume, int64_t epochs_done,
                     FILE **out)
{
    *out = NULL;
    FILE *in = resume ? fopen(path, "r") : NULL;
    if (!in) {
        if (resume && errno != ENOENT)
            return -1;
        FILE *f = fopen(path, "w");
        if (!f)
            return -1;
        if (fputs(header, f) == EOF || fflush(f) != 0) {
            int saved = errno;
            fclose(f);
            errno = saved;
            return -1;
        }
        *out = f;
        return 0;
    }
    size_t size = strlen(path) + 5;
    char *tmp_path = malloc(size);
    if (!tmp_path) {
        fclose(in);
        errno = ENOMEM;
        return -1;
    }
    snprintf(tmp_path, size, "%s.tmp", path);
    FILE *tmp = fopen(tmp_path, "w");
    int rc = tmp ? copy_kept(in, tmp, epochs_done) : -1;
    int saved = errno;
    fclose(in);
    if (tmp && fclose(tmp) != 0 && rc == 0) {
        rc = -1;
        saved = errno;
    }
    if (rc == 0 && rename(tmp_path, path) != 0) {
        rc = -1;
        saved = errno;
    }
    if (rc != 0 && tmp)
        remove(tmp_path);
    free(tmp_path);
    if (rc != 0) {
        errno = saved;
        return -1;
    }
    *out = fopen(path, "a");
    return *out ? 0 : -1;
}
