/* src/checkpoint_read.c - reading a checkpoint file (docs/checkpoint.md).
 * The whole file is read and every byte checked (the file's CRC, then the
 * structure with bounds on every field, then each tensor's CRC) before any
 * of it is handed out, so callers that load only from an open checkpoint
 * never see half a file. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "checkpoint_format.h"
#include "core.h"

typedef struct entry {
    char *name;
    cnn_dtype dtype;
    int ndim;
    int64_t dims[CNN_MAX_DIMS];
    const unsigned char *data;
    uint64_t bytes;
} entry;

struct cnn_checkpoint {
    unsigned char *file;
    size_t size;
    uint32_t version;
    int meta_count, tensor_count;
    char **keys, **values;
    entry *tensors;
};

/* A bounds-checked cursor over the file. */
typedef struct cursor {
    const unsigned char *p, *end;
    bool bad;
} cursor;

static uint64_t take_le(cursor *c, int bytes)
{
    if (c->bad || c->end - c->p < bytes) {
        c->bad = true;
        return 0;
    }
    uint64_t v = 0;
    for (int i = 0; i < bytes; ++i)
        v |= (uint64_t)c->p[i] << (8 * i);
    c->p += bytes;
    return v;
}

/* A string of `len` bytes as a new NUL-terminated copy. */
static char *take_string(cursor *c, uint64_t len, uint64_t max)
{
    if (c->bad || len > max || (uint64_t)(c->end - c->p) < len) {
        c->bad = true;
        return NULL;
    }
    char *s = malloc(len + 1);
    if (!s) {
        c->bad = true;
        return NULL;
    }
    memcpy(s, c->p, len);
    s[len] = '\0';
    c->p += len;
    return s;
}

static cnn_status read_whole(const char *caller, const char *path,
                             unsigned char **data, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return cnn_error(CNN_ERR_IO, "%s: cannot open %s: %s", caller, path,
                         strerror(errno));
    /* Only a regular file has a size to ask for: a folder would report
     * about 2^63 bytes, a pipe or a device none that means anything. */
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        bool folder = S_ISDIR(st.st_mode);
        fclose(f);
        return cnn_error(CNN_ERR_IO, "%s: %s is %s, not a checkpoint file",
                         caller, path, folder ? "a directory"
                                              : "not a regular file");
    }
    long length = -1;
    if (fseek(f, 0, SEEK_END) == 0)
        length = ftell(f);
    if (length < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return cnn_error(CNN_ERR_IO, "%s: cannot read %s", caller, path);
    }
    *data = malloc(length > 0 ? (size_t)length : 1);
    if (!*data) {
        fclose(f);
        return cnn_error(CNN_ERR_OUT_OF_MEMORY,
                         "%s: no memory for the %ld bytes of %s", caller,
                         length, path);
    }
    size_t got = fread(*data, 1, (size_t)length, f);
    fclose(f);
    if (got != (size_t)length) {
        free(*data);
        return cnn_error(CNN_ERR_IO, "%s: cannot read %s", caller, path);
    }
    *size = got;
    return CNN_OK;
}

