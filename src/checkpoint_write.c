/* src/checkpoint_write.c - writing a checkpoint file (docs/checkpoint.md)
 * atomically: assembled in memory, written to a temporary file, flushed,
 * renamed over the old one. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checked.h"
#include "checkpoint_format.h"
#include "core.h"

/* ---------------------------------------------------------------- writing */

typedef struct buffer {
    unsigned char *data;
    size_t used, capacity;
    bool failed;
} buffer;

static void put(buffer *b, const void *p, size_t n)
{
    if (b->failed)
        return;
    size_t need;
    if (!cnn_checked_add_size(b->used, n, &need)) {
        b->failed = true;
        return;
    }
    if (need > b->capacity) {
        size_t capacity = b->capacity ? b->capacity : 4096;
        while (capacity < need)
            if (!cnn_checked_mul_size(capacity, 2, &capacity)) {
                capacity = need; /* no doubling left: exactly enough */
                break;
            }
        unsigned char *bigger = realloc(b->data, capacity);
        if (!bigger) {
            b->failed = true;
            return;
        }
        b->data = bigger;
        b->capacity = capacity;
    }
    memcpy(b->data + b->used, p, n);
    b->used += n;
}

/* Little-endian integers, whatever the host. */
static void store_le(unsigned char *p, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; ++i)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void put_le(buffer *b, uint64_t v, int bytes)
{
    unsigned char p[8];
    store_le(p, v, bytes);
    put(b, p, (size_t)bytes);
}

static void pad_to(buffer *b, size_t align)
{
    static const unsigned char zeros[CKPT_ALIGN];
    put(b, zeros, (align - b->used % align) % align);
}

static cnn_status check_name(const char *caller, const char *what, int i,
                             const char *const *names, int count)
{
    const char *name = names[i];
    if (!name || !name[0] || strlen(name) > CKPT_MAX_NAME)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                         "%s: %s %d is NULL, empty or longer than %d bytes",
                         caller, what, i, CKPT_MAX_NAME);
    for (int j = 0; j < i; ++j)
        if (strcmp(names[j], name) == 0)
            return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                             "%s: %s '%s' appears twice", caller, what, name);
    (void)count;
    return CNN_OK;
}

/* Writes the whole buffer to path's temporary file, flushes it to disk,
 * renames it over path and flushes the folder. */
static cnn_status write_atomically(const char *caller, const char *path,
                                   const buffer *b)
{
    char tmp[PATH_MAX];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT, "%s: path is too long",
                         caller);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return cnn_error(CNN_ERR_IO, "%s: cannot create %s: %s", caller, tmp,
                         strerror(errno));
    size_t done = 0;
    while (done < b->used) {
        ssize_t n = write(fd, b->data + done, b->used - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int err = errno;
            close(fd);
            unlink(tmp);
            return cnn_error(CNN_ERR_IO, "%s: cannot write %s: %s", caller,
                             tmp, strerror(err));
        }
        done += (size_t)n;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        int err = errno;
        unlink(tmp);
        return cnn_error(CNN_ERR_IO, "%s: cannot flush %s: %s", caller, tmp,
                         strerror(err));
    }
    if (rename(tmp, path) != 0) {
        int err = errno;
        unlink(tmp);
        return cnn_error(CNN_ERR_IO, "%s: cannot rename %s to %s: %s", caller,
                         tmp, path, strerror(err));
    }
    /* Make the rename itself durable. */
    char folder[PATH_MAX];
    snprintf(folder, sizeof folder, "%s", path);
    char *slash = strrchr(folder, '/');
    if (slash)
        *(slash == folder ? slash + 1 : slash) = '\0';
    else
        snprintf(folder, sizeof folder, ".");
    int dir = open(folder, O_RDONLY);
    if (dir >= 0) {
        fsync(dir);
        close(dir);
    }
    return CNN_OK;
}

