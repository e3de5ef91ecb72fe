/* cnn_emu/types.h - the CUDA runtime's types as the emulation provides
 * them: error codes (the real enum's numeric values, so that names and
 * messages mean the same), dim3 and the vector types with CUDA's
 * alignment, device properties, and the enums the backend passes. */
#ifndef CNN_EMU_TYPES_H
#define CNN_EMU_TYPES_H

#include <stddef.h>
#include <stdint.h>

/* The subset of cudaError_t the emulation returns or the backend names. */
enum cudaError {
    cudaSuccess = 0,
    cudaErrorInvalidValue = 1,
    cudaErrorMemoryAllocation = 2,
    cudaErrorInitializationError = 3,
    cudaErrorInvalidConfiguration = 9,
    cudaErrorInvalidDevicePointer = 17,
    cudaErrorInvalidMemcpyDirection = 21,
    cudaErrorInvalidDeviceFunction = 98,
    cudaErrorNoDevice = 100,
    cudaErrorInvalidDevice = 101,
    cudaErrorECCUncorrectable = 214,
    cudaErrorInvalidResourceHandle = 400,
    cudaErrorNotReady = 600,
    cudaErrorIllegalAddress = 700,
    cudaErrorLaunchOutOfResources = 701,
    cudaErrorAssert = 710,
    cudaErrorHardwareStackError = 714,
    cudaErrorIllegalInstruction = 715,
    cudaErrorMisalignedAddress = 716,
    cudaErrorInvalidAddressSpace = 717,
    cudaErrorInvalidPc = 718,
    cudaErrorLaunchFailure = 719,
    cudaErrorNotSupported = 801,
    cudaErrorUnknown = 999
};
typedef enum cudaError cudaError_t;

enum cudaMemcpyKind {
    cudaMemcpyHostToHost = 0,
    cudaMemcpyHostToDevice = 1,
    cudaMemcpyDeviceToHost = 2,
    cudaMemcpyDeviceToDevice = 3,
    cudaMemcpyDefault = 4
};

enum cudaFuncAttribute {
    cudaFuncAttributeMaxDynamicSharedMemorySize = 8,
    cudaFuncAttributePreferredSharedMemoryCarveout = 9
};

enum cudaDeviceAttr {
    cudaDevAttrMaxThreadsPerBlock = 1,
    cudaDevAttrMaxBlockDimX = 2,
    cudaDevAttrMaxBlockDimY = 3,
    cudaDevAttrMaxBlockDimZ = 4,
    cudaDevAttrMaxGridDimX = 5,
    cudaDevAttrMaxGridDimY = 6,
    cudaDevAttrMaxGridDimZ = 7,
    cudaDevAttrMaxSharedMemoryPerBlock = 8,
    cudaDevAttrTotalConstantMemory = 9,
    cudaDevAttrWarpSize = 10,
    cudaDevAttrMaxRegistersPerBlock = 12,
    cudaDevAttrMultiProcessorCount = 16,
    cudaDevAttrL2CacheSize = 38,
    cudaDevAttrMaxThreadsPerMultiProcessor = 39,
    cudaDevAttrComputeCapabilityMajor = 75,
    cudaDevAttrComputeCapabilityMinor = 76,
    cudaDevAttrMaxSharedMemoryPerMultiprocessor = 81,
    cudaDevAttrMaxSharedMemoryPerBlockOptin = 97
};

#define cudaStreamDefault 0x00u
#define cudaStreamNonBlocking 0x01u
#define cudaEventDefault 0x00u
#define cudaEventBlockingSync 0x01u
#define cudaEventDisableTiming 0x02u
#define cudaHostAllocDefault 0x00u

/* The CUDA runtime API level whose subset is emulated. */
#define CUDART_VERSION 13000

typedef struct cnn_emu_stream *cudaStream_t;
typedef struct cnn_emu_event *cudaEvent_t;