/* Parses the verified bytes; returns a FORMAT message on any inconsistency. */
static cnn_status parse(const char *caller, const char *path,
                        cnn_checkpoint *ck)
{
    cursor c = {ck->file + 8, ck->file + ck->size - 4, false};
    ck->version = (uint32_t)take_le(&c, 4);
    take_le(&c, 4); /* flags: none defined in version 1 */
    uint64_t metas = take_le(&c, 4), tensors = take_le(&c, 4);
    if (ck->version == 0) /* no cnn ever wrote it: not a newer format */
        return cnn_error(CNN_ERR_FORMAT,
                         "%s: %s claims checkpoint format version 0, which "
                         "does not exist (versions start at 1): the file is "
                         "corrupt or was not written by cnn", caller, path);
    if (ck->version > CNN_CHECKPOINT_VERSION)
        return cnn_error(CNN_ERR_FORMAT,
                         "%s: %s has checkpoint format version %u but this "
                         "cnn reads versions 1 to %u; load it with a newer cnn",
                         caller, path, ck->version, CNN_CHECKPOINT_VERSION);
    /* Each entry takes at least 6 (metadata) or 30 (tensor) bytes: counts
     * beyond what the file could hold are corrupt. */
    if (metas > ck->size / 6 || tensors > ck->size / 30)
        return cnn_error(CNN_ERR_FORMAT, "%s: %s has impossible entry counts",
                         caller, path);
    ck->keys = calloc(metas + 1, sizeof *ck->keys);
    ck->values = calloc(metas + 1, sizeof *ck->values);
    ck->tensors = calloc(tensors + 1, sizeof *ck->tensors);
    if (!ck->keys || !ck->values || !ck->tensors)
        return cnn_error(CNN_ERR_OUT_OF_MEMORY, "%s: no memory", caller);
    for (uint64_t i = 0; i < metas && !c.bad; ++i) {
        ck->keys[i] = take_string(&c, take_le(&c, 2), CKPT_MAX_NAME);
        ck->values[i] = take_string(&c, take_le(&c, 4), CKPT_MAX_VALUE);
        ck->meta_count = (int)i + 1;
    }
    for (uint64_t i = 0; i < tensors && !c.bad; ++i) {
        entry *e = &ck->tensors[i];
        e->name = take_string(&c, take_le(&c, 2), CKPT_MAX_NAME);
        ck->tensor_count = (int)i + 1;
        uint64_t dtype = take_le(&c, 4), ndim = take_le(&c, 4);
        if (c.bad || dtype >= CNN_DTYPE_COUNT || ndim < 1 ||
            ndim > CNN_MAX_DIMS)
            return cnn_error(CNN_ERR_FORMAT,
                             "%s: %s: tensor %llu has a bad dtype or rank",
                             caller, path, (unsigned long long)i);
        e->dtype = (cnn_dtype)dtype;
        e->ndim = (int)ndim;
        uint64_t numel = 1;
        for (int d = 0; d < e->ndim; ++d) {
            e->dims[d] = (int64_t)take_le(&c, 8);
            if (e->dims[d] < 1 || (uint64_t)e->dims[d] > ck->size)
                c.bad = true;
            else
                numel *= (uint64_t)e->dims[d];
            if (numel > ck->size) /* cannot fit in the file */
                c.bad = true;
        }
        uint64_t offset = take_le(&c, 8), bytes = take_le(&c, 8);
        uint32_t crc = (uint32_t)take_le(&c, 4);
        if (c.bad || bytes != numel * cnn_dtype_size(e->dtype) ||
            offset % CKPT_ALIGN || offset > ck->size - 4 ||
            bytes > ck->size - 4 - offset)
            return cnn_error(CNN_ERR_FORMAT,
                             "%s: %s: tensor '%s' has a bad shape, offset or "
                             "size", caller, path, e->name ? e->name : "?");
        e->data = ck->file + offset;
        e->bytes = bytes;
        if (cnn_ckpt_crc(0, e->data, bytes) != crc)
            return cnn_error(CNN_ERR_FORMAT,
                             "%s: %s: the data of tensor '%s' fails its "
                             "checksum (the file is corrupt)", caller, path,
                             e->name);
        for (uint64_t j = 0; j < i; ++j)
            if (strcmp(ck->tensors[j].name, e->name) == 0)
                return cnn_error(CNN_ERR_FORMAT,
                                 "%s: %s names tensor '%s' twice", caller,
                                 path, e->name);
    }
    if (c.bad)
        return cnn_error(CNN_ERR_FORMAT,
                         "%s: %s is malformed (an entry runs past the end of "
                         "its table)", caller, path);
    return CNN_OK;
}

