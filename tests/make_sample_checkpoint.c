/* tests/make_sample_checkpoint.c - writes the small checkpoint committed as
 * tests/fixtures/sample.ckpt: two tensors and two metadata entries with
 * values that tests/read_checkpoint.py checks. CTest runs it to prove the
 * library still writes that file byte for byte (the format is stable).
 *
 *   make_sample_checkpoint OUT.ckpt */
#include <stdio.h>

#include <cnn/cnn.h>

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: make_sample_checkpoint OUT.ckpt\n");
        return 2;
    }
    const int64_t wd[2] = {2, 3}, bd[1] = {4};
    const float w[6] = {0.5f, -1.0f, 2.0f, 3.25f, -0.125f, 1e-3f};
    const int32_t b[4] = {1, -2, 3, 2147483647};
    cnn_tensor *tw = NULL, *tb = NULL;
    const char *keys[2] = {"model", "step"}, *values[2] = {"sample", "42"};
    const char *names[2] = {"fc.weight", "counts"};
    int rc = 1;
    if (cnn_tensor_create(&tw, cnn_cpu(), CNN_F32, 2, wd) == CNN_OK &&
        cnn_tensor_write(tw, w, sizeof w) == CNN_OK &&
        cnn_tensor_create(&tb, cnn_cpu(), CNN_I32, 1, bd) == CNN_OK &&
        cnn_tensor_write(tb, b, sizeof b) == CNN_OK) {
        const cnn_tensor *tensors[2] = {tw, tb};
        rc = cnn_checkpoint_save(argv[1], keys, values, 2, names, tensors, 2)
                     == CNN_OK ? 0 : 1;
    }
    if (rc)
        fprintf(stderr, "make_sample_checkpoint: %s\n", cnn_last_error());
    cnn_tensor_free(tw);
    cnn_tensor_free(tb);
    return rc;
}