/* The fields of cudaDeviceProp that the emulation fills in. */
struct cudaDeviceProp {
    char name[256];
    size_t totalGlobalMem;
    size_t sharedMemPerBlock;
    int regsPerBlock;
    int warpSize;
    int maxThreadsPerBlock;
    int maxThreadsDim[3];
    int maxGridSize[3];
    size_t totalConstMem;
    int major;
    int minor;
    int multiProcessorCount;
    int maxThreadsPerMultiProcessor;
    size_t sharedMemPerMultiprocessor;
    size_t sharedMemPerBlockOptin;
    int l2CacheSize;
    int unifiedAddressing;
    int concurrentKernels;
};

struct uint3 {
    unsigned int x, y, z;
};

struct dim3 {
    unsigned int x, y, z;
    constexpr dim3(unsigned int vx = 1, unsigned int vy = 1,
                   unsigned int vz = 1)
        : x(vx), y(vy), z(vz)
    {
    }
    constexpr dim3(uint3 v) : x(v.x), y(v.y), z(v.z) {}
    constexpr operator uint3() const { return uint3{x, y, z}; }
};

/* Vector types: the members, CUDA's alignment and make_<type>(...). */
#define CNN_EMU_VECTOR1(name, T, align)                                        \
    struct alignas(align) name {                                               \
        T x;                                                                   \
    };                                                                         \
    static inline name make_##name(T vx) { return name{vx}; }
#define CNN_EMU_VECTOR2(name, T, align)                                        \
    struct alignas(align) name {                                               \
        T x, y;                                                                \
    };                                                                         \
    static inline name make_##name(T vx, T vy) { return name{vx, vy}; }
#define CNN_EMU_VECTOR3(name, T)                                               \
    struct name {                                                              \
        T x, y, z;                                                             \
    };                                                                         \
    static inline name make_##name(T vx, T vy, T vz)                           \
    {                                                                          \
        return name{vx, vy, vz};                                               \
    }
#define CNN_EMU_VECTOR4(name, T, align)                                        \
    struct alignas(align) name {                                               \
        T x, y, z, w;                                                          \
    };                                                                         \
    static inline name make_##name(T vx, T vy, T vz, T vw)                     \
    {                                                                          \
        return name{vx, vy, vz, vw};                                           \
    }

CNN_EMU_VECTOR1(char1, signed char, 1)
CNN_EMU_VECTOR2(char2, signed char, 2)
CNN_EMU_VECTOR4(char4, signed char, 4)
CNN_EMU_VECTOR1(uchar1, unsigned char, 1)
CNN_EMU_VECTOR2(uchar2, unsigned char, 2)
CNN_EMU_VECTOR4(uchar4, unsigned char, 4)
CNN_EMU_VECTOR2(short2, short, 4)
CNN_EMU_VECTOR4(short4, short, 8)
CNN_EMU_VECTOR2(ushort2, unsigned short, 4)
CNN_EMU_VECTOR4(ushort4, unsigned short, 8)
CNN_EMU_VECTOR1(int1, int, 4)
CNN_EMU_VECTOR2(int2, int, 8)
CNN_EMU_VECTOR3(int3, int)
CNN_EMU_VECTOR4(int4, int, 16)
CNN_EMU_VECTOR1(uint1, unsigned int, 4)
CNN_EMU_VECTOR2(uint2, unsigned int, 8)
CNN_EMU_VECTOR4(uint4, unsigned int, 16)
CNN_EMU_VECTOR2(longlong2, long long, 16)
CNN_EMU_VECTOR2(ulonglong2, unsigned long long, 16)
CNN_EMU_VECTOR1(float1, float, 4)
CNN_EMU_VECTOR2(float2, float, 8)
CNN_EMU_VECTOR3(float3, float)
CNN_EMU_VECTOR4(float4, float, 16)
CNN_EMU_VECTOR1(double1, double, 8)
CNN_EMU_VECTOR2(double2, double, 16)

static inline uint3 make_uint3(unsigned int vx, unsigned int vy,
                               unsigned int vz)
{
    return uint3{vx, vy, vz};
}

#undef CNN_EMU_VECTOR1
#undef CNN_EMU_VECTOR2
#undef CNN_EMU_VECTOR3
#undef CNN_EMU_VECTOR4

#endif /* CNN_EMU_TYPES_H */
