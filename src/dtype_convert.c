/* src/dtype_convert.c - converting one host value to a dtype's bits. */
#include <math.h>
#include <string.h>

#include "dtype_convert.h"

static int64_t saturate(double value, double low, double high)
{
    if (isnan(value))
        return 0;
    if (value <= low)
        return (int64_t)low;
    if (value >= high)
        return (int64_t)high;
    return (int64_t)value; /* C truncates toward zero */
}

uint16_t cnn_float_to_bfloat16(float value)
{
    uint32_t bits;
    memcpy(&bits, &value, sizeof bits);
    if (isnan(value))
        return (uint16_t)((bits >> 16) | 0x40u); /* keep it a quiet NaN */
    bits += 0x7FFFu + ((bits >> 16) & 1u);
    return (uint16_t)(bits >> 16);
}

uint16_t cnn_float_to_half(float value)
{
    uint32_t bits;
    memcpy(&bits, &value, sizeof bits);
    uint16_t sign = (uint16_t)((bits >> 16) & 0x8000u);
    uint32_t magnitude = bits & 0x7FFFFFFFu;
    if (magnitude > 0x7F800000u)
        return sign | 0x7E00u; /* NaN */
    if (magnitude >= 0x477FF000u)
        return sign | 0x7C00u; /* rounds to or beyond infinity */
    if (magnitude < 0x38800000u) {
        /* Subnormal half (or zero): value / 2^-24, rounded to even. */
        float scaled = fabsf(value) * 16777216.0f;
        return sign | (uint16_t)nearbyintf(scaled);
    }
    uint32_t mantissa = magnitude & 0x007FFFFFu;
    uint32_t exponent = (magnitude >> 23) - 127 + 15;
    uint32_t half = (exponent << 10) | (mantissa >> 13);
    uint32_t rest = mantissa & 0x1FFFu;
    if (rest > 0x1000u || (rest == 0x1000u && (half & 1u)))
        ++half; /* a carry into the exponent is the right answer too */
    return sign | (uint16_t)half;
}

uint64_t cnn_convert_from_double(cnn_dtype dtype, double value)
{
    switch (dtype) {
    case CNN_F32: {
        float f = (float)value;
        uint32_t bits;
        memcpy(&bits, &f, sizeof bits);
        return bits;
    }
    case CNN_I32:
        return (uint32_t)(int32_t)saturate(value, -2147483648.0, 2147483647.0);
    case CNN_I64:
        if (isnan(value))
            return 0;
        if (value >= 9223372036854775808.0) /* 2^63: past INT64_MAX */
            return (uint64_t)INT64_MAX;
        if (value <= -9223372036854775808.0)
            return (uint64_t)INT64_MIN;
        return (uint64_t)(int64_t)value;
    case CNN_U8:
        return (uint8_t)saturate(value, 0.0, 255.0);
    case CNN_F16:
        return cnn_float_to_half((float)value);
    case CNN_BF16:
        return cnn_float_to_bfloat16((float)value);
    }
    return 0;
}
