/* src/checkpoint_format.h - constants of the checkpoint file shared by its
 * writer and reader (docs/checkpoint.md is the specification). */
#ifndef CNN_CHECKPOINT_FORMAT_H
#define CNN_CHECKPOINT_FORMAT_H

#include <stddef.h>
#include <stdint.h>
#include <zlib.h>

#define CKPT_MAGIC "CNNCKPT"  /* with its NUL: the first 8 bytes */
#define CKPT_HEADER_BYTES 24  /* magic, version, flags, meta and tensor counts */
#define CKPT_ALIGN 64         /* tensor data offsets are multiples of this */
#define CKPT_MAX_NAME 255     /* bytes in a name or a metadata key */
#define CKPT_MAX_VALUE (64 * 1024) /* bytes in a metadata value */

/* CRC-32 (zlib's polynomial) of n bytes, continuing from crc. */
static inline uint32_t cnn_ckpt_crc(uint32_t crc, const unsigned char *p,
                                    size_t n)
{
    while (n > 0) { /* zlib takes at most UINT_MAX bytes per call */
        size_t chunk = n > ((size_t)1 << 30) ? ((size_t)1 << 30) : n;
        crc = (uint32_t)crc32(crc, p, (uInt)chunk);
        p += chunk;
        n -= chunk;
    }
    return crc;
}

#endif /* CNN_CHECKPOINT_FORMAT_H */
