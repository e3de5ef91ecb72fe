/* src/cuda/emu/internal.h - what the parts of the CUDA emulation share:
 * the device's limits, its lock and error state (runtime.cpp, errors.cpp),
 * device memory (memory.cpp), and the launch machinery (launch.cpp runs a
 * launch, workers.cpp spreads its blocks over threads, block.cpp runs the
 * threads of one block as fibers). */
#ifndef CNN_EMU_INTERNAL_H
#define CNN_EMU_INTERNAL_H

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "cuda_runtime.h"

namespace cnn_emu {

/* The limits of an sm_90 GPU (H100), enforced as the hardware does. */
constexpr unsigned max_block_threads = 1024;
constexpr unsigned max_block_x = 1024, max_block_y = 1024, max_block_z = 64;
constexpr unsigned max_grid_x = 2147483647u, max_grid_y = 65535, max_grid_z = 65535;
constexpr size_t default_shared_limit = 48 * 1024; /* static, and default dynamic */
constexpr size_t optin_shared_limit = 232448;       /* 227 KiB with opt-in */
constexpr size_t device_memory_limit = (size_t)8 << 30;
constexpr size_t allocation_alignment = 256; /* as cudaMalloc */

/* ---- device state (runtime.cpp) */

/* Held by every runtime call and for the whole of a launch: the emulated
 * device does one thing at a time. */
std::mutex &device_mutex();
bool check_mode();
int worker_count();
/* cudaSuccess, or the sticky error that ended the device's usefulness. */
cudaError_t sticky_error();
/* Records `error` with its report: sticky errors for every later call,
 * others as this host thread's pending error (cudaGetLastError) unless
 * `pending` is false. Returns `error`. */
cudaError_t record_error(cudaError_t error, const std::string &report,
                         bool pending = true);
cudaError_t record_errorf(cudaError_t error, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Forgets the sticky error and this thread's errors (cudaDeviceReset). */
void clear_errors();
/* Whether `stream` is 0 or a stream that exists. */
bool stream_valid(cudaStream_t stream);
/* The dynamic shared memory limit set for `kernel` (0: not set). */
size_t kernel_dynamic_limit(uintptr_t kernel);
void reset_streams_events_attributes();

/* ---- device memory (memory.cpp); the device mutex is held */

struct allocation {
    unsigned char *mapping = nullptr; /* guard pages, data pages, guard pages */
    size_t mapping_size = 0;
    unsigned char *data = nullptr; /* the data pages */
    size_t data_size = 0;
    unsigned char *user = nullptr; /* what cudaMalloc returned */
    size_t bytes = 0;              /* what was asked for */
};
/* Live allocations by address. */
const std::map<uintptr_t, allocation> &allocations();
/* Checks the canary bytes around every allocation; false with a report
 * when a launch of `kernel` wrote into one. */
bool canaries_intact(const char *kernel, std::string &report);
/* Says what `address` is: "4 bytes past the end of the allocation ..." */
std::string describe_address(const void *address);
void free_all_allocations();
/* Check mode: makes device memory read-only (closing what the host opened
 * since last time); unprotect_allocations makes it all writable again. */
void protect_allocations();
void unprotect_allocations();

/* ---- check mode's record of writes (tracking.cpp); device mutex held */

struct tracker_state;
/* From begin() to destruction every allocation is read-only until a
 * worker writes to it; tracking_fault saves each page before its first
 * write. */
class write_tracker {
  public:
    write_tracker();
    ~write_tracker();
    write_tracker(const write_tracker &) = delete;
    write_tracker &operator=(const write_tracker &) = delete;
    /* False when there is no memory for the copies. */
    bool begin();
    /* Keeps what the forward run wrote and restores the memory it found. */
    void after_forward();
    /* Empty when the reversed run wrote what the forward run did; else a
     * report naming `kernel`, the allocation and the first differing byte. */
    std::string compare(const char *kernel) const;

  private:
    tracker_state *state;
};
/* For the fault handler: true when `address` is a tracked page, which is
 * now saved and writable (the faulting write can be retried). */
bool tracking_fault(const void *address);

/* ---- launches */

/* One run of a launch over all its blocks. */
struct launch_state {
    const launch_spec *spec = nullptr;
    uint64_t blocks = 0;
    bool reversed = false;        /* threads and blocks in reverse order */
    uint64_t fill_pattern = 0;    /* shared memory's first bytes, repeated */
    size_t shared_limit = 0;      /* static + dynamic bytes allowed */
    std::atomic<uint64_t> next_block{0};
    std::atomic<bool> failed{false};
    std::mutex error_lock;
    cudaError_t error = cudaSuccess;
    std::string report;

    /* The first failure wins; later blocks are not started. */
    void fail(cudaError_t err, const std::string &what);
};

/* The shared memory fill of the forward and the reversed run: NaN as
 * float and as double (and -1 or a large value as integers). */
constexpr uint64_t fill_forward = 0xFFFFFFFFFFFFFFFFull;
constexpr uint64_t fill_reversed = 0x7FF4DEAD7FF4DEADull;

/* Runs every block of `launch` on the workers and waits for them. */
void run_on_workers(launch_state &launch);

struct executor;
/* A worker's state for running blocks; one per worker thread. */
executor *executor_create(int worker);
/* Runs block number `block` of `launch` (linear, x fastest). */
void run_block(executor &ex, launch_state &launch, uint64_t block);
/* For the fault handler: when `ex` is running an emulated thread, stops
 * it as faulted at `address` and does not return. */
void executor_fault(executor &ex, const void *address);
bool executor_running(const executor &ex);

} // namespace cnn_emu

#endif /* CNN_EMU_INTERNAL_H */
