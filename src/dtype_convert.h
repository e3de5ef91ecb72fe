/* src/dtype_convert.h - converting one host value to a dtype's bits. */
#ifndef CNN_DTYPE_CONVERT_H
#define CNN_DTYPE_CONVERT_H

#include <stdint.h>

#include "cnn/tensor.h"

/* The bits of `value` as one element of `dtype`, in the low bytes of the
 * result. Integers are rounded toward zero and saturated (NaN gives 0);
 * F16 and BF16 round to nearest even. */
uint64_t cnn_convert_from_double(cnn_dtype dtype, double value);

/* Round-to-nearest-even conversions of one float. */
uint16_t cnn_float_to_half(float value);
uint16_t cnn_float_to_bfloat16(float value);

#endif /* CNN_DTYPE_CONVERT_H */