cnn_status cnn_checkpoint_open(cnn_checkpoint **out, const char *path)
{
    static const char caller[] = "cnn_checkpoint_open";
    if (!out)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT, "%s: out is NULL", caller);
    *out = NULL;
    if (!path)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT, "%s: path is NULL", caller);
    cnn_checkpoint *ck = calloc(1, sizeof *ck);
    if (!ck)
        return cnn_error(CNN_ERR_OUT_OF_MEMORY, "%s: no memory", caller);
    cnn_status s = read_whole(caller, path, &ck->file, &ck->size);
    if (s == CNN_OK && (ck->size < 8 || memcmp(ck->file, CKPT_MAGIC, 8) != 0))
        s = cnn_error(CNN_ERR_FORMAT,
                      "%s: %s is not a cnn checkpoint (no CNNCKPT magic)",
                      caller, path);
    if (s == CNN_OK && ck->size < CKPT_HEADER_BYTES + 4)
        s = cnn_error(CNN_ERR_FORMAT, "%s: %s is truncated (%zu bytes)",
                      caller, path, ck->size);
    if (s == CNN_OK) {
        const unsigned char *tail = ck->file + ck->size - 4;
        uint32_t stored = (uint32_t)tail[0] | (uint32_t)tail[1] << 8 |
                          (uint32_t)tail[2] << 16 | (uint32_t)tail[3] << 24;
        if (cnn_ckpt_crc(0, ck->file, ck->size - 4) != stored)
            s = cnn_error(CNN_ERR_FORMAT,
                          "%s: %s fails its checksum: the file is truncated "
                          "or corrupt; use another checkpoint", caller, path);
    }
    if (s == CNN_OK)
        s = parse(caller, path, ck);
    if (s != CNN_OK) {
        cnn_checkpoint_close(ck);
        return s;
    }
    *out = ck;
    return CNN_OK;
}

void cnn_checkpoint_close(cnn_checkpoint *ck)
{
    if (!ck)
        return;
    for (int i = 0; i < ck->meta_count; ++i) {
        free(ck->keys[i]);
        free(ck->values[i]);
    }
    for (int i = 0; i < ck->tensor_count; ++i)
        free(ck->tensors[i].name);
    free(ck->keys);
    free(ck->values);
    free(ck->tensors);
    free(ck->file);
    free(ck);
}

uint32_t cnn_checkpoint_version(const cnn_checkpoint *ck)
{
    return ck ? ck->version : 0;
}

int cnn_checkpoint_meta_count(const cnn_checkpoint *ck)
{
    return ck ? ck->meta_count : 0;
}

int cnn_checkpoint_tensor_count(const cnn_checkpoint *ck)
{
    return ck ? ck->tensor_count : 0;
}

const char *cnn_checkpoint_meta(const cnn_checkpoint *ck, const char *key)
{
    for (int i = 0; ck && key && i < ck->meta_count; ++i)
        if (strcmp(ck->keys[i], key) == 0)
            return ck->values[i];
    return NULL;
}

const char *cnn_checkpoint_tensor_name(const cnn_checkpoint *ck, int i)
{
    return ck && i >= 0 && i < ck->tensor_count ? ck->tensors[i].name : NULL;
}

static const entry *find(const cnn_checkpoint *ck, const char *name)
{
    for (int i = 0; ck && name && i < ck->tensor_count; ++i)
        if (strcmp(ck->tensors[i].name, name) == 0)
            return &ck->tensors[i];
    return NULL;
}

cnn_status cnn_checkpoint_tensor_info(const cnn_checkpoint *ck,
                                      const char *name, cnn_dtype *dtype,
                                      int *ndim, int64_t *dims)
{
    const entry *e = find(ck, name);
    if (!e)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                         "cnn_checkpoint_tensor_info: no tensor '%s'",
                         name ? name : "(NULL)");
    if (dtype)
        *dtype = e->dtype;
    if (ndim)
        *ndim = e->ndim;
    if (dims)
        memcpy(dims, e->dims, (size_t)e->ndim * sizeof *dims);
    return CNN_OK;
}

cnn_status cnn_checkpoint_read_tensor(const cnn_checkpoint *ck,
                                      const char *name, cnn_tensor *t)
{
    static const char caller[] = "cnn_checkpoint_read_tensor";
    const entry *e = find(ck, name);
    if (!e)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT, "%s: no tensor '%s'",
                         caller, name ? name : "(NULL)");
    if (!t)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT, "%s: t is NULL", caller);
    if (t->dtype != e->dtype)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                         "%s: '%s' is %s in the file but the tensor is %s",
                         caller, name, cnn_dtype_name(e->dtype),
                         cnn_dtype_name(t->dtype));
    bool same = t->ndim == e->ndim;
    for (int d = 0; same && d < e->ndim; ++d)
        same = t->dims[d] == e->dims[d];
    if (!same)
        return cnn_error(CNN_ERR_SHAPE,
                         "%s: '%s' has another shape in the file than the "
                         "tensor it is loaded into", caller, name);
    return cnn_tensor_write(t, e->data, (size_t)e->bytes);
}
