/* tests/misc_guard.h - what the dropout, loss, concat and SGD suites
 * share: outputs with guard bytes on both sides (so that a write past
 * either end shows), and the CPU device's thread count. */
#ifndef CNN_TEST_MISC_GUARD_H
#define CNN_TEST_MISC_GUARD_H

#include <stdlib.h>
#include <string.h>

#include "test_util.h"

#define MISC_GUARD_BYTES 64
#define MISC_GUARD_BYTE 0xA5

typedef struct guarded {
    unsigned char *block; /* guard, the tensor's bytes, guard */
    cnn_tensor *t;        /* wraps the bytes in the middle */
    size_t bytes;
} guarded;

/* A tensor in guarded memory; its bytes start as 0xFF (a float NaN), so an
 * element the op forgot to write shows. */
static inline guarded guarded_create(cnn_dtype dtype, int ndim,
                                     const int64_t *dims)
{
    guarded g = {0};
    g.bytes = cnn_dtype_size(dtype);
    for (int i = 0; i < ndim; ++i)
        g.bytes *= (size_t)dims[i];
    g.block = malloc(g.bytes + 2 * MISC_GUARD_BYTES);
    ck_assert_ptr_nonnull(g.block);
    memset(g.block, MISC_GUARD_BYTE, MISC_GUARD_BYTES);
    memset(g.block + MISC_GUARD_BYTES, 0xFF, g.bytes);
    memset(g.block + MISC_GUARD_BYTES + g.bytes, MISC_GUARD_BYTE,
           MISC_GUARD_BYTES);
    ck_assert_ok(cnn_tensor_wrap(&g.t, cnn_cpu(), dtype, ndim, dims,
                                 g.block + MISC_GUARD_BYTES, g.bytes));
    return g;
}

/* The tensor's bytes, after checking both guards. */
static inline void *guarded_data(const guarded *g)
{
    for (size_t i = 0; i < MISC_GUARD_BYTES; ++i) {
        ck_assert_msg(g->block[i] == MISC_GUARD_BYTE,
                      "a write before the output");
        ck_assert_msg(g->block[MISC_GUARD_BYTES + g->bytes + i] ==
                          MISC_GUARD_BYTE,
                      "a write past the output");
    }
    return g->block + MISC_GUARD_BYTES;
}

static inline void guarded_free(guarded *g)
{
    cnn_tensor_free(g->t);
    free(g->block);
    g->block = NULL;
    g->t = NULL;
}

/* Runs the CPU device on `threads` threads. Check runs each test in a
 * process of its own, so a test that changes this leaves later tests at
 * the default share of the machine. */
static inline void misc_set_threads(int threads)
{
    ck_assert_ok(cnn_set_threads(cnn_cpu(), threads));
}

#endif /* CNN_TEST_MISC_GUARD_H */
