/* tools/metrics_csv.h - the metrics.csv of a `cnn train` run: one header
 * line, then one row per finished epoch whose first field is the epoch
 * (1-based). */
#ifndef CNN_TOOLS_METRICS_CSV_H
#define CNN_TOOLS_METRICS_CSV_H

#include <stdint.h>
#include <stdio.h>

/* Opens `path` for appending rows. A new run (resume 0) starts the file
 * afresh with the header. A resumed run keeps the header and the rows of
 * epochs 1 .. epochs_done, the epochs its checkpoint holds, and drops any
 * later row: one flushed before a kill stopped the save of its checkpoint
 * would otherwise appear twice, as that epoch is trained again. The kept
 * rows are rewritten atomically (a temporary file renamed over path), so a
 * kill now loses nothing. A missing file is started afresh. Returns 0 and
 * *out, or -1 with errno set. */
int metrics_csv_open(const char *path, int resume, int64_t epochs_done,
                     FILE **out);

#endif /* CNN_TOOLS_METRICS_CSV_H */