cnn_status cnn_checkpoint_save(const char *path, const char *const *meta_keys,
                               const char *const *meta_values, int meta_count,
                               const char *const *names,
                               const cnn_tensor *const *tensors, int count)
{
    static const char caller[] = "cnn_checkpoint_save";
    if (!path)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT, "%s: path is NULL", caller);
    if (meta_count < 0 || count < 0 || (meta_count && (!meta_keys ||
        !meta_values)) || (count && (!names || !tensors)))
        return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                         "%s: bad counts or NULL arrays", caller);
    cnn_status s = CNN_OK;
    for (int i = 0; i < meta_count && s == CNN_OK; ++i) {
        s = check_name(caller, "metadata key", i, meta_keys, meta_count);
        if (s == CNN_OK && (!meta_values[i] ||
                            strlen(meta_values[i]) > CKPT_MAX_VALUE))
            s = cnn_error(CNN_ERR_INVALID_ARGUMENT,
                          "%s: the value of '%s' is NULL or over %d bytes",
                          caller, meta_keys[i], CKPT_MAX_VALUE);
    }
    for (int i = 0; i < count && s == CNN_OK; ++i) {
        s = check_name(caller, "tensor name", i, names, count);
        if (s == CNN_OK && !tensors[i])
            s = cnn_error(CNN_ERR_INVALID_ARGUMENT, "%s: tensor '%s' is NULL",
                          caller, names[i]);
    }
    if (s != CNN_OK)
        return s;

    /* The data offsets follow from the header's size, so lay the header
     * out first with placeholder offsets, then patch them. */
    buffer b = {0};
    put(&b, CKPT_MAGIC, 8);
    put_le(&b, CNN_CHECKPOINT_VERSION, 4);
    put_le(&b, 0, 4); /* flags */
    put_le(&b, (uint32_t)meta_count, 4);
    put_le(&b, (uint32_t)count, 4);
    for (int i = 0; i < meta_count; ++i) {
        put_le(&b, (uint32_t)strlen(meta_keys[i]), 2);
        put(&b, meta_keys[i], strlen(meta_keys[i]));
        put_le(&b, (uint32_t)strlen(meta_values[i]), 4);
        put(&b, meta_values[i], strlen(meta_values[i]));
    }
    size_t *patch = calloc((size_t)(count ? count : 1), sizeof *patch);
    if (!patch)
        b.failed = true;
    for (int i = 0; i < count && !b.failed; ++i) {
        const cnn_tensor *t = tensors[i];
        put_le(&b, (uint32_t)strlen(names[i]), 2);
        put(&b, names[i], strlen(names[i]));
        put_le(&b, (uint32_t)t->dtype, 4);
        put_le(&b, (uint32_t)t->ndim, 4);
        for (int d = 0; d < t->ndim; ++d)
            put_le(&b, (uint64_t)t->dims[d], 8);
        patch[i] = b.used;
        put_le(&b, 0, 8); /* offset, patched below */
        put_le(&b, (uint64_t)t->bytes, 8);
        put_le(&b, 0, 4); /* crc32, patched below */
    }
    for (int i = 0; i < count && !b.failed && s == CNN_OK; ++i) {
        pad_to(&b, CKPT_ALIGN);
        size_t offset = b.used, bytes = tensors[i]->bytes;
        unsigned char *data = malloc(bytes);
        if (!data) {
            b.failed = true;
            break;
        }
        s = cnn_tensor_read(tensors[i], data, bytes); /* from any device */
        if (s == CNN_OK) {
            put(&b, data, bytes);
            if (!b.failed) { /* fill in the table entry's offset and crc */
                store_le(b.data + patch[i], offset, 8);
                store_le(b.data + patch[i] + 16, cnn_ckpt_crc(0, data, bytes), 4);
            }
        }
        free(data);
    }
    free(patch);
    if (s == CNN_OK && !b.failed)
        put_le(&b, cnn_ckpt_crc(0, b.data, b.used), 4); /* the whole file's */
    if (s == CNN_OK && b.failed)
        s = cnn_error(CNN_ERR_OUT_OF_MEMORY,
                      "%s: no host memory to assemble the checkpoint", caller);
    if (s == CNN_OK)
        s = write_atomically(caller, path, &b);
    else if (s != CNN_ERR_OUT_OF_MEMORY)
        cnn_error_prefix(caller, s);
    free(b.data);
    return s;
}
