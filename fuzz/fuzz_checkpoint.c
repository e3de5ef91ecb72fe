/* fuzz/fuzz_checkpoint.c - the checkpoint reader: the input is a
 * checkpoint file; every tensor of one that opens is described and read
 * into a CPU tensor of its shape (when it is under 16 MiB). */
#include <stdint.h>
#include <stdlib.h>

#include <cnn/cnn.h>

#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = cnn_fuzz_write(0, "input.ckpt", data, size);
    cnn_checkpoint *ckpt = NULL;
    if (cnn_checkpoint_open(&ckpt, path) != CNN_OK)
        return 0;
    for (int i = 0; i < cnn_checkpoint_meta_count(ckpt); ++i)
        (void)cnn_checkpoint_meta(ckpt, "model");
    int count = cnn_checkpoint_tensor_count(ckpt);
    for (int i = 0; i < count; ++i) {
        const char *name = cnn_checkpoint_tensor_name(ckpt, i);
        cnn_dtype dtype;
        int ndim = 0;
        int64_t dims[CNN_MAX_DIMS];
        if (!name ||
            cnn_checkpoint_tensor_info(ckpt, name, &dtype, &ndim, dims) !=
                CNN_OK)
            abort(); /* every listed tensor must be described */
        int64_t n = 1;
        for (int d = 0; d < ndim && n > 0; ++d)
            n = dims[d] > 0 && dims[d] <= (4 << 20) / n ? n * dims[d] : -1;
        cnn_tensor *t = NULL;
        if (n > 0 && cnn_tensor_create(&t, cnn_cpu(), dtype, ndim, dims) ==
                         CNN_OK)
            (void)cnn_checkpoint_read_tensor(ckpt, name, t);
        cnn_tensor_free(t);
    }
    cnn_checkpoint_close(ckpt);
    return 0;
}
