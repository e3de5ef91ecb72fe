/* cnn_emu/device.h - what a kernel sees: the function qualifiers (empty
 * here), threadIdx, blockIdx, blockDim and gridDim of the running
 * emulated thread, block barriers, warp shuffles and votes, and the hooks
 * behind CNN_SHARED and CNN_DYNAMIC_SHARED (src/cuda/emulable.cuh).
 *
 * Each emulated thread is a fiber; a worker runs the fibers of one block
 * until each finishes or waits (src/cuda/emu/block.cpp). Barriers and warp
 * operations are calls into the emulation that switch fibers, so the
 * compiler cannot keep shared or global memory in registers across them. */
#ifndef CNN_EMU_DEVICE_H
#define CNN_EMU_DEVICE_H

#include <stdint.h>
#include <string.h>

#include "types.h"

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __noinline__ __attribute__((noinline))
#define __launch_bounds__(...)
#define __constant__
#define __align__(n) alignas(n)
/* Static shared memory must be per block and start as NaN in tests, which
 * a storage class cannot give on the host: use CNN_SHARED. */
#define __shared__                                                             \
    _Pragma("GCC error \"__shared__ cannot be emulated: declare static shared memory with CNN_SHARED(T, name, dims) (src/cuda/emulable.cuh)\"")

constexpr int warpSize = 32;

namespace cnn_emu {

/* The built-in variables of the emulated thread that is running. */
struct thread_view {
    uint3 thread_idx;
    uint3 block_idx;
    dim3 block_dim;
    dim3 grid_dim;
};
extern thread_local thread_view *current_view
    __attribute__((visibility("hidden")));

/* Static shared memory: the block's allocation for the declaration at
 * `site` (the first thread to reach it allocates, the others share it). */
void *shared_static(const void *site, size_t bytes, size_t align);
/* The block's dynamic shared memory (the launch's shmem bytes). */
void *shared_dynamic();

enum warp_op { warp_sync, warp_shfl, warp_shfl_up, warp_shfl_down,
               warp_shfl_xor, warp_ballot, warp_any, warp_all };
/* Every lane named in `mask` meets here; returns what `op` gives this
 * lane: another lane's `value` for the shuffles, the vote for the votes. */
uint64_t warp_exchange(warp_op op, unsigned mask, uint64_t value, int lane,
                       int width);
/* Block barrier: returns how many threads passed a nonzero predicate and
 * sets *arrived to how many threads took part (exited ones do not). */
int block_barrier(int predicate, int *arrived);

template <typename T> static inline uint64_t to_bits(T value)
{
    static_assert(sizeof(T) <= sizeof(uint64_t), "shuffles move 8 bytes at most");
    uint64_t bits = 0;
    memcpy(&bits, &value, sizeof value);
    return bits;
}

template <typename T> static inline T from_bits(uint64_t bits)
{
    T value;
    memcpy(&value, &bits, sizeof value);
    return value;
}

} // namespace cnn_emu

#define threadIdx (static_cast<const uint3 &>(::cnn_emu::current_view->thread_idx))
#define blockIdx (static_cast<const uint3 &>(::cnn_emu::current_view->block_idx))
#define blockDim (static_cast<const dim3 &>(::cnn_emu::current_view->block_dim))
#define gridDim (static_cast<const dim3 &>(::cnn_emu::current_view->grid_dim))

static inline void __syncthreads()
{
    int arrived;
    cnn_emu::block_barrier(0, &arrived);
}
static inline int __syncthreads_count(int predicate)
{
    int arrived;
    return cnn_emu::block_barrier(predicate, &arrived);
}
static inline int __syncthreads_and(int predicate)
{
    int arrived;
    return cnn_emu::block_barrier(predicate, &arrived) == arrived;
}
static inline int __syncthreads_or(int predicate)
{
    int arrived;
    return cnn_emu::block_barrier(predicate, &arrived) != 0;
}

static inline void __syncwarp(unsigned mask = 0xffffffffu)
{
    cnn_emu::warp_exchange(cnn_emu::warp_sync, mask, 0, 0, warpSize);
}

template <typename T>
static inline T __shfl_sync(unsigned mask, T var, int src_lane,
                            int width = warpSize)
{
    return cnn_emu::from_bits<T>(cnn_emu::warp_exchange(
        cnn_emu::warp_shfl, mask, cnn_emu::to_bits(var), src_lane, width));
}

template <typename T>
static inline T __shfl_up_sync(unsigned mask, T var, unsigned delta,
                               int width = warpSize)
{
    return cnn_emu::from_bits<T>(cnn_emu::warp_exchange(
        cnn_emu::warp_shfl_up, mask, cnn_emu::to_bits(var), (int)delta, width));
}

template <typename T>
static inline T __shfl_down_sync(unsigned mask, T var, unsigned delta,
                                 int width = warpSize)
{
    return cnn_emu::from_bits<T>(cnn_emu::warp_exchange(
        cnn_emu::warp_shfl_down, mask, cnn_emu::to_bits(var), (int)delta,
        width));
}

template <typename T>
static inline T __shfl_xor_sync(unsigned mask, T var, int lane_mask,
                                int width = warpSize)
{
    return cnn_emu::from_bits<T>(cnn_emu::warp_exchange(
        cnn_emu::warp_shfl_xor, mask, cnn_emu::to_bits(var), lane_mask, width));
}

static inline unsigned __ballot_sync(unsigned mask, int predicate)
{
    return (unsigned)cnn_emu::warp_exchange(cnn_emu::warp_ballot, mask,
                                            predicate != 0, 0, warpSize);
}

static inline int __any_sync(unsigned mask, int predicate)
{
    return (int)cnn_emu::warp_exchange(cnn_emu::warp_any, mask, predicate != 0,
                                       0, warpSize);
}

static inline int __all_sync(unsigned mask, int predicate)
{
    return (int)cnn_emu::warp_exchange(cnn_emu::warp_all, mask, predicate != 0,
                                       0, warpSize);
}

/* The lanes of this warp that have not exited. Fibers do not diverge, so
 * this is not the set of lanes on the same branch that a GPU gives. */
unsigned __activemask();

static inline void __threadfence() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
static inline void __threadfence_block()
{
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
}
static inline void __threadfence_system()
{
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
}

#endif /* CNN_EMU_DEVICE_H */
