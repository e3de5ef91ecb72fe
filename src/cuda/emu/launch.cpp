/* src/cuda/emu/launch.cpp - a kernel launch: the hardware's limits, then
 * the run on the workers, then the canary check of every allocation.
 *
 * Limits, with the codes a GPU gives: a block of more than 1024 threads or
 * beyond 1024 x 1024 x 64, a grid beyond 2^31-1 x 65535 x 65535, or a zero
 * dimension is cudaErrorInvalidConfiguration; more dynamic shared memory
 * than 48 KiB (or than the kernel's opt-in limit) is cudaErrorInvalidValue;
 * static shared memory is checked when a block declares it (block.cpp).
 *
 * In check mode (cnn_emu/control.h) the launch runs twice from the same
 * memory, forward and reversed, and the results must agree bit for bit. */
#include <stdio.h>
#include <string.h>

#include "internal.h"

namespace cnn_emu {
namespace {

cudaError_t check_config(const launch_spec &s, size_t *shared_limit)
{
    const dim3 b = s.block, g = s.grid;
    const uint64_t threads = (uint64_t)b.x * b.y * b.z;
    if (b.x == 0 || b.y == 0 || b.z == 0 || b.x > max_block_x ||
        b.y > max_block_y || b.z > max_block_z || threads > max_block_threads)
        return record_errorf(cudaErrorInvalidConfiguration,
                             "%s: a block of (%u,%u,%u) threads: a GPU allows "
                             "at most %u threads, (%u,%u,%u) in each dimension",
                             s.name, b.x, b.y, b.z, max_block_threads,
                             max_block_x, max_block_y, max_block_z);
    if (g.x == 0 || g.y == 0 || g.z == 0 || g.x > max_grid_x ||
        g.y > max_grid_y || g.z > max_grid_z)
        return record_errorf(cudaErrorInvalidConfiguration,
                             "%s: a grid of (%u,%u,%u) blocks: a GPU allows "
                             "(%u,%u,%u) at most and none of 0",
                             s.name, g.x, g.y, g.z, max_grid_x, max_grid_y,
                             max_grid_z);
    const size_t opted = kernel_dynamic_limit(s.kernel);
    const size_t dynamic_limit = opted ? opted : default_shared_limit;
    if (s.dynamic_shared > dynamic_limit)
        return record_errorf(cudaErrorInvalidValue,
                             "%s: %zu bytes of dynamic shared memory: the limit "
                             "is %zu bytes (above 48 KiB only after "
                             "cudaFuncSetAttribute(kernel, "
                             "cudaFuncAttributeMaxDynamicSharedMemorySize, n), "
                             "up to %zu)",
                             s.name, s.dynamic_shared, dynamic_limit,
                             optin_shared_limit);
    if (!stream_valid(s.stream))
        return record_errorf(cudaErrorInvalidResourceHandle,
                             "%s: %p is not a stream", s.name, (void *)s.stream);
    *shared_limit = opted ? optin_shared_limit : default_shared_limit;
    return cudaSuccess;
}

/* One run over every block; cudaSuccess or the run's recorded error. */
cudaError_t run(const launch_spec &spec, size_t shared_limit, bool reversed)
{
    launch_state launch;
    launch.spec = &spec;
    launch.blocks = (uint64_t)spec.grid.x * spec.grid.y * spec.grid.z;
    launch.reversed = reversed;
    launch.fill_pattern = reversed ? fill_reversed : fill_forward;
    launch.shared_limit = shared_limit;
    run_on_workers(launch);
    if (launch.error != cudaSuccess)
        return record_error(launch.error, launch.report, false);
    std::string report;
    if (!canaries_intact(spec.name, report))
        return record_error(cudaErrorIllegalAddress, report, false);
    return cudaSuccess;
}

cudaError_t launch_locked(const launch_spec &spec)
{
    if (cudaError_t e = sticky_error())
        return e;
    size_t shared_limit = 0;
    if (cudaError_t e = check_config(spec, &shared_limit))
        return e;
    if (!check_mode()) {
        unprotect_allocations(); /* left read-only by check mode */
        return run(spec, shared_limit, false);
    }
    write_tracker tracker;
    if (!tracker.begin())
        return record_errorf(cudaErrorMemoryAllocation,
                             "%s: check mode has no memory to record writes",
                             spec.name);
    if (cudaError_t e = run(spec, shared_limit, false))
        return e;
    tracker.after_forward();
    if (cudaError_t e = run(spec, shared_limit, true))
        return e;
    std::string report = tracker.compare(spec.name);
    if (!report.empty())
        return record_error(cudaErrorLaunchFailure, report, false);
    return cudaSuccess;
}

} // namespace

/* Behaves as a launch followed by cudaGetLastError (what CNN_LAUNCH does
 * on a GPU): returns the launch's error, or else an error still pending
 * from before, and clears the pending one. */
cudaError_t launch_kernel(const launch_spec &spec)
{
    cudaError_t e;
    {
        std::lock_guard<std::mutex> guard(device_mutex());
        e = launch_locked(spec);
    }
    cudaError_t pending = cudaGetLastError();
    return e != cudaSuccess ? e : pending;
}

} // namespace cnn_emu
