/* tests/cli_fixture.c - writes the inputs of the cnn program's hostile-input
 * tests (tests/cli_hostile.cmake), through the public API only.
 *
 *   cli_fixture idx DIR TRAIN TEST BAD_LABEL
 *       an MNIST-like IDX data set in DIR (the four files `cnn train
 *       --data DIR` reads): TRAIN and TEST 28x28 images with labels i % 10,
 *       except that the last test label is BAD_LABEL when it is >= 0
 *   cli_fixture meta IN OUT KEY VALUE
 *       rewrites the checkpoint IN (one `cnn train` wrote) as OUT with its
 *       metadata KEY set to VALUE */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cnn/cnn.h>

static void put_u32(FILE *f, uint32_t v)
{
    const unsigned char b[4] = {(unsigned char)(v >> 24),
                                (unsigned char)(v >> 16),
                                (unsigned char)(v >> 8), (unsigned char)v};
    fwrite(b, 1, 4, f);
}

/* One images file and one labels file of `count` samples. */
static int write_idx(const char *dir, const char *prefix, int count, int bad)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s-images-idx3-ubyte", dir, prefix);
    FILE *f = fopen(path, "wb");
    if (!f)
        return 1;
    put_u32(f, 0x00000803);
    put_u32(f, (uint32_t)count);
    put_u32(f, 28);
    put_u32(f, 28);
    for (int i = 0; i < count; ++i) /* a bright band whose row is the class */
        for (int p = 0; p < 28 * 28; ++p)
            fputc(p / 28 / 2 == i % 10 ? 255 : (p * 7 + i) % 32, f);
    if (fclose(f) != 0)
        return 1;
    snprintf(path, sizeof path, "%s/%s-labels-idx1-ubyte", dir, prefix);
    f = fopen(path, "wb");
    if (!f)
        return 1;
    put_u32(f, 0x00000801);
    put_u32(f, (uint32_t)count);
    for (int i = 0; i < count; ++i)
        fputc(i == count - 1 && bad >= 0 ? bad : i % 10, f);
    return fclose(f) != 0;
}

static int rewrite_meta(const char *in, const char *out, const char *key,
                        const char *value)
{
    static const char *const keys[] = {"model", "epoch", "next_batch",
                                       "step",  "seed",  "batch"};
    enum { KEYS = 6 };
    cnn_checkpoint *ck = NULL;
    if (cnn_checkpoint_open(&ck, in) != CNN_OK)
        return 1;
    const char *values[KEYS];
    for (int k = 0; k < KEYS; ++k) {
        values[k] = strcmp(keys[k], key) == 0 ? value
                                              : cnn_checkpoint_meta(ck, keys[k]);
        if (!values[k])
            values[k] = "0";
    }
    int count = cnn_checkpoint_tensor_count(ck);
    const char **names = calloc((size_t)count + 1, sizeof *names);
    cnn_tensor **tensors = calloc((size_t)count + 1, sizeof *tensors);
    int rc = !names || !tensors;
    for (int i = 0; i < count && !rc; ++i) {
        cnn_dtype dtype;
        int ndim;
        int64_t dims[CNN_MAX_DIMS];
        names[i] = cnn_checkpoint_tensor_name(ck, i);
        rc = cnn_checkpoint_tensor_info(ck, names[i], &dtype, &ndim, dims) !=
                 CNN_OK ||
             cnn_tensor_create(&tensors[i], cnn_cpu(), dtype, ndim, dims) !=
                 CNN_OK ||
             cnn_checkpoint_read_tensor(ck, names[i], tensors[i]) != CNN_OK;
    }
    if (!rc)
        rc = cnn_checkpoint_save(out, (const char *const *)keys, values, KEYS,
                                 names, (const cnn_tensor *const *)tensors,
                                 count) != CNN_OK;
    for (int i = 0; tensors && i < count; ++i)
        cnn_tensor_free(tensors[i]);
    free(tensors);
    free(names);
    cnn_checkpoint_close(ck);
    return rc;
}

int main(int argc, char **argv)
{
    int rc = 2;
    if (argc == 6 && strcmp(argv[1], "idx") == 0)
        rc = write_idx(argv[2], "train", atoi(argv[3]), -1) ||
             write_idx(argv[2], "t10k", atoi(argv[4]), atoi(argv[5]));
    else if (argc == 6 && strcmp(argv[1], "meta") == 0)
        rc = rewrite_meta(argv[2], argv[3], argv[4], argv[5]);
    else
        fprintf(stderr, "usage: cli_fixture idx DIR TRAIN TEST BAD_LABEL\n"
                        "       cli_fixture meta IN OUT KEY VALUE\n");
    if (rc == 1)
        fprintf(stderr, "cli_fixture %s: failed: %s\n", argv[1],
                cnn_last_error());
    return rc;
}
