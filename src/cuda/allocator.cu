/* src/cuda/allocator.cu - a caching allocator over cudaMalloc, one pool per
 * device. cudaMalloc and cudaFree synchronise the whole device and cost
 * tens of microseconds, so freed blocks are kept and handed out again.
 *
 * Stream safety: every op of a device runs on that device's one stream, so
 * a block freed by the host and handed to a later op is used only after
 * the work queued before the free: stream order protects it. (When more
 * streams arrive, a freed block will carry an event to wait on.)
 *
 * Sizes are rounded (512 bytes below 1 MiB, 1 MiB above) and blocks are
 * not split; a cached block is reused for a request of at least half its
 * size. On an out-of-memory the pool waits for the device, returns its
 * cache to the driver and tries once more. */
#include <map>
#include <mutex>
#include <new>
#include <unordered_map>

#include "cuda_common.cuh"

namespace {

struct pool {
    std::mutex lock;
    std::multimap<size_t, void *> cached;      /* size -> free block */
    std::unordered_map<void *, size_t> in_use; /* block -> size */
    size_t bytes_in_use = 0;
    size_t bytes_cached = 0;
    size_t peak_in_use = 0;
};

pool pools[64];

size_t round_size(size_t bytes)
{
    const size_t small = 512, large = (size_t)1 << 20;
    size_t unit = bytes < large ? small : large;
    return (bytes + unit - 1) / unit * unit;
}

void release_cache(pool &p)
{
    for (auto &entry : p.cached)
        cudaFree(entry.second);
    p.cached.clear();
    p.bytes_cached = 0;
}

} // namespace

cnn_status cnn_cuda_alloc(cnn_cuda_context *ctx, size_t bytes, void **ptr)
{
    pool &p = pools[ctx->device];
    std::lock_guard<std::mutex> guard(p.lock);
    size_t size = round_size(bytes);
    if (size < bytes)
        return cnn_backend_error(cnn_cuda_host, CNN_ERR_OUT_OF_MEMORY,
                                 "cuda:%d: %zu bytes is more than any device "
                                 "holds", ctx->device, bytes);
    auto hit = p.cached.lower_bound(size);
    void *block = NULL;
    if (hit != p.cached.end() && hit->first / 2 <= size) {
        size = hit->first;
        block = hit->second;
        p.cached.erase(hit);
        p.bytes_cached -= size;
    } else {
        cudaError_t err = cudaMalloc(&block, size);
        if (err == cudaErrorMemoryAllocation) {
            cudaGetLastError(); /* not sticky: clear it */
            /* The cache may go back only once the work queued on it is
             * done; a failed wait is a fault, reported as such. */
            cnn_status s = cnn_cuda_check(ctx, cudaStreamSynchronize(ctx->stream),
                                          "waiting for the device before "
                                          "returning the cache");
            if (s != CNN_OK)
                return s;
            release_cache(p);
            err = cudaMalloc(&block, size);
        }
        if (err == cudaErrorMemoryAllocation) {
            cudaGetLastError();
            size_t free_bytes = 0, total = 0;
            cudaMemGetInfo(&free_bytes, &total);
            return cnn_backend_error(
                cnn_cuda_host, CNN_ERR_OUT_OF_MEMORY,
                "cuda:%d: out of device memory allocating %zu bytes "
                "(%zu of %zu bytes free; %zu in use by cnn)",
                ctx->device, bytes, free_bytes, total, p.bytes_in_use);
        }
        if (err != cudaSuccess)
            return cnn_cuda_check(ctx, err, "cudaMalloc");
    }
    try {
        p.in_use.emplace(block, size);
    } catch (const std::bad_alloc &) {
        p.cached.emplace(size, block);
        p.bytes_cached += size;
        return cnn_backend_error(cnn_cuda_host, CNN_ERR_OUT_OF_MEMORY,
                                 "cuda:%d: no host memory for the allocator's "
                                 "bookkeeping", ctx->device);
    }
    p.bytes_in_use += size;
    if (p.bytes_in_use > p.peak_in_use)
        p.peak_in_use = p.bytes_in_use;
    *ptr = block;
    return CNN_OK;
}

void cnn_cuda_free(cnn_cuda_context *ctx, void *ptr)
{
    if (!ptr)
        return;
    pool &p = pools[ctx->device];
    std::lock_guard<std::mutex> guard(p.lock);
    auto it = p.in_use.find(ptr);
    if (it == p.in_use.end())
        return; /* not ours: the core only frees what alloc returned */
    size_t size = it->second;
    p.in_use.erase(it);
    p.bytes_in_use -= size;
    try {
        p.cached.emplace(size, ptr);
        p.bytes_cached += size;
    } catch (const std::bad_alloc &) {
        /* No room to remember it: give it back, once the work queued on
         * it is done (as release_cache's callers wait first). When the
         * wait fails the device has faulted: the block is leaked rather
         * than freed under work that may still touch it. */
        if (cnn_cuda_check(ctx, cudaStreamSynchronize(ctx->stream),
                           "waiting for the device to free a block") == CNN_OK)
            cudaFree(ptr);
    }
}

void cnn_cuda_trim(cnn_cuda_context *ctx)
{
    pool &p = pools[ctx->device];
    std::lock_guard<std::mutex> guard(p.lock);
    /* Only after the queued work: a failed wait (a fault, recorded and
     * marking the device lost) keeps the cache. */
    if (cnn_cuda_check(ctx, cudaStreamSynchronize(ctx->stream),
                       "waiting for the device before trimming") == CNN_OK)
        release_cache(p);
}

void cnn_cuda_memory_stats(cnn_cuda_context *ctx, cnn_memory_stats *stats)
{
    pool &p = pools[ctx->device];
    {
        std::lock_guard<std::mutex> guard(p.lock);
        stats->in_use = p.bytes_in_use;
        stats->cached = p.bytes_cached;
        stats->peak = p.peak_in_use;
    }
    size_t free_bytes = 0, total = 0;
    if (cudaMemGetInfo(&free_bytes, &total) != cudaSuccess) {
        cudaGetLastError();
        free_bytes = total = 0;
    }
    stats->device_free = free_bytes;
    stats->device_total = total;
}

void cnn_cuda_memory_reset_peak(cnn_cuda_context *ctx)
{
    pool &p = pools[ctx->device];
    std::lock_guard<std::mutex> guard(p.lock);
    p.peak_in_use = p.bytes_in_use;
}

cnn_status cnn_cuda_workspace(cnn_cuda_context *ctx, size_t bytes, void **ptr)
{
    *ptr = NULL;
    if (bytes == 0)
        return CNN_OK;
    if (ctx->workspace_size < bytes) {
        /* Freed to the cache: stream order keeps earlier users safe. */
        cnn_cuda_free(ctx, ctx->workspace);
        ctx->workspace = NULL;
        ctx->workspace_size = 0;
        cnn_status s = cnn_cuda_alloc(ctx, bytes, &ctx->workspace);
        if (s != CNN_OK)
            return s;
        ctx->workspace_size = bytes;
    }
    *ptr = ctx->workspace;
    return CNN_OK;
}
