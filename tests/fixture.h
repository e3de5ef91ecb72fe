/* tests/fixture.h - reads the PyTorch fixtures in tests/fixtures (format:
 * tests/fixtures/fixture_io.py). */
#ifndef CNN_TEST_FIXTURE_H
#define CNN_TEST_FIXTURE_H

#include <stdint.h>

typedef struct cnn_fixture cnn_fixture;

typedef struct cnn_fixture_tensor {
    const char *name;
    int is_int;      /* 0: float32 data, 1: int32 data */
    int ndim;
    int64_t dims[8];
    int64_t numel;
    const void *data;
} cnn_fixture_tensor;

/* Loads tests/fixtures/<file> (the folder is compiled in as
 * CNN_FIXTURE_DIR). Fails the current Check test when the file is missing
 * or malformed. Free with cnn_fixture_free. */
cnn_fixture *cnn_fixture_load(const char *file);
void cnn_fixture_free(cnn_fixture *f);

/* The tensor called `name`; fails the current test when absent. */
const cnn_fixture_tensor *cnn_fixture_get(const cnn_fixture *f,
                                          const char *name);
/* Its float data (fails the test if it is an int tensor). */
const float *cnn_fixture_floats(const cnn_fixture *f, const char *name);

#endif /* CNN_TEST_FIXTURE_H */
