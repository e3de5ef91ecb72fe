/* src/checked.h - overflow-checked arithmetic for every size, offset and
 * count computed from input (a caller's dims, a file's header, a command
 * line): sums and products of int64_t dimensions and size_t byte counts,
 * element counts times element sizes, ceiling divisions, counts times steps,
 * and the output extent of a sliding window (convolution, pooling) with
 * padding and dilation.
 *
 * Each helper returns true and stores the exact result, or returns false
 * (storing nothing) when the result does not fit: the caller then reports
 * the input as too large. None has undefined behaviour for any argument.
 *
 * Self-contained (only <stdbool.h>, <stddef.h>, <stdint.h>) and header-only,
 * so that the library, its file readers and the cnn program (tools/) share
 * this one set; it declares nothing else of the library. Private: not
 * installed. */
#ifndef CNN_CHECKED_H
#define CNN_CHECKED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* a + b, a - b and a * b in int64_t. */
static inline bool cnn_checked_add_i64(int64_t a, int64_t b, int64_t *out)
{
    if ((b > 0 && a > INT64_MAX - b) || (b < 0 && a < INT64_MIN - b))
        return false;
    *out = a + b;
    return true;
}

static inline bool cnn_checked_sub_i64(int64_t a, int64_t b, int64_t *out)
{
    if ((b < 0 && a > INT64_MAX + b) || (b > 0 && a < INT64_MIN + b))
        return false;
    *out = a - b;
    return true;
}

static inline bool cnn_checked_mul_i64(int64_t a, int64_t b, int64_t *out)
{
#if defined(__GNUC__) || defined(__clang__)
    int64_t r;
    if (__builtin_mul_overflow(a, b, &r))
        return false;
    *out = r;
    return true;
#else
    if (a == 0 || b == 0) {
        *out = 0;
        return true;
    }
    if ((a == -1 && b == INT64_MIN) || (b == -1 && a == INT64_MIN))
        return false;
    if (a > 0 ? (b > 0 ? a > INT64_MAX / b : b < INT64_MIN / a)
              : (b > 0 ? a < INT64_MIN / b : a < INT64_MAX / b))
        return false;
    *out = a * b;
    return true;
#endif
}

/* a + b and a * b in size_t. */
static inline bool cnn_checked_add_size(size_t a, size_t b, size_t *out)
{
    if (a > SIZE_MAX - b)
        return false;
    *out = a + b;
    return true;
}

static inline bool cnn_checked_mul_size(size_t a, size_t b, size_t *out)
{
    if (b != 0 && a > SIZE_MAX / b)
        return false;
    *out = a * b;
    return true;
}

/* The product of v[0..n) (each >= 0; n == 0 gives 1), in int64_t. False
 * also for a negative factor. */
static inline bool cnn_checked_product_i64(const int64_t *v, int n,
                                           int64_t *out)
{
    int64_t p = 1;
    for (int i = 0; i < n; ++i)
        if (v[i] < 0 || !cnn_checked_mul_i64(p, v[i], &p))
            return false;
    *out = p;
    return true;
}

/* count elements of `size` bytes each: the byte count, which must also
 * stay within PTRDIFF_MAX so that pointer differences over it are defined.
 * False for a negative count. */
static inline bool cnn_checked_bytes(int64_t count, size_t size, size_t *out)
{
    size_t bytes;
    if (count < 0 || (uint64_t)count > SIZE_MAX ||
        !cnn_checked_mul_size((size_t)count, size, &bytes) ||
        bytes > (size_t)PTRDIFF_MAX)
        return false;
    *out = bytes;
    return true;
}

/* ceil(a / b) for a >= 0 and b >= 1 (how many batches of b hold a items),
 * without forming a + b - 1. False for a < 0 or b < 1. */
static inline bool cnn_checked_ceil_div_i64(int64_t a, int64_t b,
                                            int64_t *out)
{
    if (a < 0 || b < 1)
        return false;
    *out = a / b + (a % b != 0);
    return true;
}

/* How a sliding window fits an extent (cnn_checked_window). */
typedef enum cnn_window_fit {
    CNN_WINDOW_FITS = 0,
    CNN_WINDOW_TOO_LARGE, /* the dilated kernel exceeds the padded input */
    CNN_WINDOW_OVERFLOW,  /* the padded input or dilated kernel overflows */
    CNN_WINDOW_INVALID    /* in or kernel < 1, stride or dilation < 1, or
                             pad < 0 */
} cnn_window_fit;

/* The output extent of a window of `kernel` taps spaced `dilation` apart,
 * moved by `stride` over `in` values padded by `pad` on both sides:
 *   (in + 2 pad - dilation (kernel - 1) - 1) / stride + 1
 * (convolution; pooling is dilation 1). *out is set only when the window
 * fits. */
static inline cnn_window_fit cnn_checked_window(int64_t in, int64_t kernel,
                                                int64_t stride, int64_t pad,
                                                int64_t dilation,
                                                int64_t *out)
{
    if (in < 1 || kernel < 1 || stride < 1 || pad < 0 || dilation < 1)
        return CNN_WINDOW_INVALID;
    int64_t span, padded;
    if (!cnn_checked_mul_i64(dilation, kernel - 1, &span) ||
        !cnn_checked_add_i64(span, 1, &span) ||
        !cnn_checked_mul_i64(pad, 2, &padded) ||
        !cnn_checked_add_i64(padded, in, &padded))
        return CNN_WINDOW_OVERFLOW;
    if (padded < span)
        return CNN_WINDOW_TOO_LARGE;
    *out = (padded - span) / stride + 1;
    return CNN_WINDOW_FITS;
}

/* Whether [a, a + a_bytes) and [b, b + b_bytes) share a byte. */
static inline bool cnn_ranges_overlap(const void *a, size_t a_bytes,
                                      const void *b, size_t b_bytes)
{
    uintptr_t x = (uintptr_t)a, y = (uintptr_t)b;
    return a_bytes && b_bytes && x < y + b_bytes && y < x + a_bytes;
}

#endif /* CNN_CHECKED_H */
