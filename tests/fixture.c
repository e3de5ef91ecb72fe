/* tests/fixture.c - reads the PyTorch fixtures in tests/fixtures. */
#include "fixture.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef CNN_FIXTURE_DIR
#error "CNN_FIXTURE_DIR must name the tests/fixtures folder"
#endif

struct cnn_fixture {
    unsigned char *bytes;
    int count;
    cnn_fixture_tensor *tensors;
};

static int take(const unsigned char **p, const unsigned char *end, void *out,
                size_t n)
{
    if ((size_t)(end - *p) < n)
        return 0;
    memcpy(out, *p, n);
    *p += n;
    return 1;
}

cnn_fixture *cnn_fixture_load(const char *file)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", CNN_FIXTURE_DIR, file);
    FILE *fp = fopen(path, "rb");
    ck_assert_msg(fp != NULL, "cannot open fixture %s", path);
    fseek(fp, 0, SEEK_END);
    long size = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    cnn_fixture *f = calloc(1, sizeof *f);
    f->bytes = malloc((size_t)size);
    ck_assert(fread(f->bytes, 1, (size_t)size, fp) == (size_t)size);
    fclose(fp);
    const unsigned char *p = f->bytes, *end = f->bytes + size;
    char magic[8];
    uint32_t count = 0;
    ck_assert_msg(take(&p, end, magic, 8) && memcmp(magic, "CNNFIX1", 8) == 0,
                  "%s is not a fixture file", path);
    ck_assert(take(&p, end, &count, 4));
    f->count = (int)count;
    f->tensors = calloc(count ? count : 1, sizeof *f->tensors);
    for (uint32_t i = 0; i < count; ++i) {
        cnn_fixture_tensor *t = &f->tensors[i];
        uint32_t name_len, dtype, ndim;
        ck_assert(take(&p, end, &name_len, 4) && (size_t)(end - p) > name_len);
        char *name = malloc(name_len + 1);
        memcpy(name, p, name_len);
        name[name_len] = '\0';
        p += name_len;
        t->name = name;
        ck_assert(take(&p, end, &dtype, 4) && take(&p, end, &ndim, 4));
        ck_assert_msg(dtype <= 1 && ndim <= 8, "%s: bad tensor header", path);
        t->is_int = (int)dtype;
        t->ndim = (int)ndim;
        t->numel = 1;
        for (uint32_t d = 0; d < ndim; ++d) {
            ck_assert(take(&p, end, &t->dims[d], 8));
            t->numel *= t->dims[d];
        }
        size_t bytes = (size_t)t->numel * 4;
        ck_assert_msg((size_t)(end - p) >= bytes, "%s: truncated", path);
        void *data = malloc(bytes ? bytes : 1); /* aligned, unlike the file */
        memcpy(data, p, bytes);
        t->data = data;
        p += bytes;
    }
    return f;
}

void cnn_fixture_free(cnn_fixture *f)
{
    if (!f)
        return;
    for (int i = 0; i < f->count; ++i) {
        free((char *)f->tensors[i].name);
        free((void *)f->tensors[i].data);
    }
    free(f->tensors);
    free(f->bytes);
    free(f);
}

const cnn_fixture_tensor *cnn_fixture_get(const cnn_fixture *f,
                                          const char *name)
{
    for (int i = 0; i < f->count; ++i)
        if (strcmp(f->tensors[i].name, name) == 0)
            return &f->tensors[i];
    ck_abort_msg("fixture has no tensor '%s'", name);
    return NULL;
}

const float *cnn_fixture_floats(const cnn_fixture *f, const char *name)
{
    const cnn_fixture_tensor *t = cnn_fixture_get(f, name);
    ck_assert_msg(!t->is_int, "fixture tensor '%s' is int32", name);
    return t->data;
}
