/* cnn/checkpoint.h - the checkpoint file: named tensors and key/value
 * metadata in one versioned, checksummed, little-endian file
 * (docs/checkpoint.md specifies the format byte by byte).
 *
 * Networks save and load through these calls; they are public so that
 * tools can read and write checkpoints without a network.
 *
 * Saving is atomic: the file is written as "<path>.tmp" in the same
 * folder, flushed to disk, renamed over <path>, and the folder is flushed,
 * so a crash leaves either the old file or the new one.
 *
 * Loading reads and verifies the whole file (magic, version, structure,
 * every tensor's CRC32 and the file's) before it hands anything out, so a
 * truncated or corrupt file is refused before any caller state changes.
 *
 * Ownership: cnn_checkpoint_open hands the caller a checkpoint to free with
 * cnn_checkpoint_close; strings and data pointers it returns belong to it
 * and live until it is closed. Thread safety: a checkpoint may be read
 * from several threads; nothing here is tied to a device lock.
 */
#ifndef CNN_CHECKPOINT_H
#define CNN_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "export.h"
#include "status.h"
#include "tensor.h"

CNN_BEGIN_DECLS

/* The format version this library writes; it reads versions 1 .. this. */
#define CNN_CHECKPOINT_VERSION 1u

/* Writes `count` tensors (any device; read back to the host) under
 * `names` and `meta_count` key/value strings to `path`, atomically. Names
 * and keys are non-empty, at most 255 bytes, unique; values at most 64 KiB.
 * CNN_ERR_INVALID_ARGUMENT for bad names, CNN_ERR_IO when the file cannot
 * be written (the old file, if any, is left as it was). */
CNN_API cnn_status cnn_checkpoint_save(const char *path,
                                       const char *const *meta_keys,
                                       const char *const *meta_values,
                                       int meta_count,
                                       const char *const *names,
                                       const cnn_tensor *const *tensors,
                                       int count);

typedef struct cnn_checkpoint cnn_checkpoint;

/* Reads and verifies a checkpoint. CNN_ERR_IO when it cannot be read;
 * CNN_ERR_FORMAT with a message saying what is wrong (not a checkpoint, a
 * newer version, truncated, a checksum mismatch) and what to do. */
CNN_API cnn_status cnn_checkpoint_open(cnn_checkpoint **out, const char *path);
CNN_API void cnn_checkpoint_close(cnn_checkpoint *ckpt);

CNN_API uint32_t cnn_checkpoint_version(const cnn_checkpoint *ckpt);
/* The value of a metadata key, or NULL when absent. */
CNN_API const char *cnn_checkpoint_meta(const cnn_checkpoint *ckpt,
                                        const char *key);
CNN_API int cnn_checkpoint_meta_count(const cnn_checkpoint *ckpt);
CNN_API int cnn_checkpoint_tensor_count(const cnn_checkpoint *ckpt);
/* The name of tensor i (0 .. count-1), or NULL out of range. */
CNN_API const char *cnn_checkpoint_tensor_name(const cnn_checkpoint *ckpt,
                                               int i);

/* Describes tensor `name`: its dtype, rank and dims (up to CNN_MAX_DIMS).
 * CNN_ERR_INVALID_ARGUMENT when there is no such tensor. Any output may be
 * NULL. */
CNN_API cnn_status cnn_checkpoint_tensor_info(const cnn_checkpoint *ckpt,
                                              const char *name,
                                              cnn_dtype *dtype, int *ndim,
                                              int64_t *dims);

/* Copies tensor `name` into `t` (any device), which must have the same
 * dtype and shape: CNN_ERR_SHAPE or CNN_ERR_INVALID_ARGUMENT otherwise,
 * with t unchanged. */
CNN_API cnn_status cnn_checkpoint_read_tensor(const cnn_checkpoint *ckpt,
                                              const char *name, cnn_tensor *t);

CNN_END_DECLS

#endif /* CNN_CHECKPOINT_H */
