/* fuzz/fuzz_util.h - what the libFuzzer targets share: a private scratch
 * folder (in /dev/shm when there is one) where each input is written as a
 * file, since the readers under test take paths. */
#ifndef CNN_FUZZ_UTIL_H
#define CNN_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* The scratch folder, made on first use; never NULL (aborts if it cannot
 * be made: a fuzzer without one cannot run). */
const char *cnn_fuzz_dir(void);

/* Writes data[0..size) to <scratch>/<name> and returns that path (static
 * storage, one per name slot: valid until the next call with the same
 * slot, 0..3). */
const char *cnn_fuzz_write(int slot, const char *name, const uint8_t *data,
                           size_t size);

#endif /* CNN_FUZZ_UTIL_H */
